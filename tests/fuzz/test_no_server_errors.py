"""No request gets a server error: property-based requests (Hypothesis) to every URL of the URL
resolver, with every query parameter and every form field the pages show, as an anonymous
visitor, the steering group, a project leader and an administrator.

What is fuzzed is found, not listed: the routes come from the URL resolver (a new URL is covered
at once), and the parameters and form fields from crawling the pages as a project leader and an
administrator (a new filter or form field is covered at once). Values mix what the pages offer
(options, known ids, plausible dates) with hostile ones (NUL characters, years 0001 and 9999,
huge numbers, long and odd text).

Bounded: for every route and persona, FUZZ_EXAMPLES (default 2) examples, each one GET and one
POST; derandomized, so a run is reproducible. More: `FUZZ_EXAMPLES=50 pytest
tests/fuzz`.
"""

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import ContactFactory, UserFactory, member_of
from tests.workflows.helpers import decision_fields, walk_to
from workflows import services

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2"))

# Not fuzzed: Django's own admin (its forms are Django's), and signing out (it would end the
# persona's session in the middle of an example).
SKIPPED_NAMESPACES = {"admin"}
SKIPPED_POST_NAMES = {"logout"}
# Parameters the code reads that no page shows as a field or link: the chart's version, the
# task-link token, the CSV delimiter, the waiting list's page.
EXTRA_PARAMETERS = {"v", "t", "delimiter", "waiting_page", "page", "next", "after"}

HOSTILE = [
    "",
    " ",
    "\x00",
    "07\x00",
    "0",
    "-1",
    "1e309",
    "9" * 30,
    "-" + "9" * 30,
    "9999-12-31",
    "9999-12-11",
    "0001-01-01",
    "2026-02-30",
    "10000-01-01",
    "2026-05-13T25:61",
    "NaN",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "ö" * 3000,
    "\u202e\ufeff\u200b",
    "semicolon",
    "all",
]
PLAUSIBLE = ["2026-05-04", "2026-05-12", "2026-05-13", "57", "KS 2026/39", "Text", "on", "1"]


# --- The routes, from the URL resolver ---------------------------------------------------------


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "processes/<int:pk>/"
    name: str
    converters: tuple[tuple[str, str], ...]  # (kwarg, converter type) in order


_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes(resolver=None, prefix: str = "") -> list[Route]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES:
                continue
            found.extend(routes(pattern, text))
        elif isinstance(pattern, URLPattern):
            template = text.lstrip("^").rstrip("$")
            converters = tuple(
                (m["name"], m["converter"] or "str") for m in _PARAMETER.finditer(template)
            )
            found.append(Route(template, pattern.name or "", converters))
    return found


def route_of(path: str) -> str | None:
    """The template of the route an address resolves to."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if set(match.namespaces) & SKIPPED_NAMESPACES:
        return None
    return match.route


# --- What the pages show: forms, fields, values, link parameters ------------------------------


@dataclass
class Form:
    target: str  # the address it is sent to
    method: str
    fields: dict[str, set[str]] = field(default_factory=dict)  # name -> values seen
    types: dict[str, str] = field(default_factory=dict)  # name -> input type (or tag)


@dataclass
class Discovered:
    forms: dict[str, list[Form]] = field(default_factory=dict)  # route -> forms sent to it
    path_values: dict[str, set[str]] = field(default_factory=dict)  # converter -> values seen
    parameters: dict[str, set[str]] = field(default_factory=dict)  # query key -> values seen
    types: dict[str, str] = field(default_factory=dict)  # query key -> input type


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, dict[str, set[str]], dict[str, str]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append((attrs.get("action") or "", attrs.get("method") or "get", {}, {}))
        elif tag in ("input", "textarea", "select") and self.forms and attrs.get("name"):
            kind = attrs.get("type") or tag
            if kind == "file":
                return
            _action, _method, fields, types = self.forms[-1]
            values = fields.setdefault(attrs["name"], set())
            types.setdefault(attrs["name"], kind)
            if attrs.get("value") is not None:
                values.add(attrs["value"])
            self._select = attrs["name"] if tag == "select" else None
        elif tag == "option" and self._select and self.forms:
            self.forms[-1][2][self._select].add(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def crawl(client: Client, start: list[str], per_route: int = 2) -> Discovered:
    """Follow the site's own links from ``start``; note every form and link. At most
    ``per_route`` addresses of a route with parameters are opened (the overview links to every
    municipality; two task pages show two steps' forms), one of a route without."""
    found = Discovered()
    queue, seen, opened = list(start), set(), {}
    while queue:
        url = queue.pop(0)
        route = route_of(urllib.parse.urlsplit(url).path)
        limit = per_route if "<" in (route or "") else 1
        if url in seen or route is None or opened.get(route, 0) >= limit:
            continue
        seen.add(url)
        opened[route] = opened.get(route, 0) + 1
        response = client.get(url)
        if response.status_code in (301, 302) and response["Location"].startswith("/"):
            queue.append(response["Location"])
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        parser = _PageParser()
        parser.feed(response.content.decode())
        path = urllib.parse.urlsplit(url).path
        for href in parser.links:
            parts = urllib.parse.urlsplit(urllib.parse.urljoin(url, href))
            if parts.netloc or not parts.path.startswith("/"):
                continue
            _note_address(found, parts.path, parts.query)
            if not re.search(r"\.(pdf|zip|csv|svg)$", parts.path):
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        for action, method, fields, types in parser.forms:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(url, action)).path or path
            target_route = route_of(target)
            if target_route is None:
                continue
            _note_address(found, target, "")
            found.forms.setdefault(target_route, []).append(
                Form(target, method.lower(), fields, types)
            )
            if method.lower() == "get":
                for name, values in fields.items():
                    found.parameters.setdefault(name, set()).update(values)
                    found.types.setdefault(name, types[name])
    return found


