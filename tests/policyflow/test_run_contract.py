"""The README's promises about the two commands: `make run` installs, migrates, seeds the demo and
serves with a Celery worker; `make test` lints and then runs the whole suite; CI runs exactly
`make test`. Asked of make itself (`make -n`: what it would run, prerequisites and variables
resolved by make), of honcho (what `make run` starts) and of a real run of .ci/run."""

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

from honcho.environ import expand_processes, parse_procfile

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """This shell's environment without an enclosing make's flags (`make test` runs pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return {**env, **extra}


def would_run(target: str) -> list[list[str]]:
    """The commands `make <target>` would run, in order, as argument lists (`make -n`)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [shlex.split(line) for line in result.stdout.splitlines() if line.strip()]


def index_of(commands: list[list[str]], *words: str) -> int:
    """The position of the first command that contains ``words`` in this order."""
    for i, argv in enumerate(commands):
        argv = [Path(part).name if "/" in part else part for part in argv]  # programs by name
        positions = [argv.index(w) if w in argv else -1 for w in words]
        if -1 not in positions and positions == sorted(positions):
            return i
    raise AssertionError(f"no command runs {' '.join(words)}: {commands}")


def program(argv: list[str]) -> str:
    """The executable's name, past leading VAR=value assignments."""
    return Path(next(part for part in argv if "=" not in part)).name


def test_make_run_installs_migrates_seeds_the_demo_and_then_serves():
    commands = would_run("run")

    install = index_of(commands, "sync", "--locked")
    migrate = index_of(commands, "manage.py", "migrate")
    seed = index_of(commands, "manage.py", "seed_kronoberg", "--demo")
    serve = index_of(commands, "start")

    assert program(commands[install]) == "uv"
    assert install < migrate < seed < serve
    assert program(commands[serve]) == "honcho" and serve == len(commands) - 1


def test_what_make_run_serves_is_a_web_server_and_one_celery_worker_of_the_project():
    serve = would_run("run")[-1]
    procfile = ROOT / serve[serve.index("-f") + 1]
    processes = {
        p.name.split(".")[0]: shlex.split(p.cmd)
        for p in expand_processes(parse_procfile(procfile.read_text()).processes)
    }

    web = processes["web"]
    assert "runserver" in web or program(web) == "gunicorn"
    workers = [
        argv for argv in processes.values() if program(argv) == "celery" and "worker" in argv
    ]
    assert len(workers) == 1
    assert workers[0][workers[0].index("-A") + 1] == "policyflow"
    for argv in processes.values():  # every program is installed where the Procfile says
        assert (ROOT / argv[0]).exists() or argv[0] == Path(sys.executable).name, argv


def test_make_test_lints_first_and_then_runs_the_whole_suite():
    commands = would_run("test")

    lint = index_of(commands, "ruff", "check")
    format_check = index_of(commands, "ruff", "format", "--check")
    suite = index_of(commands, "pytest")
    assert max(lint, format_check) < suite == len(commands) - 1
    # No path, keyword, marker or first-failure stop narrows it: the whole suite.
    arguments = commands[suite][1:]
    narrowing = [a for a in arguments if a in {"-k", "-m", "-x"} or a.startswith("tests")]
    assert narrowing == [], commands[suite]


def fake_make(tmp_path: Path, exit_code: int) -> Path:
    """A `make` on PATH that records its arguments and working directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    make = bin_dir / "make"
    make.write_text(
        f'#!/bin/sh\necho "$(pwd -P)" "$@" >> "{tmp_path / "calls"}"\nexit {exit_code}\n'
    )
    make.chmod(make.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def run_ci(tmp_path: Path, exit_code: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = fake_make(tmp_path, exit_code)
    result = subprocess.run(
        [ROOT / ".ci" / "run"],
        cwd=tmp_path,  # CI may start it from anywhere
        env=clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


def test_ci_runs_exactly_make_test_from_the_checkout(tmp_path):
    result, calls = run_ci(tmp_path, exit_code=0)

    assert result.returncode == 0, result.stderr
    assert calls == [f"{ROOT} test"]


def test_ci_fails_when_make_test_fails(tmp_path):
    result, calls = run_ci(tmp_path, exit_code=3)

    assert result.returncode != 0
    assert calls == [f"{ROOT} test"]


def test_the_quick_starts_migrate_on_sqlite_reports_no_system_check_issues(tmp_path):
    """`make run` migrates the embedded SQLite default: the database checks it runs first (those
    of `check --database`) print nothing for the user to wonder about."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=clean_env(
            DJANGO_SETTINGS_MODULE="policyflow.settings.base",
            DATABASE_URL=f"sqlite:///{tmp_path / 'quick.sqlite3'}",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stderr
