"""Appending to the chains: a municipality's events go to its own chain, which stays whole when a
savepoint rolls back, when transactions follow each other and when others append between them;
different municipalities' chains do not wait for each other."""

import copy
import threading
from contextlib import suppress

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from viewflow.workflow.models import Task

from audit import chain, services
from audit.models import PROJECT_CHAIN, AuditEvent, ChainHead, Kind, chain_of
from audit.verification import verify_chain
from tests.support.locks import LOCK_WAIT_TIMEOUT, hold_then_wait, join_all
from tests.workflows.helpers import walk_to
from workflows import services as workflow_services
from workflows.audit import stamp
from workflows.models import PolicyProcess, Stage


def append(summary: str, municipality=None) -> AuditEvent:
    return services.append_event(
        kind=Kind.PROCESS_CHANGED,
        summary=summary,
        model_label="tests.appending",
        municipality_id=getattr(municipality, "pk", None),
    )


def seqs(chain: str = PROJECT_CHAIN) -> list[int]:
    """The seqs of one chain (the project-wide one by default), in id order."""
    return list(AuditEvent.objects.filter(chain=chain).order_by("id").values_list("seq", flat=True))


@pytest.mark.django_db(transaction=True)  # the step commits, as it does in production
def test_a_step_appends_its_events_to_its_municipalitys_chain_under_its_head_row(
    leader, vaxjo, vaxjo_contact
):
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")
    before = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as captured:
        workflow_services.write_draft(
            task=Task.objects.get(pk=task.pk),
            user=leader,
            competition_section="Reserved procurement for sheltered employers.",
            customer_section="Work training is bought from ASF.",
            change_note="First version",
        )

    statements = [q["sql"] for q in captured]
    written = list(AuditEvent.objects.order_by("-id")[:3])
    # The draft and the two tasks (no email: the leader opened the next step themselves).
    assert AuditEvent.objects.count() - before == 3
    assert {e.chain for e in written} == {chain_of(vaxjo.pk)}
    assert [e.seq for e in written] == list(range(written[0].seq, written[0].seq - 3, -1))
    assert ChainHead.objects.get(key=chain_of(vaxjo.pk)).seq == written[0].seq
    # The municipality's head row is locked (no lock of the whole trail), once: the step's later
    # events move the head it holds with a compare-and-set instead of locking and reading it again.
    locks = [s for s in statements if 'FROM "audit_chainhead"' in s and s.endswith("FOR UPDATE")]
    assert len(locks) == 1
    assert not any("pg_advisory" in sql for sql in statements)
    assert verify_chain().is_ok


