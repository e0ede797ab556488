"""The time each process spends in each stage (`ProcessStageTime`), and each municipality's
current process (`CurrentProcess`), kept up to date from the process history so that the county
overview's figures and boards read a small summary instead of the whole history on every
request.

One hook keeps it: every history record of a process (simple-history's
``post_create_historical_record``, sent inside the transaction that saves the process) brings the
process's rows up to date, whichever service, command or admin page saved it. The history stays
the record: `rebuild` (``manage.py rebuild_stage_times``, and the migration that created the
table) recomputes the whole summary from it.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Case, F, OuterRef, QuerySet, Subquery, When

from .models import (
    CLOSED_STAGES,
    CurrentProcess,
    MunicipalityStageReached,
    PolicyProcess,
    ProcessStageTime,
    Stage,
    SummaryVersion,
)

# The order a municipality passes the stages in; adopted and rejected are both the end. Two
# entries of one process at the same moment are in this order.
STAGE_RANK = {
    Stage.CONTACT: 0,
    Stage.DIALOGUE: 1,
    Stage.DRAFTING: 2,
    Stage.AWAITING_APPROVAL: 3,
    Stage.AWAITING_DECISION: 4,
    Stage.ADOPTED: 5,
    Stage.REJECTED: 5,
}

UPDATED_FIELDS = ["first_entered_at", "spent", "spent_days", "entered_at"]
CLOSED = {Stage.ADOPTED.value, Stage.REJECTED.value}


def reached_by_entering(stage: str) -> list[str]:
    """The stages a municipality has reached once a process of it is in ``stage``: that one and,
    as it passed them, every stage before the end that comes earlier; adopted and rejected are
    reached only by being there."""
    rank = STAGE_RANK[stage]
    return [stage] + [
        s.value
        for s in Stage
        if s.value not in CLOSED and s.value != stage and STAGE_RANK[s] <= rank
    ]


def _upsert(rows: list[ProcessStageTime]) -> None:
    # One statement for the stay that ended and the one that began (INSERT … ON CONFLICT
    # DO UPDATE, on SQLite and PostgreSQL alike).
    ProcessStageTime.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["process", "stage"],
        update_fields=UPDATED_FIELDS,
    )


UNCHANGED = "unchanged"


def enter_stage(
    *, process_id: int, municipality_id: int, stage: str, entered_at: datetime.datetime
) -> str | None:
    """Bring one process's summary up to date with its (possibly new) stage: the current stay
    ends at ``entered_at`` and a stay in ``stage`` begins (2 queries, 3 on the process's first
    entry into the stage; 1 when nothing changed). Returns the stage the process left (None for
    a new process), or `UNCHANGED`."""
    rows = {row.stage: row for row in ProcessStageTime.objects.filter(process_id=process_id)}
    current = next((row for row in rows.values() if row.entered_at is not None), None)
    if current is not None and (current.stage, current.entered_at) == (stage, entered_at):
        return UNCHANGED  # saved without a stage change (a handover, new approvers)
    changed = {}
    if current is not None:
        current.spent += max(entered_at - current.entered_at, datetime.timedelta(0))
        current.spent_days = current.spent.days
        current.entered_at = None
        changed[current.stage] = current
    row = changed.get(stage) or rows.get(stage)
    if row is None:
        # The stages the municipality reaches now, unless it had reached them before (a
        # history written in order never reaches a stage earlier than before; `rebuild` takes
        # the earliest whatever the order).
        MunicipalityStageReached.objects.bulk_create(
            [
                MunicipalityStageReached(
                    municipality_id=municipality_id, stage=reached, reached_at=entered_at
                )
                for reached in reached_by_entering(stage)
            ],
            ignore_conflicts=True,
        )
        row = ProcessStageTime(
            process_id=process_id,
            municipality_id=municipality_id,
            stage=stage,
            first_entered_at=entered_at,
        )
    row.first_entered_at = min(row.first_entered_at, entered_at)
    row.entered_at = entered_at
    changed[stage] = row
    _upsert(
        [
            ProcessStageTime(
                process_id=process_id,
                municipality_id=r.municipality_id,
                stage=r.stage,
                first_entered_at=r.first_entered_at,
                spent=r.spent,
                spent_days=r.spent_days,
                entered_at=r.entered_at,
            )
            for r in changed.values()
        ]
    )
    return current.stage if current is not None else None


# --- Each municipality's current process --------------------------------------------------------


def _is_closed() -> Case:
    return Case(When(stage__in=CLOSED_STAGES, then=True), default=False)


def one_per_municipality(processes: QuerySet, process_model=None) -> QuerySet:
    """Each municipality's current process among ``processes``: the open one if there is one,
    else the latest closed one (DISTINCT ON in PostgreSQL: one row per municipality, whatever its
    history; SQLite, the quick-start database, picks each one with a subquery)."""
    is_closed = _is_closed()
    if connection.features.can_distinct_on_fields:
        return (
            processes.alias(is_closed=is_closed)
            .order_by("municipality_id", "is_closed", "-created", "-pk")
            .distinct("municipality_id")
        )
    current = (
        (process_model or PolicyProcess)
        .objects.filter(municipality_id=OuterRef("municipality_id"))
        .alias(is_closed=is_closed)
        .order_by("is_closed", "-created", "-pk")
        .values("pk")[:1]
    )
    return processes.filter(pk=Subquery(current)).order_by("municipality_id")


def _is_current(*, municipality_id: int, process_id: int) -> None:
    # One statement (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL alike).
    CurrentProcess.objects.bulk_create(
        [CurrentProcess(municipality_id=municipality_id, process_id=process_id)],
        update_conflicts=True,
        unique_fields=["municipality"],
        update_fields=["process"],
    )


def _latest(municipality_id: int) -> QuerySet:
    """The municipality's current process (its id), as a subquery of one row."""
    return (
        PolicyProcess.objects.filter(municipality_id=municipality_id)
        .alias(is_closed=_is_closed())
        .order_by("is_closed", "-created", "-pk")
        .values("pk")[:1]
    )


