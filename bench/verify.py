"""(5) `manage.py verify_audit --full` over the whole trail, timed from outside (as cron would run
it): the weekly run; the nightly one reads only what came since the last verified checkpoint."""

from __future__ import annotations

import re
import resource
import time

from .database import manage

CHECKED = re.compile(r"Checked (\d+) events in ([\d.]+) s")


def measure(env: dict) -> dict:
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = manage(env, "verify_audit", "--full", check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - started
    # CPU seconds of the verifying process: what it costs on an idle core, whatever else runs.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = CHECKED.search(result.stdout)
    return {
        "ok": result.returncode == 0,
        "events": int(match.group(1)) if match else None,
        "seconds": round(float(match.group(2)), 1) if match else None,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "output": (result.stdout + result.stderr).strip()[-500:],
    }
