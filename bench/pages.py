"""(2) Pages: what a user lives after a write, and warm.

Each page is measured three ways, next to the minimal two-query template page served by the same
gunicorn (measured before and after the pages; their mean is the reference):

- **uncached**: gunicorn with the page cache off (`PAGE_CACHE_SECONDS=0`), N concurrent clients
  each with a session of its own, while a background process completes a real step every
  `WRITE_INTERVAL` seconds (the data version moves, so with the cache on these would be misses
  too); the minimal page is measured under the same writes;
- **cached** (warm): the page cache on, as in production, nothing writing, every session's page
  in the cache: the best case;
- **after a write**: with the cache on, a step through the services and then one timed request,
  repeated: the page a user lands on after their own step (always a miss);
- **cached, another county writing** (`report.ELSEWHERE_PAGES`): with the cache on, a reader of
  the overview's county only while the background process steps in another county: those steps
  leave the reader's pages in the cache (`PAGE_CACHE_SCOPE`), as most readers of a country live.

Uncached, the minimal page's content inside the site's layout (`bench.views.LayoutView`) is
measured too, right after the minimal page: the least a page a signed-in reader opens costs, so
its ratio to the minimal page is the ceiling of every measured page's.

A failed request is counted (`failed`) and the page keeps its figures; a page that cannot be
served at all says "not available: <why>" and the others still run.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.db.models import Count
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.urls import NoReverseMatch, reverse
from django.utils.crypto import get_random_string

from audit.models import AuditEvent
from municipalities import access
from municipalities.models import County, CountyProject, Membership
from municipalities.services import set_membership
from workflows.models import PolicyProcess, Stage
from workflows.overview import selectors as overview_selectors

from . import load, page_writes, report
from .server import Server, get
from .step_service import processes_at_draft

BENCH_USERNAME = "bench-leader"
# A step every 200 ms (5 a second, in turn over a few municipalities of the overview's county)
# during the uncached load.
WRITE_INTERVAL = 0.2
WRITE_PROCESSES = 3
# The backend that signs people in (django-axes' backend comes first and signs nobody in).
SIGN_IN_BACKEND = "municipalities.access.CachedModelBackend"


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
    # bulk_create sends no signals: the roles kept in the cache are read again.
    access.forget_everyone()
    return user


def county_reader(county):
    """The steering group's reader of one county (``county``) only: the pages of a county's
    people, whose page cache a write in another county leaves alone (`audit.page_cache`)."""
    user, _ = get_user_model().objects.get_or_create(
        username=f"bench-steering-{county.code}",
        defaults={"first_name": "Bench", "last_name": "Styrgrupp", "email": "s@region.example"},
    )
    with transaction.atomic():
        set_membership(
            user=user,
            project=CountyProject.objects.get(county=county),
            role=Membership.Role.STEERING,
        )
    return user


def elsewhere(count: int, leader, county) -> list[int]:
    """``count`` processes waiting at the draft step outside ``county`` (fewer when the data has
    no more): the writes a reader of ``county`` does not see."""
    # Another county's first (brought to the draft step there if need be), then any county's.
    other = County.objects.exclude(pk=county.pk).order_by("code").first()
    chosen = processes_at_draft(count, leader, county=other)
    outside = PolicyProcess.objects.filter(pk__in=chosen).exclude(municipality__county=county)
    return list(outside.values_list("pk", flat=True))


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

    def add(name: str, build) -> None:
        # A download's first byte is timed, a page's whole answer (`report.DOWNLOADS`).
        kind = "first_byte" if name in report.DOWNLOADS else "page"
        try:
            pages[name] = (build(), kind)
        except NoReverseMatch as error:
            pages[name] = (f"not available: no URL ({error})", kind)

    add("county_overview", lambda: reverse("workflows:overview"))
    # Every county the leader leads (here all 21): one row per county, the country's figures.
    add("county_overview_all", lambda: f"{reverse('workflows:overview')}?county=all")
    add("inbox", lambda: reverse("workflows:inbox"))
    add("process", lambda: reverse("workflows:process", args=[process_pk]))
    add("timeline_first", lambda: reverse("audit:timeline"))
    add("timeline_deep", lambda: f"{reverse('audit:timeline')}?after={deep_after_id()}")
    # The busy process's CSV, downloaded whole by each client; the county-wide export of every
    # event (and its first byte) is part 3.
    add("audit_csv_first_byte", lambda: reverse("audit:process_csv", args=[process_pk]))
    pages["_process_events"] = (str(process_events), "info")
    return pages


def _settle(server: Server) -> None:
    """Waits for what an earlier load left in the server: wrk and timed-out clients go away with
    requests still queued, and a sync worker computes each of them to its end. One cheap request
    per worker at once, twice, is answered only after what was queued before it."""
    path = reverse("bench_minimal")  # without a session: a redirect to the login page

    def one(_n: int) -> None:
        with contextlib.suppress(OSError):
            get(server.port, path, timeout=3 * load.TIMEOUT)

    with ThreadPoolExecutor(max_workers=server.workers) as pool:
        for _ in range(2):
            list(pool.map(one, range(server.workers)))


def _warm(server: Server, path: str, *, cookies: list[str], rounds: int, first_byte: bool):
    """A concurrent request per session, once (twice with the cache on), before a page is
    measured: a worker's first request loads code and templates (8 sessions on 3 workers reach
    each worker), and with the cache on the first round stores each session's page. Returns
    (answered, failures, the first problem, the slowest answer of the last round in seconds)."""
    answered, failures, problem, slowest = 0, 0, "", 0.0

    def one(n: int) -> tuple[int | None, float, str]:
        try:
            status, elapsed = load.timed_get(
                server.port, path, cookie=cookies[n % len(cookies)], first_byte=first_byte
            )
        except OSError as error:
            return None, 0.0, f"{type(error).__name__}: {error}"
        return status, elapsed, "" if status == 200 else f"HTTP {status}"

    with ThreadPoolExecutor(max_workers=len(cookies)) as pool:
        for _ in range(rounds):
            slowest = 0.0
            for status, elapsed, why in pool.map(one, range(len(cookies))):
                slowest = max(slowest, elapsed)
                if status == 200:
                    answered += 1
                else:
                    failures += 1
                    problem = problem or why
    return answered, failures, problem, slowest


def _under_load(server: Server, path: str, kind: str, *, cookies, seconds) -> dict:
    connections = len(cookies)
    if kind == "page":
        return load.run(
            server.url(path), cookies=cookies, connections=connections, seconds=seconds
        ).as_dict()
    # The latency figures are the first byte's; requests/s comes from the same load tool as
    # the minimal page's (whole downloads), so that the ratio compares like with like (a
    # threaded Python client is itself a load on the two cores).
    measured = load.first_byte(
        server.port, path, cookies=cookies, connections=connections, seconds=seconds
    )
    _settle(server)
    downloads = load.run(server.url(path), cookies=cookies, connections=connections,
                         seconds=seconds)  # fmt: skip
    return {
        **measured.as_dict(),
        "first_byte_client_rps": round(measured.rps, 1),
        "rps": round(downloads.rps, 1),
        "downloads": downloads.as_dict(),
        "failed": measured.failed + downloads.failed,
    }


def _load(server: Server, path: str, kind: str, *, cookies, seconds, cached: bool) -> dict:
    """One page under load: its figures, or {"not_available": why}."""
    # Each page on an idle server: a slow page's leftover requests would count against the next.
    _settle(server)
    try:
        answered, warm_failures, problem, slowest = _warm(
            server, path, cookies=cookies, rounds=2 if cached else 1, first_byte=kind != "page"
        )
        if not answered:
            return {"not_available": f"not available: {problem} (every request failed)"}
        if warm_failures:
            _settle(server)
        result = _under_load(server, path, kind, cookies=cookies, seconds=seconds)
        if result["requests"] < len(cookies):
            # Slower than the measurement: fewer answers than clients. Loaded again for three
            # of its slowest answers (at most three times the measurement), so that the
            # figures come from more than the first few requests.
            longest = max(slowest, result["max_ms"] / 1000)
            longer = min(3 * longest, 3 * max(seconds, 1))
            if longer > seconds:
                first = result
                _settle(server)
                result = _under_load(server, path, kind, cookies=cookies, seconds=longer)
                result["first_load"] = first
    except load.LoadFailed as error:
        return {"not_available": f"not available: {error}"}
    result["warm_failed"] = warm_failures
    if not result["requests"]:
        return {
            "not_available": "not available: no request answered within the measurement "
            f"({result['seconds']:.0f} s, {result['failed']} failed; the slowest warm-up "
            f"answer took {slowest:.1f} s)"
        }
    return result


def _minimal(server: Server, *, cookies, seconds, cached) -> dict:
    return _load(server, reverse("bench_minimal"), "page", cookies=cookies, seconds=seconds,
                 cached=cached)  # fmt: skip


def _reference(before: dict, after: dict) -> dict:
    """The minimal page's mean rate before and after the pages (what the ratios divide by)."""
    measured = [m for m in (before, after) if "not_available" not in m]
    reference = {"before": before, "after": after}
    if not measured:
        reference["not_available"] = before["not_available"]
        return reference
    reference["rps"] = round(sum(m["rps"] for m in measured) / len(measured), 1)
    reference["p95_ms"] = round(max(m["p95_ms"] for m in measured), 1)
    return reference