def find_current(municipality_id: int) -> None:
    """Find the municipality's current process again (after a process went away: 2 queries)."""
    process_id = _latest(municipality_id).first()
    if process_id is None:
        CurrentProcess.objects.filter(municipality_id=municipality_id).delete()
    else:
        _is_current(municipality_id=municipality_id, process_id=process_id["pk"])


def keep_current(*, municipality_id: int, process_id: int, stage: str, left: str | None) -> None:
    """After a process entered ``stage`` from ``left`` (None: it has just started): a process
    that starts or reopens is its municipality's current one (there is at most one open process
    per municipality); one that closes leaves the latest one current, which may be a later closed
    process (reopened, then closed again); moving on from an open stage to another changes
    nothing. One statement, or none."""
    if stage not in CLOSED_STAGES:
        if left is None or left in CLOSED_STAGES:
            _is_current(municipality_id=municipality_id, process_id=process_id)
        return
    updated = CurrentProcess.objects.filter(municipality_id=municipality_id).update(
        process_id=Subquery(_latest(municipality_id))
    )
    if not updated:
        find_current(municipality_id)  # none kept yet (a process that started closed)


def summary_changed(municipality_id: int) -> None:
    """Count up the municipality's `SummaryVersion` (1 statement; 3 the first time). The row
    stays locked until the transaction ends: a change committed after another is counted after
    it, whatever the order the two began in."""
    counted = SummaryVersion.objects.filter(municipality_id=municipality_id)
    if counted.update(version=F("version") + 1):
        return
    # No row yet: made (or, made meanwhile by another transaction, waited for and left as it
    # is), then counted up under its lock.
    SummaryVersion.objects.bulk_create(
        [SummaryVersion(municipality_id=municipality_id)], ignore_conflicts=True
    )
    counted.update(version=F("version") + 1)


