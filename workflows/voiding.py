"""Voiding (makulering): a mistaken draft, meeting or decision is voided with a reason, never
deleted. The record stays in place and in the history; the audit trail shows a "record voided"
event with who and why. Voiding changes no step of the flow.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors
from .audit import stamp
from .flows import PolicyAdoptionFlow
from .models import Decision, Meeting, PolicyDraft
from .services import _require_lead

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
        why = _why_the_draft_stays(locked) if isinstance(locked, PolicyDraft) else None
        if why:
            raise ValidationError(why)
        locked.is_voided = True
        locked.voided_reason = reason
        locked.voided_by = user
        locked.voided_at = timezone.now()
        stamp(locked, user=user, reason=_("Voided: %(reason)s") % {"reason": reason})
        locked.save()
    return locked
