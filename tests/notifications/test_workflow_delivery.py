"""Workflow steps reach people's inboxes through the real Celery worker and a real SMTP server."""

import pytest
from django.urls import reverse

from municipalities.models import Municipality
from notifications.models import DeliveryStatus, Event, Notification
from tests.factories import ContactFactory, UserFactory, member_of
from tests.workflows.helpers import open_task, walk_to
from workflows import services
from workflows.seeding import seed

from .conftest import wait_until

pytestmark = [pytest.mark.xdist_group("celery")]


@pytest.fixture
def county(transactional_db):
    seed(demo=False)
    leader = UserFactory(username="pia", first_name="Pia", email="pia@region.example")
    member_of(leader, "07", "leader")
    return leader, Municipality.objects.get(code="0765")


def test_requesting_approval_puts_one_message_with_the_link_in_the_contacts_inbox(
    county, smtp_settings, celery_worker
):
    leader, almhult = county
    contact = ContactFactory(municipality=almhult, email="asa@almhult.example", language="en")
    process = services.start_process(municipality=almhult, user=leader)
    walk_to(process, leader, contact, "request_approval")
    sink = smtp_settings
    already = len(sink.received)

    (issued,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[contact]
    )

    wait_until(lambda: any(contact.email in r.rcpt_tos for r in sink.received[already:]))
    to_contact = [r for r in sink.received if contact.email in r.rcpt_tos]
    assert len(to_contact) == 1
    message = to_contact[0]
    assert message.message["Subject"].startswith("Please review the draft")
    assert "Älmhult" in message.message["Subject"]
    assert issued.url in message.text and issued.url in message.html
    # The row is marked sent in the worker's transaction, just after the server accepted it.
    wait_until(
        lambda: (
            Notification.objects.get(event=Event.APPROVAL_REQUESTED).status == DeliveryStatus.SENT
        )
    )
    assert Notification.objects.get(event=Event.APPROVAL_REQUESTED).language == "en"
    # The project leader opened each of their steps themselves: no email repeats them.
    assert not Notification.objects.filter(event=Event.TASK_ASSIGNED).exists()
    assert not [r for r in sink.received if leader.email in r.rcpt_tos]


def test_a_step_completes_promptly_with_the_broker_down(county, private_celery_app, private_redis):
    leader, almhult = county
    contact = ContactFactory(municipality=almhult, email="asa@almhult.example")
    process = services.start_process(municipality=almhult, user=leader)
    task = walk_to(process, leader, contact, "request_approval")
    private_redis.stop()
    from django.test import Client

    client = Client()
    client.force_login(leader)
    response = client.post(reverse("workflows:step", args=[task.pk]), {"approvers": [contact.pk]})
    assert response.status_code == 200  # the page with the new link
    (row,) = Notification.objects.filter(topic=f"process:{process.pk}")
    assert row.event == Event.APPROVAL_REQUESTED
    assert row.status == DeliveryStatus.QUEUED  # the sweep sends it when the broker is back
