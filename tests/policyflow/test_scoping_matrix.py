"""The walls between counties, proved for every URL: generated from the URL resolver, each
pattern × six personas × GET and POST, against objects of county A (Kronoberg).

Personas: anonymous, a project leader of A, a project leader of B (Kalmar), A's steering group,
A's reference group, a national reader. For each request the test asserts:
- the status the ROUTES table below expects for that persona (who may read: 200; who may act:
  a POST that is processed, 200/302/400/409; everybody else: 404 (another county's object does
  not exist for them), 403 (may read but not act), 405 or a redirect to sign in);
- no server error (5xx), whoever asks;
- no leak: a response to B's leader or to an anonymous visitor holds none of A's data, and one
  to the reference group or the national reader none of A's personal data (contact persons'
  names and emails, meeting notes): markers planted in A's records are searched for in the
  body, the text of PDF files and the members of ZIP archives.

Adding a URL: add its name to ROUTES with
- ``kwargs``: how to fill its URL parameters from the world (``lambda w: {"pk": w.process.pk}``:
  the objects of county A are built once per module in `World`), and
- ``expect``: one of the builders below (`public`, `county_list`, `county_page`,
  `county_action`, `staff_only`, …) or an `Expect` of your own, per persona and method.
A URL name missing from ROUTES, or a URL parameter the test cannot fill, fails
`test_every_url_is_in_the_table` and its own matrix case: a new page is scoped (and said to be)
before it merges. Django's admin is the one namespace covered by a rule (`staff_only`): every
admin view but its sign-in page requires a staff account, which none of the personas has.

Runtime: the world is built once per module (and per xdist worker) inside a transaction rolled
back at the end; each case runs in a savepoint of it, so a POST that acted changes nothing for
the next case.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

PERSONAS = ["anonymous", "leader_a", "leader_b", "steering_a", "reference_a", "national"]
METHODS = ["get", "post"]

# --- What a persona may get -------------------------------------------------------------------

OK = frozenset({200})
# A POST the view processed: done (redirect or page), or refused as bad input or as already done.
ACTED = frozenset({200, 302, 303, 400, 409})
DENIED = frozenset({403})
HIDDEN = frozenset({404})
NOT_READABLE = frozenset({403, 404})  # may not read the page: refused or not shown to exist
NOT_ALLOWED = frozenset({405})
REFUSED = frozenset({403, 404, 405})  # a POST to a read-only page, by anyone signed in
REDIRECT = frozenset({302, 303})
SAFE = frozenset(range(200, 500))  # anything but a server error (the leak check still applies)
DEAD_LINK = frozenset({200, 400, 404, 410})  # a task-link page without its token
LOGIN = "login"  # a redirect to the sign-in page
ADMIN_LOGIN = "admin_login"  # a redirect to the admin's sign-in page


@dataclass(frozen=True)
class Expect:
    get: dict[str, object]
    post: dict[str, object]


def _same(outcome) -> dict[str, object]:
    return dict.fromkeys(PERSONAS, outcome)


def public(*, get=OK, post=NOT_ALLOWED) -> Expect:
    """A page anyone may open, signed in or not."""
    return Expect(get=_same(get), post=_same(post))


def signed_in(*, get=OK, post=NOT_ALLOWED) -> Expect:
    """A page of one's own (home, sign-out): any signed-in user; anonymous visitors sign in."""
    return Expect(get={**_same(get), "anonymous": LOGIN}, post={**_same(post), "anonymous": LOGIN})


def county_list(*, post=REFUSED, leaders_only=False) -> Expect:
    """A list or report of the counties the user may read (B's leader sees B's, without A's
    data); ``leaders_only``: for project leaders (their inbox tools, the delivery log)."""
    readers = DENIED if leaders_only else OK
    return Expect(
        get={
            "anonymous": LOGIN,
            "leader_a": OK,
            "leader_b": OK,
            "steering_a": readers,
            "reference_a": readers if leaders_only else frozenset({200, 403}),
            "national": readers if leaders_only else frozenset({200, 403}),
        },
        post={**_same(post), "anonymous": LOGIN},
    )


def county_page(*, personal: bool = True, post=REFUSED) -> Expect:
    """A page of one object of county A: its readers read it; B's leader gets 404. A page
    naming contact persons (``personal``) is not for the reference group or national readers."""
    others = NOT_READABLE if personal else OK
    return Expect(
        get={
            "anonymous": LOGIN,
            "leader_a": OK,
            "leader_b": HIDDEN,
            "steering_a": OK,
            "reference_a": others,
            "national": others,
        },
        post={**_same(post), "anonymous": LOGIN, "leader_b": frozenset({404, 405})},
    )


