"""The walls between counties (#15.2): a leader of Kalmar sees and changes nothing of Kronoberg,
through any page, export or email; the steering and reference groups read their own county; a
national reader reads every county and changes nothing. (The URL × persona matrix: assign's.)"""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from municipalities.models import Municipality
from notifications.models import DeliveryStatus, Event, Notification
from tests.factories import ContactFactory, UserFactory
from tests.support.trail_exports import download_trail
from workflows import reminders, services
from workflows.models import Meeting, PolicyProcess

from .helpers import current_task, decision_fields, english, snapshot, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def vaxjo_story(leader, vaxjo, vaxjo_contact):
    """Kronoberg: Växjö waits for Vera Växjö's approval (Pia leads)."""
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")
    return process


@pytest.fixture
def kalmar_story(kalmar_leader):
    """Kalmar: Kalmar municipality waits for its first contact (Karl leads)."""
    kalmar = Municipality.objects.get(code="0880")
    ContactFactory(municipality=kalmar, name="Klara Kalmar", email="klara@kalmar.example")
    return services.start_process(municipality=kalmar, user=kalmar_leader)


def login(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


# --- Process pages: another county's answers 404 ------------------------------------------------


def test_a_leader_of_another_county_gets_404_for_every_page_of_a_process(
    client, kalmar_leader, vaxjo_story, kalmar_story
):
    login(client, kalmar_leader)
    draft = vaxjo_story.drafts.get()
    for url in [
        reverse("workflows:process", args=[vaxjo_story.pk]),
        reverse("workflows:chart", args=[vaxjo_story.pk]),
        reverse("workflows:draft", args=[vaxjo_story.pk, draft.version]),
        reverse("workflows:step", args=[current_task(vaxjo_story).pk]),
        reverse("audit:process", args=[vaxjo_story.pk]),
        reverse("audit:process_csv", args=[vaxjo_story.pk]),
        reverse("audit:municipality", args=[vaxjo_story.municipality_id]),
        reverse("workflows:overview_municipality", args=["0780"]),
        reverse("workflows:overview_municipality_report", args=["0780"]),
    ]:
        assert client.get(url).status_code == 404, url
    # Their own process opens.
    assert client.get(reverse("workflows:process", args=[kalmar_story.pk])).status_code == 200


def test_the_process_list_shows_only_the_leaders_county(
    client, leader, kalmar_leader, vaxjo_story, kalmar_story
):
    page = text(login(client, kalmar_leader).get(reverse("workflows:processes")))
    assert "Kalmar" in page and "Växjö" not in page
    # One county: no county filter to choose from.
    assert 'name="county"' not in page
    page = text(login(client, leader).get(reverse("workflows:processes")))
    assert "Växjö" in page and ">Kalmar<" not in page


def test_a_mutating_post_in_another_county_answers_404_and_changes_nothing(
    client, kalmar_leader, vaxjo_story, kalmar_story
):
    login(client, kalmar_leader)
    before = snapshot()
    meetings = Meeting.objects.count()
    decision_free_posts = [
        (reverse("workflows:add_meeting", args=[vaxjo_story.pk]), {"held_on": "2026-03-01"}),
        (reverse("workflows:issue_link", args=[vaxjo_story.pk]), {}),
        (reverse("workflows:record_answer", args=[vaxjo_story.pk]), {"answer": "approved"}),
        (reverse("workflows:step", args=[current_task(vaxjo_story).pk]), {"answer": "approved"}),
        (
            reverse(
                "workflows:void_record",
                args=[vaxjo_story.pk, "draft", vaxjo_story.drafts.get().pk],
            ),
            {"reason": "Fel"},
        ),
    ]
    for url, data in decision_free_posts:
        assert client.post(url, data).status_code == 404, url
    assert snapshot() == before
    assert Meeting.objects.count() == meetings


def test_a_leader_cannot_complete_another_countys_step_through_the_service(
    kalmar_leader, leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    task = current_task(process)

    with pytest.raises(PermissionDenied):
        services.record_first_contact(
            task=task,
            user=kalmar_leader,
            contacted_on=datetime.date(2026, 1, 10),
            channel="email",
            contacts=[vaxjo_contact],
            approvers=[vaxjo_contact],
        )
    with pytest.raises(PermissionDenied):
        services.start_process(
            municipality=Municipality.objects.get(code="0764"), user=kalmar_leader
        )

    assert current_task(process).pk == task.pk  # still open, still Pia's first step


# --- The inbox and the start form ---------------------------------------------------------------


def test_the_inbox_lists_the_steps_of_the_counties_one_leads(
    client, leader, kalmar_leader, vaxjo_story, kalmar_story
):
    karl = text(login(client, kalmar_leader).get(reverse("workflows:inbox")))
    assert "Your next steps" in karl
    assert ">Kalmar<" in karl and "Växjö" not in karl
    pia = text(login(client, leader).get(reverse("workflows:inbox")))
    assert ">Kalmar<" not in pia
    assert "Vera Växjö" in pia  # Växjö waits for her approval


def test_the_steering_groups_tasks_page_lists_no_next_steps_of_their_own(
    client, steering, leader, vaxjo, kalmar_story
):
    services.start_process(municipality=vaxjo, user=leader)
    page = text(login(client, steering).get(reverse("workflows:inbox")))
    assert "Your next steps" not in page
    assert "Open steps in your counties" in page
    assert "Växjö" in page and ">Kalmar<" not in page
    assert not re.search(r'href="/tasks/\d+/"', page)  # they complete no step


def test_the_start_form_lists_only_the_leaders_municipalities(client, kalmar_leader):
    page = text(login(client, kalmar_leader).get(reverse("workflows:start")))
    assert "Mörbylånga" in page and "Växjö" not in page
    assert "Kalmar län" in page and "Kronobergs län" not in page

    vaxjo = Municipality.objects.get(code="0780")
    response = client.post(reverse("workflows:start"), {"municipality": vaxjo.pk})
    assert response.status_code == 400
    assert not PolicyProcess.objects.filter(municipality=vaxjo).exists()


# --- Overview, reports, audit trail -------------------------------------------------------------


def test_a_leader_of_one_county_sees_their_county_and_no_all_counties_view(
    client, kalmar_leader, vaxjo_story, kalmar_story
):
    login(client, kalmar_leader)
    page = text(client.get(reverse("workflows:overview")))
    assert "Overview of Kalmar län" in page
    assert "Växjö" not in page and 'value="all"' not in page
    for county in ("07", "all"):
        assert client.get(reverse("workflows:overview"), {"county": county}).status_code == 404
        assert (
            client.get(reverse("workflows:overview_report"), {"county": county}).status_code == 404
        )
        chart = reverse("workflows:overview_chart", args=["progress"])
        assert client.get(chart, {"county": county}).status_code == 404


def test_a_leader_of_two_counties_sees_all_of_their_counties_and_no_other(
    client, kalmar_leader, vaxjo_story, kalmar_story
):
    from tests.factories import member_of

    member_of(kalmar_leader, "06", "steering")  # Jönköping too
    page = text(login(client, kalmar_leader).get(reverse("workflows:overview"), {"county": "all"}))
    assert "Kalmar län" in page and "Jönköpings län" in page
    assert "Kronobergs län" not in page and "Skåne län" not in page


def test_steering_and_reference_group_read_their_countys_overview(
    client, steering, reference, vaxjo_story
):
    url = reverse("workflows:overview_municipality", args=["0780"])
    steering_page = text(login(client, steering).get(url))
    assert "Vera Växjö" in steering_page  # who the draft waits for, and the timeline

    response = login(client, reference).get(reverse("workflows:overview"))
    assert response.status_code == 200 and "Växjö" in text(response)
    reference_page = text(client.get(url))
    assert "Växjö" in reference_page and "Vera Växjö" not in reference_page
    assert "waiting for the municipality&#x27;s contact persons" in reference_page
    report = client.get(reverse("workflows:overview_report"), {"county": "07"})
    assert report.status_code == 200 and report["Content-Type"] == "application/pdf"
    # Pages that name contact persons are not the reference group's.
    assert client.get(reverse("workflows:process", args=[vaxjo_story.pk])).status_code == 404
    assert client.get(reverse("audit:timeline")).status_code == 403


def test_a_national_reader_reads_every_county_and_changes_nothing(
    client, national, vaxjo_story, kalmar_story
):
    login(client, national)
    page = text(client.get(reverse("workflows:overview"), {"county": "all"}))
    assert "Kronobergs län" in page and "Kalmar län" in page and "Skåne län" in page
    assert 'value="all"' in page
    kalmar = text(client.get(reverse("workflows:overview"), {"county": "08"}))
    assert "Kalmar" in kalmar
    before = snapshot()
    assert client.post(reverse("workflows:add_meeting", args=[vaxjo_story.pk])).status_code == 403
    assert client.get(reverse("workflows:start")).status_code == 403
    assert snapshot() == before


def test_the_audit_trail_and_its_csv_hold_only_the_readers_counties(
    client, kalmar_leader, vaxjo_story, kalmar_story
):
    login(client, kalmar_leader)
    page = text(client.get(reverse("audit:timeline")))
    assert "Kalmar" in page and "Växjö" not in page
    csv = b"".join(download_trail(client).streaming_content).decode()
    assert "Kalmar" in csv and "Växjö" not in csv
    assert AuditEvent.objects.filter(county_code="07").exists()  # there is Kronoberg's trail


# --- Emails and the delivery log ----------------------------------------------------------------


def test_a_countys_news_reaches_its_own_steering_group_only(
    steering, leader, kalmar_leader, vaxjo, vaxjo_contact
):
    from tests.factories import steering_of

    kalmar_steering = steering_of("08", username="kerstin", email="kerstin@kalmar.example")
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "decision")
    services.record_decision(task=current_task(process), user=leader, **decision_fields())
    recipients = set(
        Notification.objects.filter(event=Event.DECISION_RECORDED).values_list(
            "recipient_email", flat=True
        )
    )
    assert steering.email in recipients and kalmar_steering.email not in recipients


def test_the_weekly_digest_lists_each_steering_member_their_own_counties(
    steering, leader, kalmar_leader, vaxjo, kalmar_story
):
    from tests.factories import steering_of

    kalmar_steering = steering_of("08", username="kerstin", email="kerstin@kalmar.example")
    services.start_process(municipality=vaxjo, user=leader)
    reminders.send_stalled_digest(now=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC))
    digests = {
        n.recipient_email: n for n in Notification.objects.filter(event=Event.STALLED_DIGEST)
    }
    assert set(digests) == {steering.email, kalmar_steering.email}
    assert "Växjö" in digests[steering.email].body_text
    assert "Växjö" not in digests[kalmar_steering.email].body_text
    assert "Kalmar" in digests[kalmar_steering.email].body_text


