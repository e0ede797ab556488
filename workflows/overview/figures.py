"""The figures of the county overview, computed from the stages each process has been in: how many
municipalities reached each stage by month, and the days spent per stage (median, slowest).

Two sources give the same figures: the summary of the history kept for them
(`ProcessStageTime`, a few hundred aggregated rows for the whole country: `progress_of`,
`stage_times_of`), and the history itself (`stage_visits`, then `progress` and `stage_times`: one
municipality's page, the follow-up, and the tests that hold the summary to the history).
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from ..models import CLOSED_STAGES, PolicyProcess, Stage
from ..stage_summary import STAGE_RANK

__all__ = ["STAGE_RANK"]  # the follow-up orders stages by it too
# Stages a municipality passes through (and may stall in); the closed ones have no duration.
TIMED_STAGES = [stage for stage in Stage if stage not in CLOSED_STAGES]


@dataclass(frozen=True)
class StageColumn:
    stage: str
    label: str
    count: int
    limit_days: int | None


# --- Stage visits: the raw material of the figures --------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A stretch of time a process spent in one stage."""

    process_id: int
    municipality_id: int
    stage: str
    entered_at: datetime.datetime
    left_at: datetime.datetime | None  # None: still there (or the process ended there)


def stage_visits(*, processes: list[PolicyProcess], **filters) -> list[Visit]:
    """Every stage each process has been in, from the process history (1 query).

    A history row records the stage and when it was entered, so the distinct (stage, entered)
    pairs of a process are its visits. ``processes`` adds the live rows (a process written
    without history, e.g. by a data import, still counts).
    """
    rows = set(
        PolicyProcess.history.filter(**filters)
        .values_list("process_ptr_id", "municipality_id", "stage", "stage_entered_at")
        .distinct()
    )
    rows.update((p.pk, p.municipality_id, p.stage, p.stage_entered_at) for p in processes)
    by_process = defaultdict(list)
    for process_id, municipality_id, stage, entered_at in rows:
        by_process[process_id].append((entered_at, stage, municipality_id))
    visits = []
    for process_id, entries in by_process.items():
        entries.sort(key=lambda e: (e[0], STAGE_RANK.get(e[1], 0)))
        for i, (entered_at, stage, municipality_id) in enumerate(entries):
            left_at = entries[i + 1][0] if i + 1 < len(entries) else None
            visits.append(Visit(process_id, municipality_id, stage, entered_at, left_at))
    return visits


# --- Progress over time -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressMonth:
    month: datetime.date  # the first day of the month
    counts: list[int]  # municipalities that had reached each stage by the month's end


@dataclass(frozen=True)
class Progress:
    stages: list[StageColumn]
    months: list[ProgressMonth]


def first_entries(visits: list[Visit]) -> dict[int, dict[str, datetime.datetime]]:
    """When each municipality first entered each stage it has been in."""
    first_in = defaultdict(dict)
    for v in visits:
        known = first_in[v.municipality_id].get(v.stage)
        if known is None or v.entered_at < known:
            first_in[v.municipality_id][v.stage] = v.entered_at
    return first_in


def _reached(
    first_in: dict[int, dict[str, datetime.datetime]],
) -> dict[int, dict[str, datetime.datetime]]:
    """When each municipality first reached each stage, from when it first entered each.

    A stage is reached by being in it or in any later one (a process created in a later stage
    passed the earlier ones); adopted and rejected are reached only by being there.
    """
    reached = {}
    for municipality_id, entered in first_in.items():
        ranked = [(_RANK[stage], moment) for stage, moment in entered.items()]
        mine = reached[municipality_id] = {}
        for stage, is_closed, rank in _STAGE_ORDER:
            if is_closed:
                moment = entered.get(stage)
            else:
                moment = min((m for r, m in ranked if r >= rank), default=None)
            if moment is not None:
                mine[stage] = moment
    return reached


# Plain strings and numbers: the figures of the whole country loop over them thousands of times.
_RANK = {stage.value: rank for stage, rank in STAGE_RANK.items()}
_STAGE_ORDER = [(stage.value, stage in CLOSED_STAGES, STAGE_RANK[stage]) for stage in Stage]


def _month(moment: datetime.datetime, zone=None) -> datetime.date:
    return moment.astimezone(zone or timezone.get_current_timezone()).date().replace(day=1)


def _next_month(day: datetime.date) -> datetime.date:
    return (day + datetime.timedelta(days=32)).replace(day=1)


def progress(*, visits: list[Visit], now: datetime.datetime | None = None) -> Progress:
    """How many municipalities had reached each stage by the end of each month, month by month."""
    zone = timezone.get_current_timezone()
    counts = defaultdict(int)
    for stages_reached in _reached(first_entries(visits)).values():
        for stage, moment in stages_reached.items():
            counts[_month(moment, zone), stage] += 1
    return progress_of(counts=counts, now=now)


def progress_of(
    *, counts: dict[tuple[datetime.date, str], int], now: datetime.datetime | None = None
) -> Progress:
    """`progress` from how many municipalities first reached each stage in each month
    ((first day of the month, stage) → municipalities)."""
    now = now or timezone.now()
    stages = [StageColumn(s.value, str(s.label), 0, None) for s in Stage]
    if not counts:
        return Progress(stages, [])
    by_month = defaultdict(lambda: defaultdict(int))
    for (month, stage), count in counts.items():
        by_month[month][stage] += count
    months = []
    running = defaultdict(int)
    month, last = min(by_month), max(max(by_month), _month(now))
    while month <= last:
        for stage, count in by_month[month].items():
            running[stage] += count
        months.append(ProgressMonth(month, [running[s.stage] for s in stages]))
        month = _next_month(month)
    return Progress(stages, months)


