"""Pages run the same number of SQL queries however many processes, steps and records exist."""

import itertools
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from municipalities.models import Municipality
from tests.factories import ContactFactory, member_of
from workflows import services

from .helpers import current_task, decision_fields, english, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# Where the processes built for the large dataset stop, in turn: every kind of inbox row.
STOPS = ["contact", "dialogue", "draft", "request_approval", "approval", "decision"]


def queries(client, url: str) -> int:
    """The queries of a page rendered afresh (not from the page cache)."""
    client.get(url)  # warm-up: per-process caches (content types, templates) are filled once
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def build(leader, count: int, *, stops=STOPS, exclude=("0780",)) -> list:
    """``count`` new processes outside ``exclude``, stopped in turn at each of ``stops``."""
    municipalities = Municipality.objects.exclude(code__in=exclude).exclude(
        policy_processes__isnull=False
    )
    processes = []
    for municipality, stop in zip(
        municipalities.select_related("county").order_by("code")[:count],
        itertools.cycle(stops),
        strict=False,
    ):
        contact = ContactFactory(municipality=municipality)
        member_of(leader, municipality.county.code, "leader")  # a leader of every county used
        process = services.start_process(municipality=municipality, user=leader)
        walk_to(process, leader, contact, stop)
        processes.append(process)
    assert len(processes) == count
    return processes


@pytest.fixture
def vaxjo_process(leader, vaxjo, vaxjo_contact):
    return services.start_process(municipality=vaxjo, user=leader)


def assert_same(small: int, large: int, page: str) -> None:
    assert small == large, f"{page}: {small} queries with a small dataset, {large} with a large one"


def test_inbox_queries_do_not_grow_with_the_number_of_processes(
    leader_client, leader, vaxjo_process, vaxjo_contact
):
    # The smallest dataset that shows both lists: Växjö waits for approval, one step is open.
    walk_to(vaxjo_process, leader, vaxjo_contact, "approval")
    build(leader, 1, stops=["contact"])
    url = reverse("workflows:inbox")
    small = queries(leader_client, url)

    build(leader, 48)
    large = queries(leader_client, url)

    assert_same(small, large, "inbox")
    assert small <= 12
    # 41 open steps, 25 to a page, and 9 drafts waiting (Växjö and 8 built).
    page = leader_client.get(url).content.decode()
    second = leader_client.get(url, {"page": 2}).content.decode()
    assert len(re.findall(r'href="/tasks/\d+/"', page)) == 25
    assert len(re.findall(r'href="/tasks/\d+/"', second)) == 16
    assert page.count("waiting for approval by") == 9


def test_process_list_queries_do_not_grow_with_the_number_of_processes(
    leader_client, leader, vaxjo_process
):
    url = reverse("workflows:processes")
    small = queries(leader_client, url)

    build(leader, 49)
    large = queries(leader_client, url)

    assert_same(small, large, "process list")


def test_searched_and_filtered_lists_query_the_same_at_any_size(
    leader_client, leader, vaxjo_process, vaxjo_contact
):
    # As for the inbox above: the smallest dataset that shows both of its lists.
    walk_to(vaxjo_process, leader, vaxjo_contact, "approval")
    build(leader, 1, stops=["contact"])
    urls = [
        reverse("workflows:inbox") + "?q=v",
        reverse("workflows:processes") + "?q=v&stage=contact&county=07",
    ]
    small = [queries(leader_client, url) for url in urls]

    build(leader, 49)
    large = [queries(leader_client, url) for url in urls]

    assert_same(small[0], large[0], "inbox, searched")
    assert_same(small[1], large[1], "process list, searched and filtered")


@pytest.mark.parametrize("stop", ["contact", "approval", "decision"])
def test_process_page_queries_do_not_grow_with_the_number_of_processes(
    leader_client, leader, vaxjo_process, vaxjo_contact, stop
):
    walk_to(vaxjo_process, leader, vaxjo_contact, stop)
    url = reverse("workflows:process", args=[vaxjo_process.pk])
    small = queries(leader_client, url)

    build(leader, 49)
    large = queries(leader_client, url)

    assert_same(small, large, f"process page at {stop}")


