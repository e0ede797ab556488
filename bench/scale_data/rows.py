"""Bulk writing for the scale data: rows buffered per table and sent with COPY, ids handed out
in memory, history rows shaped like django-simple-history's, and audit events appended to the
hash chain with the audit app's own hash function.

Nothing here calls `save()`: no signal fires, so the history rows and the audit events that the
ORM would have written are written explicitly, consistently with the live rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.db import connection, models
from psycopg.types.json import Jsonb

from audit import chain
from audit.models import GENESIS_HASH, AuditEvent, ChainHead, chain_of

_REQUIRED = object()
MICROSECOND = datetime.timedelta(microseconds=1)
FLUSH_ROWS = 20_000


class Table:
    """One database table: its columns in model order, and the rows waiting to be copied."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.name = model._meta.db_table
        fields = list(model._meta.local_concrete_fields)
        self.attnames = [f.attname for f in fields]
        self.columns = [f.column for f in fields]
        self.defaults = [self._default(f) for f in fields]
        self.is_json = [f.get_internal_type() == "JSONField" for f in fields]
        self.rows: list[tuple] = []

    @staticmethod
    def _default(field: models.Field) -> Any:
        # A column added later with a default (or nullable) needs no change here.
        if field.has_default():
            return field.get_default()
        if field.null:
            return None
        if field.get_internal_type() in ("CharField", "TextField") and field.blank:
            return ""
        return _REQUIRED

    def add(self, row: dict) -> dict:
        """Queue ``row`` (by attname); return its values with the defaults filled in."""
        values, full = [], {}
        for attname, default, is_json in zip(
            self.attnames, self.defaults, self.is_json, strict=True
        ):
            value = row.get(attname, default)
            if value is _REQUIRED:
                raise KeyError(f"{self.name}.{attname} has no value and no default")
            full[attname] = value
            values.append(Jsonb(value) if is_json and value is not None else value)
        self.rows.append(tuple(values))
        return full

    def flush(self, cursor) -> int:
        if not self.rows:
            return 0
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with cursor.copy(f'COPY "{self.name}" ({columns}) FROM STDIN') as copy:
            for row in self.rows:
                copy.write_row(row)
        count = len(self.rows)
        self.rows.clear()
        return count


def model_by_table(db_table: str) -> type[models.Model]:
    for model in apps.get_models():
        if model._meta.db_table == db_table:
            return model
    raise LookupError(db_table)


class Ids:
    """Primary keys handed out in memory from each table's current maximum (the generator holds
    the only writing connection); the sequences are moved past them at the end."""

    def __init__(self):
        self._next: dict[str, int] = {}
        self._pk: dict[str, str] = {}

    def register(self, model: type[models.Model], pk_column: str | None = None) -> None:
        table = model._meta.db_table
        column = pk_column or model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')  # noqa: S608
            self._next[table] = cursor.fetchone()[0] + 1
        self._pk[table] = column

    def take(self, model: type[models.Model]) -> int:
        table = model._meta.db_table
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def reset_sequences(self) -> None:
        with connection.cursor() as cursor:
            for table, column in self._pk.items():
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [f'"{table}"', column])
                sequence = cursor.fetchone()[0]
                if sequence and self._next[table] > 1:
                    cursor.execute("SELECT setval(%s, %s)", [sequence, self._next[table] - 1])


def json_safe(value: Any) -> Any:
    """A value as the audit trail stores it in an event's `changes` (see audit.registry)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


class Tracked:
    """What an audited model's events show: field names and attnames, personal ones apart."""

    def __init__(self, model: type[models.Model], *, personal: Iterable[str] = ()):
        history_model = model.history.model
        present = {f.name for f in history_model._meta.concrete_fields}
        personal = set(personal)
        self.public: list[tuple[str, str]] = []
        self.personal: list[tuple[str, str]] = []
        for field in model._meta.concrete_fields:
            if field.name not in present or isinstance(field, models.OneToOneField):
                continue
            target = self.personal if field.name in personal else self.public
            target.append((field.name, field.attname))

    @staticmethod
    def _pairs(fields, old: dict | None, new: dict) -> dict:
        if old is None:
            return {
                name: [None, json_safe(new.get(attname))]
                for name, attname in fields
                if new.get(attname) not in (None, "")
            }
        return {
            name: [json_safe(old.get(attname)), json_safe(new.get(attname))]
            for name, attname in fields
            if old.get(attname) != new.get(attname)
        }

    def changes(self, old: dict | None, new: dict) -> tuple[dict, dict]:
        return self._pairs(self.public, old, new), self._pairs(self.personal, old, new)


