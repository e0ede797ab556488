"""The mail worker's log as deployed (`celery worker --loglevel=INFO`): a line for a task that
failed, none for each email that went out (WORKER_TASK_LOG_LEVEL; the delivery log has those)."""

import pytest
from django.db import transaction

from notifications import tasks
from notifications.models import DeliveryStatus, Notification
from tests.notifications.conftest import wait_until
from tests.notifications.helpers import queue_approval_request

pytestmark = [pytest.mark.xdist_group("celery"), pytest.mark.django_db(transaction=True)]

TASK_LINE = f"{tasks.deliver_notifications.name}["  # Celery names a task message by its id


def test_the_worker_logs_a_failed_task_but_not_every_email_it_sends(
    celery_app, smtp_sink, worker_processes
):
    worker = worker_processes(
        broker_url=celery_app.conf.broker_url,
        queue=celery_app.conf.task_default_queue,
        smtp_port=smtp_sink.port,
    )
    for n in range(3):
        with transaction.atomic():  # one step, one email, one task message
            queue_approval_request(n)
    tasks.deliver_notifications.delay(["not an id"])  # a message no worker can carry out

    def done() -> bool:
        sent = Notification.objects.filter(status=DeliveryStatus.SENT).count()
        return sent == 3 and "raised unexpected" in worker.output()

    wait_until(done, why=worker.output)
    worker.stop()

    log = worker.output()
    assert "ready." in log  # the worker logs at INFO
    assert len(smtp_sink.received) == 3
    # The failed message's line, and no "received" or "succeeded" line for the three others.
    assert log.count(TASK_LINE) == 1
    (line,) = [line for line in log.splitlines() if TASK_LINE in line]
    assert "ERROR" in line and "raised unexpected" in line