POST_ONLY = "post_only"


def county_action(*, get=OK) -> Expect:
    """A change to an object of county A: only A's leaders act; A's readers are refused (403)
    or not shown it (404); B's leader gets 404. ``get``: what A's leader gets on GET (its form),
    or POST_ONLY: a POST-only URL answers 405 to every GET, before anything is looked up."""
    not_a_leader = NOT_READABLE
    if get == POST_ONLY:
        get_outcomes = _same(NOT_ALLOWED)
    else:
        get_outcomes = {
            "anonymous": LOGIN,
            "leader_a": get,
            "leader_b": HIDDEN,
            "steering_a": not_a_leader,
            "reference_a": not_a_leader,
            "national": not_a_leader,
        }
    return Expect(
        get=get_outcomes,
        post={
            "anonymous": LOGIN,
            "leader_a": ACTED,
            "leader_b": HIDDEN,
            "steering_a": not_a_leader,
            "reference_a": not_a_leader,
            "national": not_a_leader,
        },
    )


def leaders_tool(*, get=OK) -> Expect:
    """A project leader's own tool not tied to one object (start a process): any leader acts
    within their counties; the reading roles are refused."""
    return Expect(
        get=_same(NOT_ALLOWED)
        if get == POST_ONLY
        else {
            "anonymous": LOGIN,
            "leader_a": get,
            "leader_b": get,
            "steering_a": DENIED,
            "reference_a": DENIED,
            "national": DENIED,
        },
        post={
            "anonymous": LOGIN,
            "leader_a": ACTED,
            "leader_b": ACTED,
            "steering_a": DENIED,
            "reference_a": DENIED,
            "national": DENIED,
        },
    )


UNAUTHENTICATED = frozenset({401})


def api_list() -> Expect:
    """A list of the JSON API: every reader gets the rows of their counties (B's leader none of
    A's); an unsigned caller 401 (no redirect to sign in); a POST to the read-only API 405."""
    return Expect(
        get={**_same(OK), "anonymous": UNAUTHENTICATED},
        post={**_same(NOT_ALLOWED), "anonymous": UNAUTHENTICATED},
    )


def api_object() -> Expect:
    """One record of county A in the JSON API: its readers read it (its personal data only
    for those who may see it), B's leader gets 404; unsigned 401; a POST 405."""
    return Expect(
        get={**_same(OK), "anonymous": UNAUTHENTICATED, "leader_b": HIDDEN},
        post={**_same(NOT_ALLOWED), "anonymous": UNAUTHENTICATED},
    )


def administrators_only(*, get=DENIED, post=DENIED) -> Expect:
    """The administrator's pages outside the admin site (personal data of contact persons)."""
    return Expect(
        get=_same(NOT_ALLOWED) if get == POST_ONLY else {**_same(get), "anonymous": LOGIN},
        post={**_same(post), "anonymous": LOGIN},
    )


def staff_only() -> Expect:
    """Django's admin: every view but its sign-in page needs a staff account."""
    return Expect(get=_same(ADMIN_LOGIN), post=_same(ADMIN_LOGIN))


# --- County A's world ----------------------------------------------------------------------------

# Planted in A's records; none may reach B's leader or an anonymous visitor.
A_DATA = ["Läckberg", "LÄCKA-UTKAST", "LÄCKA-KS 2026/39", "LÄCKA-ÖVERLÄMNING"]
# A's personal data: not for the reference group or national readers either.
A_PERSONAL = ["Vera Läckström", "vera.lackstrom@vaxjo.example", "LÄCKA-MÖTE", "LÄCKA-NOT"]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class World:
    users: dict = field(default_factory=dict)
    # Kronoberg: one process at its first step (open, assigned), one waiting for the contact's
    # approval (meeting, draft, live task link), one decided (with its minutes file).
    at_contact: object = None
    at_approval: object = None
    decided: object = None
    task: object = None
    link: object = None
    meeting: object = None
    decision: object = None
    contact: object = None
    notification: object = None
    # The other aims: an activity, the collaboration organisation with a member, a meeting
    # (with its minutes file) and a milestone.
    activity: object = None
    enterprise: object = None
    organisation: object = None
    member: object = None
    network_meeting: object = None
    milestone: object = None
    export_job: object = None  # A's leader's CSV of the audit trail, made (with its file)
    # The open interfaces: A's leader's API token and calendar address (its secret), and an
    # audit event of A's meeting record (its participants and notes are personal data).
    api_token: object = None
    feed_secret: str = ""
    audit_event: object = None
    sessions: dict = field(default_factory=dict)  # persona -> session key