def _note_address(found: Discovered, path: str, query: str) -> None:
    try:
        match = resolve(path)
    except Resolver404:
        return
    for value in match.kwargs.values():
        kind = "int" if isinstance(value, int) else "str"
        found.path_values.setdefault(kind, set()).add(str(value))
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        found.parameters.setdefault(key, set()).add(value)


# --- Values ------------------------------------------------------------------------------------

# The worst value of each kind of field: what the explicit requests send, one field at a time.
WORST = {"date": "9999-12-31", "number": "9" * 30, "hidden": "9" * 30}
WORST_TEXT = "a\x00b"
# A value each kind of field accepts, so that a request with one bad field reaches the code
# behind the form's validation.
PLAUSIBLE_BY_TYPE = {"date": "2026-05-13", "number": "1", "hidden": "1", "email": "a@example.se"}


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(PLAUSIBLE),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda d: d.isoformat()),
    )


def plausible(values: set[str], kind: str) -> str:
    """A value the field accepts: one the page offered, or one of its kind."""
    offered = sorted(v for v in values if v)
    if offered:
        return offered[0]
    return PLAUSIBLE_BY_TYPE.get(kind, "Text")


def fields_strategy(
    fields: dict[str, set[str]], types: dict[str, str]
) -> st.SearchStrategy[dict[str, list[str]]]:
    """Either every field left out or given odd values, or every field given a plausible value
    but one, given an odd value (that reaches the code behind the form's validation)."""
    names = sorted(name for name in fields if name != "csrfmiddlewaretoken")

    def odd(name: str) -> st.SearchStrategy[list[str]]:
        seen = sorted(fields[name])
        one = st.one_of(st.sampled_from(seen), text_values()) if seen else text_values()
        if types.get(name) == "date":
            one = st.one_of(st.dates().map(lambda d: d.isoformat()), one)
        return st.lists(one, min_size=1, max_size=2)

    anything = st.fixed_dictionaries({}, optional={name: odd(name) for name in names})
    if not names:
        return anything

    @st.composite
    def one_bad_field(draw):
        base = {name: [plausible(fields[name], types.get(name, ""))] for name in names}
        bad = draw(st.sampled_from(names))
        base[bad] = draw(odd(bad))
        return base

    return st.one_of(anything, one_bad_field())


def worst_cases(fields: dict[str, set[str]], types: dict[str, str]) -> list[dict[str, list[str]]]:
    """Every field plausible but one, at its worst: one request per field."""
    names = sorted(name for name in fields if name != "csrfmiddlewaretoken")
    base = {name: [plausible(fields[name], types.get(name, ""))] for name in names}
    return [
        {**base, name: [WORST.get(types.get(name, ""), WORST_TEXT)]}
        for name in names
        if types.get(name) != "submit"
    ]


def path_value(converter: str, found: Discovered) -> st.SearchStrategy[str]:
    if converter == "int":
        seen = sorted(found.path_values.get("int", set()))
        fuzzed = st.integers(min_value=0, max_value=2**70).map(str)
        return st.one_of(st.sampled_from(seen), fuzzed) if seen else fuzzed
    seen = sorted(found.path_values.get("str", set()))
    fuzzed = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)).filter(
        lambda s: s and "/" not in s and s not in (".", "..")
    )
    return st.one_of(st.sampled_from(seen), fuzzed) if seen else fuzzed


def address(draw, route: Route, found: Discovered) -> str:
    path = route.template
    for name, converter in route.converters:
        value = draw(path_value(converter, found))
        quoted = urllib.parse.quote(value, safe="")
        path = re.sub(
            rf"<(?:[^>:]+:)?{re.escape(name)}>", quoted.replace("\\", "\\\\"), path, count=1
        )
    return "/" + path


