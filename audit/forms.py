"""The timeline's filters and the administrator's pseudonymisation form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors


class DateInput(forms.DateInput):
    input_type = "date"


class TimelineFilterForm(forms.Form):
    """GET filters of a timeline; every field optional. Fixed scopes drop their fields."""

    county = forms.ChoiceField(label=_("County"), required=False)
    municipality = forms.TypedChoiceField(
        label=_("Municipality"), required=False, coerce=int, empty_value=None
    )
    actor = forms.TypedChoiceField(label=_("Actor"), required=False, coerce=int, empty_value=None)
    kind = forms.MultipleChoiceField(
        label=_("Event"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    since = forms.DateField(label=_("From (date)"), required=False, widget=DateInput)
    until = forms.DateField(label=_("To (date, inclusive)"), required=False, widget=DateInput)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, scope: str = "county", **kwargs):
        super().__init__(*args, **kwargs)
        if scope == "county":
            county = (self.data.get("county") or "").strip() or None
            self.fields["county"].choices = [("", _("All counties"))] + list(
                selectors.county_choices()
            )
            self.fields["municipality"].choices = [("", _("All municipalities"))] + [
                (str(pk), name) for pk, name in selectors.municipality_choices(county)
            ]
        else:
            del self.fields["county"]
            del self.fields["municipality"]
        self.fields["actor"].choices = [("", _("Everyone"))] + [
            (str(pk), name) for pk, name in selectors.actor_choices()
        ]
        self.fields["kind"].choices = selectors.kind_choices()

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> dict:
        """The selector's keyword arguments (empty when the form is invalid)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "county": data.get("county") or None,
            "municipality": data.get("municipality"),
            "actor": data.get("actor"),
            "kinds": data.get("kind") or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }


class PseudonymiseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (e.g. the person has left; the archive rules allow it)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
    )
    confirm = forms.BooleanField(
        label=_("I understand: the name and email are replaced everywhere and cannot be restored.")
    )
