"""The timeline's filters and the administrator's pseudonymisation form."""

import functools

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import selectors
from .html import escape_text


class DateInput(forms.DateInput):
    """``<input type="date">``, written in Python: the HTML of Django's ``input.html`` and
    ``attrs.html`` templates (two templates a field, each through the template engine, for the
    timeline's two dates on every page)."""

    input_type = "date"

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        value = widget["value"]
        shown = "" if value is None else f' value="{_formatted(value)}"'
        attributes = "".join(
            _attribute(key, given) for key, given in widget["attrs"].items() if given is not False
        )
        return mark_safe(  # noqa: S308 (each value escaped)
            f'<input type="{self.input_type}" name="{escape_text(name)}"{shown}{attributes}>'
        )


def _attribute(key: str, value) -> str:
    """`` key="value"`` as Django's ``attrs.html`` writes it, True as the name alone."""
    return f" {escape_text(key)}" if value is True else f' {escape_text(key)}="{_formatted(value)}"'


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: the value's plain text (never a safe string), escaped."""
    return escape_text(f"{value}")


# Dates a person types for the record or a filter. Python's dates end in year 9999, and a date
# counted from one near the end (an appeal deadline, the day after a filter's last day)
# overflowed into a server error; no date of PolicyFlow's lies outside these years.
FIRST_YEAR, LAST_YEAR = 1900, 2100


class BoundedDateField(forms.DateField):
    """A date field refusing, with a message next to the field, years outside FIRST_YEAR to
    LAST_YEAR. Forms of every app use it for dates people type."""

    default_error_messages = {
        "year_range": _("Enter a date between the years %(first)s and %(last)s."),
    }

    def validate(self, value):
        super().validate(value)
        if value and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(
                self.error_messages["year_range"],
                code="year_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if getattr(widget, "input_type", "") == "date":
            attrs.update(min=f"{FIRST_YEAR}-01-01", max=f"{LAST_YEAR}-12-31")
        return attrs


class _OptionsInPython:
    """A select that writes its options in Python. Django renders every option through a
    template of its own; with the country's 290 municipalities that was half of the timeline
    page's time. The HTML is the same as Django's (flat choices only)."""

    # Choices the form gives as (value, label) pairs already (`TimelineFilterForm`): a callable
    # read as it is. Through ``self.choices`` Django normalises each pair of a callable's
    # choices on every reading (`normalize_choices`): 290 municipalities cost ~4 ms a page.
    plain_choices = None

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.plain_choices() if self.plain_choices else self.choices)
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups: Django's
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        chosen = set(self.format_value(value))
        options, has_selected = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            is_selected = option_value in chosen and (
                self.allow_multiple_selected or not has_selected
            )
            has_selected |= is_selected
            # Escaped as format_html would, without its cost per option (290 municipalities).
            options.append(
                f'<option value="{escape_text(option_value)}"'
                f"{' selected' if is_selected else ''}>{escape_text(label)}</option>"
            )
        body = mark_safe("".join(options))  # noqa: S308 (each value escaped above)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), body)

    def use_required_attribute(self, initial):
        # Django asks whether the first option is a placeholder, which reads every choice
        # (again for choices given as a callable), before it asks whether the field is required
        # at all: an optional select (every filter) answers at once.
        return self.is_required and super().use_required_attribute(initial)


class QuickSelect(_OptionsInPython, forms.Select):
    pass


class QuickSelectMultiple(_OptionsInPython, forms.SelectMultiple):
    pass


class TimelineFilterForm(forms.Form):
    """GET filters of a timeline; every field optional. Fixed scopes drop their fields."""

    county = forms.ChoiceField(label=_("County"), required=False, widget=QuickSelect)
    municipality = forms.TypedChoiceField(
        label=_("Municipality"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    actor = forms.TypedChoiceField(
        label=_("Actor"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    # Checkboxes, not a multi-select that needs Ctrl+click.
    kind = forms.MultipleChoiceField(
        label=_("Event"), required=False, widget=forms.CheckboxSelectMultiple
    )
    since = BoundedDateField(label=_("From (date)"), required=False, widget=DateInput)
    until = BoundedDateField(label=_("To (date, inclusive)"), required=False, widget=DateInput)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, scope: str = "county", counties=None, **kwargs):
        """``counties``: the county codes the reader may choose from (None: every county)."""
        super().__init__(*args, **kwargs)
        # Choices are read once, when the form is first validated or shown: a download without
        # filters (an unbound form) reads none of them.
        if scope == "county":
            county = (self.data.get("county") or "").strip() or None
            allowed = None if counties is None else set(counties)
            places = functools.cache(lambda: selectors.place_choices(county, within=allowed))
            self._plain_choices(
                "county",
                lambda: [
                    ("", _("All counties")),
                    *(c for c in places()[0] if allowed is None or c[0] in allowed),
                ],
            )
            self._plain_choices(
                "municipality",
                lambda: (
                    [("", _("All municipalities"))] + [(str(pk), name) for pk, name in places()[1]]
                ),
            )
        else:
            del self.fields["county"]
            del self.fields["municipality"]
        self._plain_choices(
            "actor",
            lambda: (
                [("", _("Everyone"))]
                + [(str(pk), name) for pk, name in selectors.actor_choices(counties)]
            ),
        )
        self.fields["kind"].choices = selectors.kind_choices

    def _plain_choices(self, name: str, build) -> None:
        """The field's choices: (value, label) pairs as text, read once by ``build()`` when the
        form is first validated or shown (a download without filters reads none of them), and
        shown by its select as they are (`_OptionsInPython.plain_choices`)."""
        once = functools.cache(build)
        self.fields[name].choices = once
        self.fields[name].widget.plain_choices = once

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
