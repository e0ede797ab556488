"""Every write of the open interfaces: API tokens and calendar feeds created, revoked,
regenerated. Each is recorded with its actor and reason (audited history)."""

from __future__ import annotations

import datetime
import hmac
import secrets
from hashlib import sha256 as sha256_digest

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workflows.audit import stamp

from .models import ApiToken, CalendarFeed, sha256

READ = "workflows.view_policyprocess"
MANAGE_TOKENS = "interfaces.manage_api_tokens"
# How often a token's last use is written down (a write per request would be noise).
LAST_USED_RESOLUTION = datetime.timedelta(hours=1)


def may_manage_tokens_of(actor, user) -> bool:
    """A user manages their own tokens; an administrator with the permission anyone's."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    return actor.pk == user.pk or actor.has_perm(MANAGE_TOKENS)


def create_api_token(*, user, name: str, actor) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it with its key, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the token after what will use it.")})
    if not may_manage_tokens_of(actor, user):
        raise PermissionDenied
    if not user.is_active or not user.has_perm(READ):
        raise ValidationError(_("%(user)s may not read the record.") % {"user": user})
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            user=user,
            name=name[:100],
            prefix=key[:8],
            key_hash=sha256(key),
            created_by=actor,
        )
        stamp(token, user=actor, reason=_("API token created"))
        token.save()
    return token, key


def revoke_api_token(*, token: ApiToken, actor) -> ApiToken:
    """Stop the token from working at once. Revoking a revoked token changes nothing."""
    if not may_manage_tokens_of(actor, token.user):
        raise PermissionDenied
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.revoked_by = actor
        stamp(token, user=actor, reason=_("API token revoked"))
        token.save()
    return token


def authenticate_api_token(key: str) -> ApiToken | None:
    """The live token with this key (and its user), or None. Notes the use at most hourly,
    without history: that a token is used is bookkeeping, not a change."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=sha256(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# --- Calendar feeds ----------------------------------------------------------------------------


def feed_token(feed: CalendarFeed) -> str:
    """The secret in the feed's address: an HMAC of its salt with the site's secret key, so the
    owner can be shown the address again while a copy of the database does not reveal it."""
    key = (settings.SECRET_KEY + ":calendar-feed").encode()
    return hmac.new(key, feed.salt.encode(), sha256_digest).hexdigest()[:43]


def issue_calendar_feed(*, user) -> CalendarFeed:
    """A new secret address for ``user``'s calendar: the old one, if any, stops working."""
    if not user.is_authenticated or not user.has_perm(READ):
        raise PermissionDenied
    with transaction.atomic():
        live = CalendarFeed.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        for old in live:
            old.revoked_at = timezone.now()
            stamp(old, user=user, reason=_("Calendar feed address replaced"))
            old.save()
        feed = CalendarFeed(user=user, salt=secrets.token_hex(32))
        feed.token_hash = sha256(feed_token(feed))
        stamp(feed, user=user, reason=_("Calendar feed address created"))
        feed.save()
    return feed


def revoke_calendar_feed(*, user) -> None:
    """Stop ``user``'s calendar address from working (no new one)."""
    with transaction.atomic():
        for feed in CalendarFeed.objects.select_for_update().filter(
            user=user, revoked_at__isnull=True
        ):
            feed.revoked_at = timezone.now()
            stamp(feed, user=user, reason=_("Calendar feed address revoked"))
            feed.save()


def live_feed(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed this address's secret opens, with its user (one query), or None."""
    if not token:
        return None
    return (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=sha256(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
