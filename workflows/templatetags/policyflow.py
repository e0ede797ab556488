"""Small presentation helpers for PolicyFlow templates."""

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

register = template.Library()


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
    from django.utils import formats, timezone
    from django.utils.html import conditional_escape as escape
    from django.utils.translation import gettext, ngettext

    def short(day) -> str:
        return formats.date_format(day, "SHORT_DATE_FORMAT")

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