def test_the_delivery_log_shows_only_the_leaders_countys_emails(
    client, leader, kalmar_leader, vaxjo_story, kalmar_story
):
    page = text(login(client, kalmar_leader).get(reverse("notifications:log")))
    assert "vera@vaxjo.example" not in page
    vera = Notification.objects.filter(recipient_email="vera@vaxjo.example").first()
    Notification.objects.filter(pk=vera.pk).update(status=DeliveryStatus.FAILED)
    assert client.post(reverse("notifications:retry", args=[vera.pk])).status_code == 404
    vera.refresh_from_db()
    assert vera.status == DeliveryStatus.FAILED  # not queued again
    # Kronoberg's leader sees it.
    assert "vera@vaxjo.example" in text(login(client, leader).get(reverse("notifications:log")))


def test_the_administration_is_for_superusers_only(client, seeded):
    login(client, UserFactory(username="personal", is_staff=True))
    assert client.get(reverse("admin:index")).status_code == 302  # to the login page
    login(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200


# --- Query counts of the scoped pages -----------------------------------------------------------


def _queries(client, url: str) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up: per-process caches
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_scoped_pages_run_as_many_queries_whatever_the_other_counties_hold(
    client, leader, kalmar_leader, kalmar_story
):
    login(client, kalmar_leader)
    urls = [
        reverse("workflows:inbox"),
        reverse("workflows:processes"),
        reverse("workflows:overview"),
        reverse("workflows:process", args=[kalmar_story.pk]),
        reverse("audit:timeline"),
    ]
    small = {url: _queries(client, url) for url in urls}
    for municipality in Municipality.objects.filter(county__code="07"):
        services.start_process(municipality=municipality, user=leader)
    large = {url: _queries(client, url) for url in urls}

    assert small == large
    assert "Växjö" not in text(client.get(reverse("workflows:processes")))
