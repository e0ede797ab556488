"""Notifications queued together go out together: one task message per transaction, one SMTP
connection per run of messages, and still each row sent, recorded and committed on its own."""

import pytest
from celery.signals import before_task_publish
from django.db import transaction

from notifications import delivery, rendering
from notifications.models import DeliveryStatus, Notification
from tests.notifications.conftest import wait_until
from tests.notifications.helpers import queue_approval_request
from tests.support.smtp import SmtpSink

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]


class RefusingSink(SmtpSink):
    """Answers "try again later" to one recipient and accepts everyone else."""

    busy_address = "busy@vaxjo.example"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.busy_address:
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class OneMessagePerConnectionSink(SmtpSink):
    """Closes the connection (421) when a client sends a second message over it, as servers
    that limit the messages per connection do."""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if getattr(session, "has_sent", False):
            return "421 4.7.0 One message per connection, closing"
        session.has_sent = True
        envelope.mail_from = address
        return "250 OK"


def _use(settings, sink_class, smtp_sink_factory):
    sink = smtp_sink_factory(sink_class)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return sink


@pytest.fixture
def smtp_sink_factory():
    from aiosmtpd.controller import Controller

    from tests.support import free_port

    controllers = []

    def start(sink_class):
        sink = sink_class(port=free_port())
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()


def test_a_busy_recipient_waits_for_a_retry_without_holding_back_the_others(
    settings, smtp_sink_factory
):
    sink = _use(settings, RefusingSink, smtp_sink_factory)
    with transaction.atomic():
        first = queue_approval_request(1, email="vera@vaxjo.example")
        busy = queue_approval_request(2, email=RefusingSink.busy_address)
        last = queue_approval_request(3, email="eric@vaxjo.example")

    deliveries = delivery.deliver_many(notification_ids=[first.pk, busy.pk, last.pk])

    assert [d.outcome for d in deliveries.values()] == [
        delivery.Outcome.SENT,
        delivery.Outcome.RETRY,
        delivery.Outcome.SENT,
    ]
    assert sorted(r.rcpt_tos[0] for r in sink.received) == [
        "eric@vaxjo.example",
        "vera@vaxjo.example",
    ]
    busy.refresh_from_db()
    assert (busy.status, busy.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "451 4.2.1 Mailbox busy" in busy.last_error


def test_a_server_that_takes_one_message_per_connection_gets_every_message_at_once(
    settings, smtp_sink_factory
):
    sink = _use(settings, OneMessagePerConnectionSink, smtp_sink_factory)
    with transaction.atomic():
        notifications = [queue_approval_request(n) for n in range(3)]

    deliveries = delivery.deliver_many(notification_ids=[n.pk for n in notifications])

    assert {d.outcome for d in deliveries.values()} == {delivery.Outcome.SENT}
    assert len(sink.received) == 3
    assert set(Notification.objects.values_list("status", "attempts", "last_error").distinct()) == {
        (DeliveryStatus.SENT, 1, "")
    }


def test_a_rolled_back_part_of_a_step_sends_nothing_and_the_rest_of_the_step_arrives_once(
    smtp_settings, celery_worker
):
    sink = smtp_settings
    with transaction.atomic():
        kept = queue_approval_request(1)
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_approval_request(2)
            raise RuntimeError("the step changed its mind")
        also_kept = queue_approval_request(3)

    wait_until(lambda: Notification.objects.filter(status=DeliveryStatus.SENT).count() == 2)
    assert Notification.objects.count() == 2
    assert sorted(r.message_id for r in sink.received) == sorted(
        rendering.message_id(n) for n in (kept, also_kept)
    )


@pytest.mark.django_db(transaction=False)
def test_the_notifications_of_one_step_are_handed_to_the_workers_in_one_message(
    django_capture_on_commit_callbacks,
):
    published = []

    def count(sender, headers, body, **kwargs):
        if sender == "notifications.deliver_notifications":
            published.append(body[0][0])  # the task's first argument: the ids

    before_task_publish.connect(count)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            notifications = [queue_approval_request(n) for n in range(5)]
    finally:
        before_task_publish.disconnect(count)

    ids = {n.pk for n in notifications}
    (message,) = [message for message in published if ids & set(message)]
    assert ids <= set(message)
