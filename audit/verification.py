"""Re-computing the hash chain, streaming, and naming the first row that does not hold; checking
every history row against the digest its event holds (`audit.binding`).

Rows are read in id order (ids and seqs are both handed out under the chain lock, so they rise
together). For each row: seq must follow the previous one by exactly 1 (a gap means removed
rows, a step back means a reordered or inserted row), prev_hash must equal the previous row's
stored hash, the hash must recompute, and, unless pseudonymised, the personal part must match its
digest. Every pseudonymised row must be listed by a later pseudonymisation event. The chain must
still contain the head a previous verification saw (else rows were cut off the end).
"""

from __future__ import annotations

import hmac
import json
import multiprocessing
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Max, Min
from django.utils import timezone

from . import binding, chain
from .conf import setting
from .models import GENESIS_HASH, AuditEvent, AuditVerification, Kind

MAX_PROBLEMS = 100

_COLUMNS = ("id", *chain.HASHED_FIELDS, "hash", "personal", "pseudonymised_at", "chain_version")
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Problem:
    event_id: int | None
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"event id {self.event_id} (seq {self.seq})" if self.event_id else "chain"
        return f"{where}: {self.message}"


@dataclass
class Result:
    started_at: object
    finished_at: object = None
    rows_checked: int = 0
    head_id: int | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_id(self) -> int | None:
        return self.problems[0].event_id if self.problems else None

    @property
    def first_problem(self) -> str:
        return str(self.problems[0]) if self.problems else ""

    def add(self, event_id, seq, message) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(event_id, seq, message))


