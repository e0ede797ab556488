"""Real Celery workers for tests: an app with a queue of its own per test, and `celery worker`
subprocesses that consume it, on the test database and the test's SMTP server.

A queue per test means workers of other tests (other xdist processes share the Redis database)
never take this test's messages, nor it theirs.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from celery import Celery
from django.conf import settings

import policyflow.celery
from notifications import broker
from notifications import tasks as notification_tasks

# Register the shared tasks before any test app is finalized (a worker reads them at start).
assert notification_tasks.deliver_notification.name == "notifications.deliver_notification"

BASE_DIR = Path(settings.BASE_DIR)


def stop_processes(processes: list[subprocess.Popen], *, timeout: float) -> None:
    """A warm shutdown of processes a test started, each the leader of a process group of its
    own: SIGTERM to each leader (a Celery worker stops its pool's processes itself; signalled
    too, a pool process can die holding the pool's queue lock, and the worker then hangs at exit
    in billiard's `Pool._help_stuff_finish`), SIGKILL to a leader still running ``timeout``
    seconds later, then to whatever is left of its group (runserver's autoreloaded child)."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float = 120,
    interval: float = 0.05,
    why: Callable[[], str] | None = None,
):
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds, with
    ``why()`` (e.g. a server's log) in the message. The timeout is an upper bound for a
    condition that never comes, generous so that a slow (loaded) machine is not a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"Condition not met within {timeout} s" + (f":\n{why()}" if why else ""))


def make_celery_app(*, broker_url: str, queue: str) -> Celery:
    """The project's Celery settings (CELERY_*) on ``broker_url``, with a queue of its own."""
    config = SimpleNamespace(
        **{name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}
    )
    # Celery prefers the CELERY_BROKER_URL environment variable to broker_url; the read and
    # write URLs come before it.
    config.CELERY_BROKER_READ_URL = config.CELERY_BROKER_WRITE_URL = broker_url
    config.CELERY_TASK_DEFAULT_QUEUE = queue
    config.CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    app = Celery("policyflow", set_as_current=False)
    app.config_from_object(config, namespace="CELERY")
    assert app.connection_for_write().as_uri(include_password=True) == broker_url
    assert app.connection_for_read().as_uri(include_password=True) == broker_url
    return app


def activate(app: Celery) -> None:
    """Make ``app`` the one the notification tasks (shared tasks) publish with, in every thread
    (pytest-django's live server thread included)."""
    app.set_default()
    app.set_current()


@contextmanager
def celery_app_with_own_queue() -> Iterator[Celery]:
    """A Celery app on the configured Redis with a queue of its own (``app.test_queue``),
    active while the context lasts; the queue and any retry waiting in it go at the end."""
    broker.broker_pause.resume()
    queue = f"test-{uuid.uuid4().hex[:12]}"
    app = make_celery_app(broker_url=settings.CELERY_BROKER_URL, queue=queue)
    activate(app)
    app.test_queue = queue
    try:
        yield app
    finally:
        activate(policyflow.celery.app)
        broker.broker_pause.resume()
        with app.connection_for_write() as conn:
            # The queue, its exchange's bindings and any retry still waiting in it.
            client = conn.default_channel.client
            for key in client.scan_iter(match=f"*{queue}*"):
                client.delete(key)
        app.close()


def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>, per xdist worker)."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # not a test, whatever its name


class WorkerProcess:
    """`celery -A policyflow worker` in its own process group, so SIGKILL takes all of it.

    It runs tests.support.worker_settings: the test database, the test's queue, real SMTP to
    the test's server."""

    def __init__(self, *, broker_url: str, queue: str, smtp_port: int, log_dir: Path, **options):
        self.broker_url = broker_url
        self.queue = queue
        self.smtp_port = smtp_port
        self.pool = options.get("pool", "solo")
        self.concurrency = options.get("concurrency", 1)
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
            "PYTHONPATH": str(BASE_DIR),
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_SKIP_CHECKS": "1",
            "TEST_WORKER_QUEUE": self.queue,
            "TEST_WORKER_SMTP_PORT": str(self.smtp_port),
            "NOTIFICATIONS_BACKOFF_SECONDS": "0.3",
            "EMAIL_TIMEOUT": "5",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "policyflow",
            "worker",
            "-Q",
            self.queue,
            "-n",
            f"{self.name}@%h",
            "--pool",
            self.pool,
            "--concurrency",
            str(self.concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, no rollback by the worker itself."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """A warm shutdown (`stop_processes`), killed if not stopped within 15 s."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_processes([self.process], timeout=15)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_processes(tmp_path):
    """Start `celery worker` subprocesses; every one still running is stopped at the end."""
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(log_dir=tmp_path, **kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
