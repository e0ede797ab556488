"""Every write a user can cause in the policy adoption. Views, commands and tasks call these.

Each step runs under the flow's row lock on the process (select_for_update), so a step
completed twice at once completes once: the second caller gets `StepAlreadyDone`.
"""

import datetime
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from municipalities import scoping
from municipalities.models import Contact, County, Municipality

from . import minutes, notify
from .audit import site_reason, stamp
from .decision_dates import check_decision_dates
from .flows import LEAD, PolicyAdoptionFlow
from .locking import lock_for_update
from .models import (
    CLOSED_STAGES,
    AnswerKind,
    ApprovalAnswer,
    Decision,
    DecisionOutcome,
    FirstContact,
    Meeting,
    PolicyDraft,
    PolicyProcess,
    PolicyTemplate,
    Stage,
)

OPEN_TASK_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class StepAlreadyDone(Exception):
    """The task was completed (or cancelled) by someone else first."""


def _require_lead(user, county) -> None:
    """``user`` leads ``county`` (a County or its id): every write a leader makes asks this, so
    a leader of another county is refused whichever door they take (page, command, task)."""
    if user is None or not user.has_perm(LEAD):
        raise PermissionDenied(_("Only project leaders can do this."))
    if not scoping.can_lead(user, county):
        raise PermissionDenied(_("Only the county's project leaders can do this."))


def _county_of(process_id: int) -> int | None:
    return (
        PolicyProcess.objects.filter(pk=process_id)
        .values_list("municipality__county_id", flat=True)
        .first()
    )


def _enter_stage(process: PolicyProcess, stage: Stage, *, user, reason: str) -> None:
    if process.stage == stage:
        # Nothing of the process changes (a new draft keeps it in drafting): no history record
        # of an unchanged row; the step's own records carry the reason.
        return
    process.stage = stage
    process.stage_entered_at = timezone.now()
    stamp(process, user=user, reason=reason)
    # Only our table: viewflow's half of the process holds nothing a step changes, and
    # rewriting it unchanged cost a statement per step. The history row still records the whole
    # process (simple-history reads the instance, loaded under the flow's lock).
    process.save(update_fields=["stage", "stage_entered_at"])


# --- Starting ---------------------------------------------------------------------------------


def start_process(*, municipality: Municipality, user) -> PolicyProcess:
    """Open a policy process for one municipality, led by ``user``."""
    _require_lead(user, municipality.county_id)
    if (
        PolicyProcess.objects.filter(municipality=municipality)
        .exclude(stage__in=CLOSED_STAGES)
        .exists()
    ):
        raise ValidationError(
            _("%(municipality)s already has an open process.") % {"municipality": municipality}
        )
    try:
        with transaction.atomic():
            process = PolicyAdoptionFlow.start.run(municipality=municipality, lead=user)
    except IntegrityError as exc:  # a concurrent start won the race
        raise ValidationError(
            _("%(municipality)s already has an open process.") % {"municipality": municipality}
        ) from exc
    return process


def start_processes_for_county(*, county: County, user) -> list[PolicyProcess]:
    """Open a process for every municipality of ``county`` that has none open."""
    _require_lead(user, county)
    started = []
    for municipality in county_municipalities_without_open_process(county):
        try:
            started.append(start_process(municipality=municipality, user=user))
        except ValidationError:
            continue  # opened by someone else meanwhile: nothing to do
    return started


def county_municipalities_without_open_process(county: County):
    open_ids = PolicyProcess.objects.exclude(stage__in=CLOSED_STAGES).values("municipality_id")
    return county.municipalities.exclude(pk__in=open_ids).order_by("code")


# --- Completing a project leader's step -------------------------------------------------------


@contextmanager
def _human_step(*, task: Task, node, user, reason: str, savepoint: bool = True) -> Iterator:
    """Lock the process, check the task is still open at ``node``, and complete it on exit.

    ``savepoint=False``: the caller's own transaction holds the step and rolls back whole when
    it fails (no savepoint of its own, two statements fewer)."""
    if user is None or not user.has_perm(LEAD):
        raise PermissionDenied(_("Only project leaders can do this."))
    with transaction.atomic(savepoint=savepoint):
        # The flow's lock, taken by the query that loads what the step uses: the process, its
        # municipality and county, its leader and its latest draft's version (viewflow would load
        # the process twice, as its base and as our subclass, and each related row on first use).
        process = lock_process_of_step(task.process_id)
        _require_lead(user, process.municipality.county_id)
        # Read after the lock: a step completed meanwhile shows here, and nothing else the
        # query above read (from before its wait for the lock) can have changed unless it was.
        task.refresh_from_db()
        if task.flow_task != node or task.status not in OPEN_TASK_STATUSES:
            raise StepAlreadyDone(_("This step has already been completed."))
        task.process = process
        activation = node.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(user)
        elif task.owner_id != user.pk:
            task.owner = user  # another project leader takes over the step
        if task.status != STATUS.STARTED:
            activation.start(None)
        yield activation
        stamp(task, user=user, reason=reason)
        activation.execute()


