"""The timeline's rows and its event-kind checkboxes, written in Python.

A timeline page shows 50 events of about 25 values each; through the template engine (a lookup,
a filter and an escape per value) their rows were a quarter of the page's time. The HTML is what
``audit/includes/event_list.html`` wrote row by row before, every value escaped the same way.
The 36 event kinds' checkboxes went through three of Django's widget templates each (a sixth of
the page's time): ``choice_boxes`` writes the HTML Django's ``{{ choice.tag }}`` loop writes.
"""

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from audit.html import date_text, escape_text

register = template.Library()

DASH = "–"


def _text(value) -> str:
    return escape_text(value)


def _or_dash(value) -> str:
    return escape_text(value) if value else DASH


def _changes(changes, heading: str) -> str:
    if not changes:
        return ""
    pairs = "".join(
        f"<dt>{_text(c.label)}</dt><dd>{_text(c.old)} → {_text(c.new)}</dd>" for c in changes
    )
    return (
        f"<details><summary>{heading}</summary>\n"
        f'        <dl class="changes">{pairs}</dl>\n      </details>'
    )


def _row(event: dict, with_place: bool, heading: str) -> str:
    when = event["occurred_at"]
    if timezone.is_aware(when):
        when = timezone.localtime(when)
    place = f"\n    <td>{_or_dash(event['municipality'])}</td>" if with_place else ""
    return (
        f'  <tr id="event-{event["id"]}">\n'
        # Django's date format "c" is the ISO text itself (`DateFormat.c`).
        f'    <td><time datetime="{_text(when.isoformat())}">'
        f"{_text(date_text(when, 'SHORT_DATETIME_FORMAT'))}</time> "
        f'<span class="code">#{event["seq"]}</span></td>\n'
        f"    <td>{_text(event['actor'])}</td>{place}\n"
        f"    <td>{_or_dash(event['stage'])}</td>\n"
        f"    <td><strong>{_text(event['kind_label'])}</strong>: {_text(event['summary'])}\n"
        f"      {_changes(event['readable_changes'], heading)}\n"
        f"    </td>\n"
        f"    <td>{_or_dash(event['reason'])}</td>\n"
        f"  </tr>\n"
    )


def _choice(tag, label_for: str, label) -> str:
    return f'<div class="choice">{tag} <label for="{label_for}">{_text(label)}</label></div>'


@register.simple_tag
def choice_boxes(field) -> str:
    """Each choice of a checkbox field (a bound field of ``CheckboxSelectMultiple``) as
    ``<div class="choice"><input …> <label …>…</label></div>``, as the template loop
    ``{% for choice in field %}…{{ choice.tag }}…{% endfor %}`` writes it. A field with errors
    (its inputs carry ``aria-invalid``) or its own widget attributes goes through Django's
    loop itself."""
    widget = field.field.widget
    if field.errors or widget.attrs or not field.auto_id:
        return mark_safe(  # noqa: S308 (Django's own tags, escaped labels)
            "".join(
                _choice(choice.tag(), _text(choice.id_for_label), choice.choice_label)
                for choice in field
            )
        )
    chosen = {str(value) for value in (field.value() or [])}
    name = _text(field.html_name)
    boxes = []
    for index, (value, label) in enumerate(field.field.choices):
        value = "" if value is None else str(value)
        box_id = _text(f"{field.auto_id}_{index}")
        checked = " checked" if value in chosen else ""
        tag = f'<input type="checkbox" name="{name}" value="{_text(value)}" id="{box_id}"{checked}>'
        boxes.append(_choice(tag, box_id, label))
    return mark_safe("".join(boxes))  # noqa: S308 (each value escaped above)


@register.simple_tag
def event_rows(events, scope: str = "") -> str:
    """The ``<tr>`` of each event (`audit.selectors.display`); the municipality's column only
    where the page is not about one municipality or process."""
    with_place = scope not in ("process", "municipality")
    heading = _text(gettext("Changes"))  # the changes' summary, the same in every row
    return mark_safe(  # noqa: S308 (each value escaped)
        "".join(_row(event, with_place, heading) for event in events)
    )
