"""While a draft waits for the municipality, the pages say who it waits for."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory
from workflows import services

from .helpers import current_task, english, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def waiting(leader, vaxjo, vaxjo_contact):
    """Växjö's draft sent to two contact persons (the pages list them by name)."""
    other = ContactFactory(municipality=vaxjo, name="Olle Ordförande")
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    services.request_approval(task=task, user=leader, approvers=[vaxjo_contact, other])
    return process


def test_process_page_names_the_contacts_the_draft_waits_for(leader_client, waiting):
    page = leader_client.get(reverse("workflows:process", args=[waiting.pk])).content.decode()

    assert "Waiting for approval by Olle Ordförande, Vera Växjö." in page


def test_inbox_names_the_contacts_each_draft_waits_for(leader_client, waiting):
    page = leader_client.get(reverse("workflows:inbox")).content.decode()

    assert "waiting for approval by Olle Ordförande, Vera Växjö" in " ".join(page.split())


def test_steering_group_sees_who_the_draft_waits_for(client, steering, waiting):
    client.force_login(steering)

    inbox = client.get(reverse("workflows:inbox")).content.decode()
    process = client.get(reverse("workflows:process", args=[waiting.pk])).content.decode()

    assert "Vera Växjö" in inbox and "Olle Ordförande" in inbox
    assert "Waiting for approval by Olle Ordförande, Vera Växjö." in process


def test_once_answered_the_draft_no_longer_waits(leader_client, waiting, vaxjo_contact):
    services.answer_approval(task=current_task(waiting), contact=vaxjo_contact, answer="approved")

    inbox = leader_client.get(reverse("workflows:inbox")).content.decode()
    process = leader_client.get(reverse("workflows:process", args=[waiting.pk])).content.decode()

    assert "No drafts are waiting for an answer." in inbox
    assert "Waiting for approval by" not in process
