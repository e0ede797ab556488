"""Load on the loopback: wrk with N connections for a fixed time (latency percentiles from its
Lua `done` hook), or a threaded Python client where wrk is missing; a time-to-first-byte client
for streamed downloads; and one timed request. Every loop is bounded in time and count.

Each connection holds a session of its own (a browser each): wrk runs one thread per
connection and its Lua `setup` hands each thread one of the cookies.
"""

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

WRK_SCRIPT = """
local cookies = {%(cookies)s}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("cookie", cookies[(threads - 1) %% #cookies + 1])
end
function init(args)
  wrk.headers["Cookie"] = cookie
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %%d, "seconds": %%f, "errors": %%d, "non_2xx": %%d, '
    .. '"p50_ms": %%f, "p95_ms": %%f, "p99_ms": %%f, "max_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3))
end
"""
MAX_REQUESTS = 200_000  # per measurement, for the Python clients
TIMEOUT = 30  # seconds a request may take (gunicorn's own timeout)


class LoadFailed(RuntimeError):
    """The load tool itself failed (not a request): the measurement has no figures."""


@dataclass
class Load:
    requests: int  # answered, whatever the status
    seconds: float
    errors: int  # no answer: connection refused or dropped, timed out
    non_2xx: int  # answered with an error status
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return self.errors + self.non_2xx

    def as_dict(self) -> dict:
        return {**asdict(self), "rps": round(self.rps, 1), "failed": self.failed}


def has_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(url: str, *, cookies: list[str], connections: int, seconds: float) -> Load:
    """``connections`` clients for ``seconds``, client i with ``cookies[i % len(cookies)]``."""
    if has_wrk():
        return _wrk(url, cookies=cookies, connections=connections, seconds=seconds)
    return _python(url, cookies=cookies, connections=connections, seconds=seconds)


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk(url: str, *, cookies: list[str], connections: int, seconds: float) -> Load:
    script_text = WRK_SCRIPT % {"cookies": ", ".join(_lua_string(c) for c in cookies)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(script_text)
        script.flush()
        try:
            result = subprocess.run(  # noqa: S603 (wrk's own path, fixed arguments)
                [
                    shutil.which("wrk"),
                    # A thread per connection: each thread's connection keeps its own cookie.
                    f"-t{connections}",
                    f"-c{connections}",
                    f"-d{max(1, round(seconds))}s",
                    "--timeout",
                    f"{TIMEOUT}s",
                    "-s",
                    script.name,
                    url,
                ],
                check=False,
                text=True,
                capture_output=True,
                timeout=seconds + 60,
            )
        except subprocess.TimeoutExpired as error:
            raise LoadFailed(f"wrk did not end within {seconds + 60:.0f} s") from error
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise LoadFailed(
            f"wrk exited with {result.returncode} without figures: "
            f"{(result.stderr or result.stdout).strip()[-300:]}"
        )
    return Load(**json.loads(line[len("BENCH ") :]), tool="wrk")


def _port_and_path(url: str) -> tuple[int, str]:
    rest = url.split("//", 1)[1]
    hostport, _, path = rest.partition("/")
    return int(hostport.rsplit(":", 1)[1]), "/" + path


def timed_get(port: int, path: str, *, cookie: str, first_byte: bool = False) -> tuple[int, float]:
    """One GET: (status, seconds to the whole answer, or to its first body byte). The rest of a
    download is read too, untimed: a sync worker whose client left would keep streaming."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        if first_byte:
            response.read(1)
            elapsed = time.perf_counter() - started
            while response.read(1 << 16):
                pass
        else:
            response.read()
            elapsed = time.perf_counter() - started
        return response.status, elapsed
    finally:
        conn.close()


def _clients(
    port: int, path: str, *, cookies: list[str], connections: int, seconds: float, first_byte: bool
) -> tuple[list[float], int, int, float]:
    timings: list[float] = []
    failures = [0, 0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(cookie: str) -> None:
        while time.monotonic() < stop_at and len(timings) < MAX_REQUESTS:
            try:
                status, elapsed = timed_get(port, path, cookie=cookie, first_byte=first_byte)
            except OSError:
                with lock:
                    failures[0] += 1
                continue
            with lock:
                timings.append(elapsed)
                if not 200 <= status < 300:
                    failures[1] += 1

    started = time.monotonic()
    threads = [
        threading.Thread(target=client, args=(cookies[i % len(cookies)],))
        for i in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, failures[0], failures[1], time.monotonic() - started


def _python(url: str, *, cookies: list[str], connections: int, seconds: float) -> Load:
    port, path = _port_and_path(url)
    timings, errors, non_2xx, elapsed = _clients(
        port, path, cookies=cookies, connections=connections, seconds=seconds, first_byte=False
    )
    return summarise(timings, elapsed, errors, non_2xx, tool="python")


def summarise(timings, seconds, errors, non_2xx, *, tool) -> Load:
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


def first_byte(
    port: int, path: str, *, cookies: list[str], connections: int, seconds: float
) -> Load:
    """Time to the first body byte of a streamed download, N clients at once. Each client reads
    the download to its end (untimed): a sync worker whose client left keeps streaming until
    the export ends or gunicorn's timeout kills it, so abandoned downloads would block it."""
    timings, errors, non_2xx, elapsed = _clients(
        port, path, cookies=cookies, connections=connections, seconds=seconds, first_byte=True
    )
    return summarise(timings, elapsed, errors, non_2xx, tool="python-ttfb")
