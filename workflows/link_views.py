"""Pages behind the emailed task link (no login: the link is the credential) and the project
leader's controls over links.

The token is in the URL only for the first GET: it moves into the session and the browser is
redirected to a token-less URL (as Django's password reset does), so it never leaks through
Referer or the browser history. These pages are never cached and send no Referer to other sites.
"""

import time
from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from municipalities import scoping

from . import forms, selectors, task_links
from .models import PolicyProcess, TaskLink
from .views import LeadMixin, form_errors_from

SESSION_KEY = "policyflow_task_link"
# The answer this browser just sent: the receipt page (GET) shows it, so a refresh re-sends
# nothing and Back to the answer page leads to the receipt again (POST-redirect-GET).
RECEIPT_SESSION_KEY = "policyflow_task_link_receipt"
# How long the receipt stays in the session: enough for a refresh or Back, short enough that a
# shared computer does not show the contact's answer and comment to whoever comes next.
RECEIPT_SECONDS = 5 * 60


def _remember_receipt(request, answer_pk: int) -> None:
    request.session[RECEIPT_SESSION_KEY] = {"answer": answer_pk, "at": time.time()}


def _receipt(request):
    """The answer this browser sent within RECEIPT_SECONDS; an older one is dropped."""
    kept = request.session.get(RECEIPT_SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    at = kept.get("at")
    if not isinstance(at, int | float) or not 0 <= time.time() - at <= RECEIPT_SECONDS:
        del request.session[RECEIPT_SESSION_KEY]
        return None
    return selectors.link_receipt(answer_pk=kept.get("answer"))


NO_SESSION = "no_session"
DEAD_LINK_STATUS = {task_links.UNKNOWN: 404, NO_SESSION: 400}
DEAD_LINK_MESSAGES = {
    NO_SESSION: _("Please open the link in your email again."),
    task_links.UNKNOWN: _("This link is not valid. Check that you used the whole link."),
    "expired": _("This link has expired."),
    "used": _("This draft has already been answered with this link. Thank you!"),
    "revoked": _("This link has been replaced or withdrawn. A newer link may be in your inbox."),
    "closed": _("This draft no longer needs an answer: the step has been completed."),
}


def private_page(referrer_policy: str):
    """No caching, and ``referrer_policy``, for anything behind a task link."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            response = never_cache(view)(*args, **kwargs)
            response["Referrer-Policy"] = referrer_policy
            return response

        return wrapped

    return decorator


def _dead_link_page(request, error: task_links.DeadLink, *, unsaved_comment: str = ""):
    """The calm refusal page. ``unsaved_comment``: what the contact typed in a POST that lost the
    race (link replaced or revoked, step answered another way): shown back so it can be copied
    and sent to the project leader, never recorded."""
    link = error.link
    language = link.contact.language if link else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "workflows/link_dead.html",
            {
                "message": DEAD_LINK_MESSAGES[error.reason],
                "lead": link.process.lead if link else None,
                "unsaved_comment": unsaved_comment.strip(),
                "hide_language_switch": True,
            },
            status=DEAD_LINK_STATUS.get(error.reason, 410),
        )


def _posted_comment(request) -> str:
    return request.POST.get("comment", "") if request.method == "POST" else ""


def _refused(request, error: task_links.DeadLink):
    """The link can't answer: the refusal page, with the typed comment given back unless it is
    the very answer the link already recorded (a double click: nothing was lost)."""
    answered = selectors.answer_via_link(link=error.link)
    if answered is not None and _is_the_recorded_answer(request, answered):
        return _dead_link_page(request, error)
    return _dead_link_page(request, error, unsaved_comment=_posted_comment(request))


def _is_the_recorded_answer(request, answer) -> bool:
    """A GET of the answer page, or a POST of the very answer already recorded: nothing to
    refuse (the comment would not be lost), so the receipt is the right page."""
    if request.method == "GET":
        return True
    return (
        request.POST.get("answer") == answer.answer
        and _posted_comment(request).strip() == answer.comment.strip()
    )


@require_GET
# The token's URL is never sent on, not even to this site (an access log may record Referer).
@private_page("no-referrer")
def link_open(request):
    """The emailed URL: check the link, remember it in the session, drop the token from the URL."""
    try:
        link = task_links.fetch_link(token=request.GET.get("t", ""))
    except task_links.DeadLink as error:
        return _dead_link_page(request, error)
    request.session[SESSION_KEY] = link.token_hash
    return redirect("workflows:link_answer")


# Same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the form's
# POST, which Django's CSRF check rejects. The token-less URL may reach this site; no other.
@method_decorator(private_page("same-origin"), name="dispatch")
class LinkAnswerView(View):
    """The draft, what changed since the contact last saw it, and the confirm form."""

    def dispatch(self, request, *args, **kwargs):
        self.token_hash = request.session.get(SESSION_KEY, "")
        if not self.token_hash:
            answered = _receipt(request)
            if answered is not None and _is_the_recorded_answer(request, answered):
                # Back from the receipt, or the form sent twice: this browser has answered.
                return redirect_see_other("workflows:link_receipt")
            return _dead_link_page(
                request, task_links.DeadLink(NO_SESSION), unsaved_comment=_posted_comment(request)
            )
        try:
            self.link = task_links.check_alive(task_links.find_link(self.token_hash))
        except task_links.DeadLink as error:
            return _refused(request, error)
        with translation.override(self.link.contact.language):
            return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        # Shown in the session that followed the emailed link: most likely the contact's browser.
        task_links.link_shown(link=self.link)
        return self._render(forms.AnswerForm())

    def post(self, request):
        form = forms.AnswerForm(request.POST)
        if form.is_valid():
            try:
                record = task_links.answer_via_link(
                    token_hash=self.token_hash,
                    answer=form.cleaned_data["answer"],
                    comment=form.cleaned_data["comment"],
                )
            except task_links.DeadLink as error:
                return _refused(request, error)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                request.session.pop(SESSION_KEY, None)
                _remember_receipt(request, record.pk)
                # 303: the browser follows with a GET, so a refresh of the receipt re-posts nothing.
                return redirect_see_other("workflows:link_receipt")
        return self._render(form, status=400)

    def _render(self, form, status=200):
        link = self.link
        seen = selectors.last_seen_draft(link=link)
        diff = None
        if seen is not None:
            from .diff import draft_diff

            diff = draft_diff(seen, link.draft)
        return render(
            self.request,
            "workflows/link_answer.html",
            {
                "link": link,
                "draft": link.draft,
                "seen": seen,
                "diff": diff,
                "form": form,
                "lead": link.process.lead,
                "hide_language_switch": True,
            },
            status=status,
        )


def redirect_see_other(viewname: str) -> HttpResponseRedirect:
    response = redirect(viewname)
    response.status_code = 303
    return response


@require_GET
@private_page("same-origin")
def link_receipt(request):
    """The thank-you page after an answer, read from this browser's session (POST-redirect-GET)."""
    answer = _receipt(request)
    if answer is None:
        return _dead_link_page(request, task_links.DeadLink(NO_SESSION))
    with translation.override(answer.contact.language):
        return render(
            request,
            "workflows/link_receipt.html",
            {"link": answer.via_link, "answer": answer, "hide_language_switch": True},
        )


def _process_page(pk):
    return redirect("workflows:process", pk)


@method_decorator(require_POST, name="dispatch")
class IssueLinkView(LeadMixin, View):
    """Send a fresh link to the same or another contact; shows the new URL once."""

    def post(self, request, pk):
        process = get_object_or_404(
            scoping.scoped_for_leading(
                PolicyProcess.objects.select_related("municipality"), request.user
            ),
            pk=pk,
        )
        form = forms.IssueLinkForm(request.POST, process=process)
        if form.is_valid():
            try:
                issued = task_links.reissue_link(
                    process=process, contact=form.cleaned_data["contact"], user=request.user
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                return render(
                    request, "workflows/links_issued.html", {"process": process, "issued": [issued]}
                )
        return render(
            request, "workflows/link_form.html", {"process": process, "form": form}, status=400
        )


@method_decorator(require_POST, name="dispatch")
class RevokeLinkView(LeadMixin, View):
    def post(self, request, pk, link_pk):
        link = get_object_or_404(
            scoping.scoped_for_leading(
                TaskLink.objects.select_related("process"),
                request.user,
                county_field="process__municipality__county",
            ),
            pk=link_pk,
            process_id=pk,
        )
        form = forms.RevokeLinkForm(request.POST)
        if form.is_valid():
            try:
                task_links.revoke_link(
                    link=link, user=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The link has been revoked."))
                return _process_page(pk)
        return render(
            request,
            "workflows/link_form.html",
            {"process": link.process, "form": form},
            status=400,
        )


@method_decorator(require_POST, name="dispatch")
class RecordAnswerView(LeadMixin, View):
    """The project leader records an answer the contact gave by phone or email."""

    def post(self, request, pk):
        from . import services

        process = get_object_or_404(
            scoping.scoped_for_leading(
                PolicyProcess.objects.select_related("municipality"), request.user
            ),
            pk=pk,
        )
        form = forms.RecordAnswerForm(request.POST, process=process)
        if form.is_valid():
            try:
                services.record_answer_received_another_way(
                    process=process,
                    user=request.user,
                    contact=form.cleaned_data["contact"],
                    answer=form.cleaned_data["answer"],
                    comment=form.cleaned_data["comment"],
                )
            except services.StepAlreadyDone:
                messages.error(request, _("The draft had already been answered."))
                return _process_page(pk)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The answer has been recorded."))
                return _process_page(pk)
        return render(
            request, "workflows/link_form.html", {"process": process, "form": form}, status=400
        )
