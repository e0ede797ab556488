"""Reading the audit trail for its verification: events as plain tuples, streamed, and one
snapshot shared by the verifying processes. Part of `audit.verification`."""

from __future__ import annotations

import re
from contextlib import contextmanager

from django.db import connections, transaction

from . import chain
from .models import AuditEvent

# PostgreSQL formats the time exactly as `chain.timestamp` does, which saves parsing a million
# datetimes only to format them again.
_PG_TIMESTAMP = """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def event_rows(
    using: str,
    columns: tuple[str, ...],
    chunk_size: int,
    low: int | None = None,
    high: int | None = None,
    *,
    chain_name: str | None = None,
    from_seq: int | None = None,
):
    """Plain tuples of ``columns`` in id order (ids in [low, high]; or one chain's rows from
    ``from_seq`` on), streamed: constant memory, no models."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        qs = AuditEvent.objects.using(using).order_by("id")
        if low is not None:
            qs = qs.filter(id__gte=low, id__lte=high)
        if chain_name is not None:
            qs = qs.filter(chain=chain_name, seq__gte=from_seq)
        # The hash covers the time as `chain.timestamp` formats it (PostgreSQL's query below
        # formats it itself).
        at = columns.index("occurred_at")
        for row in qs.values_list(*columns).iterator(chunk_size=chunk_size):
            yield (*row[:at], chain.timestamp(row[at]), *row[at + 1 :])
        return
    selected = ", ".join(
        _PG_TIMESTAMP if c == "occurred_at" else connection.ops.quote_name(c) for c in columns
    )
    where, params = ("WHERE id BETWEEN %s AND %s", [low, high]) if low is not None else ("", [])
    if chain_name is not None:
        where, params = "WHERE chain = %s AND seq >= %s", [chain_name, from_seq]
    # The personal part stays text: most are empty, and an empty one has a constant digest.
    changes = columns.index("changes")
    decode = chain.decode
    connection.ensure_connection()
    # A server-side cursor of psycopg: rows arrive in chunks as plain tuples, a chunk at a time
    # (not through the cursor's own iterator, a generator step per row).
    raw = connection.connection
    with raw.transaction(), raw.cursor(name="audit_verify") as cursor:
        cursor.execute(
            f"SELECT {selected} FROM audit_auditevent {where} ORDER BY id",  # noqa: S608
            params,
        )
        while rows := cursor.fetchmany(chunk_size):
            for row in rows:
                # Django's psycopg setup loads jsonb as text (its JSONField decodes it).
                if isinstance(row[changes], str):
                    row = list(row)
                    row[changes] = decode(row[changes])
                yield row


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9A-Fa-f]+)?")


@contextmanager
def snapshot(using: str):
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


def set_snapshot(cursor, snapshot: str) -> None:
    """``SET TRANSACTION SNAPSHOT``: the transaction sees what ``snapshot`` (an id from
    ``pg_export_snapshot()``) saw. Not a parameter: SET takes no placeholders (a statement bound
    on the server is refused); the id's form is checked instead."""
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"not a snapshot id: {snapshot!r}")
    cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")


def enter_snapshot(using: str, snapshot: str) -> None:
    """In a worker process: a transaction that sees the parent's snapshot."""
    connection = connections[using]
    connection.set_autocommit(False)
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        set_snapshot(cursor, snapshot)


# A forked worker must neither use nor close the connection it inherited (the parent's, which
# holds the snapshot open): it keeps a reference here, so the connection is never finalised in
# the child (a pool worker ends with os._exit), and opens its own.
_INHERITED: list = []


def detach_inherited_connections() -> None:
    from django.db import connections as worker_connections

    for alias in worker_connections:
        _INHERITED.append(worker_connections[alias])
        worker_connections[alias] = worker_connections.create_connection(alias)
