"""Re-computing the hash chains, streaming, and naming the first row that does not hold; checking
the checkpoints that anchor them and every history row against its event's digest.

**Full** (`verify_chain(full=True)`, `verify_audit --full`): every event is read in id order (in
a chain, ids and seqs are both handed out under the chain head's lock, so they rise together).
For each row, in its own chain: seq must follow the previous one by exactly 1 (a gap means
removed rows, a step back a reordered or inserted row), prev_hash must equal the previous row's
stored hash, the hash must recompute, and, unless pseudonymised, the personal part must match its
digest. Every pseudonymised row must be listed by a later pseudonymisation event. Every chain's
last row must be its head row; the checkpoints must chain and each must still find every head it
recorded (else a chain was cut short or rolled back); the checkpoint verified last and every
published one (`expect_heads`) must still be there, unchanged. Every history table is compared
with the events' digests (`audit.verify_history`).

**Incremental** (the default of the nightly task and of `verify_audit`): the same checks from the
last verified checkpoint on: the checkpoints since it, and in each chain the events after the head
it recorded (starting at that head, which must still hold its hash), each with its history row.
Rows older than that checkpoint are left to the full verification (weekly).
"""

from __future__ import annotations

import hmac
import multiprocessing
import operator
import time
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Max, Min
from django.utils import timezone

from . import binding, chain, checkpoints, verify_history
from .conf import setting
from .memory import cycle_collector_paused
from .models import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEvent,
    AuditVerification,
    ChainHead,
    Kind,
)
from .order import SeqOrder
from .reading import detach_inherited_connections, enter_snapshot, event_rows, snapshot
from .results import MAX_PROBLEMS, Problem, Result

__all__ = ["MAX_PROBLEMS", "Problem", "Result", "record_verification", "verify_chain"]

_COLUMNS = ("id", *chain.HASHED_FIELDS, "hash", "personal", "pseudonymised_at", "chain_version")
_MASK = (1 << 64) - 1
_EMPTY_JSON = ("{}", {})


@dataclass
class _Range:
    """What one worker found in one id range (or one chain's new rows); stitched afterwards."""

    rows: int = 0
    firsts: dict[str, tuple] = field(default_factory=dict)  # chain → (id, seq, prev_hash)
    lasts: dict[str, tuple] = field(default_factory=dict)  # chain → (id, seq, hash)
    problems: list[Problem] = field(default_factory=list)
    pseudonymised: list[tuple[int, int]] = field(default_factory=list)
    covered: set[int] = field(default_factory=set)
    # (chain, seq) → hash of the rows the caller asked about (heads recorded in checkpoints).
    remembered: dict[tuple[str, int], str] = field(default_factory=dict)
    # Per audited model label: how many events name a history row, and the sum (mod 2**64) of
    # the first 64 bits of their record digests.
    bound: dict[str, list[int]] = field(default_factory=dict)
    # The rows pseudonymisations rewrote: (event id, seq, label, history id, old, new digest).
    rewrites: list[tuple] = field(default_factory=list)
    # (event id, seq, label, history id, digest) of each row read (incremental only).
    history: list[tuple] = field(default_factory=list)


