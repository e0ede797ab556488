"""Who may see and do what: the steering group reads, only project leaders change anything.

Every URL of `workflows.urls` is classified below; a URL added without a classification fails
`test_every_workflow_url_is_classified`, so no new mutating page escapes these checks.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from municipalities.models import County, CountyProject, Municipality
from municipalities.services import end_membership
from tests.factories import ContactFactory, UserFactory, leader_of
from workflows import services, urls

from .helpers import (  # noqa: F401 (english: a fixture)
    current_task,
    decision_fields,
    english,
    snapshot,
    valid_step_data,
    walk_to,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

READ, LEAD, PUBLIC = "read", "lead", "public"


@dataclass
class World:
    """Växjö's process waiting for approval (draft v1 sent, a task link issued)."""

    process: object
    contact: object
    kronoberg: object
    ljungby: object
    decision: object  # Uppvidinge's, adopted 60 days ago, with a minutes file; appeal period over

    @property
    def link(self):
        return self.process.task_links.order_by("pk").first()


@dataclass(frozen=True)
class Url:
    access: str  # READ: steering group and leaders; LEAD: leaders only; PUBLIC: task link
    kwargs: Callable[[World], dict] = lambda w: {}
    data: Callable[[World], dict] = lambda w: {}
    post_only: bool = False


URLS = {
    "overview": Url(READ),
    "overview_report": Url(READ),
    "overview_chart": Url(READ, kwargs=lambda w: {"chart": "progress"}),
    "overview_municipality": Url(READ, kwargs=lambda w: {"code": "0780"}),
    "overview_municipality_report": Url(READ, kwargs=lambda w: {"code": "0780"}),
    "inbox": Url(READ),
    "processes": Url(READ),
    "process": Url(READ, kwargs=lambda w: {"pk": w.process.pk}),
    "chart": Url(READ, kwargs=lambda w: {"pk": w.process.pk}),
    "draft": Url(READ, kwargs=lambda w: {"pk": w.process.pk, "version": 1}),
    # Step pages are checked step by step in the tests below; here the open approval task.
    "step": Url(
        LEAD,
        kwargs=lambda w: {"task_pk": current_task(w.process).pk},
    ),
    "start": Url(LEAD, data=lambda w: {"municipality": w.ljungby.pk}),
    "start_county": Url(LEAD, data=lambda w: {"county": w.kronoberg.pk}, post_only=True),
    "add_meeting": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.process.pk},
        data=lambda w: {"held_on": "2026-03-01", "participants": "Vera, Pia"},
        post_only=True,
    ),
    "issue_link": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.process.pk},
        data=lambda w: {"contact": w.contact.pk},
        post_only=True,
    ),
    "revoke_link": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.process.pk, "link_pk": w.link.pk},
        data=lambda w: {"reason": "Fel mottagare"},
        post_only=True,
    ),
    "record_answer": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.process.pk},
        data=lambda w: {"contact": w.contact.pk, "answer": "approved"},
        post_only=True,
    ),
    "void_record": Url(
        LEAD,
        kwargs=lambda w: {
            "pk": w.process.pk,
            # A meeting: the world's draft is out for approval, which may not be voided.
            "kind": "meeting",
            "record_pk": w.process.meetings.get().pk,
        },
        data=lambda w: {"reason": "Fel datum"},
    ),
    "minutes_file": Url(
        READ, kwargs=lambda w: {"pk": w.decision.process_id, "decision_pk": w.decision.pk}
    ),
    "record_appeal": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.decision.process_id, "decision_pk": w.decision.pk},
        data=lambda w: {"case_number": "Mål 1-26", "lodged_on": w.decision.announcement_date},
        post_only=True,
    ),
    "record_legal_force": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.decision.process_id, "decision_pk": w.decision.pk},
        data=lambda w: {"legal_force_date": w.decision.legal_force_suggestion},
        post_only=True,
    ),
    "correct_decision": Url(
        LEAD,
        kwargs=lambda w: {"pk": w.decision.process_id, "decision_pk": w.decision.pk},
        data=lambda w: (
            {"reason": "Fel paragraf"}
            | decision_fields(meeting=w.decision.meeting_date)
            | {"paragraph": "58"}
        ),
    ),
    # Handing work over (workflows.assignment): to Bo, a second leader of the county.
    "claim": Url(LEAD, kwargs=lambda w: {"task_pk": _unassigned_step(w).pk}, post_only=True),
    "hand_over_step": Url(
        LEAD,
        kwargs=lambda w: {"task_pk": _leaders_step(w).pk},
        data=lambda w: {"to_user": _bo().pk, "note": "Jag är ledig"},
    ),
    "hand_over_process": Url(
        LEAD, kwargs=lambda w: {"pk": w.process.pk}, data=lambda w: {"to_user": _bo().pk}
    ),
    "person_work": Url(
        LEAD,
        kwargs=lambda w: {"user_pk": w.process.lead_id},
        data=lambda w: {"processes": [w.process.pk], "to_user": _bo().pk},
    ),
    # The municipal contact's task link: the link is the credential, there is no login.
    "link_open": Url(PUBLIC, kwargs=lambda w: {"token": "not-a-real-token"}),
    "link_answer": Url(PUBLIC),
    "link_receipt": Url(PUBLIC),
}

