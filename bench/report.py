"""The figures of a run, their targets, the table printed and the results file written.

Every figure key is always present: a value, or `"not available: <why>"`. A missed target says by
how much, and the notes say why and what would close it (the README's benchmark section).
"""

from __future__ import annotations

import json
import operator
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

PAGES = [
    "county_overview",
    "county_overview_all",
    "inbox",
    "process",
    "timeline_first",
    "timeline_deep",
    "audit_csv_first_byte",
]

# Downloads among them: timed to their first byte (`bench.pages`), no layout around them.
DOWNLOADS = {"audit_csv_first_byte"}

# The pages a reader of one county opens, measured a fourth way (`bench.pages`): the cache on
# while steps are taken in another county, which leave that reader's pages in the cache.
ELSEWHERE_PAGES = ("county_overview", "inbox", "timeline_first")

# The pages the others are compared with (`bench.views`), shown first in the table.
REFERENCES = ["minimal", "layout"]

# The measured steps, in the order of a round of the flow (`bench.step_service.ROUND`).
STEPS = [
    "write_draft",
    "request_approval",
    "answer_approval_changes",
    "answer_approval_approved",
    "record_decision",
    "record_first_contact",
    "complete_dialogue",
]
# Issue #14: simplicity (documented APIs, no batching) is worth up to 2.5× the raw ORM.
STEP_LIMIT = 2.5

# figure → (unit, comparison, target); None: reported, no target.
TARGETS: dict[str, tuple[str, str | None, float | None]] = {
    # The worst step's ratio to its baseline (each step has its own below).
    "step_ratio_p50": ("×", "<=", STEP_LIMIT),
    "step_ratio_p95": ("×", "<=", STEP_LIMIT),
    # A whole round of the flow against the plain viewflow peer: the price of the record.
    "step_vs_viewflow_ratio_p50": ("×", None, None),
    "step_vs_viewflow_ratio_p95": ("×", None, None),
}
for _step in STEPS:
    TARGETS[f"step_{_step}_p50_ms"] = ("ms", None, None)
    TARGETS[f"step_{_step}_p95_ms"] = ("ms", None, None)
    TARGETS[f"step_{_step}_baseline_p50_ms"] = ("ms", None, None)
    TARGETS[f"step_{_step}_viewflow_p50_ms"] = ("ms", None, None)
    TARGETS[f"step_{_step}_ratio_p50"] = ("×", "<=", STEP_LIMIT)
    TARGETS[f"step_{_step}_ratio_p95"] = ("×", "<=", STEP_LIMIT)
    TARGETS[f"step_{_step}_vs_viewflow_ratio_p50"] = ("×", None, None)
    TARGETS[f"step_{_step}_vs_viewflow_ratio_p95"] = ("×", None, None)
    TARGETS[f"step_{_step}_statements"] = ("stmts", None, None)
    TARGETS[f"step_{_step}_baseline_statements"] = ("stmts", None, None)
