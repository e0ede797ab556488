"""Small things a project leader reads: a contact named once with their municipality, the form
for a new task link, and the page after going back to a step already completed."""

import pytest
from django.urls import reverse

from municipalities.models import Contact, Municipality
from tests.factories import ContactFactory, UserFactory, member_of
from workflows import services
from workflows.models import TaskLink
from workflows.seeding import seed

from .helpers import open_task, snapshot, valid_step_data, walk_to

pytestmark = pytest.mark.django_db


def test_a_demo_contact_is_named_with_their_municipality_once(leader_client, leader):
    seed(demo=True)
    almhult = Municipality.objects.get(code="0765")
    process = services.start_process(municipality=almhult, user=leader)

    page = leader_client.get(
        reverse("workflows:step", args=[open_task(process, "contact").pk])
    ).content.decode()

    assert "Kim Kontakt (Älmhult)" in page
    assert "(Älmhult) (Älmhult)" not in page
    assert str(Contact.objects.get(municipality=almhult)) == "Kim Kontakt (Älmhult)"


# --- Send a new link ---------------------------------------------------------------------------


@pytest.fixture
def awaiting(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")
    return process


def issue_select(page: str) -> str:
    start = page.index('id="issue_contact"')
    return page[start : page.index("</select>", start)]


def test_the_new_link_form_comes_with_the_only_contact_person_chosen(
    leader_client, awaiting, vaxjo_contact
):
    page = leader_client.get(reverse("workflows:process", args=[awaiting.pk])).content.decode()

    assert f'<option value="{vaxjo_contact.pk}" selected>Vera Växjö (Växjö)</option>' in (
        issue_select(page)
    )


def test_with_several_contact_persons_nobody_is_chosen_for_the_leader(
    leader_client, awaiting, vaxjo
):
    ContactFactory(municipality=vaxjo, name="Max Växjö")

    page = leader_client.get(reverse("workflows:process", args=[awaiting.pk])).content.decode()

    assert "selected" not in issue_select(page).replace('value="" selected', "")


def test_sending_a_new_link_to_nobody_says_why_a_choice_is_needed_and_changes_nothing(
    leader_client, awaiting
):
    before = snapshot()

    response = leader_client.post(reverse("workflows:issue_link", args=[awaiting.pk]), {})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Välj kontaktpersonen som ska få den nya länken" in page
    assert "en länk är personlig" in page
    assert snapshot() == before
    assert TaskLink.objects.filter(process=awaiting).count() == 1


# --- Going back to a completed step -----------------------------------------------------------


@pytest.fixture
def completed_contact_step(leader_client, leader, vaxjo, vaxjo_contact):
    """The first contact recorded through its page by Pia; returns the step's URL."""
    process = services.start_process(municipality=vaxjo, user=leader)
    url = reverse("workflows:step", args=[open_task(process, "contact").pk])
    response = leader_client.post(url, valid_step_data("contact", vaxjo_contact))
    assert response.status_code == 302
    return url


def test_going_back_to_a_step_you_completed_says_you_did(leader_client, completed_contact_step):
    for response in (
        leader_client.get(completed_contact_step),  # the browser's back button
        leader_client.post(completed_contact_step, {}),  # and sending the form again
    ):
        assert response.status_code == 409
        page = response.content.decode()
        assert "du har redan slutfört steget" in page.lower()
        assert "Registrera första kontakt" in page
        assert "någon annan" not in page.lower()


def test_a_step_another_leader_completed_names_them(client, completed_contact_step):
    other = UserFactory(first_name="Olle", last_name="Annan")
    member_of(other, "07", "leader")
    client.force_login(other)

    response = client.get(completed_contact_step)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Pia Projektledare slutförde steget" in page
    assert "du har redan" not in page.lower()
