"""Reads of the county overview (the steering group's home page), its figures, the municipality
page and the follow-up report.

Each read runs a fixed number of SQL queries whatever the number of municipalities, processes or
history rows: one query per kind of row, and the figures are computed in Python from them.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from municipalities import scoping
from municipalities.models import County, Municipality

from ..flows import PolicyAdoptionFlow
from ..models import (
    CLOSED_STAGES,
    CurrentProcess,
    Decision,
    DecisionOutcome,
    MunicipalityStageReached,
    PolicyProcess,
    ProcessStageTime,
    Stage,
    SummaryVersion,
    legal_force_due,
)
from ..selectors import OPEN
from ..stage_limits import due_at, is_past_limit, stage_limits
from .figures import (
    TIMED_STAGES,
    OngoingStay,
    Progress,
    StageColumn,
    StageTime,
    progress_of,
    stage_times,
    stage_times_of,
    stage_visits,
)

DEFAULT_COUNTY = "07"  # Kronoberg, the project's own county
ALL_COUNTIES = "all"  # every county at once (the project may grow to the neighbouring ones)

# --- The stage board --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One municipality on the board: where it stands, for how long, and what comes next."""

    municipality: Municipality
    process: PolicyProcess | None
    days_in_stage: int | None
    limit_days: int | None
    due_on: datetime.date | None
    is_stalled: bool
    next_action: str
    holder: str
    # When the municipality adopted the policy it has, if its current process is another one
    # (a revision): the board shows both, not only the new process.
    adopted_on: datetime.date | None = None

    @property
    def stage(self) -> str | None:
        return self.process.stage if self.process else None

    @property
    def stage_label(self) -> str:
        return self.process.get_stage_display() if self.process else _("Not started")

    @property
    def is_started(self) -> bool:
        return self.process is not None


@dataclass(frozen=True)
class Board:
    county: County | None  # None: all counties (of ``within``)
    rows: list[BoardRow]
    columns: list[StageColumn]
    not_started: int
    stalled: int
    now: datetime.datetime
    processes: list[PolicyProcess]  # each municipality's current one
    # The counties "all counties" covers (ids; None: every county, for a national reader).
    within: tuple[int, ...] | None = None

    @property
    def limits(self) -> dict[str, int]:
        return {c.stage: c.limit_days for c in self.columns if c.limit_days}


def counties(user=None) -> list[County]:
    """The counties ``user`` may read (every county without a user)."""
    if user is None:
        return list(County.objects.order_by("code"))
    return list(scoping.visible_counties(user).order_by("code"))


def within_of(user) -> tuple[int, ...] | None:
    """What "all counties" means for ``user``: their counties' ids (None: every county)."""
    ids = scoping.visible_county_ids(user)
    return None if ids is None else tuple(ids)


def county_by_code(
    code: str | None, *, choices: list[County] | None = None, user=None
) -> County | None:
    """The county with ``code`` (Kronoberg, or the user's first county, when none is given;
    None for all counties).

    Raises Http404 for an unknown code, a county ``user`` may not read (it does not reveal the
    county's data exists) and "all" for a user of one county.
    """
    if user is not None:
        choices = counties(user) if choices is None else choices
        if code == ALL_COUNTIES:
            if not scoping.has_several_counties(user):
                raise Http404(_("Unknown county."))
            return None
        if not code:
            codes = [c.code for c in choices]
            code = DEFAULT_COUNTY if DEFAULT_COUNTY in codes or not codes else codes[0]
    code = code or DEFAULT_COUNTY
    if code == ALL_COUNTIES:
        return None
    if choices is not None:
        for county in choices:
            if county.code == code:
                return county
        raise Http404(_("Unknown county."))
    try:
        return County.objects.get(code=code)
    except County.DoesNotExist as exc:
        raise Http404(_("Unknown county.")) from exc


def _adopted_before() -> Subquery:
    """The meeting date of the municipality's latest adopting decision of another process
    (the policy in force while this one revises it), in the same query."""
    return Subquery(
        Decision.objects.filter(
            process__municipality_id=OuterRef("municipality_id"),
            process__stage=Stage.ADOPTED,
            outcome=DecisionOutcome.ADOPTED,
            is_voided=False,
        )
        .exclude(process_id=OuterRef("pk"))
        .order_by("-meeting_date", "-pk")
        .values("meeting_date")[:1]
    )


