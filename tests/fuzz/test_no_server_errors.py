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
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.factories import ContactFactory, UserFactory
from tests.workflows.helpers import decision_fields, walk_to
from workflows import services
from workflows.seeding import PROJECT_LEADERS, STEERING_GROUP

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
    method: str
    fields: dict[str, set[str]] = field(default_factory=dict)  # name -> values seen


@dataclass
class Discovered:
    forms: dict[str, list[Form]] = field(default_factory=dict)  # route -> forms posting to it
    path_values: dict[str, set[str]] = field(default_factory=dict)  # converter -> values seen
    parameters: dict[str, set[str]] = field(default_factory=dict)  # query key -> values seen


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, dict[str, set[str]]]] = []  # (action, method, fields)
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append((attrs.get("action") or "", (attrs.get("method") or "get"), {}))
        elif tag in ("input", "textarea", "select") and self.forms and attrs.get("name"):
            if attrs.get("type") == "file":
                return
            values = self.forms[-1][2].setdefault(attrs["name"], set())
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
    ``per_route`` addresses of one route are opened (the overview links to every municipality)."""
    found = Discovered()
    queue, seen, opened = list(start), set(), {}
    while queue:
        url = queue.pop(0)
        route = route_of(urllib.parse.urlsplit(url).path)
        if url in seen or route is None or opened.get(route, 0) >= per_route:
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
        for action, method, fields in parser.forms:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(url, action)).path or path
            target_route = route_of(target)
            if target_route is None:
                continue
            _note_address(found, target, "")
            found.forms.setdefault(target_route, []).append(Form(method.lower(), fields))
            if method.lower() == "get":
                for name, values in fields.items():
                    found.parameters.setdefault(name, set()).update(values)
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


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(PLAUSIBLE),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates().map(lambda d: d.isoformat()),
    )


def values_for(seen: set[str]) -> st.SearchStrategy[list[str]]:
    one = st.one_of(st.sampled_from(sorted(seen)), text_values()) if seen else text_values()
    return st.lists(one, min_size=1, max_size=2)


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


def fields_strategy(fields: dict[str, set[str]]) -> st.SearchStrategy[dict[str, list[str]]]:
    """Each field left out or given one or two values (seen or fuzzed)."""
    return st.fixed_dictionaries(
        {},
        optional={
            name: values_for(seen) for name, seen in fields.items() if name != "csrfmiddlewaretoken"
        },
    )


# --- The data and the people -------------------------------------------------------------------


@pytest.fixture
def world(seeded):
    """Processes at several steps (drafts, meetings, open task links, a decision), and the
    four personas' browsers."""
    from municipalities.models import Municipality

    leader = UserFactory(username="pia")
    leader.groups.add(Group.objects.get(name=PROJECT_LEADERS))
    steering = UserFactory(username="sven")
    steering.groups.add(Group.objects.get(name=STEERING_GROUP))
    admin = UserFactory(username="ada", is_staff=True, is_superuser=True)

    def process_at(code: str, step: str):
        municipality = Municipality.objects.get(code=code)
        contact = ContactFactory(municipality=municipality, email=f"k{code}@example.se")
        process = services.start_process(municipality=municipality, user=leader)
        return walk_to(process, leader, contact, step)

    process_at("0780", "decision")
    process_at("0764", "approval")
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

    errors = []
    for route in all_routes:
        get_fields = {key: found.parameters.get(key, set()) for key in sorted(query_keys)}
        post_fields: dict[str, set[str]] = {}
        for form in found.forms.get(route.template, []):
            target = get_fields if form.method == "get" else post_fields
            for name, values in form.fields.items():
                target.setdefault(name, set()).update(values)
        for persona, browser in world.items():
            errors += [
                (persona, error)
                for error in fuzz_route(
                    route, browser, found, get_fields, post_fields or get_fields
                )
            ]
    assert not errors, "\n".join(f"{persona}: {request}" for persona, request in errors)


def fuzz_route(route: Route, browser: Client, found, get_fields, post_fields) -> list:
    """EXAMPLES requests of each method to ``route``; the ones answered with a 5xx."""
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
        query = data.draw(fields_strategy(get_fields))
        response = browser.get(url, query)
        if response.status_code >= 500:
            errors.append(f"GET {url} {query!r}: {_error(response)}")
        if route.name not in SKIPPED_POST_NAMES:
            body = data.draw(fields_strategy(post_fields))
            response = browser.post(url, body)
            if response.status_code >= 500:
                errors.append(f"POST {url} {body!r}: {_error(response)}")

    requests()
    return errors


def _error(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"{response.status_code} {exc_info[0].__name__}: {exc_info[1]}"
    return str(response.status_code)