# --- The data and the people -------------------------------------------------------------------


@pytest.fixture
def world(seeded):
    """Processes at several steps (drafts, meetings, open task links, a decision), and the
    four personas' browsers."""
    from municipalities.models import Municipality

    leader = UserFactory(username="pia")
    member_of(leader, "07", "leader")
    steering = UserFactory(username="sven")
    member_of(steering, "07", "steering")
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)
    # A superuser reads every county but leads one only with the role: Ada leads Kronoberg too,
    # so that her crawl reaches the step forms.
    member_of(admin, "07", "leader")

    def process_at(code: str, step: str):
        municipality = Municipality.objects.get(code=code)
        contact = ContactFactory(municipality=municipality, email=f"k{code}@example.se")
        process = services.start_process(municipality=municipality, user=leader)
        return walk_to(process, leader, contact, step)

    process_at("0780", "decision")
    process_at("0764", "approval")
    # Her inbox opens on her own steps ("Mina"): one is hers.
    services.start_process(municipality=Municipality.objects.get(code="0760"), user=admin)
    decided = process_at("0781", "decision")
    services.record_decision(task=decided, user=leader, **decision_fields())

    browsers = {"anonymous": Client(raise_request_exception=False)}
    for persona, user in (
        ("steering group", steering),
        ("project leader", leader),
        ("admin", admin),
    ):
        browsers[persona] = Client(raise_request_exception=False)
        browsers[persona].force_login(user)
    return browsers


# --- The property -------------------------------------------------------------------------------


def test_no_request_from_any_persona_gets_a_server_error(world):
    all_routes = routes()
    assert len(all_routes) > 20  # the resolver was read
    # From every address without parameters, then along the pages' links, as an administrator
    # (who sees every page and form).
    start = ["/" + route.template for route in all_routes if not route.converters]
    found = crawl(world["admin"], start=start)
    # The crawl reached the forms of the pages that matter, or the fuzzing would be shallow.
    assert {"tasks/<int:task_pk>/", "audit/", "processes/start/"} <= set(found.forms)
    query_keys = set(found.parameters) | EXTRA_PARAMETERS
    query_fields = {key: found.parameters.get(key, set()) for key in sorted(query_keys)}

    errors = []
    for route in all_routes:
        forms = found.forms.get(route.template, [])
        get_fields, get_types = dict(query_fields), dict(found.types)
        post_fields: dict[str, set[str]] = {}
        post_types: dict[str, str] = {}
        for form in forms:
            fields, types = (
                (get_fields, get_types) if form.method == "get" else (post_fields, post_types)
            )
            for name, values in form.fields.items():
                fields.setdefault(name, set()).update(values)
            types.update(form.types)
        get_strategy = fields_strategy(get_fields, get_types)
        post_strategy = fields_strategy(post_fields or get_fields, post_types or get_types)
        for persona, browser in world.items():
            found_errors = []
            # The explicit requests: every form's fields at their worst, one at a time, to the
            # address the page sends it to; every query parameter holding a NUL.
            for form in forms:
                if form.method == "post" and route.name in SKIPPED_POST_NAMES:
                    continue
                send = browser.get if form.method == "get" else browser.post
                for data in worst_cases(form.fields, form.types):
                    found_errors += check(send, form.target, data)
            targets = {form.target for form in forms}
            if not route.converters:
                targets.add("/" + route.template)
            for target in sorted(targets):
                found_errors += check(browser.get, target, dict.fromkeys(query_keys, "\x00"))
            found_errors += fuzz_route(route, browser, found, get_strategy, post_strategy)
            errors += [(persona, error) for error in found_errors]
    assert not errors, "\n".join(f"{persona}: {request}" for persona, request in errors)


def check(send, url: str, data: dict) -> list[str]:
    response = send(url, data)
    if response.status_code >= 500:
        return [f"{send.__name__.upper()} {url} {data!r}: {_error(response)}"]
    return []


def fuzz_route(route: Route, browser: Client, found, get_strategy, post_strategy) -> list:
    """EXAMPLES random requests of each method to ``route``; the ones answered with a 5xx."""
    errors = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # A 5xx is collected, not raised: nothing to shrink.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def requests(data):
        url = address(data.draw, route, found)
        errors.extend(check(browser.get, url, data.draw(get_strategy)))
        if route.name not in SKIPPED_POST_NAMES:
            errors.extend(check(browser.post, url, data.draw(post_strategy)))

    requests()
    return errors


def _error(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"{response.status_code} {exc_info[0].__name__}: {exc_info[1]}"
    return str(response.status_code)