class EventChain:
    """Appends audit events to their municipality's chain (`audit.models.chain_of`), as
    `audit.chain.append_event` does: seq without gaps per chain, prev_hash, HMAC hash (version 3);
    `write_heads` then writes each chain's head row.

    It runs on a fresh database (an empty trail) in one transaction, so no head can move under it.
    Event times never run backwards in id order (in a chain, `append_event` guarantees it), which
    keeps the timeline's date filters exact.
    """

    def __init__(self, table: Table, ids: Ids):
        self.table = table
        self.ids = ids
        self.key = chain.hmac_key()
        # Chain → [seq, hash, time, county code] of its newest event.
        self.heads: dict[str, list] = {}
        self.last_time = None
        self.empty_digest = chain.personal_digest({}, self.key)
        self.count = 0

    def write_heads(self) -> None:
        """Each chain's head row, as the appends through the services would have left it."""
        ChainHead.objects.bulk_create(
            ChainHead(key=key, seq=seq, hash=hash_, occurred_at=at, county_code=county)
            for key, (seq, hash_, at, county) in sorted(self.heads.items())
        )

    def append(self, values: dict) -> None:
        occurred_at = values["occurred_at"]
        if self.last_time is not None and occurred_at < self.last_time:
            occurred_at = self.last_time
        self.last_time = occurred_at
        personal = values.get("personal") or {}
        name = chain_of(values.get("municipality_id"))
        head = self.heads.setdefault(name, [0, GENESIS_HASH, None, ""])
        head[0] += 1
        head[2] = occurred_at
        if values.get("municipality_id"):
            head[3] = values.get("county_code", "")
        row = {
            "id": self.ids.take(AuditEvent),
            "chain": name,
            "seq": head[0],
            "occurred_at": occurred_at,
            "kind": values["kind"],
            "actor_kind": values["actor_kind"],
            "actor_user_id": values.get("actor_user_id"),
            "actor_label": values.get("actor_label", ""),
            "model_label": values["model_label"],
            "object_id": values.get("object_id", ""),
            "history_id": values.get("history_id"),
            "process_id": values.get("process_id"),
            "municipality_id": values.get("municipality_id"),
            "municipality_name": values.get("municipality_name", ""),
            "county_code": values.get("county_code", ""),
            "stage": values.get("stage", ""),
            "summary": values["summary"],
            "reason": values.get("reason", ""),
            "changes": values.get("changes") or {},
            "personal": personal,
            "personal_digest": (
                chain.personal_digest(personal, self.key) if personal else self.empty_digest
            ),
            "record_digest": values.get("record_digest", ""),
            "prev_hash": head[1],
            "pseudonymised_at": None,
        }
        row["hash"] = chain.event_hash(row, self.key)
        head[1] = row["hash"]
        self.table.add(row)
        self.count += 1


class Sink:
    """Every table the generator writes, flushed together in dependency order."""

    def __init__(self, order: list[type[models.Model]]):
        self.tables = {model: Table(model) for model in order}
        self.written: dict[str, int] = {}
        self.on_flush: Callable[[int], None] | None = None

    def __getitem__(self, model: type[models.Model]) -> Table:
        return self.tables[model]

    def pending(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())

    def flush(self, *, force: bool = False) -> None:
        if not force and self.pending() < FLUSH_ROWS:
            return
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY
            for table in self.tables.values():
                count = table.flush(raw)
                if count:
                    self.written[table.name] = self.written.get(table.name, 0) + count
