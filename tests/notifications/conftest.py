"""Fixtures for the notification tests: a real SMTP server (aiosmtpd), real Celery workers (in a
thread, or `celery worker` subprocesses that can be SIGKILLed) and a private Redis server that a
test may stop and start without touching the shared one.

Every test gets its own Celery app with its own queue name, so workers of other tests (other
xdist processes share the Redis database) never take this test's messages, nor it theirs.
"""

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from aiosmtpd.controller import Controller
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.conf import settings

import policyflow.celery
from notifications import services
from notifications import tasks as notification_tasks

# Register the shared tasks before any test app is finalized (a worker reads them at start).
assert notification_tasks.deliver_notification.name == "notifications.deliver_notification"

BASE_DIR = Path(settings.BASE_DIR)
HOLD_LIMIT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float = 20, interval: float = 0.05):
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(f"Condition not met within {timeout} s")


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    at: float

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps what it accepts. It can answer every message with an
    error (``answer``) or hold the n-th message (``hold_at``) in DATA, before accepting it, until
    the client goes away: the moment a worker is killed in the middle of sending."""

    answer: str | None = None
    hold_at: int | None = None
    received: list[Received] = field(default_factory=list)
    data_attempts: list[float] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_attempts.append(time.monotonic())
            attempt = len(self.data_attempts)
        if attempt == self.hold_at:
            self.holding.set()
            # Cancelled by aiosmtpd when the client disconnects: the message is never accepted.
            await asyncio.sleep(HOLD_LIMIT_SECONDS)
        if self.answer:
            return self.answer
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), message, time.monotonic()))
        return "250 2.0.0 Accepted"


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Django sends through real SMTP to the test's server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_sink


@pytest.fixture
def fast_retries(settings):
    """Small delays so backoff and the sweep can be watched within a test."""
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_BACKOFF_SECONDS = 0.3
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 5
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
    return settings


# --- Celery -----------------------------------------------------------------------------------


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
    """Make ``app`` the one the notification tasks (shared tasks) publish with, in every thread."""
    app.set_default()
    app.set_current()


@pytest.fixture(autouse=True)
def celery_app():
    """A Celery app for this test on the configured Redis, with a queue of its own."""
    services.broker_pause.resume()
    queue = f"notifications-test-{uuid.uuid4().hex[:12]}"
    app = make_celery_app(broker_url=settings.CELERY_BROKER_URL, queue=queue)
    activate(app)
    app.test_queue = queue
    yield app
    activate(policyflow.celery.app)
    services.broker_pause.resume()
    with app.connection_for_write() as conn:
        # The queue, its exchange's bindings and any retry still waiting in it.
        client = conn.default_channel.client
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
    app.close()


@pytest.fixture
def celery_worker(celery_app, transactional_db, monkeypatch):
    """A real Celery worker in a thread, consuming this test's queue. Stopped before the
    database is flushed (it depends on transactional_db)."""
    monkeypatch.setenv("CELERY_SKIP_CHECKS", "1")
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        shutdown_timeout=30,
        loglevel="WARNING",
    ) as worker:
        yield worker


# --- A private Redis server -------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own (no persistence), which the test may stop and start."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(self._answers(client), timeout=10)

    @staticmethod
    def _answers(client):
        def ping() -> bool:
            try:
                return client.ping()
            except redis.RedisError:
                return False

        return ping

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_celery_app(private_redis, celery_app):
    """The test's Celery app on its private Redis server instead of the shared one."""
    app = make_celery_app(broker_url=private_redis.url, queue=celery_app.test_queue)
    activate(app)
    yield app
    activate(celery_app)
    app.close()


# --- `celery worker` subprocesses -------------------------------------------------------------


def test_database_url() -> str:
    """The URL of the database this test runs on (pytest-django's test_<name>, per xdist worker)."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # not a test, whatever its name


class WorkerProcess:
    """`celery -A policyflow worker` in its own process group, so SIGKILL takes all of it."""

    def __init__(self, *, broker_url: str, queue: str, smtp_port: int, log_dir: Path, **options):
        self.broker_url = broker_url
        self.queue = queue
        self.smtp_port = smtp_port
        self.pool = options.get("pool", "solo")
        self.concurrency = options.get("concurrency", 1)
        self.name = f"notif-{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.notifications.worker_settings",
            "PYTHONPATH": str(BASE_DIR),
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_SKIP_CHECKS": "1",
            "NOTIFICATIONS_TEST_QUEUE": self.queue,
            "NOTIFICATIONS_TEST_SMTP_PORT": str(self.smtp_port),
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
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
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
