"""API tokens and calendar feeds: credentials a user hands to another system.

Neither is stored as it is used: an API token's key is shown once and only its SHA-256 is kept;
a calendar feed's address is derived from a random salt with the site's secret key (HMAC), so it
can be shown again to its owner while the database alone does not reveal it. Both are revoked,
never deleted, and every creation and revocation is on the record (audited history).
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ApiToken(models.Model):
    """A token an integration sends as ``Authorization: Token <key>``: it reads the API with its
    user's access, no more (the same county scoping as the pages)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. “Region's BI”.")
    )
    # The key's first characters, shown to tell tokens apart; too short to be used as the key.
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Bookkeeping written without history (at most hourly): not a change anyone made.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # The key's hash is a credential too: it stays out of the history.
    history = HistoricalRecords(
        excluded_fields=["key_hash", "last_used_at"], history_manager=OnceBuiltHistoryManager
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        permissions = [
            ("manage_api_tokens", _("Can create and revoke API tokens for other users")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | models.Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="api_token_revocation_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class CalendarFeed(models.Model):
    """A user's secret calendar address (ICS): meetings, decision meetings and deadlines of the
    counties the user may read. One live feed per user; regenerating revokes the old address."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="calendar_feeds",
        verbose_name=_("user"),
    )
    salt = models.CharField(max_length=64, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    history = HistoricalRecords(
        excluded_fields=["salt", "token_hash"], history_manager=OnceBuiltHistoryManager
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_calendar_feed_per_user",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Calendar feed of %(user)s") % {"user": self.user})
