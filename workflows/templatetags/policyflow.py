"""Small presentation helpers for PolicyFlow templates."""

import functools

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext

from audit.html import date_text, escape_text
from notifications.models import DeliveryStatus

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


# The layout's links (templates/base.html), by the names the template reads them under.
LAYOUT_URLS = {
    "home": "home",
    "overview": "workflows:overview",
    "inbox": "workflows:inbox",
    "processes": "workflows:processes",
    "enterprises": "enterprises:list",
    "outreach": "outreach:activities",
    "network": "network:organisation",
    "followup": "followup:page",
    "start": "workflows:start",
    "integrations": "interfaces:integrations",
    "delivery_log": "notifications:log",
    "admin": "admin:index",
    "preferences": "notifications:preferences",
    "logout": "logout",
    "accessibility": "accessibility",
    "public": "public:counties",
}


@register.simple_tag
def layout_urls() -> dict[str, str]:
    """The addresses of the layout's menu and footer, as ``{% url %}`` writes them: reversed
    once per process (for its URL prefix and URLconf), not on every page, where their 16
    ``{% url %}`` tags took half a millisecond of each. Keyed on everything ``reverse`` reads:
    the URL prefix (a site served under a sub-path), the URLconf and the language (which
    language-prefixed URLs would depend on)."""
    return _layout_urls(
        get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, translation.get_language()
    )


@functools.lru_cache(maxsize=16)
def _layout_urls(prefix: str, urlconf: str, language: str | None) -> dict[str, str]:
    # ``prefix`` and ``language`` are what ``reverse`` reads from the request: keys, not inputs.
    return {key: reverse(name, urlconf=urlconf) for key, name in LAYOUT_URLS.items()}


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


STALLED = "workflows/overview/includes/stalled.html"
MARKER = '<span class="marker" aria-hidden="true">●</span>'


