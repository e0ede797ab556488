"""Processes the run starts and always stops: gunicorn (the production configuration, bound to
the loopback), the SMTP sink and the Celery worker."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .config import ROOT, free_port


class Server:
    """`gunicorn -c gunicorn.conf.py` with sync workers on 127.0.0.1 (access log discarded)."""

    def __init__(self, env: dict, *, workers: int, timeout: int = 30, page_cache: bool = True):
        self.port = free_port()
        self.workers = workers
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_TIMEOUT": str(timeout),
        }
        if not page_cache:
            # Every page computed for every request, as after a write (`audit.page_cache`).
            self.env["PAGE_CACHE_SECONDS"] = "0"
        self.process: subprocess.Popen | None = None
        # gunicorn's and Django's log (tracebacks of error answers included) goes to a file: a
        # pipe nobody reads fills up under load and blocks every worker in its next log write.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in __exit__)
            prefix="pf-bench-gunicorn-", suffix=".log", delete=False
        )

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "policyflow.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = get(self.port, "/accounts/login/")
                if status == 200:
                    return self
            time.sleep(0.2)
        # No `with` block runs, so no __exit__ either: stop it here.
        stop(self.process)
        raise RuntimeError(f"gunicorn did not answer within 60 s: {self.log_tail()}")

    def __exit__(self, *exc) -> None:
        stop(self.process)
        self.log.close()
        if exc[0] is None:
            os.unlink(self.log.name)
        else:
            print(f"  gunicorn's log: {self.log.name}", file=sys.stderr, flush=True)

    def log_tail(self, size: int = 2000) -> str:
        return Path(self.log.name).read_bytes()[-size:].decode(errors="replace")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def get(port: int, path: str, *, cookie: str = "", timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def stop(process: subprocess.Popen | None, *, timeout: float = 20) -> None:
    """Stop a process the run started (its own process group), then make sure it is gone."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) of a process, in KiB, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