# What a step and the flow's callbacks read of the process: its municipality and county (the
# scope checks, the next step's assignment, the emails) and its leader, in the query that loads it.
_STEP_RELATED = ("municipality__county", "lead")


def lock_process_of_step(process_id: int | Subquery) -> PolicyProcess:
    """The step's process, locked and loaded with what the step uses (``process_id``: its id,
    or a subquery of one row that finds it)."""
    latest_version = (
        PolicyDraft.objects.filter(process=OuterRef("pk")).order_by("-version").values("version")
    )
    return lock_for_update(
        PolicyProcess.objects.select_related(*_STEP_RELATED).annotate(
            latest_draft_version=Subquery(latest_version[:1])
        )
    ).get(pk=process_id)


def record_first_contact(
    *,
    task: Task,
    user,
    contacted_on: datetime.date,
    channel: str,
    contacts: Iterable[Contact],
    approvers: Iterable[Contact],
    notes: str = "",
) -> FirstContact:
    with _human_step(
        task=task,
        node=PolicyAdoptionFlow.contact,
        user=user,
        reason=gettext_lazy("First contact recorded"),
    ) as activation:
        process = activation.process
        contacts, approvers = list(contacts), list(approvers)
        _check_contacts_belong(process, contacts + approvers)
        record = FirstContact(
            process=process,
            contacted_on=contacted_on,
            channel=channel,
            notes=notes,
            recorded_by=user,
        )
        stamp(record, user=user, reason=gettext_lazy("First contact recorded"))
        record.save()
        # A new record has no contacts yet: add(), not set(), which would read them first.
        record.contacts.add(*contacts)
        # The history record of the new approvers carries the step's actor and reason.
        stamp(process, user=user, reason=gettext_lazy("First contact recorded"))
        process.approvers.set(approvers)
        _enter_stage(
            process, Stage.DIALOGUE, user=user, reason=gettext_lazy("First contact recorded")
        )
    return record


def _check_contacts_belong(process: PolicyProcess, contacts: Iterable[Contact]) -> None:
    if any(c.municipality_id != process.municipality_id for c in contacts):
        raise ValidationError(_("Contact persons must belong to the process's municipality."))


def record_meeting(
    *, process: PolicyProcess, user, held_on: datetime.date, participants: str, notes: str = ""
) -> Meeting:
    """Add a meeting to the dialogue; the step stays open until the leader completes it."""
    _require_lead(user, process.municipality.county_id)
    with PolicyAdoptionFlow.lock(process.pk):
        process.refresh_from_db()
        if not process.is_open:
            raise ValidationError(_("The process is closed."))
        meeting = Meeting(
            process=process,
            held_on=held_on,
            participants=participants,
            notes=notes,
            recorded_by=user,
        )
        stamp(meeting, user=user, reason=gettext_lazy("Meeting recorded"))
        meeting.save()
    return meeting


def complete_dialogue(*, task: Task, user, confirm: bool = True) -> None:
    """Close the dialogue and start drafting; ``confirm`` is the project leader's tick that the
    dialogue is ready (the page asks for it)."""
    if not confirm:
        raise ValidationError(_("Confirm that the dialogue is ready for a draft."))
    with _human_step(
        task=task,
        node=PolicyAdoptionFlow.dialogue,
        user=user,
        reason=gettext_lazy("Dialogue completed, ready to draft"),
    ) as activation:
        process = activation.process
        if not process.meetings.exists():
            raise ValidationError(_("Record at least one meeting before drafting."))
        _enter_stage(process, Stage.DRAFTING, user=user, reason=gettext_lazy("Dialogue completed"))


@dataclass(frozen=True)
class DraftText:
    competition_section: str
    customer_section: str
    other_text: str


def draft_starting_text(process: PolicyProcess) -> DraftText:
    """The last version's text, or the default policy template for a first draft."""
    last = process.drafts.order_by("-version").first()
    source = last or PolicyTemplate.objects.filter(is_default=True).first()
    if source is None:
        return DraftText("", "", "")
    return DraftText(source.competition_section, source.customer_section, source.other_text)


