"""Every read of the open interfaces, scoped to the counties the user may read
(`municipalities.scoping`, the pages' own rules), with a number of queries that does not grow
with the data."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from municipalities import scoping
from municipalities.models import County, Municipality
from workflows.models import CLOSED_STAGES, Decision, Meeting, PolicyProcess
from workflows.stage_limits import due_expression


def counties(user) -> QuerySet[County]:
    return scoping.visible_counties(user).select_related("project").order_by("code")


def municipalities(user, *, county_code: str | None = None) -> QuerySet[Municipality]:
    qs = scoping.scoped(Municipality.objects.select_related("county"), user, county_field="county")
    if county_code:
        qs = qs.filter(county__code=county_code)
    return qs.order_by("code")


def processes(user, *, county_code: str | None = None, stage: str | None = None) -> QuerySet:
    qs = scoping.scoped(
        PolicyProcess.objects.select_related("municipality__county", "lead").annotate(
            due=due_expression()
        ),
        user,
    )
    if county_code:
        qs = qs.filter(municipality__county__code=county_code)
    if stage:
        qs = qs.filter(stage=stage)
    return qs.order_by("id")


def decisions(user, *, county_code: str | None = None) -> QuerySet[Decision]:
    qs = scoping.scoped(
        Decision.objects.select_related("process__municipality__county"),
        user,
        county_field="process__municipality__county",
    )
    if county_code:
        qs = qs.filter(process__municipality__county__code=county_code)
    return qs.order_by("id")


def visible_county_codes(user) -> list[str] | None:
    """Codes of the counties ``user`` reads, None for all (one query at most)."""
    if scoping.visible_county_ids(user) is None:
        return None
    return list(scoping.visible_counties(user).values_list("code", flat=True))


def personal_data_county_codes(user) -> set[str] | None:
    ids = scoping.personal_data_county_ids(user)
    if ids is None:
        return None
    return set(County.objects.filter(pk__in=ids).values_list("code", flat=True))


def audit_events(user, *, county_code: str | None = None) -> QuerySet[AuditEvent]:
    """The audit trail's events of the user's counties, newest first. Events that belong to no
    county (accounts, tokens) are for those who read every county."""
    qs = AuditEvent.objects.all()
    codes = visible_county_codes(user)
    if codes is not None:
        qs = qs.filter(county_code__in=codes)
    if county_code:
        qs = qs.filter(county_code=county_code)
    return qs.order_by("-id")


# --- Calendar feeds ------------------------------------------------------------------------------

# How far back a feed reaches: a calendar wants what is coming and the recent past, and the
# feed's size must not grow with the years of the record.
FEED_PAST = datetime.timedelta(days=365)


def feed_meetings(user, *, since: datetime.date) -> QuerySet[Meeting]:
    return scoping.scoped(
        Meeting.objects.filter(is_voided=False, held_on__gte=since).select_related(
            "process__municipality__county"
        ),
        user,
        county_field="process__municipality__county",
    ).order_by("held_on", "pk")


def feed_decisions(user, *, since: datetime.date) -> QuerySet[Decision]:
    from django.db.models import Q

    recent = Q(meeting_date__gte=since) | Q(appeal_deadline__gte=since)
    recent |= Q(legal_force_date__gte=since)
    return scoping.scoped(
        Decision.objects.filter(recent, is_voided=False).select_related(
            "process__municipality__county"
        ),
        user,
        county_field="process__municipality__county",
    ).order_by("meeting_date", "pk")


def feed_stage_due(user) -> QuerySet[PolicyProcess]:
    """Open processes with the day their stage is due (they count as stalled after it)."""
    return scoping.scoped(
        PolicyProcess.objects.exclude(stage__in=CLOSED_STAGES)
        .select_related("municipality__county")
        .annotate(due=due_expression()),
        user,
    ).order_by("id")


def feed_since() -> datetime.date:
    return timezone.localdate() - FEED_PAST


# --- The other aims: the ASF register, knowledge spreading, the collaboration organisation -------


def enterprises(user, *, county_code: str | None = None):
    """The ASF register of the user's counties (their own county field, as the register's pages)."""
    from enterprises.models import Enterprise

    qs = scoping.scoped(
        Enterprise.objects.select_related("county").prefetch_related("municipalities"),
        user,
        county_field="county",
    )
    if county_code:
        qs = qs.filter(county__code=county_code)
    return qs.order_by("id")


def activities(user, *, county_code: str | None = None):
    """Knowledge-spreading activities with their audience rows (in the actor types' order)."""
    from outreach.models import Activity

    qs = scoping.scoped(
        Activity.objects.select_related("county").prefetch_related(
            "municipalities", "enterprises", "audience"
        ),
        user,
        county_field="county",
    )
    if county_code:
        qs = qs.filter(county__code=county_code)
    return qs.order_by("id")


def _network(queryset: QuerySet, user, county_code: str | None, *, via: str) -> QuerySet:
    qs = scoping.scoped(queryset, user, county_field=via)
    if county_code:
        qs = qs.filter(**{f"{via}__code": county_code})
    return qs.order_by("id")


def network_organisations(user, *, county_code: str | None = None):
    from network.models import Organisation

    return _network(Organisation.objects.select_related("county"), user, county_code, via="county")


def network_members(user, *, county_code: str | None = None):
    from network.models import Member

    return _network(
        Member.objects.select_related("organisation__county", "enterprise"),
        user,
        county_code,
        via="organisation__county",
    )


def network_meetings(user, *, county_code: str | None = None):
    from network.models import NetworkMeeting

    return _network(
        NetworkMeeting.objects.select_related("organisation__county").prefetch_related("attendees"),
        user,
        county_code,
        via="organisation__county",
    )


def network_milestones(user, *, county_code: str | None = None):
    from network.models import Milestone

    return _network(
        Milestone.objects.select_related("organisation__county"),
        user,
        county_code,
        via="organisation__county",
    )
