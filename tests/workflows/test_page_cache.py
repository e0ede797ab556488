"""The inbox, the process page and the county overview are served from the page cache when
nothing has changed, and never show stale or someone else's content (audit.page_cache)."""

import datetime
import re

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, leader_of, member_of, national_reader
from workflows import services

from .helpers import current_task, english, visible_text, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

INBOX = reverse("workflows:inbox")
OVERVIEW = reverse("workflows:overview")


@pytest.fixture
def process(leader, vaxjo, vaxjo_contact):
    return services.start_process(municipality=vaxjo, user=leader)


def days_in_stage(page: str) -> str:
    """The days Växjö has spent in its stage, as the stage board shows them."""
    row = page.split(">Växjö<")[1].split("</tr>")[0]
    return re.search(r"(\d+) days?", row).group(1)


def page_urls(process) -> list[str]:
    return [INBOX, OVERVIEW, reverse("workflows:process", args=[process.pk])]


def get(client, url: str) -> tuple[str, int]:
    """The page's main content and the number of queries it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return main(response.content.decode()), len(captured)


def main(page: str) -> str:
    # Each response masks the CSRF token afresh: the same token looks different every time.
    content = page.split("<main")[1].split("</main>")[0]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content)


@pytest.mark.parametrize("page", [0, 1, 2], ids=["inbox", "overview", "process"])
def test_a_repeated_request_is_served_from_the_cache_with_fewer_queries(
    leader_client, process, page
):
    url = page_urls(process)[page]
    # A browser's first visit gives it its CSRF cookie (logging in does too); the forms of the
    # content carry tokens of that cookie, so a page is kept only for a browser that has one.
    leader_client.get(url)
    first, fresh = get(leader_client, url)
    second, cached = get(leader_client, url)

    assert second == first
    assert cached < fresh
    assert cached <= 10, cached


def test_a_completed_step_shows_at_once_on_every_page(leader_client, leader, process):
    before = [get(leader_client, url)[0] for url in page_urls(process)]
    assert all("Vera Växjö" not in page for page in before)

    walk_to(process, leader, process.municipality.contacts.get(), "dialogue")

    inbox, overview, page = (get(leader_client, url)[0] for url in page_urls(process))
    assert "Hold the dialogue" in inbox and "Record first contact" not in inbox
    assert "In dialogue" in overview
    assert "Vera Växjö" in page  # the first contact, recorded in between


def start_in_malmo(skane_leader):
    """A step in Skåne: its project leader starts Malmö's process."""
    from municipalities.models import Municipality

    return services.start_process(
        municipality=Municipality.objects.get(code="1280"), user=skane_leader
    )


@pytest.mark.parametrize("page", [0, 1, 2], ids=["inbox", "overview", "process"])
def test_a_step_in_another_county_leaves_the_page_in_the_cache(leader_client, process, page):
    skane_leader = leader_of("12", username="sune")
    url = page_urls(process)[page]
    leader_client.get(url)
    first, fresh = get(leader_client, url)
    _again, cached = get(leader_client, url)

    start_in_malmo(skane_leader)
    after, queries = get(leader_client, url)

    # Kronoberg's project leader reads nothing of Skåne: the page is the one kept, read as
    # cheaply as before the step.
    assert after == first
    assert queries == cached < fresh


def board_around_a_step_in_malmo(client, skane_leader) -> tuple[str, str]:
    """The all-counties board's text, kept in the cache, then right after Malmö's step."""
    all_counties = f"{OVERVIEW}?county=all"
    client.get(all_counties)
    before = get(client, all_counties)[0]
    start_in_malmo(skane_leader)
    return visible_text(before), visible_text(get(client, all_counties)[0])


def test_a_step_in_another_of_the_readers_counties_shows_at_once(leader_client, leader, process):
    skane_leader = leader_of("12", username="sune")
    member_of(leader, "12", "leader")  # Pia leads Skåne's project too

    before, after = board_around_a_step_in_malmo(leader_client, skane_leader)

    # Skåne's row of the board: 33 municipalities, one more awaiting its first contact.
    assert "Skåne län 33 33 0 " in before
    assert "Skåne län 33 32 1 " in after


def test_a_national_readers_pages_show_a_step_in_any_county_at_once(process):
    skane_leader = leader_of("12", username="sune")
    reader = Client()
    reader.force_login(national_reader(username="nora"))

    before, after = board_around_a_step_in_malmo(reader, skane_leader)

    # A reader of every county: every county's step gives their pages a new version.
    assert "Skåne län 33 33 0 " in before
    assert "Skåne län 33 32 1 " in after


def test_a_changed_stage_limit_which_belongs_to_no_county_shows_at_once(leader_client, process):
    from workflows.models import StageLimit

    get(leader_client, INBOX)
    before = get(leader_client, INBOX)[0]

    # A project-wide setting (no municipality's): every county's pages show it at once.
    limit = StageLimit.objects.get(stage="contact")
    limit.days = 30
    limit.save()

    # Växjö's first contact is due 30 days after its start instead of 14.
    started = timezone.localdate(process.stage_entered_at)
    assert due_date(before) == str(started + datetime.timedelta(days=14))
    assert due_date(get(leader_client, INBOX)[0]) == str(started + datetime.timedelta(days=30))


