"""What a delivery writes: the row marked sent, its history record and its audit event, in a
bounded number of statements, and the event telling what the delivery changed."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent, Kind
from notifications import delivery
from notifications.models import DeliveryStatus, Notification
from tests.notifications.helpers import queue_approval_request

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]


def _events(notification: Notification):
    return AuditEvent.objects.filter(
        model_label="notifications.notification", object_id=str(notification.pk)
    ).order_by("id")


def test_a_delivery_writes_its_row_history_and_event_in_ten_statements(smtp_settings):
    with transaction.atomic():
        first = queue_approval_request(1)
        second = queue_approval_request(2)
    delivery.deliver(notification_id=first.pk)  # the worker's first: its connection opened

    with CaptureQueriesContext(connection) as queries:
        result = delivery.deliver(notification_id=second.pk)

    assert result.outcome is delivery.Outcome.SENT
    # BEGIN, the row locked, marked sent, its history record, its previous record (the event's
    # change), the process's place on the record (its topic names a process), the chain's head
    # locked, the event, the head moved, COMMIT.
    assert len(queries) <= 10


def test_the_sent_event_lists_what_the_delivery_changed(smtp_settings):
    with transaction.atomic():
        notification = queue_approval_request(3)

    delivery.deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    event = _events(notification).last()
    assert event.kind == Kind.NOTIFICATION_SENT
    assert event.changes["status"] == [DeliveryStatus.QUEUED, DeliveryStatus.SENT]
    assert event.changes["attempts"] == [0, 1]
    assert event.changes["sent_at"][0] is None
    assert set(event.changes) == {"status", "attempts", "sent_at"}
    # The same change simple-history's own diff of the two history records tells.
    record = Notification.history.filter(id=notification.pk).order_by("-history_date").first()
    delta = record.diff_against(record.prev_record)
    assert {change.field for change in delta.changes} == set(event.changes)


def test_a_failed_attempt_and_the_sending_after_it_are_each_on_the_record(
    smtp_settings, fast_retries
):
    sink = smtp_settings
    sink.answer = "451 4.3.0 Try again later"
    with transaction.atomic():
        notification = queue_approval_request(4)

    assert delivery.deliver(notification_id=notification.pk).outcome is delivery.Outcome.RETRY
    sink.answer = None
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=Notification.objects.get(pk=notification.pk).created_at
    )
    assert delivery.deliver(notification_id=notification.pk).outcome is delivery.Outcome.SENT

    queued, retrying, sent = _events(notification)
    assert (queued.kind, retrying.kind, sent.kind) == (
        Kind.NOTIFICATION_QUEUED,
        Kind.NOTIFICATION_RETRYING,
        Kind.NOTIFICATION_SENT,
    )
    assert retrying.changes["attempts"] == [0, 1]
    assert "next_attempt_at" in retrying.changes
    assert "451" in retrying.changes["last_error"][1]
    assert sent.changes["attempts"] == [1, 2]
    assert sent.changes["last_error"][1] == ""
