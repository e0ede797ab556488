"""Forms about the collaboration organisation: they parse input; `services` decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.forms import BoundedDateField
from workflows.forms import DateInput

from .models import MilestoneKind


class OrganisationForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the organisation"),
        max_length=200,
        help_text=_("E.g. “Samverkan för ASF i Kronoberg”."),
    )


class MemberForm(forms.Form):
    enterprise = forms.ModelChoiceField(label=_("ASF"), queryset=None)
    joined_on = BoundedDateField(label=_("Joined on"), widget=DateInput)

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises


class LeaveForm(forms.Form):
    left_on = BoundedDateField(label=_("Left on"), widget=DateInput)


class MeetingForm(forms.Form):
    held_on = BoundedDateField(label=_("Date of the meeting"), widget=DateInput)
    agenda = forms.CharField(
        label=_("Agenda"), widget=forms.Textarea(attrs={"rows": 4, "cols": 20})
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("Members present"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only ASF that were members on the meeting's date."),
    )
    decisions = forms.CharField(
        label=_("Decisions taken"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 20}),
    )
    minutes_file = forms.FileField(
        label=_("Minutes (file)"),
        required=False,
        help_text=_("PDF, ODT or DOCX. A new file replaces the one recorded before."),
    )

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = enterprises
        self.fields["attendees"].empty_text = _("The organisation has no members yet.")


class MilestoneForm(forms.Form):
    kind = forms.ChoiceField(label=_("Milestone"), choices=MilestoneKind.choices)
    reached_on = BoundedDateField(label=_("Date"), widget=DateInput)
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        help_text=_("Required for “Other”: what was reached."),
    )
