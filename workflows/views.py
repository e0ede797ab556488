"""Thin views for the project leader and the steering group: parse, call a service or selector,
render. Every mutating view is POST-only (or shows its form on GET), CSRF-protected and
permission-checked."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
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
from municipalities.models import County
from notifications import selectors as notification_selectors

from . import forms, notify, selectors, services
from .flows import LEAD
from .models import AnswerKind, Stage

READ = "workflows.view_policyprocess"


class ReadMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = READ


class LeadMixin(LoginRequiredMixin, PermissionRequiredMixin):
    permission_required = LEAD


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


class InboxView(ReadMixin, CachedPageMixin, TemplateView):
    template_name = "workflows/inbox.html"
    page_cache_name = "inbox"
    # Rendering the rows is most of the page's cost: 25 per list keeps it cheap at any size.
    paginate_by = 25

    def get_context_data(self, **kwargs):
        search = self.request.GET.get("q", "")[:100]

        def lists():
            get = self.request.GET.get
            found = {
                "page": selectors.inbox_tasks(user=self.request.user),
                "waiting": selectors.waiting_tasks(),
            }
            for name, tasks in found.items():
                found[name] = selectors.by_municipality(
                    tasks, search, path="process__policyprocess__"
                )
            return {
                "page": Paginator(found["page"], self.paginate_by).get_page(get("page")),
                "waiting": Paginator(found["waiting"], self.paginate_by).get_page(
                    get("waiting_page")
                ),
            }

        return super().get_context_data(
            # The due dates count from the stage limits; a changed limit is audited, so it
            # gives a new data version too.
            page_cache=self.page_cache,
            search=search,
            query=urlencode({"q": search}) if search else "",
            **lazily(lists, "page", "waiting"),
            **kwargs,
        )


class ProcessListView(ReadMixin, TemplateView):
    template_name = "workflows/process_list.html"

    def get_context_data(self, **kwargs):
        get = self.request.GET.get
        county, search, stage = get("county") or None, get("q", "")[:100], get("stage", "")
        page = Paginator(
            selectors.process_list(county_code=county, search=search, stage=stage), 50
        ).get_page(get("page"))
        return super().get_context_data(
            page=page,
            counties=County.objects.all(),
            county=county,
            search=search,
            stage=stage,
            stages=Stage.choices,
            query=urlencode(
                {k: v for k, v in [("q", search), ("county", county), ("stage", stage)] if v}
            ),
            **kwargs,
        )


class StartProcessView(LeadMixin, View):
    template_name = "workflows/start.html"

    def get(self, request):
        return self._render(forms.StartProcessForm(), forms.StartCountyForm())

    def post(self, request):
        form = forms.StartProcessForm(request.POST)
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
        return self._render(form, forms.StartCountyForm(), status=400)

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
        form = forms.StartCountyForm(request.POST)
        if not form.is_valid():
            return render(
                request,
                "workflows/start.html",
                {"form": forms.StartProcessForm(), "county_form": form},
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
        return super().get_context_data(
            page_cache=self.page_cache,
            **lazily(
                lambda: self.page_data(pk),
                "process",
                "steps",
                "history",
                "open_task",
                "meeting_form",
                "links",
                "approval_open",
                "issue_form",
                "answer_form",
                "notifications",
                "notification_counts",
                "summary",
            ),
            can_lead=self.request.user.has_perm(LEAD),
            **kwargs,
        )

    def page_data(self, pk) -> dict:
        try:
            process = selectors.process_detail(pk=pk)
        except selectors.PolicyProcess.DoesNotExist as exc:
            raise Http404 from exc
        open_task = selectors.open_task_for(process=process)
        return dict(
            process=process,
            steps=selectors.process_steps(process=process),
            history=selectors.process_history(process=process),
            open_task=open_task,
            summary=selectors.process_summary(process=process, open_task=open_task),
            meeting_form=forms.MeetingForm(),
            links=selectors.task_links_for(process=process),
            approval_open=process.stage == Stage.AWAITING_APPROVAL,
            issue_form=forms.IssueLinkForm(process=process, auto_id="issue_%s"),
            answer_form=forms.RecordAnswerForm(process=process, auto_id="answer_%s"),
            notifications=list(
                notification_selectors.delivery_log(topic=notify.topic_for(process))[:10]
            ),
            notification_counts=notification_selectors.status_counts(
                topic=notify.topic_for(process)
            ),
        )


class ProcessChartView(ReadMixin, View):
    """The flow chart that viewflow draws, with this process's steps coloured in."""

    def get(self, request, pk):
        process = get_object_or_404(selectors.PolicyProcess, pk=pk)
        return HttpResponse(selectors.flow_chart_svg(process=process), content_type="image/svg+xml")