# The kinds of step a person or the system works on (not gateways, starts or ends).
WORKED_STEPS = ("HUMAN", "FUNCTION")


@dataclass(frozen=True)
class NextStep:
    """A process's first open step that someone works on: the flow's node and who took it."""

    node: object
    owner: str | None  # the name of whoever took the step (None: not yet taken)


def _current_processes(*, personal: bool = True, **filters) -> list[PolicyProcess]:
    """Each municipality's current process (``filters`` of `CurrentProcess`), each with its
    first open step (``next_step``, a `NextStep` or None) and, with ``personal``, the names of
    the contact persons it waits for when that step is their approval (``approver_names``):
    2 queries, 3 when a process waits for its approvers.

    The steps and names are read as values, not as model objects through two prefetches: a
    county's few steps and names cost a third of the board's time through the ORM's objects.
    """
    # A decision whose appeal period ran out with no appeal and no legal force recorded: the
    # board asks for its legal force (an annotation, so no extra query).
    due = Decision.objects.filter(legal_force_due(timezone.localdate()), process_id=OuterRef("pk"))
    # Only the current ones are annotated (both subqueries ran once per process of the
    # municipalities' whole history before: 278 rows for 8 current ones at full size, 50 ms of
    # SQL), found through the summary of each municipality's current process.
    current = CurrentProcess.objects.filter(**filters).values("process_id")
    processes = list(
        PolicyProcess.objects.filter(pk__in=current)
        .order_by("municipality_id")
        .annotate(legal_force_due=Exists(due), adopted_before=_adopted_before())
        # Its municipality is the board's own (`county_board`): not read a second time.
        .select_related("lead")
    )
    steps = (
        Task.objects.filter(
            process_id__in=[process.pk for process in processes],
            status__in=OPEN,
            flow_task_type__in=WORKED_STEPS,
        )
        .order_by("created", "pk")
        .values_list(
            "process_id",
            "flow_task",
            "owner_id",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
        )
    )
    first: dict[int, NextStep] = {}
    for process_id, node, owner_id, first_name, last_name, username in steps:
        if process_id not in first:
            # As the user's get_full_name(), else their username.
            owner = None if owner_id is None else f"{first_name} {last_name}".strip() or username
            first[process_id] = NextStep(node, owner)
    waiting = [pk for pk, step in first.items() if step.node == PolicyAdoptionFlow.approval]
    approvers = defaultdict(list)
    if personal and waiting:
        # In the contacts' own order (by municipality, then name).
        for process_id, name in (
            PolicyProcess.approvers.through.objects.filter(policyprocess_id__in=waiting)
            .order_by("contact__municipality__name", "contact__name")
            .values_list("policyprocess_id", "contact__name")
        ):
            approvers[process_id].append(name)
    for process in processes:
        process.next_step = first.get(process.pk)
        process.approver_names = approvers.get(process.pk, [])
    return processes


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _next_action(process: PolicyProcess, personal: bool = True) -> tuple[str, str]:
    """What happens next in the process and who holds it (without ``personal``, the contact
    persons it waits for are not named)."""
    if getattr(process, "legal_force_due", False):
        return _("Appeal period over: record legal force"), _person(process.lead)
    if not process.is_open:
        return _("None: the process is closed"), "–"
    step = process.next_step
    if step is None:
        return "–", "–"
    title = str(step.node.task_title or step.node.name)
    if step.node == PolicyAdoptionFlow.approval:
        if not personal:
            return title, _("waiting for the municipality's contact persons")
        names = ", ".join(process.approver_names) or "–"
        return title, _("waiting for %(contacts)s") % {"contacts": names}
    if step.owner is not None:
        return title, step.owner
    return title, _("Project leaders (not yet taken)")


def _row(municipality, process, limits, now, personal=True) -> BoardRow:
    if process is None:
        return BoardRow(municipality, None, None, None, None, False, _("Start a process"), "–")
    action, holder = _next_action(process, personal)
    days = (now - process.stage_entered_at).days
    due = due_at(process.stage, process.stage_entered_at, limits)
    return BoardRow(
        municipality=municipality,
        process=process,
        days_in_stage=days,
        limit_days=limits.get(process.stage) if due else None,
        due_on=timezone.localdate(due) if due else None,
        is_stalled=is_past_limit(process.stage, process.stage_entered_at, limits, now),
        next_action=action,
        holder=holder,
        # The policy in force while this process revises it; none once the revision is adopted.
        adopted_on=None
        if process.stage == Stage.ADOPTED
        else getattr(process, "adopted_before", None),
    )


