"""The municipality's formal decision as the Region must be able to stand behind it: dates set
by Swedish law, dates that make sense, legal force learnt later, corrections, minutes files."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.formats import date_format

from audit.models import AuditEvent
from notifications.models import Notification
from tests.factories import UserFactory
from tests.support.trail_exports import download_trail
from workflows import services
from workflows.legal_dates import appeal_deadline
from workflows.models import Decision, Stage
from workflows.voiding import void_record

from .helpers import (  # noqa: F401 (english: a fixture)
    current_task,
    decision_fields,
    english,
    field_error,
    open_task,
    snapshot,
    walk_to,
)
from .test_overview import board_rows, pdf_text, table

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

UTC = datetime.UTC


def at(day: str, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def awaiting_decision(leader, vaxjo, vaxjo_contact):
    """Växjö's process, its draft approved on 2026-05-04, waiting for the decision (today is
    2026-06-15 in these tests unless a test travels elsewhere)."""
    with time_machine.travel(at("2026-05-04"), tick=False):
        process = services.start_process(municipality=vaxjo, user=leader)
        walk_to(process, leader, vaxjo_contact, "decision")
    with time_machine.travel(at("2026-06-15"), tick=False):
        yield process


def decision_post(**overrides) -> dict:
    return {
        "body": "kf",
        "meeting_date": "2026-05-18",
        "paragraph": "57",
        "case_number": "KS 2026/39",
        "outcome": "adopted",
        "certification_date": "2026-05-27",
        "announcement_date": "2026-05-29",
    } | overrides


def post_decision(client, process, **overrides):
    task = open_task(process, "decision")
    url = reverse("workflows:step", args=[task.pk])
    return client.post(url, decision_post(**overrides))


# --- 1. The appeal deadline by Swedish law ----------------------------------------------------


@pytest.mark.parametrize(
    ("announced", "last_day"),
    [
        ("2026-04-13", "2026-05-04"),  # a Monday: three weeks, nothing moves
        ("2026-05-23", "2026-06-15"),  # three weeks end on a Saturday: Monday
        ("2026-05-29", "2026-06-22"),  # midsommarafton (Fri), midsommardagen (Sat): Monday
        ("2026-12-03", "2026-12-28"),  # julafton (Thu), juldagen, annandag jul, Sunday
        ("2026-12-10", "2027-01-04"),  # nyårsafton (Thu), nyårsdagen, the weekend
        ("2027-03-05", "2027-03-30"),  # långfredag, påskafton, påskdagen, annandag påsk
        ("2026-05-15", "2026-06-05"),  # a Friday that is no holiday (the national day is Sat)
    ],
)
def test_appeal_deadline_is_three_weeks_moved_past_weekends_holidays_and_eves(announced, last_day):
    assert appeal_deadline(datetime.date.fromisoformat(announced)) == datetime.date.fromisoformat(
        last_day
    )


def test_process_page_shows_the_deadline_moved_past_midsommar_and_the_rule(
    awaiting_decision, leader_client
):
    response = post_decision(leader_client, awaiting_decision, announcement_date="2026-05-29")
    assert response.status_code == 302

    page = leader_client.get(reverse("workflows:process", args=[awaiting_decision.pk]))
    text = page.content.decode()
    assert awaiting_decision.decisions.get().appeal_deadline == datetime.date(2026, 6, 22)
    assert date_format(datetime.date(2026, 6, 22), "SHORT_DATE_FORMAT") in text
    assert date_format(datetime.date(2026, 6, 19), "SHORT_DATE_FORMAT") not in text
    assert "lag (1930:173)" in text


# --- 2. Dates that make sense -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"meeting_date": "2026-01-09"},
            "meeting_date",
            "The meeting cannot be before the first contact with the municipality",
        ),
        (
            {"meeting_date": "2026-05-03"},
            "meeting_date",
            "The meeting cannot be before the draft was approved",
        ),
        ({"meeting_date": "2026-06-16"}, "meeting_date", "The meeting cannot be later than today."),
        (
            {"certification_date": "2026-05-17"},
            "certification_date",
            "Minutes are certified after the meeting.",
        ),
        (
            {"announcement_date": "2026-05-26"},
            "announcement_date",
            "The minutes are announced after they are certified.",
        ),
        (
            {"legal_force_date": "2026-06-22"},  # the appeal deadline itself
            "legal_force_date",
            "Legal force comes after the appeal deadline",
        ),
        (
            {"legal_force_date": "2026-07-30"},  # after the deadline, but not reached yet
            "legal_force_date",
            "Record legal force once it is reached (not later than today).",
        ),
        (
            {"legal_force_date": "2026-06-30", "announcement_date": "", "certification_date": ""},
            "legal_force_date",
            "Give the announcement date first",
        ),
        (
            {"announcement_date": "2099-12-11"},
            "announcement_date",
            "This date is too far in the future",
        ),
        (
            {"certification_date": "2099-12-31", "legal_force_date": "2099-12-31"},
            "certification_date",
            "This date is too far in the future",
        ),
        (
            {"meeting_date": "9999-12-11"},  # no deadline arithmetic overflows
            "meeting_date",
            "Enter a date between the years 1900 and 2100.",
        ),
    ],
)
def test_impossible_decision_dates_are_refused_next_to_the_field_and_nothing_is_saved(
    awaiting_decision, leader_client, overrides, field, message
):
    before = snapshot()

    response = post_decision(leader_client, awaiting_decision, **overrides)

    assert response.status_code == 400
    assert field_error(response, field, message)
    assert snapshot() == before


def test_a_decision_with_dates_in_order_is_recorded(awaiting_decision, leader_client):
    with time_machine.travel(at("2026-06-24"), tick=False):  # recorded once legal force is known
        response = post_decision(
            leader_client,
            awaiting_decision,
            meeting_date="2026-05-04",
            legal_force_date="2026-06-23",
        )

    assert response.status_code == 302
    decision = awaiting_decision.decisions.get()
    assert decision.legal_force_date == datetime.date(2026, 6, 23)


# --- 5. Decision details wherever the decision is shown ---------------------------------------


def test_decision_details_show_on_the_process_page_the_municipality_page_and_the_pdf(
    awaiting_decision, leader_client, steering
):
    post_decision(
        leader_client,
        awaiting_decision,
        paragraph="§ 7",
        notes="Beslutet var enhälligt.",
        minutes_url="https://vaxjo.example/anslagstavla/ks-2026-05-18",
    )
    assert awaiting_decision.decisions.get().paragraph == "7"

    page = leader_client.get(reverse("workflows:process", args=[awaiting_decision.pk]))
    text = page.content.decode()
    assert "§ 7" in text and "§ § 7" not in text
    assert "Minutes certified (justerat)" in text
    assert date_format(datetime.date(2026, 5, 27), "SHORT_DATE_FORMAT") in text
    assert "Beslutet var enhälligt." in text
    assert 'href="https://vaxjo.example/anslagstavla/ks-2026-05-18"' in text

    leader_client.force_login(steering)
    municipality = leader_client.get(reverse("workflows:overview_municipality", args=["0780"]))
    header, row = table(municipality, "decisions-caption")[:2]
    shown = dict(zip(header, row, strict=True))
    assert shown["Paragraph (§)"] == "§ 7"
    assert shown["Minutes certified"] == "2026-05-27"
    assert shown["Notes"] == "Beslutet var enhälligt."
    assert shown["Minutes"] == "Link to the minutes"

    report = pdf_text(
        leader_client.get(reverse("workflows:overview_municipality_report", args=["0780"]))
    )
    assert "§ 7" in report and "§ § 7" not in report
    assert "2026-05-27" in report and "Beslutet var enhälligt." in report


# --- 4. Correcting a decision never strands a process -----------------------------------------


@pytest.mark.parametrize("outcome", ["adopted", "rejected", "sent_back"])
def test_voiding_the_decision_reopens_the_decision_step_even_after_the_process_ended(
    awaiting_decision, leader, leader_client, outcome
):
    decision = services.record_decision(
        task=open_task(awaiting_decision, "decision"),
        user=leader,
        **decision_fields(outcome, meeting=datetime.date(2026, 5, 18)),
    )

    void_record(record=decision, user=leader, reason="Fel paragraf.")

    awaiting_decision.refresh_from_db()
    assert awaiting_decision.stage == Stage.AWAITING_DECISION
    assert awaiting_decision.status == "NEW" and awaiting_decision.finished is None
    task = current_task(awaiting_decision)
    assert task.flow_task.name == "decision" and task.owner == leader
    # The leader is told, as for any step opened for them.
    assert Notification.objects.filter(
        recipient_email=leader.email, body_text__contains=reverse("workflows:step", args=[task.pk])
    ).exists()
    page = leader_client.get(reverse("workflows:process", args=[awaiting_decision.pk]))
    assert reverse("workflows:step", args=[task.pk]) in page.content.decode()
    assert "Draft approved, awaiting decision" in page.content.decode()

    # Recorded again, the process goes on as the new decision says.
    again = services.record_decision(
        task=task, user=leader, **decision_fields("adopted", meeting=datetime.date(2026, 5, 18))
    )
    awaiting_decision.refresh_from_db()
    assert awaiting_decision.stage == Stage.ADOPTED and awaiting_decision.status == "DONE"
    assert again.pk != decision.pk and current_task(awaiting_decision) is None


def test_a_wrong_decision_is_corrected_on_one_page_and_the_board_follows(
    awaiting_decision, leader, leader_client
):
    post_decision(leader_client, awaiting_decision, outcome="rejected", paragraph="75")
    wrong = awaiting_decision.decisions.get()
    board = board_rows(leader_client.get(reverse("workflows:overview")))
    assert board["0780"]["column"] == "Policy rejected"
    url = reverse("workflows:correct_decision", args=[awaiting_decision.pk, wrong.pk])

    form = leader_client.get(url).content.decode()
    assert 'name="reason"' in form and 'value="KS 2026/39"' in form  # prefilled from the record

    response = leader_client.post(
        url, {"reason": "Fel utfall och paragraf."} | decision_post(paragraph="57")
    )

    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.is_voided and wrong.voided_reason == "Fel utfall och paragraf."
    live = awaiting_decision.decisions.get(is_voided=False)
    assert live.outcome == "adopted" and live.paragraph == "57"
    awaiting_decision.refresh_from_db()
    assert awaiting_decision.stage == Stage.ADOPTED
    board = board_rows(leader_client.get(reverse("workflows:overview")))
    assert board["0780"]["column"] == "Policy adopted"
    page = leader_client.get(reverse("workflows:process", args=[awaiting_decision.pk]))
    assert "Fel utfall och paragraf." in page.content.decode()


def test_a_correction_with_a_bad_date_voids_nothing(awaiting_decision, leader_client):
    post_decision(leader_client, awaiting_decision)
    decision = awaiting_decision.decisions.get()
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:correct_decision", args=[awaiting_decision.pk, decision.pk]),
        {"reason": "Fel datum."} | decision_post(meeting_date="2026-06-20"),
    )

    assert response.status_code == 400
    assert field_error(response, "meeting_date", "The meeting cannot be later than today.")
    assert snapshot() == before


def test_correcting_a_decision_of_an_earlier_round_never_completes_the_rounds_after_it(
    awaiting_decision, leader, vaxjo_contact, leader_client
):
    post_decision(leader_client, awaiting_decision, outcome="sent_back")
    sent_back = awaiting_decision.decisions.get()
    next_round = walk_to(awaiting_decision, leader, vaxjo_contact, "decision")
    before = snapshot()

    response = leader_client.post(
        reverse("workflows:correct_decision", args=[awaiting_decision.pk, sent_back.pk]),
        {"reason": "Fel paragraf."} | decision_post(outcome="adopted"),
    )

    assert response.status_code == 400
    assert "The process has moved on since this decision" in response.content.decode()
    assert snapshot() == before  # nothing voided, the new round's step still open
    assert current_task(awaiting_decision).pk == next_round.pk


# --- 3. Legal force and appeals after the fact ------------------------------------------------


@pytest.fixture
def adopted(awaiting_decision, leader_client):
    """Adopted at the meeting of 2026-05-18, announced 2026-05-29: open for appeal until
    2026-06-22 (midsommar), legal force not yet known."""
    post_decision(leader_client, awaiting_decision)
    return awaiting_decision.decisions.get()


def test_after_the_appeal_deadline_the_page_and_board_ask_for_legal_force_prefilled(
    adopted, leader, leader_client
):
    process_url = reverse("workflows:process", args=[adopted.process_id])
    before = leader_client.get(process_url).content.decode()
    assert "Open for appeal until" in before and "Record legal force" not in before

    with time_machine.travel(at("2026-06-23"), tick=False):
        page = leader_client.get(process_url).content.decode()
        board = board_rows(leader_client.get(reverse("workflows:overview")))
    assert "The appeal period ended on" in page
    assert 'name="legal_force_date"' in page and 'value="2026-06-23"' in page
    assert board["0780"]["next_action"] == "Appeal period over: record legal force"

    with time_machine.travel(at("2026-07-01"), tick=False):
        leader_client.force_login(leader)  # weeks later: a new session
        response = leader_client.post(
            reverse("workflows:record_legal_force", args=[adopted.process_id, adopted.pk]),
            {"legal_force_date": "2026-06-23"},
        )
        assert response.status_code == 302
        page = leader_client.get(process_url).content.decode()
        board = board_rows(leader_client.get(reverse("workflows:overview")))
    adopted.refresh_from_db()
    assert adopted.legal_force_date == datetime.date(2026, 6, 23)
    assert "The appeal period ended on" not in page
    assert date_format(datetime.date(2026, 6, 23), "SHORT_DATE_FORMAT") in page
    assert board["0780"]["next_action"] != "Appeal period over: record legal force"
    latest = adopted.history.first()
    assert latest.history_change_reason == "Legal force recorded: from 2026-06-23"
    event = AuditEvent.objects.filter(object_id=str(adopted.pk)).order_by("-pk").first()
    assert event.reason == "Legal force recorded: from 2026-06-23"


def test_a_matter_sent_back_is_never_asked_for_legal_force(awaiting_decision, leader_client):
    post_decision(leader_client, awaiting_decision, outcome="sent_back")

    with time_machine.travel(at("2026-06-23"), tick=False):  # past its appeal deadline
        page = leader_client.get(reverse("workflows:process", args=[awaiting_decision.pk]))
        board = board_rows(leader_client.get(reverse("workflows:overview")))

    assert "Record legal force" not in page.content.decode()
    assert board["0780"]["next_action"] != "Appeal period over: record legal force"


def test_an_appeal_holds_legal_force_open_until_recorded(adopted, leader, leader_client):
    with time_machine.travel(at("2026-06-10"), tick=False):
        response = leader_client.post(
            reverse("workflows:record_appeal", args=[adopted.process_id, adopted.pk]),
            {"case_number": "Mål nr 1234-26", "lodged_on": "2026-06-09"},
        )
    assert response.status_code == 302

    with time_machine.travel(at("2026-07-01"), tick=False):
        leader_client.force_login(leader)  # weeks later: a new session
        page = leader_client.get(reverse("workflows:process", args=[adopted.process_id]))
        board = board_rows(leader_client.get(reverse("workflows:overview")))
    text = page.content.decode()
    assert "Mål nr 1234-26" in text and "waits for the court's ruling" in text
    assert "The appeal period ended on" not in text
    assert board["0780"]["next_action"] != "Appeal period over: record legal force"


def test_legal_force_on_the_deadline_or_in_the_future_is_refused(adopted, leader_client):
    url = reverse("workflows:record_legal_force", args=[adopted.process_id, adopted.pk])
    with time_machine.travel(at("2026-06-25"), tick=False):
        before = snapshot()
        on_deadline = leader_client.post(url, {"legal_force_date": "2026-06-22"})
        ahead = leader_client.post(url, {"legal_force_date": "2026-06-26"})
        assert snapshot() == before
    assert on_deadline.status_code == 400
    assert field_error(
        on_deadline, "legal_force_date", "Legal force comes after the appeal deadline"
    )
    assert field_error(ahead, "legal_force_date", "Record legal force once it is reached")


# --- 6. Minutes files -------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_minutes_pdf_is_stored_under_a_random_name_and_downloaded_only_by_readers(
    awaiting_decision, leader_client, steering, media
):
    response = post_decision(
        leader_client, awaiting_decision, minutes_file=upload("KS <prot> 18 maj.pdf", PDF)
    )
    assert response.status_code == 302
    decision = awaiting_decision.decisions.get()
    stored = decision.minutes_file.name
    assert stored.startswith("minutes/2026/") and stored.endswith(".pdf")
    assert "prot" not in stored and "maj" not in stored
    assert decision.minutes_sha256 == hashlib.sha256(PDF).hexdigest()
    url = reverse("workflows:minutes_file", args=[awaiting_decision.pk, decision.pk])
    assert (
        url
        in leader_client.get(
            reverse("workflows:process", args=[awaiting_decision.pk])
        ).content.decode()
    )

    client = Client()  # leader_client is the test's own client, signed in
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    client.force_login(UserFactory())  # signed in, but not a reader of processes
    assert client.get(url).status_code == 403

    client.force_login(steering)
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="protokoll-vaxjo-2026-05-18-p57.pdf"'
    )
    assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("protokoll.pdf", b"<html><script>alert(1)</script></html>"),  # HTML named .pdf
        ("protokoll.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00"),  # a Windows program
        ("protokoll.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # an image
    ],
)
def test_a_minutes_file_that_is_not_pdf_odt_or_docx_by_content_is_refused(
    awaiting_decision, leader_client, media, name, content
):
    before = snapshot()

    response = post_decision(leader_client, awaiting_decision, minutes_file=upload(name, content))

    assert response.status_code == 400
    assert field_error(response, "minutes_file", "The minutes must be a PDF, ODT or DOCX file")
    assert snapshot() == before and not any(media.rglob("*.*"))


def test_a_minutes_file_over_the_size_limit_is_refused_with_the_limit(
    awaiting_decision, leader_client, media, settings
):
    settings.MINUTES_MAX_BYTES = 1024 * 1024
    big = PDF + b"0" * (2 * 1024 * 1024)

    response = post_decision(leader_client, awaiting_decision, minutes_file=upload("p.pdf", big))

    assert response.status_code == 400
    assert field_error(response, "minutes_file", "The file is too large: at most 1 MB")
    assert not awaiting_decision.decisions.exists()


def test_the_archive_export_holds_the_minutes_file_with_its_sha256(
    awaiting_decision, leader_client, steering, media
):
    post_decision(leader_client, awaiting_decision, minutes_file=upload("p.pdf", PDF))
    decision = awaiting_decision.decisions.get()
    leader_client.force_login(steering)

    response = download_trail(leader_client, "audit_archive")

    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        name = f"minutes/decision-{decision.pk}.pdf"
        assert archive.read(name) == PDF
    assert manifest["files"][name]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert manifest["files"][name]["recorded_sha256"] == decision.minutes_sha256


def test_an_archive_export_says_which_minutes_file_is_missing_and_still_holds_the_rest(
    awaiting_decision, leader_client, steering, media
):
    post_decision(leader_client, awaiting_decision, minutes_file=upload("p.pdf", PDF))
    decision = awaiting_decision.decisions.get()
    decision.minutes_file.storage.delete(decision.minutes_file.name)  # lost from the disk
    leader_client.force_login(steering)

    response = download_trail(leader_client, "audit_archive")

    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert archive.read("events.jsonl")
    name = f"minutes/decision-{decision.pk}.pdf"
    assert manifest["files"][name]["missing"] is True
    assert manifest["files"][name]["recorded_sha256"] == decision.minutes_sha256


def test_deadlines_stored_by_the_old_rule_are_corrected_with_a_reason(adopted):
    from django.core.management import call_command

    # A row written before this rule: announcement + 21 days, on midsommarafton.
    Decision.objects.filter(pk=adopted.pk).update(appeal_deadline=datetime.date(2026, 6, 19))
    out = io.StringIO()

    call_command("recompute_appeal_deadlines", stdout=out)
    call_command("recompute_appeal_deadlines", stdout=out)  # idempotent

    adopted.refresh_from_db()
    assert adopted.appeal_deadline == datetime.date(2026, 6, 22)
    assert out.getvalue().splitlines() == [
        "1 appeal deadline(s) corrected.",
        "0 appeal deadline(s) corrected.",
    ]
    latest = adopted.history.first()
    assert latest.history_change_reason == "Appeal deadline recomputed under lag (1930:173)"