LEAD_URLS = [name for name, url in URLS.items() if url.access == LEAD and name != "step"]
READ_URLS = [name for name, url in URLS.items() if url.access == READ]
LOGIN_URLS = [name for name, url in URLS.items() if url.access != PUBLIC]
STEPS = ["contact", "dialogue", "draft", "request_approval", "decision"]


@pytest.fixture
def world(leader, vaxjo, vaxjo_contact, settings, tmp_path):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")
    _bo()  # the colleague work is handed to
    return World(
        process=process,
        contact=vaxjo_contact,
        kronoberg=County.objects.get(code="07"),
        ljungby=Municipality.objects.get(code="0781"),
        decision=_decided_long_ago(leader, settings, tmp_path),
    )


def _decided_long_ago(leader, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    uppvidinge = Municipality.objects.get(code="0760")
    contact = ContactFactory(municipality=uppvidinge, name="Ulla Uppvidinge")
    with time_machine.travel(timezone.now() - datetime.timedelta(days=60), tick=False):
        process = services.start_process(municipality=uppvidinge, user=leader)
        task = walk_to(process, leader, contact, "decision")
        minutes = SimpleUploadedFile("p.pdf", b"%PDF-1.4\n%%EOF\n")
        return services.record_decision(
            task=task, user=leader, minutes_file=minutes, **decision_fields()
        )


@pytest.fixture
def steering_client(client, steering):
    client.force_login(steering)
    return client


def _bo():
    return leader_of("07", username="bo", first_name="Bo", last_name="Berg")


def _leaders_step(w):
    """Markaryd's first step, assigned to the world's leader."""
    markaryd = Municipality.objects.get(code="0767")
    process = services.start_process(municipality=markaryd, user=w.process.lead)
    return current_task(process)


def _unassigned_step(w):
    """Markaryd's dialogue step, nobody's: the leader who started the process left."""
    bo = _bo()
    markaryd = Municipality.objects.get(code="0767")
    process = services.start_process(municipality=markaryd, user=bo)
    end_membership(user=bo, project=CountyProject.objects.get(county__code="07"))
    return walk_to(process, w.process.lead, ContactFactory(municipality=markaryd), "dialogue")


@pytest.fixture
def roleless_client(client, seeded):
    client.force_login(UserFactory(username="nora"))
    return client


def url_of(name: str, world: World) -> str:
    return reverse(f"workflows:{name}", kwargs=URLS[name].kwargs(world))


def step_at(step: str, leader) -> tuple:
    """A process in Alvesta with ``step`` open, and the data that would complete it."""
    alvesta = Municipality.objects.get(code="0764")
    contact = ContactFactory(municipality=alvesta, name="Alva Alvesta")
    process = services.start_process(municipality=alvesta, user=leader)
    task = walk_to(process, leader, contact, step)
    return reverse("workflows:step", args=[task.pk]), valid_step_data(step, contact)


def test_every_workflow_url_is_classified():
    names = {pattern.name for pattern in urls.urlpatterns}

    assert names == set(URLS), (
        "Classify new workflow URLs in URLS (read, lead or public) so their permissions are "
        f"tested: unclassified {sorted(names - set(URLS))}, gone {sorted(set(URLS) - names)}"
    )


# --- Steering group: reads everything, changes nothing ----------------------------------------


@pytest.mark.parametrize("name", READ_URLS)
def test_steering_group_can_read(steering_client, world, name):
    response = steering_client.get(url_of(name, world))

    assert response.status_code == 200


@pytest.mark.parametrize("name", LEAD_URLS)
def test_steering_group_gets_403_on_every_mutating_url_and_nothing_changes(
    steering_client, world, name
):
    url, data = url_of(name, world), URLS[name].data(world)
    before = snapshot()

    get = steering_client.get(url)
    post = steering_client.post(url, data)

    # A POST-only URL answers any GET with 405, before looking at who asks.
    assert get.status_code == (405 if URLS[name].post_only else 403)
    assert post.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("step", STEPS)
def test_steering_group_can_neither_open_nor_complete_a_step(steering_client, leader, step):
    url, data = step_at(step, leader)
    before = snapshot()

    assert steering_client.get(url).status_code == 403
    assert steering_client.post(url, data).status_code == 403
    assert snapshot() == before


def test_steering_group_is_offered_no_step_or_form_on_the_process_page(
    steering_client, leader, world
):
    other = services.start_process(municipality=world.ljungby, user=leader)

    pages = [
        steering_client.get(reverse("workflows:process", args=[p.pk])).content.decode()
        for p in (world.process, other)
    ]
    inbox = steering_client.get(reverse("workflows:inbox")).content.decode()

    contact_step = reverse("workflows:step", args=[current_task(other).pk])
    assert contact_step not in pages[1] and contact_step not in inbox
    own_forms = {reverse("logout"), reverse("set_language")}
    for page in pages + [inbox]:
        assert set(re.findall(r'<form[^>]*action="([^"]*)"', page)) <= own_forms


# --- Project leaders: the same requests do change things (so the 403s above mean something) ---


@pytest.mark.parametrize("name", LEAD_URLS)
def test_the_same_request_by_a_project_leader_changes_something(leader_client, world, name):
    before = snapshot()

    response = leader_client.post(url_of(name, world), URLS[name].data(world))

    assert response.status_code in (200, 302), response.content.decode()[:1000]
    assert snapshot() != before


# --- Anonymous visitors and users without a role ----------------------------------------------


@pytest.mark.parametrize("name", LOGIN_URLS)
def test_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, world, name):
    url = url_of(name, world)
    before = snapshot()

    response = client.post(url, URLS[name].data(world)) if URLS[name].post_only else client.get(url)
    posted = client.post(url, URLS[name].data(world))

    login = f"{reverse('login')}?next={url}"
    assert response.status_code == 302 and response.url == login
    assert posted.status_code == 302 and posted.url == login
    assert snapshot() == before


@pytest.mark.parametrize("step", STEPS)
def test_anonymous_visitor_is_sent_to_log_in_from_every_step(client, leader, step):
    url, data = step_at(step, leader)
    before = snapshot()

    for response in (client.get(url), client.post(url, data)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert snapshot() == before


@pytest.mark.parametrize("name", LOGIN_URLS)
def test_user_without_a_role_gets_403_everywhere(roleless_client, world, name):
    url = url_of(name, world)
    before = snapshot()

    if not URLS[name].post_only:
        assert roleless_client.get(url).status_code == 403
    if URLS[name].access == LEAD:
        assert roleless_client.post(url, URLS[name].data(world)).status_code == 403
    assert snapshot() == before