def build_world() -> World:
    from municipalities.models import Municipality
    from notifications.models import Notification
    from tests.factories import (
        ContactFactory,
        leader_of,
        national_reader,
        reference_of,
        steering_of,
    )
    from tests.workflows.helpers import current_task, decision_fields, walk_to
    from workflows import services
    from workflows.assignment import services as assignment
    from workflows.models import TaskLink
    from workflows.seeding import seed

    if not Municipality.objects.exists():
        seed(demo=False)
    w = World()
    leader_a = leader_of("07", username="anna", first_name="Anna", last_name="Läckberg")
    w.users = {
        "anonymous": None,
        "leader_a": leader_a,
        "leader_b": leader_of("08", username="bertil", first_name="Bertil", last_name="Kalmar"),
        "steering_a": steering_of("07", username="stina", first_name="Stina", last_name="Styr"),
        "reference_a": reference_of("07", username="rut", first_name="Rut", last_name="Ref"),
        "national": national_reader(username="nils", first_name="Nils", last_name="Nation"),
    }
    colleague = leader_of("07", username="aron", first_name="Aron", last_name="Ask")

    def municipality(code):
        return Municipality.objects.get(code=code)

    w.contact = ContactFactory(
        municipality=municipality("0781"),
        name="Vera Läckström",
        email="vera.lackstrom@vaxjo.example",
    )
    # At its first step, handed to a colleague and back (a note on the record).
    w.at_contact = services.start_process(municipality=municipality("0780"), user=leader_a)
    w.task = current_task(w.at_contact)
    assignment.hand_over_step(task=w.task, to_user=colleague, by=leader_a, note="LÄCKA-ÖVERLÄMNING")
    assignment.hand_over_step(task=w.task, to_user=leader_a, by=colleague)
    w.task.refresh_from_db()

    w.at_approval = services.start_process(municipality=municipality("0781"), user=leader_a)
    walk_to(w.at_approval, leader_a, w.contact, "dialogue")
    w.meeting = services.record_meeting(
        process=w.at_approval,
        user=leader_a,
        held_on=datetime.date(2026, 2, 1),
        participants="LÄCKA-MÖTE",
        notes="LÄCKA-NOT",
    )
    services.complete_dialogue(task=current_task(w.at_approval), user=leader_a)
    services.write_draft(
        task=current_task(w.at_approval),
        user=leader_a,
        competition_section="LÄCKA-UTKAST konkurrens",
        customer_section="LÄCKA-UTKAST kund",
    )
    walk_to(w.at_approval, leader_a, w.contact, "approval")
    w.link = TaskLink.objects.filter(process=w.at_approval).latest("pk")

    w.decided = services.start_process(municipality=municipality("0764"), user=leader_a)
    alvesta_contact = ContactFactory(municipality=municipality("0764"))
    task = walk_to(w.decided, leader_a, alvesta_contact, "decision")
    fields = decision_fields("adopted")
    fields["case_number"] = "LÄCKA-KS 2026/39"
    fields["minutes_file"] = SimpleUploadedFile("prot.pdf", PDF, content_type="application/pdf")
    w.decision = services.record_decision(task=task, user=leader_a, **fields)

    w.notification = Notification.objects.filter(topic=f"process:{w.at_approval.pk}").latest("pk")

    w.export_job = _made_export(leader_a)

    # County B has a process of its own: B's pages are not empty.
    services.start_process(municipality=municipality("0880"), user=w.users["leader_b"])
    build_other_aims(w, municipality("0780"))
    build_interfaces(w)
    # Each persona signs in once: every case sends the session's cookie.
    for persona, user in w.users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            w.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return w