def _in_county(county: County | None, path: str = "", within=None) -> dict:
    if county is not None:
        return {f"{path}county": county}
    return {f"{path}county__in": list(within)} if within is not None else {}


def county_board(
    *,
    county: County | None,
    now: datetime.datetime | None = None,
    within=None,
    personal: bool = True,
) -> Board:
    """Every municipality of ``county`` (None: of all counties, or of the ``within`` ids) in its
    current stage (5 queries; 4 when no process waits for its approvers or none may be named).

    Reads one process per municipality, whatever the length of its history.
    """
    now = now or timezone.now()
    limits = stage_limits()
    municipalities = list(
        Municipality.objects.filter(**_in_county(county, "", within))
        .select_related("county")
        .order_by("county__code", "name", "code")
    )
    processes = _current_processes(
        personal=personal, **_in_county(county, "municipality__", within)
    )
    current = {process.municipality_id: process for process in processes}
    for municipality in municipalities:
        if municipality.pk in current:
            current[municipality.pk].municipality = municipality
    rows = [_row(m, current.get(m.pk), limits, now, personal) for m in municipalities]
    counts = defaultdict(int)
    for row in rows:
        counts[row.stage] += 1
    columns = [
        StageColumn(stage.value, str(stage.label), counts[stage.value], limits.get(stage.value))
        for stage in Stage
    ]
    return Board(
        county=county,
        rows=rows,
        columns=columns,
        not_started=counts[None],
        stalled=sum(row.is_stalled for row in rows),
        now=now,
        processes=processes,
        within=None if county is not None or within is None else tuple(within),
    )


# --- Every county at once -----------------------------------------------------------------------


@dataclass(frozen=True)
class CountyRow:
    """One county on the country board: how many of its municipalities stand in each stage."""

    county: County
    municipalities: int
    not_started: int
    counts: list[int]  # per stage, in the order of ``CountryBoard.columns``
    stalled: int


@dataclass(frozen=True)
class CountryBoard:
    rows: list[CountyRow]
    columns: list[StageColumn]
    municipalities: int
    not_started: int
    stalled: int
    now: datetime.datetime

    @property
    def limits(self) -> dict[str, int]:
        return {c.stage: c.limit_days for c in self.columns if c.limit_days}


def country_board(*, counties: list[County], now: datetime.datetime | None = None) -> CountryBoard:
    """One row per county, counting its municipalities per current stage (2 queries).

    Every one of the country's 290 municipalities in one table made a page of half a megabyte:
    each county's row links to the county's own board instead.
    """
    now = now or timezone.now()
    limits = stage_limits()
    ids = [county.pk for county in counties]
    # Every municipality with its current process's stage (none: not started), from the summary
    # kept on each write: 290 rows, not every process of the country's history sorted.
    current = Municipality.objects.filter(county__in=ids).values_list(
        "county_id",
        "current_process__process__stage",
        "current_process__process__stage_entered_at",
    )
    municipalities = defaultdict(int)
    counts = defaultdict(lambda: defaultdict(int))
    stalled = defaultdict(int)
    for county_id, stage, entered_at in current:
        municipalities[county_id] += 1
        if stage is None:
            continue
        counts[county_id][stage] += 1
        if is_past_limit(stage, entered_at, limits, now):
            stalled[county_id] += 1
    rows = []
    for county in counties:
        started = sum(counts[county.pk].values())
        rows.append(
            CountyRow(
                county=county,
                municipalities=municipalities.get(county.pk, 0),
                not_started=municipalities.get(county.pk, 0) - started,
                counts=[counts[county.pk][stage.value] for stage in Stage],
                stalled=stalled[county.pk],
            )
        )
    columns = [
        StageColumn(
            stage.value,
            str(stage.label),
            sum(counts[c][stage.value] for c in counts),
            limits.get(stage.value),
        )
        for stage in Stage
    ]
    return CountryBoard(
        rows=rows,
        columns=columns,
        municipalities=sum(row.municipalities for row in rows),
        not_started=sum(row.not_started for row in rows),
        stalled=sum(row.stalled for row in rows),
        now=now,
    )


