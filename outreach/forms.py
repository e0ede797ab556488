"""Forms of knowledge spreading: they parse input; `services` decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.forms import BoundedDateField
from enterprises.models import Enterprise
from municipalities.models import County, Municipality
from workflows.forms import DateInput

from .models import ActivityKind, ActorType
from .services import MAX_COUNT, Reached


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=ActivityKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    held_on = BoundedDateField(label=_("Date"), widget=DateInput)
    organiser = forms.CharField(
        label=_("Organiser"),
        max_length=200,
        help_text=_("Who arranged it, e.g. Region Kronoberg, Coompanion or a municipality."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 20}),
        help_text=_("What it was about. Do not name participants: only numbers are recorded."),
    )
    municipalities = forms.ModelMultipleChoiceField(
        label=_("Municipalities involved"),
        queryset=Municipality.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    enterprises = forms.ModelMultipleChoiceField(
        label=_("ASF involved"),
        queryset=Enterprise.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, county: County, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipalities"].queryset = Municipality.objects.filter(county=county)
        self.fields["enterprises"].queryset = enterprises
        self.fields["enterprises"].empty_text = _("The county's ASF register is empty.")


class AudienceForm(forms.Form):
    """The people of one actor type an activity reached: leave the row empty if none."""

    total = forms.IntegerField(
        label=_("People reached"), min_value=0, max_value=MAX_COUNT, required=False
    )
    women = forms.IntegerField(label=_("Women"), min_value=0, max_value=MAX_COUNT, required=False)
    men = forms.IntegerField(label=_("Men"), min_value=0, max_value=MAX_COUNT, required=False)
    other = forms.IntegerField(
        label=_("Other or not stated"), min_value=0, max_value=MAX_COUNT, required=False
    )

    @property
    def actor_label(self) -> str:
        # The row's actor type comes from its place in the table, never from the request.
        value = self.initial.get("actor_type")
        return ActorType(value).label if value in ActorType.values else ""

    def clean(self):
        data = super().clean()
        genders = [data.get(name) for name in ("women", "men", "other")]
        total = data.get("total")
        if total is None and any(n is not None for n in genders):
            self.add_error("total", _("Give the number of people reached, not only by gender."))
        elif total is not None and sum(n or 0 for n in genders) > total:
            self.add_error(
                None,
                _(
                    "%(type)s: women, men and other add up to %(sum)s, more than the "
                    "%(total)s people reached."
                )
                % {"type": self.actor_label, "sum": sum(n or 0 for n in genders), "total": total},
            )
        return data

    def reached(self) -> Reached | None:
        data = self.cleaned_data
        if data.get("total") is None:
            return None
        return Reached(data["total"], data.get("women"), data.get("men"), data.get("other"))


class _AudienceFormSet(forms.BaseFormSet):
    def audience(self) -> dict[str, Reached]:
        return {
            form.initial["actor_type"]: reached
            for form in self.forms
            if (reached := form.reached()) is not None
        }


AudienceFormSet = forms.formset_factory(
    AudienceForm,
    formset=_AudienceFormSet,
    extra=0,
    min_num=len(ActorType),
    max_num=len(ActorType),
    validate_min=True,
    validate_max=True,
)


def audience_formset(data=None, *, activity=None) -> _AudienceFormSet:
    """One row per actor type, filled from the activity's audience when it has one."""
    rows = {row.actor_type: row for row in activity.audience.all()} if activity else {}
    initial = []
    for actor_type in ActorType.values:
        row = rows.get(actor_type)
        initial.append(
            {
                "actor_type": actor_type,
                "total": row.total if row else None,
                "women": row.women if row else None,
                "men": row.men if row else None,
                "other": row.other if row else None,
            }
        )
    return AudienceFormSet(data, initial=initial, prefix="audience")
