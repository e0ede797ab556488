"""Opening the decision step again when the decision that closed it is voided.

The only module that drives viewflow's task transitions backwards. It uses the activations'
public transitions, the ones viewflow's own task pages offer as "Undo", "Cancel" and "Revive":
the steps the voided decision led to are cancelled or undone (the end, the is_settled gateway,
or the dialogue opened by a "sent back"), the decision task is undone and then revived, which
creates a new decision task after it. viewflow's revive neither assigns the new task nor runs the
node's onCreate hook, so this module does what `ViewActivation.create` would: the node's
permission and owner (the project leader), and the email of a newly opened step.
tests/workflows/test_reopening_contract.py pins that behaviour of viewflow 2.4.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .audit import stamp
from .flows import PolicyAdoptionFlow
from .models import CLOSED_STAGES, PolicyProcess

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def _next_of(task: Task) -> Task | None:
    return Task.objects.filter(previous=task).order_by("pk").first()


def steps_after_last_decision(process: PolicyProcess) -> tuple[Task, Task, Task] | None:
    """The last completed decision task, its gateway and the step the gateway opened, when the
    process is still right after them (ended, or at the dialogue the decision opened)."""
    decision_task = (
        Task.objects.filter(
            process_id=process.pk, flow_task=PolicyAdoptionFlow.decision, status=STATUS.DONE
        )
        .order_by("-pk")
        .first()
    )
    if decision_task is None:
        return None
    gateway = _next_of(decision_task)
    after = _next_of(gateway) if gateway is not None else None
    if after is None:
        return None
    if after.flow_task == PolicyAdoptionFlow.end and after.status == STATUS.DONE:
        return decision_task, gateway, after
    if after.flow_task == PolicyAdoptionFlow.dialogue and after.status in OPEN:
        return decision_task, gateway, after
    return None  # the process has moved on past the step the decision opened


def reopen_decision_step(*, process: PolicyProcess, user, reason: str) -> Task | None:
    """Under the flow's lock: take the process back to its decision step, open again. Returns the
    new decision task, or None when the process has moved on since that decision."""
    steps = steps_after_last_decision(process)
    if steps is None:
        return None
    decision_task, gateway, after = steps
    if process.stage in CLOSED_STAGES and (
        PolicyProcess.objects.filter(municipality_id=process.municipality_id)
        .exclude(stage__in=CLOSED_STAGES)
        .exclude(pk=process.pk)
        .exists()
    ):
        raise ValidationError(
            _(
                "%(municipality)s has a newer open process: this decision cannot be reopened "
                "while it runs."
            )
            % {"municipality": process.municipality}
        )
    for task in (after, gateway, decision_task):
        task.process = process
        stamp(task, user=user, reason=reason)
    activation = after.flow_task.activation_class(after)
    if after.status == STATUS.DONE:
        activation.undo()  # the end: the process is running again
    else:
        activation.cancel()  # the dialogue the "sent back" decision opened
    gateway.flow_task.activation_class(gateway).undo()
    decision_activation = decision_task.flow_task.activation_class(decision_task)
    decision_activation.undo()
    stamp(decision_task, user=user, reason=reason)
    new_task = decision_activation.revive()
    return _assigned_like_a_new_step(new_task, process=process, reason=reason, user=user)


def _assigned_like_a_new_step(task: Task, *, process: PolicyProcess, reason: str, user) -> Task:
    node = PolicyAdoptionFlow.decision
    task.process = process
    activation = node.activation_class(task)
    task.owner_permission = node.calc_owner_permission(activation)
    task.owner = node.calc_owner(activation)
    task.status = STATUS.ASSIGNED if task.owner_id else STATUS.NEW
    stamp(task, user=user, reason=reason)
    task.save()
    PolicyAdoptionFlow.instance.step_opened(activation)
    return task
