"""Every form posted with invalid data shows what is wrong next to the field and changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from municipalities.models import Municipality
from tests.factories import ContactFactory
from workflows import services
from workflows.models import AnswerKind, Stage

from .helpers import (  # noqa: F401
    OPEN,
    current_task,
    decision_fields,
    english,
    field_error,
    snapshot,
    valid_step_data,
    walk_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REQUIRED = "This field is required."


@pytest.fixture
def process(leader, vaxjo):
    return services.start_process(municipality=vaxjo, user=leader)


@pytest.fixture
def ljungby_contact(seeded):
    return ContactFactory(municipality=Municipality.objects.get(code="0781"), name="Lars Ljungby")


def post_step(client, process, step, data):
    """Post ``data`` to the open ``step``; check it was refused and nothing changed."""
    task = current_task(process)
    assert task.flow_task.name == step
    process.refresh_from_db()
    stage = process.stage
    before = snapshot()

    response = client.post(reverse("workflows:step", args=[task.pk]), data)

    assert response.status_code == 400
    assert snapshot() == before
    task.refresh_from_db()
    process.refresh_from_db()
    assert task.status in OPEN and process.stage == stage
    return response


# --- Required fields on every step page -------------------------------------------------------

MISSING = [
    ("contact", ["contacted_on", "channel", "contacts", "approvers"]),
    ("dialogue", ["confirm"]),
    ("draft", ["competition_section", "customer_section"]),
    ("request_approval", ["approvers"]),
    ("decision", ["body", "meeting_date", "paragraph", "case_number", "outcome"]),
]


@pytest.mark.parametrize(("step", "fields"), MISSING)
def test_step_posted_empty_shows_each_required_field_error_and_changes_nothing(
    leader_client, process, leader, vaxjo_contact, step, fields
):
    walk_to(process, leader, vaxjo_contact, step)

    response = post_step(leader_client, process, step, {})

    for field in fields:
        assert field_error(response, field, REQUIRED), field
    assert "Please correct the following" in response.content.decode()


@pytest.mark.parametrize("step", ["draft"])
def test_draft_of_only_blanks_is_refused(leader_client, process, leader, vaxjo_contact, step):
    walk_to(process, leader, vaxjo_contact, step)

    response = post_step(
        leader_client,
        process,
        step,
        {"competition_section": "   ", "customer_section": "\n", "other_text": "x"},
    )

    assert field_error(response, "competition_section", REQUIRED)
    assert field_error(response, "customer_section", REQUIRED)


def test_invalid_contact_date_and_channel_are_shown_next_to_their_fields(
    leader_client, process, vaxjo_contact
):
    data = valid_step_data("contact", vaxjo_contact) | {
        "contacted_on": "2026-13-45",
        "channel": "pigeon",
    }

    response = post_step(leader_client, process, "contact", data)

    assert field_error(response, "contacted_on", "Enter a valid date.")
    assert field_error(
        response,
        "channel",
        "Select a valid choice. pigeon is not one of the available choices.",
    )


# --- Contacts must belong to the process's municipality ---------------------------------------


def test_contact_from_another_municipality_is_refused_on_the_contact_step(
    leader_client, process, vaxjo_contact, ljungby_contact
):
    data = valid_step_data("contact", vaxjo_contact) | {
        "contacts": [ljungby_contact.pk],
        "approvers": [vaxjo_contact.pk, ljungby_contact.pk],
    }

    response = post_step(leader_client, process, "contact", data)

    message = f"Select a valid choice. {ljungby_contact.pk} is not one of the available choices."
    assert field_error(response, "contacts", message)
    assert field_error(response, "approvers", message)
    assert "Lars Ljungby" not in response.content.decode()


def test_contact_from_another_municipality_is_refused_when_requesting_approval(
    leader_client, process, leader, vaxjo_contact, ljungby_contact
):
    walk_to(process, leader, vaxjo_contact, "request_approval")

    response = post_step(
        leader_client, process, "request_approval", {"approvers": [ljungby_contact.pk]}
    )

    assert field_error(
        response,
        "approvers",
        f"Select a valid choice. {ljungby_contact.pk} is not one of the available choices.",
    )


def test_service_refuses_a_contact_from_another_municipality(
    process, leader, vaxjo_contact, ljungby_contact
):
    task = current_task(process)
    before = snapshot()

    with pytest.raises(ValidationError, match="must belong to the process's municipality"):
        services.record_first_contact(
            task=task,
            user=leader,
            contacted_on=datetime.date(2026, 1, 10),
            channel="email",
            contacts=[vaxjo_contact],
            approvers=[ljungby_contact],
        )

    assert snapshot() == before


def test_service_refuses_to_send_the_draft_to_another_municipalitys_contact(
    process, leader, vaxjo_contact, ljungby_contact
):
    task = walk_to(process, leader, vaxjo_contact, "request_approval")
    before = snapshot()

    with pytest.raises(ValidationError, match="must belong to the process's municipality"):
        services.request_approval(task=task, user=leader, approvers=[ljungby_contact])

    assert snapshot() == before


# --- The dialogue needs a meeting -------------------------------------------------------------


def test_completing_the_dialogue_without_a_meeting_is_refused_with_a_message(
    leader_client, process, leader, vaxjo_contact
):
    walk_to(process, leader, vaxjo_contact, "dialogue")

    response = post_step(leader_client, process, "dialogue", {"confirm": "on"})

    assert "Record at least one meeting before drafting." in response.content.decode()


# --- Decision rules ---------------------------------------------------------------------------


@pytest.fixture
def at_decision(process, leader, vaxjo_contact):
    walk_to(process, leader, vaxjo_contact, "decision")
    return process


def test_decision_by_other_body_needs_its_name(leader_client, at_decision, vaxjo_contact):
    data = valid_step_data("decision", vaxjo_contact) | {"body": "other", "body_other": ""}

    response = post_step(leader_client, at_decision, "decision", data)

    assert field_error(response, "body_other", "Name the body that decided.")


def test_decision_announced_before_certification_is_refused(
    leader_client, at_decision, vaxjo_contact
):
    data = valid_step_data("decision", vaxjo_contact) | {
        "certification_date": "2026-05-12",
        "announcement_date": "2026-05-11",
    }

    response = post_step(leader_client, at_decision, "decision", data)

    assert field_error(
        response, "announcement_date", "The minutes are announced after they are certified."
    )


def test_minutes_certified_before_the_meeting_are_refused(
    leader_client, at_decision, vaxjo_contact
):
    data = valid_step_data("decision", vaxjo_contact) | {
        "meeting_date": "2026-05-04",
        "certification_date": "2026-05-03",
        "announcement_date": "",
    }

    response = post_step(leader_client, at_decision, "decision", data)

    assert field_error(response, "certification_date", "Minutes are certified after the meeting.")


def test_decision_with_an_invalid_outcome_or_link_is_refused(
    leader_client, at_decision, vaxjo_contact
):
    data = valid_step_data("decision", vaxjo_contact) | {
        "outcome": "maybe",
        "minutes_url": "not a link",
    }

    response = post_step(leader_client, at_decision, "decision", data)

    assert field_error(
        response, "outcome", "Select a valid choice. maybe is not one of the available choices."
    )
    assert field_error(response, "minutes_url", "Enter a valid URL.")


def test_service_refuses_a_decision_by_an_unnamed_other_body(at_decision, leader):
    before = snapshot()

    with pytest.raises(ValidationError):
        services.record_decision(
            task=current_task(at_decision),
            user=leader,
            **decision_fields() | {"body": "other", "body_other": ""},
        )

    assert snapshot() == before


# --- The municipality's answer ----------------------------------------------------------------


def test_changes_requested_without_a_comment_is_refused(process, leader, vaxjo_contact):
    task = walk_to(process, leader, vaxjo_contact, "approval")
    before = snapshot()

    with pytest.raises(ValidationError) as excinfo:
        services.answer_approval(
            task=task, contact=vaxjo_contact, answer=AnswerKind.CHANGES_REQUESTED, comment="  "
        )

    assert excinfo.value.message_dict == {"comment": ["Say what should change."]}
    assert snapshot() == before
    task.refresh_from_db()
    process.refresh_from_db()
    assert task.status in OPEN and process.stage == Stage.AWAITING_APPROVAL


# --- Meetings and starting --------------------------------------------------------------------


def test_meeting_without_date_or_participants_is_refused(leader_client, process):
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:add_meeting", args=[process.pk]),
        {"held_on": "", "participants": "", "notes": "Bara anteckningar"},
    )

    assert response.status_code == 400
    assert field_error(response, "held_on", REQUIRED)
    assert field_error(response, "participants", REQUIRED)
    assert "Bara anteckningar" in response.content.decode()  # what was typed is kept
    assert snapshot() == before


def test_meeting_with_an_invalid_date_is_refused(leader_client, process):
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:add_meeting", args=[process.pk]),
        {"held_on": "igår", "participants": "Vera"},
    )

    assert response.status_code == 400
    assert field_error(response, "held_on", "Enter a valid date.")
    assert snapshot() == before


def test_meeting_on_a_closed_process_is_refused(leader_client, process, leader, vaxjo_contact):
    task = walk_to(process, leader, vaxjo_contact, "decision")
    services.record_decision(task=task, user=leader, **decision_fields("rejected"))
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:add_meeting", args=[process.pk]),
        {"held_on": "2026-06-01", "participants": "Vera"},
    )

    assert response.status_code == 400
    assert escape("The process is closed.") in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("value", ["", "999999", "abc"])
def test_start_without_a_valid_municipality_is_refused(leader_client, seeded, value):
    before = snapshot()

    response = leader_client.post(reverse("workflows:start"), {"municipality": value})

    assert response.status_code == 400
    expected = (
        REQUIRED
        if value == ""
        else "Select a valid choice. That choice is not one of the available choices."
    )
    assert field_error(response, "municipality", expected)
    assert snapshot() == before


@pytest.mark.parametrize("value", ["", "999999"])
def test_start_county_without_a_valid_county_is_refused(leader_client, seeded, value):
    before = snapshot()

    response = leader_client.post(reverse("workflows:start_county"), {"county": value})

    assert response.status_code == 400
    expected = (
        REQUIRED
        if value == ""
        else "Select a valid choice. That choice is not one of the available choices."
    )
    assert field_error(response, "county", expected)
    assert snapshot() == before
