"""(1) Every step of the flow through the services, next to a raw-ORM baseline doing the same
reads and writes and a plain viewflow peer, interleaved in the same run.

The steps (`step_service.ROUND`): processes waiting at the draft step are driven round the whole
flow through `workflows.services` (the contact's answers through `workflows.task_links`), each
step timed on its own: write the draft, request approval, changes requested, the draft again,
request approval, approved, the decision (adopted); then the municipality's next process (started
untimed) gets its first contact and, after a meeting (untimed), the completed dialogue.

Each step is followed by the same step of the baseline (`step_baseline`: the same reads and rows,
plain ORM, one transaction) and of the plain viewflow peer (`peer`: the same nodes, no history,
audit or outbox), in an order that turns every round. A first round warms all three up and
counts, table by table, what each step of the service and of the baseline wrote
(`rows_written`, from pg_stat_xact_user_tables), and a second counts their statements
(`statements`, Django's CaptureQueriesContext); neither is timed.

Figures: per step, the p50/p95 of each and the ratios service/baseline (target ≤ 2.5 each) and
service/peer (no target: the price of the record). `step_ratio_p50/_p95` is the worst step's;
`step_vs_viewflow_ratio_p50/_p95` the whole round's (the p50/p95 of a round's summed times).
"""

from __future__ import annotations

import datetime
import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from workflows.models import PolicyProcess

from .load import percentile
from .peer import PeerDriver
from .step_baseline import Baseline, baseline_process
from .step_service import ROUND, STEPS, ServiceDriver, processes_at_draft

SIDES = ("service", "baseline", "viewflow")


def _stats() -> dict[str, tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins > 0 OR n_tup_upd > 0"
        )
        return {name: (ins, upd) for name, ins, upd in cursor.fetchall()}


def census(work) -> dict[str, dict[str, int]]:
    """Rows each table got inserted and updated by ``work()`` (one transaction, committed)."""
    with transaction.atomic():
        before = _stats()
        work()
        after = _stats()
    written = {}
    for table, (ins, upd) in after.items():
        old_ins, old_upd = before.get(table, (0, 0))
        if ins - old_ins or upd - old_upd:
            written[table] = {"inserted": ins - old_ins, "updated": upd - old_upd}
    return dict(sorted(written.items()))


def statements(work) -> dict:
    """How many SQL statements ``work()`` ran, by kind (BEGIN/COMMIT/savepoints included)."""
    with CaptureQueriesContext(connection) as captured:
        work()
    kinds: dict[str, int] = {}
    for query in captured.captured_queries:
        word = query["sql"].split(None, 1)[0].upper() if query["sql"] else "?"
        kinds[word] = kinds.get(word, 0) + 1
    return {"total": len(captured.captured_queries), "by_kind": dict(sorted(kinds.items()))}


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "count": len(ms),
        "p50_ms": round(statistics.median(ms), 2) if ms else None,
        "p95_ms": round(percentile(ms, 95), 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
    }


def _ratio(over: dict, under: dict, key: str):
    return round(over[key] / under[key], 2) if over[key] and under[key] else None


class StepLoop:
    """One leader's process round the draft → request approval → answer loop (the parallel
    writers' part: three steps a call, each through the services)."""

    LOOP = ("write_draft", "request_approval", "answer_approval_changes")

    def __init__(self, leader, processes: list[PolicyProcess]):
        self.driver = ServiceDriver(leader, processes)
        self.turn = 0

    def write_draft(self) -> None:
        slot = self.driver.slot(self.turn)
        self.turn += 1
        for name in self.LOOP:
            self.driver.prepare(name, slot)()


def _timed(step) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - started, time.process_time() - cpu


