"""The README's promises about the two commands: `make run` serves a seeded app with a worker,
and CI runs exactly `make test`. Read from the Makefile, Procfile.dev and .ci/run themselves."""

import os
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_target(name: str) -> tuple[list[str], list[str]]:
    """The prerequisites and the recipe lines (variables expanded) of a Makefile target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    variables = {}
    for line in lines:
        match = re.match(r"^([A-Z_]+)\s*[:?]?=\s*(.*)$", line)
        if match:
            variables[match[1]] = match[2].strip()

    def expand(text: str) -> str:
        for _ in range(5):  # variables may refer to variables
            text = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m[1], m[0]), text)
        return text

    for i, line in enumerate(lines):
        match = re.match(rf"^{re.escape(name)}\s*:(?!=)([^#]*)", line)
        if match:
            recipe = []
            for body in lines[i + 1 :]:
                if not body.startswith("\t"):
                    break
                recipe.append(expand(body.strip().lstrip("@-")))
            return match[1].split(), recipe
    raise AssertionError(f"No {name!r} target in the Makefile")


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = shlex.split(command)
    return entries


def position(recipe: list[str], needle: str) -> int:
    for i, line in enumerate(recipe):
        if needle in line:
            return i
    raise AssertionError(f"`make run` does not run {needle!r}: {recipe}")


def test_make_run_installs_migrates_seeds_the_demo_and_then_serves():
    prerequisites, recipe = make_target("run")

    assert "install" in prerequisites
    migrate = position(recipe, "manage.py migrate")
    seed = position(recipe, "manage.py seed_kronoberg --demo")
    serve = position(recipe, "honcho -f Procfile.dev start")
    assert migrate < seed < serve


def test_make_run_starts_the_web_server_and_a_celery_worker():
    entries = procfile()

    web = entries["web"]
    assert "runserver" in web or any("gunicorn" in part for part in web)
    workers = [cmd for cmd in entries.values() if "celery" in cmd[0] and "worker" in cmd]
    assert len(workers) == 1
    assert workers[0][workers[0].index("-A") + 1] == "policyflow"


def test_make_test_lints_first_and_then_runs_the_whole_suite():
    prerequisites, recipe = make_target("test")

    assert prerequisites[0] == "lint"
    assert any("pytest" in line for line in recipe)


def test_ci_runs_exactly_make_test():
    script = ROOT / ".ci" / "run"
    commands = [
        line.strip()
        for line in script.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]

    assert os.access(script, os.X_OK)
    assert commands[-1] == "make test"
    assert not any(line.startswith("make ") for line in commands[:-1])
    assert "set -euo pipefail" in commands
