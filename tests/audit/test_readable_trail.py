"""The trail in people's words: each change shows its field's label and its values as a person
reads them (choice labels, names instead of ids, Ja/Nej, dates), in Swedish and in English."""

import csv
import datetime
import io
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from audit.models import AuditEvent, Kind
from workflows.audit import stamp

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Overrides the package's English default: this story is recorded and read in Swedish."""


def today_in_words(language: str) -> str:
    """Today as a reader of ``language`` reads a date (the story's meeting is held today)."""
    with translation.override(language):
        return date_format(timezone.localdate(), "DATE_FORMAT")


def event_row(page: str, what: str) -> str:
    """The table row of the (newest) event whose "What" cell holds ``what``."""
    rows = re.findall(r'<tr id="event-\d+">(.*?)</tr>', page, re.S)
    return next(row for row in rows if what in row)


def timeline(client, process, language="sv", **filters) -> str:
    """The process's timeline page in ``language``, chosen as a reader does (the language
    cookie the menu's language switch sets)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse("audit:process", args=[process.pk])
    return client.get(url, filters, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_in_swedish_a_decisions_changes_show_labels_and_values_in_words(
    vaxjo_story, steering_client
):
    row = event_row(
        timeline(steering_client, vaxjo_story.process), "<strong>Beslut registrerat</strong>"
    )

    assert "<dt>Beslutande organ</dt><dd>– → Kommunfullmäktige (KF)</dd>" in row
    assert "<dt>Resultat</dt><dd>– → Antagen</dd>" in row
    assert "<dt>Makulerad</dt><dd>– → Nej</dd>" in row
    assert f"<dt>Sammanträdesdatum</dt><dd>– → {today_in_words('sv')}</dd>" in row
    assert "<dt>Registrerad av</dt><dd>– → Pia Projektledare</dd>" in row
    assert "<dt>Process</dt><dd>– → ASF-policy – Växjö</dd>" in row
    for raw in ("is_voided", "<dt>body</dt>", "→ kf", "→ adopted", "→ False", "recorded_by"):
        assert raw not in row


def test_in_english_the_same_changes_read_in_english(vaxjo_story, steering_client):
    row = event_row(
        timeline(steering_client, vaxjo_story.process, "en"), "<strong>Decision recorded</strong>"
    )

    assert "<dt>Decision body</dt><dd>– → Municipal council (KF)</dd>" in row
    assert "<dt>Voided</dt><dd>– → No</dd>" in row
    assert f"<dt>Meeting date</dt><dd>– → {today_in_words('en')}</dd>" in row
    assert "<dt>Recorded by</dt><dd>– → Pia Projektledare</dd>" in row


def test_an_emails_delivery_reads_in_swedish(vaxjo_story, steering_client):
    row = event_row(timeline(steering_client, vaxjo_story.process), "Mejl skickat")

    assert "<dt>Status</dt><dd>I kö → Skickad</dd>" in row
    assert "<dt>Försök</dt><dd>0 → 1</dd>" in row
    assert "<td>Skickat (försök 1)</td>" in row
    assert "sent (attempt 1)" not in row and "queued" not in row


def test_a_steps_changes_name_the_step_and_the_person_not_the_engines_codes(
    vaxjo_story, steering_client
):
    row = event_row(
        timeline(steering_client, vaxjo_story.process),
        "<strong>Steget öppnat</strong>: Registrera beslutet",
    )

    assert "<dt>Uppgift</dt><dd>– → Registrera beslutet</dd>" in row
    assert "<dt>Ansvarig</dt><dd>– → Pia Projektledare</dd>" in row
    for code in ("PolicyAdoptionFlow", "HUMAN", "lead_policyprocess", "<dt>Token</dt>"):
        assert code not in row


def test_the_csv_keeps_the_codes_and_adds_the_labels(vaxjo_story, steering_client):
    steering_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = steering_client.get(reverse("audit:process_csv", args=[vaxjo_story.process.pk]))
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, *rows = csv.reader(io.StringIO(body))
    decision = next(dict(zip(header, row, strict=True)) for row in rows if "KS 2026/39" in row[9])

    # The machine columns, for re-import: codes and the changes as JSON.
    assert decision["Händelse"] == "Beslut registrerat"
    assert decision["Händelsekod"] == "decision_recorded"
    assert decision["Skede"] == "awaiting_decision"
    assert json.loads(decision["Ändringar"])["body"] == [None, "kf"]
    # The labels, for people.
    assert decision["Skedets namn"] == "Utkast godkänt, väntar på beslut"
    readable = decision["Ändringar (läsbara)"]
    assert "Beslutande organ: – → Kommunfullmäktige (KF)" in readable
    assert "Registrerad av: – → Pia Projektledare" in readable
    assert "Makulerad: – → Nej" in readable
    assert "kf" not in readable and "is_voided" not in readable


# --- Every event says what happened -----------------------------------------------------------


def test_each_event_of_the_story_says_what_happened(vaxjo_story, steering_client):
    page = timeline(steering_client, vaxjo_story.process)
    first_contact = timeline(steering_client, vaxjo_story.process, kind="approvers_chosen")

    chosen = event_row(first_contact, "<strong>Kontaktpersoner som godkänner valda</strong>")
    assert "Kontaktpersoner som godkänner: Vera Växjö" in chosen
    assert "<td>Första kontakten registrerad</td>" in chosen  # the step's reason, not "–"
    assert "<strong>Processen avslutad</strong>: Policyn antagen" in page
    everything = AuditEvent.objects.filter(process_id=vaxjo_story.process.pk)
    assert not everything.filter(kind=Kind.PROCESS_CHANGED).exists()


def test_a_record_saved_without_a_visible_change_is_not_an_event_of_its_own(
    vaxjo_story, steering_client
):

    decision = vaxjo_story.process.decisions.get()
    stamp(decision, user=vaxjo_story.leader, reason="Sparat igen")
    decision.save()  # nothing changed: simple-history still writes a record

    touched = AuditEvent.objects.order_by("-id").first()
    assert touched.kind == Kind.RECORD_TOUCHED  # on the record, in the chain
    assert "Sparat igen" not in timeline(steering_client, vaxjo_story.process)
    url = reverse("audit:process", args=[vaxjo_story.process.pk])
    asked = steering_client.get(url, {"kind": Kind.RECORD_TOUCHED}).content.decode()
    assert "Sparat igen" in asked


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_changed_time_reads_as_djangos_format_writes_it_whole(language):
    """The readable changes write a time as its day's text and its minute's (each kept), which
    must be what the language's DATETIME_FORMAT writes for the whole time: every minute of a
    day around a change of daylight saving time, noon and midnight in English's 12-hour words
    (`P`), every day of a year."""
    from audit.models import AuditEvent as Model
    from audit.readable import Resolver, value_text

    field = Model._meta.get_field("occurred_at")  # a DateTimeField
    zone = timezone.get_current_timezone()
    start = datetime.datetime(2026, 10, 24, 22, 0, tzinfo=datetime.UTC)
    times = [start + datetime.timedelta(minutes=m) for m in range(0, 36 * 60, 7)]
    times += [start + datetime.timedelta(days=d, hours=d % 24) for d in range(366)]
    with translation.override(language):
        for moment in times:
            stored = moment.isoformat()  # as the trail stores a time: with its offset
            expected = date_format(moment.astimezone(zone), "DATETIME_FORMAT")
            assert value_text(field, stored, Resolver()) == expected, stored


def test_the_names_a_pages_changes_point_at_are_read_in_one_query(
    vaxjo_story, django_assert_num_queries
):
    """The people, municipality, process, drafts, contact, task link and step the story's
    changes point at are named as a reader reads them, all in one query (a query per model
    before)."""
    from django.contrib.auth import get_user_model
    from viewflow.workflow.models import Task

    from audit.readable import Resolver
    from municipalities.models import Contact, Municipality
    from workflows.flows import PolicyAdoptionFlow
    from workflows.models import ApprovalAnswer, PolicyDraft, PolicyProcess, TaskLink

    process = vaxjo_story.process
    drafts = list(PolicyDraft.objects.filter(process=process).order_by("version"))
    link = TaskLink.objects.filter(contact=vaxjo_story.contact).order_by("pk").first()
    answer = ApprovalAnswer.objects.filter(contact=vaxjo_story.contact).order_by("pk").first()
    resolver = Resolver()
    resolver.want("workflows.decision", {"recorded_by": [None, vaxjo_story.leader.pk]})
    resolver.want("workflows.decision", {"process": [None, process.pk]})
    resolver.want("workflows.approvalanswer", {"draft": [drafts[0].pk, drafts[1].pk]})
    resolver.want("workflows.approvalanswer", {"contact": [None, vaxjo_story.contact.pk]})
    resolver.want("workflows.approvalanswer", {"via_link": [None, link.pk]})
    resolver.want("workflows.policyprocess", {"municipality": [None, process.municipality_id]})
    resolver.want("workflows.approvalanswer", {"via_link": [None, 999_999]})  # gone: its id
    step = Task.objects.filter(process=process, flow_task=PolicyAdoptionFlow.decision).first()
    resolver.want("workflows.tasklink", {"task": [None, step.pk]})

    with django_assert_num_queries(1):
        resolver.fetch_all()

    user = get_user_model()
    with django_assert_num_queries(0):
        assert resolver.name(user, vaxjo_story.leader.pk) == "Pia Projektledare"
        assert resolver.name(PolicyProcess, process.pk) == "ASF-policy – Växjö"
        assert resolver.name(PolicyDraft, drafts[1].pk) == "Utkast v2"
        assert resolver.name(Contact, vaxjo_story.contact.pk) == vaxjo_story.contact.name
        assert resolver.name(TaskLink, link.pk) == f"Uppgiftslänk till {vaxjo_story.contact.name}"
        assert resolver.name(Municipality, process.municipality_id) == "Växjö"
        assert resolver.name(TaskLink, 999_999) == "#999999"
        assert resolver.name(Task, step.pk) == "Registrera beslutet"
    # An answer, asked for afterwards, in a query of its own.
    assert resolver.name(ApprovalAnswer, answer.pk).endswith(f"({vaxjo_story.contact.name})")
