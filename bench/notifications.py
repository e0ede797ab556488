"""(4) Notifications: queued through the outbox, delivered by one Celery worker into a local SMTP
sink (bench/smtp_sink.py in a subprocess: accepts and counts, as cheaply as a real server would).

- drain, one per transaction (the real pattern: a step queues one or two emails, and each
  step's commit publishes its own task message): N messages, each queued in a transaction of
  its own while no worker runs, then one worker (prefork, two processes on two cores) sends
  them all: messages per second from the first to the last `sent_at`;
- drain, batched: the same with 100 messages per transaction (a message per 50 ids), for
  comparison;
- latency: with the worker idle (the backlogs gone), messages queued one per transaction at a
  steady rate below the one-per-transaction capacity: enqueue (`created_at`) → delivered
  (`sent_at`), p50/p95. The pace starts at 70 % of the capacity (measured with nothing else
  running); where the machine does not keep it with the queueing side on the same cores (the
  pace not kept, or the wait growing through the run: `steady`), it is measured again at 50 %,
  then 35 %, and every attempt is reported.
"""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

from django.db import transaction
from django.db.models import Count

from notifications.models import DeliveryStatus, Event, Notification
from notifications.outbox import queue_notification

from .config import ROOT
from .load import percentile
from .server import cpu_seconds, stop

# The latency part's paces, as fractions of the one-per-transaction capacity, tried in turn
# until one is steady.
LATENCY_PACES = (0.7, 0.5, 0.35)


def _queue(run: str, number: int) -> int:
    return queue_notification(
        event=Event.TASK_ASSIGNED,
        recipient_email=f"mottagare{number % 50}@region.example",
        recipient_name="Bench Mottagare",
        language="sv",
        context={
            "municipality": "Växjö",
            "task_title": "Skriv utkastet",
            "task_url": "/tasks/1/",
        },
        key=f"bench:{run}:{number}",
        topic="bench",
    ).pk


def _counts(ids: list[int]) -> tuple[int, int]:
    """How many of the run's rows are sent and failed (once, when the wait is over)."""
    rows = Notification.objects.filter(topic="bench", pk__gte=min(ids), pk__lte=max(ids))
    counts = dict(rows.values_list("status").annotate(Count("pk")).order_by())
    return counts.get(DeliveryStatus.SENT, 0), counts.get(DeliveryStatus.FAILED, 0)


def _waiting(ids: list[int]) -> int:
    """How many of the run's rows are still queued: the poll, four times a second, while the
    worker is measured. It reads the queued rows only (the sweep's index on status leads), so
    its cost falls as the backlog drains; counting every row of the run by status took
    0.6-0.8 ms of PostgreSQL's CPU per email sent from the two cores being measured."""
    queued = Notification.objects.filter(
        status=DeliveryStatus.QUEUED, pk__gte=min(ids), pk__lte=max(ids), topic="bench"
    )
    return queued.count()


def _wait_sent(ids: list[int], timeout: float, *, worker=None) -> tuple[int, int, dict]:
    """Wait until every row is sent or failed; with ``worker``, also its CPU time (main process
    and pool) from the first poll that found a message gone out (the worker then running, its
    start-up done) to the end, with how many it sent or failed in between."""
    deadline = time.monotonic() + timeout
    first = None
    while True:
        done = len(ids) - _waiting(ids)
        if worker is not None and first is None and done:
            first = (_worker_cpu(worker), done)
        if done >= len(ids) or time.monotonic() > deadline:
            cpu = {}
            if first is not None and done > first[1]:
                cpu = {"cpu_seconds": _worker_cpu(worker) - first[0], "messages": done - first[1]}
            sent, failed = _counts(ids)
            return sent, failed, cpu
        time.sleep(0.25)


