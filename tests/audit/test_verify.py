"""`verify_audit` re-computes the chains and names the first row that was altered, removed or
reordered, checks the checkpoints that anchor them; the nightly task records each run and alerts
on failure."""

import io
import re

import pgtrigger
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from audit import chain, upstream
from audit.checkpoints import take_checkpoint
from audit.models import AuditCheckpoint, AuditEvent, AuditVerification, Kind
from audit.selectors import chain_status
from audit.tasks import verify_audit_chain
from audit.verification import verify_chain
from tests.factories import member_of

pytestmark = pytest.mark.django_db

UNLOCKED = ("audit.AuditEvent:append_only", "audit.AuditEvent:chain_immutable")


def tamper(sql: str, params=()) -> None:
    """Change the audit table behind the application's back, with its triggers lifted."""
    with upstream.ignoring_triggers(*UNLOCKED), connection.cursor() as cursor:
        cursor.execute(sql, params)


def story_event(story, kind):
    return AuditEvent.objects.filter(process_id=story.process.pk, kind=kind).order_by("id").first()


def next_in_chain(event):
    return AuditEvent.objects.filter(chain=event.chain, seq__gt=event.seq).order_by("seq").first()


def chain_end(event):
    return AuditEvent.objects.filter(chain=event.chain).order_by("-seq").first()


def run_command() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def broken() -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_audit", stdout=io.StringIO(), stderr=io.StringIO())
    return str(error.value)


def test_intact_chain_verifies_and_is_recorded(vaxjo_story):
    output = run_command()
    assert "The audit chain is intact." in output
    verification = AuditVerification.objects.latest()
    checkpoint = AuditCheckpoint.objects.latest()
    assert verification.is_ok and verification.head_seq == checkpoint.seq
    assert verification.head_hash == checkpoint.hash
    assert verification.rows_checked == AuditEvent.objects.count() == checkpoint.events
    status = chain_status()
    assert status.head == checkpoint and status.is_verified_up_to_head


def test_a_changed_row_is_named(vaxjo_story):
    decision = story_event(vaxjo_story, Kind.DECISION_RECORDED)
    tamper("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["Rejected", decision.pk])
    message = broken()
    assert f"event id {decision.pk} (seq {decision.seq})" in message
    assert "altered" in message
    assert AuditVerification.objects.latest().first_bad_id == decision.pk


def test_a_changed_personal_part_is_named(vaxjo_story):
    answer = story_event(vaxjo_story, Kind.ANSWER_RECEIVED)
    personal = answer.personal
    personal["people"][str(vaxjo_story.contact.pk)]["name"] = "Someone Else"
    tamper(
        "UPDATE audit_auditevent SET personal = %s::jsonb WHERE id = %s",
        [__import__("json").dumps(personal), answer.pk],
    )
    result = verify_chain()
    assert result.first_bad_id == answer.pk and "personal data" in result.first_problem


def test_a_deleted_row_is_detected_at_the_row_after_it(vaxjo_story):
    link = story_event(vaxjo_story, Kind.LINK_SENT)
    after = next_in_chain(link)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [link.pk])
    message = broken()
    assert f"event id {after.pk} (seq {after.seq})" in message
    assert f"seq {link.seq} missing" in message