def due_date(page: str) -> str:
    """The due date of the inbox's first step."""
    return re.search(r'<time datetime="([\d-]+)"', page)[1]


def test_another_session_never_gets_the_first_sessions_page(leader_client, leader, process):
    url = reverse("workflows:process", args=[process.pk])
    first = leader_client.get(url).content.decode()
    other = Client()
    other.force_login(leader)
    second = other.get(url).content.decode()

    def tokens(page):
        return {
            line.split('value="')[1].split('"')[0]
            for line in page.split("<input")
            if 'name="csrfmiddlewaretoken"' in line
        }

    # Each session's forms carry a token of its own CSRF secret.
    assert tokens(first).isdisjoint(tokens(second))


def test_a_reader_without_the_leaders_permission_never_sees_the_leaders_controls(
    leader_client, process
):
    url = reverse("workflows:process", args=[process.pk])
    assert re.search(r'href="/tasks/\d+/"', leader_client.get(url).content.decode())
    reader = UserFactory(username="sven")
    member_of(reader, "07", "steering")
    steering = Client()
    steering.force_login(reader)

    page = steering.get(url).content.decode()

    assert not re.search(r'href="/tasks/\d+/"', page)  # no link to complete the step


def test_switching_the_language_shows_the_other_language(leader_client, process):
    url = reverse("workflows:process", args=[process.pk])
    assert "Next step" in leader_client.get(url).content.decode()

    leader_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    page = leader_client.get(url).content.decode()

    assert "Nästa steg" in page and "Next step" not in page


def test_the_next_day_is_counted_afresh(leader_client, leader, vaxjo):
    day = datetime.datetime(2026, 3, 2, 9, tzinfo=datetime.UTC)
    with time_machine.travel(day, tick=False):
        services.start_process(municipality=vaxjo, user=leader)
        today = get(leader_client, OVERVIEW)[0]
    with time_machine.travel(day + datetime.timedelta(days=1), tick=False):
        tomorrow = get(leader_client, OVERVIEW)[0]

    assert days_in_stage(today) == "0" and days_in_stage(tomorrow) == "1"


def test_a_browser_whose_csrf_cookie_is_gone_gets_forms_it_can_send(leader, process):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(leader)
    url = reverse("workflows:process", args=[process.pk])
    browser.get(url)
    browser.get(url)  # now cached for this session and cookie
    del browser.cookies[settings.CSRF_COOKIE_NAME]  # e.g. the user cleared that one cookie

    page = browser.get(url).content.decode()
    add_meeting = reverse("workflows:add_meeting", args=[process.pk])
    form = page.split(f'action="{add_meeting}"')[1]  # the cached content's form, not the header's
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', form)[1]
    response = browser.post(
        add_meeting,
        {
            "csrfmiddlewaretoken": token,
            "held_on": "2026-02-03",
            "participants": "Vera Växjö, Pia Projektledare",
        },
    )

    assert response.status_code == 302
    assert process.meetings.get().participants == "Vera Växjö, Pia Projektledare"


# Committed, as requests are: inside a transaction the permissions and roles are read from the
# database, not the cache (municipalities.access).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", [0, 1, 2], ids=["inbox", "overview", "process"])
def test_a_repeated_request_renders_nothing_and_runs_only_the_access_and_version_queries(
    shared_cache, leader_client, process, page
):
    url = page_urls(process)[page]
    leader_client.get(url)
    first = leader_client.get(url).content.decode()

    with CaptureQueriesContext(connection) as captured:
        second = leader_client.get(url)

    # The session, the user and the data version (permissions and roles come from the cache:
    # municipalities.access); the whole page, layout and all, comes from the cache (its CSRF
    # tokens too: the same cookie's, still valid). A process page also asks whether the user
    # may open it (its county, kept with the county structure's version in the cache as the
    # roles are, and checked before the page's cache, so that another county's process answers
    # 404 whatever is cached).
    assert len(captured) == 3, [q["sql"][:60] for q in captured]
    assert second.content.decode() == first
    assert second["Content-Type"] == "text/html; charset=utf-8"


def test_a_message_is_shown_once_even_on_a_cached_page(leader_client, leader, process):
    county = process.municipality.county
    services.start_processes_for_county(county=county, user=leader)
    leader_client.get(INBOX)
    assert "already has an open process" not in leader_client.get(INBOX).content.decode()

    # Nothing to start: no write, so the data version stays; only a message is added.
    response = leader_client.post(reverse("workflows:start_county"), {"county": county.pk})
    assert response.status_code == 302

    shown = leader_client.get(INBOX).content.decode()
    after = leader_client.get(INBOX).content.decode()
    assert "Every municipality in this county already has an open process." in shown
    assert "already has an open process" not in after
