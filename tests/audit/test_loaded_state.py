"""A step's recorded change is the one between its history record and simple-history's previous
record of it (`prev_record`), as simple-history's own `diff_against` tells it."""

import pytest
from viewflow.workflow.models import Task

from audit.models import AuditEvent
from audit.registry import json_safe, spec_for
from tests.workflows.helpers import walk_to
from workflows import services
from workflows.models import PolicyProcess

pytestmark = pytest.mark.django_db


def task_events(task_pk: int):
    return AuditEvent.objects.filter(model_label="viewflow.task", object_id=str(task_pk))


def test_a_finished_steps_change_is_the_one_its_history_records(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")

    services.write_draft(
        task=Task.objects.get(pk=task.pk),
        user=leader,
        competition_section="Reserved procurement.",
        customer_section="Work training is bought from ASF.",
    )

    event = task_events(task.pk).order_by("-id").first()
    record = Task.history.filter(id=task.pk).order_by("-history_date").first()
    delta = record.diff_against(record.prev_record)
    hidden = spec_for(Task).hidden_fields
    from_history = {
        change.field: [json_safe(change.old), json_safe(change.new)]
        for change in delta.changes
        if change.field not in hidden
    }
    assert event.changes["status"][1] == "DONE"
    assert {name: pair for name, pair in event.changes.items()} == from_history


def test_a_new_draft_keeps_the_process_unchanged_and_unrecorded(leader, vaxjo, vaxjo_contact):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")
    records_before = PolicyProcess.history.filter(process_ptr_id=process.pk).count()

    services.write_draft(
        task=Task.objects.get(pk=task.pk),
        user=leader,
        competition_section="Reserved procurement.",
        customer_section="Work training is bought from ASF.",
    )

    assert PolicyProcess.history.filter(process_ptr_id=process.pk).count() == records_before
    assert PolicyProcess.objects.get(pk=process.pk).stage == "drafting"
    assert "Draft version 1 written" in AuditEvent.objects.filter(
        process_id=process.pk, model_label="workflows.policydraft"
    ).values_list("reason", flat=True)
