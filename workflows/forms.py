"""Forms for the project leader's steps; they parse input, services decide."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.forms import BoundedDateField
from municipalities import scoping
from municipalities.models import Contact, County, Municipality

from .models import AnswerKind, ContactChannel, DecisionBody, DecisionOutcome


class DateInput(forms.DateInput):
    input_type = "date"


class StartProcessForm(forms.Form):
    """Lists the municipalities of the counties ``user`` leads (all, without a user)."""

    municipality = forms.ModelChoiceField(
        label=_("Municipality"), queryset=Municipality.objects.select_related("county")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            field = self.fields["municipality"]
            field.queryset = scoping.scoped_for_leading(field.queryset, user, county_field="county")


class StartCountyForm(forms.Form):
    """Lists the counties ``user`` leads (all, without a user)."""

    county = forms.ModelChoiceField(label=_("County"), queryset=County.objects.all())

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["county"].queryset = scoping.led_counties(user)


class _MunicipalityContactsMixin:
    """Limits contact choices to the active contacts of the process's municipality."""

    contact_fields: tuple[str, ...] = ()

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, **kwargs)
        # A contact's label names its municipality: join it rather than query it per choice.
        contacts = Contact.objects.filter(
            municipality_id=process.municipality_id, is_active=True
        ).select_related("municipality")
        for name in self.contact_fields:
            self.fields[name].queryset = contacts


class FirstContactForm(_MunicipalityContactsMixin, forms.Form):
    contact_fields = ("contacts", "approvers")

    # Most contacts are recorded the day they happen.
    contacted_on = BoundedDateField(
        label=_("Date of contact"), widget=DateInput, initial=timezone.localdate
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contact persons reached"),
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    approvers = forms.ModelMultipleChoiceField(
        label=_("Contact persons who will approve the draft"),
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)


class MeetingForm(forms.Form):
    held_on = BoundedDateField(
        label=_("Date of the meeting"), widget=DateInput, initial=timezone.localdate
    )
    participants = forms.CharField(
        label=_("Participants"), widget=forms.Textarea(attrs={"rows": 2, "cols": 20})
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 4, "cols": 20}), required=False
    )


class StepForm(forms.Form):
    """A step's form: given the process, as every step page gives it (`workflows.pages`)."""

    def __init__(self, *args, process=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.process = process


class CompleteDialogueForm(StepForm):
    confirm = forms.BooleanField(label=_("The dialogue is ready for a draft"))


class DraftForm(StepForm):
    competition_section = forms.CharField(
        label=_("Competition-law section"), widget=forms.Textarea(attrs={"rows": 10})
    )
    customer_section = forms.CharField(
        label=_("Customer section"), widget=forms.Textarea(attrs={"rows": 10})
    )
    other_text = forms.CharField(
        label=_("Other text"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    change_note = forms.CharField(
        label=_("What changed in this version"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class RequestApprovalForm(_MunicipalityContactsMixin, forms.Form):
    contact_fields = ("approvers",)

    approvers = forms.ModelMultipleChoiceField(
        label=_("Send the draft to"),
        queryset=Contact.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, process=process, **kwargs)
        if not self.is_bound:  # the approvers named at first contact, ticked
            self.initial.setdefault("approvers", list(process.approvers.all()))


def _nothing_chosen(choices) -> list:
    """Choices that start with an empty one: a decision's body and outcome are facts the
    leader reads from the minutes, so the form never guesses them."""
    return [("", _("Choose…")), *choices]


class DecisionForm(StepForm):
    body = forms.ChoiceField(
        label=_("Decision body"), choices=_nothing_chosen(DecisionBody.choices)
    )
    body_other = forms.CharField(label=_("Other body (if other)"), required=False)
    meeting_date = BoundedDateField(label=_("Meeting date"), widget=DateInput)
    paragraph = forms.CharField(label=_("Paragraph (§)"), max_length=20)
    case_number = forms.CharField(label=_("Case number (diarienummer)"), max_length=100)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=_nothing_chosen(DecisionOutcome.choices)
    )
    certification_date = BoundedDateField(
        label=_("Minutes certified (justerat)"), widget=DateInput, required=False
    )
    announcement_date = BoundedDateField(
        label=_("Announced on the notice board"), widget=DateInput, required=False
    )
    legal_force_date = BoundedDateField(
        label=_("Legally binding from"), widget=DateInput, required=False
    )
    minutes_url = forms.URLField(
        label=_("Link to the minutes"), required=False, assume_scheme="https"
    )
    minutes_file = forms.FileField(label=_("Minutes (file)"), required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea, required=False)

    def clean(self):
        data = super().clean()
        if data.get("body") == DecisionBody.OTHER and not data.get("body_other"):
            self.add_error("body_other", _("Name the body that decided."))
        return data


class LegalForceForm(forms.Form):
    legal_force_date = forms.DateField(label=_("Legally binding from"), widget=DateInput)


class AppealForm(forms.Form):
    case_number = forms.CharField(label=_("The court's case number"), max_length=100)
    lodged_on = forms.DateField(label=_("Appeal lodged on"), widget=DateInput)


class AnswerForm(forms.Form):
    """The municipal contact's answer on the task-link page."""

    answer = forms.ChoiceField(
        label=_("Your answer"), choices=AnswerKind.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        help_text=_("Required when you ask for changes: say what should change."),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 20}),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("answer") == AnswerKind.CHANGES_REQUESTED
            and not data.get("comment", "").strip()
        ):
            self.add_error("comment", _("Say what should change."))
        return data


class RecordAnswerForm(AnswerForm):
    """A project leader records an answer the contact gave another way (phone, email)."""

    contact = forms.ModelChoiceField(label=_("Answer from"), queryset=Contact.objects.none())
    field_order = ["contact", "answer", "comment"]

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = process.approvers.select_related("municipality")


class IssueLinkForm(_MunicipalityContactsMixin, forms.Form):
    contact_fields = ("contact",)

    contact = forms.ModelChoiceField(
        label=_("Send a new link to"),
        queryset=Contact.objects.none(),
        error_messages={
            "required": _(
                "Choose the contact person who gets the new link: a link is personal, "
                "it lets one person answer."
            )
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        # The choices are read once and the select shows that list (no second query); with a
        # single contact person there is nobody else to choose, so they come chosen.
        contacts = list(field.queryset)
        field.choices = [("", field.empty_label)] + [
            (contact.pk, field.label_from_instance(contact)) for contact in contacts
        ]
        if len(contacts) == 1:
            field.initial = contacts[0].pk
        elif not contacts:
            field.help_text = _(
                "No active contact person is registered for this municipality: an administrator "
                "adds one first."
            )


class RevokeLinkForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)
