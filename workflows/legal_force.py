"""What is learnt after a decision is recorded: an appeal lodged, and the day it has legal force.

Legal force (laga kraft) comes the day after the appeal deadline when nobody appealed; when
someone did, only once the court's ruling has legal force. Both are recorded later, each an
audited change of the decision with who, when and why.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from . import legal_dates
from .audit import site_reason, stamp
from .decision_dates import legal_force_problem
from .flows import PolicyAdoptionFlow
from .models import Decision
from .services import _county_of, _require_lead


def _live_decision(decision: Decision) -> Decision:
    locked = Decision.objects.select_for_update().get(pk=decision.pk)
    if locked.is_voided:
        raise ValidationError(_("The decision is voided."))
    if locked.legal_force_date:
        raise ValidationError(_("The decision's legal force is already recorded."))
    if not locked.announcement_date:
        raise ValidationError(
            _("The decision has no announcement date: correct the decision to add it.")
        )
    return locked


def record_appeal(
    *, decision: Decision, user, case_number: str, lodged_on: datetime.date
) -> Decision:
    """Someone appealed the decision; the court's case number is known. Legal force waits."""
    _require_lead(user, _county_of(decision.process_id))
    case_number = (case_number or "").strip()
    if not case_number:
        raise ValidationError({"case_number": _("Give the court's case number.")})
    with PolicyAdoptionFlow.lock(decision.process_id):
        locked = _live_decision(decision)
        if locked.is_appealed:
            raise ValidationError(_("An appeal is already recorded."))
        if lodged_on > timezone.localdate():
            raise ValidationError({"lodged_on": _("The appeal cannot be lodged later than today.")})
        if lodged_on < locked.announcement_date:
            raise ValidationError(
                {"lodged_on": _("An appeal is lodged after the minutes were announced.")}
            )
        locked.appeal_case_number = case_number
        locked.appeal_lodged_on = lodged_on
        reason = site_reason(gettext_noop("Appeal recorded: %(case)s"), case=case_number)
        stamp(locked, user=user, reason=reason)
        locked.save()
    return locked


def record_legal_force(*, decision: Decision, user, legal_force_date: datetime.date) -> Decision:
    """The decision has legal force from ``legal_force_date`` (after its appeal deadline)."""
    _require_lead(user, _county_of(decision.process_id))
    with PolicyAdoptionFlow.lock(decision.process_id):
        locked = _live_decision(decision)
        problem = legal_force_problem(
            legal_force_date, deadline=locked.appeal_deadline, today=timezone.localdate()
        )
        if problem:
            raise ValidationError({"legal_force_date": problem})
        locked.legal_force_date = legal_force_date
        reason = site_reason(
            gettext_noop("Legal force recorded: from %(date)s"), date=legal_force_date.isoformat()
        )
        stamp(locked, user=user, reason=reason)
        locked.save()
    return locked


def recompute_appeal_deadlines() -> int:
    """Correct the appeal deadlines stored before they followed lag (1930:173) (announcement +
    21 days, always): each changed decision is saved with its history and a reason. Returns
    how many changed."""
    changed = 0
    stale = Decision.objects.filter(announcement_date__isnull=False).only("pk", "process_id")
    for candidate in stale.iterator():
        with PolicyAdoptionFlow.lock(candidate.process_id):
            decision = Decision.objects.select_for_update().get(pk=candidate.pk)
            if decision.appeal_deadline == legal_dates.appeal_deadline(decision.announcement_date):
                continue
            stamp(
                decision,
                reason=gettext_lazy("Appeal deadline recomputed under lag (1930:173)"),
            )
            decision.save()  # save() computes the deadline
            changed += 1
    return changed
