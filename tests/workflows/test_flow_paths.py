"""Where a process goes after the municipality's decision: back to dialogue, or to its end."""

import pytest
from django.urls import reverse

from workflows import services
from workflows.models import PolicyDraft, Stage

from .helpers import (  # noqa: F401 (english: a fixture)
    current_task,
    decision_fields,
    english,
    open_task,
    valid_step_data,
    walk_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def process(leader, vaxjo):
    return services.start_process(municipality=vaxjo, user=leader)


@pytest.mark.parametrize("outcome", ["sent_back", "postponed"])
def test_decision_sent_back_or_postponed_returns_to_dialogue(
    process, leader, vaxjo_contact, outcome
):
    task = walk_to(process, leader, vaxjo_contact, "decision")

    services.record_decision(task=task, user=leader, **decision_fields(outcome))

    process.refresh_from_db()
    assert process.stage == Stage.DIALOGUE
    assert process.is_open and process.finished is None
    assert current_task(process).flow_task.name == "dialogue"


@pytest.mark.parametrize("outcome", ["sent_back", "postponed"])
def test_after_returning_to_dialogue_the_leader_writes_a_new_draft_version(
    process, leader, vaxjo_contact, outcome
):
    task = walk_to(process, leader, vaxjo_contact, "decision")
    services.record_decision(task=task, user=leader, **decision_fields(outcome))

    services.complete_dialogue(task=current_task(process), user=leader)
    draft_task = current_task(process)
    assert draft_task.flow_task.name == "draft"
    services.write_draft(
        task=draft_task,
        user=leader,
        competition_section="Konkurrens v2",
        customer_section="Kund v2",
        change_note="Efter återremiss",
    )

    process.refresh_from_db()
    assert process.stage == Stage.DRAFTING
    assert current_task(process).flow_task.name == "request_approval"
    assert list(PolicyDraft.objects.filter(process=process).values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_decision_sent_back_on_the_page_shows_the_process_in_dialogue(
    leader_client, process, leader, vaxjo_contact
):
    task = walk_to(process, leader, vaxjo_contact, "decision")
    data = valid_step_data("decision", vaxjo_contact) | {"outcome": "sent_back"}

    response = leader_client.post(reverse("workflows:step", args=[task.pk]), data)

    # The dialogue is the leader's again: its page opens; the process page says why.
    dialogue = current_task(process)
    assert response.url == reverse("workflows:step", args=[dialogue.pk])
    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()
    assert "In dialogue" in page and "Sent back (återremiss)" in page
    assert reverse("workflows:step", args=[dialogue.pk]) in page


def test_rejected_decision_ends_the_process(process, leader, vaxjo_contact):
    task = walk_to(process, leader, vaxjo_contact, "decision")

    services.record_decision(task=task, user=leader, **decision_fields("rejected"))

    process.refresh_from_db()
    assert process.stage == Stage.REJECTED
    assert not process.is_open
    assert process.status == "DONE" and process.finished is not None
    assert current_task(process) is None


def test_adopted_decision_ends_the_process(process, leader, vaxjo_contact):
    task = walk_to(process, leader, vaxjo_contact, "decision")

    services.record_decision(task=task, user=leader, **decision_fields("adopted"))

    process.refresh_from_db()
    assert process.stage == Stage.ADOPTED
    assert process.status == "DONE" and current_task(process) is None


def test_changes_requested_returns_to_the_draft_step(process, leader, vaxjo_contact):
    task = walk_to(process, leader, vaxjo_contact, "approval")

    services.answer_approval(
        task=task, contact=vaxjo_contact, answer="changes_requested", comment="Mer om IOP."
    )

    process.refresh_from_db()
    assert process.stage == Stage.DRAFTING
    assert current_task(process).flow_task.name == "draft"


def test_the_audit_trail_names_the_body_that_decided_as_the_pages_do(leader, vaxjo, vaxjo_contact):
    from audit.models import AuditEvent, Kind

    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    # A name left in "other body" while KF is chosen (the form keeps what was typed).
    decision = services.record_decision(
        task=open_task(process, "decision"), user=leader, **decision_fields(), body_other="Nämnd"
    )

    event = AuditEvent.objects.get(process_id=process.pk, kind=Kind.DECISION_RECORDED)
    assert decision.body_label in event.summary and "Nämnd" not in event.summary
