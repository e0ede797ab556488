"""The run's database: created (or reused when it already holds this size of data), migrated and
filled by `manage.py generate_scale_data`."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg

from .config import OWN_DATABASE_PREFIX, ROOT, database_name, with_database


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
    """Returns (seconds spent generating or None when reused, the generator's output)."""
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
