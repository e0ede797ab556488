"""Pages of handing work over: claim a step, hand a step or a process to a colleague, and take
over a person's open work. Thin: the page is a project leader's (403 for the reading roles, as
every leader's page), the object one the user may see (404 otherwise), and of a county they lead
(403 otherwise); then a service, and a message saying what happened."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from municipalities import scoping

from .. import selectors as workflow_selectors
from ..models import PolicyProcess
from ..views import LeadMixin, form_errors_from
from . import forms, rules, selectors, services


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _process_to_lead(request, pk) -> PolicyProcess:
    """The process, if the user may see it (404 otherwise, as for one that does not exist), and
    leads its county (403 otherwise)."""
    process = (
        PolicyProcess.objects.select_related("municipality__county", "lead").filter(pk=pk).first()
    )
    if process is None or not scoping.can_read(request.user, process.municipality.county):
        raise Http404
    rules.require_lead(request.user, process.municipality.county)
    return process


def _step_to_lead(request, task_pk):
    try:
        task = workflow_selectors.task_for_step(task_pk=task_pk)
    except workflow_selectors.Task.DoesNotExist as exc:
        raise Http404 from exc
    if task.flow_task_type != "HUMAN":
        raise Http404  # the municipality's approval is not a leader's step
    return task, _process_to_lead(request, task.process_id)


@method_decorator(require_POST, name="dispatch")
class ClaimStepView(LeadMixin, View):
    def post(self, request, task_pk):
        task, process = _step_to_lead(request, task_pk)
        try:
            services.claim_step(task=task, user=request.user)
        except services.AlreadyTaken as taken:
            messages.warning(request, str(taken))
        else:
            messages.success(request, _("The step “%s” is now yours.") % task.flow_task.task_title)
        return redirect("workflows:process", process.pk)


class _HandOverView(LeadMixin, View):
    template_name = "workflows/assignment/hand_over.html"

    def target(self, request, **kwargs):
        raise NotImplementedError

    def get(self, request, **kwargs):
        process, what, current = self.target(request, **kwargs)
        return self._render(process, what, current, self._form(process, current))

    def post(self, request, **kwargs):
        process, what, current = self.target(request, **kwargs)
        form = self._form(process, current, data=request.POST)
        if form.is_valid():
            try:
                self.hand_over(request, process=process, **form.cleaned_data)
            except services.AlreadyTaken as taken:
                messages.warning(request, str(taken))
                return redirect("workflows:process", process.pk)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("%(what)s handed over to %(name)s, who has been emailed.")
                    % {"what": what, "name": _name(form.cleaned_data["to_user"])},
                )
                return redirect("workflows:process", process.pk)
        return self._render(process, what, current, form, status=400)

    def _form(self, process, current, data=None):
        colleagues = selectors.colleagues(county=process.municipality.county, exclude=current)
        return forms.HandOverForm(data, colleagues=colleagues)

    def _render(self, process, what, current, form, status=200):
        context = {
            "process": process,
            "what": what,
            "current": current,
            "form": form,
            "action": self.request.path,
        }
        return render(self.request, self.template_name, context, status=status)


class HandOverStepView(_HandOverView):
    def target(self, request, task_pk):
        self.task, process = _step_to_lead(request, task_pk)
        if self.task.status not in services.OPEN:
            raise Http404
        what = _("The step “%s”") % self.task.flow_task.task_title
        return process, what, self.task.owner

    def hand_over(self, request, *, process, to_user, note):
        services.hand_over_step(task=self.task, to_user=to_user, by=request.user, note=note)


class HandOverProcessView(_HandOverView):
    def target(self, request, pk):
        process = _process_to_lead(request, pk)
        if not process.is_open:
            raise Http404
        return process, _("The process"), process.lead

    def hand_over(self, request, *, process, to_user, note):
        services.hand_over_process(process=process, to_user=to_user, by=request.user, note=note)


class PersonWorkView(LeadMixin, View):
    """A person's open steps and the processes they are responsible for, in the counties the
    viewer leads, with a form to give chosen items to a colleague: for a leader going away, or
    one who was deactivated or left the county's project."""

    template_name = "workflows/assignment/person_work.html"

    def setup_work(self, request, user_pk):
        person = get_user_model().objects.filter(pk=user_pk).first()
        if person is None or not selectors.can_see_work_of(viewer=request.user, person=person):
            raise Http404
        work = selectors.open_work(person=person, viewer=request.user)
        counties = {t.process.policyprocess.municipality.county for t in work.tasks} | {
            p.municipality.county for p in work.processes
        }
        if not counties:
            counties = set(scoping.led_counties(request.user))
        colleagues = selectors.colleagues_in_counties(counties=counties).exclude(pk=person.pk)
        return person, work, colleagues

    def get(self, request, user_pk):
        person, work, colleagues = self.setup_work(request, user_pk)
        form = forms.ReassignForm(colleagues=colleagues, work=work)
        return self._render(person, work, form)

    def post(self, request, user_pk):
        person, work, colleagues = self.setup_work(request, user_pk)
        form = forms.ReassignForm(request.POST, colleagues=colleagues, work=work)
        if form.is_valid():
            try:
                handovers = services.reassign_work(
                    from_user=person,
                    by=request.user,
                    **form.cleaned_data,
                )
            except PermissionDenied:
                raise
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("%(count)s items given to %(name)s, who has been emailed.")
                    % {"count": len(handovers), "name": _name(form.cleaned_data["to_user"])},
                )
                return redirect("workflows:person_work", person.pk)
        return self._render(person, work, form, status=400)

    def _render(self, person, work, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"person": person, "work": work, "form": form},
            status=status,
        )
