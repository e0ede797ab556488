"""Country-wide checkpoints: every chain's head, HMAC-chained checkpoint to checkpoint, so that a
checkpoint edited or removed is caught, as a chain cut short after one is."""

import pytest
from django.db import connection

from audit import services, upstream
from audit.checkpoints import take_checkpoint
from audit.models import PROJECT_CHAIN, AuditCheckpoint, AuditEvent, ChainHead, Kind, chain_of
from audit.tasks import take_audit_checkpoint
from audit.verification import verify_chain

pytestmark = pytest.mark.django_db


def append(summary: str, municipality_id=None) -> AuditEvent:
    return services.append_event(
        kind=Kind.PROCESS_CHANGED,
        summary=summary,
        model_label="tests.checkpoints",
        municipality_id=municipality_id,
    )


def tamper_checkpoints(sql: str, params=()) -> None:
    with (
        upstream.ignoring_triggers("audit.AuditCheckpoint:append_only"),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_a_checkpoint_holds_every_chains_head_and_is_not_taken_again_while_nothing_moves(
    vaxjo,
):
    kept = append("In Växjö", vaxjo.pk)
    lockout = append("No municipality")

    first = take_checkpoint()

    heads = dict(ChainHead.objects.values_list("key", "seq"))
    assert first.heads[chain_of(vaxjo.pk)] == [kept.seq, kept.hash]
    assert first.heads[PROJECT_CHAIN] == [lockout.seq, lockout.hash]
    assert first.events == AuditEvent.objects.count() == sum(heads.values())
    assert take_checkpoint() == first  # nothing moved
    append("Later", vaxjo.pk)
    second = take_checkpoint()
    assert (second.seq, second.prev_hash) == (first.seq + 1, first.hash)
    assert take_audit_checkpoint() == second.seq  # the beat task
    assert verify_chain().is_ok


def test_an_edited_checkpoint_is_named(vaxjo):
    append("In Växjö", vaxjo.pk)
    checkpoint = take_checkpoint()
    tamper_checkpoints(
        "UPDATE audit_auditcheckpoint SET events = events + 1 WHERE id = %s", [checkpoint.pk]
    )

    result = verify_chain()

    assert not result.is_ok
    assert f"checkpoint {checkpoint.seq}: hash does not match its content" in result.first_problem


def test_a_removed_checkpoint_is_detected(vaxjo):
    marks = []
    for n in range(3):
        append(f"Event {n}", vaxjo.pk)
        marks.append(take_checkpoint())
    tamper_checkpoints("DELETE FROM audit_auditcheckpoint WHERE id = %s", [marks[1].pk])

    result = verify_chain()

    assert not result.is_ok
    assert any(
        f"checkpoint {marks[2].seq} does not follow checkpoint {marks[0].seq}" in str(p)
        for p in result.problems
    )


def test_the_published_checkpoint_is_checked_against_the_record(vaxjo):
    append("In Växjö", vaxjo.pk)
    checkpoint = take_checkpoint()
    assert verify_chain(expect_heads=[(checkpoint.seq, checkpoint.hash)]).is_ok

    forged = "f" * 64
    result = verify_chain(expect_heads=[(checkpoint.seq, forged)])
    assert f"checkpoint {checkpoint.seq} does not have the published head's hash" in (
        result.first_problem
    )
    assert AuditCheckpoint.objects.count() == 1