def _after_write(server: Server, path: str, kind: str, *, cookies, steps, repeats) -> dict:
    """A step through the services, then one timed request, ``repeats`` times (the cache on:
    each request finds a new data version, as a user's after their own step)."""
    timings: list[float] = []
    errors = non_2xx = write_failures = 0
    last_problem = ""
    started = time.monotonic()
    for n in range(repeats):
        try:
            steps.step()
        except Exception as error:  # noqa: BLE001 (counted: the request is still measured)
            write_failures += 1
            last_problem = f"the step failed: {type(error).__name__}: {error}"
        try:
            status, elapsed = load.timed_get(
                server.port, path, cookie=cookies[n % len(cookies)], first_byte=kind != "page"
            )
        except OSError as error:
            errors += 1
            last_problem = f"{type(error).__name__}: {error}"
            continue
        timings.append(elapsed)
        if status != 200:
            non_2xx += 1
            last_problem = f"HTTP {status}"
    measured = load.summarise(
        timings, time.monotonic() - started, errors, non_2xx, tool="python-after-write"
    ).as_dict()
    del measured["rps"]  # the steps take most of the time: no rate to speak of
    measured["write_failures"] = write_failures
    if not timings:
        return {"not_available": f"not available: {last_problem} (every request failed)"}
    if last_problem:
        measured["last_problem"] = last_problem
    return measured