# PostgreSQL formats the time exactly as `chain.timestamp` does, which saves parsing a million
# datetimes only to format them again.
_PG_TIMESTAMP = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def _rows(using: str, chunk_size: int, low: int | None = None, high: int | None = None):
    """Plain tuples in id order (ids in [low, high]), streamed: constant memory, no models."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        qs = AuditEvent.objects.using(using).order_by("id")
        if low is not None:
            qs = qs.filter(id__gte=low, id__lte=high)
        # The hash covers the time as `chain.timestamp` formats it (PostgreSQL's query below
        # formats it itself).
        at = _COLUMNS.index("occurred_at")
        for row in qs.values_list(*_COLUMNS).iterator(chunk_size=chunk_size):
            yield (*row[:at], chain.timestamp(row[at]), *row[at + 1 :])
        return
    columns = ", ".join(
        _PG_TIMESTAMP if c == "occurred_at" else connection.ops.quote_name(c) for c in _COLUMNS
    )
    where, params = ("WHERE id BETWEEN %s AND %s", [low, high]) if low is not None else ("", [])
    # The personal part stays text: most are empty, and an empty one has a constant digest.
    json_columns = [_COLUMNS.index("changes")]
    loads = json.loads
    connection.ensure_connection()
    # A server-side cursor of psycopg: rows arrive in chunks as plain tuples.
    raw = connection.connection
    with raw.transaction(), raw.cursor(name="audit_verify") as cursor:
        cursor.itersize = chunk_size
        cursor.execute(
            f"SELECT {columns} FROM audit_auditevent {where} ORDER BY id",  # noqa: S608
            params,
        )
        for row in cursor:
            # Django's psycopg setup loads jsonb as text (its JSONField decodes it).
            if isinstance(row[json_columns[0]], str):
                row = list(row)
                for i in json_columns:
                    row[i] = loads(row[i])
            yield row


_EMPTY_JSON = ("{}", {})


@dataclass
class _Range:
    """What one worker found in one id range; ranges are stitched together afterwards."""

    rows: int = 0
    first: tuple | None = None  # (id, seq, prev_hash)
    last: tuple | None = None  # (id, seq, hash)
    problems: list[Problem] = field(default_factory=list)
    pseudonymised: list[tuple[int, int]] = field(default_factory=list)
    covered: set[int] = field(default_factory=set)
    # seq → hash of the rows whose seq the caller asked about (heads seen or published before).
    remembered: dict[int, str] = field(default_factory=dict)
    # Per audited model label: how many events name a history row, and the sum (mod 2**64) of
    # the first 64 bits of their record digests, with pseudonymisations' rewrites applied.
    bound: dict[str, list[int]] = field(default_factory=dict)
    # The rows pseudonymisations rewrote: (event id, seq, label, history id, old, new digest).
    rewrites: list[tuple] = field(default_factory=list)


# How many recent rows the order check keeps (seq → hash): rows moved further than this from
# their place are still found, as a gap and a step back, but their prev_hash is not matched.
_ORDER_WINDOW = 4096
_PREV_MISMATCH = "prev_hash does not match the previous row: inserted or reordered"


class _Order:
    """Whether seqs follow each other without gaps, reporting a disorder once.

    A gap (seqs skipped) stays open until the end of the range: if a skipped seq turns up
    later, the rows were reordered (one problem, at that row); if not, rows were removed (one
    problem, at the row after the gap). Each row's prev_hash is matched with the hash of the row
    whose seq precedes its own, wherever that row stands, so a swap does not make every later
    row look out of place.
    """

    def __init__(self, add, expected_seq: int | None, prev_hash: str | None) -> None:
        self.add = add
        self.expected = expected_seq
        # Rows read recently, by seq: (hash, prev_hash, id).
        self.recent: dict[int, tuple[str, str, int]] = {}
        if expected_seq is not None and prev_hash is not None:
            self.recent[expected_seq - 1] = (prev_hash, "", 0)
        # Open gaps: [first missing seq, last missing seq, id and seq of the row after them].
        self.gaps: list[list[int]] = []

    def row(self, event_id: int, seq: int, prev_hash: str, row_hash: str) -> None:
        expected = self.expected
        if expected is None or seq == expected:
            self.expected = seq + 1
        elif seq > expected:
            self.gaps.append([expected, seq - 1, event_id, seq])
            self.expected = seq + 1
        elif not self._fill_gap(seq):
            self.add(event_id, seq, f"seq {seq} out of order (expected {expected})")
        else:
            self.add(event_id, seq, f"seq {seq} out of order: rows reordered")
        before = self.recent.get(seq - 1)
        if before is not None and before[0] != prev_hash:
            self.add(event_id, seq, _PREV_MISMATCH)
        after = self.recent.get(seq + 1)
        if after is not None and after[1] != row_hash:
            self.add(after[2], seq + 1, _PREV_MISMATCH)
        self.recent[seq] = (row_hash, prev_hash, event_id)
        if len(self.recent) > _ORDER_WINDOW:
            del self.recent[next(iter(self.recent))]

    def _fill_gap(self, seq: int) -> bool:
        for index, (low, high, event_id, after) in enumerate(self.gaps):
            if low <= seq <= high:
                pieces = [[low, seq - 1, event_id, after], [seq + 1, high, event_id, after]]
                self.gaps[index : index + 1] = [p for p in pieces if p[0] <= p[1]]
                return True
        return False

    def finish(self) -> None:
        for low, high, event_id, after in self.gaps:
            gap = f"{low}" if low == high else f"{low}–{high}"
            self.add(event_id, after, f"seq {gap} missing before it: rows removed or reordered")


def _check_range(using, chunk_size, low, high, remember_seqs, is_first_range) -> _Range:
    key = chain.hmac_key()
    names = chain.HASHED_FIELDS
    width = len(names)
    hash_index = width + 1
    personal_index, pseudonymised_index = hash_index + 1, hash_index + 2
    digest_index = 1 + names.index("personal_digest")
    prev_index, kind_index = 1 + names.index("prev_hash"), 1 + names.index("kind")
    changes_index = 1 + names.index("changes")
    label_index, history_index = 1 + names.index("model_label"), 1 + names.index("history_id")
    record_index, version_index = 1 + names.index("record_digest"), hash_index + 3
    bound: dict[str, list[int]] = {}
    empty_digest = chain.personal_digest({}, key)
    event_hash, personal_digest, compare = (
        chain.stored_event_hash,
        chain.personal_digest,
        hmac.compare_digest,
    )
    loads = json.JSONDecoder().decode
    found = _Range(bound=bound)

    def add(event_id, seq, message):
        if len(found.problems) < MAX_PROBLEMS:
            found.problems.append(Problem(event_id, seq, message))

    order = _Order(add, *((1, GENESIS_HASH) if is_first_range else (None, None)))
    for row in _rows(using, chunk_size, low, high):
        found.rows += 1
        event_id, seq, row_hash = row[0], row[1], row[hash_index]
        if found.first is None:
            found.first = (event_id, seq, row[prev_index])
        order.row(event_id, seq, row[prev_index], row_hash)
        version = row[version_index]
        if not compare(
            event_hash(dict(zip(names, row[1 : width + 1], strict=True)), key, version), row_hash
        ):
            add(event_id, seq, "hash does not match its content: the row was altered")
        if row[history_index] is not None:
            sums = bound.get(row[label_index])
            if sums is None:
                sums = bound[row[label_index]] = [0, 0]
            sums[0] += 1
            sums[1] = (sums[1] + int(row[record_index][:16] or "0", 16)) & _MASK
        if row[pseudonymised_index] is None:
            personal = row[personal_index]
            if personal in _EMPTY_JSON:
                digest = empty_digest
            else:
                personal = loads(personal) if isinstance(personal, str) else personal
                digest = personal_digest(personal, key) if personal else empty_digest
            if not compare(digest, row[digest_index]):
                add(event_id, seq, "personal data does not match its digest: altered")
        else:
            found.pseudonymised.append((event_id, seq))
        if row[kind_index] == Kind.PERSON_PSEUDONYMISED:
            found.covered.update((row[changes_index] or {}).get("events", []))
            for label, history_id, old, new in (row[changes_index] or {}).get("rows", []):
                found.rewrites.append((event_id, seq, label, history_id, old, new))
        if seq in remember_seqs:
            found.remembered[seq] = row_hash
        found.last = (event_id, seq, row_hash)
    order.finish()
    found.problems.sort(key=lambda p: (p.event_id is None, p.event_id or 0))
    return found


def _check_table(using, chunk_size, label) -> tuple[str, int, int]:
    """(label, rows, sum of the first 64 bits of their digests) of one history table."""
    model = binding.history_models()[label]
    count = total = 0
    for _history_id, digest in binding.table_digests(model, using, chunk_size):
        count += 1
        total = (total + int.from_bytes(digest[:8], "big")) & _MASK
    return label, count, total


def _work_in_worker(task):
    from django.db import connections as worker_connections

    kind, snapshot, args = task
    try:
        if snapshot is not None:
            _enter_snapshot(args[0], snapshot)
        return _check_range(*args) if kind == "range" else _check_table(*args)
    finally:
        worker_connections.close_all()


def _compare_history(using, chunk_size, ranges, tables) -> list[Problem]:
    """Every history row has its event and every event's row is there, unchanged: per table,
    the events' digests (with pseudonymisations' rewrites) must add up to the rows' digests.
    Only a table where they do not is read again, row by row, to name what differs."""
    expected: dict[str, list[int]] = {}
    for found in ranges:
        for label, (count, total) in found.bound.items():
            sums = expected.setdefault(label, [0, 0])
            sums[0] += count
            sums[1] = (sums[1] + total) & _MASK
    rewrites = sorted((r for found in ranges for r in found.rewrites), key=lambda r: r[0])
    for _event_id, _seq, label, _history_id, old, new in rewrites:
        sums = expected.setdefault(label, [0, 0])
        sums[1] = (sums[1] - int(old[:16] or "0", 16) + int(new[:16] or "0", 16)) & _MASK
    problems = []
    seen = set()
    for label, count, total in tables:
        seen.add(label)
        if expected.get(label, [0, 0]) != [count, total]:
            problems += _locate(using, chunk_size, label, rewrites)
    for label in sorted(set(expected) - seen):
        problems.append(
            Problem(None, None, f"events name history rows of {label}, which has no history table")
        )
    return problems


def _locate(using, chunk_size, label, rewrites) -> list[Problem]:
    model = binding.history_models()[label]
    table = model._meta.db_table
    events = (
        AuditEvent.objects.using(using)
        .filter(model_label=label, history_id__isnull=False)
        .values_list("history_id", "record_digest", "id", "seq")
    )
    expected = {row[0]: row[1:] for row in events.iterator(chunk_size=chunk_size)}
    problems = []
    for event_id, seq, rewritten_label, history_id, old, new in rewrites:
        if rewritten_label != label:
            continue
        current = expected.get(history_id)
        if current is None or current[0] != old:
            problems.append(
                Problem(
                    event_id,
                    seq,
                    f"rewrote history row {table} #{history_id}, which had already been altered",
                )
            )
        expected[history_id] = (new, event_id, seq)
    for history_id, digest in binding.table_digests(model, using, chunk_size):
        entry = expected.pop(history_id, None)
        if entry is None:
            problems.append(
                Problem(
                    None,
                    None,
                    f"history row {table} #{history_id} has no audit event: added behind the "
                    "application's back",
                )
            )
        elif not hmac.compare_digest(entry[0], digest.hex()):
            problems.append(
                Problem(
                    entry[1],
                    entry[2],
                    f"its history row ({table} #{history_id}) does not match its digest: altered",
                )
            )
        if len(problems) >= MAX_PROBLEMS:
            return problems
    for history_id, (_digest, event_id, seq) in sorted(expected.items()):
        problems.append(
            Problem(event_id, seq, f"its history row ({table} #{history_id}) is gone: deleted")
        )
    return problems[:MAX_PROBLEMS]


def _split(using: str, jobs: int) -> list[tuple[int, int]]:
    bounds = AuditEvent.objects.using(using).aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    if low is None:
        return []
    step = max((high - low + 1) // jobs, 1)
    edges = [low + i * step for i in range(jobs)] + [high + 1]
    return [(edges[i], edges[i + 1] - 1) for i in range(jobs) if edges[i] <= edges[i + 1] - 1]


def published_head(seq: int | None, hash_: str | None) -> str:
    """The chain head as it is published outside the database (`SEQ:HASH`), for
    `verify_audit --expect-head`."""
    return f"{seq}:{hash_}" if seq else ""


def parse_head(text: str) -> tuple[int, str]:
    """`SEQ:HASH` (as `published_head` writes it) → (seq, hash); ValueError when malformed."""
    seq, sep, hash_ = text.strip().partition(":")
    hash_ = hash_.strip().lower()
    if not sep or not seq.strip().isdigit() or int(seq) < 1 or len(hash_) != 64:
        raise ValueError(f"not a published chain head (SEQ:HASH): {text!r}")
    int(hash_, 16)  # hex only
    return int(seq), hash_


def verify_chain(
    *,
    using: str = "default",
    chunk_size: int | None = None,
    jobs: int = 1,
    expect_heads: list[tuple[int, str]] = (),
) -> Result:
    """Verify the whole chain. ``jobs`` > 1 checks id ranges in parallel processes (each with its
    own connection, so only outside a transaction: inside one the others could not see its rows).

    ``expect_heads``: heads published outside the database earlier (seq, hash); each must still
    be in the chain, unchanged. Only they catch a trail wiped or shortened together with its
    stored verifications (the database's own memory of its head).
    """
    connection = connections[using]
    if jobs > 1 and (connection.in_atomic_block or connection.vendor != "postgresql"):
        jobs = 1
    # One snapshot for every pass: a step or a pseudonymisation committed between the event pass
    # and the history tables' pass would otherwise show as a row added or altered behind the
    # application's back.
    with _snapshot(using) as snapshot:
        return _verify(using, chunk_size, jobs, expect_heads, snapshot)


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9A-Fa-f]+)?")


@contextmanager
def _snapshot(using: str):
    """Everything read inside sees the database as it was at one moment; yields PostgreSQL's
    exported snapshot id (for the worker processes) or None.

    PostgreSQL: a REPEATABLE READ READ ONLY transaction. SQLite: a deferred read transaction (in
    WAL mode it keeps the snapshot of its first read and blocks no writer; Django's atomic would
    begin IMMEDIATE there and hold the write lock). Inside a caller's transaction, the caller's."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield None
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            yield cursor.fetchone()[0]
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield None
            finally:
                cursor.execute("ROLLBACK")  # read only: nothing to keep
    else:
        yield None


def _enter_snapshot(using: str, snapshot: str) -> None:
    """In a worker process: a transaction that sees the parent's snapshot."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    connection = connections[using]
    connection.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # Not a parameter: SET takes no placeholders; the id's form is checked above.
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")


# A forked worker must neither use nor close the connection it inherited (the parent's, which
# holds the snapshot open): it keeps a reference here, so the connection is never finalised in
# the child (a pool worker ends with os._exit), and opens its own.
_INHERITED: list = []


def _detach_inherited_connections() -> None:
    from django.db import connections as worker_connections

    for alias in worker_connections:
        _INHERITED.append(worker_connections[alias])
        worker_connections[alias] = worker_connections.create_connection(alias)


def _verify(using, chunk_size, jobs, expect_heads, snapshot) -> Result:
    started = time.monotonic()
    result = Result(started_at=timezone.now())
    chunk_size = chunk_size or setting("AUDIT_VERIFY_CHUNK_SIZE")
    last = _last_verified_head(using)
    remember_seq = frozenset(([last[0]] if last else []) + [seq for seq, _hash in expect_heads])
    labels = sorted(binding.history_models())
    if jobs == 1:
        ranges = [_check_range(using, chunk_size, None, None, remember_seq, True)]
        tables = [_check_table(using, chunk_size, label) for label in labels]
    else:
        splits = _split(using, jobs)
        tasks = [
            ("range", snapshot, (using, chunk_size, low, high, remember_seq, i == 0))
            for i, (low, high) in enumerate(splits)
        ]
        # The history tables after the ranges: each worker takes the next task when it is done.
        tasks += [("table", snapshot, (using, chunk_size, label)) for label in labels]
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_detach_inherited_connections) as pool:
            done = pool.map(_work_in_worker, tasks, chunksize=1)
        ranges, tables = done[: len(splits)], done[len(splits) :]

    problems: list[Problem] = []
    previous = None
    covered: set[int] = set()
    pseudonymised: list[tuple[int, int]] = []
    remembered: dict[int, str] = {}
    for found in ranges:
        if found.first is None:
            continue
        if previous is not None:
            first_id, first_seq, first_prev = found.first
            _, last_seq, last_hash = previous.last
            if first_seq != last_seq + 1:
                problems.append(
                    Problem(first_id, first_seq, f"seq {last_seq + 1} missing or out of order")
                )
            if first_prev != last_hash:
                problems.append(
                    Problem(first_id, first_seq, "prev_hash does not match the previous row")
                )
        problems += found.problems
        covered |= found.covered
        pseudonymised += found.pseudonymised
        remembered.update(found.remembered)
        result.rows_checked += found.rows
        result.head_id, result.head_seq, result.head_hash = found.last
        previous = found
    problems += _compare_history(using, chunk_size, ranges, tables)
    for event_id, seq in pseudonymised:
        if event_id not in covered:
            problems.append(
                Problem(event_id, seq, "pseudonymised without a pseudonymisation event")
            )
    problems.sort(key=lambda p: (p.event_id is None, p.event_id or 0))
    # The heads first: a trail cut short names its missing end before the rows it left behind.
    heads: list[Problem] = []
    if last is not None and remembered.get(last[0]) != last[1]:
        heads.append(
            Problem(
                None,
                None,
                f"the head verified before (seq {last[0]}) is gone or changed: rows were "
                "removed from the end",
            )
        )
    for seq, hash_ in expect_heads:
        if seq not in remembered:
            heads.append(
                Problem(
                    None,
                    None,
                    f"the published head {published_head(seq, hash_)} is not in the chain "
                    f"(it has {result.rows_checked} events): the record was wiped or shortened",
                )
            )
        elif not hmac.compare_digest(remembered[seq], hash_):
            heads.append(
                Problem(
                    None,
                    None,
                    f"event seq {seq} does not have the published head's hash "
                    f"({published_head(seq, hash_)}): the record was rewritten",
                )
            )
    # Without its trigger a table can be changed (the chain then tells, but only afterwards): that
    # fails the verification too, so that it is stored and alerted like a broken chain.
    # First: a chain with many problems must not crowd them out of the kept list.
    missing_triggers = [
        Problem(None, None, f"append-only trigger {missing} is not installed or disabled")
        for missing in triggers_missing(using)
    ]
    result.problems = (missing_triggers + heads + problems)[:MAX_PROBLEMS]
    result.finished_at = timezone.now()
    result.seconds = time.monotonic() - started
    return result


def _last_verified_head(using: str) -> tuple[int, str] | None:
    row = (
        AuditVerification.objects.using(using)
        .filter(is_ok=True, head_seq__isnull=False)
        .order_by("-id")
        .values_list("head_seq", "head_hash")
        .first()
    )
    return row


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
