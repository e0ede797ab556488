"""Fixtures for the notification tests: a real SMTP server (aiosmtpd), real Celery workers (in a
thread, or `celery worker` subprocesses that can be SIGKILLed) and a private Redis server that a
test may stop and start without touching the shared one. The SMTP server and the worker
subprocesses live in tests.support, which the browser tests use too.

Every test gets its own Celery app with its own queue name, so workers of other tests (other
xdist processes share the Redis database) never take this test's messages, nor it theirs.
"""

import subprocess

import pytest
import redis
from celery.contrib.testing.worker import start_worker

from tests.support import free_port
from tests.support.smtp import smtp_settings, smtp_sink  # noqa: F401  (fixtures)
from tests.support.workers import (  # noqa: F401  (fixtures and helpers the tests import)
    activate,
    celery_app_with_own_queue,
    make_celery_app,
    wait_until,
    worker_processes,
)


@pytest.fixture(autouse=True)
def _the_apps_own_log(settings):
    """The notifications app's log as the app ships it, unscoped: notifications of made-up topics
    here belong to no county. The project's log per county: tests/workflows/test_county_walls.py."""
    settings.NOTIFICATIONS_LOG_SCOPE = None


@pytest.fixture
def fast_retries(settings):
    """Small delays so backoff and the sweep can be watched within a test."""
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_BACKOFF_SECONDS = 0.3
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 5
    settings.NOTIFICATIONS_SWEEP_GRACE_SECONDS = 0
    return settings


# --- Celery -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def celery_app():
    """A Celery app for this test on the configured Redis, with a queue of its own."""
    with celery_app_with_own_queue() as app:
        yield app


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
        wait_until(self._answers(client), timeout=120)

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