TARGETS["minimal_p95_ms"] = ("ms", None, None)
TARGETS["minimal_rps"] = ("req/s", None, None)
# The minimal page on the page-cache-off gunicorn, under the same background writes.
TARGETS["minimal_uncached_p95_ms"] = ("ms", None, None)
TARGETS["minimal_uncached_rps"] = ("req/s", None, None)
# The minimal page's content in the site's layout on the same gunicorn, right after it: what any
# page costs before it shows anything, so its ratio is the ceiling of the pages' uncached ones.
TARGETS["layout_uncached_p50_ms"] = ("ms", None, None)
TARGETS["layout_uncached_p95_ms"] = ("ms", None, None)
TARGETS["layout_uncached_rps"] = ("req/s", None, None)
TARGETS["layout_uncached_rps_vs_minimal"] = ("×", None, None)
# Each page three ways (bench/pages.py): `<page>_uncached_…` with the page cache off, 8 sessions
# and a step every 200 ms (issue #18's targets); `<page>_after_write_…` one request right after
# a step, the cache on; `<page>_…` warm, every session's page in the cache.
for _page in PAGES:
    TARGETS[f"{_page}_uncached_p50_ms"] = ("ms", None, None)
    TARGETS[f"{_page}_uncached_p95_ms"] = ("ms", "<=", 150.0)
    TARGETS[f"{_page}_uncached_rps"] = ("req/s", None, None)
    TARGETS[f"{_page}_uncached_rps_vs_minimal"] = ("×", ">=", 0.5)
    TARGETS[f"{_page}_uncached_failed_requests"] = ("req", None, None)
    TARGETS[f"{_page}_after_write_p50_ms"] = ("ms", None, None)
    TARGETS[f"{_page}_after_write_p95_ms"] = ("ms", "<=", 150.0)
    TARGETS[f"{_page}_after_write_failed_requests"] = ("req", None, None)
    TARGETS[f"{_page}_p50_ms"] = ("ms", None, None)
    TARGETS[f"{_page}_p95_ms"] = ("ms", "<=", 150.0)
    TARGETS[f"{_page}_rps"] = ("req/s", None, None)
    TARGETS[f"{_page}_rps_vs_minimal"] = ("×", ">=", 0.5)
    TARGETS[f"{_page}_failed_requests"] = ("req", None, None)
# `<page>_cached_elsewhere_…`: a reader of one county, the cache on, a step every 200 ms in
# another county (no target: what the cache adds, which may help, never carry).
for _page in ELSEWHERE_PAGES:
    TARGETS[f"{_page}_cached_elsewhere_p50_ms"] = ("ms", None, None)
    TARGETS[f"{_page}_cached_elsewhere_p95_ms"] = ("ms", None, None)
    TARGETS[f"{_page}_cached_elsewhere_rps"] = ("req/s", None, None)
    TARGETS[f"{_page}_cached_elsewhere_rps_vs_minimal"] = ("×", None, None)
    TARGETS[f"{_page}_cached_elsewhere_failed_requests"] = ("req", None, None)
TARGETS.update(
    {
        "export_rows_per_s": ("rows/s", ">=", 50_000),
        "export_peak_rss_mb": ("MB", "<", 150.0),
        # One message per transaction, as steps queue them: a task message per email.
        "notifications_one_per_transaction_per_s": ("msg/s", ">=", 150),
        # 100 per transaction (a task message per 50 emails), for comparison.
        "notifications_per_s": ("msg/s", ">=", 300),
        "notifications_p95_ms": ("ms", "<", 1000.0),
        # The pace that p95 was measured at: the first of 70, 50, 35 % of the one-per-transaction
        # rate that the machine kept steady (`bench.notifications.steady`).
        "notifications_latency_rate_per_s": ("msg/s", None, None),
        "verify_seconds": ("s", "<", 30.0),
        # Leaders of different municipalities at once (one per core) against one alone.
        "parallel_writers_ratio": ("×", ">=", 1.6),
    }
)
FIGURES = list(TARGETS)

