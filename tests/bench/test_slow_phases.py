"""The report names the parts measured while the machine ran slower than at the run's start
(`bench.report.slow_phase_line`), as a reader of a results file sees it under the table."""

import json
import subprocess
import sys
from pathlib import Path

from bench import report

ROOT = Path(__file__).resolve().parents[2]


def results(**readings: list[float]) -> dict:
    """A results file's machine (2.0 ms at the start) and its parts' yardstick readings."""
    return {
        "figures": {},
        "machine": {"cpu": "AMD EPYC", "cores": 2, "template_ms": 2.0},
        "details": {name: {"template_ms": pair} for name, pair in readings.items()},
    }


def test_a_part_measured_in_a_slow_phase_is_named_with_its_readings():
    run = results(verify=[2.0, 2.1], pages=[2.2, 3.1], step=[3.3, 2.1])

    line = report.slow_phase_line(run["details"], run["machine"])

    assert "pages 2.2 -> 3.1 ms (1.55×)" in line
    assert "step 3.3 -> 2.1 ms (1.65×)" in line
    assert "verify" not in line  # 5 % slower at most: the machine as it was


def test_a_run_without_a_slow_phase_says_nothing_of_phases():
    run = results(verify=[2.0, 2.1], pages=[2.3, 1.9])
    run["details"]["step"] = {"error": "not run (--only)"}

    assert report.slow_phase_line(run["details"], run["machine"]) is None


def test_the_report_of_a_results_file_prints_the_slow_phases_under_the_table(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results(export=[2.1, 2.9])))

    printed = subprocess.run(
        [sys.executable, "-m", "bench.report", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    machine, _, after = printed.partition("Machine: AMD EPYC, 2 cores")
    assert "Slow phases" not in machine
    assert "export 2.1 -> 2.9 ms (1.45×)" in after
