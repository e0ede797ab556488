"""The production web server's settings (`gunicorn -c gunicorn.conf.py policyflow.wsgi`)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104  (inside the container)
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Gunicorn's control socket (gunicornc) lives in $HOME; the container's user has none.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
# The path without its query string (%(U)s), and no referrer (%(f)s): tokens never reach a log.
# A task link carries its token in the query string (/l/open/?t=<token>), which the default
# format's %(r)s would write. The logger also masks token-like path segments (policyflow.logs).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'
logger_class = "policyflow.logs.TokenFreeGunicornLogger"


def post_worker_init(worker):
    """Once the worker has loaded the app: everything loaded so far (Django, the apps, their
    models, the URL patterns and their views) lives as long as the worker, so the garbage
    collector's full collections stop scanning it (`gc.freeze`). At ~150,000 objects each full
    collection took 90-150 ms of CPU inside whichever request set it off, every few hundred
    requests; 7-20 ms after the freeze (full-size benchmark, pages without the page cache)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the views now, not in the first request)
    gc.freeze()
