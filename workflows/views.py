"""Thin views for the project leader and the steering group: parse, call a service or selector,
render. Every mutating view is POST-only (or shows its form on GET), CSRF-protected and
permission-checked."""

import functools
from dataclasses import asdict

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from viewflow.workflow.status import STATUS

from audit.page_cache import CachedPageMixin, lazily
from municipalities import scoping
from notifications import selectors as notification_selectors

from . import forms, notify, selectors, services
from .flows import LEAD
from .models import AnswerKind, Stage
from .pages import StepPage

READ = "workflows.view_policyprocess"


class ReadMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = READ


class LeadMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = LEAD


def readable_processes(user):
    """The processes whose pages ``user`` may open: they name contact persons, so leaders and
    the steering group of the process's county (the reference group reads the overview)."""
    return scoping.scoped_with_personal_data(selectors.PolicyProcess.objects.all(), user)


def led_processes(user):
    """The processes ``user`` may act on: those of the counties they lead."""
    return scoping.scoped_for_leading(
        selectors.PolicyProcess.objects.select_related("municipality"), user
    )


def form_errors_from(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: next to its field, or above the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _step_done(request, task) -> HttpResponse:
    """The step is no longer open: say who completed it (often the user, back in the browser)."""
    task = selectors.task_for_step(task_pk=task.pk)  # as it is now: its owner and finish time
    return render(
        request,
        "workflows/step_done.html",
        {
            "process_url": reverse("workflows:process", args=[task.process_id]),
            "task": task,
            "is_done": task.status == STATUS.DONE and task.owner_id is not None,
            "done_by_you": task.owner_id == request.user.pk,
        },
        status=409,
    )


class HomeView(LoginRequiredMixin, View):
    def get(self, request):
        if request.user.has_perm(LEAD):
            return redirect("workflows:inbox")
        # The steering group's home page: where every municipality of the county stands.
        return redirect("workflows:overview")


def _page(rows, per_page: int, number) -> Page:
    """Page ``number`` of ``rows`` (Django's paginator); an empty list runs its count only (its
    empty slice would still be compiled into SQL)."""
    page = Paginator(rows, per_page).get_page(number)
    if not page.paginator.count:
        page.object_list = []
    return page


class InboxView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "workflows/inbox.html"
    page_cache_name = "inbox"
    # Rendering the rows is most of the page's cost: 25 per list keeps it cheap at any size.
    paginate_by = 25

    def get_context_data(self, **kwargs):
        from .assignment import selectors as assignment

        user = self.request.user
        # Tabs are links (?tab=…): a leader's inbox opens on "mine", the unassigned and all steps
        # of their counties a click away; the steering and reference groups read their
        # counties' open steps (no one's "next steps": they act on none).
        is_leading = bool(scoping.led_county_ids(user))
        tabs = assignment.inbox_tabs(user=user)
        tab = self.request.GET.get("tab")
        tab = tab if tab in tabs else tabs[0]
        search = self.request.GET.get("q", "")[:100]

        def lists():
            get = self.request.GET.get
            found = {
                "page": assignment.inbox_tab(user=user, tab=tab),
                "waiting": selectors.waiting_tasks(user=user),
            }
            for name, tasks in found.items():
                found[name] = selectors.by_municipality(
                    tasks, search, path="process__policyprocess__"
                )
            waiting = _page(found["waiting"], self.paginate_by, get("waiting_page"))
            waiting.object_list = selectors.waiting_rows(waiting.object_list)
            return {
                "page": _page(found["page"], self.paginate_by, get("page")),
                "waiting": waiting,
                "stranded": assignment.stranded_work(user=user),
            }

        return super().get_context_data(
            # The due dates count from the stage limits; a changed limit is audited, so it
            # gives a new data version too.
            page_cache=self.page_cache,
            is_leading=is_leading,
            tab=tab,
            tabs=[(name, assignment.TABS[name]) for name in tabs],
            search=search,
            # The pages' links keep the tab and the search.
            query=urlencode({k: v for k, v in (("tab", tab), ("q", search)) if v}),
            **lazily(lists, "page", "waiting", "stranded"),
            **kwargs,
        )


class ProcessListView(ReadMixin, TemplateView):
    template_name = "workflows/process_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        get = self.request.GET.get
        county, search, stage = get("county") or None, get("q", "")[:100], get("stage", "")
        page = Paginator(
            selectors.process_list(county_code=county, search=search, stage=stage, user=user), 50
        ).get_page(get("page"))
        counties = list(scoping.visible_counties(user))
        return super().get_context_data(
            page=page,
            # The county filter only where there is a choice.
            counties=counties if len(counties) > 1 else [],
            county=county,
            search=search,
            stage=stage,
            stages=Stage.choices,
            query=urlencode(
                {k: v for k, v in [("q", search), ("county", county), ("stage", stage)] if v}
            ),
            # Process pages name contact persons: the reference group gets the list only.
            personal_county_ids=scoping.personal_data_county_ids(user),
            **kwargs,
        )


class StartProcessView(LeadMixin, View):
    template_name = "workflows/start.html"

    def get(self, request):
        user = request.user
        return self._render(forms.StartProcessForm(user=user), forms.StartCountyForm(user=user))

    def post(self, request):
        form = forms.StartProcessForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                process = services.start_process(
                    municipality=form.cleaned_data["municipality"], user=request.user
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request, _("The process for %s has started.") % process.municipality
                )
                return _next_page(request, process.pk)
        return self._render(form, forms.StartCountyForm(user=request.user), status=400)

    def _render(self, form, county_form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "county_form": county_form},
            status=status,
        )


