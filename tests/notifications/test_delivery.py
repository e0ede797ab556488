"""Delivery through a real Celery worker, the real Redis and a real SMTP server (aiosmtpd)."""

import itertools
import threading
from collections import Counter

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.urls import reverse

from notifications import broker, delivery, rendering, sweep
from notifications.models import DeliveryStatus, Notification
from tests.factories import UserFactory
from tests.notifications.conftest import free_port, wait_until
from tests.notifications.helpers import queue_approval_request
from tests.support.locks import LOCK_WAIT_TIMEOUT

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]


def _status(notification) -> str:
    notification.refresh_from_db()
    return notification.status


def test_each_queued_notification_arrives_once_in_the_recipients_language(
    smtp_settings, celery_worker
):
    sink = smtp_settings
    with transaction.atomic():
        swedish = queue_approval_request(1, language="sv", email="vera@vaxjo.example")
        english = queue_approval_request(2, language="en", email="eric@vaxjo.example")

    wait_until(lambda: Notification.objects.filter(status=DeliveryStatus.SENT).count() == 2)

    assert len(sink.received) == 2
    by_recipient = {r.rcpt_tos[0]: r for r in sink.received}
    assert set(by_recipient) == {"vera@vaxjo.example", "eric@vaxjo.example"}

    sv = by_recipient["vera@vaxjo.example"]
    assert sv.message["Subject"] == swedish.subject
    assert "Växjö" in sv.message["Subject"]
    assert sv.message["Content-Language"] == "sv"
    # The names in the headers, the bare addresses on the envelope (rcpt_tos above).
    assert sv.message["To"] == "Vera Växjö <vera@vaxjo.example>"
    assert sv.message["From"] == settings.DEFAULT_FROM_EMAIL  # "PolicyFlow <…>"
    assert sv.message_id == rendering.message_id(swedish)
    assert "24 december 2026" in sv.text
    assert "http://127.0.0.1:8000/link/token1/" in sv.text
    assert 'lang="sv"' in sv.html
    assert 'href="http://127.0.0.1:8000/link/token1/"' in sv.html

    en = by_recipient["eric@vaxjo.example"]
    assert en.message["Subject"] == "Please review the draft ASF policy for Växjö"
    assert en.message["Content-Language"] == "en"
    assert en.message_id == rendering.message_id(english)
    assert "http://127.0.0.1:8000/link/token2/" in en.text
    assert 'lang="en"' in en.html

    swedish.refresh_from_db()
    assert swedish.attempts == 1
    assert swedish.sent_at is not None


def test_queueing_the_same_notification_twice_sends_one_email(smtp_settings, celery_worker):
    sink = smtp_settings
    with transaction.atomic():
        first = queue_approval_request(5)
    with transaction.atomic():
        again = queue_approval_request(5)
    wait_until(lambda: _status(first) == DeliveryStatus.SENT)

    # Duplicate task messages, as the sweep or a redelivery would send, change nothing. The
    # worker takes messages in order: once the next notification is sent, they were handled.
    broker.enqueue(first.pk)
    broker.enqueue(first.pk)
    with transaction.atomic():
        sentinel = queue_approval_request(55)
    wait_until(lambda: _status(sentinel) == DeliveryStatus.SENT)

    assert again.pk == first.pk
    assert [r.rcpt_tos for r in sink.received] == [
        ["contact5@vaxjo.example"],
        ["contact55@vaxjo.example"],
    ]


