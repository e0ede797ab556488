"""Pages of the collaboration organisation: its page (members, milestones, meetings), a meeting,
and the forms project leaders keep it with. Thin: parse, call a selector or a service, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from municipalities import scoping
from workflows.models import MINUTES_EXTENSIONS
from workflows.views import ReadMixin, form_errors_from

from . import forms, selectors, services

PAGE_SIZE = 25


def _require_lead(user, county_id) -> None:
    if not scoping.can_lead(user, county_id):
        raise PermissionDenied


class OrganisationView(ReadMixin, TemplateView):
    template_name = "network/organisation.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        county = selectors.county_page(user=user, code=self.request.GET.get("county"))
        context = {"county": county, "counties": list(scoping.visible_counties(user))}
        if county is not None:
            organisation = selectors.organisation_of(county=county)
            context["organisation"] = organisation
            context["can_lead"] = scoping.can_lead(user, county)
            if organisation is not None:
                members = organisation.members.all()
                context["current_members"] = [m for m in members if m.left_on is None]
                context["former_members"] = [m for m in members if m.left_on is not None]
                context["meetings"] = Paginator(
                    selectors.meetings_of(organisation=organisation), PAGE_SIZE
                ).get_page(self.request.GET.get("page"))
            elif context["can_lead"]:
                context["form"] = forms.OrganisationForm()
        return super().get_context_data(**context, **kwargs)


def _back(organisation_or_county):
    code = getattr(organisation_or_county, "code", None) or organisation_or_county.county.code
    response = redirect("network:organisation")
    response["Location"] += f"?county={code}"
    return response


@method_decorator(require_POST, name="dispatch")
class FormOrganisationView(ReadMixin, View):
    def post(self, request, code):
        county = selectors.county_page(user=request.user, code=code)
        _require_lead(request.user, county)
        form = forms.OrganisationForm(request.POST)
        if form.is_valid():
            try:
                services.form_organisation(user=request.user, county=county, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The collaboration organisation is registered."))
                return _back(county)
        context = {
            "form": form,
            "county": county,
            "title": _("Register the collaboration organisation"),
        }
        return render(request, "network/form.html", context, status=400)


class _OrganisationFormView(ReadMixin, View):
    """A form about one county's organisation, for its project leaders."""

    form_class = None
    title = ""
    done = ""

    def organisation(self, request, code):
        organisation = selectors.organisation_by_code(user=request.user, code=code)
        _require_lead(request.user, organisation.county_id)
        return organisation

    def form(self, organisation, data=None, files=None):
        return self.form_class(data, files)

    def get(self, request, code):
        organisation = self.organisation(request, code)
        return self.render(request, organisation, self.form(organisation))

    def post(self, request, code):
        organisation = self.organisation(request, code)
        form = self.form(organisation, request.POST, request.FILES)
        if form.is_valid():
            try:
                self.save(request.user, organisation, form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, self.done)
                return _back(organisation)
        return self.render(request, organisation, form, status=400)

    def render(self, request, organisation, form, status=200):
        context = {
            "form": form,
            "organisation": organisation,
            "county": organisation.county,
            "title": self.title,
            "action": request.path,
            "has_file": "minutes_file" in form.fields,
        }
        return render(request, "network/form.html", context, status=status)


class AddMemberView(_OrganisationFormView):
    form_class = forms.MemberForm

    @property
    def title(self):
        return _("Add a member")

    @property
    def done(self):
        return _("The member is added.")

    def form(self, organisation, data=None, files=None):
        enterprises = selectors.enterprises_of(county_id=organisation.county_id)
        return forms.MemberForm(data, enterprises=enterprises)

    def save(self, user, organisation, data):
        services.add_member(user=user, organisation=organisation, **data)


class AddMeetingView(_OrganisationFormView):
    @property
    def title(self):
        return _("Record a meeting of the organisation")

    @property
    def done(self):
        return _("The meeting is recorded.")

    def form(self, organisation, data=None, files=None):
        enterprises = selectors.enterprises_of(county_id=organisation.county_id)
        return forms.MeetingForm(data, files, enterprises=enterprises)

    def save(self, user, organisation, data):
        services.record_meeting(user=user, organisation=organisation, **data)


class AddMilestoneView(_OrganisationFormView):
    form_class = forms.MilestoneForm

    @property
    def title(self):
        return _("Record a milestone")

    @property
    def done(self):
        return _("The milestone is recorded.")

    def save(self, user, organisation, data):
        services.record_milestone(user=user, organisation=organisation, **data)