# Why a target is missed and what would close it, by figure prefix (the README's benchmark
# section has the measurements behind each note).
NOTES = {
    "step_": (
        "The ratio is mostly statements (counted per step in the results): each history row "
        "costs the audit trail the event and the head's move (the head's lock once per "
        "transaction; the baseline writes a step's events in one INSERT and moves the head "
        "once), a changed row a read of its previous record (simple-history's prev_record, also "
        "of a row the step wrote itself), a process row the snapshot of its approvers and their "
        "previous ids, each email a savepoint and a read of the recipient's digest choice (the "
        "decision's emails share one savepoint and one read); on a loaded machine every "
        "statement waits for the CPU, so the answers, the decision and the first "
        "contact (50-81 statements against 30-58) come closest. Closing it: take a row's "
        "previous record from the step's own history row when the step wrote it; or measure on "
        "a quiet machine."
    ),
    "verify_seconds": (
        "`verify_audit --full` with its default --jobs (the CPUs, at most 4): per event, Python "
        "decodes the changes' JSON and dumps it canonically (the stored jsonb text is never the "
        "canonical form; making it in SQL costs more), writes the rest of the payload from a "
        "template, hashes it and the personal part, and digests the event's history row. The "
        "verifier's CPU for 1M events and their history rows was 33.9 s on the machine of the "
        "2026-12-07 forenoon run (20.5 s, met) and 59.3 s on one 1.7 times slower (35.8 s), plus "
        "PostgreSQL's, all shared by two cores: 30 s needs both cores' worth of at most ~60 s in "
        "all. The nightly run reads only what came since the last verified checkpoint; the full "
        "pass is the weekly one. Closing it: more cores for --jobs, or a faster machine."
    ),
    "export_rows_per_s": (
        "On PostgreSQL the job is two parts over one snapshot (`exports.parts`), PostgreSQL "
        "writes the plain cells and Python the rest, without the cyclic garbage collector. Its "
        "processes took 23.9 s of CPU for the million rows on the machine of the 2026-12-07 "
        "forenoon run (41,855 rows per CPU second: 60,318 rows/s, met) and 38.2 s on one 1.7 "
        "times slower (26,202: 38,164 rows/s), plus PostgreSQL's on the same two cores; whole "
        "lines in SQL cost PostgreSQL more than they save (docs/decisions/export-in-sql.md). "
        "Closing it: more cores (EXPORTS_CSV_PROCESSES), a faster machine, or the changes' JSON "
        "(decoded and written again, about a quarter of the Python per row) out of Python."
    ),
    "export_peak_rss_mb": ("The export streams blocks of 2,000 rows; a smaller block lowers it."),
    "notifications_one_per_transaction_per_s": (
        "A task message per email: Celery's per-task cost (the message fetched, its delivery "
        "recorded in Redis and acknowledged after the task, as the outbox's guarantee needs; "
        "the task traced), the one-per-transaction CPU per email less the batched one: 1.9 ms on "
        "the machine of the 2026-12-07 forenoon run, 3.8 ms on one 1.7 times slower, on top of "
        "the delivery's, and PostgreSQL, the sink and the queueing side on the same 2 cores. "
        "Closing it: fewer task messages than emails, the worker on cores of its own, or a "
        "faster machine."
    ),
    "notifications_per_s": (
        "Each email is locked, sent, marked sent and committed on its own (a killed worker must "
        "send nothing twice), with its history row (and its previous record read) and audit "
        "event, about half the pool process's time, the SMTP exchange a fifth: 4.22 ms of worker "
        "CPU per email on the machine of the 2026-12-07 forenoon run (302 msg/s, met), 6.66 ms "
        "on one 1.7 times slower (202 msg/s), plus PostgreSQL's and the sink's on the same 2 "
        "cores. Closing it: SMTP server and database on other hosts, or a faster machine; a "
        "batch-wide previous record (-16 % of the worker's instructions) was measured and not "
        "taken (a caller's lock rule, issue #14)."
    ),
    "notifications_p95_ms": (
        "Latency is the queue wait plus one delivery, measured at the first pace (70, 50, 35 % "
        "of the one-per-transaction rate) the machine kept steady with the queueing side on the "
        "same cores (details.notifications.latency.attempts); above the worker's rate the queue "
        "grows and the wait with it."
    ),
    # The pages' notes: the uncached and after-a-write figures first (their names end as the
    # cached ones do, and the first note that fits is used).
    "_uncached_p95_ms": (
        "With the page cache off every request computes its page: 7-12 statements (Django's ORM "
        "builds each in Python) and its whole template, 6-16 times the minimal page's Python (9-17 "
        "ms a page where the minimal page takes 1.6 on the machine of the 2026-12-07 forenoon run; "
        "25-42 against 2.7 on one 1.7 times slower, the bench's yardstick 4.4 ms), while a step "
        "every 200 ms takes its share of the two cores. With 8 clients, each waiting for its "
        "answer before asking again, p95 <= 150 ms needs about 53 pages a second: a page costing "
        "at most ~35 ms of the two cores' time, all processes included. Expensive figures are "
        "kept on the writes already (each municipality's current process, its stage times, a "
        "counter per municipality for the figures' currency); what is left is spread over the "
        "statements and templates. Closing it: a faster machine (met on the forenoon's), pages "
        "that show less per request, or more cores."
    ),
    "_uncached_rps_vs_minimal": (
        "Uncached, a page runs 7-12 statements and renders its whole template, 6-16 times the "
        "Python of the minimal page (two queries, a small template and no layout), both measured "
        "under the same writes: 0.5x would need a page costing about twice the minimal page, "
        "and the minimal page's content inside the site's layout, measured in the same run "
        "(`layout_uncached_rps_vs_minimal`, 0.55x on 2026-12-07's fast machine), already costs "
        "nearly that: a page would have a tenth of the layout's cost left for its own queries "
        "and content (the line under the table). Closing it: hand-written SQL and templates "
        "rendered outside Django's engine, or pre-rendered fragments kept on the writes (both "
        "against the core's simplicity, issue #14); the page cache is what meets it."
    ),
    "_after_write_p95_ms": (
        "Right after a step the data version has moved: the page is computed and stored (a miss) "
        "and, when the step changed a process, the overview recomputes its figures and charts "
        "(the country's for `?county=all`: its 50,000 finished stays aggregated in SQL, 14-20 ms "
        "at full size). Closing it: the figures themselves kept up to date on the writes."
    ),
    "_p95_ms": (
        "With 8 clients, each waiting for its answer before asking again, p95 <= 150 ms needs "
        "about 53 pages a second: a page costing at most ~35 ms of the two cores' time."
    ),
    "_rps_vs_minimal": (
        "Served from the page cache, a page runs 3 queries (the session, the user, the data "
        "version: the user's permissions and county roles come from the cache, "
        "`municipalities.access`) and two cache reads (the user's access, the page), where the "
        "minimal page runs 2 queries and none; the process page and the process's CSV one "
        "query more (the process's county, checked before the cache read). What is left: the "
        "data version (the cache never decides whether a page is current) and sending 20–90 KB "
        "of page."
    ),
}


