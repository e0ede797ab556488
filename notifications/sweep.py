"""The periodic sweep: what a broker outage or a dead worker left queued is enqueued again."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import broker  # a module, not its names: broker and tasks import each other
from .models import DeliveryStatus, Notification

logger = logging.getLogger(__name__)


def requeue_overdue() -> int:
    """Re-enqueue queued notifications whose attempt is overdue by more than the grace period.

    Returns how many were enqueued.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=float(settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS))
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.QUEUED, next_attempt_at__lte=cutoff)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[: int(settings.NOTIFICATIONS_SWEEP_BATCH)]
        )
        # Claim them for one grace period, so a backlog the workers are still working through
        # is not enqueued again by every sweep. A scheduling detail, not worth a history row
        # (update() writes none).
        Notification.objects.filter(pk__in=ids).update(next_attempt_at=now)
    enqueued = 0
    size = broker.batch_size()
    for start in range(0, len(ids), size):
        if not broker.enqueue_many(ids[start : start + size], force=True):
            break  # broker down: the rest are picked up by a later sweep
        enqueued += len(ids[start : start + size])
    if ids:
        logger.info("Sweep re-enqueued %s of %s overdue notifications.", enqueued, len(ids))
    return enqueued
