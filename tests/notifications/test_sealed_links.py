"""A task link travels sealed through the outbox: it survives an SMTP failure and a killed
worker until the email is sent, then the transaction that records the sending erases it."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.urls import reverse

from notifications import delivery, sealing, sweep
from notifications.models import DeliveryStatus, Event, Notification
from notifications.outbox import queue_notification
from tests.factories import UserFactory
from tests.notifications.helpers import approval_context
from tests.support.workers import wait_until

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

    def all_sent() -> bool:
        sweep.requeue_overdue()  # the killed worker's message, once overdue
        return Notification.objects.filter(status=DeliveryStatus.SENT).count() == 3

    wait_until(all_sent, interval=0.5)

    for notification, url in queued:
        (received,) = smtp_sink.to(notification.recipient_email)
        assert url in received.text and url in received.html
        notification.refresh_from_db()
        assert notification.status == DeliveryStatus.SENT and notification.sealed_context == ""
        assert rows_holding(url.split("?t=")[1]) == 0


OLD_KEY, NEW_KEY = "old-key-" + "a" * 50, "new-key-" + "b" * 50


def delivery_log(client, status: str) -> str:
    reader = UserFactory()
    reader.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notifications", codename="view_delivery_log"
        )
    )
    client.force_login(reader)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client.get(reverse("notifications:log"), {"status": status}).content.decode()


def test_secret_key_fallbacks_is_read_from_the_environment_and_opens_an_older_seal(settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    sealed = sealing.seal({"⟦x⟧": "https://example.se/l/open/?t=abc"})
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "policyflow.settings.base",
        "SECRET_KEY": NEW_KEY,
        "SECRET_KEY_FALLBACKS": f"{OLD_KEY},another-retired-key",
    }
    script = (
        "import django, json, sys; django.setup(); from notifications import sealing; "
        "print(json.dumps(sealing.unseal(sys.argv[1])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, sealed],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"⟦x⟧": "https://example.se/l/open/?t=abc"}


def test_after_a_key_rotation_with_the_old_key_as_fallback_the_email_holds_the_working_link(
    settings, smtp_settings
):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    with transaction.atomic():
        notification, url = queue_with_sealed_link(21)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    result = delivery.deliver(notification_id=notification.pk)

    assert result.outcome is delivery.Outcome.SENT
    (received,) = smtp_settings.to(notification.recipient_email)
    assert url in received.text and url in received.html
    assert "sealed:" not in received.text


def test_a_link_sealed_under_a_key_dropped_without_fallback_fails_the_email_with_the_reason(
    settings, smtp_settings, client
):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    with transaction.atomic():
        notification, _url = queue_with_sealed_link(22)

    settings.SECRET_KEY = NEW_KEY  # rotated without keeping the old key
    result = delivery.deliver(notification_id=notification.pk)

    assert result.outcome is delivery.Outcome.FAILED
    assert smtp_settings.received == []  # no email with a placeholder instead of the link
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (DeliveryStatus.FAILED, 1)
    log = delivery_log(client, "failed")
    assert f'id="notification-{notification.pk}"' in log
    assert "SECRET_KEY_FALLBACKS" in log and "the email was not sent" in log
