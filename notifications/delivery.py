"""Sending queued notifications: one row at a time, under its row lock, each committed on its
own; a failed attempt is recorded with its backoff, a permanent or last one marks the row failed.

See docs/decisions/notifications-outbox.md for the one duplicate window no SMTP client can close.
"""

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from . import sealing
from .history import stamp
from .models import DeliveryStatus, Notification
from .smtp import SMTP_ERRORS, SmtpSession, describe, is_permanent, smtp_session

logger = logging.getLogger(__name__)

# A task message may arrive a moment before the row's next_attempt_at (clocks, rounding).
DUE_TOLERANCE = timedelta(milliseconds=500)


class Outcome(enum.Enum):
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: doubled each time, capped."""
    base = float(settings.NOTIFICATIONS_BACKOFF_SECONDS)
    cap = float(settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS)
    return min(base * 2 ** max(attempts - 1, 0), cap)


def deliver(*, notification_id: int) -> Delivery:
    """Send one queued notification, under a row lock, and record the outcome."""
    return deliver_many(notification_ids=[notification_id])[notification_id]


def deliver_many(*, notification_ids: Iterable[int]) -> dict[int, Delivery]:
    """Send queued notifications one after the other over one SMTP connection.

    Each is sent under its own row lock and marked sent in its own transaction, committed
    before the next is sent: a worker killed in the middle of a run leaves every message it
    sent recorded as sent. Skips a row that is missing, sent, failed, not yet due or being sent
    by another worker right now. The row stays locked during the SMTP exchange (bounded by
    EMAIL_TIMEOUT); it is marked sent in the same transaction, and the connection is closed
    (if at all) only after the commit, which keeps the window between "the server accepted it"
    and "the row says sent" to one UPDATE and one COMMIT.
    """
    session = smtp_session()
    deliveries = {}
    try:
        for notification_id in notification_ids:
            deliveries[notification_id] = _deliver_one(notification_id, session)
    finally:
        session.release()
    return deliveries


def _deliver_one(notification_id: int, session: SmtpSession) -> Delivery:
    using = router.db_for_write(Notification)
    with transaction.atomic(using=using):
        notification = _locked(notification_id, using)
        if notification is None or notification.status != DeliveryStatus.QUEUED:
            return Delivery(Outcome.SKIPPED)
        now = timezone.now()
        if notification.next_attempt_at > now + DUE_TOLERANCE:
            # Another message already scheduled the next attempt: one retry chain only.
            return Delivery(Outcome.SKIPPED)
        notification.attempts += 1
        try:
            session.send(notification)
        except sealing.Unsealable as error:
            return _record_failure(notification, error, now=now)
        except SMTP_ERRORS as error:
            # The connection is in an unknown state: the next message opens a new one.
            session.close()
            return _record_failure(notification, error, now=now)
        notification.status = DeliveryStatus.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
        # Sent: the secret has done its job. Erased in the transaction that records the sending,
        # so until then a retry (SMTP failure, killed worker) still has it, and after it the
        # database holds no working link.
        notification.sealed_context = ""
        stamp(
            notification,
            reason=gettext_noop("Sent (attempt %(attempt)s)"),
            attempt=notification.attempts,
        )
        notification.save(
            update_fields=["status", "sent_at", "last_error", "attempts", "sealed_context"]
        )
        return Delivery(Outcome.SENT)


def _locked(notification_id: int, using: str) -> Notification | None:
    """The row, locked until the transaction ends; None if it is missing or another worker holds
    it (SKIP LOCKED: that worker is sending it). One plain statement through `Manager.raw()`,
    which loads the row with the fields' own conversions, on both databases: building the same
    SELECT with the ORM's `select_for_update` cost the worker ~0.2 ms more an email. SQLite has
    no row locks: its write lock, taken at BEGIN, is the lock there (as `select_for_update`,
    which it ignores)."""
    connection = connections[using]
    quote, meta = connection.ops.quote_name, Notification._meta
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = f"SELECT * FROM {quote(meta.db_table)} WHERE {quote(meta.pk.column)} = %s{lock}"  # noqa: S608
    return next(iter(Notification.objects.using(using).raw(sql, [notification_id])), None)


def _record_failure(notification: Notification, error: Exception, *, now) -> Delivery:
    """A failed attempt: the row waits for its backoff, or is failed for good (a permanent
    refusal, or the last attempt)."""
    notification.last_error = describe(error)
    if is_permanent(error) or notification.attempts >= int(settings.NOTIFICATIONS_MAX_ATTEMPTS):
        notification.status = DeliveryStatus.FAILED
        reason = gettext_noop("Failed after %(attempts)s attempts")
        delivery = Delivery(Outcome.FAILED)
        logger.warning(
            "Notification %s failed after %s attempts: %s",
            notification.pk,
            notification.attempts,
            notification.last_error,
        )
    else:
        delay = backoff_seconds(notification.attempts)
        notification.next_attempt_at = now + timedelta(seconds=delay)
        reason = gettext_noop("Attempt %(attempt)s failed")
        delivery = Delivery(Outcome.RETRY, retry_in=delay)
        logger.info(
            "Notification %s attempt %s failed (%s); next try in %.1f s.",
            notification.pk,
            notification.attempts,
            notification.last_error,
            delay,
        )
    # Both messages' placeholders: each reason uses the one it names.
    attempts = notification.attempts
    stamp(notification, reason=reason, attempt=attempts, attempts=attempts)
    notification.save()
    return delivery
