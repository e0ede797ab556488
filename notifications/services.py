"""Every write on the outbox: queue a notification, deliver it, sweep what is stuck, retry.

The guarantee: a notification is stored as a row in the caller's transaction (the outbox), so it
commits or rolls back with the step that caused it. Delivery is scheduled after the commit; if the
broker is down the row stays queued and the periodic sweep re-enqueues it later. The row is
locked while it is sent and skipped once sent, so duplicate task messages never send twice.
For throughput, one task message carries every notification one transaction queued, and a
worker sends them one after the other over one SMTP connection, each in its own transaction.
See docs/decisions/notifications-outbox.md for the one duplicate window no SMTP client can close.
"""

import enum
import hashlib
import logging
import secrets
import smtplib
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.utils import parseaddr
from functools import partial
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from municipalities.models import Language

from . import sealing
from .events import missing_context
from .models import DeliveryStatus, Event, Notification

logger = logging.getLogger(__name__)

RETRY_PERMISSION = "notifications.retry_notification"
KEY_MAX_LENGTH = Notification._meta.get_field("idempotency_key").max_length
SUBJECT_MAX_LENGTH = Notification._meta.get_field("subject").max_length
ERROR_MAX_LENGTH = 2000
# A task message may arrive a moment before the row's next_attempt_at (clocks, rounding).
DUE_TOLERANCE = timedelta(milliseconds=500)
# Errors worth another attempt: every SMTP error, and network errors (refused, reset, timeout).
SMTP_ERRORS = (smtplib.SMTPException, OSError)

DEFAULTS = {
    "NOTIFICATIONS_MAX_ATTEMPTS": 5,
    "NOTIFICATIONS_BACKOFF_SECONDS": 60.0,
    "NOTIFICATIONS_BACKOFF_MAX_SECONDS": 1800.0,
    "NOTIFICATIONS_SWEEP_GRACE_SECONDS": 60.0,
    "NOTIFICATIONS_SWEEP_BATCH": 500,
    "NOTIFICATIONS_BROKER_PAUSE_SECONDS": 10.0,
    "NOTIFICATIONS_DELIVERY_BATCH": 50,
    "NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS": 30.0,
}


def setting(name: str) -> Any:
    """A NOTIFICATIONS_* setting, read at call time so tests and workers can change it."""
    return getattr(settings, name, DEFAULTS[name])


def _stamp(obj: Notification, *, user=None, reason: str, **params) -> Notification:
    # The stamp workflows.audit applies (notifications may not import workflows). Without a
    # user, simple-history's middleware still records the request's user, if there is one.
    if user is not None:
        obj._history_user = user
    # ``reason`` is a message id: the record's words are in the site's language (Swedish), as
    # the audit trail writes its own, whether a request in English or a worker queued it.
    with translation.override(settings.LANGUAGE_CODE):
        obj._change_reason = (_(reason) % params)[:100]
    return obj


# --- Queueing ---------------------------------------------------------------------------------


def make_idempotency_key(*, event: str, key: str, recipient_email: str) -> str:
    """(event, occurrence, recipient): the same step told to the same person is one message."""
    composed = f"{event}:{key}:{recipient_email.strip().lower()}"
    if len(composed) <= KEY_MAX_LENGTH:
        return composed
    return f"{event}:sha256:{hashlib.sha256(composed.encode()).hexdigest()}"


