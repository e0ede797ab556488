"""A task link travels sealed through the outbox: it survives an SMTP failure and a killed
worker until the email is sent, then the transaction that records the sending erases it."""

import secrets
import time

import pytest
from django.db import connection, transaction

from notifications import services
from notifications.models import DeliveryStatus, Event, Notification
from notifications.services import queue_notification
from tests.notifications.helpers import approval_context

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]


def queue_with_sealed_link(n: int) -> tuple[Notification, str]:
    url = f"http://127.0.0.1:8000/l/open/?t={secrets.token_urlsafe(32)}"
    context = approval_context()
    del context["task_url"]
    notification = queue_notification(
        event=Event.APPROVAL_REQUESTED,
        recipient_email=f"contact{n}@vaxjo.example",
        recipient_name="Vera Växjö",
        language="sv",
        context=context,
        sealed_context={"task_url": url},
        key=f"task:{n}",
        topic="process:12",
    )
    return notification, url


def rows_holding(text: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM notifications_notification "
            "WHERE body_text LIKE %s OR body_html LIKE %s OR sealed_context LIKE %s",
            [f"%{text}%"] * 3,
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_while_sending_leaves_the_link_sealed_and_the_next_worker_sends_it(
    settings, smtp_sink, private_redis, private_celery_app, worker_processes
):
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 1
    smtp_sink.hold_at = 2  # the 2nd email is in DATA, not yet accepted, when the worker dies
    worker = dict(
        broker_url=private_redis.url,
        queue=private_celery_app.conf.task_default_queue,
        smtp_port=smtp_sink.port,
    )
    first = worker_processes(**worker)
    queued = []
    for n in range(3):
        with transaction.atomic():
            queued.append(queue_with_sealed_link(n))
    assert smtp_sink.holding.wait(60), first.output()
    first.kill()

    killed = Notification.objects.get(pk=queued[1][0].pk)
    assert killed.status == DeliveryStatus.QUEUED and killed.sealed_context

    worker_processes(**worker)
    deadline = time.monotonic() + 60
    while (
        Notification.objects.filter(status=DeliveryStatus.SENT).count() < 3
        and time.monotonic() < deadline
    ):
        services.requeue_overdue()
        time.sleep(0.5)

    for notification, url in queued:
        (received,) = smtp_sink.to(notification.recipient_email)
        assert url in received.text and url in received.html
        notification.refresh_from_db()
        assert notification.status == DeliveryStatus.SENT and notification.sealed_context == ""
        assert rows_holding(url.split("?t=")[1]) == 0