def _note(figure: str) -> str:
    for prefix, note in NOTES.items():
        if figure.startswith(prefix) or (prefix.startswith("_") and figure.endswith(prefix)):
            return note
    return ""


def assess(figures: dict) -> dict:
    """Each figure with its unit, target and verdict (`met`, or by how much it is missed)."""
    assessed = {}
    for name in FIGURES:
        unit, op, target = TARGETS[name]
        value = figures.get(name, "not available: not measured")
        entry = {"value": value, "unit": unit}
        if op is not None:
            entry["target"] = f"{op} {target:g}"
            if isinstance(value, int | float):
                compare = {
                    "<=": operator.le,
                    "<": operator.lt,
                    ">=": operator.ge,
                }[op]
                entry["met"] = bool(compare(value, target))
                if not entry["met"]:
                    if op.startswith("<"):
                        entry["missed_by"] = f"{value / target:.2f}× the target"
                    else:
                        entry["missed_by"] = f"{value / target:.0%} of the target"
                    entry["why"] = _note(name)
            else:
                entry["met"] = None
        assessed[name] = entry
    return assessed


def figures_from(details: dict) -> dict:
    """The flat figures from each part's detailed results (or why a part has none)."""
    figures: dict = {}

    def unavailable(prefix_names, why):
        for name in prefix_names:
            figures[name] = f"not available: {why}"

    step = details.get("step", {})
    step_names = [n for n in FIGURES if n.startswith("step_")]
    if "error" in step or not step:
        unavailable(step_names, step.get("error", "not run"))
    else:
        figures.update(
            step_ratio_p50=step["ratio_p50"],
            step_ratio_p95=step["ratio_p95"],
            step_vs_viewflow_ratio_p50=step["vs_viewflow_ratio_p50"],
            step_vs_viewflow_ratio_p95=step["vs_viewflow_ratio_p95"],
        )
        ratios = ("ratio_p50", "ratio_p95", "vs_viewflow_ratio_p50", "vs_viewflow_ratio_p95")
        for name in STEPS:
            prefix, measured = f"step_{name}", step["steps"].get(name)
            if measured is None:
                unavailable([n for n in step_names if n.startswith(f"{prefix}_")], "not run")
                continue
            figures[f"{prefix}_p50_ms"] = measured["service"]["p50_ms"]
            figures[f"{prefix}_p95_ms"] = measured["service"]["p95_ms"]
            figures[f"{prefix}_baseline_p50_ms"] = measured["baseline"]["p50_ms"]
            figures[f"{prefix}_viewflow_p50_ms"] = measured["viewflow"]["p50_ms"]
            for key in ratios:
                figures[f"{prefix}_{key}"] = measured[key]
            figures[f"{prefix}_statements"] = measured["statements"]["service"]
            figures[f"{prefix}_baseline_statements"] = measured["statements"]["baseline"]
    pages = details.get("pages", {})
    page_names = [n for n in FIGURES if n.startswith(("minimal_", "layout_", *PAGES))]
    if "error" in pages or not pages:
        unavailable(page_names, pages.get("error", "not run"))
    else:
        figures.update(_page_figures(pages))
    export = details.get("export", {})
    if "error" in export or not export:
        unavailable(["export_rows_per_s", "export_peak_rss_mb"], export.get("error", "not run"))
    else:
        figures["export_rows_per_s"] = export["rows_per_s"]
        figures["export_peak_rss_mb"] = export["worker_peak_rss_mb"]
    notes = details.get("notifications", {})
    if "error" in notes or not notes:
        unavailable(
            [
                "notifications_one_per_transaction_per_s",
                "notifications_per_s",
                "notifications_p95_ms",
                "notifications_latency_rate_per_s",
            ],
            notes.get("error", "not run"),
        )
    else:
        figures["notifications_one_per_transaction_per_s"] = notes["one_per_transaction"][
            "messages_per_s"
        ]
        figures["notifications_per_s"] = notes["drain"]["messages_per_s"]
        figures["notifications_p95_ms"] = notes["latency"]["p95_ms"]
        figures["notifications_latency_rate_per_s"] = notes["latency"]["rate_per_s"]
    writers = details.get("writers", {})
    if "error" in writers or not writers:
        unavailable(["parallel_writers_ratio"], writers.get("error", "not run"))
    else:
        figures["parallel_writers_ratio"] = writers["parallel_writers_ratio"]
    verify = details.get("verify", {})
    if "error" in verify or not verify:
        unavailable(["verify_seconds"], verify.get("error", "not run"))
    elif not verify["ok"]:
        figures["verify_seconds"] = f"not available: the chain did not verify: {verify['output']}"
    else:
        figures["verify_seconds"] = verify["seconds"]
    return figures


