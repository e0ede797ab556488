"""Celery beat tasks of the workflow: approval reminders, stall alerts, the weekly digest."""

from celery import shared_task
from django.db import transaction

from . import reminders


@shared_task(name="workflows.send_approval_reminders", acks_late=True)
def send_approval_reminders() -> int:
    return reminders.send_approval_reminders()


@shared_task(name="workflows.alert_stalled", acks_late=True)
def alert_stalled() -> int:
    with transaction.atomic():
        return reminders.alert_stalled()


@shared_task(name="workflows.send_stalled_digest", acks_late=True)
def send_stalled_digest() -> int:
    with transaction.atomic():
        return reminders.send_stalled_digest()
