"""Celery tasks: deliver one notification, and sweep the outbox for what was left behind.

At-least-once delivery of the task message (acks_late, reject_on_worker_lost) plus the row lock
in `services.deliver` make each email go out once. The attempt count lives on the row, not in
the message, so a message re-enqueued by the sweep continues the count instead of restarting it;
that is why retries are scheduled here by hand rather than with Celery's autoretry_for.
"""

from celery import shared_task

from . import services


@shared_task(
    bind=True,
    name="notifications.deliver_notification",
    acks_late=True,
    reject_on_worker_lost=True,
    # The row's attempts and NOTIFICATIONS_MAX_ATTEMPTS decide when to give up.
    max_retries=None,
    ignore_result=True,
)
def deliver_notification(self, notification_id: int) -> str:
    delivery = services.deliver(notification_id=notification_id)
    if delivery.outcome is services.Outcome.RETRY:
        # The row already holds the next attempt's time; if this publish fails, the sweep
        # re-enqueues it. The countdown is capped well below the broker's visibility timeout.
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value


@shared_task(name="notifications.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """Run by Celery beat: re-enqueue queued notifications that are overdue."""
    return services.requeue_overdue()
