"""The project leader takes Växjö from first contact to an adopted policy through the real pages."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from workflows import services
from workflows.models import PolicyDraft, PolicyProcess, Stage

from .helpers import open_task

pytestmark = pytest.mark.django_db


def post_step(client, process, name, data):
    task = open_task(process, name)
    response = client.post(reverse("workflows:step", args=[task.pk]), data)
    # Requesting approval answers with the new task links (shown once) instead of a redirect.
    expected = 200 if name == "request_approval" else 302
    assert response.status_code == expected, response.content.decode()[:2000]
    return task


def test_project_leader_takes_vaxjo_from_contact_to_adopted_policy(
    leader_client, leader, vaxjo, vaxjo_contact
):
    # Start Växjö (0780).
    response = leader_client.post(reverse("workflows:start"), {"municipality": vaxjo.pk})
    process = PolicyProcess.objects.get(municipality__code="0780")
    # The first step is the leader's: its page opens at once.
    contact_step = process.task_set.get(flow_task_type="HUMAN")
    assert response.status_code == 302 and response.url == reverse(
        "workflows:step", args=[contact_step.pk]
    )

    # Contact.
    post_step(
        leader_client,
        process,
        "contact",
        {
            "contacted_on": "2026-01-12",
            "channel": "phone",
            "contacts": [vaxjo_contact.pk],
            "approvers": [vaxjo_contact.pk],
            "notes": "Kommunen är positiv.",
        },
    )
    # Two dialogue meetings, then complete the dialogue.
    for day in ("2026-02-03", "2026-03-05"):
        response = leader_client.post(
            reverse("workflows:add_meeting", args=[process.pk]),
            {"held_on": day, "participants": "Vera Växjö, Pia", "notes": "Genomgång"},
        )
        assert response.status_code == 302
    post_step(leader_client, process, "dialogue", {"confirm": "on"})

    # Draft v1 starts from the policy template.
    task = open_task(process, "draft")
    page = leader_client.get(reverse("workflows:step", args=[task.pk])).content.decode()
    assert "Reserverad upphandling" in page
    post_step(
        leader_client,
        process,
        "draft",
        {"competition_section": "Konkurrens v1", "customer_section": "Kund v1"},
    )
    post_step(leader_client, process, "request_approval", {"approvers": [vaxjo_contact.pk]})
    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()
    assert "Vera Växjö" in page and "ntar på godkännande" in page or "Waiting" in page

    # The contact asks for changes (through the service; the task link calls the same).
    services.answer_approval(
        task=open_task(process, "approval"),
        contact=vaxjo_contact,
        answer="changes_requested",
        comment="Förtydliga reserverad upphandling.",
    )
    process.refresh_from_db()
    assert process.stage == Stage.DRAFTING

    # Draft v2 starts from v1.
    task = open_task(process, "draft")
    page = leader_client.get(reverse("workflows:step", args=[task.pk])).content.decode()
    assert "Konkurrens v1" in page
    post_step(
        leader_client,
        process,
        "draft",
        {
            "competition_section": "Konkurrens v2 med reserverad upphandling",
            "customer_section": "Kund v1",
            "change_note": "Förtydligat",
        },
    )
    post_step(leader_client, process, "request_approval", {"approvers": [vaxjo_contact.pk]})
    # The municipality approved in April and decided in May (the dates must follow each other).
    with time_machine.travel(datetime.datetime(2026, 4, 28, 9, tzinfo=datetime.UTC), tick=False):
        services.answer_approval(
            task=open_task(process, "approval"), contact=vaxjo_contact, answer="approved"
        )
    process.refresh_from_db()
    assert process.stage == Stage.AWAITING_DECISION

    # Decision adopted by KF, recorded once its legal force was known.
    with time_machine.travel(datetime.datetime(2026, 6, 5, 9, tzinfo=datetime.UTC), tick=False):
        post_step(
            leader_client,
            process,
            "decision",
            {
                "body": "kf",
                "meeting_date": "2026-05-04",
                "paragraph": "57",
                "case_number": "KS 2026/39",
                "outcome": "adopted",
                "certification_date": "2026-05-12",
                "announcement_date": "2026-05-13",
                "legal_force_date": "2026-06-04",
            },
        )
    process.refresh_from_db()
    assert process.stage == Stage.ADOPTED
    assert process.status == "DONE" and process.finished is not None
    decision = process.decisions.get()
    assert decision.appeal_deadline == datetime.date(2026, 6, 3)

    # Both versions remain.
    assert list(
        PolicyDraft.objects.filter(process=process).values_list("version", "competition_section")
    ) == [(1, "Konkurrens v1"), (2, "Konkurrens v2 med reserverad upphandling")]

    # The history holds every step with actor, time and reason.
    completed = process.task_set.filter(status="DONE").order_by("pk")  # as created
    names = [t.flow_task.name for t in completed]
    assert names == [
        "start",
        "contact",
        "dialogue",
        "draft",
        "request_approval",
        "approval",
        "is_approved",
        "draft",
        "request_approval",
        "approval",
        "is_approved",
        "decision",
        "is_settled",
        "end",
    ]
    for task in completed.filter(flow_task_type="HUMAN"):
        finished = task.history.filter(status="DONE").get()
        assert finished.history_user == leader
        assert finished.history_change_reason
        assert finished.history_date is not None
    answers = [
        h.history_change_reason
        for h in process.history.order_by("history_id")
        if "Vera Växjö" in (h.history_change_reason or "")
    ]
    assert len(answers) == 2
    reasons = set(process.history.values_list("history_change_reason", flat=True))
    # The record's own words are in the site's language, Swedish.
    assert {"Processen startad", "Första kontakten registrerad"} <= reasons

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()
    assert "KS 2026/39" in page and "v2" in page