def build_other_aims(w: World, vaxjo) -> None:
    """Knowledge spreading and the collaboration organisation in county A."""
    from municipalities.models import County
    from network import services as network
    from outreach import services as outreach
    from outreach.services import Reached
    from tests.factories import EnterpriseFactory

    leader_a, kronoberg = w.users["leader_a"], County.objects.get(code="07")
    # Its business contact is A's contact person (personal data: not for the reading roles).
    enterprise = w.enterprise = EnterpriseFactory(
        municipalities=[vaxjo],
        contact_name="Vera Läckström",
        contact_email="vera.lackstrom@vaxjo.example",
    )
    w.activity = outreach.record_activity(
        user=leader_a,
        county=kronoberg,
        kind="seminar",
        title="Seminarium",
        held_on=datetime.date(2026, 3, 1),
        organiser="Region Kronoberg",
        municipalities=[vaxjo],
        audience={"municipality": Reached(10, 6, 4)},
    )
    organisation = network.form_organisation(user=leader_a, county=kronoberg, name="Samverkan")
    w.organisation = organisation
    w.member = network.add_member(
        user=leader_a,
        organisation=organisation,
        enterprise=enterprise,
        joined_on=datetime.date(2026, 1, 1),
    )
    w.network_meeting = network.record_meeting(
        user=leader_a,
        organisation=organisation,
        held_on=datetime.date(2026, 2, 1),
        agenda="Stadgar",
        attendees=[enterprise],
        minutes_file=SimpleUploadedFile("prot.pdf", PDF, content_type="application/pdf"),
    )
    w.milestone = network.record_milestone(
        user=leader_a,
        organisation=organisation,
        kind="statutes_adopted",
        reached_on=datetime.date(2026, 2, 1),
    )


def build_interfaces(w: World) -> None:
    """A's leader's API token and calendar address; the audit event of A's meeting record."""
    from audit.models import AuditEvent
    from interfaces import services as interfaces

    leader_a = w.users["leader_a"]
    w.api_token, _key = interfaces.create_api_token(user=leader_a, name="Matrix", actor=leader_a)
    w.feed_secret = interfaces.feed_token(interfaces.issue_calendar_feed(user=leader_a))
    w.audit_event = AuditEvent.objects.filter(
        county_code="07", model_label__iendswith="meeting", object_id=str(w.meeting.pk)
    ).earliest("pk")


def _made_export(user):
    """A's leader's export of A's trail, as a worker leaves it (the file names A's leader)."""
    from django.core.files.base import ContentFile

    from exports import services as export_services
    from exports.models import Status

    job = export_services.request_export(user=user, kind="audit_csv", params={})
    job.file.save(f"matrix-{job.pk}.csv", ContentFile("actor\nAnna Läckberg\n"), save=False)
    job.status, job.file_name, job.content_type = Status.DONE, "a.csv", "text/csv"
    job.save()
    return job


# The export request page: GET shows the button to anyone signed in (nothing of A's on it);
# POST makes a job of the reader's own counties (B's leader: B's), refused to whoever may not
# read a trail.
EXPORT_REQUEST = Expect(
    get={**_same(OK), "anonymous": LOGIN},
    post={
        "anonymous": LOGIN,
        "leader_a": ACTED,
        "leader_b": ACTED,
        "steering_a": ACTED,
        "reference_a": DENIED,
        "national": DENIED,
    },
)


# The whole trail's old addresses lead a reader of the trail to the export's request page.
TRAIL_EXPORT = Expect(
    get={
        "anonymous": LOGIN,
        "leader_a": REDIRECT,
        "leader_b": REDIRECT,
        "steering_a": REDIRECT,
        "reference_a": frozenset({302, 403}),
        "national": frozenset({302, 403}),
    },
    post={**_same(REFUSED), "anonymous": LOGIN},
)


# --- The table: every URL name, how to fill it, what each persona gets --------------------------

Kwargs = Callable[[World], dict]
NONE: Kwargs = lambda w: {}  # noqa: E731


@dataclass(frozen=True)
class Route:
    expect: Expect
    kwargs: Kwargs = NONE
    # Who is asked, when not everyone: a PDF report renders for ~10 s on this machine, so it is
    # asked by those it must refuse or must not leak to; its HTML page, built from the same
    # selectors, is asked by every persona.
    personas: tuple[str, ...] = tuple(PERSONAS)
    # An address for a pattern without a name (which `reverse` cannot build).
    path: str = ""
    # A page of the public record: A's data on it is public; its personal data is for nobody.
    public_record: bool = False
    # A secret address (a calendar feed): whoever holds it reads what its owner (A's leader)
    # reads, so only A's personal data is checked for the reading roles.
    shows_holder: bool = False


