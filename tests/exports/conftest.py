"""Real Celery workers (in a thread) on a queue of the test's own, as the notification tests."""

import pytest
from celery.contrib.testing.worker import start_worker

from exports import tasks as export_tasks
from tests.support.smtp import smtp_sink  # noqa: F401 (a fixture: a worker process's SMTP)
from tests.support.workers import (  # noqa: F401 (worker_processes is a fixture)
    celery_app_with_own_queue,
    worker_processes,
)

# Register the shared tasks before any test app is finalized (a worker reads them at start).
assert export_tasks.run_export_job.name == "exports.run_export_job"


@pytest.fixture(autouse=True)
def celery_app():
    with celery_app_with_own_queue() as app:
        yield app


@pytest.fixture
def export_worker(celery_app, transactional_db, monkeypatch):
    """A real Celery worker in a thread, consuming this test's queue."""
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