class _Checker:
    """Checks rows (`_COLUMNS`, time formatted) of any chains, each chain in its seq order."""

    def __init__(self, remember: frozenset, starts: dict | None, keep_history: bool) -> None:
        # The HMACs keyed once (`hmac.new`), copied per row.
        key = chain.hmac_key()
        self.event_state = chain.keyed(key, "event")
        self.personal_state = chain.keyed(key, "personal")
        self.remember = remember
        # chain → (expected seq, prev hash) of its first row read; None: genesis for every chain
        # (a full range from the start), {} with a chain missing: unknown (a later range).
        self.starts = starts
        self.keep_history = keep_history
        self.orders: dict[str, SeqOrder] = {}
        self.found = _Range()
        self.empty_digest = chain.personal_digest({}, key)
        # What a row's checks read, in one step per row (the hashed values go on as a slice).
        self.width = len(chain.HASHED_FIELDS)
        self.pick = operator.itemgetter(
            *(
                _COLUMNS.index(name)
                for name in (
                    "id",
                    "seq",
                    "chain",
                    "prev_hash",
                    "hash",
                    "kind",
                    "model_label",
                    "history_id",
                    "record_digest",
                    "personal_digest",
                    "personal",
                    "pseudonymised_at",
                    "chain_version",
                )
            )
        )
        self.changes_index = _COLUMNS.index("changes")

    def add(self, event_id, seq, message) -> None:
        if len(self.found.problems) < MAX_PROBLEMS:
            self.found.problems.append(Problem(event_id, seq, message))

    def row(self, row) -> None:
        found = self.found
        found.rows += 1
        (
            event_id,
            seq,
            name,
            prev_hash,
            row_hash,
            kind,
            label,
            history_id,
            record_digest,
            personal_digest,
            personal,
            pseudonymised_at,
            version,
        ) = self.pick(row)
        order = self.orders.get(name)
        if order is None:
            start = (
                (1, GENESIS_HASH) if self.starts is None else self.starts.get(name, (None, None))
            )
            order = self.orders[name] = SeqOrder(self.add, *start)
            found.firsts[name] = (event_id, seq, prev_hash)
        order.row(event_id, seq, prev_hash, row_hash)
        stored = chain.stored_row_hash(row[1 : self.width + 1], self.event_state, version)
        if not hmac.compare_digest(stored, row_hash):
            self.add(event_id, seq, "hash does not match its content: the row was altered")
        if history_id is not None:
            sums = found.bound.get(label)
            if sums is None:
                sums = found.bound[label] = [0, 0]
            sums[0] += 1
            sums[1] = (sums[1] + int(record_digest[:16] or "0", 16)) & _MASK
            if self.keep_history:
                found.history.append((event_id, seq, label, history_id, record_digest))
        if pseudonymised_at is not None:
            found.pseudonymised.append((event_id, seq))
        elif not hmac.compare_digest(self._personal_digest(personal), personal_digest):
            self.add(event_id, seq, "personal data does not match its digest: altered")
        if kind == Kind.PERSON_PSEUDONYMISED:
            changes = row[self.changes_index] or {}
            found.covered.update(changes.get("events", []))
            for label, history_id, old, new in changes.get("rows", []):
                found.rewrites.append((event_id, seq, label, history_id, old, new))
        if (name, seq) in self.remember:
            found.remembered[(name, seq)] = row_hash
        found.lasts[name] = (event_id, seq, row_hash)

    def _personal_digest(self, personal) -> str:
        if personal in _EMPTY_JSON or not personal:
            return self.empty_digest
        personal = chain.decode(personal) if isinstance(personal, str) else personal
        return chain.keyed_personal_digest(personal, self.personal_state)

    def finish(self) -> _Range:
        for order in self.orders.values():
            order.finish()
        self.found.problems.sort(key=lambda p: (p.event_id is None, p.event_id or 0))
        return self.found


def _check_range(using, chunk_size, low, high, remember, is_first_range) -> _Range:
    checker = _Checker(remember, None if is_first_range else {}, keep_history=False)
    for row in event_rows(using, _COLUMNS, chunk_size, low, high):
        checker.row(row)
    return checker.finish()


def _work_in_worker(task):
    from django.db import connections as worker_connections

    kind, snapshot_id, args = task
    # A row's objects are freed as soon as it is checked, and none form cycles (a range's only
    # cycle, its chains' orders, is freed with it): ~8 % of a worker's CPU without the pause.
    with cycle_collector_paused():
        try:
            if snapshot_id is not None:
                enter_snapshot(args[0], snapshot_id)
            if kind == "range":
                return _check_range(*args)
            return verify_history.check_table(*args)
        finally:
            worker_connections.close_all()


def _split(using: str, pieces: int) -> list[tuple[int, int]]:
    bounds = AuditEvent.objects.using(using).aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return []
    step = max((high - low + 1) // pieces, 1)
    edges = [low + i * step for i in range(pieces)] + [high + 1]
    return [(edges[i], edges[i + 1] - 1) for i in range(pieces) if edges[i] <= edges[i + 1] - 1]


# Event ranges per worker: small enough that the workers finish within a range of each other.
_RANGES_PER_JOB = 8


def _largest_first(using: str, labels: list[str]) -> list[str]:
    """The history tables by size on disk, largest first (then by label)."""
    tables = {label: binding.history_models()[label]._meta.db_table for label in labels}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT name, pg_relation_size(to_regclass(name)) FROM unnest(%s::text[]) AS name",
            [list(tables.values())],
        )
        sizes = dict(cursor.fetchall())
    return sorted(labels, key=lambda label: (-(sizes.get(tables[label]) or 0), label))


