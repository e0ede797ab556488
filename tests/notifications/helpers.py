"""Builders for notification tests: what the workflow would hand to `queue_notification`."""

import datetime

from notifications.models import Event
from notifications.outbox import queue_notification

LINK_EXPIRES = datetime.date(2026, 12, 24)


def approval_context(*, municipality: str = "Växjö", link_id: str = "abc123") -> dict:
    return {
        "municipality": municipality,
        "draft_version": 2,
        "task_url": f"/link/{link_id}/",
        "link_expires": LINK_EXPIRES,
        "sender_name": "Pia Projektledare",
    }


def queue_approval_request(
    n: int = 0,
    *,
    language: str = "sv",
    email: str | None = None,
    name: str = "Vera Växjö",
    topic: str = "process:12",
):
    """An approval request to one contact, as the request_approval step would queue it."""
    return queue_notification(
        event=Event.APPROVAL_REQUESTED,
        recipient_email=email or f"contact{n}@vaxjo.example",
        recipient_name=name,
        language=language,
        context=approval_context(link_id=f"token{n}"),
        key=f"task:{n}",
        topic=topic,
    )


def deliveries(callbacks: list) -> list:
    """The on-commit callbacks that hand outbox rows to the workers (the audit trail registers
    one of its own: it forgets the chain heads its transaction held)."""
    return [c for c in callbacks if getattr(c, "__module__", None) == "notifications.outbox"]
