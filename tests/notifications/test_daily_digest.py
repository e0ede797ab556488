"""A user who chooses one email a day gets the day's news in one digest instead of an email per
event; the contacts' task links still go out at once."""

import pytest
from django.urls import reverse

from notifications import digest
from notifications.models import Event, Notification
from tests.workflows.helpers import open_task, walk_to_approval
from workflows import services

pytestmark = pytest.mark.django_db


def outbox(event=None):
    rows = Notification.objects.order_by("pk")
    return list(rows.filter(event=event) if event else rows)


def test_a_leader_who_chose_the_digest_gets_the_days_news_in_one_email(
    leader, vaxjo, vaxjo_contact
):
    digest.set_preference(user=leader, daily_digest=True)
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to_approval(process, leader, vaxjo_contact)
    services.answer_approval(
        task=task, contact=vaxjo_contact, answer="changes_requested", comment="Mer om IOP"
    )

    # The contact's link went out at once; nothing went to the leader yet.
    assert [m.event for m in outbox()] == [Event.APPROVAL_REQUESTED]

    assert digest.send_daily_digests() == 1
    (message,) = outbox(Event.DAILY_DIGEST)
    assert message.recipient_email == leader.email
    assert message.subject.endswith("2 nya saker för dig")
    assert "Växjö vill ha ändringar i utkast version 1" in message.body_text
    assert "Ny uppgift i PolicyFlow: Skriv utkastet – Växjö" in message.body_text
    step = reverse("workflows:step", args=[open_task(process, "draft").pk])
    assert step in message.body_text and step in message.body_html
    # What a digest listed is not listed again.
    assert digest.send_daily_digests() == 0
    assert len(outbox(Event.DAILY_DIGEST)) == 1


def test_the_preferences_page_saves_the_choice_in_swedish(leader_client, leader):
    url = reverse("notifications:preferences")
    page = leader_client.get(url).content.decode()
    assert "Hur vill du få veta om ditt arbete?" in page

    response = leader_client.post(url, {"how": "daily"}, follow=True)

    assert "Ditt val har sparats." in response.content.decode()
    assert digest.wants_digest(leader)
    assert leader_client.post(url, {"how": "weekly"}).status_code == 400
    assert digest.wants_digest(leader)