def write_draft(
    *,
    task: Task,
    user,
    competition_section: str,
    customer_section: str,
    other_text: str = "",
    change_note: str = "",
) -> PolicyDraft:
    """Write a new draft version (every earlier version is kept)."""
    with _human_step(
        task=task, node=PolicyAdoptionFlow.draft, user=user, reason=gettext_lazy("Draft written")
    ) as activation:
        process = activation.process
        draft = PolicyDraft(
            process=process,
            version=(process.latest_draft_version or 0) + 1,
            competition_section=competition_section,
            customer_section=customer_section,
            other_text=other_text,
            change_note=change_note,
            created_by=user,
        )
        reason = site_reason(
            gettext_noop("Draft version %(version)s written"), version=draft.version
        )
        stamp(draft, user=user, reason=reason)
        draft.save()
        _enter_stage(process, Stage.DRAFTING, user=user, reason=reason)
    return draft


def request_approval(*, task: Task, user, approvers: Iterable[Contact]) -> list:
    """Send the latest draft to the municipality's contact person(s) for approval.

    Completes the step and issues one task link per contact in the same transaction.
    Returns the issued links (their URLs hold the tokens: show once, email, never log).
    """
    # task_links builds on this module's answer_approval, so it is imported here.
    from .task_links import issue_links

    approvers = list(approvers)
    # One transaction: the step's first query takes the flow's lock, held until the links below
    # are issued and the transaction ends (the step needs no savepoint inside it: whatever fails
    # rolls the whole transaction back).
    with transaction.atomic():
        with _human_step(
            task=task,
            node=PolicyAdoptionFlow.request_approval,
            user=user,
            reason=gettext_lazy("Approval requested"),
            savepoint=False,
        ) as activation:
            process = activation.process
            approvers = [c for c in approvers if c.is_active]
            if not approvers:
                raise ValidationError(_("Choose at least one active contact person."))
            _check_contacts_belong(process, approvers)
            latest = process.drafts.order_by("-version").first()
            if latest is None:
                raise ValidationError(_("There is no draft to approve."))
            if latest.is_voided:
                raise ValidationError(_("The latest draft is voided: write a new version first."))
            stamp(process, user=user, reason=gettext_lazy("Approval requested"))
            process.approvers.set(approvers)
            _enter_stage(
                process,
                Stage.AWAITING_APPROVAL,
                user=user,
                reason=gettext_lazy("Approval requested"),
            )
        approval_task = Task.objects.get(
            process_id=task.process_id,
            flow_task=PolicyAdoptionFlow.approval,
            status__in=OPEN_TASK_STATUSES,
        )
        # The process and its latest draft as the step read them, under the lock it still holds.
        issued = issue_links(
            task=approval_task, contacts=approvers, user=user, process=process, draft=latest
        )
        notify.approval_requested(process, issued, sender=user)
        return issued


def answer_approval(
    *,
    task: Task,
    contact: Contact,
    answer: str,
    comment: str = "",
    via_link=None,
    recorded_by=None,
) -> ApprovalAnswer:
    """Record the municipal contact's answer to the latest draft and move the flow on.

    Approved leads to the decision step; changes requested leads back to the draft step.
    The answer comes through the contact's task link (``via_link``), or is recorded by a
    project leader who received it another way (``recorded_by``).
    """
    if recorded_by is not None:
        _require_lead(recorded_by, _county_of(task.process_id))
    comment = _checked_answer(answer, comment)
    with transaction.atomic():
        # The flow's lock, taken by the query that loads the process (as a leader's step).
        process = lock_process_of_step(task.process_id)
        task.refresh_from_db()
        return answer_approval_locked(
            process=process,
            task=task,
            contact=contact,
            answer=answer,
            comment=comment,
            via_link=via_link,
            recorded_by=recorded_by,
        )


def _checked_answer(answer: str, comment: str) -> str:
    """The answer's comment, stripped; raises ValidationError for an answer it does not make."""
    comment = comment.strip()
    if answer not in AnswerKind.values:
        raise ValidationError(_("Unknown answer."))
    if answer == AnswerKind.CHANGES_REQUESTED and not comment:
        raise ValidationError({"comment": _("Say what should change.")})
    return comment