ROUTES: dict[str, Route] = {
    # Signing in and out, language, statement: for everyone.
    "home": Route(signed_in(get=REDIRECT)),
    "login": Route(public(post=frozenset({200, 302, 403}))),
    "logout": Route(Expect(get=_same(NOT_ALLOWED), post=_same(REDIRECT))),
    "set_language": Route(public(get=frozenset({302, 405}), post=REDIRECT)),
    "accessibility": Route(public()),
    # The municipal contact's task-link pages: the token (not a sign-in) opens them; without one
    # they show the dead-link page to anyone.
    "workflows:link_open": Route(public(get=DEAD_LINK, post=SAFE)),
    "workflows:link_answer": Route(public(get=DEAD_LINK, post=SAFE)),
    "workflows:link_receipt": Route(public(get=DEAD_LINK, post=SAFE)),
    # Lists and reports of the counties one may read.
    "workflows:overview": Route(county_list()),
    "workflows:overview_report": Route(county_list(), personas=("anonymous", "leader_b")),
    "workflows:overview_chart": Route(county_list(), lambda w: {"chart": "progress"}),
    "workflows:overview_municipality": Route(
        county_page(personal=False), lambda w: {"code": "0780"}
    ),
    "workflows:overview_municipality_report": Route(
        county_page(personal=False),
        lambda w: {"code": "0780"},
        personas=("anonymous", "leader_b"),
    ),
    "workflows:inbox": Route(county_list()),
    "workflows:processes": Route(county_list()),
    "audit:timeline": Route(county_list()),
    "exports:request": Route(EXPORT_REQUEST, lambda w: {"kind": "audit_csv"}),
    "exports:job": Route(county_page(), lambda w: {"pk": w.export_job.pk}),
    "exports:download": Route(county_page(), lambda w: {"pk": w.export_job.pk}),
    # The whole trail's old addresses: to the export's request page, for its readers.
    "audit:export_csv": Route(TRAIL_EXPORT),
    "audit:archive": Route(TRAIL_EXPORT),
    "notifications:log": Route(county_list(leaders_only=True)),
    # One object of county A.
    "workflows:process": Route(county_page(), lambda w: {"pk": w.at_approval.pk}),
    "workflows:chart": Route(county_page(), lambda w: {"pk": w.at_approval.pk}),
    "workflows:draft": Route(county_page(), lambda w: {"pk": w.at_approval.pk, "version": 1}),
    "workflows:minutes_file": Route(
        county_page(), lambda w: {"pk": w.decided.pk, "decision_pk": w.decision.pk}
    ),
    "audit:process": Route(county_page(), lambda w: {"pk": w.at_approval.pk}),
    "audit:process_csv": Route(county_page(), lambda w: {"pk": w.at_approval.pk}),
    "audit:municipality": Route(county_page(), lambda w: {"pk": w.at_approval.municipality_id}),
    "audit:municipality_csv": Route(county_page(), lambda w: {"pk": w.at_approval.municipality_id}),
    # Changes to county A's objects: A's leaders only.
    "workflows:step": Route(county_action(), lambda w: {"task_pk": w.task.pk}),
    "workflows:claim": Route(county_action(get=POST_ONLY), lambda w: {"task_pk": w.task.pk}),
    "workflows:hand_over_step": Route(county_action(), lambda w: {"task_pk": w.task.pk}),
    "workflows:hand_over_process": Route(county_action(), lambda w: {"pk": w.at_contact.pk}),
    "workflows:person_work": Route(county_action(), lambda w: {"user_pk": w.users["leader_a"].pk}),
    "workflows:add_meeting": Route(county_action(get=POST_ONLY), lambda w: {"pk": w.at_contact.pk}),
    "workflows:issue_link": Route(county_action(get=POST_ONLY), lambda w: {"pk": w.at_approval.pk}),
    "workflows:revoke_link": Route(
        county_action(get=POST_ONLY),
        lambda w: {"pk": w.at_approval.pk, "link_pk": w.link.pk},
    ),
    "workflows:record_answer": Route(
        county_action(get=POST_ONLY), lambda w: {"pk": w.at_approval.pk}
    ),
    "workflows:record_legal_force": Route(
        county_action(get=POST_ONLY), lambda w: {"pk": w.decided.pk, "decision_pk": w.decision.pk}
    ),
    "workflows:record_appeal": Route(
        county_action(get=POST_ONLY), lambda w: {"pk": w.decided.pk, "decision_pk": w.decision.pk}
    ),
    "workflows:correct_decision": Route(
        county_action(), lambda w: {"pk": w.decided.pk, "decision_pk": w.decision.pk}
    ),
    "workflows:void_record": Route(
        county_action(),
        lambda w: {"pk": w.at_approval.pk, "kind": "meeting", "record_pk": w.meeting.pk},
    ),
    "notifications:retry": Route(county_action(get=POST_ONLY), lambda w: {"pk": w.notification.pk}),
    # A project leader's tools, within their own counties.
    "workflows:start": Route(leaders_tool()),
    "workflows:start_county": Route(leaders_tool(get=POST_ONLY)),
    # The administrator's pages on contact persons' personal data.
    "audit:people": Route(administrators_only(post=frozenset({403, 405}))),
    "audit:person": Route(
        administrators_only(post=frozenset({403, 405})), lambda w: {"pk": w.contact.pk}
    ),
    "audit:person_export": Route(
        administrators_only(get=POST_ONLY), lambda w: {"pk": w.contact.pk}
    ),
    "audit:person_pseudonymise": Route(
        administrators_only(get=POST_ONLY), lambda w: {"pk": w.contact.pk}
    ),
    # Knowledge spreading (outreach), the collaboration organisation (network), the follow-up.
    "outreach:activities": Route(county_list()),
    "outreach:activity": Route(county_page(personal=False), lambda w: {"pk": w.activity.pk}),
    "outreach:activity_create": Route(leaders_tool()),
    "outreach:activity_edit": Route(county_action(), lambda w: {"pk": w.activity.pk}),
    "network:organisation": Route(county_list()),
    "network:form_organisation": Route(county_action(get=POST_ONLY), lambda w: {"code": "07"}),
    "network:add_member": Route(county_action(), lambda w: {"code": "07"}),
    "network:add_meeting": Route(county_action(), lambda w: {"code": "07"}),
    "network:add_milestone": Route(county_action(), lambda w: {"code": "07"}),
    "network:end_membership": Route(county_action(get=POST_ONLY), lambda w: {"pk": w.member.pk}),
    "network:meeting": Route(county_page(personal=False), lambda w: {"pk": w.network_meeting.pk}),
    "network:edit_meeting": Route(county_action(), lambda w: {"pk": w.network_meeting.pk}),
    "network:minutes_file": Route(
        county_page(personal=False), lambda w: {"pk": w.network_meeting.pk}
    ),
    "network:edit_milestone": Route(county_action(), lambda w: {"pk": w.milestone.pk}),
    "followup:page": Route(county_list()),
    # The JSON API of the other aims (token or session; unsigned: 401).
    "api:enterprise-list": Route(api_list()),
    "api:enterprise-detail": Route(api_object(), lambda w: {"pk": w.enterprise.pk}),
    "api:activity-list": Route(api_list()),
    "api:activity-detail": Route(api_object(), lambda w: {"pk": w.activity.pk}),
    "api:network-organisation-list": Route(api_list()),
    "api:network-organisation-detail": Route(api_object(), lambda w: {"pk": w.organisation.pk}),
    "api:network-member-list": Route(api_list()),
    "api:network-member-detail": Route(api_object(), lambda w: {"pk": w.member.pk}),
    "api:network-meeting-list": Route(api_list()),
    "api:network-meeting-detail": Route(api_object(), lambda w: {"pk": w.network_meeting.pk}),
    "api:network-milestone-list": Route(api_list()),
    "api:network-milestone-detail": Route(api_object(), lambda w: {"pk": w.milestone.pk}),
    "api:county-list": Route(api_list()),
    "api:county-detail": Route(api_object(), lambda w: {"code": "07"}),
    "api:municipality-list": Route(api_list()),
    "api:municipality-detail": Route(api_object(), lambda w: {"code": "0780"}),
    "api:process-list": Route(api_list()),
    "api:process-detail": Route(api_object(), lambda w: {"pk": w.at_approval.pk}),
    "api:decision-list": Route(api_list()),
    "api:decision-detail": Route(api_object(), lambda w: {"pk": w.decision.pk}),
    "api:audit-event-list": Route(api_list()),
    "api:audit-event-detail": Route(api_object(), lambda w: {"pk": w.audit_event.pk}),
    # The API's OpenAPI description and its rendered docs: public (they hold no data).
    "api:schema": Route(public()),
    "api:docs": Route(public()),
    # The integrations page: one's own API tokens and calendar address (any reader); the
    # calendar feed itself opens by the secret in its address (no cookie): whoever holds A's
    # leader's address reads her calendar, as she does (a read: POST 405).
    "interfaces:integrations": Route(signed_in()),
    "interfaces:create_token": Route(signed_in(get=NOT_ALLOWED, post=ACTED)),
    "interfaces:revoke_token": Route(
        Expect(
            get={**_same(NOT_ALLOWED), "anonymous": LOGIN},
            post={**_same(HIDDEN), "anonymous": LOGIN, "leader_a": ACTED},
        ),
        lambda w: {"pk": w.api_token.pk},
    ),
    "interfaces:issue_feed": Route(signed_in(get=NOT_ALLOWED, post=ACTED)),
    "interfaces:revoke_feed": Route(signed_in(get=NOT_ALLOWED, post=ACTED)),
    "interfaces:feed": Route(public(), lambda w: {"token": w.feed_secret}, shows_holder=True),
    # One's own email preference.
    "notifications:preferences": Route(signed_in(post=ACTED)),
    # The ASF register: read by every role of the county (the business contact only for those
    # who may see personal data); changed by its leaders.
    "enterprises:list": Route(county_list()),
    "enterprises:export": Route(county_list()),
    "enterprises:detail": Route(county_page(personal=False), lambda w: {"pk": w.enterprise.pk}),
    "enterprises:edit": Route(county_action(), lambda w: {"pk": w.enterprise.pk}),
    "enterprises:create": Route(leaders_tool()),
    "enterprises:import": Route(leaders_tool()),
    # POST only (the previewed file): a leader's GET is 405, after the role check.
    "enterprises:import_confirm": Route(
        Expect(
            get={
                **_same(DENIED),
                "anonymous": LOGIN,
                "leader_a": NOT_ALLOWED,
                "leader_b": NOT_ALLOWED,
            },
            post=leaders_tool().post,
        )
    ),
    # The public progress page: for everyone, no sign-in; what it shows of A is the public
    # record (adopted decisions, their case numbers and policy text), never personal data.
    "public:counties": Route(public(), public_record=True),
    "public:county": Route(public(), lambda w: {"county": "kronoberg"}, public_record=True),
    "public:municipality": Route(
        public(), lambda w: {"county": "kronoberg", "municipality": "alvesta"}, public_record=True
    ),
    "public:policy_pdf": Route(
        public(),
        lambda w: {"county": "kronoberg", "municipality": "alvesta"},
        personas=("anonymous", "leader_b", "reference_a"),
        public_record=True,
    ),
    "followup:pdf": Route(county_list(), personas=("anonymous", "leader_b")),
    "followup:csv": Route(county_list()),
    # The quick start's mailbox: only with DEBUG and emails written as files (not in tests).
    "notifications:email_files": Route(
        Expect(get=_same(HIDDEN), post=_same(frozenset({302, 403, 404, 405})))
    ),
}

