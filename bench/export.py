"""(3) The audit trail's CSV export of every event, downloaded through gunicorn: rows per second
and the peak resident memory of the worker that streamed it (a fresh one-worker server, so its
peak is the export's)."""

from __future__ import annotations

import http.client
import threading
import time

from .server import Server, cpu_seconds, rss_kib

CHUNK = 1 << 16
PRODUCTION_TIMEOUT = 30  # gunicorn.conf.py's default: a sync worker is killed after this


def measure(env: dict, *, cookie: str, path: str, max_seconds: float = 900) -> dict:
    # A long timeout, so that a slow export is measured rather than killed; the result says
    # when it would have outlived production's worker timeout.
    with Server(env, workers=1, timeout=int(max_seconds)) as server:
        (worker,) = server.worker_pids()
        _, idle_peak = rss_kib(worker)
        samples = [rss_kib(worker)[0]]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                try:
                    samples.append(rss_kib(worker)[0])
                except FileNotFoundError:
                    return

        sampler = threading.Thread(target=sample)
        sampler.start()
        cpu_before = cpu_seconds(worker)
        started = time.perf_counter()
        lines = size = 0
        first_byte = None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=max_seconds)
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            status = response.status
            while time.perf_counter() - started < max_seconds:
                block = response.read(CHUNK)
                if not block:
                    break
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                lines += block.count(b"\n")
                size += len(block)
            conn.close()
        finally:
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
        _, peak = rss_kib(worker)
        cpu = cpu_seconds(worker) - cpu_before
    rows = max(lines - 1, 0)  # the header line
    return {
        "status": status,
        "rows": rows,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        # The worker's own CPU time: the rate one idle core would give (PostgreSQL aside).
        "worker_cpu_seconds": round(cpu, 2),
        "rows_per_worker_cpu_s": round(rows / cpu) if cpu else None,
        "first_byte_ms": round(first_byte * 1000, 1) if first_byte else None,
        "worker_peak_rss_mb": round(peak / 1024, 1),
        "worker_rss_before_mb": round(samples[0] / 1024, 1),
        "worker_idle_peak_mb": round(idle_peak / 1024, 1),
        "outlives_production_timeout": seconds > PRODUCTION_TIMEOUT,
    }