# --- What a page or report needs --------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    progress: Progress
    stage_times: list[StageTime]
    # When they go stale without any write: a new day in the progress table, or an ongoing
    # stay that counts one more day.
    valid_until: datetime.datetime


def county_figures(
    *,
    county: County | None,
    limits: dict[str, int],
    now: datetime.datetime | None = None,
    within=None,
) -> Figures:
    """The county's progress and time per stage, from the summary of the history (4 queries of
    a few hundred rows at most for the whole country: the municipalities that reached each stage
    per month, the processes that left a stage counted per whole days, the processes in a stage
    now (one per municipality at most), and the names of the slowest)."""
    now = now or timezone.now()
    scope = _in_county(county, "municipality__", within)
    zone = timezone.get_current_timezone()
    reached = (
        MunicipalityStageReached.objects.filter(**scope)
        .order_by()
        .values_list("stage", TruncMonth("reached_at", tzinfo=zone))
        .annotate(count=Count("pk"))
    )
    counts = {(timezone.localtime(month, zone).date(), stage): n for stage, month, n in reached}
    summary = ProcessStageTime.objects.filter(**scope)
    timed = summary.filter(stage__in=TIMED_STAGES).order_by()
    finished = list(
        timed.filter(entered_at__isnull=True)
        .values_list("stage", "spent_days")
        # COUNT(*): what the index of ended stays covers (COUNT(id) would read every row).
        .annotate(count=Count("*"), first=Min("process_id"))
    )
    ongoing = [
        OngoingStay(*row)
        for row in timed.filter(entered_at__isnull=False).values_list(
            "process_id", "municipality_id", "stage", "spent", "entered_at"
        )
    ]

    def names_of(process_ids: list[int]) -> dict[int, str]:
        return dict(
            PolicyProcess.objects.filter(pk__in=process_ids).values_list("pk", "municipality__name")
        )

    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    return Figures(
        progress=progress_of(counts=counts, now=now),
        stage_times=stage_times_of(
            finished=finished, ongoing=ongoing, names_of=names_of, limits=limits, now=now
        ),
        valid_until=min([midnight, *(stay.next_day_at(now) for stay in ongoing)]),
    )


def figures_version(*, county: County | None, limits: dict[str, int], within=None) -> str:
    """What the county's figures are computed from, in one cheap query: a new version whenever
    the summary of a municipality's processes changes (a process starts, changes stage or goes
    away: `SummaryVersion`, counted up in the same transaction; a county's few rows, not every
    process), or a stage limit changes. The counters only grow: their sum is new with each
    change; with their number and the newest municipality's, a municipality gone or added too."""
    latest = SummaryVersion.objects.filter(
        **_in_county(county, "municipality__", within)
    ).aggregate(total=Sum("version"), count=Count("pk"), last=Max("pk"))
    limit_list = ",".join(f"{stage}={days}" for stage, days in sorted(limits.items()))
    return f"{latest['total'] or 0}:{latest['count']}:{latest['last']}:{limit_list}"


def county_decisions(*, county: County | None, within=None) -> list[Decision]:
    """The county's recorded decisions, by municipality then meeting date (1 query)."""
    return list(
        Decision.objects.filter(**_in_county(county, "process__municipality__", within))
        .select_related("process__municipality", "recorded_by", "voided_by")
        .order_by("process__municipality__name", "meeting_date", "recorded_at", "pk")
    )


@dataclass(frozen=True)
class StageStay:
    """One stretch in one stage, as the municipality page lists it."""

    stage: str
    label: str
    entered_at: datetime.datetime
    left_at: datetime.datetime | None
    days: int | None  # None for a closed stage: the process ended there
    is_current: bool


@dataclass(frozen=True)
class StageComparison:
    """The days one municipality spent in a stage beside the county's median and limit."""

    stage: str
    label: str
    days: int | None
    is_ongoing: bool
    county_median_days: float | None
    limit_days: int | None


@dataclass(frozen=True)
class MunicipalityOverview:
    municipality: Municipality
    row: BoardRow
    processes: list[PolicyProcess]
    stays: list[StageStay]
    comparison: list[StageComparison]
    decisions: list[Decision]
    now: datetime.datetime


