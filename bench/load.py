"""Load on the loopback: wrk with N connections for a fixed time (latency percentiles from its
Lua `done` hook), or a threaded Python client where wrk is missing; and a time-to-first-byte
client for streamed downloads. Every loop is bounded in time and count."""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass

WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %f, "errors": %d, "non_2xx": %d, '
    .. '"p50_ms": %f, "p95_ms": %f, "p99_ms": %f, "max_ms": %f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3))
end
"""
MAX_REQUESTS = 200_000  # per measurement, for the Python client


@dataclass
class Load:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1)}


def has_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, *, cookie: str, connections: int, seconds: float) -> Load:
    if has_wrk():
        return _wrk(url, cookie=cookie, connections=connections, seconds=seconds)
    return _python(url, cookie=cookie, connections=connections, seconds=seconds)


def _wrk(url: str, *, cookie: str, connections: int, seconds: float) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        result = subprocess.run(  # noqa: S603 (wrk's own path, fixed arguments)
            [
                shutil.which("wrk"),
                f"-t{min(2, connections)}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "-H",
                f"Cookie: {cookie}",
                "-s",
                script.name,
                url,
            ],
            check=True,
            text=True,
            capture_output=True,
            timeout=seconds + 60,
        )
    line = next(x for x in result.stdout.splitlines() if x.startswith("BENCH "))
    return Load(**json.loads(line[len("BENCH ") :]), tool="wrk")


def _request(port: int, path: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        conn.close()


def _python(url: str, *, cookie: str, connections: int, seconds: float) -> Load:
    rest = url.split("//", 1)[1]
    hostport, _, path = rest.partition("/")
    port = int(hostport.rsplit(":", 1)[1])
    timings: list[float] = []
    failures = [0, 0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop_at and len(timings) < MAX_REQUESTS:
            try:
                status, elapsed = _request(port, "/" + path, cookie)
            except OSError:
                with lock:
                    failures[0] += 1
                continue
            with lock:
                timings.append(elapsed)
                if not 200 <= status < 300:
                    failures[1] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summarise(timings, time.monotonic() - started, *failures, tool="python")


def _summarise(timings, seconds, errors, non_2xx, *, tool) -> Load:
    if not timings:
        return Load(0, seconds, errors, non_2xx, 0, 0, 0, 0, tool)
    ms = sorted(t * 1000 for t in timings)
    return Load(
        requests=len(ms),
        seconds=seconds,
        errors=errors,
        non_2xx=non_2xx,
        p50_ms=statistics.median(ms),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        max_ms=ms[-1],
        tool=tool,
    )


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def first_byte(port: int, path: str, *, cookie: str, connections: int, seconds: float) -> Load:
    """Time to the first body byte of a streamed download, N clients at once. Each client reads
    the download to its end (untimed): a sync worker whose client left keeps streaming until
    the export ends or gunicorn's timeout kills it, so abandoned downloads would block it."""
    timings: list[float] = []
    failures = [0, 0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop_at and len(timings) < MAX_REQUESTS:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read(1)
                elapsed = time.perf_counter() - started
                status = response.status
                while response.read(1 << 16):
                    pass
            except OSError:
                with lock:
                    failures[0] += 1
                continue
            finally:
                conn.close()
            with lock:
                timings.append(elapsed)
                if status != 200:
                    failures[1] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summarise(timings, time.monotonic() - started, *failures, tool="python-ttfb")