def test_a_reordered_row_is_named(vaxjo_story):
    first = story_event(vaxjo_story, Kind.DRAFT_WRITTEN)
    second = next_in_chain(first)
    # Swap the two rows' places in the chain (via a free seq, as seq is unique in a chain).
    tamper("UPDATE audit_auditevent SET seq = 999999999 WHERE id = %s", [first.pk])
    tamper("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [first.seq, second.pk])
    tamper("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [second.seq, first.pk])
    result = verify_chain()
    assert result.first_bad_id == first.pk
    assert {p.event_id for p in result.problems} >= {first.pk, second.pk}


def test_an_inserted_forged_row_is_named(vaxjo_story):
    decision = story_event(vaxjo_story, Kind.DECISION_RECORDED)
    # A copy of a real row slipped in at the end, claiming to be the decision again.
    tamper(
        """INSERT INTO audit_auditevent (chain, seq, occurred_at, kind, actor_kind, actor_user_id,
        actor_label, model_label, object_id, history_id, process_id, municipality_id,
        municipality_name, county_code, stage, summary, reason, changes, personal,
        personal_digest, pseudonymised_at, prev_hash, hash, record_digest, chain_version)
        SELECT chain, (SELECT max(seq) + 1 FROM audit_auditevent AS e WHERE e.chain = a.chain),
        occurred_at, kind, actor_kind,
        actor_user_id, actor_label, model_label, object_id, history_id, process_id,
        municipality_id, municipality_name, county_code, stage, summary, reason, changes,
        personal, personal_digest, pseudonymised_at, prev_hash, hash, record_digest,
        chain_version
        FROM audit_auditevent AS a WHERE id = %s""",
        [decision.pk],
    )
    forged = AuditEvent.objects.order_by("-id").first()
    result = verify_chain()
    assert result.first_bad_id == forged.pk


def test_rows_cut_off_the_end_after_a_verification_are_detected(vaxjo_story):
    run_command()
    head = chain_end(story_event(vaxjo_story, Kind.DECISION_RECORDED))
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [head.pk])
    message = broken()
    assert f"seq {head.seq}" in message and "removed from the end" in message


def test_a_chain_rolled_back_to_an_earlier_state_is_detected_by_the_checkpoints(vaxjo_story):
    """Rows cut off the end and the chain's head row set back to match: the chain itself looks
    whole, but the checkpoint taken before still names the head it had."""
    from audit.models import ChainHead

    take_checkpoint()
    end = chain_end(story_event(vaxjo_story, Kind.DECISION_RECORDED))
    before = AuditEvent.objects.get(chain=end.chain, seq=end.seq - 1)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [end.pk])
    ChainHead.objects.filter(key=end.chain).update(seq=before.seq, hash=before.hash)

    result = verify_chain()

    assert not result.is_ok
    assert f"chain {end.chain} no longer holds seq {end.seq}" in result.first_problem


def test_a_pseudonymised_mark_without_a_pseudonymisation_is_detected(vaxjo_story):
    answer = story_event(vaxjo_story, Kind.ANSWER_RECEIVED)
    tamper("UPDATE audit_auditevent SET pseudonymised_at = now() WHERE id = %s", [answer.pk])
    result = verify_chain()
    assert result.first_bad_id == answer.pk
    assert "without a pseudonymisation event" in result.first_problem


