"""Voiding (makulering): a mistaken draft, meeting or decision is voided with a reason, never
deleted. The record stays in place and in the history; the audit trail shows a "record voided"
event with who and why. Voiding a draft or meeting changes no step of the flow; voiding the
latest decision opens the decision step again (`workflows.reopening`).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from . import selectors
from .audit import site_reason, stamp
from .flows import PolicyAdoptionFlow
from .models import Decision, Meeting, PolicyDraft, Stage
from .reopening import reopen_decision_step
from .services import (
    _county_of,
    _enter_stage,
    _require_lead,
    lock_process_of_step,
    record_decision,
)

# The URL's word for each voidable record.
VOIDABLE = {"draft": PolicyDraft, "meeting": Meeting, "decision": Decision}
REASON_MAX_LENGTH = 1000


def _why_the_draft_stays(draft: PolicyDraft) -> str | None:
    """Why the latest draft may not be voided now, if it may not: once written, only the draft
    step can follow it with a new version, so while a later step is open (sending it for
    approval, or a contact's approval through a live link) it must stay."""
    if draft.process.drafts.filter(version__gt=draft.version).exists():
        return None  # an earlier version: nothing waits on it
    task = selectors.open_task_at(
        process_id=draft.process_id,
        nodes=[PolicyAdoptionFlow.request_approval, PolicyAdoptionFlow.approval],
    )
    if task is None:
        return None
    if task.flow_task == PolicyAdoptionFlow.approval:
        return _(
            "This draft is out for approval. Record the municipality's answer first "
            "(changes requested, if it is wrong), then void it."
        )
    return _(
        "This draft is the one to send for approval: nothing could be sent in its place. Send "
        "it, record the answer (changes requested, if it is wrong), then void it."
    )


def void_record(*, record, user, reason: str):
    """Void ``record`` (a PolicyDraft, Meeting or Decision) with ``reason``; return it voided."""
    voided, _reopened = _void(record=record, user=user, reason=reason)
    return voided


def _void(*, record, user, reason: str):
    """`void_record`, also returning the decision step that voiding a decision opened again
    (None when nothing was reopened)."""
    _require_lead(user, _county_of(record.process_id))
    if type(record) not in VOIDABLE.values():
        raise ValidationError(_("This kind of record cannot be voided."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the record is voided.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX_LENGTH}}
        )
    with PolicyAdoptionFlow.lock(record.process_id):
        locked = type(record).objects.select_for_update().get(pk=record.pk)
        if locked.is_voided:
            raise ValidationError(_("The record is already voided."))
        why = _why_the_draft_stays(locked) if isinstance(locked, PolicyDraft) else None
        if why:
            raise ValidationError(why)
        locked.is_voided = True
        locked.voided_reason = reason
        locked.voided_by = user
        locked.voided_at = timezone.now()
        stamp(
            locked, user=user, reason=site_reason(gettext_noop("Voided: %(reason)s"), reason=reason)
        )
        locked.save()
        reopened = None
        if isinstance(locked, Decision) and _is_latest_decision(locked):
            reopened = _reopen_decision(locked, user=user)
    return locked, reopened


def _is_latest_decision(decision: Decision) -> bool:
    return not Decision.objects.filter(
        process_id=decision.process_id, recorded_at__gt=decision.recorded_at
    ).exists()


def _reopen_decision(decision: Decision, *, user):
    """The process waits for its decision again, with the decision step open (DOMAIN.md: a
    decision recorded by mistake is voided and recorded again)."""
    process = lock_process_of_step(decision.process_id)
    reason = gettext_lazy("Decision voided: the decision step is open again")
    task = reopen_decision_step(process=process, user=user, reason=reason)
    if task is not None:
        _enter_stage(process, Stage.AWAITING_DECISION, user=user, reason=reason)
    return task


def correct_decision(*, decision: Decision, user, reason: str, **fields) -> Decision:
    """Void ``decision`` with ``reason`` and record ``fields`` in its place, all or nothing: the
    leader's one page for a decision recorded wrongly. A minutes file not replaced is kept."""
    with transaction.atomic():
        # Recorded only at the step this decision's voiding opened again: a decision step open
        # for a later round (the process moved on after a postponement) is not this one's.
        _voided, task = _void(record=decision, user=user, reason=reason)
        if task is None:
            raise ValidationError(
                _(
                    "The process has moved on since this decision: void it, then record the "
                    "next decision at its own step."
                )
            )
        if not fields.get("minutes_file") and decision.minutes_file:
            fields |= {
                "minutes_file": decision.minutes_file,
                "minutes_file_name": decision.minutes_file_name,
                "minutes_content_type": decision.minutes_content_type,
                "minutes_sha256": decision.minutes_sha256,
            }
        return record_decision(task=task, user=user, **fields)
