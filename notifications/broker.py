"""Handing notification ids to the workers: one task message, never an exception, and a pause
after a failed publish so that a dead broker costs a step its wait at most once in a while."""

import logging
import time

from django.conf import settings

# A module, not its names: tasks calls back into this module and notifications.sweep.
from . import tasks

logger = logging.getLogger(__name__)


class BrokerPause:
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
        self.until = time.monotonic() + float(settings.NOTIFICATIONS_BROKER_PAUSE_SECONDS)

    def resume(self) -> None:
        self.until = 0.0


broker_pause = BrokerPause()


def batch_size() -> int:
    """The most ids one task message carries (NOTIFICATIONS_DELIVERY_BATCH)."""
    return max(1, int(settings.NOTIFICATIONS_DELIVERY_BATCH))


def enqueue(notification_id: int, *, force: bool = False) -> bool:
    """Ask a worker to deliver the notification; False (logged, never raised) if the broker
    can't be reached. ``force`` tries even during the pause after a failure."""
    return enqueue_many([notification_id], force=force)


def enqueue_many(
    notification_ids: list[int], *, force: bool = False, countdown: float | None = None
) -> bool:
    """Ask a worker to deliver the notifications (one task message), after ``countdown``
    seconds if given; False (logged, never raised) if the broker can't be reached."""
    if not notification_ids:
        return True
    if not force and broker_pause.is_paused():
        logger.info(
            "Broker paused after a failure: notifications %s wait for the sweep.",
            notification_ids,
        )
        return False
    try:
        tasks.deliver_notifications.apply_async(args=[list(notification_ids)], countdown=countdown)
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