def test_nightly_verification_alerts_the_steering_group_when_broken(vaxjo_story, steering):
    mail.outbox.clear()  # the story's own email
    assert verify_audit_chain() is True
    assert all("is intact" in m.subject for m in mail.outbox)  # the nightly receipt only
    mail.outbox.clear()
    # The next day's work: the municipality's next process starts and is tampered with.
    from workflows import services

    services.start_process(municipality=vaxjo_story.process.municipality, user=vaxjo_story.leader)
    decision = AuditEvent.objects.order_by("-id").first()
    tamper("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [decision.pk])
    assert verify_audit_chain() is False
    verification = AuditVerification.objects.latest()
    assert not verification.is_ok and verification.source == "nightly"
    assert verification.first_bad_id == decision.pk
    alert = next(m for m in mail.outbox if steering.email in m.to)
    assert f"event id {decision.pk}" in alert.body


def test_steering_group_page_shows_a_failed_verification(vaxjo_story, steering_client):
    decision = story_event(vaxjo_story, Kind.DECISION_RECORDED)
    tamper("UPDATE audit_auditevent SET reason = '' WHERE id = %s", [decision.pk])
    verify_audit_chain()
    page = steering_client.get("/audit/").content.decode()
    assert "found the record altered" in page and f"event id {decision.pk}" in page


def test_nightly_verification_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["audit-verify-chain"]
    assert entry["task"] == "audit.verify_chain"
    weekly = settings.CELERY_BEAT_SCHEDULE["audit-verify-chain-full"]
    assert weekly["task"] == "audit.verify_chain" and weekly["kwargs"] == {"full": True}
    checkpoints = settings.CELERY_BEAT_SCHEDULE["audit-take-checkpoint"]
    assert checkpoints["task"] == "audit.take_checkpoint"


def test_the_nightly_run_reads_only_what_came_since_the_last_verified_checkpoint(
    vaxjo_story, steering
):
    """Old rows are left to the weekly full verification (and `verify_audit --full`)."""
    assert verify_audit_chain() is True
    first = AuditVerification.objects.latest()
    assert first.is_full and first.rows_checked == AuditEvent.objects.count()
    decision = story_event(vaxjo_story, Kind.DECISION_RECORDED)
    tamper("UPDATE audit_auditevent SET reason = '' WHERE id = %s", [decision.pk])
    from workflows import services

    services.start_process(municipality=vaxjo_story.process.municipality, user=vaxjo_story.leader)

    assert verify_audit_chain() is True
    nightly = AuditVerification.objects.latest()
    assert not nightly.is_full and 0 < nightly.rows_checked < AuditEvent.objects.count()
    assert verify_audit_chain(full=True) is False
    assert AuditVerification.objects.latest().first_bad_id == decision.pk
    assert f"event id {decision.pk}" in broken_with("--full")


@pytest.mark.django_db(transaction=True)  # the trigger is dropped and installed again
def test_a_missing_append_only_trigger_fails_the_nightly_verification_and_alerts(
    vaxjo_story, steering
):
    mail.outbox.clear()
    trigger = next(t for m, t in pgtrigger.registered("audit.AuditEvent:append_only"))
    trigger.uninstall(AuditEvent)
    try:
        assert verify_audit_chain() is False
    finally:
        trigger.install(AuditEvent)

    verification = AuditVerification.objects.latest()
    assert not verification.is_ok and "audit_auditevent" in verification.problem
    alert = next(m for m in mail.outbox if steering.email in m.to)
    assert "append-only trigger" in alert.body
    assert verify_audit_chain() is True  # installed again


def test_a_swap_of_two_rows_is_reported_once_and_the_rest_still_checked(vaxjo_story):
    first = story_event(vaxjo_story, Kind.DRAFT_WRITTEN)
    second = next_in_chain(first)
    # The two rows trade places in id order, each with its own (intact) content.
    tamper("UPDATE audit_auditevent SET id = -1 WHERE id = %s", [first.pk])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [first.pk, second.pk])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [second.pk])
    decision = story_event(vaxjo_story, Kind.DECISION_RECORDED)
    tamper("UPDATE audit_auditevent SET summary = %s WHERE id = %s", ["Rejected", decision.pk])

    result = verify_chain()

    assert [(p.event_id, p.seq) for p in result.problems] == [
        (second.pk, first.seq),
        (decision.pk, decision.seq),
    ]
    assert "out of order: rows reordered" in str(result.problems[0])
    assert "altered" in str(result.problems[1])


def published_head_in(message) -> str:
    """The `SEQ:HASH` the nightly email publishes, as a reader would copy it."""
    match = re.search(r"--expect-head (\d+:[0-9a-f]{64})", message.body)
    assert match, message.body
    return match.group(1)


