"""(2) Pages under load: each page with N concurrent clients for a fixed time, next to the minimal
two-query template page served by the same gunicorn in the same run (measured before and after the
pages; their mean is the reference)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Count
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.urls import NoReverseMatch, reverse
from django.utils.crypto import get_random_string

from audit.models import AuditEvent
from municipalities.models import CountyProject, Membership
from workflows.models import PolicyProcess, Stage

from . import load
from .server import Server, get

BENCH_USERNAME = "bench-leader"
# The backend that signs people in (django-axes' backend comes first and signs nobody in).
SIGN_IN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def bench_user():
    """A project leader who is also in the steering group: every page is theirs to read."""
    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME,
        defaults={"first_name": "Bench", "last_name": "Ledare", "email": "bench@region.example"},
    )
    user.groups.add(*Group.objects.all())
    # Roles are per county (`municipalities.scoping`): the bench's leader leads every county's
    # project, as the generated leaders do, or every step and county page refuses them.
    Membership.objects.bulk_create(
        [
            Membership(user=user, project=project, role=Membership.Role.LEADER)
            for project in CountyProject.objects.all()
        ],
        ignore_conflicts=True,
    )
    return user


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = SIGN_IN_BACKEND
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    # And a CSRF cookie, as a browser holds from the login form on: pages keep their content in
    # the cache only for a browser that has one (the forms carry tokens of it).
    csrf_secret = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return (
        f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf_secret}"
    )


def busy_process() -> tuple[int, int]:
    """A closed process at the 90th percentile of audit events per process: (pk, events)."""
    counts = list(
        AuditEvent.objects.filter(
            process_id__in=PolicyProcess.objects.filter(stage=Stage.ADOPTED).values("pk")
        )
        .values("process_id")
        .annotate(n=Count("id"))
        .order_by("n", "process_id")
        .values_list("process_id", "n")
    )
    return counts[int(len(counts) * 0.9)]


def deep_after_id() -> int:
    """An id 95 % of the way down the timeline (newest first): a deep keyset page."""
    total = AuditEvent.objects.count()
    return AuditEvent.objects.order_by("id").values_list("id", flat=True)[total // 20]


def targets() -> dict[str, tuple[str, str]]:
    """Page name → (path or "not available: why", how it is fetched)."""
    process_pk, process_events = busy_process()
    pages: dict[str, tuple[str, str]] = {}

    def add(name: str, build, kind: str = "page") -> None:
        try:
            pages[name] = (build(), kind)
        except NoReverseMatch as error:
            pages[name] = (f"not available: no URL ({error})", kind)

    add("county_overview", lambda: reverse("workflows:overview"))
    add("inbox", lambda: reverse("workflows:inbox"))
    add("process", lambda: reverse("workflows:process", args=[process_pk]))
    add("timeline_first", lambda: reverse("audit:timeline"))
    add("timeline_deep", lambda: f"{reverse('audit:timeline')}?after={deep_after_id()}")
    # The busy process's CSV, downloaded whole by each client; the county-wide export of every
    # event (and its first byte) is part 3.
    add(
        "audit_csv_first_byte",
        lambda: reverse("audit:process_csv", args=[process_pk]),
        "first_byte",
    )
    pages["_process_events"] = (str(process_events), "info")
    return pages


def measure(env: dict, *, workers: int, connections: int, seconds: float) -> dict:
    user = bench_user()
    cookie = session_cookie(user)
    pages = targets()
    process_events = int(pages.pop("_process_events")[0])
    results: dict[str, dict] = {}
    with Server(env, workers=workers) as server:

        def warm(path: str) -> str | None:
            # Every worker serves the page before it is measured (concurrent requests reach
            # them all): a first request imports matplotlib or fills the shared cache.
            with ThreadPoolExecutor(max_workers=connections) as pool:
                for _ in range(2):
                    statuses = pool.map(
                        lambda _n: get(server.port, path, cookie=cookie, timeout=120)[0],
                        range(max(connections, 2 * workers)),
                    )
                    problems = [status for status in statuses if status != 200]
                    if problems:
                        return f"not available: HTTP {problems[0]}"
            return None

        def minimal() -> load.Load:
            warm(reverse("bench_minimal"))
            return load.run(
                server.url(reverse("bench_minimal")),
                cookie=cookie, connections=connections, seconds=seconds,
            )  # fmt: skip

        before = minimal()
        for name, (path, kind) in pages.items():
            if path.startswith("not available"):
                results[name] = {"not_available": path}
                continue
            if kind == "page":
                problem = warm(path)
                if problem:
                    results[name] = {"not_available": problem, "path": path}
                    continue
                measured = load.run(
                    server.url(path), cookie=cookie, connections=connections, seconds=seconds
                )
            else:
                # The latency figures are the first byte's; requests/s comes from the same load
                # tool as the minimal page's (whole downloads), so that the ratio compares like
                # with like (a threaded Python client is itself a load on the two cores).
                measured = load.first_byte(
                    server.port, path, cookie=cookie, connections=connections, seconds=seconds
                )
                downloads = load.run(
                    server.url(path), cookie=cookie, connections=connections, seconds=seconds
                )
                results[name] = {
                    "path": path,
                    **measured.as_dict(),
                    "first_byte_client_rps": measured.rps,
                    "rps": downloads.rps,
                    "downloads": downloads.as_dict(),
                }
                continue
            results[name] = {"path": path, **measured.as_dict()}
        after = minimal()
    reference_rps = (before.rps + after.rps) / 2
    for result in results.values():
        if "rps" in result and reference_rps:
            result["rps_vs_minimal"] = round(result["rps"] / reference_rps, 3)
    return {
        "minimal": {
            "before": before.as_dict(),
            "after": after.as_dict(),
            "rps": round(reference_rps, 1),
            "p95_ms": round(max(before.p95_ms, after.p95_ms), 1),
        },
        "pages": results,
        "process_page_events": process_events,
        "connections": connections,
        "seconds_per_page": seconds,
        "gunicorn_workers": workers,
        "tool": "wrk" if load.has_wrk() else "python threads",
    }
