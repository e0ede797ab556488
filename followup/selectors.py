"""The follow-up of the whole project for one period and the counties a reader chose: each aim's
figures, in a fixed number of queries whatever the amount of data (aggregates in the database,
the policy stages from one read of the process history)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises import selectors as enterprise_selectors
from municipalities import scoping
from municipalities.models import County, Municipality
from network.models import Member, Milestone, NetworkMeeting
from outreach.models import Activity, ActivityKind, ActorType, Audience
from workflows.models import Decision, DecisionOutcome, PolicyProcess, Stage
from workflows.overview.figures import STAGE_RANK, stage_visits

from .periods import Period

ALL = "all"


# --- Aim 1: knowledge spreading -------------------------------------------------------------


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    activities: int
    reached: int


@dataclass(frozen=True)
class ActorCount:
    actor_type: str
    label: str
    total: int
    women: int
    men: int
    other: int
    # People of the actor type reached at activities that reported no gender for them.
    not_reported: int


@dataclass(frozen=True)
class Outreach:
    kinds: list[KindCount]
    actors: list[ActorCount]

    @property
    def activities(self) -> int:
        return sum(k.activities for k in self.kinds)

    @property
    def reached(self) -> int:
        return sum(a.total for a in self.actors)

    @property
    def women(self) -> int:
        return sum(a.women for a in self.actors)

    @property
    def men(self) -> int:
        return sum(a.men for a in self.actors)

    @property
    def other(self) -> int:
        return sum(a.other for a in self.actors)

    @property
    def not_reported(self) -> int:
        return sum(a.not_reported for a in self.actors)


def outreach_figures(*, county_ids: list[int], period: Period) -> Outreach:
    """Activities by kind and people reached by actor type in the period (2 queries)."""
    activities = Activity.objects.filter(
        county_id__in=county_ids, held_on__range=(period.start, period.end)
    )
    by_kind = {
        row["kind"]: row
        for row in activities.values("kind").annotate(n=Count("pk", distinct=True)).order_by()
    }
    reached_by_kind = dict(
        Audience.objects.filter(activity__in=activities)
        .values("activity__kind")
        .annotate(n=Sum("total"))
        .order_by()
        .values_list("activity__kind", "n")
    )
    kinds = [
        KindCount(
            kind.value,
            str(kind.label),
            by_kind[kind.value]["n"] if kind.value in by_kind else 0,
            reached_by_kind.get(kind.value) or 0,
        )
        for kind in ActivityKind
    ]
    rows = {
        row["actor_type"]: row
        for row in Audience.objects.filter(activity__in=activities)
        .values("actor_type")
        .annotate(
            reached=Sum("total"),
            women_sum=Sum("women"),
            men_sum=Sum("men"),
            other_sum=Sum("other"),
            # The totals of rows that gave no gender count at all.
            not_reported=Sum(
                "total",
                filter=Q(women__isnull=True, men__isnull=True, other__isnull=True),
            ),
        )
        .order_by()
    }
    actors = []
    for actor in ActorType:
        row = rows.get(actor.value, {})
        actors.append(
            ActorCount(
                actor.value,
                str(actor.label),
                row.get("reached") or 0,
                row.get("women_sum") or 0,
                row.get("men_sum") or 0,
                row.get("other_sum") or 0,
                row.get("not_reported") or 0,
            )
        )
    return Outreach(kinds, actors)


# --- Aim 2: the collaboration organisation --------------------------------------------------


@dataclass(frozen=True)
class NetworkFigures:
    members_at_end: int
    joined: int
    left: int
    meetings: int
    attendances: int  # members present, summed over the meetings
    milestones: list[Milestone]


def network_figures(*, county_ids: list[int], period: Period) -> NetworkFigures:
    """Members, meetings and milestones of the counties' organisations in the period (3 queries)."""
    members = Member.objects.filter(organisation__county_id__in=county_ids).aggregate(
        at_end=Count(
            "pk",
            filter=Q(joined_on__lte=period.end)
            & (Q(left_on__isnull=True) | Q(left_on__gt=period.end)),
        ),
        joined=Count("pk", filter=Q(joined_on__range=(period.start, period.end))),
        left=Count("pk", filter=Q(left_on__range=(period.start, period.end))),
    )
    meetings = NetworkMeeting.objects.filter(
        organisation__county_id__in=county_ids, held_on__range=(period.start, period.end)
    ).aggregate(meetings=Count("pk", distinct=True), attendances=Count("attendees"))
    milestones = list(
        Milestone.objects.filter(
            organisation__county_id__in=county_ids, reached_on__range=(period.start, period.end)
        )
        .select_related("organisation")
        .order_by("reached_on", "pk")
    )
    return NetworkFigures(
        members_at_end=members["at_end"],
        joined=members["joined"],
        left=members["left"],
        meetings=meetings["meetings"],
        attendances=meetings["attendances"],
        milestones=milestones,
    )


# --- Aim 3: the policies --------------------------------------------------------------------


@dataclass(frozen=True)
class StageCount:
    stage: str
    label: str
    count: int


