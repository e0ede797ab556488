"""Starting processes: the whole county at once, and never two open ones for one municipality."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.html import escape

from municipalities.models import County, Municipality
from tests.factories import member_of
from workflows import services
from workflows.flows import PolicyAdoptionFlow
from workflows.models import PolicyProcess, Stage

from .helpers import (  # noqa: F401
    current_task,
    decision_fields,
    english,
    snapshot,
    walk_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

KRONOBERG_CODES = ["0760", "0761", "0763", "0764", "0765", "0767", "0780", "0781"]


@pytest.fixture
def kronoberg(seeded):
    return County.objects.get(code="07")


def open_codes() -> list[str]:
    return sorted(
        PolicyProcess.objects.exclude(stage__in=[Stage.ADOPTED, Stage.REJECTED]).values_list(
            "municipality__code", flat=True
        )
    )


def test_starting_the_county_opens_a_process_for_each_of_its_eight_municipalities(
    leader_client, kronoberg
):
    response = leader_client.post(
        reverse("workflows:start_county"), {"county": kronoberg.pk}, follow=True
    )

    assert response.redirect_chain == [(reverse("workflows:processes"), 302)]
    assert "8 processes started in Kronobergs län." in response.content.decode()
    assert open_codes() == KRONOBERG_CODES
    for process in PolicyProcess.objects.all():
        assert current_task(process).flow_task.name == "contact"
        assert process.stage == Stage.CONTACT


def test_starting_the_county_again_opens_none_and_says_so(leader_client, kronoberg):
    leader_client.post(reverse("workflows:start_county"), {"county": kronoberg.pk})
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:start_county"), {"county": kronoberg.pk}, follow=True
    )

    assert response.status_code == 200
    assert (
        "Every municipality in this county already has an open process."
        in response.content.decode()
    )
    assert snapshot() == before
    assert open_codes() == KRONOBERG_CODES


def test_starting_the_county_skips_a_municipality_that_already_has_an_open_process(
    leader_client, leader, kronoberg, vaxjo
):
    existing = services.start_process(municipality=vaxjo, user=leader)

    response = leader_client.post(
        reverse("workflows:start_county"), {"county": kronoberg.pk}, follow=True
    )

    assert "7 processes started in Kronobergs län." in response.content.decode()
    assert open_codes() == KRONOBERG_CODES
    assert PolicyProcess.objects.get(municipality=vaxjo) == existing


def test_a_second_open_process_for_a_municipality_is_refused_on_the_page(
    leader_client, leader, vaxjo
):
    services.start_process(municipality=vaxjo, user=leader)
    before = snapshot()

    response = leader_client.post(reverse("workflows:start"), {"municipality": vaxjo.pk})

    assert response.status_code == 400
    assert escape("Växjö already has an open process.") in response.content.decode()
    assert snapshot() == before


def test_the_database_refuses_a_second_open_process_for_a_municipality(leader, vaxjo):
    services.start_process(municipality=vaxjo, user=leader)

    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyProcess.objects.create(flow_class=PolicyAdoptionFlow, municipality=vaxjo, lead=leader)

    assert PolicyProcess.objects.filter(municipality=vaxjo).count() == 1


def decide(process, leader, contact, outcome):
    task = walk_to(process, leader, contact, "decision")
    services.record_decision(task=task, user=leader, **decision_fields(outcome))


@pytest.mark.parametrize("outcome", ["adopted", "rejected"])
def test_a_new_process_can_start_once_the_previous_one_is_decided(
    leader, vaxjo, vaxjo_contact, outcome
):
    first = services.start_process(municipality=vaxjo, user=leader)
    decide(first, leader, vaxjo_contact, outcome)

    second = services.start_process(municipality=vaxjo, user=leader)

    assert second.pk != first.pk
    assert current_task(second).flow_task.name == "contact"
    assert open_codes() == ["0780"]


@pytest.mark.parametrize("outcome", ["adopted", "rejected"])
def test_the_database_allows_a_new_open_process_once_the_previous_one_is_decided(
    leader, vaxjo, vaxjo_contact, outcome
):
    decide(services.start_process(municipality=vaxjo, user=leader), leader, vaxjo_contact, outcome)

    PolicyProcess.objects.create(flow_class=PolicyAdoptionFlow, municipality=vaxjo, lead=leader)

    assert PolicyProcess.objects.filter(municipality=vaxjo).count() == 2


def test_a_municipality_in_another_county_can_be_started_alongside(leader, vaxjo):
    services.start_process(municipality=vaxjo, user=leader)
    jonkoping = Municipality.objects.get(code="0680")
    member_of(leader, "06", "leader")  # Pia leads Jönköping's county too

    services.start_process(municipality=jonkoping, user=leader)

    assert open_codes() == ["0680", "0780"]