def _serve(env, *, page_cache: bool, workers: int, pages: dict, cookies, seconds, during=None,
           then=None, layout=False) -> dict:  # fmt: skip
    """The minimal page and every page under load on a gunicorn of its own (``during``: a
    context manager around the load; ``then(server)``: what to measure after it; ``layout``:
    the layout reference page too, after the minimal page)."""
    results: dict = {}
    references: dict = {}
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(Server(env, workers=workers, page_cache=page_cache))
        except RuntimeError as error:  # gunicorn did not start (and was stopped)
            why = f"not available: {error}"
            unserved = {name: {"not_available": why} for name in pages}
            return {"minimal": {"not_available": why}, "pages": unserved}
        with during() if during else contextlib.nullcontext() as background:
            before = _minimal(server, cookies=cookies, seconds=seconds, cached=page_cache)
            if layout:
                started = time.monotonic()
                references["layout"] = _load(
                    server, reverse("bench_layout"), "page",
                    cookies=cookies, seconds=seconds, cached=page_cache,
                )  # fmt: skip
                print(f"  the layout reference: {time.monotonic() - started:.0f} s", flush=True)
            for name, (path, kind) in pages.items():
                if path.startswith("not available"):
                    results[name] = {"not_available": path}
                    continue
                started = time.monotonic()
                results[name] = _load(
                    server, path, kind, cookies=cookies, seconds=seconds, cached=page_cache
                )
                mode = "cached" if page_cache else "uncached"
                print(f"  {name} ({mode}): {time.monotonic() - started:.0f} s", flush=True)
            after = _minimal(server, cookies=cookies, seconds=seconds, cached=page_cache)
        try:
            started = time.monotonic()
            _settle(server)
            later = then(server) if then else {}
            if then:
                print(f"  after a write: {time.monotonic() - started:.0f} s", flush=True)
        except Exception as error:  # noqa: BLE001 (the load's figures stand)
            traceback.print_exc()
            why = f"not available: {type(error).__name__}: {error}"
            later = {name: {"not_available": why} for name in pages}
    minimal = _reference(before, after)
    for result in [*results.values(), *references.values()]:
        if "rps" in result and "rps" in minimal:
            result["rps_vs_minimal"] = round(result["rps"] / minimal["rps"], 3)
    served = {"minimal": minimal, "pages": results, "after": later, **references}
    if background is not None:
        served["background_writes"] = background.outcome
    return served