def municipality_by_code(code: str) -> Municipality:
    try:
        return Municipality.objects.select_related("county").get(code=code)
    except Municipality.DoesNotExist as exc:
        raise Http404(_("Unknown municipality.")) from exc


def municipality_overview(
    *, municipality: Municipality, now: datetime.datetime | None = None, personal: bool = True
) -> MunicipalityOverview:
    """One municipality's processes, stages, time per stage against its county, and decisions.

    Built from its county's board and figures (the county median needs them) and its own
    processes' history (its own rows only): a fixed number of queries whatever the county's size.
    """
    board = county_board(county=municipality.county, now=now, personal=personal)
    figures = county_figures(county=municipality.county, limits=board.limits, now=board.now)
    row = next(r for r in board.rows if r.municipality.pk == municipality.pk)
    processes = list(
        PolicyProcess.objects.filter(municipality=municipality).select_related(
            "municipality__county", "lead"
        )
    )
    visits = sorted(
        stage_visits(processes=processes, municipality_id=municipality.pk),
        key=lambda v: (v.entered_at, v.process_id),
    )
    stays = [
        StageStay(
            stage=v.stage,
            label=stage_label(v.stage),
            entered_at=v.entered_at,
            left_at=v.left_at,
            days=None
            if v.stage in CLOSED_STAGES
            else ((v.left_at or board.now) - v.entered_at).days,
            is_current=v.left_at is None and v.stage not in CLOSED_STAGES,
        )
        for v in visits
    ]
    own = stage_times(visits=visits, names={}, limits={}, now=board.now)
    comparison = [
        StageComparison(
            stage=mine.stage,
            label=mine.label,
            days=mine.slowest_days,
            is_ongoing=mine.slowest_is_ongoing,
            county_median_days=county.median_days,
            limit_days=county.limit_days,
        )
        for mine, county in zip(own, figures.stage_times, strict=True)
    ]
    decisions = list(
        Decision.objects.filter(process__municipality=municipality)
        .select_related("process", "recorded_by", "voided_by")
        .order_by("meeting_date", "recorded_at", "pk")
    )
    return MunicipalityOverview(
        municipality=municipality,
        row=row,
        processes=sorted(processes, key=lambda p: (p.created, p.pk), reverse=True),
        stays=stays,
        comparison=comparison,
        decisions=decisions,
        now=board.now,
    )


def stage_label(code: str) -> str:
    try:
        return str(Stage(code).label)
    except ValueError:
        return code


# --- The timeline in the follow-up report -----------------------------------------------------

REPORT_TIMELINE_LIMIT = 1000
# The county report lists the milestones; a municipality's report lists every event.
COUNTY_REPORT_KINDS = [
    "process_started",
    "stage_changed",
    "answer_received",
    "decision_recorded",
    "record_voided",
]


@dataclass(frozen=True)
class ReportTimeline:
    events: list[dict]  # as audit.selectors.display shows them, oldest first
    is_truncated: bool  # older events exist beyond the limit (the CSV export has them all)

    @property
    def newest_first(self) -> list[dict]:
        return self.events[::-1]


def report_timeline(
    *,
    county: str | None = None,
    municipality=None,
    kinds=None,
    limit=REPORT_TIMELINE_LIMIT,
    counties=None,
) -> ReportTimeline:
    """The latest ``limit`` audit events of a county or municipality (or of ``counties``' codes),
    oldest first."""
    from audit import selectors as audit

    events, after_id = [], None
    while len(events) < limit:
        page = audit.timeline(
            county=county,
            counties=counties,
            municipality=municipality,
            kinds=kinds,
            after_id=after_id,
            limit=min(audit.MAX_LIMIT, limit - len(events)),
        )
        events.extend(page.events)
        after_id = page.next_after_id
        if after_id is None:
            break
    return ReportTimeline(audit.display_events(reversed(events)), after_id is not None)


def may_name_contacts(user, county, within) -> bool:
    """Whether an overview page or report may name contact persons: the county's leaders and
    steering group (for "all counties": of every county it covers); not the reference group or
    national readers."""
    if county is not None:
        return scoping.can_see_personal_data(user, county)
    allowed = scoping.personal_data_county_ids(user)
    return allowed is None or (within is not None and set(within) <= set(allowed))