def verify_chain(
    *,
    using: str = "default",
    chunk_size: int | None = None,
    jobs: int = 1,
    expect_heads: list[tuple[int, str]] = (),
    full: bool = True,
) -> Result:
    """Verify the chains and their checkpoints: everything (``full``), or what came since the
    last verified checkpoint (a full verification when there is none). ``jobs`` > 1 checks id
    ranges of a full verification in parallel processes (each with its own connection, so only
    outside a transaction: inside one the others could not see its rows).

    ``expect_heads``: checkpoints published outside the database earlier (seq, hash); each must
    still be there, unchanged. Only they catch a trail wiped together with its stored
    verifications (the database's own memory).
    """
    connection = connections[using]
    if jobs > 1 and (connection.in_atomic_block or connection.vendor != "postgresql"):
        jobs = 1
    # One snapshot for every pass: a step or a pseudonymisation committed between the event pass
    # and the history tables' pass would otherwise show as a row added or altered behind the
    # application's back.
    with snapshot(using) as snapshot_id:
        return _verify(using, chunk_size, jobs, list(expect_heads), full, snapshot_id)


def _verify(using, chunk_size, jobs, expect_heads, full, snapshot_id) -> Result:
    started = time.monotonic()
    result = Result(started_at=timezone.now())
    chunk_size = chunk_size or setting("AUDIT_VERIFY_CHUNK_SIZE")
    base, problems = _base(using)
    marks = list(AuditCheckpoint.objects.using(using).order_by("seq"))
    if not full and base is not None:
        marks = [mark for mark in marks if mark.seq >= base.seq]
    else:
        base = None
    problems += checkpoints.check_chain(marks, from_start=base is None)
    latest = marks[-1] if marks else None
    if latest is not None:
        result.head_id, result.head_seq, result.head_hash = latest.id, latest.seq, latest.hash
    remember = frozenset((name, seq) for mark in marks for name, (seq, _hash) in mark.heads.items())
    heads = dict(ChainHead.objects.using(using).values_list("key", "seq"))
    if base is None:
        ranges, history_problems = _full_pass(using, chunk_size, jobs, remember, snapshot_id)
        problems += _stitch(ranges, heads, genesis=True)
    else:
        ranges = [_since(using, chunk_size, base, remember, set(heads) | set(latest.heads))]
        problems += _stitch(ranges, heads, genesis=False)
        rewrites = [r for found in ranges for r in found.rewrites]
        history = [h for found in ranges for h in found.history]
        history_problems = verify_history.check_events_rows(using, history, rewrites)
    result.is_full = base is None
    remembered = {k: v for found in ranges for k, v in found.remembered.items()}
    result.rows_checked = sum(found.rows for found in ranges)
    problems += _pseudonymised_listed(ranges) + history_problems
    problems.sort(key=lambda p: (p.event_id is None, p.event_id or 0))
    # The heads first: a trail cut short names its missing end before the rows it left behind.
    anchors = checkpoints.heads_still_held(marks, remembered)
    anchors += checkpoints.published_still_there(using, expect_heads)
    missing_triggers = [
        Problem(None, None, f"append-only trigger {missing} is not installed or disabled")
        for missing in triggers_missing(using)
    ]
    # Without its trigger a table can be changed (the chains then tell, but only afterwards):
    # that fails the verification too, first, so that many problems cannot crowd it out.
    result.problems = (missing_triggers + anchors + problems)[:MAX_PROBLEMS]
    result.finished_at = timezone.now()
    result.seconds = time.monotonic() - started
    return result


def _base(using: str) -> tuple[AuditCheckpoint | None, list[Problem]]:
    """The checkpoint the last successful verification reached, if it is still there unchanged."""
    last = (
        AuditVerification.objects.using(using)
        .filter(is_ok=True, checkpoint_seq__isnull=False)
        .order_by("-id")
        .values_list("checkpoint_seq", "head_hash")
        .first()
    )
    if last is None:
        return None, []
    seq, hash_ = last
    mark = AuditCheckpoint.objects.using(using).filter(seq=seq).first()
    if mark is None or not hmac.compare_digest(mark.hash, hash_):
        return None, [
            Problem(
                None,
                None,
                f"the checkpoint verified before ({seq}) is gone or changed: the record was "
                "wiped or rewritten",
            )
        ]
    return mark, []