# Django's admin: every URL of the namespace (its sign-in page excepted) needs a staff account;
# its URL parameters are any value (the admin checks staff before it looks anything up).
ADMIN_NAMESPACE = "admin"
ADMIN_ROUTES = {
    "admin:login": Route(public(post=frozenset({200, 302, 403}))),
    "admin:logout": Route(Expect(get=_same(REDIRECT), post=_same(REDIRECT))),
    # Its catch-all, after every model's URLs: an unknown admin address.
    "admin:<unnamed>": Route(staff_only(), path="/admin/no-such-page/"),
}
ADMIN_KWARGS = {
    "object_id": "1",
    "app_label": "workflows",
    "content_type_id": 1,
    "id": "1",
    "url": "x",
}


# --- The URLs, from the resolver -----------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str
    kwargs: tuple[str, ...]
    positional: int = 0  # unnamed groups (a regex pattern such as simple-history's admin URLs)


def resolver_patterns(resolver=None, namespace: str = "") -> list[Pattern]:
    resolver = resolver or get_resolver()
    found = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found.extend(resolver_patterns(pattern, inner))
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed>"
            regex = pattern.pattern.regex
            named = tuple(regex.groupindex)
            found.append(Pattern(name, named, regex.groups - len(named)))
    return found


PATTERNS = sorted({p.name: p for p in resolver_patterns()}.values(), key=lambda p: p.name)


