"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "policyflow.settings.base")

app = Celery("policyflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _load_urlconf(**kwargs):
    # viewflow nodes reverse URLs; make sure the URLconf is imported in the worker.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018


@signals.task_prerun.connect
@signals.task_postrun.connect
def _check_database_connections(**kwargs):
    # What Django does before and after each request: drop a connection past CONN_MAX_AGE (at
    # once with 0, the default outside production), or unusable after an error (with
    # CONN_HEALTH_CHECKS, also one the server closed while idle).
    from django.db import close_old_connections

    close_old_connections()


@signals.task_failure.connect
def _close_database_connections(**kwargs):
    # A task that failed may leave its connection unusable in ways Django cannot detect (an
    # interrupted query): the next task starts on a new one, as without CELERY_DB_REUSE_MAX.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
