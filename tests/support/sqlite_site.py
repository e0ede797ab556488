"""PolicyFlow as `make run` runs it, for tests: the SQLite default (`policyflow.settings.base`,
no DATABASE_URL, no CELERY_BROKER_URL) in a folder of the test's own (VAR_DIR), with the
development server and `celery worker` on the embedded file-system broker as Procfile.dev
starts them.

A migrated and seeded database is built once per test session (per xdist worker; tests that use
it share the xdist group "sqlite") and copied for each test. Tests read the file directly with
Python's sqlite3 module, as any reader may (WAL: readers never block the writer).
"""

import json
import os
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.workers import stop_processes, wait_until

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "policyflow.sqlite3"

# Runs in `manage.py shell`: a logged-in session of the demo project leader, with a CSRF
# secret sent both as cookie and as form field (Django accepts the unmasked secret).
SESSION_SCRIPT = """
import json, secrets
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.get(username="projektledare")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("RESULT" + json.dumps({"session": session.session_key, "csrf": secrets.token_hex(16)}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quick_start_env(var_dir: Path) -> dict:
    """The environment `make run` gives its processes, with everything under ``var_dir``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "EMAIL_", "PYTEST", "VAR_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="policyflow.settings.base", VAR_DIR=str(var_dir))
    return env


def procfile_command(name: str) -> list[str]:
    for line in (ROOT / "Procfile.dev").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return shlex.split(line.split(":", 1)[1])
    raise AssertionError(f"No {name!r} in Procfile.dev")


class QuickStartSite:
    """One copy of the seeded SQLite database, and the processes a test starts on it."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.env = quick_start_env(var_dir)
        self.processes: list[tuple[subprocess.Popen, Path]] = []
        self.base_url = ""

    @property
    def database(self) -> Path:
        return self.var_dir / DATABASE

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,  # an upper bound (a loaded machine), reached only by a hung command
        )
        if check:
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        return result

    def shell(self, code: str):
        """Run ``code`` in `manage.py shell`; it prints "RESULT" + JSON, which is returned."""
        output = self.manage("shell", "-c", code).stdout
        return json.loads(output.split("RESULT", 1)[1])

    def query(self, sql: str, params=()) -> list[tuple]:
        with sqlite3.connect(self.database, timeout=30) as connection:
            return connection.execute(sql, params).fetchall()

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        log_path = self.var_dir / f"{name}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((process, log_path))
        return process

    def log(self, name: str) -> str:
        return (self.var_dir / f"{name}.log").read_text(errors="replace")

    def start_web(self) -> str:
        """Procfile.dev's web server (runserver) on a free port; return its base URL."""
        command = procfile_command("web")
        port = free_port()
        command[-1] = f"127.0.0.1:{port}"
        # The autoreloader would restart it when a test edits nothing but adds a thread.
        self._start("web", [sys.executable, *command[1:], "--noreload"])
        self.base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                urllib.request.urlopen(self.base_url + "/accounts/login/", timeout=2)  # noqa: S310
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_until(answers, timeout=180, why=lambda: self.log("web"))
        return self.base_url

    def start_worker(self) -> None:
        """Procfile.dev's Celery worker (prefork, concurrency 2) on the embedded broker."""
        command = procfile_command("worker")
        self._start("worker", [sys.executable, "-m", "celery", *command[1:]])
        wait_until(
            lambda: " ready." in self.log("worker"), timeout=180, why=lambda: self.log("worker")
        )

    def start_welcome(self) -> None:
        """Procfile.dev's welcome, pointed at this test's web server."""
        command = procfile_command("welcome")
        self._start("welcome", [sys.executable, *command[1:-1], self.base_url + "/"])

    def login(self) -> dict:
        """Cookies and CSRF form token of a session of the demo project leader."""
        return self.shell(SESSION_SCRIPT)

    def open_link(self, path: str) -> str:
        """GET a task link as the contact's browser does; return the session cookie it got."""
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(self.base_url + path, timeout=60)  # noqa: S310 (the test's own server)
        except urllib.error.HTTPError as error:
            assert error.code == 302, error.code
            cookies = error.headers.get_all("Set-Cookie") or []
        else:
            raise AssertionError("The task link did not redirect.")
        (session,) = [
            c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("sessionid=")
        ]
        return session

    def post(self, path: str, data: dict, session: dict) -> int:
        """POST a form as the browser would; return the HTTP status (redirects not followed)."""
        body = urllib.parse.urlencode(
            {**data, "csrfmiddlewaretoken": session["csrf"]}, doseq=True
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (the test's own server)
            self.base_url + path,
            data=body,
            headers={
                "Cookie": f"sessionid={session['session']}; csrftoken={session['csrf']}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        for _attempt in range(10):
            try:
                with opener.open(request, timeout=120) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code
            except ConnectionResetError:
                # The development server listens with a backlog of 10 connections: beyond it
                # the kernel resets a connection before Django reads a byte of it (the test
                # counts the requests the server logged). A browser would send it again.
                continue
        raise AssertionError("The server reset the connection ten times.")

    def stop(self) -> None:
        """Each process the test started: a warm shutdown (`stop_processes`), killed after 20 s."""
        stop_processes([process for process, _log in self.processes], timeout=20)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="session")
def quick_start_database(tmp_path_factory) -> Path:
    """A SQLite database migrated and seeded as `make run` does it (demo users included)."""
    site = QuickStartSite(tmp_path_factory.mktemp("quick-start-template"))
    site.manage("migrate", "--noinput")
    site.manage("seed_kronoberg", "--demo")
    return site.database


@pytest.fixture
def quick_start(quick_start_database, tmp_path):
    """A copy of the seeded database in a VAR_DIR of this test's own; processes started on it
    are stopped at the end."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    shutil.copy(quick_start_database, var_dir / DATABASE)
    shutil.copy(quick_start_database.parent / "demo-users.txt", var_dir)
    site = QuickStartSite(var_dir)
    yield site
    site.stop()