class DraftDetailView(ReadMixin, TemplateView):
    template_name = "workflows/draft_detail.html"

    def get_context_data(self, pk, version, **kwargs):
        draft = get_object_or_404(
            selectors.PolicyDraft.objects.select_related("process__municipality", "created_by"),
            process_id=pk,
            version=version,
        )
        return super().get_context_data(draft=draft, **kwargs)


@method_decorator(require_POST, name="dispatch")
class AddMeetingView(LeadMixin, View):
    def post(self, request, pk):
        process = get_object_or_404(selectors.PolicyProcess, pk=pk)
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
    """Shows the form of the process's current step and completes it on POST."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.has_perm(LEAD):
            return super().dispatch(request, *args, **kwargs)
        try:
            self.task = selectors.task_for_step(task_pk=kwargs["task_pk"])
        except selectors.Task.DoesNotExist as exc:
            raise Http404 from exc
        self.process = selectors.PolicyProcess.objects.select_related("municipality").get(
            pk=self.task.process_id
        )
        self.step = STEPS.get(self.task.flow_task.name)
        if self.step is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, task_pk):
        if self.task.status not in services.OPEN_TASK_STATUSES:
            return _step_done(request, self.task)
        return self._render(self.step.form(self.process))

    def post(self, request, task_pk):
        if self.task.status not in services.OPEN_TASK_STATUSES:
            return _step_done(request, self.task)  # sent again from a page the browser kept
        form = self.step.form(self.process, data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                result = self.step.complete(
                    task=self.task, user=request.user, data=form.cleaned_data
                )
            except services.StepAlreadyDone:
                return _step_done(request, self.task)
            except ValidationError as error:
                form_errors_from(form, error)
            except PermissionDenied:
                raise
            else:
                if self.step.name == "request_approval":
                    # The new links' URLs are shown once, so this answers without a redirect.
                    return render(
                        request,
                        "workflows/links_issued.html",
                        {"process": self.process, "issued": result},
                    )
                messages.success(request, _("Step completed: %s") % self.task.flow_task.task_title)
                return _next_page(request, self.process.pk)
        return self._render(form, status=400)

    def _render(self, form, status=200):
        context = {"form": form, "task": self.task, "process": self.process, "step": self.step}
        if self.step.name == "draft":
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
        elif self.step.name == "dialogue":
            context["meeting_form"] = forms.MeetingForm()
            context["meetings"] = self.process.meetings.order_by("-held_on", "-recorded_at")
        return render(self.request, self.step.template, context, status=status)


def _next_page(request, process_pk: int) -> HttpResponse:
    """Where a leader goes after a step: straight to the next step when it is theirs to do (one
    page load fewer per step), else the process page."""
    task = selectors.open_task_for(process=selectors.PolicyProcess(pk=process_pk))
    if (
        task is not None
        and task.flow_task.name in STEPS
        and task.owner_id in (None, request.user.pk)
    ):
        return redirect("workflows:step", task.pk)
    return redirect("workflows:process", process_pk)


class _Step:
    def __init__(self, name, form_factory, complete, template="workflows/step.html"):
        self.name, self.form, self.complete, self.template = name, form_factory, complete, template


def _steps():
    def initial_draft(process):
        text = services.draft_starting_text(process)
        return {
            "competition_section": text.competition_section,
            "customer_section": text.customer_section,
            "other_text": text.other_text,
        }

    return {
        s.name: s
        for s in [
            _Step(
                "contact",
                lambda p, **kw: forms.FirstContactForm(process=p, **kw),
                lambda task, user, data: services.record_first_contact(
                    task=task, user=user, **data
                ),
            ),
            _Step(
                "dialogue",
                lambda p, **kw: forms.CompleteDialogueForm(**kw),
                lambda task, user, data: services.complete_dialogue(task=task, user=user),
            ),
            _Step(
                "draft",
                lambda p, **kw: forms.DraftForm(initial=initial_draft(p), **kw),
                lambda task, user, data: services.write_draft(task=task, user=user, **data),
            ),
            _Step(
                "request_approval",
                lambda p, **kw: forms.RequestApprovalForm(
                    process=p, initial={"approvers": list(p.approvers.all())}, **kw
                ),
                lambda task, user, data: services.request_approval(task=task, user=user, **data),
            ),
            _Step(
                "decision",
                lambda p, **kw: forms.DecisionForm(**kw),
                lambda task, user, data: services.record_decision(task=task, user=user, **data),
            ),
        ]
    }


STEPS = _steps()
