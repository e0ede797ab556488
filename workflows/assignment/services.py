"""Every change of who does what: claiming a step, handing a step or a process to a colleague,
taking over a colleague's open work. Views, admin and tests call these.

Each runs under the flow's lock on the process (the lock a step's completion takes), so two
claims of one step at once give it to one leader; the other gets `AlreadyTaken`. Each change is
a `Handover` row (its audit event tells it in people's words, with the note), viewflow's own
transition on the task (`assign` for a claim, `reassign` for a handover: the task's history
records the new owner) and one email to the new assignee through the outbox.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from .. import notify
from ..audit import stamp
from ..locking import lock_for_update
from ..models import Handover, HandoverKind, PolicyProcess, new_batch
from . import rules

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class AlreadyTaken(Exception):
    """The step was claimed (or completed) by someone else first."""


def _display(user) -> str:
    return user.get_full_name() or user.get_username()


def _locked_process(process_id: int) -> PolicyProcess:
    return lock_for_update(
        PolicyProcess.objects.select_related("municipality__county", "lead")
    ).get(pk=process_id)


def _open_leader_task(task_pk: int, process_id: int) -> Task | None:
    """The task as it is now (read under the process's lock), if it is still an open leader
    step of that process."""
    task = (
        Task.objects.select_related("owner")
        .filter(pk=task_pk, process_id=process_id, flow_task_type="HUMAN", status__in=OPEN)
        .first()
    )
    return task


def _check_colleague(*, process: PolicyProcess, to_user) -> None:
    if to_user is None or not rules.can_take_work(to_user, process.municipality.county):
        raise ValidationError(
            {
                "to_user": _("Choose an active project leader of %(county)s.")
                % {"county": process.municipality.county}
            }
        )


def _set_owner(task: Task, *, process: PolicyProcess, to_user, by, reason) -> None:
    """Viewflow's own transition: `assign` takes an unassigned step, `reassign` changes hands."""
    task.process = process
    activation = task.flow_task.activation_class(task)
    stamp(task, user=by, reason=reason)
    if task.status == STATUS.NEW:
        activation.assign(to_user)
    elif task.status == STATUS.ASSIGNED:
        activation.reassign(to_user)
    else:  # started (only inside a completing step's transaction): no transition applies
        task.owner = to_user
        task.save()


def claim_step(*, task: Task, user) -> Handover:
    """``user`` takes an unassigned step of a county they lead."""
    with transaction.atomic():
        process = _locked_process(task.process_id)
        rules.require_lead(user, process.municipality.county)
        current = _open_leader_task(task.pk, process.pk)
        if current is None:
            raise AlreadyTaken(_("This step is no longer open."))
        if current.owner_id == user.pk:
            raise AlreadyTaken(_("This step is already yours."))
        if current.owner_id is not None:
            raise AlreadyTaken(
                _("%(name)s took this step first.") % {"name": _display(current.owner)}
            )
        handover = _give_step(
            current,
            process=process,
            kind=HandoverKind.CLAIMED,
            to_user=user,
            by=user,
            note="",
            reason=gettext_lazy("Step claimed"),
        )
    return handover


def hand_over_step(*, task: Task, to_user, by, note: str = "") -> Handover:
    """``by`` gives an open step to ``to_user``, a project leader of the same county."""
    note = (note or "").strip()
    with transaction.atomic():
        process = _locked_process(task.process_id)
        rules.require_may_hand_over(by, process.municipality.county)
        current = _open_leader_task(task.pk, process.pk)
        if current is None:
            raise AlreadyTaken(_("This step is no longer open."))
        _check_colleague(process=process, to_user=to_user)
        if current.owner_id == to_user.pk:
            raise ValidationError(
                {
                    "to_user": _("The step is already assigned to %(name)s.")
                    % {"name": _display(to_user)}
                }
            )
        handover = _give_step(
            current,
            process=process,
            kind=HandoverKind.STEP,
            to_user=to_user,
            by=by,
            note=note,
            reason=gettext_lazy("Step handed over"),
        )
        _tell([handover], by=by, note=note)
    return handover


def hand_over_process(*, process: PolicyProcess, to_user, by, note: str = "") -> list[Handover]:
    """``by`` makes ``to_user`` the process's responsible leader; its open leader step (and the
    steps it opens later) go to them too."""
    note = (note or "").strip()
    with transaction.atomic():
        process = _locked_process(process.pk)
        rules.require_may_hand_over(by, process.municipality.county)
        _check_colleague(process=process, to_user=to_user)
        if not process.is_open:
            raise ValidationError(_("The process is closed."))
        handovers = _hand_over_processes([process], to_user=to_user, by=by, note=note)
        if not handovers:
            raise ValidationError(
                {"to_user": _("%(name)s already leads this process.") % {"name": _display(to_user)}}
            )
        _tell(handovers, by=by, note=note)
    return handovers


def reassign_work(
    *,
    from_user,
    to_user,
    by,
    tasks: Iterable[Task] = (),
    processes: Iterable[PolicyProcess] = (),
    note: str = "",
) -> list[Handover]:
    """Take over a colleague's work while they are away (or after they left): each chosen open
    step of ``from_user`` and each chosen process they are responsible for goes to ``to_user``.

    All or nothing: an item ``by`` may not hand over, or that ``to_user`` may not take, or that
    is no longer ``from_user``'s, refuses the whole reassignment. One email lists every item.
    """
    note = (note or "").strip()
    task_pks = sorted({t.pk for t in tasks})
    process_pks = sorted({p.pk for p in processes})
    if not task_pks and not process_pks:
        raise ValidationError(_("Choose at least one step or process to reassign."))
    if to_user is not None and from_user.pk == to_user.pk:
        raise ValidationError({"to_user": _("Choose someone else to take the work over.")})
    batch = new_batch()
    handovers: list[Handover] = []
    with transaction.atomic():
        # Locked in one order (by process id): two reassignments at once cannot deadlock.
        involved = set(process_pks) | set(
            Task.objects.filter(pk__in=task_pks).values_list("process_id", flat=True)
        )
        locked = {
            p.pk: p
            for p in lock_for_update(
                PolicyProcess.objects.select_related("municipality__county", "lead")
            )
            .filter(pk__in=sorted(involved))
            .order_by("pk")
        }
        for process in locked.values():
            rules.require_may_hand_over(by, process.municipality.county)
            _check_colleague(process=process, to_user=to_user)
        chosen = [locked[pk] for pk in process_pks if pk in locked]
        if len(chosen) != len(process_pks) or any(
            p.lead_id != from_user.pk or not p.is_open for p in chosen
        ):
            raise ValidationError(
                _("A chosen process is no longer %(name)s's: reload the page and choose again.")
                % {"name": _display(from_user)}
            )
        handovers += _hand_over_processes(chosen, to_user=to_user, by=by, note=note, batch=batch)
        already = {h.task_id for h in handovers}
        steps = list(
            Task.objects.select_related("owner")
            .filter(pk__in=task_pks, flow_task_type="HUMAN", status__in=OPEN)
            .order_by("pk")
        )
        if len(steps) != len(task_pks) or any(
            t.owner_id not in (from_user.pk, to_user.pk) or t.process_id not in locked
            for t in steps
        ):
            raise ValidationError(
                _("A chosen step is no longer %(name)s's: reload the page and choose again.")
                % {"name": _display(from_user)}
            )
        for task in steps:
            if task.pk in already or task.owner_id == to_user.pk:
                continue  # handed over with its process just now
            handovers.append(
                _give_step(
                    task,
                    process=locked[task.process_id],
                    kind=HandoverKind.STEP,
                    to_user=to_user,
                    by=by,
                    note=note,
                    reason=gettext_lazy("Step taken over"),
                    batch=batch,
                )
            )
        _tell(handovers, by=by, note=note)
    return handovers


def _hand_over_processes(
    processes: list[PolicyProcess], *, to_user, by, note: str, batch=None
) -> list[Handover]:
    batch = batch or new_batch()
    handovers = []
    for process in processes:
        if process.lead_id == to_user.pk:
            continue
        handovers.append(
            _record(
                process=process,
                task=None,
                kind=HandoverKind.PROCESS,
                from_user=process.lead,
                to_user=to_user,
                by=by,
                note=note,
                batch=batch,
            )
        )
        process.lead = to_user
        stamp(process, user=by, reason=gettext_lazy("Process handed over"))
        process.save(update_fields=["lead"])
        # Its open leader step follows the responsible leader.
        for task in Task.objects.select_related("owner").filter(
            process_id=process.pk, flow_task_type="HUMAN", status__in=OPEN
        ):
            if task.owner_id == to_user.pk:
                continue
            handovers.append(
                _give_step(
                    task,
                    process=process,
                    kind=HandoverKind.STEP,
                    to_user=to_user,
                    by=by,
                    note=note,
                    reason=gettext_lazy("Process handed over"),
                    batch=batch,
                )
            )
    return handovers


def _give_step(
    task: Task, *, process, kind, to_user, by, note: str, reason, batch=None
) -> Handover:
    """One step changes hands: its `Handover` row (from its owner until now, nobody for an
    unassigned step), then viewflow's transition. Every claim and hand-over of a step takes it."""
    handover = _record(
        process=process,
        task=task,
        kind=kind,
        from_user=task.owner,
        to_user=to_user,
        by=by,
        note=note,
        batch=batch,
    )
    _set_owner(task, process=process, to_user=to_user, by=by, reason=reason)
    return handover


def _record(*, process, task, kind, from_user, to_user, by, note, batch=None) -> Handover:
    handover = Handover(
        process=process,
        task=task,
        kind=kind,
        from_user=from_user,
        to_user=to_user,
        by=by,
        note=note,
        batch=batch or new_batch(),
    )
    stamp(handover, user=by, reason=HandoverKind(kind).label)
    handover.save()
    return handover


def _tell(handovers: list[Handover], *, by, note: str) -> None:
    """Email the new assignee, unless they gave the work to themselves."""
    if handovers and handovers[0].to_user_id != by.pk:
        notify.work_handed_over(handovers, by=by, note=note)
