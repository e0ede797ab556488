"""The dates of a decision record must tell a possible story, checked before anything is saved.

The order a municipality follows (DOMAIN.md): the draft is approved, the body meets, the minutes
are certified, then announced; the decision has legal force only after the appeal deadline.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import legal_dates
from .models import AnswerKind, ApprovalAnswer, PolicyProcess

# Far enough for any planned announcement, near enough that no date arithmetic can overflow.
LATEST_FUTURE = datetime.timedelta(days=366)


def _day(value: datetime.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def legal_force_problem(
    legal_force_date: datetime.date, *, deadline: datetime.date, today: datetime.date
) -> str | None:
    """Why ``legal_force_date`` cannot be a decision's date of legal force, if it cannot: the
    one rule for the decision form and for recording legal force later."""
    if legal_force_date <= deadline:
        return _("Legal force comes after the appeal deadline (%(date)s).") % {
            "date": _day(deadline)
        }
    if legal_force_date > today:
        return _("Record legal force once it is reached (not later than today).")
    return None


def approved_on(process: PolicyProcess) -> datetime.date | None:
    """The day the municipality approved the draft the decision is about (its latest approval)."""
    answered = (
        ApprovalAnswer.objects.filter(process=process, answer=AnswerKind.APPROVED)
        .order_by("-answered_at")
        .values_list("answered_at", flat=True)
        .first()
    )
    return timezone.localdate(answered) if answered else None


def check_decision_dates(
    *,
    process: PolicyProcess,
    meeting_date: datetime.date,
    certification_date: datetime.date | None,
    announcement_date: datetime.date | None,
    legal_force_date: datetime.date | None,
) -> None:
    """Raise a ValidationError naming each field whose date cannot be right."""
    today = timezone.localdate()
    errors: dict[str, str] = {}

    if meeting_date > today:
        errors["meeting_date"] = _("The meeting cannot be later than today.")
    else:
        first_contact = process.first_contacts.aggregate(first=Min("contacted_on"))["first"]
        approved = approved_on(process)
        if first_contact and meeting_date < first_contact:
            errors["meeting_date"] = _(
                "The meeting cannot be before the first contact with the municipality (%(date)s)."
            ) % {"date": _day(first_contact)}
        elif approved and meeting_date < approved:
            errors["meeting_date"] = _(
                "The meeting cannot be before the draft was approved (%(date)s)."
            ) % {"date": _day(approved)}

    too_late = today + LATEST_FUTURE
    for field, value in (
        ("certification_date", certification_date),
        ("announcement_date", announcement_date),
    ):
        if value and value > too_late:
            errors[field] = _("This date is too far in the future (later than %(date)s).") % {
                "date": _day(too_late)
            }

    if (
        "certification_date" not in errors
        and certification_date
        and certification_date < meeting_date
    ):
        errors["certification_date"] = _("Minutes are certified after the meeting.")
    if "announcement_date" not in errors and announcement_date:
        if certification_date and announcement_date < certification_date:
            errors["announcement_date"] = _("The minutes are announced after they are certified.")
        elif announcement_date < meeting_date:
            errors["announcement_date"] = _("The minutes are announced after the meeting.")
    if "legal_force_date" not in errors and legal_force_date:
        if not announcement_date or "announcement_date" in errors:
            errors["legal_force_date"] = _(
                "Give the announcement date first: legal force follows the appeal period."
            )
        else:
            deadline = legal_dates.appeal_deadline(announcement_date)
            problem = legal_force_problem(legal_force_date, deadline=deadline, today=today)
            if problem:
                errors["legal_force_date"] = problem
    if errors:
        raise ValidationError(errors)