def _page_figures(pages: dict) -> dict:
    """The pages part's figures: each page uncached, after a write and cached, with the count
    of failed requests (a failed request is reported, the page keeps its figures)."""
    figures: dict = {}
    not_measured = {"not_available": "not available: not measured"}
    for name in ("minimal", "minimal_uncached"):
        reference = pages.get(name) or not_measured
        for measure in ("p95_ms", "rps"):
            figures[f"{name}_{measure}"] = reference.get(measure, reference.get("not_available"))
    for page in ["layout", *PAGES]:
        # The layout reference is measured uncached only, beside the minimal page.
        result = (
            {"uncached": pages.get("layout_uncached")}
            if page == "layout"
            else pages.get("pages", {}).get(page, {})
        )
        for mode, _label in PAGE_MODES:
            measured = result.get(mode) or not_measured
            values = measured.get("not_available") or {
                "p50_ms": round(measured["p50_ms"], 1),
                "p95_ms": round(measured["p95_ms"], 1),
                "rps": measured.get("rps"),
                "rps_vs_minimal": measured.get(
                    "rps_vs_minimal", "not available: the minimal page was not measured"
                ),
                "failed_requests": measured.get("failed", 0) + measured.get("warm_failed", 0),
            }
            for measure, _label in PAGE_MEASURES:
                name = _page_figure(page, mode, measure)
                if name in TARGETS:
                    figures[name] = values if isinstance(values, str) else values[measure]
    return figures


