"""How knowledge-spreading records read in the audit timeline (registered from OutreachConfig)."""

from django.utils.translation import gettext as _

from audit import registry
from audit.models import Kind
from audit.registry import Change, Description
from municipalities.models import County

from .models import Activity, ActorType, Audience


def _county_code(county_id, memo: dict) -> str | None:
    """The county's code, for the trail's county filter (an activity has no one municipality)."""
    key = ("county", county_id)
    if key not in memo:
        memo[key] = County.objects.filter(pk=county_id).values_list("code", flat=True).first()
    return memo[key]


def _what(record) -> str:
    return _("Activity “%(title)s” on %(date)s") % {"title": record.title, "date": record.held_on}


def describe_activity(change: Change) -> Description:
    what = _what(change.record)
    county_code = _county_code(change.record.county_id, change.memo)
    if change.is_created:
        summary, kind = _("%(what)s recorded"), Kind.RECORD_CREATED
    else:
        summary, kind = _("%(what)s changed"), Kind.RECORD_CHANGED
    return Description(kind=kind, summary=summary % {"what": what}, county_code=county_code)


def describe_audience(change: Change) -> Description:
    record = change.record
    title, county_code = Activity.objects.filter(pk=record.activity_id).values_list(
        "title", "county__code"
    ).first() or (None, None)
    summary = _("Audience of “%(title)s”: %(type)s, %(total)s people") % {
        "title": title or "–",
        "type": ActorType(record.actor_type).label,
        "total": record.total,
    }
    kinds = {"+": Kind.RECORD_CREATED, "-": Kind.RECORD_DELETED}
    return Description(
        kind=kinds.get(change.history_type, Kind.RECORD_CHANGED),
        summary=summary,
        county_code=county_code,
    )


def activity_names(ids) -> dict:
    return dict(Activity.objects.filter(pk__in=ids).values_list("pk", "title"))


def register() -> None:
    # Numbers and titles only: an activity names no participant.
    registry.register(
        Activity, describe=describe_activity, names=activity_names, mentions_people=False
    )
    registry.register(Audience, describe=describe_audience, mentions_people=False)