def route_for(name: str) -> Route | None:
    if name in ROUTES:
        return ROUTES[name]
    if name in ADMIN_ROUTES:
        return ADMIN_ROUTES[name]
    if name.startswith(f"{ADMIN_NAMESPACE}:") and not name.endswith("<unnamed>"):
        return Route(staff_only(), lambda w: {})
    return None


def url_of(pattern: Pattern, route: Route, world: World) -> str:
    if route.path:
        return route.path
    if pattern.name.startswith(f"{ADMIN_NAMESPACE}:") and pattern.name not in ROUTES:
        unknown = [k for k in pattern.kwargs if k not in ADMIN_KWARGS]
        assert not unknown, f"{pattern.name}: no value for the admin URL parameters {unknown}"
        kwargs = {k: ADMIN_KWARGS[k] for k in pattern.kwargs}
        if pattern.positional and not kwargs:
            return reverse(pattern.name, args=["1"] * pattern.positional)
    else:
        kwargs = route.kwargs(world)
        missing = set(pattern.kwargs) - set(kwargs)
        assert not missing, f"{pattern.name}: ROUTES does not fill {sorted(missing)}"
    return reverse(pattern.name, kwargs=kwargs)


# --- Reading a response ------------------------------------------------------------------------


def body_text(response) -> str:
    """Everything a response shows: its body, the text of a PDF, the members of a ZIP."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    kind = response.get("Content-Type", "")
    if content.startswith(b"%PDF"):
        from pypdf import PdfReader

        try:
            reader = PdfReader(io.BytesIO(content))
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        except Exception:  # a stored minutes file is not ours to parse: its bytes only
            return content.decode("latin-1")
    if "zip" in kind or content.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(io.BytesIO(content)):
            raise AssertionError(f"{response.status_code} {kind}, not a ZIP: {content[:200]!r}")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "\n".join(
                archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )
    return content.decode("utf-8", "replace")


def forbidden_markers(persona: str, route: Route | None = None) -> list[str]:
    if route is not None and route.public_record:
        return A_PERSONAL
    if route is not None and route.shows_holder:
        return []
    if persona in ("anonymous", "leader_b"):
        return A_DATA + A_PERSONAL
    if persona in ("reference_a", "national"):
        return A_PERSONAL
    return []


def matches(outcome, response) -> bool:
    location = response.get("Location", "")
    if outcome == LOGIN:
        return response.status_code == 302 and location.startswith(reverse("login"))
    if outcome == ADMIN_LOGIN:
        return response.status_code == 302 and location.startswith(reverse("admin:login"))
    return response.status_code in outcome


def describe(outcome) -> str:
    if isinstance(outcome, str):
        return outcome
    return "/".join(str(s) for s in sorted(outcome)) if len(outcome) < 10 else "not 5xx"


# --- The matrix ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """County A's objects, built once for the module in a transaction rolled back at its end;
    each case runs in a savepoint of it (pytest-django's `db`)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with translation.override("en"):
                yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_every_url_is_in_the_table():
    """A URL nobody classified fails here (and in its own matrix case below)."""
    unknown = [p.name for p in PATTERNS if route_for(p.name) is None]
    assert not unknown, (
        f"URLs without a row in ROUTES (say who may read and act, see this module's "
        f"docstring): {unknown}"
    )
    stale = sorted(set(ROUTES) - {p.name for p in PATTERNS})
    assert not stale, f"ROUTES names URLs that no longer exist: {stale}"


def ask(world: World, url: str, route: Route, persona: str) -> list[str]:
    """GET and POST ``url`` as ``persona``; what went wrong (empty: as the table says). Run in
    a savepoint rolled back after: a POST that acted changes nothing for the next persona."""
    wrong = []
    client = Client(raise_request_exception=False)
    if persona in world.sessions:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    with transaction.atomic():
        for method in METHODS:
            response = getattr(client, method)(url)
            asked = f"{method.upper()} {url} as {persona}"
            outcome = getattr(route.expect, method)[persona]
            if response.status_code >= 500:
                wrong.append(f"{asked}: server error {response.status_code}")
                continue
            if not matches(outcome, response):
                wrong.append(
                    f"{asked}: {response.status_code} {response.get('Location', '')}, "
                    f"expected {describe(outcome)}"
                )
            shown = body_text(response)
            leaked = [m for m in forbidden_markers(persona, route) if m in shown]
            if leaked:
                at = shown.index(leaked[0])
                context = " ".join(shown[max(0, at - 150) : at + 50].split())
                wrong.append(f"{asked} shows A's {leaked}: …{context}…")
        transaction.set_rollback(True)
    return wrong


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_scoping(world, db, english, pattern):
    """Every persona, GET and POST, on one URL pattern."""
    route = route_for(pattern.name)
    assert route is not None, f"{pattern.name} is not in ROUTES: add it (see the docstring)"
    url = url_of(pattern, route, world)
    wrong = [problem for persona in route.personas for problem in ask(world, url, route, persona)]
    assert not wrong, "\n".join(wrong)


def test_the_world_plants_every_marker_where_a_leader_of_a_sees_it(world, db, english):
    """The leak check is only as good as its markers: A's leader finds each on A's pages."""
    client = Client()
    client.force_login(world.users["leader_a"])
    seen = " ".join(
        body_text(client.get(url))
        for url in [
            reverse("workflows:process", args=[world.at_approval.pk]),
            reverse("workflows:process", args=[world.at_contact.pk]),
            reverse("workflows:process", args=[world.decided.pk]),
            reverse("workflows:draft", args=[world.at_approval.pk, 1]),
            reverse("notifications:log"),
        ]
    )
    seen = re.sub(r"\s+", " ", seen)
    missing = [m for m in A_DATA + A_PERSONAL if m not in seen]
    assert not missing, f"markers never shown to A's leader: {missing}"