def measure(
    env: dict, *, workers: int, connections: int, seconds: float, repeats: int | None = None
) -> dict:
    """``connections`` clients, each with a session of its own; ``repeats`` write-then-read
    rounds per page (20, 5 at the tiny size)."""
    user = bench_user()
    cookies = [session_cookie(user) for _ in range(connections)]
    pages = targets()
    process_events = int(pages.pop("_process_events")[0])
    repeats = repeats or (5 if seconds < 1 else 20)
    # The writes are in the county the overview opens on (Kronoberg): its figures are computed
    # again after each stage change there, as its steering group lives it after a step.
    county = overview_selectors.county_by_code(None, user=user)
    writing = processes_at_draft(WRITE_PROCESSES, user, county=county)

    uncached = _serve(
        env, page_cache=False, workers=workers, pages=pages, cookies=cookies, seconds=seconds,
        during=lambda: page_writes.Background(user, writing, interval=WRITE_INTERVAL),
        layout=True,
    )  # fmt: skip

    def after_writes(server: Server) -> dict:
        steps = page_writes.Steps(user, writing)
        try:
            return {
                name: {"not_available": path}
                if path.startswith("not available")
                else _after_write(
                    server, path, kind, cookies=cookies, steps=steps, repeats=repeats
                )  # fmt: skip
                for name, (path, kind) in pages.items()
            }
        finally:
            # The later parts drive these processes from the draft step.
            steps.back_to_draft()

    cached = _serve(
        env, page_cache=True, workers=workers, pages=pages, cookies=cookies, seconds=seconds,
        then=after_writes,
    )  # fmt: skip
    # A reader of the overview's county only, while the steps are taken in another county: what
    # most readers of a country live (other counties working), their pages kept in the cache.
    reader = county_reader(county)
    others = elsewhere(WRITE_PROCESSES, user, county)
    if others:
        reading = {name: pages[name] for name in report.ELSEWHERE_PAGES}
        cached_elsewhere = _serve(
            env, page_cache=True, workers=workers, pages=reading, seconds=seconds,
            cookies=[session_cookie(reader) for _ in range(connections)],
            during=lambda: page_writes.Background(user, others, interval=WRITE_INTERVAL),
        )  # fmt: skip
    else:
        why = {"not_available": f"not available: no process waits outside {county.name}"}
        cached_elsewhere = {"pages": {name: why for name in report.ELSEWHERE_PAGES}}
    results = {}
    for name in pages:
        results[name] = {
            "path": pages[name][0],
            "uncached": uncached["pages"][name],
            "cached": cached["pages"][name],
            "after_write": cached.get("after", {}).get(
                name, {"not_available": "not available: not measured"}
            ),
        }
        if name in report.ELSEWHERE_PAGES:
            results[name]["cached_elsewhere"] = cached_elsewhere["pages"][name]
    return {
        "minimal": cached["minimal"],
        "minimal_uncached": uncached["minimal"],
        # The minimal page's content in the site's layout, uncached: the ceiling of a page's
        # rate against the minimal page's (every page has the layout around it).
        "layout_uncached": uncached.get("layout", {"not_available": "not available: not served"}),
        "pages": results,
        "background_writes": uncached.get("background_writes", {}),
        "elsewhere": {
            "reader_county": county.code,
            "processes": len(others),
            "background_writes": cached_elsewhere.get("background_writes", {}),
            "minimal": cached_elsewhere.get("minimal", {}),
        },
        "process_page_events": process_events,
        "connections": connections,
        "sessions": len(cookies),
        "seconds_per_page": seconds,
        "after_write_repeats": repeats,
        "gunicorn_workers": workers,
        "tool": "wrk" if load.has_wrk() else "python threads",
    }
