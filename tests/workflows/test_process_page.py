"""The process page shows the latest history entries; the process's audit trail has the rest."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import ContactFactory
from workflows import services
from workflows.models import FirstContact

from .helpers import decision_fields, english, walk_to  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def history_rows(page: str) -> list[str]:
    table = re.search(r'id="history-caption".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return re.findall(r"<tr>(.*?)</tr>", table, re.S)


def test_a_long_history_shows_its_latest_20_entries_and_links_to_the_audit_trail(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")
    services.answer_approval(
        task=walk_to(process, leader, vaxjo_contact, "approval"),
        contact=vaxjo_contact,
        answer="changes_requested",
        comment="Ändra stycke 2.",
    )

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    rows = history_rows(page)
    assert len(rows) == 20
    assert "The latest 20 entries are shown." in page
    audit_trail = reverse("audit:process", args=[process.pk])
    assert f'<a href="{audit_trail}">Every earlier entry is in the audit trail' in page
    # Newest first: the answer that sent the draft back is among the first entries (after the
    # emails it sent and the steps it opened, which the history lists too).
    assert "Changes requested by Vera Växjö" in " ".join(rows[:10])


def test_a_short_history_is_shown_whole(leader_client, leader, vaxjo):
    process = services.start_process(municipality=vaxjo, user=leader)

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    assert 0 < len(history_rows(page)) < 20
    assert "entries are shown" not in page


def test_in_swedish_the_decisions_meeting_is_a_sammantrade_not_a_mote(
    client, leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    services.record_decision(
        task=walk_to(process, leader, vaxjo_contact, "decision"),
        user=leader,
        **decision_fields(),
    )
    client.force_login(leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"  # the language switch's choice

    page = client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    decisions = re.search(r'id="decisions-heading".*?</details>', page, re.S).group(0)
    assert "KS 2026/39" in decisions
    assert "<dt>Sammanträde</dt>" in decisions and "Möte" not in decisions


def test_in_swedish_the_history_says_what_happened_not_which_table_changed(
    client, leader, vaxjo, vaxjo_contact, settings
):
    settings.LANGUAGE_CODE = "sv"  # the record's own words are in the site's language
    process = services.start_process(municipality=vaxjo, user=leader)
    services.record_decision(
        task=walk_to(process, leader, vaxjo_contact, "decision"),
        user=leader,
        **decision_fields(),
    )
    client.force_login(leader)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"

    page = client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    rows = " ".join(history_rows(page))
    assert "Beslut registrerat: Antagen av Kommunfullmäktige (KF)" in rows
    assert "Processen avslutad: Policyn antagen" in rows
    assert "<td>Pia Projektledare</td>" in rows
    assert "(ändrad)" not in rows and "(skapad)" not in rows


def test_a_failed_email_shows_as_failed_with_its_error_shortened_among_the_latest_notifications(
    leader_client, leader, vaxjo, vaxjo_contact
):
    from notifications.models import DeliveryStatus, Notification

    process = services.start_process(municipality=vaxjo, user=leader)
    walk_to(process, leader, vaxjo_contact, "approval")  # the contact is emailed the draft
    email = Notification.objects.filter(topic=f"process:{process.pk}").latest("pk")
    refusal = "550 5.1.1 The email account that you tried to reach does not exist. " * 3
    Notification.objects.filter(pk=email.pk).update(
        status=DeliveryStatus.FAILED, last_error=refusal
    )

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    table = re.search(r'id="notifications-caption".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if "Failed" in r)
    assert email.subject in row
    assert "Failed (550 5.1.1 The email account that you tried to reach does not exist." in row
    assert refusal not in row  # shortened to 80 characters
    assert row.endswith("…)</td>")


def first_contact_lines(page: str) -> list[str]:
    section = re.search(r"<h3>First contact</h3>(.*?)<h3>", page, re.S).group(1)
    return re.findall(r"<p>(.*?)</p>", section, re.S)


def test_the_first_contact_names_its_contact_persons_in_name_order_each_escaped(
    leader_client, leader, vaxjo, vaxjo_contact
):
    process = services.start_process(municipality=vaxjo, user=leader)
    other = ContactFactory(municipality=vaxjo, name="Anders <Ahl>")
    services.record_first_contact(
        task=walk_to(process, leader, vaxjo_contact, "contact"),
        user=leader,
        contacted_on=datetime.date(2026, 1, 10),
        channel="email",
        contacts=[vaxjo_contact, other],
        approvers=[vaxjo_contact],
    )

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    assert first_contact_lines(page) == ["2026-01-10, Email: Anders &lt;Ahl&gt;, Vera Växjö"]


def test_a_first_contact_without_contact_persons_names_nobody(leader_client, leader, vaxjo):
    process = services.start_process(municipality=vaxjo, user=leader)
    FirstContact.objects.create(
        process=process,
        contacted_on=datetime.date(2026, 1, 10),
        channel="phone",
        recorded_by=leader,
    )

    page = leader_client.get(reverse("workflows:process", args=[process.pk])).content.decode()

    assert first_contact_lines(page) == ["2026-01-10, Phone: "]