def test_smtp_4xx_is_retried_with_backoff_then_failed_shown_in_the_log_and_retry_delivers(
    smtp_settings, fast_retries, celery_worker, client
):
    sink = smtp_settings
    sink.answer = "451 4.3.0 Mailbox busy, try again later"
    with transaction.atomic():
        notification = queue_approval_request(9)

    wait_until(lambda: _status(notification) == DeliveryStatus.FAILED)

    assert len(sink.data_attempts) == 3  # NOTIFICATIONS_MAX_ATTEMPTS
    assert sink.received == []
    gaps = [b - a for a, b in itertools.pairwise(sink.data_attempts)]
    assert gaps[0] >= 0.3 * 0.9  # NOTIFICATIONS_BACKOFF_SECONDS
    assert gaps[1] >= 0.6 * 0.9  # doubled
    assert notification.attempts == 3
    assert "451" in notification.last_error

    leader = UserFactory()
    leader.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications",
            codename__in=["view_delivery_log", "retry_notification"],
        )
    )
    client.force_login(leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language switch's choice
    page = client.get(reverse("notifications:log"), {"status": "failed"})
    html = page.content.decode()
    assert f'id="notification-{notification.pk}"' in html
    assert "451 4.3.0 Mailbox busy" in html
    assert "after 3 tries" in html
    retry_url = reverse("notifications:retry", args=[notification.pk])
    assert f'action="{retry_url}"' in html

    sink.answer = None
    response = client.post(retry_url)

    assert response.status_code == 302
    wait_until(lambda: _status(notification) == DeliveryStatus.SENT)
    assert len(sink.received) == 1
    assert sink.received[0].message_id == rendering.message_id(notification)
    assert notification.attempts == 1
    assert list(
        notification.history.order_by("history_date").values_list(
            "history_change_reason", flat=True
        )
    ) == [
        # In the site's language, as the record writes its own words.
        "I kö",
        "Försök 1 misslyckades",
        "Försök 2 misslyckades",
        "Misslyckades efter 3 försök",
        "Skickas igen från leveransloggen",
        "Skickat (försök 1)",
    ]


def test_smtp_server_refusing_connections_ends_in_failed_with_the_error(
    settings, fast_retries, celery_worker
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    with transaction.atomic():
        notification = queue_approval_request(4)

    wait_until(lambda: _status(notification) == DeliveryStatus.FAILED)

    assert notification.attempts == 3
    assert "ConnectionRefusedError" in notification.last_error


def test_a_permanent_refusal_fails_at_once_without_retrying(smtp_settings, fast_retries):
    sink = smtp_settings
    sink.answer = "550 5.1.1 No such mailbox"
    with transaction.atomic():
        notification = queue_approval_request(6)

    result = delivery.deliver(notification_id=notification.pk)

    assert result.outcome is delivery.Outcome.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (DeliveryStatus.FAILED, 1)
    assert "550" in notification.last_error


def test_a_notification_is_sent_once_however_many_messages_ask_for_it(smtp_settings):
    sink = smtp_settings
    with transaction.atomic():
        notification = queue_approval_request(8)

    outcomes = Counter(delivery.deliver(notification_id=notification.pk).outcome for _ in range(3))

    assert outcomes == {delivery.Outcome.SENT: 1, delivery.Outcome.SKIPPED: 2}
    assert len(sink.received) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="statements are prepared on PostgreSQL only"
)
def test_a_worker_keeps_sending_after_a_migration_adds_a_column_to_the_outbox(smtp_settings):
    """The worker's connection keeps its prepared statements across deliveries (the row's lock
    reads `SELECT *`); a migration that adds a column to the outbox while it runs must not stop
    its next email: PostgreSQL plans the statement again."""
    sink = smtp_settings
    with transaction.atomic():
        first = queue_approval_request(10)
    for _ in range(6):  # the row's lock is prepared after five runs on a connection
        delivery.deliver(notification_id=first.pk)
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        # The worker's lock is a prepared statement now: what the migration must not break.
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'%"{table}"%FOR UPDATE SKIP LOCKED'],
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN added_by_a_migration integer")
    try:
        with transaction.atomic():
            second = queue_approval_request(11)

        assert delivery.deliver(notification_id=second.pk).outcome is delivery.Outcome.SENT
        assert len(sink.received) == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} DROP COLUMN added_by_a_migration")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's lock is its write lock, taken at BEGIN"
)
def test_a_notification_another_worker_is_sending_is_skipped_not_waited_for(smtp_settings):
    sink = smtp_settings
    with transaction.atomic():
        notification = queue_approval_request(9)
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            Notification.objects.select_for_update().get(pk=notification.pk)
            holding.set()
            release.wait(timeout=LOCK_WAIT_TIMEOUT)
        connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert holding.wait(timeout=LOCK_WAIT_TIMEOUT)
        # Waiting for the lock would end only once the holder gave up, and then send.
        assert delivery.deliver(notification_id=notification.pk).outcome is (
            delivery.Outcome.SKIPPED
        )
        assert sink.received == []
    finally:
        release.set()
        holder.join(timeout=LOCK_WAIT_TIMEOUT)
    assert delivery.deliver(notification_id=notification.pk).outcome is delivery.Outcome.SENT
    assert len(sink.received) == 1


def test_sweep_re_enqueues_only_overdue_queued_notifications(
    smtp_settings, settings, celery_worker
):
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 3600
    sink = smtp_settings
    broker.broker_pause.pause()  # as if the broker had just failed: nothing enqueued
    with transaction.atomic():
        notification = queue_approval_request(10)

    assert sweep.requeue_overdue() == 0  # not overdue yet

    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
    assert sweep.requeue_overdue() == 1
    wait_until(lambda: _status(notification) == DeliveryStatus.SENT)
    assert len(sink.received) == 1


def test_local_development_prints_the_email_on_the_console(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    with transaction.atomic():
        notification = queue_approval_request(11, language="en")

    result = delivery.deliver(notification_id=notification.pk)

    assert result.outcome is delivery.Outcome.SENT
    printed = capsys.readouterr().out
    assert rendering.message_id(notification) in printed
    assert "http://127.0.0.1:8000/link/token11/" in printed