@method_decorator(require_POST, name="dispatch")
class StartCountyView(LeadMixin, View):
    def post(self, request):
        form = forms.StartCountyForm(request.POST, user=request.user)
        if not form.is_valid():
            return render(
                request,
                "workflows/start.html",
                {"form": forms.StartProcessForm(user=request.user), "county_form": form},
                status=400,
            )
        started = services.start_processes_for_county(
            county=form.cleaned_data["county"], user=request.user
        )
        if started:
            messages.success(
                request,
                _("%(count)s processes started in %(county)s.")
                % {"count": len(started), "county": form.cleaned_data["county"]},
            )
        else:
            messages.info(
                request, _("Every municipality in this county already has an open process.")
            )
        return redirect("workflows:processes")


class ProcessDetailView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "workflows/process_detail.html"
    page_cache_name = "process"

    def get_context_data(self, pk, **kwargs):
        data = functools.cache(lambda: self.page_data(pk))
        return super().get_context_data(
            page_cache=self.page_cache,
            **lazily(
                data,
                "process",
                "records",
                "steps",
                "history",
                "open_task",
                "meeting_form",
                "links",
                "approval_open",
                "summary",
            ),
            # Read only where the page shows them: the forms while the municipality is asked
            # to approve (to a leader), the notifications to readers of the delivery log.
            **lazily(lambda: self.forms(data()["process"]), "issue_form", "answer_form"),
            **lazily(
                lambda: self.notifications(data()["process"]),
                "notifications",
                "notification_counts",
            ),
            can_lead=self.access.can_lead,
            **kwargs,
        )

    def get(self, request, *args, **kwargs):
        # Before the page cache: another county's process answers 404 (it does not exist here).
        self.access = selectors.readable_process_access(pk=kwargs["pk"], user=request.user)
        if self.access is None:
            raise Http404
        return super().get(request, *args, **kwargs)

    def page_data(self, pk) -> dict:
        try:
            process = selectors.process_detail(pk=pk)
        except selectors.PolicyProcess.DoesNotExist as exc:
            raise Http404 from exc
        records = selectors.process_records(process=process)
        steps = selectors.process_steps(process=process)
        open_task = selectors.open_step(steps)
        return dict(
            process=process,
            records=records,
            steps=steps,
            history=selectors.process_history(process=process),
            open_task=open_task,
            summary=selectors.process_summary(process=process, open_task=open_task),
            meeting_form=forms.MeetingForm(),
            links=selectors.task_links_for(process=process, steps=steps, drafts=records.drafts),
            approval_open=process.stage == Stage.AWAITING_APPROVAL,
        )

    @staticmethod
    def forms(process) -> dict:
        return dict(
            issue_form=forms.IssueLinkForm(process=process, auto_id="issue_%s"),
            answer_form=forms.RecordAnswerForm(process=process, auto_id="answer_%s"),
        )

    @staticmethod
    def notifications(process) -> dict:
        latest, counts = notification_selectors.latest_with_counts(
            topic=notify.topic_for(process), limit=10
        )
        return dict(notifications=latest, notification_counts=counts)


class ProcessChartView(ReadMixin, View):
    """The flow chart that viewflow draws, with this process's steps coloured in."""

    def get(self, request, pk):
        process = get_object_or_404(readable_processes(request.user), pk=pk)
        return HttpResponse(selectors.flow_chart_svg(process=process), content_type="image/svg+xml")