@register.simple_tag
def board_rows(board) -> str:
    """The rows of the overview's stage board (``overview.selectors.Board``), written in Python:
    a county's municipalities times seven stage cells went through the template engine on every
    uncached overview (3 ms for Kronoberg's 8). The HTML, whitespace included, is what the
    board's template loop wrote (a test compares them); names, actions and holders are escaped
    as the template escaped them."""
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.html import conditional_escape as escape
    from django.utils.translation import gettext, ngettext

    def short(day) -> str:
        return date_text(day, "SHORT_DATE_FORMAT")

    not_started = (
        f'<td class="current"><span class="cell-label">{gettext("Stage")}: </span>{MARKER} '
        f"{gettext('Not started')}</td>"
    )
    columns = [(column.stage, escape(column.label)) for column in board.columns]
    next_action, held_by, next_due = gettext("Next action"), gettext("Held by"), gettext("Next due")
    stalled = None
    rows = []
    for row in board.rows:
        municipality, process, stage = row.municipality, row.process, row.stage
        county = ""
        if board.county is None:
            county = f' <span class="code">{escape(municipality.county.name)}</span>'
        cells = []
        for column_stage, label in columns:
            if stage == column_stage:
                if process.is_open:
                    days = row.days_in_stage
                    when = ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
                else:
                    entered = short(timezone.localtime(process.stage_entered_at))
                    when = gettext("since %(day)s") % {"day": entered}
                revision = f"{gettext('Revision:')} " if row.adopted_on else ""
                flag = ""
                if row.is_stalled:
                    stalled = stalled if stalled is not None else render_to_string(STALLED)
                    flag = f"<br>{stalled}"
                cell = (
                    f'\n    <td class="current"><span class="cell-label">{label}: </span>{MARKER}'
                    f"\n      {revision}{when}\n      {flag}\n    </td>\n    "
                )
            elif row.adopted_on and column_stage == "adopted":
                adopted = gettext("adopted %(day)s") % {"day": short(row.adopted_on)}
                cell = (
                    f'\n    \n    <td class="earlier"><span class="cell-label">{label}: </span>'
                    f"{adopted}</td>\n    "
                )
            else:
                cell = "<td></td>"
            cells.append(f"\n    {cell}\n    ")
        action = escape(row.next_action)
        if process is not None:
            url = reverse("workflows:process", args=[process.pk])
            action = f'<a href="{escape(url)}">{action}</a>'
        if row.due_on:
            due = f'<time datetime="{row.due_on.isoformat()}">{short(row.due_on)}</time>' + (
                f" ({gettext('overdue')})" if row.is_stalled else ""
            )
        else:
            due = "–"
        link = escape(reverse("workflows:overview_municipality", args=[municipality.code]))
        is_stalled = ' class="is-stalled"' if row.is_stalled else ""
        first = "<td></td>" if row.is_started else not_started
        rows.append(
            f'\n  <tr id="municipality-{escape(municipality.code)}"{is_stalled}>\n'
            f'    <th scope="row"><a href="{link}">{escape(municipality.name)}</a>{county}</th>\n'
            f"    {first}\n"
            f"    {''.join(cells)}\n"
            f'    <td><span class="cell-label">{next_action}: </span>{action}</td>\n'
            f'    <td><span class="cell-label">{held_by}: </span>{escape(row.holder)}</td>\n'
            f'    <td><span class="cell-label">{next_due}: </span>{due}</td>\n'
            "  </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value from the record escaped above)


@register.simple_tag
def country_rows(board) -> str:
    """The rows of the country board (``overview.selectors.CountryBoard``, one per county),
    written in Python as ``board_rows`` is: the template loop's 21 counties of ten cells each
    were a fifth of the "all counties" page's time. The HTML, whitespace included, is what the
    loop wrote (a test compares them); each county's code and name escaped as it escaped them."""
    rows = []
    for row in board.rows:
        code, name = escape_text(row.county.code), escape_text(row.county.name)
        counts = "".join(f"<td>{int(count)}</td>" for count in row.counts)
        rows.append(
            f'\n  <tr id="county-{code}">\n'
            f'    <th scope="row"><a href="?county={code}">{name}</a></th>\n'
            f"    <td>{int(row.municipalities)}</td>\n"
            f"    <td>{int(row.not_started)}</td>\n"
            f"    {counts}\n"
            f"    <td>{int(row.stalled)}</td>\n"
            "  </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (numbers, and the county's code and name escaped)


# The process page's three plain tables (no links, no forms): written in Python as their
# template loops wrote them, each value escaped as ``{{ }}`` escapes it. Through the engine (a
# lookup, a filter and an escape per cell) their 50-odd rows were a tenth of the page's time.


def _when(value) -> str:
    """``{{ value|date:"SHORT_DATETIME_FORMAT" }}``: in the current time zone, "" for none."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_text(value, "SHORT_DATETIME_FORMAT")


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


def _on(value, name: str) -> str:
    """``{{ value|date:name }}``: in the current time zone."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_text(value, name)


@register.simple_tag
def waiting_items(rows) -> str:
    """The inbox's drafts waiting for the municipality (`selectors.WaitingRow`): the
    ``<li>`` of each, as the list's template loop wrote them (through the engine, its 25 rows
    were a sixth of the page's time)."""
    waiting, due = escape_text(gettext("waiting for approval by")), escape_text(gettext("due"))
    items = []
    for row in rows:
        url = escape_text(reverse("workflows:process", args=[row.process_id]))
        names = ", ".join(escape_text(name) for name in row.approvers)
        when = ""
        if row.due:
            when = (
                f'({due} <time datetime="{escape_text(_on(row.due, "Y-m-d"))}">'
                f"{escape_text(_on(row.due, 'SHORT_DATE_FORMAT'))}</time>)"
            )
        items.append(
            f'\n  <li><a href="{url}">{escape_text(row.municipality)}</a>:\n'
            f"  {waiting} {names}\n  {when}</li>\n"
        )
    return mark_safe("".join(items))  # noqa: S308 (each value escaped)


@functools.cache
def _csrf_token_tag() -> template.Template:
    return template.Template("{% csrf_token %}")


@register.simple_tag(takes_context=True)
def task_rows(context, tasks, is_leading: bool, tab: str) -> str:
    """The rows of the inbox's table of open steps (a page of `inbox_tab`): due, municipality
    and stage, step, who holds it (a claim button on the unassigned tab), as the table's
    template loop wrote them: through the engine, its 25 rows were a third of a leader's inbox.
    """
    claim, unassigned = escape_text(gettext("Claim")), escape_text(gettext("Unassigned"))
    # Django's own {% csrf_token %}, rendered once for every claim form of the table.
    csrf = _csrf_token_tag().render(context) if tab == "unassigned" else ""
    rows = []
    for task in tasks:
        process = task.process.policyprocess
        municipality = escape_text(process.municipality)
        title = escape_text(task.flow_task.task_title)
        due = DASH
        if task.due:
            due = (
                f'<time datetime="{escape_text(_on(task.due, "Y-m-d"))}">'
                f"{escape_text(_on(task.due, 'SHORT_DATE_FORMAT'))}</time>"
            )
        process_url = escape_text(reverse("workflows:process", args=[task.process_id]))
        step = title
        if is_leading:
            step = f'<a href="{escape_text(reverse("workflows:step", args=[task.pk]))}">{title}</a>'
        if task.owner:
            holder = escape_text(display_name(task.owner))
        elif tab == "unassigned":
            action = escape_text(reverse("workflows:claim", args=[task.pk]))
            holder = (
                f'<form class="inline" method="post" action="{action}">{csrf}'
                f'<button type="submit" class="link-button">{claim}<span class="visually-hidden">'
                f" {title}, {municipality}</span></button></form>"
            )
        else:
            holder = unassigned
        rows.append(
            "\n  <tr>\n"
            f"    <td>{due}</td>\n"
            f'    <td><a href="{process_url}">{municipality}</a> <span class="badge badge-'
            f'{escape_text(process.stage)}">{escape_text(process.get_stage_display())}</span></td>\n'
            f"    <td>{step}</td>\n"
            f"    <td>{holder}</td>\n"
            "  </tr>\n  "
        )
    return mark_safe("".join(rows))  # noqa: S308 (each value escaped)


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
        if note.status == DeliveryStatus.FAILED:
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
        held_on = escape_text(date_text(meeting.held_on, "SHORT_DATE_FORMAT"))
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
