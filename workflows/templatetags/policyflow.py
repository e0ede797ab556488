"""Small presentation helpers for PolicyFlow templates."""

from django import template

register = template.Library()


@register.filter
def display_name(user) -> str:
    """A user's full name, else the username; a dash for nobody (e.g. a contact's answer)."""
    if user is None:
        return "–"
    return user.get_full_name() or user.get_username()
