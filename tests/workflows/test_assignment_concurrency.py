"""Two project leaders claim the same unassigned step at the same moment: one gets it, the
other is told who was first. Real threads on the real PostgreSQL (the flow's row lock)."""

import pytest
from django.test import Client
from django.urls import reverse

from municipalities.models import CountyProject, Municipality
from municipalities.services import end_membership
from tests.factories import ContactFactory, leader_of
from workflows import services
from workflows.assignment import services as assignment

from .helpers import current_task, english, walk_to  # noqa: F401
from .test_concurrency import at_once, kinds

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("english")]


@pytest.fixture
def unassigned_step(leader):
    """Växjö's dialogue step, nobody's: its responsible leader left the county's project."""
    bo = leader_of("07", username="bo", first_name="Bo", last_name="Berg")
    process = services.start_process(
        municipality=Municipality.objects.get(code="0780"), user=leader
    )
    end_membership(user=leader, project=CountyProject.objects.get(county__code="07"))
    walk_to(process, bo, ContactFactory(municipality=process.municipality), "dialogue")
    task = current_task(process)
    assert task.owner is None
    return task


def test_two_claims_at_once_give_the_step_to_one_leader(unassigned_step):
    claimers = [
        leader_of("07", username="cia", first_name="Cia", last_name="Cedar"),
        leader_of("07", username="dan", first_name="Dan", last_name="Dahl"),
    ]

    results = at_once(2, lambda i: assignment.claim_step(task=unassigned_step, user=claimers[i]))

    assert kinds(results) == {"Handover": 1, "AlreadyTaken": 1}
    winner = next(r for r in results if not isinstance(r, Exception)).to_user
    loser_message = str(next(r for r in results if isinstance(r, Exception)))
    assert loser_message == f"{winner.get_full_name()} took this step first."
    assert current_task(unassigned_step.process).owner == winner


def test_the_leader_who_claimed_second_is_told_who_was_first(unassigned_step):
    first = leader_of("07", username="cia", first_name="Cia", last_name="Cedar")
    second = Client()
    second.force_login(leader_of("07", username="dan", first_name="Dan", last_name="Dahl"))
    assignment.claim_step(task=unassigned_step, user=first)

    response = second.post(reverse("workflows:claim", args=[unassigned_step.pk]), follow=True)

    assert "Cia Cedar took this step first." in response.content.decode()
    assert current_task(unassigned_step.process).owner == first