@method_decorator(require_POST, name="dispatch")
class EndMembershipView(ReadMixin, View):
    def post(self, request, pk):
        member = selectors.member_detail(user=request.user, pk=pk)
        _require_lead(request.user, member.organisation.county_id)
        form = forms.LeaveForm(request.POST, prefix=f"leave-{member.pk}")
        if form.is_valid():
            try:
                services.end_membership(user=request.user, member=member, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request, _("%(name)s has left the organisation.") % {"name": member}
                )
                return _back(member.organisation)
        context = {
            "form": form,
            "county": member.organisation.county,
            "organisation": member.organisation,
            "title": _("%(name)s leaves the organisation") % {"name": member},
            "action": request.path,
        }
        return render(request, "network/form.html", context, status=400)


class MeetingView(ReadMixin, TemplateView):
    template_name = "network/meeting.html"

    def get_context_data(self, pk, **kwargs):
        meeting = selectors.meeting_detail(user=self.request.user, pk=pk)
        return super().get_context_data(
            meeting=meeting,
            can_lead=scoping.can_lead(self.request.user, meeting.organisation.county_id),
            **kwargs,
        )


class EditMeetingView(ReadMixin, View):
    def _meeting(self, request, pk):
        meeting = selectors.meeting_detail(user=request.user, pk=pk)
        _require_lead(request.user, meeting.organisation.county_id)
        return meeting

    def _form(self, meeting, data=None, files=None):
        enterprises = selectors.enterprises_of(county_id=meeting.organisation.county_id)
        initial = {
            "held_on": meeting.held_on,
            "agenda": meeting.agenda,
            "decisions": meeting.decisions,
            "attendees": list(meeting.attendees.all()),
        }
        return forms.MeetingForm(data, files, initial=initial, enterprises=enterprises)

    def _render(self, request, meeting, form, status=200):
        context = {
            "form": form,
            "organisation": meeting.organisation,
            "county": meeting.organisation.county,
            "title": _("Correct the meeting of %(date)s") % {"date": meeting.held_on},
            "action": request.path,
            "has_file": True,
        }
        return render(request, "network/form.html", context, status=status)

    def get(self, request, pk):
        meeting = self._meeting(request, pk)
        return self._render(request, meeting, self._form(meeting))

    def post(self, request, pk):
        meeting = self._meeting(request, pk)
        form = self._form(meeting, request.POST, request.FILES)
        if form.is_valid():
            try:
                services.update_meeting(user=request.user, meeting=meeting, **form.cleaned_data)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The meeting is updated."))
                return redirect("network:meeting", meeting.pk)
        return self._render(request, meeting, form, status=400)


class EditMilestoneView(ReadMixin, View):
    def _milestone(self, request, pk):
        milestone = selectors.milestone_detail(user=request.user, pk=pk)
        _require_lead(request.user, milestone.organisation.county_id)
        return milestone

    def _render(self, request, milestone, form, status=200):
        context = {
            "form": form,
            "organisation": milestone.organisation,
            "county": milestone.organisation.county,
            "title": _("Correct the milestone"),
            "action": request.path,
        }
        return render(request, "network/form.html", context, status=status)

    def get(self, request, pk):
        milestone = self._milestone(request, pk)
        initial = {
            "kind": milestone.kind,
            "reached_on": milestone.reached_on,
            "description": milestone.description,
        }
        return self._render(request, milestone, forms.MilestoneForm(initial=initial))

    def post(self, request, pk):
        milestone = self._milestone(request, pk)
        form = forms.MilestoneForm(request.POST)
        if form.is_valid():
            try:
                services.update_milestone(
                    user=request.user, milestone=milestone, **form.cleaned_data
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The milestone is updated."))
                return _back(milestone.organisation)
        return self._render(request, milestone, form, status=400)


class MinutesFileView(ReadMixin, View):
    """The minutes file of a meeting, to readers of the county, always as a download under a
    name built from the record (never the uploader's)."""

    def get(self, request, pk):
        meeting = selectors.meeting_detail(user=request.user, pk=pk)
        if not meeting.minutes_file:
            raise Http404
        try:
            handle = meeting.minutes_file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        extension = MINUTES_EXTENSIONS.get(meeting.minutes_content_type, "")
        name = f"protokoll-{slugify(meeting.organisation.name)}-{meeting.held_on.isoformat()}"
        return FileResponse(
            handle,
            as_attachment=True,
            filename=name + extension,
            content_type=meeting.minutes_content_type or "application/octet-stream",
        )