def answer_approval_locked(
    *,
    process: PolicyProcess,
    task: Task,
    contact: Contact,
    answer: str,
    comment: str = "",
    via_link=None,
    recorded_by=None,
) -> ApprovalAnswer:
    """`answer_approval` in the caller's transaction, which holds the flow's lock: ``process`` was
    loaded by `lock_process_of_step` and ``task`` read after it (a task link's answer reads the
    task with its link, under the same lock). The caller checked who answers."""
    comment = _checked_answer(answer, comment)
    if task.flow_task != PolicyAdoptionFlow.approval or task.status not in OPEN_TASK_STATUSES:
        raise StepAlreadyDone(_("This draft has already been answered."))
    if not process.approvers.filter(pk=contact.pk).exists():
        raise PermissionDenied(_("This contact person is not asked to approve this draft."))
    draft = process.drafts.order_by("-version").first()
    record = ApprovalAnswer(
        process=process,
        draft=draft,
        contact=contact,
        answer=answer,
        comment=comment,
        via_link=via_link,
        recorded_by=recorded_by,
    )
    reason = site_reason(
        gettext_noop("%(answer)s by %(contact)s"),
        answer=AnswerKind(answer).label,
        contact=contact.name,
    )
    stamp(record, reason=reason)
    record.save()
    next_stage = Stage.AWAITING_DECISION if answer == AnswerKind.APPROVED else Stage.DRAFTING
    _enter_stage(process, next_stage, user=None, reason=reason)
    stamp(task, reason=reason)
    # What `Handle.run` does (the flow's lock, the task read, the node's callback run by the
    # activation, which then completes the task and activates the next nodes), on the task and
    # process this step already locked and read: viewflow would lock and load both again.
    # The gateway after it reads the new stage from this process.
    task.process = process
    activation = PolicyAdoptionFlow.approval.activation_class(task)
    activation.run(PolicyAdoptionFlow.instance.answered)
    activation.execute()
    notify.answer_received(record)
    return record


def open_approval_task(process: PolicyProcess) -> Task:
    """The approval task of ``process`` that waits for the contact's answer."""
    task = (
        Task.objects.filter(
            process_id=process.pk,
            flow_task=PolicyAdoptionFlow.approval,
            status__in=OPEN_TASK_STATUSES,
        )
        .order_by("-created")
        .first()
    )
    if task is None:
        raise ValidationError(_("No draft is waiting for approval."))
    return task


def record_answer_received_another_way(
    *, process: PolicyProcess, user, contact: Contact, answer: str, comment: str = ""
) -> ApprovalAnswer:
    """A project leader records the answer a contact gave by phone or email, not by link."""
    return answer_approval(
        task=open_approval_task(process),
        contact=contact,
        answer=answer,
        comment=comment,
        recorded_by=user,
    )


def normalised_paragraph(paragraph: str) -> str:
    """The paragraph number as the minutes number it: "§ 7", "§7" and "7" are all "7" (pages
    print the "§")."""
    return (paragraph or "").strip().lstrip("§").strip()


def _decision_errors(*, task: Task, user, fields: dict) -> ValidationError | None:
    """What `full_clean` finds wrong in the decision's own fields and constraints (None: nothing).

    Checked before the step's transaction, reported inside it where it always was (after the
    permission and the step's own checks): Django checks each constraint with a query, which in
    a transaction takes a savepoint of its own (three statements each), and a decision's fields
    and constraints depend on nothing the step's lock protects."""
    decision = Decision(process_id=task.process_id, recorded_by=user, **fields)
    decision.paragraph = normalised_paragraph(decision.paragraph)
    try:
        decision.full_clean(exclude=["process", "recorded_by"])
    except ValidationError as error:
        return error
    return None


def record_decision(*, task: Task, user, **fields) -> Decision:
    """Record the municipality's formal decision; adopted/rejected ends the process."""
    upload = fields.get("minutes_file")
    if isinstance(upload, UploadedFile):
        # Checked (and hashed) before the step takes the process's lock.
        content_type, sha256 = minutes.check_upload(upload)
        fields |= {
            "minutes_content_type": content_type,
            "minutes_sha256": sha256,
            "minutes_file_name": minutes.original_name(upload),
        }
    invalid = _decision_errors(task=task, user=user, fields=fields)
    with _human_step(
        task=task,
        node=PolicyAdoptionFlow.decision,
        user=user,
        reason=gettext_lazy("Decision recorded"),
    ) as activation:
        process = activation.process
        decision = Decision(process=process, recorded_by=user, **fields)
        decision.paragraph = normalised_paragraph(decision.paragraph)
        if invalid is not None:
            raise invalid
        check_decision_dates(
            process=process,
            meeting_date=decision.meeting_date,
            certification_date=decision.certification_date,
            announcement_date=decision.announcement_date,
            legal_force_date=decision.legal_force_date,
        )
        reason = site_reason(
            gettext_noop("Decision recorded: %(outcome)s"),
            outcome=DecisionOutcome(decision.outcome).label,
        )
        stamp(decision, user=user, reason=reason)
        decision.save()
        notify.decision_recorded(decision)
        next_stage = {
            DecisionOutcome.ADOPTED: Stage.ADOPTED,
            DecisionOutcome.REJECTED: Stage.REJECTED,
        }.get(decision.outcome, Stage.DIALOGUE)
        _enter_stage(process, next_stage, user=user, reason=reason)
    return decision