def _full_pass(using, chunk_size, jobs, remember, snapshot_id):
    labels = sorted(binding.history_models())
    if jobs == 1:
        ranges = [_check_range(using, chunk_size, None, None, remember, True)]
        tables = [verify_history.check_table(using, chunk_size, label) for label in labels]
    else:
        # Each worker takes the next task when it is done: the history tables first, the
        # largest first, then the events in ranges small enough that the workers end together
        # (two halves left one worker idle for seconds while the other finished).
        tasks = [
            ("table", snapshot_id, (using, chunk_size, label))
            for label in _largest_first(using, labels)
        ]
        splits = _split(using, jobs * _RANGES_PER_JOB)
        tasks += [
            ("range", snapshot_id, (using, chunk_size, low, high, remember, i == 0))
            for i, (low, high) in enumerate(splits)
        ]
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=detach_inherited_connections) as pool:
            done = pool.map(_work_in_worker, tasks, chunksize=1)
        # The tables' results in label order, as the single process has them.
        tables, ranges = sorted(done[: len(labels)]), done[len(labels) :]
    return ranges, verify_history.compare_history(using, chunk_size, ranges, tables)


def _since(using, chunk_size, base: AuditCheckpoint, remember, names) -> _Range:
    """Each chain's rows from the head ``base`` recorded (which must still hold its hash)."""
    starts = {}
    for name in sorted(names):
        seq, _hash = base.heads.get(name, (0, GENESIS_HASH))
        # The recorded head's own row first: its prev_hash cannot be matched (the row before it
        # is not read), its hash is (it is remembered).
        starts[name] = (seq, None) if seq else (1, GENESIS_HASH)
    checker = _Checker(remember, starts, keep_history=True)
    for name in sorted(names):
        low = starts[name][0]
        for row in event_rows(using, _COLUMNS, chunk_size, chain_name=name, from_seq=low):
            checker.row(row)
    return checker.finish()


def _stitch(ranges: list[_Range], heads: dict[str, int], *, genesis: bool) -> list[Problem]:
    """Each chain across the ranges: the first row of a chain in a range follows its last row in
    the ranges before (or starts the chain); and every chain ends at its head row."""
    problems: list[Problem] = []
    lasts: dict[str, tuple] = {}
    for index, found in enumerate(ranges):
        for name, (first_id, first_seq, first_prev) in found.firsts.items():
            before = lasts.get(name)
            if before is not None:
                expected_seq, expected_prev = before[1] + 1, before[2]
            elif genesis and index > 0:
                expected_seq, expected_prev = 1, GENESIS_HASH
            else:
                continue  # checked in the range itself
            if first_seq != expected_seq:
                problems.append(
                    Problem(first_id, first_seq, f"seq {expected_seq} missing or out of order")
                )
            if first_prev != expected_prev:
                problems.append(
                    Problem(first_id, first_seq, "prev_hash does not match the previous row")
                )
        problems += found.problems
        lasts.update(found.lasts)
    for name, seq in sorted(heads.items()):
        last_seq = lasts[name][1] if name in lasts else 0
        if seq != last_seq and (genesis or name in lasts):
            problems.append(
                Problem(
                    lasts[name][0] if name in lasts else None,
                    last_seq or None,
                    f"chain {name} ends at seq {last_seq} but its head is seq {seq}: rows were "
                    "removed from the end",
                )
            )
    return problems


def _pseudonymised_listed(ranges: list[_Range]) -> list[Problem]:
    covered = set().union(*(found.covered for found in ranges)) if ranges else set()
    return [
        Problem(event_id, seq, "pseudonymised without a pseudonymisation event")
        for found in ranges
        for event_id, seq in found.pseudonymised
        if event_id not in covered
    ]


def record_verification(*, result: Result, source: str) -> AuditVerification:
    """Store the outcome of a verification."""
    return AuditVerification.objects.create(
        started_at=result.started_at,
        finished_at=result.finished_at,
        is_ok=result.is_ok,
        rows_checked=result.rows_checked,
        head_id=result.head_id,
        head_seq=result.head_seq,
        head_hash=result.head_hash or "",
        checkpoint_seq=result.head_seq,
        is_full=result.is_full,
        first_bad_id=result.first_bad_id,
        problem=result.first_problem or "",
        problem_count=len(result.problems),
        source=source,
    )


def triggers_missing(using: str = "default") -> list[str]:
    """Tables whose append-only trigger is not installed (PostgreSQL and SQLite)."""
    import pgtrigger.core
    from pgtrigger import registry

    if connections[using].vendor == "sqlite":
        from . import sqlite

        return sqlite.missing(using)
    if connections[using].vendor != "postgresql":
        return []
    missing = []
    for model, trigger in registry.registered():
        status, enabled = trigger.get_installation_status(model, database=using)
        if status != pgtrigger.core.INSTALLED or not enabled:
            missing.append(f"{model._meta.db_table}:{trigger.name}")
    return missing
