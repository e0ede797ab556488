"""The outbox: one row per email, stored in the same transaction as the step that causes it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from audit.history import OnceBuiltHistoryManager
from municipalities.models import Language


class Event(models.TextChoices):
    """What happened; each event has its own templates (see `notifications.events`)."""

    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    APPROVAL_REMINDER = "approval_reminder", _("Approval reminder")
    ANSWER_RECEIVED = "answer_received", _("Answer received")
    DECISION_RECORDED = "decision_recorded", _("Decision recorded")
    PROCESS_STALLED = "process_stalled", _("Process stalled")
    STALLED_DIGEST = "stalled_digest", _("Weekly digest of stalled processes")
    WORK_HANDED_OVER = "work_handed_over", _("Work handed over")
    DAILY_DIGEST = "daily_digest", _("Daily digest")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """An email in the outbox (utskick), rendered when queued in the recipient's language.

    The row holds exactly what was (or will be) sent, so the delivery log shows the truth and a
    retry sends the same words. Rows are never deleted: they are part of the record.
    """

    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    # Unique through Meta.constraints: as a unique field PostgreSQL would also get a second
    # index for LIKE queries, written on every queueing and delivery and never read.
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=255,
        help_text=_("Event, occurrence and recipient: queueing the same key twice sends once."),
    )
    topic = models.CharField(
        _("topic"),
        max_length=100,
        help_text=_('What the notification is about, e.g. "process:12"; filters the log.'),
    )
    recipient_email = models.EmailField(_("recipient email"))
    recipient_name = models.CharField(_("recipient name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.SWEDISH
    )
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("plain text body"))
    body_html = models.TextField(_("HTML body"))
    # What the bodies' placeholders stand for (a task link's URL), encrypted; erased in the
    # transaction that marks the row sent (notifications.sealing). Never in the history.
    sealed_context = models.TextField(_("sealed context"), blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The bodies never change after queueing and stay on the row itself: copying them into
    # every history version (one per attempt) would only multiply personal data.
    history = HistoricalRecords(
        excluded_fields=["body_text", "body_html", "sealed_context"],
        # A version per attempt: no index on the id alone (the (id, history_date) index of
        # migration 0002 serves it).
        no_db_index=["id"],
        # Read twice per delivery (the record written, its previous record for the event).
        history_manager=OnceBuiltHistoryManager,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        permissions = [
            ("view_delivery_log", _("Can see the delivery log of notifications")),
            ("retry_notification", _("Can retry a failed notification")),
        ]
        indexes = [
            # The sweep: queued rows whose next attempt is overdue.
            models.Index(fields=["status", "next_attempt_at"], name="notification_sweep_idx"),
            # The log, per process and overall, newest first.
            models.Index(fields=["topic", "created_at"], name="notification_topic_idx"),
            models.Index(fields=["created_at"], name="notification_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"], name="notification_idempotency_key_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="notification_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(language__in=Language.values),
                name="notification_language_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=DeliveryStatus.SENT) | models.Q(sent_at__isnull=False),
                name="notification_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.recipient_email} ({self.get_status_display()})"

    @property
    def is_retryable(self) -> bool:
        return self.status == DeliveryStatus.FAILED


class EmailPreference(models.Model):
    """How a user with an account wants to hear about their work: an email per event (the
    default), or one email a day listing them (`notifications.digest`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="email_preference",
        verbose_name=_("user"),
    )
    daily_digest = models.BooleanField(
        _("one email a day"),
        default=False,
        help_text=_("Collect the day's news in one email, sent every morning."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(history_manager=OnceBuiltHistoryManager)

    class Meta:
        verbose_name = _("email preference")
        verbose_name_plural = _("email preferences")

    def __str__(self) -> str:
        return f"{self.user}: {'daily digest' if self.daily_digest else 'each event'}"


class DigestItem(models.Model):
    """News kept for a user's next daily digest: what the email would have said, and where to
    act. Once the digest is queued, it names its outbox row (which is on the record)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("occurrence"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    digest = models.ForeignKey(
        Notification, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("digest item")
        verbose_name_plural = _("digest items")
        constraints = [
            # The same news kept twice goes out once (as the outbox's idempotency key).
            models.UniqueConstraint(fields=["recipient", "key"], name="digest_item_once"),
        ]
        indexes = [
            models.Index(
                fields=["recipient"],
                condition=models.Q(digest__isnull=True),
                name="digest_item_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return self.subject
