"""Voiding (makulering): a mistaken draft, meeting or decision is voided with a reason, never
deleted. The record stays in place and in the history; the audit trail shows a "record voided"
event with who and why. Voiding changes no step of the flow.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from .audit import stamp
from .flows import PolicyAdoptionFlow
from .models import Decision, Meeting, PolicyDraft
from .services import OPEN_TASK_STATUSES, _require_lead

# The URL's word for each voidable record.
VOIDABLE = {"draft": PolicyDraft, "meeting": Meeting, "decision": Decision}
REASON_MAX_LENGTH = 1000


def _out_for_approval(draft: PolicyDraft) -> bool:
    """The draft is the one a contact may still approve through a live task link."""
    return (
        Task.objects.filter(
            process_id=draft.process_id,
            flow_task=PolicyAdoptionFlow.approval,
            status__in=OPEN_TASK_STATUSES,
        ).exists()
        and not draft.process.drafts.filter(version__gt=draft.version).exists()
    )


def void_record(*, record, user, reason: str):
    """Void ``record`` (a PolicyDraft, Meeting or Decision) with ``reason``; return it voided."""
    _require_lead(user)
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
        if isinstance(locked, PolicyDraft) and _out_for_approval(locked):
            raise ValidationError(
                _(
                    "This draft is out for approval. Record the municipality's answer first "
                    "(changes requested, if it is wrong), then void it."
                )
            )
        locked.is_voided = True
        locked.voided_reason = reason
        locked.voided_by = user
        locked.voided_at = timezone.now()
        stamp(locked, user=user, reason=_("Voided: %(reason)s") % {"reason": reason})
        locked.save()
    return locked