def _worker_cpu(worker: subprocess.Popen) -> float:
    """CPU seconds of the worker's main process and its pool processes so far."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    total = 0.0
    for pid in [worker.pid, *map(int, children)]:
        with contextlib.suppress(FileNotFoundError):
            total += cpu_seconds(pid)
    return total


def _worker(env: dict, log: Path) -> subprocess.Popen:
    # The pool, concurrency and log level docker-compose.yml's and Procfile.dev's worker runs with.
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "policyflow", "worker",
            "--pool=prefork", "--concurrency=2", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "bench@%h",
        ],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _sink(port: int, log: Path, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", "bench.smtp_sink", "--port", str(port), "--log", str(log)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    if process.stdout.readline().strip() != "ready":
        stop(process)
        raise RuntimeError("the SMTP sink did not start")
    return process


def _queue_all(run: str, number: int, *, per_transaction: int) -> tuple[list[int], float]:
    started = time.monotonic()
    ids: list[int] = []
    for start in range(0, number, per_transaction):
        with transaction.atomic():
            ids.extend(_queue(run, n) for n in range(start, min(start + per_transaction, number)))
    return ids, time.monotonic() - started


def _drain(env: dict, ids: list[int], *, enqueue_seconds: float, workdir: Path):
    """Start a worker on the backlog of ``ids`` and time it; returns (figures, the worker)."""
    worker = _worker(env, workdir / "celery-worker.log")
    started = time.monotonic()
    sent, failed, cpu = _wait_sent(ids, timeout=60 + len(ids) / 20, worker=worker)
    wall = time.monotonic() - started
    times = sorted(
        Notification.objects.filter(pk__in=ids, sent_at__isnull=False).values_list(
            "sent_at", flat=True
        )
    )
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    if sent + failed < len(ids):
        # The backlog must be gone before anything else is measured, or it measures the backlog.
        sent, failed, _cpu = _wait_sent(ids, timeout=60 + len(ids) / 5)
    return {
        "messages": len(ids),
        "sent": sent,
        "failed": failed,
        "enqueue_seconds": round(enqueue_seconds, 2),
        "enqueue_ms_per_message": round(enqueue_seconds * 1000 / len(ids), 2) if ids else None,
        "first_to_last_sent_seconds": round(span, 2),
        "messages_per_s": round((len(times) - 1) / span, 1) if span else None,
        "wall_seconds_including_worker_start": round(wall, 2),
        # The worker's own cost per email, whatever else ran on the machine (PostgreSQL's and
        # the sink's not included): what the rate would be with its cores to itself.
        "worker_cpu_ms_per_message": round(cpu["cpu_seconds"] * 1000 / cpu["messages"], 2)
        if cpu
        else None,
    }, worker


def steady(paced: dict) -> bool:
    """Whether a paced run measured the wait of a steady queue: the pace was kept (the queueing
    side, on the same two cores, was not starved: at least 90 % of the rate asked) and the last
    third's messages waited no longer than the first third's, give or take the noise of a few
    milliseconds (at most twice as long, plus 50 ms). A wait that grows through the run is a
    queue that grows: its p95 says how long the run was, not how long a step's email waits."""
    first, last = paced["first_third_p50_ms"], paced["last_third_p50_ms"]
    achieved = paced["achieved_rate_per_s"]
    if first is None or last is None or achieved is None:
        return True  # fewer than three messages: nothing to compare
    return achieved >= 0.9 * paced["rate_per_s"] and last <= 2 * first + 50


def _paced(run: str, latency: int, rate: float) -> dict:
    """``latency`` messages queued one per transaction, ``rate`` a second; their waits."""
    rate = max(1.0, rate)
    ids = []
    interval = 1.0 / rate
    started = next_at = time.monotonic()
    for number in range(latency):
        with transaction.atomic():
            ids.append(_queue(run, number))
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    queued_seconds = time.monotonic() - started
    sent, failed, _cpu = _wait_sent(ids, timeout=60 + latency / 10)
    in_order = [
        (sent_at - created).total_seconds() * 1000
        for created, sent_at in Notification.objects.filter(pk__in=ids, sent_at__isnull=False)
        .order_by("created_at", "pk")
        .values_list("created_at", "sent_at")
    ]
    delays = sorted(in_order)
    third = len(in_order) // 3
    paced = {
        "messages": latency,
        "rate_per_s": round(rate, 1),
        # Lower than the rate when queueing itself (the step's side) took longer.
        "achieved_rate_per_s": round(latency / queued_seconds, 1) if queued_seconds else None,
        "sent": sent,
        "failed": failed,
        "p50_ms": round(statistics.median(delays), 1) if delays else None,
        "p95_ms": round(percentile(delays, 95), 1) if delays else None,
        "max_ms": round(delays[-1], 1) if delays else None,
        # Steady below the machine's capacity, the first third's messages wait as long as
        # the last third's; a wait that grows says the rate saturated the machine (the
        # queueing side, the steps' part, runs on the same cores as the worker).
        "first_third_p50_ms": round(statistics.median(in_order[:third]), 1) if third else None,
        "last_third_p50_ms": round(statistics.median(in_order[-third:]), 1) if third else None,
    }
    return {**paced, "steady": steady(paced)}


def measure(env: dict, *, smtp_port: int, drain: int, latency: int, rate: float, workdir: Path):
    """``rate``: the latency part's pace when the one-per-transaction capacity is unknown."""
    from policyflow.celery import app

    run = str(int(time.time()))
    received = workdir / "smtp-received.log"
    received.write_text("")
    sink = _sink(smtp_port, received, env)
    worker = None
    try:
        app.control.purge()  # whatever earlier parts of the run left on the broker
        # One message per transaction: N task messages, as N steps would publish.
        ids, seconds = _queue_all(f"{run}-single", drain, per_transaction=1)
        single, worker = _drain(env, ids, enqueue_seconds=seconds, workdir=workdir)
        stop(worker)
        # 100 per transaction: a message per NOTIFICATIONS_DELIVERY_BATCH ids.
        ids, seconds = _queue_all(f"{run}-batched", drain, per_transaction=100)
        batched, worker = _drain(env, ids, enqueue_seconds=seconds, workdir=workdir)

        # Below the one-per-transaction capacity, or the queue only grows and measures itself.
        capacity = single["messages_per_s"]
        attempts = []
        for pace in LATENCY_PACES if capacity else (None,):
            paced = _paced(
                f"{run}-latency-{len(attempts)}", latency, pace * capacity if pace else rate
            )
            attempts.append(paced)
            if steady(paced):
                break
        paced = {**attempts[-1], "attempts": attempts}
    finally:
        stop(worker)
        stop(sink)
    lines = received.read_text().splitlines()
    return {
        "worker": "celery prefork, concurrency 2, log level INFO (one worker)",
        "one_per_transaction": single,
        "drain": batched,
        "latency": paced,
        "smtp_sink_received": len(lines),
    }