def all_summaries_changed() -> None:
    """Count up every municipality's `SummaryVersion`, after the summary was rebuilt from the
    history (`rebuild`, `rebuild_current`): 2 statements."""
    from municipalities.models import Municipality

    SummaryVersion.objects.bulk_create(
        [
            SummaryVersion(municipality_id=pk)
            for pk in Municipality.objects.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    SummaryVersion.objects.update(version=F("version") + 1)


def on_history_record(sender, *, instance, history_instance, **kwargs) -> None:
    """simple-history's ``post_create_historical_record`` for a process (connected in
    ``WorkflowsConfig.ready``)."""
    if history_instance.history_type == "-":
        # A deleted process takes its summary rows with it; the municipality's current process
        # is another one now, or none.
        find_current(instance.municipality_id)
        summary_changed(instance.municipality_id)
        return
    left = enter_stage(
        process_id=instance.pk,
        municipality_id=instance.municipality_id,
        stage=instance.stage,
        entered_at=instance.stage_entered_at,
    )
    if left != UNCHANGED:
        keep_current(
            municipality_id=instance.municipality_id,
            process_id=instance.pk,
            stage=instance.stage,
            left=left,
        )
        summary_changed(instance.municipality_id)


# --- From the history -------------------------------------------------------------------------


def summarise(entries: Iterable[tuple[int, int, str, datetime.datetime]]) -> list[dict]:
    """The summary rows of ``(process_id, municipality_id, stage, stage_entered_at)`` entries
    (history rows and live rows alike): each distinct (stage, entered) pair of a process is a
    stay, which lasts until the process's next one."""
    by_process = defaultdict(set)
    for process_id, municipality_id, stage, entered_at in entries:
        by_process[process_id].add((entered_at, stage, municipality_id))
    rows = []
    for process_id, stays in by_process.items():
        ordered = sorted(stays, key=lambda s: (s[0], STAGE_RANK.get(s[1], 0)))
        per_stage: dict[str, dict] = {}
        for i, (entered_at, stage, municipality_id) in enumerate(ordered):
            row = per_stage.setdefault(
                stage,
                {
                    "process_id": process_id,
                    "municipality_id": municipality_id,
                    "stage": stage,
                    "first_entered_at": entered_at,
                    "spent": datetime.timedelta(0),
                    "entered_at": None,
                },
            )
            if i + 1 < len(ordered):
                row["spent"] += ordered[i + 1][0] - entered_at
            else:
                row["entered_at"] = entered_at
        for row in per_stage.values():
            row["spent_days"] = row["spent"].days
            rows.append(row)
    return rows


def history_entries(history_model, process_model) -> Iterable[tuple]:
    """Every stage entry the history records, and the live rows' (a process written without
    history, e.g. by a data import, still counts)."""
    fields = ("process_ptr_id", "municipality_id", "stage", "stage_entered_at")
    yield from history_model.objects.values_list(*fields).distinct().iterator(chunk_size=10_000)
    yield from process_model.objects.values_list(
        "pk", "municipality_id", "stage", "stage_entered_at"
    ).iterator(chunk_size=10_000)


def rebuild_current(*, process_model=None, current_model=None) -> int:
    """Recompute every municipality's current process from the processes (the models: a
    migration's historical ones; by default the live ones). Returns the number of rows."""
    process_model = process_model or PolicyProcess
    current_model = current_model or CurrentProcess
    rows = one_per_municipality(process_model.objects.all(), process_model).values_list(
        "municipality_id", "pk"
    )
    with transaction.atomic():
        current_model.objects.all().delete()
        current_model.objects.bulk_create(
            (
                current_model(municipality_id=municipality_id, process_id=process_id)
                for municipality_id, process_id in rows.iterator()
            ),
            batch_size=5_000,
        )
    return current_model.objects.count()


def rebuild(
    *, history_model=None, process_model=None, summary_model=None, reached_model=None
) -> int:
    """Recompute the whole summary from the history (the models: a migration's historical ones;
    by default the live ones). Returns the number of rows of time per process and stage.
    (`rebuild_current` recomputes each municipality's current process.)"""
    history_model = history_model or PolicyProcess.history.model
    process_model = process_model or PolicyProcess
    summary_model = summary_model or ProcessStageTime
    reached_model = reached_model or MunicipalityStageReached
    live = set(process_model.objects.values_list("pk", flat=True))
    rows = [
        row
        for row in summarise(history_entries(history_model, process_model))
        if row["process_id"] in live
    ]
    first = {}
    for row in rows:
        for stage in reached_by_entering(row["stage"]):
            key = (row["municipality_id"], stage)
            if key not in first or row["first_entered_at"] < first[key]:
                first[key] = row["first_entered_at"]
    with transaction.atomic():
        summary_model.objects.all().delete()
        reached_model.objects.all().delete()
        summary_model.objects.bulk_create((summary_model(**row) for row in rows), batch_size=5_000)
        reached_model.objects.bulk_create(
            (
                reached_model(municipality_id=m, stage=stage, reached_at=moment)
                for (m, stage), moment in first.items()
            ),
            batch_size=5_000,
        )
    return len(rows)
