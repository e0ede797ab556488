"""Voiding (makulering): a mistaken draft, meeting or decision is voided with a reason, never
deleted. The record stays in place and in the history; the audit trail shows a "record voided"
event with who and why. Voiding changes no step of the flow.
"""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import stamp
from .flows import PolicyAdoptionFlow
from .models import Decision, Meeting, PolicyDraft
from .services import _require_lead

# The URL's word for each voidable record.
VOIDABLE = {"draft": PolicyDraft, "meeting": Meeting, "decision": Decision}
REASON_MAX_LENGTH = 1000


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
        locked.is_voided = True
        locked.voided_reason = reason
        locked.voided_by = user
        locked.voided_at = timezone.now()
        stamp(locked, user=user, reason=_("Voided: %(reason)s") % {"reason": reason})
        locked.save()
    return locked