# The pages' figures: page × measure × mode (the table shows the modes side by side).
PAGE_MEASURES = [
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("rps", "req/s"),
    ("rps_vs_minimal", "× minimal"),
    ("failed_requests", "failed req"),
]
PAGE_MODES = [
    ("uncached", "uncached (miss)"),
    ("cached", "cached (hit)"),
    ("after_write", "after a write"),
    ("cached_elsewhere", "cached, another county writing"),
]


def _page_figure(page: str, mode: str, measure: str) -> str:
    return f"{page}_{'' if mode == 'cached' else mode + '_'}{measure}"


def _page_of(name: str) -> tuple[str, str] | None:
    """(page, mode) of a page figure's name, None for another figure."""
    for page in REFERENCES + PAGES:
        for mode, _label in PAGE_MODES:
            for measure, _shown in PAGE_MEASURES:
                if name == _page_figure(page, mode, measure):
                    return page, mode
    return None


def _cell(entry: dict | None, *, markdown: bool = False) -> str:
    if entry is None:
        return ""
    value = entry["value"]
    if isinstance(value, str):
        return "n/a"
    decimals = 2 if entry["unit"] == "×" else 1
    shown = f"{value:,.{decimals}f}" if isinstance(value, float) else f"{value:,}"
    if entry.get("met") is True:
        shown += " met"
    elif entry.get("met") is False:
        missed = "**MISSED**" if markdown else "MISSED"
        shown += f" {missed} ({entry['missed_by'].replace(' the target', ' target')})"
    return shown