def test_the_nightly_email_publishes_the_head_and_a_wiped_record_fails_against_it(
    vaxjo_story, steering
):
    mail.outbox.clear()
    assert verify_audit_chain() is True
    receipt = next(m for m in mail.outbox if steering.email in m.to)
    head = AuditCheckpoint.objects.latest()
    assert published_head_in(receipt) == f"{head.seq}:{head.hash}"
    assert run_command_with("--expect-head", f"{head.seq}:{head.hash}")

    # Someone able to lift every trigger empties the trail, its checkpoints, its verifications
    # and the history tables (a history row left without its event would be named): from inside
    # the database nothing is left to compare with, and restarted chains verify on their own.
    from audit.binding import history_models

    tables = ["audit_auditverification", "audit_auditevent", "audit_auditcheckpoint"]
    tables += ["audit_chainhead"]
    tables += [model._meta.db_table for model in history_models().values()]
    with upstream.ignoring_triggers(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    assert "Checked 0 events" in run_command()

    message = broken_with("--expect-head", published_head_in(receipt))
    assert "not in the chain" in message and "wiped or shortened" in message

    # The checkpoints start again at 1 and grow past the published one: another hash there.
    from municipalities.models import Municipality
    from workflows import services

    others = Municipality.objects.exclude(pk=vaxjo_story.process.municipality_id).order_by("pk")
    for municipality in others.select_related("county"):
        if AuditCheckpoint.objects.filter(seq__gte=head.seq).exists():
            break
        member_of(vaxjo_story.leader, municipality.county.code, "leader")
        services.start_process(municipality=municipality, user=vaxjo_story.leader)
        take_checkpoint()
    message = broken_with("--expect-head", published_head_in(receipt))
    assert f"checkpoint {head.seq} does not have the published head's hash" in message


def test_a_malformed_published_head_is_refused():
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("verify_audit", "--expect-head", "12:abc", stdout=io.StringIO())


def run_command_with(*args) -> str:
    out = io.StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def broken_with(*args) -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_audit", *args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(error.value)


HISTORY_UNLOCKED = ("workflows.HistoricalApprovalAnswer:append_only",)


def tamper_history(sql: str, params=()) -> None:
    """Change a history table behind the application's back, its trigger lifted."""
    with upstream.ignoring_triggers(*HISTORY_UNLOCKED), connection.cursor() as cursor:
        cursor.execute(sql, params)


def approval_event(story):
    """The event of the answer that approved the second draft, and its history row's id."""
    event = (
        AuditEvent.objects.filter(process_id=story.process.pk, kind=Kind.ANSWER_RECEIVED)
        .order_by("-id")
        .first()
    )
    return event, event.history_id


def test_an_altered_history_row_is_named_at_its_event(vaxjo_story):
    """An approval turned into "changes requested" in the history table: the event's hash
    covers the row's digest, so the change shows, at the event that recorded it."""
    event, history_id = approval_event(vaxjo_story)
    tamper_history(
        "UPDATE workflows_historicalapprovalanswer SET answer = 'changes_requested' "
        "WHERE history_id = %s",
        [history_id],
    )
    message = broken()
    assert f"event id {event.pk} (seq {event.seq})" in message
    assert f"workflows_historicalapprovalanswer #{history_id}" in message and "altered" in message


def test_a_deleted_history_row_is_named_at_its_event(vaxjo_story):
    event, history_id = approval_event(vaxjo_story)
    tamper_history(
        "DELETE FROM workflows_historicalapprovalanswer WHERE history_id = %s", [history_id]
    )
    result = verify_chain()
    assert result.first_bad_id == event.pk and "is gone: deleted" in result.first_problem


def test_a_history_row_without_its_event_is_named(vaxjo_story):
    """A forged history row (a second approval, copied from the real one) has no event."""
    from workflows.models import ApprovalAnswer

    _event, history_id = approval_event(vaxjo_story)
    columns = [f.column for f in ApprovalAnswer.history.model._meta.concrete_fields]
    copied = ", ".join(
        "(SELECT max(history_id) + 1 FROM workflows_historicalapprovalanswer)"
        if column == "history_id"
        else column
        for column in columns
    )
    with connection.cursor() as cursor:  # INSERT needs no trigger lifted
        cursor.execute(
            f"INSERT INTO workflows_historicalapprovalanswer ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {copied} FROM workflows_historicalapprovalanswer WHERE history_id = %s",
            [history_id],
        )
    forged = ApprovalAnswer.history.order_by("-history_id").first().history_id
    message = broken()
    assert f"workflows_historicalapprovalanswer #{forged} has no audit event" in message


def test_history_rows_are_read_in_bulk_once_per_table(vaxjo_story):
    """Each history table is read in one statement, whatever the number of events."""
    from django.test.utils import CaptureQueriesContext

    from audit.binding import history_models

    with CaptureQueriesContext(connection) as queries:
        assert verify_chain().is_ok
    for model in history_models().values():
        table = model._meta.db_table
        reads = [q for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]]
        assert len(reads) == 1, (table, reads)


