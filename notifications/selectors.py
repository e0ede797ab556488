"""Every read the delivery log needs, in a number of queries that does not grow with the rows."""

from django.db.models import Count, Q, QuerySet

from .models import DeliveryStatus, Notification

LOG_FIELDS = (
    "id",
    "event",
    "topic",
    "recipient_email",
    "recipient_name",
    "language",
    "subject",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
    "sent_at",
)


def delivery_log(
    *, status: str | None = None, topic: str | None = None, scope: Q | None = None
) -> QuerySet:
    """Notifications newest first, optionally of one status and one topic (e.g. "process:12").

    The bodies are left out: the log shows what happened, not the letters themselves.
    """
    qs = Notification.objects.only(*LOG_FIELDS).order_by("-created_at", "-id")
    if scope is not None:
        qs = qs.filter(scope)
    if status:
        qs = qs.filter(status=status)
    if topic:
        qs = qs.filter(topic=topic)
    return qs


def status_counts(*, topic: str | None = None, scope: Q | None = None) -> dict[str, int]:
    """How many notifications are queued, sent and failed (for one topic, or overall)."""
    qs = Notification.objects.all() if scope is None else Notification.objects.filter(scope)
    if topic:
        qs = qs.filter(topic=topic)
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    return {status: counts.get(status, 0) for status in DeliveryStatus.values}