def _pages_block(assessed: dict, *, markdown: bool) -> tuple[list[str], set[str], list[str]]:
    """The pages side by side: (lines, figure names shown, why each n/a is n/a)."""
    shown: set[str] = set()
    unavailable: list[str] = []
    rows = []
    for page in REFERENCES + PAGES:
        first = True
        for measure, label in PAGE_MEASURES:
            names = [_page_figure(page, mode, measure) for mode, _ in PAGE_MODES]
            entries = [assessed.get(name) for name in names]
            if not any(entries):
                continue
            shown.update(name for name in names if name in assessed)
            target = next((e["target"] for e in entries if e and e.get("target")), "")
            rows.append(
                [
                    page if first else "",
                    label,
                    *(_cell(e, markdown=markdown) for e in entries),
                    target,
                ]
            )
            first = False
            for name, entry in zip(names, entries, strict=True):
                if entry and isinstance(entry["value"], str):
                    unavailable.append(f"{name}: {entry['value']}")
    if not rows:
        return [], shown, []
    header = ["page", "measure", *(label for _, label in PAGE_MODES), "target"]
    if markdown:
        aligned = "|---|---|" + "---:|" * len(PAGE_MODES) + "---|"
        lines = ["| " + " | ".join(header) + " |", aligned]
        for page, *cells in rows:
            lines.append(f"| {f'`{page}`' if page else ''} | {' | '.join(cells)} |")
    else:
        widths = [22, 11, *[31] * len(PAGE_MODES), 8]
        lines = ["  ".join(f"{h:{w}}" for h, w in zip(header, widths, strict=True)).rstrip()]
        lines += [
            "  ".join(f"{c:{w}}" for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
    # A reason shown once per page and mode, not once per figure.
    reasons: dict[str, str] = {}
    for line in unavailable:
        name, _, why = line.partition(": ")
        page_mode = _page_of(name)
        reasons.setdefault(f"{page_mode[0]} ({page_mode[1]})", why)
    return lines, shown, [f"{where}: {why}" for where, why in reasons.items()]


def machine_line(machine: dict) -> str:
    """What the run's machine was and how fast (`bench/yardstick.py`), under the table: figures in
    absolute time compare across runs only on machines of about the same yardstick."""
    speed = machine.get("template_ms")
    line = f"Machine: {machine.get('cpu') or 'unknown CPU'}, {machine.get('cores')} cores"
    # The interpreter is part of the speed: one build ran Django a fifth slower than another
    # of the same version on the same machine (README, "Which Python").
    if machine.get("python"):
        line += f", Python {machine['python']}"
        if machine.get("python_executable"):
            line += f" ({machine['python_executable']})"
    if speed is None:  # results files from before the yardstick
        return line + "; no yardstick measured"
    return (
        f"{line}; the yardstick template {speed} ms a rendering (bench/yardstick.py: compare "
        "runs on other machines by it)"
    )


def machine(database_version: str, *, template_ms: float | None = None) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        memory_kib = 0
    wrk = shutil.which("wrk")
    wrk_version = ""
    if wrk:
        result = subprocess.run(  # noqa: S603 (wrk's own path)
            [wrk, "--version"], capture_output=True, text=True, check=False
        )
        wrk_version = (result.stdout or result.stderr).splitlines()[0] if result else ""
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "postgresql": database_version,
        "python": platform.python_version(),
        "python_executable": os.path.realpath(sys.executable),
        "load_tool": wrk_version or "python threads (wrk not installed)",
        "template_ms": template_ms,
    }


# A part ran in a slow phase when the yardstick, read right before or right after it, took this
# many times its reading at the run's start.
SLOW_PHASE = 1.2


def slow_phase_line(details: dict, machine: dict) -> str | None:
    """The parts measured while the machine ran slower than at the run's start, with the
    yardstick before and after each, under the table (None when none was): on a shared host the
    same code's figures moved by a fifth to a third with such phases, so a miss measured in one
    says so beside its verdict rather than only in the run's log."""
    start = machine.get("template_ms")
    if not start:
        return None
    slow = []
    for name, part in details.items():
        readings = part.get("template_ms") if isinstance(part, dict) else None
        if not readings or len(readings) != 2:
            continue
        worst = max(readings)
        if worst >= SLOW_PHASE * start:
            slow.append(f"{name} {readings[0]} -> {readings[1]} ms ({worst / start:.2f}×)")
    if not slow:
        return None
    return (
        f"Slow phases (the yardstick before -> after a part, against {start} ms at the run's "
        f"start): {', '.join(slow)}. These parts' figures were measured on a machine up to that "
        "much slower; a ratio whose two sides ran minutes apart may have one side in it."
    )


def layout_line(figures: dict) -> str | None:
    """The layout reference against the pages, under the table: the uncached ratio no page can
    pass, measured in the run (None when either side was not measured)."""

    def value(name):
        found = figures.get(name, {}).get("value")
        return found if isinstance(found, int | float) else None

    ceiling = value("layout_uncached_rps_vs_minimal")
    # The HTML pages (a download has no layout around it).
    pages = [
        r
        for p in PAGES
        if p not in DOWNLOADS and (r := value(f"{p}_uncached_rps_vs_minimal")) is not None
    ]
    if ceiling is None or not pages:
        return None
    _unit, _op, target = TARGETS[f"{PAGES[0]}_uncached_rps_vs_minimal"]
    if ceiling > target:
        room = (
            f"a page at {target:g}× could cost at most {ceiling / target:.2f}× the layout "
            "alone, its own queries and content included"
        )
    else:
        room = f"no page can reach {target:g}×"
    return (
        f"Layout: the minimal page's content inside the site's layout answered "
        f"{value('layout_uncached_rps'):,.1f} req/s uncached, {ceiling:.2f}× the minimal page "
        f"(the HTML pages {min(pages):.2f}–{max(pages):.2f}×, target {target:g}×). Every page "
        f"a signed-in reader opens costs that before it shows anything, so none can pass it: "
        f"{room}."
    )


def paced_mail_line(details: dict) -> str | None:
    """The paced mail's attempts in one line, under the table: `notifications_p95_ms` is the
    last one's, and a pace the machine did not keep steady is shown, not only left out."""
    latency = details.get("notifications", {}).get("latency", {})
    attempts = latency.get("attempts") or ([latency] if "rate_per_s" in latency else [])
    if not attempts:
        return None
    shown = []
    for attempt in attempts:
        # Files from before the steady-pace rule have one attempt and no verdict on it.
        verdict = {True: " steady", False: " not steady"}.get(attempt.get("steady"), "")
        said = []
        if attempt.get("achieved_rate_per_s") is not None:
            said.append(f"{attempt['achieved_rate_per_s']:g} kept")
        if attempt.get("first_third_p50_ms") is not None:
            said.append(
                f"the wait {attempt['first_third_p50_ms']:g} → {attempt['last_third_p50_ms']:g} "
                "ms at the median from the first third to the last"
            )
        how = f" ({', '.join(said)})" if said else ""
        shown.append(f"{attempt['rate_per_s']:g} msg/s{verdict}{how}, p95 {attempt['p95_ms']:g} ms")
    return "Paced mail: " + "; then ".join(shown)


def table(assessed: dict) -> str:
    block, in_block, reasons = _pages_block(assessed, markdown=False)
    width = max([34, *(len(name) for name in assessed if name not in in_block)])
    lines = [f"{'figure':{width}} {'value':>14} {'unit':7} {'target':>10}  verdict"]
    for name, entry in assessed.items():
        if name in in_block:
            continue
        value = entry["value"]
        if isinstance(value, str):
            shown, verdict = "–", value
        elif entry.get("met") is None:
            verdict = ""
        elif entry["met"]:
            verdict = "met"
        else:
            verdict = f"MISSED ({entry['missed_by']})"
        if not isinstance(value, str):
            shown = f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"
        lines.append(
            f"{name:{width}} {shown:>14} {entry['unit']:7} {entry.get('target', ''):>10}  {verdict}"
        )
    if block:
        lines += ["", "Pages (each figure `<page>_[uncached_|after_write_]<measure>`):", *block]
        lines += [f"  n/a {reason}" for reason in reasons]
    return "\n".join(lines)


def write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")


def markdown(assessed: dict) -> str:
    """The figures as Markdown tables, for the README: the pages side by side after the rest."""
    block, in_block, reasons = _pages_block(assessed, markdown=True)
    lines = ["| figure | value | target | verdict |", "|---|---:|---|---|"]
    for name, entry in assessed.items():
        if name in in_block:
            continue
        value = entry["value"]
        if isinstance(value, str):
            shown, verdict = "–", value
        else:
            decimals = 2 if entry["unit"] == "×" else 1  # ratios near their targets
            shown = f"{value:,.{decimals}f}" if isinstance(value, float) else f"{value:,}"
            shown = f"{shown} {entry['unit']}"
            if entry.get("met") is None:
                verdict = ""
            else:
                verdict = "met" if entry["met"] else f"**missed** ({entry['missed_by']})"
        lines.append(f"| `{name}` | {shown} | {entry.get('target', '')} | {verdict} |")
    if block:
        lines += ["", *block]
        lines += ["", *(f"- n/a {reason}" for reason in reasons)] if reasons else []
    return "\n".join(lines)


if __name__ == "__main__":  # python -m bench.report bench/results.json: the Markdown table
    import sys

    results = json.loads(Path(sys.argv[1]).read_text())
    print(markdown(results["figures"]))
    if layout := layout_line(results["figures"]):
        print(f"\n{layout}")
    if paced := paced_mail_line(results.get("details", {})):
        print(f"\n{paced}")
    print(f"\n{machine_line(results.get('machine', {}))}")
    if slow := slow_phase_line(results.get("details", {}), results.get("machine", {})):
        print(f"\n{slow}")
