"""(3) The audit trail's CSV export of every event, made as users get it: as an export job
(`exports.services.run_job`, what the Celery task runs), in a process of its own as a worker's
pool process would run it: rows per second from the job's start to its file stored, the CPU
time of the process and of the processes it forked for parts of the file (`exports.parts`),
and the peak resident memory of each (VmHWM; the largest part's).

`python -m bench.export --user ID` is that process: it asks for the export as the user would
(`exports.services.request_export`), runs the job, counts the stored file's lines, deletes the
file and prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from .config import ROOT

PRODUCTION_TIMEOUT = 30  # gunicorn's worker timeout: what the job no longer has to fit in


def _status_kib() -> dict[str, int]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def measure(env: dict, *, user_id: int, max_seconds: float = 900) -> dict:
    result = subprocess.run(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", "bench.export", "--user", str(user_id)],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=max_seconds,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the export job failed: {result.stderr[-2000:]}")
    job = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = job["seconds"]
    rows = job["rows"]
    return {
        "how": "exports.services.run_job (the Celery task's body) in a process of its own",
        "status": job["status"],
        "rows": rows,
        "job_total": job["total"],
        "bytes": job["bytes"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else 0,
        # The job's process and the processes of its parts (`exports.parts`).
        "cpu_seconds": round(job["cpu_seconds"], 2),
        "parts_cpu_seconds": round(job.get("parts_cpu_seconds", 0), 2),
        "rows_per_cpu_s": round(rows / job["cpu_seconds"]) if job["cpu_seconds"] else None,
        "worker_peak_rss_mb": round(job["peak_kib"] / 1024, 1),
        "worker_rss_before_mb": round(job["rss_before_kib"] / 1024, 1),
        "part_peak_rss_mb": round(job.get("parts_peak_kib", 0) / 1024, 1),
        # No longer a limit (the job runs in a worker, no request waits for it); reported to
        # show what a request-bound export would have met.
        "longer_than_a_request_may_take": seconds > PRODUCTION_TIMEOUT,
    }


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _run_job(user_id: int) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from exports import services
    from exports.models import ExportJob, Kind, Status

    user = get_user_model().objects.get(pk=user_id)
    # As the timeline's "Download as CSV" asks for it: no filters, every county the user reads.
    job = services.request_export(
        user=user, kind=Kind.AUDIT_CSV, params={"query": "", "delimiter": ","}
    )
    rss_before = _status_kib()["VmRSS"]
    cpu, parts_cpu = time.process_time(), _children_cpu()
    started = time.perf_counter()
    status = services.run_job(job.pk)
    seconds = time.perf_counter() - started
    cpu, parts_cpu = time.process_time() - cpu, _children_cpu() - parts_cpu
    peak = _status_kib()["VmHWM"]
    parts_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    job = ExportJob.objects.get(pk=job.pk)
    lines = size = 0
    if job.status == Status.DONE:
        with job.file.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")
                size += len(block)
        services.storage().delete(job.file.name)  # a million rows: not left behind
    return {
        "status": status if job.status != Status.FAILED else f"failed: {job.error}",
        "rows": max(lines - 1, 0),  # the header line
        "total": job.total,
        "bytes": size,
        "seconds": seconds,
        "cpu_seconds": cpu + parts_cpu,
        "parts_cpu_seconds": parts_cpu,
        "rss_before_kib": rss_before,
        "peak_kib": peak,
        "parts_peak_kib": parts_peak,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", type=int, required=True)
    print(json.dumps(_run_job(parser.parse_args().user)), flush=True)