class DraftDetailView(ReadMixin, TemplateView):
    template_name = "workflows/draft_detail.html"

    def get_context_data(self, pk, version, **kwargs):
        draft = get_object_or_404(
            scoping.scoped_with_personal_data(
                selectors.PolicyDraft.objects.select_related("process__municipality", "created_by"),
                self.request.user,
                county_field="process__municipality__county",
            ),
            process_id=pk,
            version=version,
        )
        # ?compare=<version>: this version beside another one, changes per paragraph.
        versions = selectors.draft_versions(process_id=pk)
        other = self.request.GET.get("compare", "")
        comparison = (
            selectors.draft_comparison(draft=draft, other_version=int(other))
            if other.isdigit() and int(other) in versions
            else None
        )
        return super().get_context_data(
            draft=draft,
            other_versions=[v for v in versions if v != version],
            comparison=comparison,
            compared_version=int(other) if comparison else None,
            **kwargs,
        )


@method_decorator(require_POST, name="dispatch")
class AddMeetingView(LeadMixin, View):
    def post(self, request, pk):
        process = get_object_or_404(led_processes(request.user), pk=pk)
        form = forms.MeetingForm(request.POST)
        if form.is_valid():
            try:
                services.record_meeting(process=process, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The meeting has been recorded."))
                # The dialogue step's page records meetings too, and comes back to itself.
                back = request.POST.get("next", "")
                if url_has_allowed_host_and_scheme(
                    back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                ):
                    return redirect(back)
                return redirect("workflows:process", pk)
        return render(
            request, "workflows/meeting_form.html", {"process": process, "form": form}, status=400
        )


class StepView(LeadMixin, View):
    """The page of a project leader's step: shows the form its node declares (`StepPage` in
    `workflows.flows`) and completes the step with the node's service on POST."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.has_perm(LEAD):
            return super().dispatch(request, *args, **kwargs)
        try:
            self.task = selectors.task_for_step(task_pk=kwargs["task_pk"])
            # A step of a county the user does not lead answers 404, for reading and acting.
            self.process = led_processes(request.user).get(pk=self.task.process_id)
        except (selectors.Task.DoesNotExist, selectors.PolicyProcess.DoesNotExist) as exc:
            raise Http404 from exc
        self.page = self.task.flow_task.view
        if not isinstance(self.page, StepPage):
            raise Http404  # a step answered elsewhere (the contact's approval)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, task_pk):
        if self.task.status not in services.OPEN_TASK_STATUSES:
            return _step_done(request, self.task)
        initial = None
        if self.page.initial:
            initial = asdict(getattr(services, self.page.initial)(self.process))
        return self._render(self.page.form_class(process=self.process, initial=initial))

    def post(self, request, task_pk):
        if self.task.status not in services.OPEN_TASK_STATUSES:
            return _step_done(request, self.task)  # sent again from a page the browser kept
        form = self.page.form_class(data=request.POST, files=request.FILES, process=self.process)
        if form.is_valid():
            complete = getattr(services, self.page.service)
            try:
                result = complete(task=self.task, user=request.user, **form.cleaned_data)
            except services.StepAlreadyDone:
                return _step_done(request, self.task)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                if self.page.result_template:
                    return render(
                        request,
                        self.page.result_template,
                        {"process": self.process, "issued": result},
                    )
                messages.success(request, _("Step completed: %s") % self.task.flow_task.task_title)
                return _next_page(request, self.process.pk)
        return self._render(form, status=400)

    def _render(self, form, status=200):
        # ``step`` is the task's node: the template reads its name and title.
        context = {
            "form": form,
            "task": self.task,
            "process": self.process,
            "step": self.task.flow_task,
        }
        if self.page.shows_latest_draft:
            context["drafts"] = drafts = list(self.process.drafts.order_by("-version")[:1])
            # What the municipality asked to change in the latest version, beside the text.
            context["change_requests"] = (
                drafts[0]
                .answers.filter(answer=AnswerKind.CHANGES_REQUESTED)
                .select_related("contact")
                .order_by("-answered_at")
                if drafts
                else []
            )
        if self.page.shows_meetings:
            # The dialogue's page records meetings in place (the form posts to AddMeetingView
            # and comes back here).
            context["meeting_form"] = forms.MeetingForm()
            context["meetings"] = self.process.meetings.order_by("-held_on", "-recorded_at")
        return render(self.request, self.page.template, context, status=status)


def _next_page(request, process_pk: int) -> HttpResponse:
    """Where a leader goes after a step: straight to the next step when it is theirs to do (one
    page load fewer per step), else the process page."""
    task = selectors.open_task_for(process=selectors.PolicyProcess(pk=process_pk))
    if (
        task is not None
        and isinstance(task.flow_task.view, StepPage)
        and task.owner_id in (None, request.user.pk)
    ):
        return redirect("workflows:step", task.pk)
    return redirect("workflows:process", process_pk)
