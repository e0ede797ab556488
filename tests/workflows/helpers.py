"""Test helpers: walk a process through its steps with the real services, snapshot the database
to prove a refused request changed nothing, and show pages in English."""

import datetime
import re

import pytest
from django.utils import timezone, translation
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
    """Walk to the contact's approval; return its open task."""
    return walk_to(process, leader, contact, "approval")


def decision_fields(outcome="adopted", *, meeting: datetime.date | None = None):
    """A decision taken today (the walk approved the draft today), certified and announced
    over the next days: dates that make sense whatever day the tests run."""
    meeting = meeting or timezone.localdate()
    return {
        "body": "kf",
        "meeting_date": meeting,
        "paragraph": "57",
        "case_number": "KS 2026/39",
        "outcome": outcome,
        "certification_date": meeting + datetime.timedelta(days=8),
        "announcement_date": meeting + datetime.timedelta(days=9),
    }


# --- Walking a process to any step ------------------------------------------------------------

OPEN = [STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]


def current_task(process) -> Task | None:
    """The process's open step (a process has at most one at a time)."""
    return (
        Task.objects.filter(process_id=process.pk, status__in=OPEN)
        .order_by("created", "pk")
        .first()
    )


def walk_to(process, leader, contact, step: str, *, approvers=None) -> Task:
    """Complete the steps before ``step`` with plausible data; return ``step``'s open task.

    ``contact`` is reached first and answers; ``approvers`` (default: the contact) approve."""
    approvers = list(approvers or [contact])
    for _ in range(12):
        task = current_task(process)
        if task is None:
            raise AssertionError(f"The process ended before reaching {step!r}.")
        name = task.flow_task.name
        if name == step:
            return task
        _COMPLETE[name](task, process, leader, contact, approvers)
    raise AssertionError(f"{step!r} was not reached.")


def _contact(task, process, leader, contact, approvers):
    services.record_first_contact(
        task=task,
        user=leader,
        contacted_on=datetime.date(2026, 1, 10),
        channel="email",
        contacts=[contact],
        approvers=approvers,
    )


def _dialogue(task, process, leader, contact, approvers):
    if not process.meetings.exists():
        services.record_meeting(
            process=process, user=leader, held_on=datetime.date(2026, 2, 1), participants="Möte"
        )
    services.complete_dialogue(task=task, user=leader)


def _draft(task, process, leader, contact, approvers):
    services.write_draft(
        task=task, user=leader, competition_section="Konkurrens", customer_section="Kund"
    )


def _request_approval(task, process, leader, contact, approvers):
    services.request_approval(task=task, user=leader, approvers=approvers)


def _approval(task, process, leader, contact, approvers):
    services.answer_approval(task=task, contact=contact, answer="approved")


def _decision(task, process, leader, contact, approvers):
    services.record_decision(task=task, user=leader, **decision_fields())


_COMPLETE = {
    "contact": _contact,
    "dialogue": _dialogue,
    "draft": _draft,
    "request_approval": _request_approval,
    "approval": _approval,
    "decision": _decision,
}


def valid_step_data(step: str, contact) -> dict:
    """What a project leader would post to complete ``step`` on its page."""
    return {
        "contact": {
            "contacted_on": "2026-01-12",
            "channel": "phone",
            "contacts": [contact.pk],
            "approvers": [contact.pk],
        },
        "dialogue": {"confirm": "on"},
        "draft": {"competition_section": "Konkurrens", "customer_section": "Kund"},
        "request_approval": {"approvers": [contact.pk]},
        "decision": {
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in decision_fields().items()
        },
    }[step]


# --- Checking that nothing changed ------------------------------------------------------------

_UNTRACKED_APPS = {"sessions", "admin", "contenttypes"}


def snapshot() -> dict:
    """Row counts of every model (history tables included), and every step's and process's state.

    Two equal snapshots mean a request wrote nothing a user or the audit trail could see.
    """
    from django.apps import apps
    from django.db import connection

    from workflows.models import PolicyProcess

    tables = set(connection.introspection.table_names())
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label not in _UNTRACKED_APPS and model._meta.db_table in tables
    }
    return {
        "counts": counts,
        "tasks": list(
            Task.objects.order_by("pk").values_list("pk", "flow_task", "status", "owner_id")
        ),
        "processes": list(
            PolicyProcess.objects.order_by("pk").values_list("pk", "stage", "status")
        ),
    }


def field_error(response, field: str, message: str) -> bool:
    """Whether the page shows ``message`` as the error of ``field``, next to the field."""
    import re

    from django.utils.html import escape

    shown = re.findall(rf'id="id_{field}_error">(.*?)</p>', response.content.decode(), re.S)
    return any(escape(message) in text for text in shown)


# --- Pages in English, whatever translations exist --------------------------------------------


@pytest.fixture
def english(settings):
    """Pages and service messages in English, the source language the tests assert on."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def visible_text(response_or_html) -> str:
    """The page's visible text, roughly: tags (and scripts and styles) dropped, whitespace
    collapsed."""
    html = getattr(response_or_html, "content", response_or_html)
    html = html.decode() if isinstance(html, bytes) else html
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