def test_a_removed_many_to_many_history_row_is_named_at_its_parents_event(vaxjo_story):
    """The approvers recorded with a process version belong to that version's digest."""
    from django.apps import apps

    m2m = apps.get_model("workflows", "HistoricalPolicyProcess_approvers")
    table = m2m._meta.db_table
    link = m2m.objects.order_by("-m2m_history_id").first()
    event = AuditEvent.objects.get(
        model_label="workflows.policyprocess", history_id=link.history_id
    )
    with (
        upstream.ignoring_triggers(f"{m2m._meta.label}:append_only"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"DELETE FROM {table} WHERE m2m_history_id = %s",  # noqa: S608
            [link.m2m_history_id],
        )
    result = verify_chain()
    assert result.first_bad_id == event.pk and "does not match its digest" in result.first_problem


def test_events_recorded_before_digests_keep_their_hashes_and_bind_their_rows(vaxjo_story):
    """A trail written before record digests existed (hash version 1): the migration keeps
    every hash as it was, fills in the digests, and from then on a changed row shows."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from audit import chain
    from audit.models import LEGACY_CHAIN, ChainHead

    # One country-wide chain in id order, as written before chains per municipality existed.
    tamper("UPDATE audit_auditevent SET seq = seq + 1000000")  # out of the renumbering's way
    prev = "0" * 64
    for seq, event in enumerate(AuditEvent.objects.order_by("id"), start=1):
        values = {name: getattr(event, name) for name in chain.HASHED_FIELDS_V1}
        values.update(seq=seq, prev_hash=prev)
        prev = chain.event_hash(values, version=1)
        tamper(
            "UPDATE audit_auditevent SET chain = %s, seq = %s, record_digest = '', "
            "chain_version = 1, prev_hash = %s, hash = %s WHERE id = %s",
            [LEGACY_CHAIN, seq, values["prev_hash"], prev, event.pk],
        )
    ChainHead.objects.all().delete()
    ChainHead.objects.create(key=LEGACY_CHAIN, seq=seq, hash=prev)
    assert not verify_chain().is_ok  # no digests yet: every history row seems unbound

    migration = importlib.import_module("audit.migrations.0004_history_row_digests")
    migration.bind_existing_rows(apps, SimpleNamespace(connection=connection))

    # The head published before checkpoints existed (an event of that chain) still holds.
    result = verify_chain(expect_heads=[(seq, prev)])
    assert result.is_ok, result.first_problem
    event, history_id = approval_event(vaxjo_story)
    tamper_history(
        "UPDATE workflows_historicalapprovalanswer SET answer = 'changes_requested' "
        "WHERE history_id = %s",
        [history_id],
    )
    assert verify_chain().first_bad_id == event.pk


@pytest.mark.django_db(transaction=True)  # the step in between commits on its own connection
@pytest.mark.parametrize("jobs", [1, 2], ids=["one-process", "worker-pool"])
def test_steps_committed_between_the_event_pass_and_the_table_pass_are_no_problem(
    jobs, vaxjo_story, leader, vaxjo, admin_user, monkeypatch, tmp_path
):
    import threading

    from django.db import connections

    from audit import services as audit_services
    from audit import verify_history
    from municipalities.models import Municipality
    from workflows import services

    other = (
        Municipality.objects.exclude(pk=vaxjo.pk).filter(county__code="07").order_by("pk").first()
    )
    check_table = verify_history.check_table
    # Marks the step as taken, across the worker processes too.
    taken = tmp_path / "step-taken"

    def start_another_process():
        try:
            services.start_process(municipality=other, user=leader)
            audit_services.pseudonymise_person(
                person=vaxjo_story.contact, user=admin_user, reason="Har slutat i kommunen."
            )
        finally:
            connections.close_all()

    def check_table_after_a_step(using, chunk_size, label):
        # Once the events have been read: another user's step commits, then the tables are read.
        try:
            taken.open("x").close()
        except FileExistsError:
            pass
        else:
            thread = threading.Thread(target=start_another_process)
            thread.start()
            thread.join()
        return check_table(using, chunk_size, label)

    monkeypatch.setattr(verify_history, "check_table", check_table_after_a_step)

    result = verify_chain(jobs=jobs)

    assert result.problems == []
    # They did happen.
    assert AuditEvent.objects.filter(municipality_id=other.pk).exists()
    assert AuditEvent.objects.filter(kind=Kind.PERSON_PSEUDONYMISED).exists()
    assert verify_chain().problems == []  # and the next run sees it, bound


def test_every_field_of_every_protected_history_table_is_read_alike_everywhere():
    """Each history model, and each many-to-many history model under it, has only fields whose
    values the digest reads the same when the row is written and when it is checked, on
    PostgreSQL and SQLite: a new model with another type fails here, not in the nightly run."""
    from audit import binding

    models = list(binding.history_models().values())
    assert models
    for model in models:
        lay = binding.layout(model)
        for table_layout in [lay, *(child for _table, child in lay.children)]:
            for field in table_layout.fields:
                binding._kind(field)  # raises for a type it cannot read alike


@pytest.mark.parametrize("field_type", ["TimeField", "UUIDField", "DecimalField", "FloatField"])
def test_a_field_type_the_digest_cannot_read_alike_is_refused(field_type):
    from django.core.exceptions import ImproperlyConfigured
    from django.db import models

    from audit import binding

    field = (
        models.DecimalField(max_digits=9, decimal_places=2)
        if field_type == "DecimalField"
        else getattr(models, field_type)()
    )
    with pytest.raises(ImproperlyConfigured, match=field_type):
        binding._kind(field)


def test_the_verifiers_keyed_hmacs_give_the_writers_digests_row_after_row(vaxjo_story):
    key = chain.hmac_key()
    event_state, personal_state = chain.keyed(key, "event"), chain.keyed(key, "personal")
    for event in AuditEvent.objects.order_by("id"):
        values = {name: getattr(event, name) for name in chain.HASHED_FIELDS}
        values["occurred_at"] = chain.timestamp(event.occurred_at)
        row = tuple(values[name] for name in chain.HASHED_FIELDS)
        assert chain.stored_row_hash(row, event_state, event.chain_version) == event.hash
        assert chain.keyed_personal_digest(event.personal, personal_state) == (
            chain.personal_digest(event.personal, key)
        )


def _stored_values(**changed):
    """HASHED_FIELDS of an event as the verifier reads them (the time formatted)."""
    values = {
        "seq": 1669,
        "occurred_at": "2017-07-22T17:22:26.638661Z",
        "kind": "link_opened",
        "actor_kind": "contact",
        "actor_user_id": None,
        "actor_label": "⟦p:414⟧ (via uppgiftslänk)",
        "model_label": "workflows.tasklink",
        "object_id": "17100",
        "history_id": 56026,
        "process_id": 4903,
        "municipality_id": 157,
        "municipality_name": "Lilla Edet",
        "county_code": "14",
        "stage": "awaiting_approval",
        "summary": "Uppgiftslänk till ⟦p:414⟧ visad",
        "reason": "",
        "changes": {"first_opened_at": [None, "2017-07-22T17:22:26.638661+00:00"], "n": 1.5},
        "personal_digest": "c6" * 32,
        "prev_hash": "e8" * 32,
        "record_digest": "85" * 32,
        "chain": "municipality:157",
    }
    values.update(changed)
    return values


@pytest.mark.parametrize(
    "changed",
    [
        {},
        {"actor_user_id": 4, "history_id": None, "changes": {}},
        {"reason": 'Citat: "nej"\nny rad\\', "summary": "tab\there"},  # escaped texts
        {"actor_user_id": True},  # not an integer to JSON
        {"county_code": None, "seq": 2.0},  # not the column's type
    ],
)
@pytest.mark.parametrize("version", [1, 2, 3])
def test_the_verifiers_payload_is_the_writers_byte_for_byte(changed, version, monkeypatch):
    values = _stored_values(**changed)
    row = tuple(values[name] for name in chain.HASHED_FIELDS)
    written = chain.canonical(chain.payload(values, version))
    assert chain.StoredPayload(version)(row) == written
    state = chain.keyed(b"key", "event")
    assert chain.stored_row_hash(row, state, version) == chain.event_hash(values, b"key", version)


def test_a_plain_stored_row_is_written_from_the_template_without_the_dict():
    payload = chain.StoredPayload(3)
    row = tuple(_stored_values()[name] for name in chain.HASHED_FIELDS)

    def refuse(values):
        raise AssertionError("encoded as a whole")

    payload.encoded = refuse
    assert payload(row) == chain.canonical(chain.payload(_stored_values()))


def test_a_history_rows_values_are_left_out_when_empty_exactly_as_the_portable_path_does():
    from audit import binding

    values = (0, 0.0, -0.0, False, True, "", "x", [], {}, [0], {"a": 0}, None, 1, 2.5)
    names = tuple(f"c{i:02}" for i in range(len(values)))
    lay = binding.Layout(
        model=None,
        table="t",
        pk_column="c00",
        columns=names,
        names=names,
        fields=(None,) * len(names),
        kinds=(binding._INT,) * len(names),
    )
    expected = [
        [n, v] for n, v in zip(names, values, strict=True) if v not in binding._EMPTY_VALUES
    ]
    assert chain.canonical(binding._read_pairs(lay, values, fast=True)) == (
        chain.canonical(expected)
    )