# --- Time spent per stage ---------------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    stage: str
    label: str
    limit_days: int | None
    count: int  # processes that have been in the stage
    median_days: float | None
    slowest_days: int | None
    slowest_municipality: str
    slowest_is_ongoing: bool


def stage_times(
    *,
    visits: list[Visit],
    names: dict[int, str],
    limits: dict[str, int],
    now: datetime.datetime | None = None,
) -> list[StageTime]:
    """Per stage, the days processes spent in it: median and slowest.

    Repeated visits of one process (a draft sent back) add up. A process still in a stage
    counts with its days so far, so that a municipality stuck there shows as the slowest.
    """
    now = now or timezone.now()
    spent = defaultdict(lambda: defaultdict(datetime.timedelta))  # stage → process → time
    ongoing = set()
    municipality_of = {}
    for v in visits:
        if v.stage in CLOSED_STAGES:
            continue
        spent[v.stage][v.process_id] += (v.left_at or now) - v.entered_at
        municipality_of[v.process_id] = v.municipality_id
        if v.left_at is None:
            ongoing.add((v.stage, v.process_id))
    result = []
    for stage in TIMED_STAGES:
        per_process = {pk: delta.days for pk, delta in spent[stage.value].items()}
        if per_process:
            slowest_pk = max(per_process, key=lambda pk: (per_process[pk], -pk))
            median = statistics.median(per_process.values())
            result.append(
                StageTime(
                    stage=stage.value,
                    label=str(stage.label),
                    limit_days=limits.get(stage.value),
                    count=len(per_process),
                    median_days=median,
                    slowest_days=per_process[slowest_pk],
                    slowest_municipality=names.get(municipality_of[slowest_pk], ""),
                    slowest_is_ongoing=(stage.value, slowest_pk) in ongoing,
                )
            )
        else:
            result.append(
                StageTime(
                    stage.value, str(stage.label), limits.get(stage.value), 0, None, None, "", False
                )
            )
    return result


# --- The same figures from the summary of the history -----------------------------------------


@dataclass(frozen=True)
class OngoingStay:
    """A process in a (timed) stage now, from the summary: its earlier stays there add up to
    ``spent``, the current one counts from ``entered_at`` until whenever it is read."""

    process_id: int
    municipality_id: int
    stage: str
    spent: datetime.timedelta
    entered_at: datetime.datetime

    def days(self, now: datetime.datetime) -> int:
        return (self.spent + (now - self.entered_at)).days

    def next_day_at(self, now: datetime.datetime) -> datetime.datetime:
        """When ``days`` counts one more."""
        total = self.spent + (now - self.entered_at)
        return now + (datetime.timedelta(days=1) - total % datetime.timedelta(days=1))


def median_of_counts(counts: dict[int, int]) -> float | int:
    """What ``statistics.median`` gives for whole numbers listed as number → how many times."""
    size = sum(counts.values())
    lower_index, upper_index = (size - 1) // 2, size // 2
    lower = upper = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if lower is None and lower_index < seen:
            lower = value
        if upper_index < seen:
            upper = value
            break
    return upper if size % 2 else (lower + upper) / 2


def stage_times_of(
    *,
    finished: list[tuple[str, int, int, int]],
    ongoing: list[OngoingStay],
    names_of,
    limits: dict[str, int],
    now: datetime.datetime | None = None,
) -> list[StageTime]:
    """`stage_times` from the summary: ``finished`` counts, per stage and whole days, the
    processes no longer in the stage (stage, days, how many, the smallest process id);
    ``ongoing`` are the processes in it now. ``names_of(process ids)`` gives the municipality
    names of the slowest processes (one query for all stages)."""
    now = now or timezone.now()
    counts = defaultdict(lambda: defaultdict(int))  # stage → days → processes
    slowest = {}  # stage → ((days, -process id), process id, is ongoing)
    for stage, days, how_many, first_process in finished:
        counts[stage][days] += how_many
        key = (days, -first_process)
        if stage not in slowest or key > slowest[stage][0]:
            slowest[stage] = (key, first_process, False)
    for stay in ongoing:
        days = stay.days(now)
        counts[stay.stage][days] += 1
        key = (days, -stay.process_id)
        if stay.stage not in slowest or key > slowest[stay.stage][0]:
            slowest[stay.stage] = (key, stay.process_id, True)
    names = names_of([process for _key, process, _ongoing in slowest.values()]) if slowest else {}
    result = []
    for stage in TIMED_STAGES:
        limit = limits.get(stage.value)
        if stage.value not in slowest:
            result.append(StageTime(stage.value, str(stage.label), limit, 0, None, None, "", False))
            continue
        (days, _pk), process, is_ongoing = slowest[stage.value]
        result.append(
            StageTime(
                stage=stage.value,
                label=str(stage.label),
                limit_days=limit,
                count=sum(counts[stage.value].values()),
                median_days=median_of_counts(counts[stage.value]),
                slowest_days=days,
                slowest_municipality=names.get(process, ""),
                slowest_is_ongoing=is_ongoing,
            )
        )
    return result
