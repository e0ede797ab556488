"""(4) Notifications: queued through the outbox, delivered by one Celery worker into a local SMTP
sink (bench/smtp_sink.py in a subprocess: accepts and counts, as cheaply as a real server would).

- drain: N messages queued while no worker runs, then one worker (prefork, two processes on
  two cores) sends them all: messages per second from the first to the last `sent_at`;
- latency: with the worker idle (the backlog gone), messages queued one per transaction at a
  steady rate below its capacity (at most half the drain rate): enqueue (`created_at`) →
  delivered (`sent_at`), p50/p95.
"""

from __future__ import annotations

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
from .server import stop


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


def _wait_sent(ids: list[int], timeout: float) -> tuple[int, int]:
    # One small query per poll: a list of 10,000 ids in the query, four times a second, took
    # CPU from the worker being measured. The run's rows are the bench's within the id range.
    rows = Notification.objects.filter(topic="bench", pk__gte=min(ids), pk__lte=max(ids))
    deadline = time.monotonic() + timeout
    while True:
        counts = dict(rows.values_list("status").annotate(Count("pk")).order_by())
        sent = counts.get(DeliveryStatus.SENT, 0)
        failed = counts.get(DeliveryStatus.FAILED, 0)
        if sent + failed >= len(ids) or time.monotonic() > deadline:
            return sent, failed
        time.sleep(0.25)


def _worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "policyflow", "worker",
            "--pool=prefork", "--concurrency=2", "--loglevel=WARNING",
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


def measure(env: dict, *, smtp_port: int, drain: int, latency: int, rate: float, workdir: Path):
    from policyflow.celery import app

    run = str(int(time.time()))
    received = workdir / "smtp-received.log"
    received.write_text("")
    sink = _sink(smtp_port, received, env)
    worker = None
    try:
        app.control.purge()  # whatever earlier parts of the run left on the broker
        started = time.monotonic()
        ids = []
        for start in range(0, drain, 100):
            with transaction.atomic():
                ids.extend(_queue(run, n) for n in range(start, min(start + 100, drain)))
        enqueue_seconds = time.monotonic() - started
        worker = _worker(env, workdir / "celery-worker.log")
        started = time.monotonic()
        sent, failed = _wait_sent(ids, timeout=60 + drain / 20)
        wall = time.monotonic() - started
        times = sorted(
            Notification.objects.filter(pk__in=ids, sent_at__isnull=False).values_list(
                "sent_at", flat=True
            )
        )
        span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
        if sent + failed < len(ids):
            # The backlog must be gone before latency is measured, or it measures the backlog.
            sent, failed = _wait_sent(ids, timeout=60 + drain / 5)
        drained = {
            "messages": drain,
            "sent": sent,
            "failed": failed,
            "enqueue_seconds": round(enqueue_seconds, 2),
            "first_to_last_sent_seconds": round(span, 2),
            "messages_per_s": round((len(times) - 1) / span, 1) if span else None,
            "wall_seconds_including_worker_start": round(wall, 2),
        }

        # Below the worker's capacity (at most half its drain rate), or the queue only grows.
        capacity = drained["messages_per_s"] or rate
        rate = max(1.0, min(rate, capacity / 2))
        ids = []
        interval = 1.0 / rate
        next_at = time.monotonic()
        for number in range(latency):
            with transaction.atomic():
                ids.append(_queue(f"{run}-latency", number))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        sent, failed = _wait_sent(ids, timeout=60 + latency / 10)
        delays = sorted(
            (sent_at - created).total_seconds() * 1000
            for created, sent_at in Notification.objects.filter(
                pk__in=ids, sent_at__isnull=False
            ).values_list("created_at", "sent_at")
        )
        paced = {
            "messages": latency,
            "rate_per_s": round(rate, 1),
            "sent": sent,
            "failed": failed,
            "p50_ms": round(statistics.median(delays), 1) if delays else None,
            "p95_ms": round(percentile(delays, 95), 1) if delays else None,
            "max_ms": round(delays[-1], 1) if delays else None,
        }
    finally:
        stop(worker)
        stop(sink)
    lines = received.read_text().splitlines()
    return {
        "worker": "celery prefork, concurrency 2 (one worker)",
        "drain": drained,
        "latency": paced,
        "smtp_sink_received": len(lines),
    }
