"""Every write of knowledge spreading: recording an activity and correcting it, with the audience
it reached. Each write is one transaction, recorded in the history with its actor and reason."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from municipalities.models import County, Municipality
from workflows.audit import stamp

from .models import Activity, ActivityKind, ActorType, Audience

# More than any activity reaches (a newsletter to every municipality of a few counties), and far
# below what the database's integer columns hold.
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class Reached:
    """How many people of one actor type an activity reached (gender counts where reported)."""

    total: int
    women: int | None = None
    men: int | None = None
    other: int | None = None

    @property
    def gender_sum(self) -> int:
        return sum(n or 0 for n in (self.women, self.men, self.other))


def check_audience(audience: Mapping[str, Reached]) -> None:
    """Refuse negative counts, unknown actor types and gender counts above the total."""
    errors = []
    for actor_type, reached in audience.items():
        if actor_type not in ActorType.values:
            errors.append(_("Unknown actor type: %(type)s.") % {"type": actor_type})
            continue
        label = ActorType(actor_type).label
        counts = (reached.total, reached.women, reached.men, reached.other)
        if any(n is not None and n < 0 for n in counts):
            errors.append(_("%(type)s: a count cannot be negative.") % {"type": label})
        elif any(n is not None and n > MAX_COUNT for n in counts):
            errors.append(
                _("%(type)s: at most %(max)s people.") % {"type": label, "max": MAX_COUNT}
            )
        elif reached.gender_sum > reached.total:
            errors.append(
                _(
                    "%(type)s: women, men and other add up to %(sum)s, more than the "
                    "%(total)s people reached."
                )
                % {"type": label, "sum": reached.gender_sum, "total": reached.total}
            )
    if errors:
        raise ValidationError({"audience": errors})


def _check_municipalities(county: County, municipalities: Iterable[Municipality]) -> list:
    chosen = list(municipalities)
    outside = [m.name for m in chosen if m.county_id != county.pk]
    if outside:
        raise ValidationError(
            {
                "municipalities": _("Not in %(county)s: %(names)s.")
                % {"county": county.name, "names": ", ".join(sorted(outside))}
            }
        )
    return chosen


def _write_audience(activity: Activity, audience: Mapping[str, Reached], *, user, reason) -> None:
    """One row per actor type reached; a row whose actor type is no longer given goes (the
    history keeps it)."""
    existing = {row.actor_type: row for row in activity.audience.all()}
    for actor_type, row in existing.items():
        if actor_type not in audience:
            stamp(row, user=user, reason=reason)
            row.delete()
    for actor_type, reached in audience.items():
        row = existing.get(actor_type) or Audience(activity=activity, actor_type=actor_type)
        values = (reached.total, reached.women, reached.men, reached.other)
        if row.pk and (row.total, row.women, row.men, row.other) == values:
            continue
        row.total, row.women, row.men, row.other = values
        stamp(row, user=user, reason=reason)
        row.save()


def record_activity(
    *,
    user,
    county: County,
    kind: str,
    title: str,
    held_on: datetime.date,
    organiser: str,
    description: str = "",
    municipalities: Iterable[Municipality] = (),
    enterprises: Iterable = (),
    audience: Mapping[str, Reached],
) -> Activity:
    """Record an activity of the county's project and the audience it reached."""
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Choose a kind of activity.")})
    check_audience(audience)
    chosen = _check_municipalities(county, municipalities)
    reason = _("Activity recorded")
    with transaction.atomic():
        activity = Activity(
            county=county,
            kind=kind,
            title=title.strip(),
            held_on=held_on,
            organiser=organiser.strip(),
            description=description.strip(),
            created_by=user,
        )
        activity.full_clean(exclude=["municipalities"])
        stamp(activity, user=user, reason=reason)
        activity.save()
        if chosen:
            stamp(activity, user=user, reason=reason)
            activity.municipalities.set(chosen)
        _set_enterprises(activity, enterprises, user=user, reason=reason)
        _write_audience(activity, audience, user=user, reason=reason)
    return activity


def update_activity(
    *,
    activity: Activity,
    user,
    kind: str,
    title: str,
    held_on: datetime.date,
    organiser: str,
    description: str = "",
    municipalities: Iterable[Municipality] = (),
    enterprises: Iterable = (),
    audience: Mapping[str, Reached],
) -> Activity:
    """Correct an activity: its facts, the municipalities and ASF involved, its audience."""
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": _("Choose a kind of activity.")})
    check_audience(audience)
    chosen = _check_municipalities(activity.county, municipalities)
    reason = _("Activity corrected")
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        activity.kind = kind
        activity.title = title.strip()
        activity.held_on = held_on
        activity.organiser = organiser.strip()
        activity.description = description.strip()
        activity.full_clean(exclude=["municipalities"])
        stamp(activity, user=user, reason=reason)
        activity.save()
        if {m.pk for m in chosen} != set(activity.municipalities.values_list("pk", flat=True)):
            stamp(activity, user=user, reason=reason)
            activity.municipalities.set(chosen)
        _set_enterprises(activity, enterprises, user=user, reason=reason)
        _write_audience(activity, audience, user=user, reason=reason)
    return activity


def _set_enterprises(activity: Activity, enterprises: Iterable, *, user, reason) -> None:
    """The ASF involved, from the county's register."""
    chosen = list(enterprises)
    outside = [e.name for e in chosen if e.county_id != activity.county_id]
    if outside:
        raise ValidationError(
            {
                "enterprises": _("Not in the county's register: %(names)s.")
                % {"names": ", ".join(sorted(outside))}
            }
        )
    if {e.pk for e in chosen} != set(activity.enterprises.values_list("pk", flat=True)):
        stamp(activity, user=user, reason=reason)
        activity.enterprises.set(chosen)
