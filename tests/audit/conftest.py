"""The Växjö story of the foundation issue, walked with the real services and task-link pages."""

import datetime
from dataclasses import dataclass

import pytest
from django.test import Client

from notifications import delivery, outbox
from tests.workflows.helpers import decision_fields, english, open_task, walk_to
from workflows import services
from workflows.models import PolicyProcess

__all__ = ["english"]


@pytest.fixture(autouse=True)
def _in_english(english):
    """The record and the pages in English, the source language the tests assert on."""


def link_path(url: str) -> str:
    return url.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1:8000" in url else url


def answer_through_link(url: str, answer: str, comment: str = "") -> None:
    """The contact opens the emailed link, reads the draft and confirms the answer."""
    client = Client()
    assert client.get(link_path(url)).status_code == 302
    assert client.get("/l/").status_code == 200
    response = client.post("/l/", {"answer": answer, "comment": comment})
    assert response.status_code == 303, response.content.decode()[:500]


@dataclass
class Story:
    process: PolicyProcess
    leader: object
    contact: object


@pytest.fixture
def vaxjo_story(leader, vaxjo, vaxjo_contact) -> Story:
    """Start → contact → dialogue → draft v1 → approval (changes, via link) → draft v2 →
    approval (approved, via link) → decision (adopted), plus one email to the contact."""
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "request_approval")
    (first,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[vaxjo_contact]
    )
    notification = outbox.queue_notification(
        event="approval_requested",
        recipient_email=vaxjo_contact.email,
        recipient_name=vaxjo_contact.name,
        language="sv",
        context={
            "municipality": vaxjo.name,
            "draft_version": 1,
            "task_url": "/l/open/?t=example",
            "link_expires": datetime.date(2026, 12, 1),
            "sender_name": "Pia Projektledare",
        },
        key=f"link:{first.link.pk}",
        topic=f"process:{process.pk}",
    )
    delivery.deliver(notification_id=notification.pk)
    answer_through_link(first.url, "changes_requested", "Förtydliga reserverad upphandling.")
    services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section="Konkurrens v2",
        customer_section="Kund v2",
        change_note="Förtydligat",
    )
    (second,) = services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[vaxjo_contact]
    )
    answer_through_link(second.url, "approved")
    services.record_decision(task=open_task(process, "decision"), user=leader, **decision_fields())
    process.refresh_from_db()
    return Story(process=process, leader=leader, contact=vaxjo_contact)


def meeting_in_the_next_process(story: Story, *, participants: str, notes: str = ""):
    """The municipality's next process (the story's is adopted), walked to its dialogue, with a
    meeting recorded: texts that name whomever a test needs."""
    process = services.start_process(municipality=story.process.municipality, user=story.leader)
    walk_to(process, story.leader, story.contact, "dialogue")
    return services.record_meeting(
        process=process,
        user=story.leader,
        held_on=datetime.date(2026, 3, 1),
        participants=participants,
        notes=notes,
    )


@pytest.fixture
def steering_client(client, steering):
    client.force_login(steering)
    return client


@pytest.fixture
def admin_user(seeded):
    from tests.factories import UserFactory

    return UserFactory(
        username="ada", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
