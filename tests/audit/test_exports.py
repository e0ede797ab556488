"""Exports: the CSV round-trips, the archive's checksums verify, the GDPR export is complete."""

import csv
import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import translation

from audit import exports, selectors, services
from audit.models import AuditEvent, Kind
from audit.personal import expand
from exports.models import ExportJob
from tests.audit.conftest import meeting_in_the_next_process
from tests.support.trail_exports import download_trail

pytestmark = pytest.mark.django_db


def csv_rows(response, delimiter=","):
    return csv_rows_of(b"".join(response.streaming_content).decode("utf-8"), delimiter)


def csv_rows_of(body: str, delimiter=","):
    assert body.startswith("\ufeff")  # Excel reads the BOM as "this is UTF-8"
    return list(csv.reader(io.StringIO(body[1:]), delimiter=delimiter))


def test_csv_export_round_trips_the_timeline(vaxjo_story, steering_client):
    process = vaxjo_story.process
    response = steering_client.get(reverse("audit:process_csv", args=[process.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == exports.csv_header()
    events = list(AuditEvent.objects.filter(process_id=process.pk).order_by("id"))
    assert rows == [exports.csv_row(e) for e in events]
    by_id = {int(row[1]): row for row in rows}
    decision = next(e for e in events if e.kind == Kind.DECISION_RECORDED)
    assert by_id[decision.id][6] == "Växjö" and "KS 2026/39" in by_id[decision.id][9]
    answer = next(e for e in events if e.kind == Kind.ANSWER_RECEIVED)
    assert by_id[answer.id][4] == "Vera Växjö (via task link)"
    assert by_id[answer.id][4] == expand(answer.actor_label, answer.personal)


def test_csv_export_with_semicolons_and_filters(vaxjo_story, steering_client):
    response = download_trail(
        steering_client,
        "audit_csv",
        {
            "county": "07",
            "kind": [Kind.DECISION_RECORDED, Kind.LINK_SENT],
            "delimiter": "semicolon",
        },
    )
    header, *rows = csv_rows(response, delimiter=";")
    assert len(header) == len(exports.csv_header()) == 16
    assert sorted(row[3] for row in rows) == [
        "Decision recorded",
        "Task link sent",
        "Task link sent",
    ]


AWKWARD = 'Beslut: "återremiss", se § 4,\nrad två; åäö ÅÄÖ\r\nslut'


def awkward_trail(story, admin_user) -> None:
    """The story, pseudonymised, plus an event of every kind about a decision whose changes are
    hard to write: quotes, commas, semicolons, line breaks, Swedish letters, a person's
    placeholders (in the texts, in some changes too), the same values again (and once as 0/1
    instead of false/true), a related user and one that is gone (#id), a date, times (with and
    without their offset, and one that is no time), a choice the field does not have, empty
    texts, a fraction, a field the model does not have (with nested values, sometimes an
    object)."""
    services.pseudonymise_person(
        person=story.contact, user=admin_user, reason='Har slutat, "vid" årsskiftet'
    )
    municipality = story.process.municipality
    people = {"people": {"9": {"name": 'Åsa "Ö", Lind', "email": "asa@example.se"}}}
    for i, kind in enumerate(Kind.values):
        changes = {
            "body": [None, "kf"] if i % 3 else ["kf", "no-such-body"],
            "is_voided": [False, True] if i % 2 else [0, 1],
            "notes": [
                "" if i % 3 == 1 else AWKWARD,
                f"⟦p:9⟧ sa: {AWKWARD}" if i % 4 == 1 else "ok",
            ],
            "recorded_by": [None, 987654 if i % 6 == 1 else story.leader.pk],
            "meeting_date": [None, f"2026-05-{1 + i % 28:02d}"],
            "recorded_at": [
                "not a time" if i % 5 == 2 else None,
                f"2026-05-04T{i % 24:02d}:34:56.123456+00:00" if i % 2 else "2026-05-04T12:34:56",
            ],
            "paragraph": [None, True if i % 5 == 0 else i % 4],  # 1 and true read apart
            "case_number": ["", 'KS "2026"; 39'],
            "gone": [[1, "två"], {"ö": [None, True], "a": "b"}]
            if i % 4 == 0
            else [[1, "två", None], ["x;y", 2]],
        }
        if i % 7 == 3:
            changes["share"] = [None, 0.5]
        services.append_event(
            kind=kind,
            model_label="workflows.decision",
            object_id=str(i),
            process_id=story.process.pk,
            municipality_id=municipality.pk,
            municipality_name=municipality.name,
            county_code="07",
            stage="decision",
            actor_label="⟦p:9⟧" if i % 3 == 0 else f"Pia, {i}",
            summary=f"{AWKWARD} (⟦p:9⟧)" if i % 2 else AWKWARD,
            reason='Varför? "Så", sa ⟦p:9:email⟧; ⟦p:8⟧',
            personal=people if i % 2 or i % 3 == 0 else {},
            changes=changes,
        )


def written(events, *, delimiter: str) -> str:
    """The file `csv_row` (one event at a time, from model instances) writes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(exports.csv_header())
    writer.writerows(exports.csv_row(event) for event in events)
    return "\ufeff" + buffer.getvalue()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_streamed_csv_is_byte_for_byte_what_the_per_event_path_writes(
    vaxjo_story, admin_user, language
):
    awkward_trail(vaxjo_story, admin_user)
    assert AuditEvent.objects.filter(pseudonymised_at__isnull=False).exists()
    vaxjo = vaxjo_story.process.municipality
    first_day = AuditEvent.objects.order_by("id").first().occurred_at.date()
    filters = [
        {},
        {"counties": ["07"]},
        {"county": "07", "kinds": [Kind.DECISION_RECORDED, Kind.ANSWER_RECEIVED]},
        {"municipality": vaxjo, "since": first_day},
        {"counties": ["08"]},
    ]
    bodies = []
    with translation.override(language):
        for found in filters:
            queryset = selectors.filtered_events(**found)
            for delimiter in (",", ";"):
                body = "".join(exports.stream_csv(queryset, delimiter=delimiter))
                assert body == written(queryset.order_by("id"), delimiter=delimiter), found
                bodies.append(body)
    # The whole trail: the people put back, every kind there, Kalmar's part without Kronoberg's.
    assert 'Åsa ""Ö"", Lind' in bodies[0] and "⟦" not in bodies[0]
    assert all(f",{kind}," in bodies[0] for kind in Kind.values)
    assert "Växjö" in bodies[0] and "Växjö" not in bodies[-1]


@pytest.mark.django_db(transaction=True)  # outside a transaction, as the export job reads
@pytest.mark.parametrize("names_kept", [exports.NAMES_KEPT, 1])  # names kept, or read again
def test_the_csv_streamed_outside_a_transaction_is_byte_for_byte_the_per_event_path(
    vaxjo_story, admin_user, monkeypatch, names_kept
):
    awkward_trail(vaxjo_story, admin_user)
    monkeypatch.setattr(exports, "CHUNK", 7)  # many blocks
    monkeypatch.setattr(exports, "NAMES_KEPT", names_kept)
    queryset = selectors.filtered_events()
    for language in ("sv", "en"):
        with translation.override(language):
            for delimiter in (",", ";"):
                body = "".join(exports.stream_csv(queryset, delimiter=delimiter))
                assert body == written(queryset.order_by("id"), delimiter=delimiter)


def test_the_export_job_writes_the_file_the_per_event_path_writes_for_the_readers_counties(
    vaxjo_story, admin_user, steering_client
):
    awkward_trail(vaxjo_story, admin_user)
    response = download_trail(steering_client, "audit_csv", {"county": "07"})
    body = b"".join(response.streaming_content).decode()
    job = ExportJob.objects.get()
    assert job.counties == ["07"]
    # The events up to the job's run (the job's own end and the download come after).
    last_id = int(csv_rows_of(body)[-1][1])
    with translation.override(job.language):
        events = selectors.filtered_events(county="07", counties=["07"]).filter(id__lte=last_id)
        assert body == written(events.order_by("id"), delimiter=",")
    assert 'Åsa ""Ö"", Lind sa: Beslut: ""återremiss""' in body


@pytest.mark.django_db(transaction=True)  # the job's parts read what is committed
@pytest.mark.parametrize(("language", "delimiter"), [("sv", ";"), ("en", ",")])
def test_the_export_job_made_in_parallel_parts_writes_the_file_of_the_per_event_path(
    vaxjo_story, admin_user, admin_client, settings, monkeypatch, language, delimiter
):
    """The whole trail, in three processes over three id ranges (a few blocks each), is the
    file `csv_row` writes: the parts in order, one header, every kind of event, the people put
    back (pseudonymised ones as pseudonymised), both languages and delimiters."""
    from exports import parts

    awkward_trail(vaxjo_story, admin_user)
    settings.EXPORTS_CSV_PROCESSES, settings.EXPORTS_CSV_PART_ROWS = 3, 5
    monkeypatch.setattr(exports, "CHUNK", 4)
    made_in_parts = []
    write = parts.write
    monkeypatch.setattr(
        parts,
        "write",
        lambda *args, **kw: made_in_parts.append(kw["processes"]) or write(*args, **kw),
    )
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the job's language
    response = download_trail(
        admin_client, "audit_csv", {"delimiter": "semicolon" if delimiter == ";" else ","}
    )
    body = b"".join(response.streaming_content).decode()
    job = ExportJob.objects.get()
    assert made_in_parts == [3] and job.language == language
    last_id = int(csv_rows_of(body, delimiter)[-1][1])
    events = selectors.filtered_events().filter(id__lte=last_id).order_by("id")
    assert events.count() > 3 * 4 * 2  # every part has more than one block
    with translation.override(language):
        assert body == written(events, delimiter=delimiter)
    assert all(f"{delimiter}{kind}{delimiter}" in body for kind in Kind.values)
    assert "⟦" not in body and body.count("\ufeff") == 1


@pytest.mark.django_db(transaction=True)  # the job's parts read what is committed
def test_a_part_that_fails_fails_the_job_and_leaves_no_file(
    vaxjo_story, admin_user, admin_client, settings, monkeypatch
):
    from exports import services as export_services
    from exports.models import Status

    settings.EXPORTS_CSV_PROCESSES, settings.EXPORTS_CSV_PART_ROWS = 2, 5
    stream_csv = exports.stream_csv

    def failing_later_parts(queryset, *, header=True, **kwargs):
        if not header:
            raise RuntimeError("the disk is full")
        return stream_csv(queryset, header=header, **kwargs)

    monkeypatch.setattr(exports, "stream_csv", failing_later_parts)
    job = export_services.request_export(
        user=admin_user, kind="audit_csv", params={"query": "", "delimiter": ","}
    )
    assert export_services.run_job(job.pk) == Status.FAILED
    job.refresh_from_db()
    assert "A part of the export failed" in job.error and "the disk is full" in job.error
    assert not job.file


@pytest.mark.django_db(transaction=True)  # a download runs outside any transaction
def test_a_download_abandoned_halfway_stops_and_leaves_the_connection_usable(
    vaxjo_story, admin_client, monkeypatch
):
    # The administrator reads every county's events (the whole record).
    steering_client = admin_client
    monkeypatch.setattr(exports, "CHUNK", 5)  # blocks of five lines: the story fills several
    url = reverse("audit:process_csv", args=[vaxjo_story.process.pk])
    response = steering_client.get(url)
    blocks = iter(response.streaming_content)
    header, first = next(blocks), next(blocks)
    assert header.startswith("\ufeff".encode()) and first.count(b"\n") == 5

    response.close()  # the browser went away

    assert AuditEvent.objects.filter(kind=Kind.DECISION_RECORDED).count() == 1
    _header, *rows = csv_rows(steering_client.get(url))
    events = selectors.filtered_events(process=vaxjo_story.process).order_by("id")
    assert rows == [exports.csv_row(e) for e in events]


def test_the_whole_trails_old_addresses_lead_to_its_export_job_with_the_same_filters(
    vaxjo_story, steering_client
):
    csv_page = steering_client.get(
        reverse("audit:export_csv"), {"county": "07", "delimiter": "semicolon"}, follow=True
    )
    archive_page = steering_client.get(reverse("audit:archive"), {"county": "07"}, follow=True)

    for page, kind in (  # in English: tests/audit's pages are
        (csv_page, "Audit trail (CSV)"),
        (archive_page, "Audit trail archive (ZIP with checksums)"),
    ):
        text = page.content.decode()
        assert page.status_code == 200 and "Create the export" in text and kind in text
        assert '<input type="hidden" name="query" value="county=07">' in text
    assert '<input type="hidden" name="delimiter" value="semicolon">' in csv_page.content.decode()


def test_archive_export_checksums_verify_and_hold_every_event(vaxjo_story, admin_client):
    """The administrator's archive holds the whole record (every county's events)."""
    from django.core.management import call_command

    steering_client = admin_client
    call_command("verify_audit", stdout=io.StringIO())
    response = download_trail(steering_client, "audit_archive")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert set(archive.namelist()) == {"events.jsonl", "schema.json", "manifest.json"}
        manifest = json.loads(archive.read("manifest.json"))
        for name, meta in manifest["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == meta["sha256"], name
        lines = archive.read("events.jsonl").decode().splitlines()
    assert exports.verify_archive(io.BytesIO(data)) == []
    events = [json.loads(line) for line in lines]
    # Every event up to the export's own request; after it only its "ready" and "downloaded".
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert [e["id"] for e in events] == ids[: len(events)]
    assert events[-1]["model_label"] == "exports.exportjob"
    assert events[-1]["kind"] == Kind.RECORD_CREATED
    later = AuditEvent.objects.filter(id__gt=events[-1]["id"])
    assert set(later.values_list("model_label", flat=True)) == {"exports.exportjob"}
    from audit.models import AuditCheckpoint

    head = AuditCheckpoint.objects.latest()  # the one `verify_audit` took: every chain's head
    assert head.events == len(events) - 1  # all but the export's request, which came after
    assert manifest["chain_head"] == {
        "seq": head.seq,
        "id": head.id,
        "hash": head.hash,
        "published": f"{head.seq}:{head.hash}",
    }
    assert manifest["last_verification"]["is_ok"] is True
    # The archive holds what is needed to re-check each event's hash with the key.
    from audit import chain

    last = events[-1]
    values = {name: last[name] for name in chain.HASHED_FIELDS}
    values["occurred_at"] = AuditEvent.objects.get(pk=last["id"]).occurred_at
    assert chain.event_hash(values) == last["hash"]


def test_tampered_archive_fails_its_checksum(vaxjo_story, tmp_path):
    path = tmp_path / "archive.zip"
    with path.open("wb") as target:
        exports.write_archive(target, selectors.filtered_events(process=vaxjo_story.process))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["events.jsonl"] = members["events.jsonl"].replace(b"KS 2026/39", b"KS 2026/40")
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert exports.verify_archive(tampered) == [
        "events.jsonl: checksum does not match the manifest"
    ]


def test_administrator_exports_everything_about_a_contact(vaxjo_story, admin_client):
    contact = vaxjo_story.contact
    page = admin_client.get(reverse("audit:person", args=[contact.pk]))
    assert page.status_code == 200 and "Vera Växjö" in page.content.decode()
    response = admin_client.post(reverse("audit:person_export", args=[contact.pk]))
    assert response.status_code == 200
    data = json.loads(response.content)
    records = data["records"]
    assert records["contact"][0]["email"] == "vera@vaxjo.example"
    assert len(records["approval_answers"]) == 2
    assert records["approval_answers"][0]["comment"] == "Förtydliga reserverad upphandling."
    assert len(records["task_links"]) == 2
    assert records["notifications"][0]["recipient_email"] == "vera@vaxjo.example"
    kinds = {e["kind"] for e in data["audit_events"]}
    assert {Kind.LINK_SENT, Kind.ANSWER_RECEIVED, Kind.LINK_OPENED} <= kinds
    assert AuditEvent.objects.filter(
        kind=Kind.PERSONAL_DATA_EXPORTED, object_id=str(contact.pk)
    ).exists()


def test_personal_data_pages_are_for_administrators_only(vaxjo_story, steering_client):
    contact = vaxjo_story.contact
    assert steering_client.get(reverse("audit:person", args=[contact.pk])).status_code == 403
    assert (
        steering_client.post(reverse("audit:person_export", args=[contact.pk])).status_code == 403
    )
    response = steering_client.post(
        reverse("audit:person_pseudonymise", args=[contact.pk]), {"reason": "x", "confirm": "on"}
    )
    assert response.status_code == 403
    assert steering_client.get(reverse("audit:people"), {"q": "Vera"}).status_code == 403


def test_export_is_post_only(vaxjo_story, admin_client):
    url = reverse("audit:person_export", args=[vaxjo_story.contact.pk])
    assert admin_client.get(url).status_code == 405


def test_a_personal_data_export_leaves_out_the_other_people_an_event_names(
    vaxjo_story, admin_client
):
    """A meeting names two contacts: Vera's export shows her, not Bo."""
    from tests.factories import ContactFactory

    contact = vaxjo_story.contact
    ContactFactory(
        municipality=vaxjo_story.process.municipality,
        name="Bo Bergström",
        email="bo@vaxjo.example",
    )
    meeting_in_the_next_process(
        vaxjo_story,
        participants="Vera Växjö, Bo Bergström",
        notes="Bo Bergström (bo@vaxjo.example) tar fram underlaget till Vera Växjö.",
    )

    response = admin_client.post(reverse("audit:person_export", args=[contact.pk]))
    events = json.loads(response.content)["audit_events"]

    meeting = next(e for e in events if e["kind"] == Kind.MEETING_RECORDED)
    exported = json.dumps(events, ensure_ascii=False)
    assert "Bo Bergström" not in exported and "bo@vaxjo.example" not in exported
    assert "Vera Växjö" in json.dumps(meeting["personal_changes"], ensure_ascii=False)
    assert "another person" in json.dumps(meeting["personal_changes"])
