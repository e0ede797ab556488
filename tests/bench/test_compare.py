"""`python -m bench.compare`: the earlier bench's figures under today's names, beside today's.

The two results files are real runs kept in docs/bench/: one by the bench of the code before the
audit core's redesign (2026-11-25), one by today's."""

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import compare

BENCH_RUNS = Path(__file__).resolve().parents[2] / "docs" / "bench"


def _results(name: str) -> dict:
    return json.loads((BENCH_RUNS / name).read_text())


def test_the_earlier_draft_step_stands_beside_todays_write_draft():
    before = _results("results-2026-11-25-evening.json")
    after = _results("results-2026-12-06-evening.json")

    rows = {row["figure"]: row for row in compare.side_by_side(before, after)}

    draft = rows["step_write_draft_p50_ms"]
    assert draft["before"] == before["figures"]["step_p50_ms"]["value"]
    assert draft["after"] == after["figures"]["step_write_draft_p50_ms"]["value"]
    assert draft["after_over_before"] == round(draft["after"] / draft["before"], 2)
    # The steps the earlier bench timed between its draft steps, from its details.
    answer = rows["step_answer_approval_changes_p50_ms"]
    assert answer["before"] == before["details"]["step"]["other_steps"]["answer_approval"]["p50_ms"]
    assert "notifications_per_s" in rows
    # A name both benches use for different things is not compared: the earlier step ratio
    # was the draft step's against its own baseline, today's is the worst step's.
    assert "step_ratio_p50" not in rows


def test_the_table_shows_each_figure_before_and_after_with_its_change():
    rows = [
        {
            "figure": "notifications_per_s",
            "unit": "msg/s",
            "before": 241.5,
            "after": 221.8,
            "after_over_before": 0.92,
        }
    ]

    table = compare.markdown(rows, before_label="38eca21", after_label="9722e2d")

    assert "| figure | before (38eca21) | after (9722e2d) | after / before |" in table
    assert "| `notifications_per_s` | 241.5 msg/s | 221.8 msg/s | 0.92 |" in table


# The last revision whose Makefile synced .venv with the first python3.11 on PATH.
BEFORE_APP_PYTHON = "0f39d82"


def test_an_earlier_revision_is_benchmarked_on_todays_interpreter(tmp_path):
    """Its Makefile chose another interpreter (pyenv's here, a fifth slower than Debian's): the
    comparison would have measured the interpreters as much as the code."""
    tree = tmp_path / "tree"
    compare._git("worktree", "add", "--detach", str(tree), BEFORE_APP_PYTHON)
    try:
        python = compare.install(tree)
        ran = subprocess.run(
            [str(python), "-c", "import os, sys; print(os.path.realpath(sys.executable))"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        compare._git("worktree", "remove", "--force", str(tree))
    assert ran.stdout.strip() == os.path.realpath(sys.executable)