@dataclass(frozen=True)
class PolicyFigures:
    municipalities: int
    stages: list[StageCount]  # where the municipalities stood at the period's end
    not_started: int
    adopted_in_period: list[Decision]

    @property
    def adopted_at_end(self) -> int:
        return next((s.count for s in self.stages if s.stage == Stage.ADOPTED), 0)


def _end_moment(day: datetime.date) -> datetime.datetime:
    """The end of ``day`` in the site's time zone."""
    midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(midnight)


def policy_figures(*, county_ids: list[int], period: Period) -> PolicyFigures:
    """Municipalities per policy stage at the period's end and the policies adopted in it
    (4 queries: the municipalities, the live processes, the stage history, the decisions)."""
    municipality_ids = list(
        Municipality.objects.filter(county_id__in=county_ids).values_list("pk", flat=True)
    )
    processes = list(PolicyProcess.objects.filter(municipality__county_id__in=county_ids))
    visits = stage_visits(processes=processes, municipality__county_id__in=county_ids)
    end = _end_moment(period.end)
    latest: dict[int, tuple] = {}
    for visit in visits:
        if visit.entered_at >= end:
            continue
        key = (visit.entered_at, STAGE_RANK.get(visit.stage, 0))
        if visit.municipality_id not in latest or key > latest[visit.municipality_id][0]:
            latest[visit.municipality_id] = (key, visit.stage)
    counts: dict[str, int] = defaultdict(int)
    for _key, stage in latest.values():
        counts[stage] += 1
    adopted = list(
        Decision.objects.filter(
            process__municipality__county_id__in=county_ids,
            outcome=DecisionOutcome.ADOPTED,
            is_voided=False,
            meeting_date__range=(period.start, period.end),
        )
        .select_related("process__municipality")
        .order_by("meeting_date", "pk")
    )
    return PolicyFigures(
        municipalities=len(municipality_ids),
        stages=[StageCount(s.value, str(s.label), counts.get(s.value, 0)) for s in Stage],
        not_started=len(municipality_ids) - len(latest),
        adopted_in_period=adopted,
    )


# --- The ASF register (aims 1 and 2: the enterprises the project serves) -------------------


@dataclass(frozen=True)
class RegisterRow:
    """One municipality's ASF: active at the period's start and end, new in the register."""

    name: str
    county_code: str
    at_start: int
    at_end: int
    added: int
    places: int

    @property
    def growth(self) -> int:
        return self.at_end - self.at_start


@dataclass(frozen=True)
class Register:
    municipalities: list[RegisterRow]
    at_start: int
    at_end: int
    added: int
    places: int

    @property
    def growth(self) -> int:
        return self.at_end - self.at_start


def register_figures(*, counties: list[County], period: Period) -> Register:
    """The ASF register per municipality and its growth over the period, from the register's
    own figures (`enterprises.selectors.register_figures`, 2 queries per call) at the period's
    end and on the day before it started."""
    at_end = enterprise_selectors.register_figures(
        counties=counties, start=period.start, end=period.end
    )
    at_start = enterprise_selectors.register_figures(
        counties=counties, start=period.before_start, end=period.before_start
    )
    before = {row.municipality_id: row.active_at_end for row in at_start.rows}
    return Register(
        municipalities=[
            RegisterRow(
                name=row.name,
                county_code=row.county_code,
                at_start=before.get(row.municipality_id, 0),
                at_end=row.active_at_end,
                added=row.new_in_period,
                places=row.places,
            )
            for row in at_end.rows
        ],
        at_start=at_start.active_at_end,
        at_end=at_end.active_at_end,
        added=at_end.new_in_period,
        places=at_end.places,
    )


# --- The whole follow-up ---------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    period: Period
    counties: list[County]
    outreach: Outreach
    network: NetworkFigures
    policy: PolicyFigures
    register: Register | None = None
    generated_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def scope_name(self) -> str:
        if len(self.counties) == 1:
            return self.counties[0].name
        return _("%(count)s counties") % {"count": len(self.counties)}


def counties_for(*, user, code: str | None) -> tuple[list[County], str]:
    """The counties a follow-up covers (one, or every county the user reads for "all") and the
    code to keep in links; Http404 for a county the user may not read."""
    from django.http import Http404

    visible = list(scoping.visible_counties(user).order_by("code"))
    if not visible:
        raise Http404
    if code == ALL and len(visible) > 1:
        return visible, ALL
    if code:
        chosen = [c for c in visible if c.code == code]
        if not chosen:
            raise Http404
        return chosen, code
    preferred = [c for c in visible if c.code == "07"] or visible[:1]
    return preferred, preferred[0].code


def follow_up(*, counties: list[County], period: Period) -> FollowUp:
    ids = [c.pk for c in counties]
    return FollowUp(
        period=period,
        counties=counties,
        outreach=outreach_figures(county_ids=ids, period=period),
        network=network_figures(county_ids=ids, period=period),
        policy=policy_figures(county_ids=ids, period=period),
        register=register_figures(counties=counties, period=period),
    )
