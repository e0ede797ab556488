"""Every read the delivery log needs, in a number of queries that does not grow with the rows."""

from django.db.models import Count, Q, QuerySet, Window

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


# What a process page's table shows of each: created, to, subject, status (a failure's error).
LATEST_FIELDS = ("created_at", "recipient_name", "subject", "status", "last_error")


def latest_with_counts(*, topic: str, limit: int = 10) -> tuple[list[Notification], dict[str, int]]:
    """The ``limit`` newest notifications of ``topic`` (as `delivery_log`) and how many of the
    topic's are queued, sent and failed (as `status_counts`), in one query: the counts are
    window aggregates over every row of the topic, computed before the LIMIT."""
    counted = {
        f"count_{status}": Window(Count("id", filter=Q(status=status)))
        for status in DeliveryStatus.values
    }
    rows = list(delivery_log(topic=topic).only(*LATEST_FIELDS).annotate(**counted)[:limit])
    counts = {
        status: getattr(rows[0], f"count_{status}") if rows else 0
        for status in DeliveryStatus.values
    }
    return rows, counts
