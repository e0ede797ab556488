"""Celery tasks: deliver notifications, and sweep the outbox for what was left behind.

At-least-once delivery of the task message (acks_late, reject_on_worker_lost) plus the row lock
in `delivery.deliver_many` make each email go out once. A message carries the ids one
transaction queued; each row is sent and committed on its own, so a message redelivered after a
crash skips the rows already sent. The attempt count lives on the row, not in the message, so a
message re-enqueued by the sweep continues the count instead of restarting it; that is why
retries are scheduled here by hand (a message per row to retry) rather than with autoretry_for.
"""

from collections import Counter

from celery import shared_task

from . import broker, delivery, sweep


@shared_task(
    name="notifications.deliver_notifications",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Send the notifications one transaction queued (or one sweep found), one by one."""
    deliveries = delivery.deliver_many(notification_ids=notification_ids)
    for notification_id, result in deliveries.items():
        if result.outcome is delivery.Outcome.RETRY:
            # The row already holds the next attempt's time; if this publish fails, the sweep
            # re-enqueues it. The countdown is capped well below the broker's visibility timeout.
            broker.enqueue_many([notification_id], force=True, countdown=result.retry_in)
    return dict(Counter(result.outcome.value for result in deliveries.values()))


@shared_task(
    name="notifications.deliver_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_notification(notification_id: int) -> dict[str, int]:
    """One notification: messages published before deliveries were batched."""
    return deliver_notifications([notification_id])


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Run by Celery beat: re-enqueue queued notifications that are overdue."""
    return sweep.requeue_overdue()


@shared_task(name="notifications.send_daily_digests", ignore_result=True)
def send_daily_digests() -> int:
    """Every morning: one email per user who chose a daily digest and has news."""
    from . import digest

    return digest.send_daily_digests()
