"""Small presentation helpers for PolicyFlow templates."""

from django import template
from django.conf import settings

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