# The process page rendered afresh reads at most: the session, the user, the user's own and
# group permissions, the process's county and the user's county roles (the tests' cache is each
# process's own: no access entry), the data version (a miss of the page cache), the process,
# its records (first contacts with their contact persons' names, meetings, drafts, answers,
# decisions), its steps, latest history, task links and notifications (17); while a step is open
# the stage limits (its due day: 18 while the first contact is the step), and while the
# municipality is asked the approvers and, for a leader's forms, its contact persons.
PROCESS_PAGE_QUERIES = {"contact": 18, "approval": 21, "decision": 18, "closed": 17}


@pytest.mark.parametrize("stop", list(PROCESS_PAGE_QUERIES))
def test_the_process_page_reads_a_bounded_number_of_statements(
    leader_client, leader, vaxjo_process, vaxjo_contact, stop, django_assert_max_num_queries
):
    if stop == "closed":
        task = walk_to(vaxjo_process, leader, vaxjo_contact, "decision")
        services.record_decision(task=task, user=leader, **decision_fields())
    else:
        walk_to(vaxjo_process, leader, vaxjo_contact, stop)
    url = reverse("workflows:process", args=[vaxjo_process.pk])
    leader_client.get(url)  # warm-up: per-process caches (content types, templates)
    cache.clear()  # and rendered afresh, not from the page cache

    with django_assert_max_num_queries(PROCESS_PAGE_QUERIES[stop]):
        response = leader_client.get(url)

    assert response.status_code == 200
    assert vaxjo_process.municipality.name in response.content.decode()


def test_process_page_queries_do_not_grow_with_the_process_history(
    leader_client, leader, vaxjo_process, vaxjo_contact
):
    """Several rounds of drafts, answers, meetings and decisions cost no extra queries."""

    def round_trip(answer, outcome):
        task = walk_to(vaxjo_process, leader, vaxjo_contact, "approval")
        services.answer_approval(
            task=task, contact=vaxjo_contact, answer=answer, comment="Ändra stycke 2."
        )
        if answer == "approved":
            services.record_decision(
                task=current_task(vaxjo_process),
                user=leader,
                body="ks",
                meeting_date=timezone.localdate(),
                paragraph="12",
                case_number="KS 2026/1",
                outcome=outcome,
            )

    # The small dataset already holds one record of each kind, so that only growth is measured.
    url = reverse("workflows:process", args=[vaxjo_process.pk])
    round_trip("changes_requested", None)
    round_trip("approved", "sent_back")
    walk_to(vaxjo_process, leader, vaxjo_contact, "approval")
    small = queries(leader_client, url)

    for answer, outcome in [
        ("changes_requested", None),
        ("approved", "sent_back"),
        ("changes_requested", None),
        ("approved", "postponed"),
    ]:
        round_trip(answer, outcome)
        services.record_meeting(
            process=vaxjo_process, user=leader, held_on="2026-06-01", participants="Vera"
        )
    more = ContactFactory(municipality=vaxjo_contact.municipality, name="Max Växjö")
    walk_to(vaxjo_process, leader, vaxjo_contact, "request_approval")
    services.request_approval(
        task=current_task(vaxjo_process), user=leader, approvers=[vaxjo_contact, more]
    )
    large = queries(leader_client, url)

    assert vaxjo_process.drafts.count() == 7
    assert_same(small, large, "process page with a long history")


@pytest.mark.parametrize("step", ["contact", "dialogue", "draft", "request_approval", "decision"])
def test_step_page_queries_do_not_grow_with_processes_or_contacts(
    leader_client, leader, vaxjo_process, vaxjo_contact, step
):
    task = walk_to(vaxjo_process, leader, vaxjo_contact, step)
    url = reverse("workflows:step", args=[task.pk])
    small = queries(leader_client, url)

    build(leader, 49)
    ContactFactory.create_batch(10, municipality=vaxjo_contact.municipality)
    large = queries(leader_client, url)

    assert_same(small, large, f"{step} step page")


def test_the_dialogue_step_page_queries_the_same_with_more_meetings(
    leader_client, leader, vaxjo_process, vaxjo_contact
):
    import datetime

    task = walk_to(vaxjo_process, leader, vaxjo_contact, "dialogue")
    url = reverse("workflows:step", args=[task.pk])

    def meeting(day: int):
        services.record_meeting(
            process=vaxjo_process,
            user=leader,
            held_on=datetime.date(2026, 1, day),
            participants=f"Möte {day}",
        )

    meeting(1)
    small = queries(leader_client, url)
    for day in range(2, 20):
        meeting(day)
    large = queries(leader_client, url)

    assert_same(small, large, "dialogue step")
