"""`python -m bench` end to end at a tiny size: a fresh database, the generator, gunicorn, wrk,
a Celery worker and the SMTP sink; the results file has every figure.

The figures themselves are not asserted (nothing here is a timed test): only that each one was
measured or says why it was not.
"""

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench import report

pytestmark = pytest.mark.xdist_group("bench")

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")


def bench_database_url() -> str:
    """A database of this run's own: named after DATABASE_URL's database and the xdist worker,
    so two runs on one server (other checkouts, other workers) never share or drop it, and
    with the benchmark's own prefix, the only databases `--fresh` may drop."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/policyflow")
    server, name = base.split("?", 1)[0].rsplit("/", 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{server}/pf_bench_{name or 'policyflow'}_tiny_{worker}"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        text=True,
        capture_output=True,
        # A bound, not a timing: on two cores shared with other work the tiny run takes minutes.
        timeout=1200,
        check=False,
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("bench") / "results.json"
    url = bench_database_url()
    result = run(
        "-m", "bench", "--size", "tiny", "--fresh", "--database-url", url,
        "--redis-url", REDIS, "--output", str(output),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    yield url, output, result.stdout
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_results_file_has_every_figure_measured(tiny_run):
    _url, output, stdout = tiny_run
    results = json.loads(output.read_text())
    figures = results["figures"]
    assert set(figures) == set(report.FIGURES)
    # Every part runs at the tiny size too, the parallel writers included (their processes
    # brought to the draft step where the tiny data has too few waiting there): a part that
    # raised reports "not available: <why>" and fails here.
    unmeasured = {
        name: entry["value"]
        for name, entry in figures.items()
        if not isinstance(entry["value"], int | float)
    }
    assert unmeasured == {}
    writers = results["details"]["writers"]
    assert writers["single"]["writers"] == 1 and writers["parallel"]["writers"] >= 2
    # Each run's leaders completed steps, and the mail worker beside them sent their emails.
    for run_of in (writers["single"], writers["parallel"]):
        assert run_of["steps"] > 0 and run_of["emails_delivered"] > 0
    assert results["machine"]["cores"] and results["machine"]["postgresql"]
    # The machine's own speed (to compare runs on other machines by), and before and after each
    # part (a part run in a slow phase of a shared host says so).
    speed = results["machine"]["template_ms"]
    assert speed > 0
    assert f"the yardstick template {speed} ms a rendering" in stdout  # under the table
    for part in ("verify", "export", "pages", "step", "writers", "notifications"):
        before, after = results["details"][part]["template_ms"]
        assert before > 0 and after > 0, part
        assert f"; the yardstick {before} -> {after} ms" in stdout, part  # as the part ends
    # And the report of a results file names the machine it was measured on, with its speed and
    # the interpreter that ran it (the one of this virtualenv: a build of its own is part of the
    # speed).
    python = f"Python {platform.python_version()} ({os.path.realpath(sys.executable)})"
    printed = run("-m", "bench.report", str(output))
    assert f", {python}; the yardstick template {speed} ms a rendering" in printed.stdout
    assert "step_ratio_p95" in stdout  # the table is printed
    # The pages side by side: a miss (uncached), a hit (cached), one right after a write, and
    # a hit while another county writes.
    assert "uncached (miss)" in stdout and "cached (hit)" in stdout and "after a write" in stdout
    assert "cached, another county writing" in stdout
    # Under the table, the pages against the layout reference measured beside them.
    layout = results["figures"]["layout_uncached_rps_vs_minimal"]["value"]
    assert f"{layout:.2f}× the minimal page (the HTML pages " in stdout


def test_every_page_is_measured_uncached_after_a_write_and_cached(tiny_run):
    _url, output, _stdout = tiny_run
    results = json.loads(output.read_text())
    figures = results["figures"]
    for page in report.PAGES:
        for name in (f"{page}_after_write_p95_ms", f"{page}_p95_ms", f"{page}_rps_vs_minimal"):
            assert isinstance(figures[name]["value"], int | float), (name, figures[name])
        # Uncached, a page may be slower than the tiny run's one-second load on a busy machine;
        # it must still have been served (a slow page, not a broken one).
        for name in (f"{page}_uncached_p95_ms", f"{page}_uncached_rps_vs_minimal"):
            value = figures[name]["value"]
            assert isinstance(value, int | float) or value.startswith(
                "not available: no request answered within"
            ), (name, value)
    pages = results["details"]["pages"]
    # Eight clients, each with a session of its own, while real steps moved the data version.
    assert pages["sessions"] == 8
    writes = pages["background_writes"]
    assert writes["steps"] > 0 and writes["failed"] == 0, writes
    # A reader of one county read their pages while steps were taken in another county.
    elsewhere = pages["elsewhere"]
    assert elsewhere["background_writes"]["steps"] > 0, elsewhere
    assert elsewhere["background_writes"]["failed"] == 0, elsewhere
    for page in report.ELSEWHERE_PAGES:
        value = figures[f"{page}_cached_elsewhere_rps_vs_minimal"]["value"]
        assert isinstance(value, int | float), (page, value)


def test_parts_ran_on_the_generated_data(tiny_run):
    _url, output, stdout = tiny_run
    results = json.loads(output.read_text())
    details = results["details"]
    assert details["verify"]["ok"] and details["verify"]["events"] == 5000
    # Every generated event, and the export job's own request (on the record before it runs).
    assert details["export"]["rows"] == details["export"]["job_total"] == 5001
    assert details["notifications"]["one_per_transaction"]["sent"] == 40
    assert details["notifications"]["drain"]["sent"] == 40
    # The paced messages' wait early and late in the run: whether the rate saturated the machine.
    latency = details["notifications"]["latency"]
    assert latency["sent"] == 10
    assert 0 < latency["first_third_p50_ms"] <= latency["max_ms"]
    assert 0 < latency["last_third_p50_ms"] <= latency["max_ms"]
    # Measured again at a slower pace only after a pace the machine did not keep steady; the
    # figure names the pace its p95 is from.
    attempts = latency["attempts"]
    assert all(not attempt["steady"] for attempt in attempts[:-1])
    assert [a["rate_per_s"] for a in attempts] == sorted(
        (a["rate_per_s"] for a in attempts), reverse=True
    )
    figures = results["figures"]
    assert figures["notifications_latency_rate_per_s"]["value"] == attempts[-1]["rate_per_s"]
    assert figures["notifications_p95_ms"]["value"] == attempts[-1]["p95_ms"]
    # The run's output shows every attempt, a pace the machine did not keep included.
    (paced,) = [line for line in stdout.splitlines() if line.startswith("Paced mail: ")]
    assert paced.count(" msg/s") == len(attempts)
    assert f"{attempts[-1]['rate_per_s']:g} msg/s" in paced.rsplit("; then ", 1)[-1]
    rows = details["step"]["rows_written"]
    # The baseline writes into the same tables as the service step.
    assert set(rows["baseline"]) <= set(rows["service"])


def test_generating_the_same_data_again_changes_nothing(tiny_run):
    url, _output, _stdout = tiny_run
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "SECRET_KEY": "x",
        "ALLOWED_HOSTS": "127.0.0.1",
        "AUDIT_HMAC_KEY": "policyflow-benchmark-audit-key",
        "SITE_URL": "http://127.0.0.1",
        "EMAIL_URL": "consolemail://",
    }
    args = ("manage.py", "generate_scale_data", "--municipalities=6", "--events=5000")
    again = run(*args, **env)
    assert again.returncode == 0, again.stderr
    assert "Nothing to do" in again.stdout
    other = run(*args[:-1], "--events=6000", **env)
    assert other.returncode != 0
    assert "fresh database" in other.stderr


def test_generator_refuses_sqlite_with_a_clear_message(tmp_path):
    result = run(
        "manage.py", "generate_scale_data", "--municipalities=6", "--events=5000",
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SECRET_KEY="x", ALLOWED_HOSTS="127.0.0.1", SITE_URL="http://127.0.0.1",
        EMAIL_URL="consolemail://",
    )  # fmt: skip
    assert result.returncode != 0
    assert "needs PostgreSQL" in result.stderr
