"""The outbox: a notification is a row stored in the transaction of the step that causes it,
handed to the workers after that transaction commits, and queued again from the delivery log.

The row commits or rolls back with the step. Its idempotency key is unique in the database:
queueing the same occurrence for the same recipient twice, even from two transactions at once,
stores one row. If the broker is down the row simply stays queued and the sweep
(`notifications.sweep`) enqueues it later.
"""

import hashlib
import threading

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from municipalities.models import Language

from . import sealing
from .broker import batch_size, enqueue, enqueue_many
from .events import missing_context
from .history import stamp
from .models import DeliveryStatus, Event, Notification
from .rendering import render_notification

RETRY_PERMISSION = "notifications.retry_notification"
KEY_MAX_LENGTH = Notification._meta.get_field("idempotency_key").max_length


def make_idempotency_key(*, event: str, key: str, recipient_email: str) -> str:
    """(event, occurrence, recipient): the same step told to the same person is one message."""
    composed = f"{event}:{key}:{recipient_email.strip().lower()}"
    if len(composed) <= KEY_MAX_LENGTH:
        return composed
    return f"{event}:sha256:{hashlib.sha256(composed.encode()).hexdigest()}"


def queue_notification(
    *,
    event: str,
    recipient_email: str,
    recipient_name: str,
    language: str | None,
    context: dict,
    key: str,
    topic: str,
    sealed_context: dict[str, str] | None = None,
) -> Notification:
    """Store a notification in the outbox and deliver it after the caller's transaction commits.

    Call it inside the transaction of the step that causes it: the row then commits or rolls
    back with the step. ``key`` names the occurrence (e.g. "task:45"); with the event and the
    recipient it makes the idempotency key, so queueing the same thing twice returns the first
    row and sends nothing new. ``language`` is the recipient's (Swedish when not known).
    Never raises because the broker is down, and waits for a dead broker at most once per pause
    (NOTIFICATIONS_BROKER_PAUSE_SECONDS).
    ``sealed_context``: context values that must not be stored in clear (a task link's URL, which
    holds its token). The stored email has a placeholder in their place; they are kept
    encrypted until the email is sent, then erased (`notifications.sealing`).
    """
    notification = _build(
        event=event,
        recipient_email=recipient_email,
        recipient_name=recipient_name,
        language=language,
        context=context,
        key=key,
        topic=topic,
        sealed_context=sealed_context,
    )
    try:
        # A savepoint: a duplicate key undoes this INSERT only, not the caller's step. A
        # concurrent transaction inserting the same key makes this INSERT wait for its commit
        # (PostgreSQL) or for the database's write lock (SQLite), then fail here.
        with transaction.atomic():
            notification.save(force_insert=True)
    except IntegrityError:
        existing = Notification.objects.filter(idempotency_key=notification.idempotency_key).first()
        if existing is None:  # another constraint refused the row: not a duplicate
            raise
        return existing
    _deliver_after_commit(notification.pk)
    return notification


def queue_notifications(messages: list[dict]) -> list[Notification]:
    """`queue_notification` for each of ``messages`` (its keyword arguments), in that order: one
    savepoint for them all instead of one each (a decision tells the whole steering group).

    When one of them is a duplicate (or any INSERT fails) the savepoint undoes them all, and
    each is queued again on its own, as `queue_notification` does: the same rows result."""
    if len(messages) < 2:
        return [queue_notification(**message) for message in messages]
    notifications = [_build(**message) for message in messages]
    try:
        with transaction.atomic():
            for notification in notifications:
                notification.save(force_insert=True)
    except IntegrityError:
        return [queue_notification(**message) for message in messages]
    for notification in notifications:
        _deliver_after_commit(notification.pk)
    return notifications


def _build(
    *,
    event: str,
    recipient_email: str,
    recipient_name: str,
    language: str | None,
    context: dict,
    key: str,
    topic: str,
    sealed_context: dict[str, str] | None = None,
) -> Notification:
    """The outbox row of one message, rendered and stamped, not yet saved."""
    event = Event(event)
    sealed_context = sealed_context or {}
    language = language or Language.SWEDISH
    if language not in Language.values:
        raise ValueError(f"Unknown language {language!r}; expected one of {Language.values}.")
    missing = missing_context(event, {**context, **sealed_context})
    if missing:
        raise ValueError(f"The {event} notification needs the context keys {missing}.")

    idempotency_key = make_idempotency_key(event=event, key=key, recipient_email=recipient_email)
    stand_ins = sealing.placeholders(sealed_context)
    subject, body_text, body_html = render_notification(
        event=event,
        language=language,
        recipient_name=recipient_name,
        context={**context, **stand_ins},
    )
    notification = Notification(
        event=event,
        idempotency_key=idempotency_key,
        topic=topic,
        recipient_email=recipient_email.strip(),
        recipient_name=recipient_name,
        language=language,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        sealed_context=sealing.seal(
            {stand_ins[name]: value for name, value in sealed_context.items()}
        ),
        next_attempt_at=timezone.now(),
    )
    stamp(notification, reason=gettext_noop("Queued"))
    return notification


# The ids queued in this thread and not yet handed to the workers.
_pending = threading.local()


def _deliver_after_commit(notification_id: int) -> None:
    """Hand the row to the workers once the caller's transaction commits, in one task message
    with the other rows it queued.

    A message per notification cost the worker more than the sending itself (a bench of 10,000
    paid 10,000 task round trips); the rows are still sent and committed one by one. Every row
    registers the same callback with `transaction.on_commit`: the first one to run after the
    commit publishes every pending id, the others find none left. A transaction (or savepoint)
    that rolls back takes its callbacks with it but leaves its ids pending: they ride along
    with the next message, and the worker skips ids whose row does not exist.
    """
    if not hasattr(_pending, "ids"):
        _pending.ids = []
    _pending.ids.append(notification_id)
    transaction.on_commit(_publish_pending, robust=True)


def _publish_pending() -> None:
    ids, _pending.ids = getattr(_pending, "ids", []), []
    size = batch_size()
    for start in range(0, len(ids), size):
        enqueue_many(ids[start : start + size])


def retry_notification(*, notification: Notification, user) -> Notification:
    """Queue a failed notification again (the delivery log's retry button)."""
    if user is None or not user.has_perm(RETRY_PERMISSION):
        raise PermissionDenied(_("You may not retry notifications."))
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status != DeliveryStatus.FAILED:
            raise ValidationError(_("Only a failed notification can be retried."))
        locked.status = DeliveryStatus.QUEUED
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        stamp(locked, user=user, reason=gettext_noop("Retried from the delivery log"))
        locked.save()
        transaction.on_commit(lambda: enqueue(locked.pk, force=True), robust=True)
    return locked