def measure(*, steps: int, leader_username: str, slots: int = 1) -> dict:
    leader = get_user_model().objects.get(username=leader_username)
    # As the writers and the pages' background writes choose theirs (taken to the draft step
    # first where none waits there).
    chosen = processes_at_draft(slots, leader)
    processes = list(PolicyProcess.objects.filter(pk__in=chosen).order_by("pk"))
    drivers = {
        "service": ServiceDriver(leader, processes),
        "baseline": Baseline(leader, baseline_process()),
        "viewflow": PeerDriver(leader, [p.municipality for p in processes]),
    }

    def prepared(side: str, name: str, round_number: int):
        driver = drivers[side]
        if side == "baseline":
            return driver.prepare(name)
        return driver.prepare(name, driver.slot(round_number))

    rows: dict[str, dict] = {name: {} for name in STEPS}
    counted: dict[str, dict] = {name: {} for name in STEPS}
    # Round 0 warms every path up and leaves the service's process one the leader started
    # (whose steps follow their own: no email to themselves, as in every later round); round 1
    # counts the rows, round 2 the statements.
    for round_number, kind in ((0, None), (1, "rows"), (2, "statements")):
        for name in ROUND:
            for side in SIDES:
                step = prepared(side, name, round_number)
                done = rows if kind == "rows" else counted
                if kind is None or side in done[name] or (kind == "rows" and side == "viewflow"):
                    step()  # counted once (the draft steps come twice a round)
                elif kind == "rows":
                    done[name][side] = census(step)
                else:
                    done[name][side] = statements(step)

    times = {name: {side: [] for side in SIDES} for name in STEPS}
    cpu = {name: {side: [] for side in SIDES} for name in STEPS}
    rounds = {side: [] for side in SIDES}
    deadline = time.monotonic() + 20 * 60
    round_count = max(2, steps // 4)
    for offset in range(round_count):
        round_number = offset + 3
        order = SIDES[offset % 3 :] + SIDES[: offset % 3]  # who goes first turns
        total = dict.fromkeys(SIDES, 0.0)
        for name in ROUND:
            for side in order:
                step = prepared(side, name, round_number)
                elapsed, used = _timed(step)
                times[name][side].append(elapsed)
                cpu[name][side].append(used)
                total[side] += elapsed
        for side in SIDES:
            rounds[side].append(total[side])
        if time.monotonic() > deadline:
            break

    per_step = {}
    for name in STEPS:
        got = {side: summary(times[name][side]) for side in SIDES}
        per_step[name] = {
            **got,
            "cpu": {side: summary(cpu[name][side]) for side in SIDES},
            "ratio_p50": _ratio(got["service"], got["baseline"], "p50_ms"),
            "ratio_p95": _ratio(got["service"], got["baseline"], "p95_ms"),
            "vs_viewflow_ratio_p50": _ratio(got["service"], got["viewflow"], "p50_ms"),
            "vs_viewflow_ratio_p95": _ratio(got["service"], got["viewflow"], "p95_ms"),
            "statements": {side: counted[name][side]["total"] for side in SIDES},
            "statements_by_kind": {side: counted[name][side]["by_kind"] for side in SIDES},
            "rows_written": rows[name],
        }
    whole = {side: summary(rounds[side]) for side in SIDES}
    worst_p50 = max(STEPS, key=lambda n: per_step[n]["ratio_p50"] or 0)
    worst_p95 = max(STEPS, key=lambda n: per_step[n]["ratio_p95"] or 0)
    return {
        "steps": per_step,
        "round": {
            **whole,
            "ratio_p50": _ratio(whole["service"], whole["baseline"], "p50_ms"),
            "ratio_p95": _ratio(whole["service"], whole["baseline"], "p95_ms"),
            "vs_viewflow_ratio_p50": _ratio(whole["service"], whole["viewflow"], "p50_ms"),
            "vs_viewflow_ratio_p95": _ratio(whole["service"], whole["viewflow"], "p95_ms"),
        },
        # The limit holds for every step: the overall ratio is the worst step's.
        "ratio_p50": per_step[worst_p50]["ratio_p50"],
        "ratio_p95": per_step[worst_p95]["ratio_p95"],
        "worst_step_p50": worst_p50,
        "worst_step_p95": worst_p95,
        # The price of the record over a whole round of the flow.
        "vs_viewflow_ratio_p50": _ratio(whole["service"], whole["viewflow"], "p50_ms"),
        "vs_viewflow_ratio_p95": _ratio(whole["service"], whole["viewflow"], "p95_ms"),
        "rows_written": _rows_of_a_round(rows),
        "rounds": len(rounds["service"]),
        "processes_driven": len(processes),
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _rows_of_a_round(rows: dict) -> dict:
    """Each side's rows over one of each step, table by table."""
    total: dict = {"service": {}, "baseline": {}}
    for by_side in rows.values():
        for side, tables in by_side.items():
            for table, counts in tables.items():
                into = total[side].setdefault(table, {"inserted": 0, "updated": 0})
                into["inserted"] += counts["inserted"]
                into["updated"] += counts["updated"]
    return {side: dict(sorted(t.items())) for side, t in total.items()}
