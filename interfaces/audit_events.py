"""How API tokens and calendar feeds read in the audit trail (registered from InterfacesConfig)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from audit import registry
from audit.registry import Change, Description

from .models import ApiToken, CalendarFeed


def _user_name(user_id, memo) -> str:
    key = ("user", user_id)
    if key not in memo:
        user = get_user_model().objects.filter(pk=user_id).first()
        memo[key] = (user.get_full_name() or user.get_username()) if user else str(user_id)
    return memo[key]


def describe_api_token(change: Change) -> Description:
    record = change.record
    what = {"name": record.name, "user": _user_name(record.user_id, change.memo)}
    if change.is_created:
        summary = _("API token “%(name)s” created for %(user)s") % what
    elif change.was_set("revoked_at"):
        summary = _("API token “%(name)s” of %(user)s revoked") % what
    else:
        summary = _("API token “%(name)s” of %(user)s changed") % what
    return Description(summary=summary)


def describe_calendar_feed(change: Change) -> Description:
    what = {"user": _user_name(change.record.user_id, change.memo)}
    if change.is_created:
        summary = _("Calendar feed address created for %(user)s") % what
    elif change.was_set("revoked_at"):
        summary = _("Calendar feed address of %(user)s revoked") % what
    else:
        summary = _("Calendar feed of %(user)s changed") % what
    return Description(summary=summary)


def register() -> None:
    registry.register(
        ApiToken,
        describe=describe_api_token,
        mentions_people=False,
        hidden_fields=["key_hash"],
        shared=False,
    )
    registry.register(
        CalendarFeed,
        describe=describe_calendar_feed,
        mentions_people=False,
        hidden_fields=["salt", "token_hash"],
        shared=False,
    )
