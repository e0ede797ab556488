"""Fault tests: the broker stopped while notifications are queued, and a worker SIGKILLed while
it sends. Counts in every assertion: nothing lost, nothing sent twice."""

import logging
import time
from collections import Counter

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection, transaction

from notifications import rendering, sweep, tasks
from notifications.models import DeliveryStatus, Notification
from tests.notifications.conftest import wait_until
from tests.notifications.helpers import queue_approval_request

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]


def _sent() -> int:
    return Notification.objects.filter(status=DeliveryStatus.SENT).count()


def test_redis_down_queueing_commits_every_row_promptly_and_the_sweep_delivers_all_once_back(
    settings, smtp_settings, private_redis, private_celery_app, monkeypatch, record_property, caplog
):
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
    # The pause outlasts the loop however slow the machine: one failed publish, then none.
    settings.NOTIFICATIONS_BROKER_PAUSE_SECONDS = 3600
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
    caplog.set_level(logging.INFO, logger="notifications")
    sink = smtp_settings
    private_redis.stop()

    started = time.monotonic()
    for n in range(100):
        with transaction.atomic():  # one committed step per notification
            queue_approval_request(n)
    elapsed = time.monotonic() - started
    record_property("seconds_to_queue_100_with_redis_down", round(elapsed, 2))

    assert Notification.objects.filter(status=DeliveryStatus.QUEUED).count() == 100
    # The broker was tried once, failed, and was then left alone: the other 99 steps did not
    # wait on it (the sweep catches up). Counted, not timed: the time is only recorded.
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Could not enqueue" in m for m in messages) == 1
    assert sum("Broker paused after a failure" in m for m in messages) == 99
    assert sink.received == []

    private_redis.start()
    with start_worker(
        private_celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30
    ):
        tasks.sweep_outbox.delay()  # what Celery beat sends every minute
        wait_until(lambda: _sent() == 100, timeout=300)

    assert _sent() == 100
    assert len(sink.received) == 100
    per_message = Counter(r.message_id for r in sink.received)
    assert len(per_message) == 100 and max(per_message.values()) == 1  # 0 duplicates
    assert set(per_message) == {rendering.message_id(n) for n in Notification.objects.all()}


def test_worker_killed_mid_batch_delivers_every_message_exactly_once(
    settings, smtp_sink, private_redis, private_celery_app, worker_processes, record_property
):
    batch, killed_at = 30, 10
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 1
    smtp_sink.hold_at = killed_at  # the 10th message is in DATA, not yet accepted, when killed
    worker = dict(
        broker_url=private_redis.url,
        queue=private_celery_app.conf.task_default_queue,
        smtp_port=smtp_sink.port,
    )

    first = worker_processes(**worker)
    for n in range(batch):
        with transaction.atomic():
            queue_approval_request(n)
    assert smtp_sink.holding.wait(300), first.output()
    first.kill()

    delivered_before_kill = len(smtp_sink.received)
    assert delivered_before_kill == killed_at - 1
    assert _sent() == killed_at - 1

    # A new worker (prefork, two processes) takes the rest of the queue; the message the killed
    # worker held is unacknowledged in Redis, so the sweep (run here as beat would) re-enqueues
    # every row still queued: duplicates of the task message, which the row lock makes harmless.
    worker_processes(**worker, pool="prefork", concurrency=2)
    sweeps = 0

    def all_sent_after_a_sweep() -> bool:
        nonlocal sweeps
        if _sent() == batch:
            return True
        sweeps += bool(sweep.requeue_overdue())  # what beat does every minute
        return False

    wait_until(all_sent_after_a_sweep, timeout=300, interval=0.5, why=first.output)
    record_property("sweeps_that_re_enqueued", sweeps)

    assert _sent() == batch
    per_message = Counter(r.message_id for r in smtp_sink.received)
    assert len(smtp_sink.received) == batch
    assert set(per_message) == {rendering.message_id(n) for n in Notification.objects.all()}
    assert max(per_message.values()) == 1  # each delivered exactly once


def _worker_backends() -> set[int]:
    """The PostgreSQL sessions on the test database other than the test's own: the worker's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_the_worker_keeps_its_database_connection_and_one_the_server_dropped_loses_no_email(
    smtp_settings, celery_worker, monkeypatch
):
    # As in production: connections kept for a minute and checked before use.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    sink = smtp_settings

    def deliver(n: int) -> None:  # one step, one email, one task message
        with transaction.atomic():
            queue_approval_request(n)
        wait_until(lambda: _sent() == n, timeout=120)

    deliver(1)
    first = _worker_backends()
    deliver(2)
    assert _worker_backends() == first and len(first) == 1  # the same connection, not a new one

    with connection.cursor() as cursor:  # the server ends it (a restart, a failover)
        cursor.execute("SELECT pg_terminate_backend(%s)", [next(iter(first))])
    deliver(3)
    deliver(4)

    assert _worker_backends() not in ({*first}, set())
    assert len(sink.received) == 4
    assert len({r.message_id for r in sink.received}) == 4  # each once
