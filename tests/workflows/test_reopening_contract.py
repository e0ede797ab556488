"""What workflows.reopening relies on in viewflow 2.4's activations (undo, cancel, revive): if an
upgrade changes it, this fails before a leader meets a stranded process."""

import pytest
from django.db import transaction
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from notifications.models import Notification
from workflows import reopening, services

from .helpers import decision_fields, open_task, walk_to

pytestmark = pytest.mark.django_db


def test_undo_and_revive_reopen_a_finished_process_with_an_unassigned_silent_task(
    leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    services.record_decision(
        task=open_task(process, "decision"), user=leader, **decision_fields("adopted")
    )
    process.refresh_from_db()
    decision_task, gateway, end = reopening.steps_after_last_decision(process)
    assert (gateway.flow_task.name, end.flow_task.name) == ("is_settled", "end")
    assert process.status == STATUS.DONE
    mails = Notification.objects.count()

    with transaction.atomic():
        end.flow_task.activation_class(end).undo()
        process.refresh_from_db()
        assert process.status == "NEW" and process.finished is None
        gateway.flow_task.activation_class(gateway).undo()
        activation = decision_task.flow_task.activation_class(decision_task)
        activation.undo()
        revived = activation.revive()

    revived = Task.objects.get(pk=revived.pk)
    assert revived.flow_task.name == "decision" and revived.status == STATUS.NEW
    # Hence reopening assigns it and emails the leader itself.
    assert revived.owner is None and not revived.owner_permission
    assert Notification.objects.count() == mails
    assert Task.objects.get(pk=decision_task.pk).status == STATUS.REVIVED
    assert set(revived.previous.all()) >= {Task.objects.get(pk=decision_task.pk)}
