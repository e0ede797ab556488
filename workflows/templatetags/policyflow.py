"""Small presentation helpers for PolicyFlow templates."""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from audit.html import escape_text

register = template.Library()


DASH = "–"


@register.filter
def display_name(user) -> str:
    """A user's full name, else the username; a dash for nobody (e.g. a contact's answer)."""
    if user is None:
        return "–"
    return user.get_full_name() or user.get_username()


@register.simple_tag
def support_email() -> str:
    """The project's one contact address (setting ``POLICYFLOW["SUPPORT_EMAIL"]``): every page's
    footer, the accessibility statement and the dead-link page show it. A tag, not a context
    processor, so that the 500 page, rendered without a request context, shows it too."""
    return settings.POLICYFLOW["SUPPORT_EMAIL"]


@register.simple_tag
def progress_rows(progress) -> str:
    """The rows of the overview's progress table, one per month (``figures.Progress``), written
    in Python: a country's 80 months of seven cells were 7 ms through the template engine, each
    time the figures change. The HTML is what the table's loop wrote (months as ``YYYY-MM``,
    counts as numbers: nothing to escape)."""
    rows = []
    for month in progress.months:
        label = f"{month.month.year:04d}-{month.month.month:02d}"
        cells = "".join(f"<td>{int(count)}</td>" for count in month.counts)
        rows.append(
            f'\n  <tr>\n    <th scope="row"><time datetime="{label}">{label}</time></th>\n'
            f"    {cells}\n  </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (numbers and dates only)


# The process page's three plain tables (no links, no forms): written in Python as their
# template loops wrote them, each value escaped as ``{{ }}`` escapes it. Through the engine (a
# lookup, a filter and an escape per cell) their 50-odd rows were a tenth of the page's time.


def _when(value) -> str:
    """``{{ value|date:"SHORT_DATETIME_FORMAT" }}``: in the current time zone, "" for none."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "SHORT_DATETIME_FORMAT")


def _status_labels(rows) -> dict:
    """The labels of the rows' ``status`` choices (`get_status_display` of each, built once:
    that method builds them for every call)."""
    for row in rows:
        return dict(row._meta.get_field("status").choices)
    return {}


def _cells(*values, last_html: str | None = None) -> str:
    """A row of the values, escaped; ``last_html``: a last cell's HTML, escaped already."""
    cells = "".join(f"<td>{escape_text(value)}</td>" for value in values)
    last = "" if last_html is None else f"<td>{last_html}</td>"
    return f"<tr>{cells}{last}</tr>"


@register.simple_tag
def step_rows(steps) -> str:
    """The process's steps (`selectors.process_steps`): title, status, started, finished, by."""
    labels = _status_labels(steps)
    return mark_safe(  # noqa: S308 (each value escaped)
        "".join(
            _cells(
                task.flow_task.task_title,
                labels.get(task.status, task.status),
                _when(task.created),
                _when(task.finished) or DASH,
                display_name(task.owner),
            )
            for task in steps
        )
    )


@register.simple_tag
def history_rows(entries) -> str:
    """The process's latest history (`selectors.HistoryEntry`): when, who, what, why."""
    return mark_safe(  # noqa: S308 (each value escaped)
        "".join(
            _cells(_when(entry.when), entry.who, entry.what, entry.why or DASH) for entry in entries
        )
    )


@register.simple_tag
def notification_rows(notifications) -> str:
    """The latest notifications of a process: created, to, subject, status (and a failure's
    error, shortened)."""
    rows, labels = [], _status_labels(notifications)
    for note in notifications:
        status = escape_text(labels.get(note.status, note.status))
        if note.status == "failed":
            status += f" ({escape_text(Truncator(note.last_error).chars(80))})"
        rows.append(
            _cells(_when(note.created_at), note.recipient_name, note.subject, last_html=status)
        )
    return mark_safe("".join(rows))  # noqa: S308 (each value escaped)


@register.simple_tag
def meeting_items(meetings, process_pk: int, can_lead: bool) -> str:
    """The ``<li>`` of each dialogue meeting (newest first): the day, who took part, the notes,
    and a voided meeting's reason or, to a leader, the link that voids it."""
    voided, void = escape_text(gettext("voided")), escape_text(gettext("Void"))
    items = []
    for meeting in meetings:
        held_on = escape_text(formats.date_format(meeting.held_on, "SHORT_DATE_FORMAT"))
        item = f"<strong>{held_on}</strong> – {escape_text(meeting.participants)}"
        if meeting.notes:
            item += f": {escape_text(meeting.notes)}"
        if meeting.is_voided:
            item += f" <strong>({voided}: {escape_text(meeting.voided_reason)})</strong>"
        elif can_lead:
            url = reverse("workflows:void_record", args=[process_pk, "meeting", meeting.pk])
            item += (
                f' <a href="{escape_text(url)}">{void}'
                f'<span class="visually-hidden"> {escape_text(meeting)}</span></a>'
            )
        items.append(f"<li>{item}</li>")
    return mark_safe("".join(items))  # noqa: S308 (each value escaped)
