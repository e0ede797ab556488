"""The run's database: a copy of a pristine one, made for the run and dropped at its end.

The pristine database (`--database-url`) is created (or reused when it already holds this size
of data), migrated and filled by `manage.py generate_scale_data`, then never written by a
part: each run works on `<name>_run`, cloned from it with `CREATE DATABASE … TEMPLATE` (a copy
of its files: seconds, where generating takes minutes), so every run starts from exactly the
generated data, whatever earlier runs wrote (steps, emails, audit events).
"""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg

from .config import OWN_DATABASE_PREFIX, ROOT, database_name, with_database

# The run's copy is named after the pristine database: pf_bench → pf_bench_run.
RUN_SUFFIX = "_run"
# From this size of the pristine database on, it is copied file by file (see `clone`).
FILE_COPY_BYTES = 512 * 1024 * 1024


def _admin_url(url: str) -> str:
    return with_database(url, "postgres")


def _exists(url: str) -> bool:
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]
        ).fetchone()
    return row is not None


def _holds(url: str, *, seed: int, municipalities: int, events: int) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('scale_data_run')").fetchone()[0] is None:
            return False
        row = conn.execute(
            "SELECT 1 FROM scale_data_run WHERE seed = %s AND municipalities = %s AND events = %s",
            [seed, municipalities, events],
        ).fetchone()
    return row is not None


def _recreate(url: str) -> None:
    name = database_name(url)
    if not name.startswith(OWN_DATABASE_PREFIX):
        raise SystemExit(
            f"The database {name!r} does not fit this size and is not the benchmark's own "
            f"(named {OWN_DATABASE_PREFIX}…): refusing to drop it. Give --database-url a fresh "
            "or a pf_bench… database."
        )
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run_url(url: str) -> str:
    """The run's copy of the pristine database at ``url``: pf_bench → pf_bench_run, and always
    a name of the benchmark's own (the only databases it drops)."""
    name = database_name(url)
    if not name.startswith(OWN_DATABASE_PREFIX):
        name = f"{OWN_DATABASE_PREFIX}_{name}"
    return with_database(url, f"{name}{RUN_SUFFIX}")


def _own(name: str) -> None:
    if not name.startswith(OWN_DATABASE_PREFIX):
        raise SystemExit(
            f"The database {name!r} is not the benchmark's own (named {OWN_DATABASE_PREFIX}…): "
            "refusing to drop it."
        )


def clone(url: str) -> tuple[str, float]:
    """A fresh copy of the pristine database at ``url`` for this run (an earlier run's copy,
    left by a crash, is dropped first). Returns its URL and the seconds the copy took."""
    name, copy = database_name(url), database_name(run_url(url))
    _own(copy)
    started = time.monotonic()
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        # PostgreSQL 15+ copies through the WAL by default (WAL_LOG: fast for a small template,
        # 1 s for the quick size); FILE_COPY copies the files after two checkpoints, which cost
        # seconds whatever the size but win for gigabytes (PostgreSQL's CREATE DATABASE docs).
        size = conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()[0]
        large = size >= FILE_COPY_BYTES and conn.info.server_version >= 150000
        strategy = " STRATEGY = FILE_COPY" if large else ""
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"{strategy}')
    return run_url(url), time.monotonic() - started


def drop_copy(url: str) -> None:
    """Drop the run's copy of the pristine database at ``url`` (never the pristine one)."""
    copy = database_name(run_url(url))
    _own(copy)
    with psycopg.connect(_admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        text=True,
        capture_output=True,
    )


def prepare(env: dict, *, url: str, seed: int, municipalities: int, events: int, fresh: bool):
    """Make the pristine database at ``url`` hold the data (generated, or reused when it already
    does). Returns (seconds spent generating or None when reused, the generator's output)."""
    reuse = (
        not fresh
        and _exists(url)
        and _holds(url, seed=seed, municipalities=municipalities, events=events)
    )
    if not reuse:
        if _exists(url) or fresh:
            _recreate(url)
        else:
            with psycopg.connect(_admin_url(url), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database_name(url)}"')
    manage(env, "migrate", "--noinput", "-v0")
    if reuse:
        return None, "reused"
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [
            sys.executable,
            "manage.py",
            "generate_scale_data",
            f"--municipalities={municipalities}",
            f"--events={events}",
            f"--seed={seed}",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )
    return time.monotonic() - started, result.stdout.strip()