@pytest.mark.django_db
def test_events_after_a_rolled_back_savepoint_follow_the_last_kept_one(seeded):
    with transaction.atomic():
        kept = append("Kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            append("Rolled back")
            append("Rolled back too")
            raise RuntimeError("the step failed")
        following = append("After the failure")

    assert following.seq == kept.seq + 1 and following.prev_hash == kept.hash
    assert not AuditEvent.objects.filter(summary__startswith="Rolled back").exists()
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_an_event_appended_by_another_connection_between_two_transactions_is_followed(seeded):
    with transaction.atomic():
        first = append("First transaction")

    def elsewhere():
        try:
            append("Another connection")
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    join_all(thread)
    with transaction.atomic():
        last = append("Second transaction")

    other = AuditEvent.objects.get(summary="Another connection")
    assert (first.seq, other.seq, last.seq) == (first.seq, first.seq + 1, first.seq + 2)
    assert last.prev_hash == other.hash
    assert seqs() == list(range(1, last.seq + 1))
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_appends_racing_from_several_connections_keep_one_unbroken_chain(seeded):
    barrier = threading.Barrier(4)
    failures = []

    def work(i):
        try:
            barrier.wait(timeout=LOCK_WAIT_TIMEOUT)
            for n in range(5):
                with transaction.atomic():
                    append(f"Connection {i}, event {n}a")
                    append(f"Connection {i}, event {n}b")
        except Exception as error:  # noqa: BLE001 (the test reports what each thread got)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    join_all(*threads)

    assert failures == []
    assert AuditEvent.objects.filter(model_label="tests.appending").count() == 40
    assert seqs() == list(range(1, len(seqs()) + 1))
    by_summary = dict(AuditEvent.objects.values_list("summary", "seq"))
    # A transaction's events stay together: nobody appends between them.
    assert all(
        by_summary[f"Connection {i}, event {n}b"] == by_summary[f"Connection {i}, event {n}a"] + 1
        for i in range(4)
        for n in range(5)
    )
    assert verify_chain().is_ok


# --- Chains in parallel ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_another_municipalitys_chain_does_not_wait_for_a_transaction_holding_one(seeded):
    """Växjö's transaction is still open while Kalmar's appends and commits: writers of
    different municipalities no longer queue behind one lock."""
    from municipalities.models import Municipality

    first, second = Municipality.objects.order_by("pk")[:2]
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                append("Holder", first)
                holding.set()
                release.wait(timeout=LOCK_WAIT_TIMEOUT)
        finally:
            connection.close()

    def other():
        try:
            with transaction.atomic():
                append("Elsewhere", second)
            done.set()
        finally:
            connection.close()

    holding_thread = threading.Thread(target=holder)
    holding_thread.start()
    assert holding.wait(timeout=LOCK_WAIT_TIMEOUT)
    other_thread = threading.Thread(target=other)
    other_thread.start()
    try:
        assert done.wait(timeout=LOCK_WAIT_TIMEOUT), "the other municipality waited"
    finally:
        release.set()
        join_all(holding_thread, other_thread)

    assert AuditEvent.objects.get(summary="Elsewhere").chain == chain_of(second.pk)
    assert AuditEvent.objects.get(summary="Holder").chain == chain_of(first.pk)
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_waited_for_the_lock_appends_after_what_the_holder_committed(seeded):
    """The head is read after the lock is granted: not from before the wait (one round trip,
    but the function's query has a snapshot of its own)."""
    holding, release = threading.Event(), threading.Event()
    appended = {}

    def holder():
        try:
            with transaction.atomic():
                append("Holder")
                holding.set()
                release.wait(timeout=LOCK_WAIT_TIMEOUT)
        finally:
            connection.close()

    def waiter():
        try:
            with transaction.atomic():
                appended["waiter"] = append("Waiter")
        finally:
            connection.close()

    # The holder commits only once the waiter is seen blocked on the chain's lock.
    hold_then_wait(holder, waiter, holding=holding, release=release)

    waiter = appended["waiter"]
    held = AuditEvent.objects.get(summary="Holder")
    assert (waiter.seq, waiter.prev_hash) == (held.seq + 1, held.hash)
    assert verify_chain().is_ok


@pytest.mark.django_db
def test_an_event_takes_the_processs_stage_on_record_not_one_a_rolled_back_savepoint_wrote(
    leader, vaxjo, vaxjo_contact
):
    """A task's event has no stage of its own: it takes its process's latest on the record,
    which a rolled-back savepoint's event (and its stage) is not."""
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")
    process = PolicyProcess.objects.get(pk=process.pk)
    assert process.stage == Stage.DRAFTING

    with transaction.atomic():
        with suppress(RuntimeError), transaction.atomic():
            process.stage = Stage.AWAITING_APPROVAL
            stamp(process, user=leader, reason="Tried, then undone")
            process.save(update_fields=["stage"])
            raise RuntimeError
        task = Task.objects.get(pk=task.pk)
        stamp(task, user=leader, reason="Looked at again")
        task.save()

    event = AuditEvent.objects.filter(model_label="viewflow.task", object_id=str(task.pk))
    assert event.latest("id").stage == Stage.DRAFTING
    assert not AuditEvent.objects.filter(process_id=process.pk, stage=Stage.AWAITING_APPROVAL)


def _touch(task, user, reason: str) -> None:
    task = Task.objects.get(pk=task.pk)
    stamp(task, user=user, reason=reason)
    task.save()


def _events_of(reason: str):
    return AuditEvent.objects.filter(reason=reason)


@pytest.mark.django_db
def test_a_history_row_after_a_rolled_back_savepoint_follows_the_last_kept_event(
    leader, vaxjo, vaxjo_contact
):
    """The head the transaction remembers after its savepoint's events is gone with the
    savepoint: the next event follows the last one kept."""
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")

    with transaction.atomic():
        _touch(task, leader, "Kept")
        with suppress(RuntimeError), transaction.atomic():
            _touch(task, leader, "Undone")
            _touch(task, leader, "Undone")
            raise RuntimeError
        _touch(task, leader, "After the undone ones")

    kept, after = _events_of("Kept").get(), _events_of("After the undone ones").get()
    assert (after.seq, after.prev_hash) == (kept.seq + 1, kept.hash)
    assert not _events_of("Undone").exists()
    assert ChainHead.objects.get(key=chain_of(vaxjo.pk)).hash == after.hash
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_a_transaction_after_a_rolled_back_one_follows_the_last_committed_event(
    leader, vaxjo, vaxjo_contact
):
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")

    with transaction.atomic():
        _touch(task, leader, "Committed")
    with suppress(RuntimeError), transaction.atomic():
        _touch(task, leader, "Rolled back")
        _touch(task, leader, "Rolled back")
        raise RuntimeError
    with transaction.atomic():
        _touch(task, leader, "Next transaction")

    committed, following = _events_of("Committed").get(), _events_of("Next transaction").get()
    assert (following.seq, following.prev_hash) == (committed.seq + 1, committed.hash)
    assert not _events_of("Rolled back").exists()
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_a_history_row_follows_what_another_connection_appended_since_the_last_transaction(
    leader, vaxjo, vaxjo_contact
):
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")
    with transaction.atomic():
        _touch(task, leader, "First transaction")

    def elsewhere():
        try:
            with transaction.atomic():
                _touch(task, leader, "Another connection")
        finally:
            connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    join_all(thread)
    with transaction.atomic():
        _touch(task, leader, "Second transaction")
        _touch(task, leader, "Second transaction, again")

    other = _events_of("Another connection").get()
    last = _events_of("Second transaction").get()
    assert (last.seq, last.prev_hash) == (other.seq + 1, other.hash)
    assert _events_of("Second transaction, again").get().prev_hash == last.hash
    assert verify_chain().is_ok


@pytest.mark.django_db(transaction=True)
def test_an_event_without_a_user_does_not_take_the_actor_of_the_transaction_before(
    leader, vaxjo, vaxjo_contact
):
    """Even when the transaction before forgot nothing at its end (a callback run before the
    audit trail's failed), a new transaction starts with no actor of its own."""
    process = workflow_services.start_process(municipality=vaxjo, user=leader)
    task = walk_to(process, leader, vaxjo_contact, "draft")

    def failing_callback():
        raise RuntimeError("a callback registered before the first event failed")

    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(failing_callback)
        _touch(task, leader, "By the leader")
    with transaction.atomic():
        task = Task.objects.get(pk=task.pk)
        stamp(task, reason="By nobody")
        task.save()

    by_leader, by_nobody = _events_of("By the leader").get(), _events_of("By nobody").get()
    assert by_leader.actor_user_id == leader.pk
    assert by_nobody.actor_user_id is None
    assert by_nobody.prev_hash == by_leader.hash
    assert verify_chain().is_ok


def _append_to(municipality, head, summary: str, *, remembered: bool, **fields):
    return chain.append_event(
        head=head,
        head_is_remembered=remembered,
        kind=Kind.PROCESS_CHANGED,
        summary=summary,
        model_label="tests.appending",
        municipality_id=municipality.pk,
        **fields,
    )


def _chain_verifies() -> bool:
    """Every event's hash and link verify. The quick-start tests' SQLite database is made
    without the append-only triggers (their own tests install and check them), which the
    verifier reports too: there only those reports are set aside."""
    result = verify_chain()
    if connection.vendor == "postgresql":
        return result.is_ok
    return not [p for p in result.problems if not p.message.startswith("append-only trigger")]


def _stored_as_built(event: AuditEvent) -> bool:
    stored = AuditEvent.objects.get(pk=event.pk)
    fields = [f.attname for f in AuditEvent._meta.concrete_fields]
    return [getattr(stored, name) for name in fields] == [getattr(event, name) for name in fields]


@pytest.mark.django_db
def test_an_appended_event_is_stored_field_for_field_as_built_and_its_head_follows_it(
    seeded, leader, vaxjo
):
    # On PostgreSQL the head's move and the event's insert are one hand-built statement, on
    # SQLite the ORM's two: every column must take its own field's value (a column list out of
    # step would still verify nothing here; compare each field as read back).
    with transaction.atomic():
        head = chain.lock_head(chain_of(vaxjo.pk))
        first = _append_to(
            vaxjo,
            head,
            "Första",
            remembered=False,
            process_id=7,
            actor_user=leader,
            changes={"stage": ["drafting", "awaiting_approval"], "n": [1, 2.5]},
            personal={"people": {"3": "Anna Andersson"}},
            object_id="42",
            county_code="07",
            stage="drafting",
            reason="Därför",
        )
        second = _append_to(vaxjo, head, "Andra", remembered=False)

    for event in (first, second):
        assert event.pk is not None and not event._state.adding and event._state.db == "default"
        assert _stored_as_built(event)
    head = ChainHead.objects.get(key=chain_of(vaxjo.pk))
    assert (head.seq, head.hash, head.occurred_at) == (second.seq, second.hash, second.occurred_at)
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    assert _chain_verifies()


@pytest.mark.django_db
def test_a_remembered_head_moves_only_while_it_is_still_its_chains_in_its_transaction(
    seeded, vaxjo
):
    with transaction.atomic():
        head = chain.lock_head(chain_of(vaxjo.pk))
        first = _append_to(vaxjo, head, "Första", remembered=False)
        stale = copy.copy(head)
        # The head as the first append left it, in the transaction that left it there.
        second = _append_to(vaxjo, head, "Andra", remembered=True)
        # A head remembered before that move no longer matches: nothing is written, anywhere.
        assert _append_to(vaxjo, stale, "Tredje", remembered=True) is None

    assert not AuditEvent.objects.filter(summary="Tredje").exists()
    if head.txid is None:
        # SQLite names no transaction, so no head is ever taken as remembered: nothing is
        # written and the caller locks the head again (`audit.recording`).
        assert second is None and not AuditEvent.objects.filter(summary="Andra").exists()
        moved_to = first
    else:
        # PostgreSQL: one compare-and-set statement moved the head and inserted the event.
        assert _stored_as_built(second) and second.prev_hash == first.hash
        moved_to = second
    stored_head = ChainHead.objects.get(key=chain_of(vaxjo.pk))
    assert (stored_head.seq, stored_head.hash) == (moved_to.seq, moved_to.hash)
    assert _chain_verifies()
