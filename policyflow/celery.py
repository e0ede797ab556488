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
