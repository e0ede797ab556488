"""Calendar feeds: a secret address per user, in any calendar application, holding the meetings,
decision meetings and deadlines of the user's counties; a new address retires the old one."""

import datetime

import pytest
from django.test import Client
from icalendar import Calendar

from audit.models import AuditEvent
from interfaces import services
from interfaces.models import CalendarFeed
from workflows.models import Stage

pytestmark = pytest.mark.django_db


def feed_path(feed) -> str:
    return f"/calendar/{services.feed_token(feed)}.ics"


def events(response) -> dict[str, tuple[datetime.date, str]]:
    """{summary: (day, description)} of the feed."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {
        str(e["summary"]): (e.decoded("dtstart"), str(e.get("description", "")))
        for e in calendar.walk("VEVENT")
    }


def test_leaders_feed_holds_the_meetings_decisions_and_deadlines_of_their_county(
    record, upcoming_meeting, leader
):
    feed = services.issue_calendar_feed(user=leader)

    found = events(Client().get(feed_path(feed)))

    decision = record["decision"]
    meeting = found["Dialogmöte: Ljungby"]
    assert meeting[0] == upcoming_meeting.held_on
    assert "Lars Ljungby" in meeting[1]  # a leader sees who takes part
    assert found["Kommunfullmäktige (KF) beslutar om ASF-policyn: Växjö § 57"][0] == (
        decision.meeting_date
    )
    assert found["Sista dag att överklaga: Växjö § 57"][0] == decision.appeal_deadline
    # Another county's dates are not in it.
    assert not [s for s in found if "Kalmar" in s]


def test_open_process_stage_due_day_is_in_the_feed(record, kalmar_leader):
    from municipalities.models import Municipality

    emmaboda = Municipality.objects.get(code="0862")
    process = services_start(emmaboda, kalmar_leader)
    feed = services.issue_calendar_feed(user=kalmar_leader)

    found = events(Client().get(feed_path(feed)))

    due = [(s, day) for s, (day, _) in found.items() if s.startswith("Skedet förfaller")]
    assert due == [
        (
            f"Skedet förfaller: Emmaboda – {Stage(process.stage).label}",
            due[0][1],
        )
    ]
    assert due[0][1] > process.stage_entered_at.date()


def services_start(municipality, user):
    from workflows import services as workflow_services

    return workflow_services.start_process(municipality=municipality, user=user)


def test_reference_group_feed_names_nobody(record, upcoming_meeting, reference):
    feed = services.issue_calendar_feed(user=reference)

    found = events(Client().get(feed_path(feed)))

    assert "Dialogmöte: Ljungby" in found
    assert "Lars Ljungby" not in Client().get(feed_path(feed)).content.decode()


def test_new_address_retires_the_old_one_and_both_are_on_the_record(record, leader):
    first = services.issue_calendar_feed(user=leader)
    second = services.issue_calendar_feed(user=leader)

    assert Client().get(feed_path(first)).status_code == 404
    assert Client().get(feed_path(second)).status_code == 200

    services.revoke_calendar_feed(user=leader)
    assert Client().get(feed_path(second)).status_code == 404
    assert Client().get("/calendar/not-a-secret.ics").status_code == 404
    summaries = list(
        AuditEvent.objects.filter(model_label="interfaces.calendarfeed")
        .order_by("id")
        .values_list("summary", flat=True)
    )
    assert len(summaries) == 4  # created, revoked (replaced), created, revoked
    assert CalendarFeed.objects.filter(user=leader).count() == 2  # nothing deleted


def test_the_address_is_not_stored_in_the_database(record, leader):
    feed = services.issue_calendar_feed(user=leader)
    secret = services.feed_token(feed)

    stored = CalendarFeed.objects.filter(pk=feed.pk).values().get()
    assert secret not in {str(v) for v in stored.values()}
