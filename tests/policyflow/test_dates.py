"""Dates read the same to everyone, in Swedish and in English: ISO 8601 when short, the month's
name when long, a 24-hour clock; never 03/06/2027 (March or June?) nor "2:31 a.m.."."""

import datetime
import re
from zoneinfo import ZoneInfo

import html5lib
import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from audit.checkpoints import take_checkpoint
from municipalities.models import Municipality
from tests.factories import ContactFactory
from tests.workflows.helpers import walk_to
from workflows import services

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# 02:31 on a day whose number is also a month: the two traps of Django's English formats.
NOW = datetime.datetime(2027, 3, 6, 2, 31, tzinfo=STOCKHOLM)

AMBIGUOUS = [
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # 03/06/2027: which is the month?
    re.compile(r"\b[ap]\.\s?m\.", re.IGNORECASE),  # a 12-hour clock
    re.compile(r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\. \d"),  # "Mar. 6," (American)
    re.compile(r"\.\."),  # a format's trailing period before the sentence's
]


@pytest.fixture
def story(leader, vaxjo):
    """Växjö's policy approved a week earlier and adopted by the council, and Alvesta waiting
    for its first contact; the decision and Alvesta's start recorded at 02:31 on 6 March 2027."""
    contact = ContactFactory(municipality=vaxjo, name="Vera Växjö")
    with time_machine.travel(NOW - datetime.timedelta(days=7), tick=False):
        process = services.start_process(municipality=vaxjo, user=leader)
        task = walk_to(process, leader, contact, "decision")
    with time_machine.travel(NOW, tick=False):
        services.record_decision(
            task=task,
            user=leader,
            body="kf",
            meeting_date=datetime.date(2027, 3, 1),
            paragraph="12",
            case_number="KS 2027/3",
            outcome="adopted",
            certification_date=datetime.date(2027, 3, 4),
            announcement_date=datetime.date(2027, 3, 5),
        )
        services.start_process(municipality=Municipality.objects.get(code="0764"), user=leader)
        take_checkpoint()  # the overview names the record's latest checkpoint and its time
    return process


def a_day_later(client, user):
    """Travel to the day after the story, logged in then (a session of today would have expired)."""
    traveller = time_machine.travel(NOW + datetime.timedelta(days=1), tick=False)
    traveller.start()
    client.force_login(user)
    return traveller


def main_text(response) -> str:
    assert response.status_code == 200, response
    document = html5lib.parse(response.content.decode(), namespaceHTMLElements=False)
    return " ".join("".join(document.find(".//main").itertext()).split())


def pages(process) -> dict[str, str]:
    return {
        "process": reverse("workflows:process", args=[process.pk]),
        "tasks": reverse("workflows:inbox"),
        "overview": reverse("workflows:overview"),
        "municipality": reverse("workflows:overview_municipality", args=["0780"]),
        "timeline": reverse("audit:process", args=[process.pk]),
        "delivery log": reverse("notifications:log"),
    }


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_page_shows_an_ambiguous_date_or_a_12_hour_clock(client, leader, story, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    traveller = a_day_later(client, leader)
    try:
        texts = {name: main_text(client.get(url)) for name, url in pages(story).items()}
    finally:
        traveller.stop()

    for name, text in texts.items():
        for pattern in AMBIGUOUS:
            found = pattern.search(text)
            assert found is None, f"{name} ({language}): {found and found.group()!r}"


@pytest.mark.parametrize(
    ("language", "latest_event"),
    [("sv", "6 mars 2027 02:31 ("), ("en", "6 Mar 2027, 02:31 (")],
)
def test_dates_are_iso_when_short_and_name_the_month_when_long(
    client, leader, story, language, latest_event
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    traveller = a_day_later(client, leader)
    try:
        process_page = main_text(client.get(pages(story)["process"]))
        overview = main_text(client.get(pages(story)["overview"]))
        tasks = main_text(client.get(pages(story)["tasks"]))
    finally:
        traveller.stop()

    assert "2027-03-01, § 12" in process_page  # the council's meeting
    assert "2027-03-06 02:31" in process_page  # when the steps were completed
    assert latest_event in overview  # the record's latest checkpoint, its time in words
    assert re.search(r"\b2027-03-\d\d\b", tasks)  # Alvesta's first contact is due


def test_an_english_email_names_the_month_day_first(leader, vaxjo):
    contact = ContactFactory(municipality=vaxjo, name="Eve English", language="en")
    with time_machine.travel(NOW, tick=False):
        process = services.start_process(municipality=vaxjo, user=leader)
        walk_to(process, leader, contact, "approval")

    email = process_emails_to(contact.email)

    # The link works for 30 days: until 5 April.
    assert "5 Apr 2027" in email.body_text
    for pattern in AMBIGUOUS:
        assert pattern.search(email.body_text) is None


def process_emails_to(address: str):
    from notifications.models import Notification

    return Notification.objects.get(recipient_email=address)


VALUES = [
    datetime.date(2027, 3, 6),
    datetime.date(999, 1, 2),  # a year of three digits: Django writes it with four
    datetime.datetime(2027, 3, 6, 2, 31, 59, tzinfo=STOCKHOLM),
    datetime.datetime(2027, 12, 31, 23, 5),  # naive
]
FORMATS = [
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "Y-m-d",
    "c",
]
TIME_FORMATS = {"SHORT_DATETIME_FORMAT", "DATETIME_FORMAT"}  # Django refuses them for a date


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize(
    ("value", "name"),
    [
        (value, name)
        for value in VALUES
        for name in FORMATS
        if isinstance(value, datetime.datetime) or name not in TIME_FORMATS
    ],
)
def test_dates_written_directly_read_as_djangos_format_writes_them(language, value, name):
    """The short ISO dates are written without Django's format engine (`audit.html.date_text`,
    and the templates' ``date`` filter, `policyflow.dates`): every text is Django's own."""
    from django.template import Context, Template
    from django.utils import formats, translation

    from audit.html import date_text
    from policyflow import dates

    with translation.override(language):
        expected = formats.date_format(value, name)
        assert date_text(value, name) == expected
        assert dates.date(value, name) == expected  # the templates' filter, called directly
        rendered = Template("{{ value|date:name }}").render(Context({"value": value, "name": name}))
        # An aware value is shown in the site's time zone (the filter expects local time).
        shown = formats.date_format(
            value.astimezone(STOCKHOLM)
            if isinstance(value, datetime.datetime) and value.tzinfo
            else value,
            name,
        )
        assert rendered == shown


def test_the_templates_date_filter_is_the_projects_own():
    """Contract: `TEMPLATES` `builtins` load after Django's own, and a later library's filter
    replaces an earlier one's of the same name (`django.template.base.Parser.add_library`). The
    day Django changes that, templates silently fall back to Django's filter (the same text, the
    format engine's cost again) and this fails."""
    from django.template import engines

    from policyflow import dates

    template = engines["django"].from_string("{{ value|date:'Y-m-d' }}")
    (node,) = template.template.nodelist
    assert node.filter_expression.filters[0][0] is dates.date
