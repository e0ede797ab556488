"""Helpers that walk a process through its steps with the real services."""

import datetime

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows import services
from workflows.flows import PolicyAdoptionFlow


def open_task(process, name: str) -> Task:
    return Task.objects.get(
        process_id=process.pk,
        flow_task=getattr(PolicyAdoptionFlow, name),
        status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    )


def walk_to_approval(process, leader, contact):
    services.record_first_contact(
        task=open_task(process, "contact"),
        user=leader,
        contacted_on=datetime.date(2026, 1, 10),
        channel="email",
        contacts=[contact],
        approvers=[contact],
    )
    services.record_meeting(
        process=process, user=leader, held_on=datetime.date(2026, 2, 1), participants="Möte"
    )
    services.complete_dialogue(task=open_task(process, "dialogue"), user=leader)
    services.write_draft(
        task=open_task(process, "draft"),
        user=leader,
        competition_section="Konkurrens",
        customer_section="Kund",
    )
    services.request_approval(
        task=open_task(process, "request_approval"), user=leader, approvers=[contact]
    )
    return open_task(process, "approval")


def decision_fields(outcome="adopted"):
    return {
        "body": "kf",
        "meeting_date": datetime.date(2026, 5, 4),
        "paragraph": "57",
        "case_number": "KS 2026/39",
        "outcome": outcome,
        "certification_date": datetime.date(2026, 5, 12),
        "announcement_date": datetime.date(2026, 5, 13),
    }