def _absolute_urls(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _absolute_urls(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_absolute_urls(v) for v in value]
    if key.endswith("_url") and isinstance(value, str) and value.startswith("/"):
        return settings.SITE_URL + value
    return value


def render_notification(
    *, event: str, language: str, recipient_name: str, context: dict
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``event`` in ``language``."""
    full_context = {
        **_absolute_urls(context),
        "recipient_name": recipient_name,
        "language": language,
        "site_url": settings.SITE_URL,
    }
    base = f"notifications/email/{event}"
    with translation.override(language):
        subject = " ".join(render_to_string(f"{base}_subject.txt", full_context).split())
        if len(subject) > SUBJECT_MAX_LENGTH:
            subject = subject[: SUBJECT_MAX_LENGTH - 1] + "…"
        full_context["subject"] = subject
        body_text = render_to_string(f"{base}.txt", full_context).strip() + "\n"
        body_html = render_to_string(f"{base}.html", full_context)
    return subject, body_text, body_html


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
    event = Event(event)
    sealed_context = sealed_context or {}
    language = language or Language.SWEDISH
    if language not in Language.values:
        raise ValueError(f"Unknown language {language!r}; expected one of {Language.values}.")
    missing = missing_context(event, {**context, **sealed_context})
    if missing:
        raise ValueError(f"The {event} notification needs the context keys {missing}.")

    idempotency_key = make_idempotency_key(event=event, key=key, recipient_email=recipient_email)
    with transaction.atomic(savepoint=False):
        existing = Notification.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
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
        _stamp(notification, reason=gettext_noop("Queued"))
        try:
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            # Another transaction queued the same key meanwhile: the key is unique, theirs stays.
            return Notification.objects.get(idempotency_key=idempotency_key)
    _enqueue_after_commit(notification.pk)
    return notification


class _PendingDelivery:
    """The notifications one transaction queued, published as one task message after the commit.

    A message per notification cost the worker more than the sending itself (a bench of 10,000
    paid 10,000 task round trips); the rows are still sent and committed one by one.
    """

    def __init__(self, notification_id: int) -> None:
        self.ids = [notification_id]

    def __call__(self) -> None:
        enqueue_many(self.ids)


def _enqueue_after_commit(notification_id: int) -> None:
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Join the message this transaction already registered. If a savepoint that queued a
        # row rolls back, its id may stay in the message: the worker skips a missing row.
        # Only the newest message can have room (the ones before it are full): O(1) per row.
        for _savepoints, callback, _robust in reversed(connection.run_on_commit):
            if isinstance(callback, _PendingDelivery):
                if len(callback.ids) < _batch_size():
                    callback.ids.append(notification_id)
                    return
                break
    transaction.on_commit(_PendingDelivery(notification_id), robust=True)


def _batch_size() -> int:
    return max(1, int(setting("NOTIFICATIONS_DELIVERY_BATCH")))


class _BrokerPause:
    """After a failed publish, skip the broker for a while instead of waiting on it again.

    Publishing to a Redis that is down takes ~0.6 s of connection retries; a step that queues
    many notifications would otherwise wait that long for each. The rows are safe in the
    database and the sweep enqueues them when the broker is back. Per process, by design.
    """

    def __init__(self) -> None:
        self.until = 0.0

    def is_paused(self) -> bool:
        return time.monotonic() < self.until

    def pause(self) -> None:
        self.until = time.monotonic() + float(setting("NOTIFICATIONS_BROKER_PAUSE_SECONDS"))

    def resume(self) -> None:
        self.until = 0.0


broker_pause = _BrokerPause()


def enqueue(notification_id: int, *, force: bool = False) -> bool:
    """Ask a worker to deliver the notification; False (logged, never raised) if the broker
    can't be reached. ``force`` tries even during the pause after a failure."""
    return enqueue_many([notification_id], force=force)


def enqueue_many(
    notification_ids: list[int], *, force: bool = False, countdown: float | None = None
) -> bool:
    """Ask a worker to deliver the notifications (one task message), after ``countdown``
    seconds if given; False (logged, never raised) if the broker can't be reached."""
    from .tasks import deliver_notifications  # tasks import this module

    if not notification_ids:
        return True
    if not force and broker_pause.is_paused():
        logger.info(
            "Broker paused after a failure: notifications %s wait for the sweep.",
            notification_ids,
        )
        return False
    try:
        deliver_notifications.apply_async(args=[list(notification_ids)], countdown=countdown)
    except Exception as error:  # kombu OperationalError, redis errors, anything: the row is safe
        broker_pause.pause()
        logger.warning(
            "Could not enqueue notifications %s (%s: %s); the sweep will retry.",
            notification_ids,
            type(error).__name__,
            error,
        )
        return False
    broker_pause.resume()
    return True


# --- Delivering -------------------------------------------------------------------------------


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
    base = float(setting("NOTIFICATIONS_BACKOFF_SECONDS"))
    cap = float(setting("NOTIFICATIONS_BACKOFF_MAX_SECONDS"))
    return min(base * 2 ** max(attempts - 1, 0), cap)


def message_id(notification: Notification) -> str:
    """A Message-ID derived from the idempotency key: every attempt carries the same one, so a
    duplicate that slips through the crash window below can be recognised by mail systems."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "policyflow.localhost"
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:40]
    return f"<notification.{digest}@{domain}>"


class _OutboxMessage(mail.EmailMultiAlternatives):
    def message(self):
        msg = super().message()
        # A random boundary of our own: left unset, the email package picks one by compiling a
        # new regular expression for every message (a sixth of building it). 128 random bits
        # can't be guessed by whoever wrote the body, nor occur in it by chance.
        msg.set_boundary(f"=={secrets.token_hex(16)}==")
        return msg


def build_message(notification: Notification, connection=None) -> mail.EmailMultiAlternatives:
    recipient = str(
        Address(display_name=notification.recipient_name, addr_spec=notification.recipient_email)
    )
    body_text, body_html = sealing.fill(
        notification.sealed_context, text=notification.body_text, html=notification.body_html
    )
    message = _OutboxMessage(
        subject=notification.subject,
        body=body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        connection=connection,
        headers={
            "Message-ID": message_id(notification),
            "Content-Language": notification.language,
            # RFC 3834: tells auto-responders not to answer.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(body_html, "text/html")
    return message


def _is_permanent(error: Exception) -> bool:
    """A 5xx answer about the recipient or the message, or a secret that can't be unsealed:
    retrying can't change it."""
    if isinstance(error, sealing.Unsealable):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def _describe(error: Exception) -> str:
    """The error as the delivery log shows it, e.g. "SMTPDataError: 451 4.3.0 Try again"."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(
            f"{recipient}: {code} {_text(answer)}"
            for recipient, (code, answer) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        detail = str(error)
    return f"{type(error).__name__}: {detail}"[:ERROR_MAX_LENGTH]


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


class _SmtpSession:
    """The worker's SMTP connection, opened when a message is to be sent and kept for the next.

    Reusing it saves the connect, greeting, EHLO and QUIT of every message (on a loaded machine
    that was most of a single message's time). It is kept only for the SMTP backend, only while
    the settings that chose it stay the same, and closed after NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS
    idle. A server may close a connection after some messages or while it is idle (421, or it
    just hangs up); the message that finds it closed is sent once more over a new connection
    instead of waiting a backoff. (Had the server hung up after taking the message but before
    answering, a later retry would send it again too.)
    """

    def __init__(self) -> None:
        self.connection = None
        self.key: tuple = ()
        self.sent = 0
        self.last_used = 0.0

    def send(self, notification: Notification) -> None:
        key = _email_settings()
        idle = time.monotonic() - self.last_used
        if self.connection is not None and (key != self.key or idle > _keepalive()):
            self.close()
        if self.connection is None:
            self.connection = mail.get_connection(fail_silently=False)
            self.key = key
            self.connection.open()
        try:
            build_message(notification, self.connection).send()
        except SMTP_ERRORS as error:
            if not (self.sent and _is_closed_by_server(error)):
                raise
            self.close()
            self.send(notification)
            return
        self.sent += 1
        self.last_used = time.monotonic()

    def release(self) -> None:
        """The end of a run: keep the connection for the next only if it is worth keeping."""
        if not isinstance(self.connection, SmtpBackend) or _keepalive() <= 0:
            self.close()

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.close()
        except Exception:  # the messages are sent and recorded: a failing QUIT changes nothing
            logger.debug("Closing the SMTP connection failed.", exc_info=True)
        self.connection, self.sent = None, 0


_CONNECTION_SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_SSL_CERTFILE",
    "EMAIL_SSL_KEYFILE",
    "EMAIL_TIMEOUT",
)


def _email_settings() -> tuple:
    return tuple(getattr(settings, name, None) for name in _CONNECTION_SETTINGS)


def _keepalive() -> float:
    return float(setting("NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS"))


_local = threading.local()


def _smtp_session() -> _SmtpSession:
    """This thread's session (a prefork worker process has one thread)."""
    if not hasattr(_local, "smtp"):
        _local.smtp = _SmtpSession()
    return _local.smtp


def _is_closed_by_server(error: Exception) -> bool:
    """The server hung up (421 "closing channel", or the connection just ended)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    return isinstance(error, smtplib.SMTPServerDisconnected)


def deliver(*, notification_id: int) -> Delivery:
    """Send one queued notification, under a row lock, and record the outcome."""
    return deliver_many(notification_ids=[notification_id])[notification_id]


def deliver_many(*, notification_ids: Iterable[int]) -> dict[int, Delivery]:
    """Send queued notifications one after the other over one SMTP connection.

    Each is sent under its own row lock and marked sent in its own transaction, committed
    before the next is sent: a worker killed in the middle of a run leaves every message it
    sent recorded as sent. Skips a row that is sent, failed, not yet due or being sent by
    another worker right now. The row stays locked during the SMTP exchange (bounded by
    EMAIL_TIMEOUT); it is marked sent in the same transaction, and the connection is closed
    (if at all) only after the commit, which keeps the window between "the server accepted it"
    and "the row says sent" to one UPDATE and one COMMIT.
    """
    session = _smtp_session()
    deliveries = {}
    try:
        for notification_id in notification_ids:
            deliveries[notification_id] = _deliver_one(notification_id, session)
    finally:
        session.release()
    return deliveries


def _deliver_one(notification_id: int, session: _SmtpSession) -> Delivery:
    with transaction.atomic():
        # No .first(): its ORDER BY (the model's ordering) costs compiling, for one row by pk.
        notification = next(
            iter(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(pk=notification_id)
                .order_by()
            ),
            None,
        )
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
        _stamp(
            notification,
            reason=gettext_noop("Sent (attempt %(attempt)s)"),
            attempt=notification.attempts,
        )
        notification.save(
            update_fields=["status", "sent_at", "last_error", "attempts", "sealed_context"]
        )
        return Delivery(Outcome.SENT)


def _record_failure(notification: Notification, error: Exception, *, now) -> Delivery:
    notification.last_error = _describe(error)
    max_attempts = int(setting("NOTIFICATIONS_MAX_ATTEMPTS"))
    if _is_permanent(error) or notification.attempts >= max_attempts:
        notification.status = DeliveryStatus.FAILED
        _stamp(
            notification,
            reason=gettext_noop("Failed after %(attempts)s attempts"),
            attempts=notification.attempts,
        )
        notification.save()
        logger.warning(
            "Notification %s failed after %s attempts: %s",
            notification.pk,
            notification.attempts,
            notification.last_error,
        )
        return Delivery(Outcome.FAILED)
    delay = backoff_seconds(notification.attempts)
    notification.next_attempt_at = now + timedelta(seconds=delay)
    _stamp(
        notification,
        reason=gettext_noop("Attempt %(attempt)s failed"),
        attempt=notification.attempts,
    )
    notification.save()
    logger.info(
        "Notification %s attempt %s failed (%s); next try in %.1f s.",
        notification.pk,
        notification.attempts,
        notification.last_error,
        delay,
    )
    return Delivery(Outcome.RETRY, retry_in=delay)


# --- Sweeping and retrying --------------------------------------------------------------------


def requeue_overdue() -> int:
    """Re-enqueue queued notifications whose attempt is overdue by more than the grace period.

    Catches what a broker outage or a dead worker left behind. Returns how many were enqueued.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=float(setting("NOTIFICATIONS_SWEEP_GRACE_SECONDS")))
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=cutoff)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[: int(setting("NOTIFICATIONS_SWEEP_BATCH"))]
        )
        # Claim them for one grace period, so a backlog the workers are still working through
        # is not enqueued again by every sweep. A scheduling detail, not worth a history row
        # (update() writes none).
        Notification.objects.filter(pk__in=ids).update(next_attempt_at=now)
    enqueued = 0
    size = _batch_size()
    for start in range(0, len(ids), size):
        if not enqueue_many(ids[start : start + size], force=True):
            break  # broker down: the rest are picked up by a later sweep
        enqueued += len(ids[start : start + size])
    if ids:
        logger.info("Sweep re-enqueued %s of %s overdue notifications.", enqueued, len(ids))
    return enqueued


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
        _stamp(locked, user=user, reason=gettext_noop("Retried from the delivery log"))
        locked.save()
        transaction.on_commit(partial(enqueue, locked.pk, force=True), robust=True)
    return locked
