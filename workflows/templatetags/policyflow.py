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
