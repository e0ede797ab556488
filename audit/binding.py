"""Each history row bound to its audit event: the event's hash covers a digest of the row.

record_digest = HMAC-SHA256(AUDIT_HMAC_KEY, "record:" + canonical JSON of the row's non-empty
columns as [attname, value] pairs in attname order, plus its many-to-many history rows).

The digest is computed from the history instance when the event is written and from the table's
plain rows when verifying; both go through `canonical_value`, so a value reads the same whether
Python holds it or the database returns it (a time as UTC text with microseconds, a date as ISO
text, JSON as data). Empty values (NULL, "", false, 0, [] and {}) are left out: a column added
later with such a default leaves every older row's digest as it was.

Works on the project's models and on a migration's historical models alike (the data migration
that bound the rows recorded before digests existed uses the latter).
"""

from __future__ import annotations

import datetime
import hmac
import json
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from . import chain

# How a column's value is made canonical.
# (`_kind` refuses every other type of field.)
_DATETIME, _DATE, _JSON, _BOOL, _INT, _TEXT = range(6)
_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_TEXT_TYPES = {
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "FilePathField",
    "GenericIPAddressField",
    "FileField",
    "ImageField",
}


def _kind(field) -> int:
    internal = field.get_internal_type()
    while internal in ("ForeignKey", "OneToOneField"):  # a key to a child model's parent link
        field = field.target_field
        internal = field.get_internal_type()
    if internal == "DateTimeField":
        return _DATETIME
    if internal == "DateField":
        return _DATE
    if internal == "JSONField":
        return _JSON
    if internal == "BooleanField":
        return _BOOL
    if internal in _INTEGER_TYPES:
        return _INT
    if internal in _TEXT_TYPES:
        return _TEXT
    # Any other type may read differently where the row is written and where it is checked, or
    # on PostgreSQL and SQLite (a TimeField breaks the fast path's JSON, a UUIDField is text with
    # or without dashes, a DecimalField reads as a float on SQLite): a history model with one
    # must fail at once (tests/audit/test_verify.py runs this over every field), not nightly.
    model = getattr(field, "model", None)
    where = f"{model._meta.label}.{field.name}" if model is not None else repr(field)
    raise ImproperlyConfigured(
        f"{where}: the audit digest does not know how to read a {internal} on every database; "
        "teach audit.binding._kind and canonical_value to, or use another field type"
    )


def canonical_value(field, kind: int, value: Any) -> Any:
    """``value`` of ``field`` as the digest reads it, from Python or from the database."""
    if value is None:
        return None
    if kind == _DATETIME:
        if isinstance(value, str):  # SQLite's text, naive UTC
            value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return chain.timestamp(value)
    if kind == _DATE:
        return value if isinstance(value, str) else field.to_python(value).isoformat()
    if kind == _JSON:
        if isinstance(value, str | bytes):  # as the database returns it
            return json.loads(value)
        return json.loads(json.dumps(value, cls=field.encoder))
    if kind == _BOOL:
        return bool(value)
    if kind == _INT:
        return value if type(value) is int else int(field.get_prep_value(value))
    if kind == _TEXT:
        if type(value) is str:
            return value
        if hasattr(value, "storage"):  # a FieldFile
            return value.name or ""
        return str(field.get_prep_value(value))
    if isinstance(value, bool | int | str | float):
        return value
    return str(field.get_prep_value(value))


@dataclass(frozen=True)
class Layout:
    """How one history table is read and digested (columns in attname order)."""

    model: type
    table: str
    pk_column: str
    columns: tuple[str, ...]
    names: tuple[str, ...]
    fields: tuple
    kinds: tuple[int, ...]
    # Many-to-many history tables whose rows belong to a row of this one: (name, layout).
    children: tuple[tuple[str, Layout], ...] = ()
    # For a child table: the column naming its parent history row.
    parent_column: str = ""

    @cached_property
    def json_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, kind in enumerate(self.kinds) if kind == _JSON)


_layouts: dict[type, Layout] = {}


def _is_history(model) -> bool:
    names = {f.name for f in model._meta.concrete_fields}
    return {"history_id", "history_date", "history_type"} <= names


def _children(model) -> list[tuple[str, type]]:
    """Many-to-many history models (simple-history's) pointing at ``model``'s rows."""
    found = []
    for other in model._meta.apps.get_models():
        link = next((f for f in other._meta.concrete_fields if f.name == "history"), None)
        if getattr(link, "related_model", None) is model and not _is_history(other):
            found.append((other._meta.db_table, other))
    return sorted(found, key=lambda pair: pair[0])


def layout(model) -> Layout:
    found = _layouts.get(model)
    if found is None:
        parent_link = None
        if not _is_history(model):
            parent_link = model._meta.get_field("history")
        fields = sorted(
            (
                f
                for f in model._meta.concrete_fields
                # A child row is digested without its own id and its parent's (the parent's
                # digest holds it).
                if parent_link is None or (f is not model._meta.pk and f is not parent_link)
            ),
            key=lambda f: f.attname,
        )
        found = Layout(
            model=model,
            table=model._meta.db_table,
            pk_column=model._meta.pk.column,
            columns=tuple(f.column for f in fields),
            names=tuple(f.attname for f in fields),
            fields=tuple(fields),
            kinds=tuple(_kind(f) for f in fields),
            children=tuple((t, layout(m)) for t, m in _children(model))
            if parent_link is None
            else (),
            parent_column=parent_link.column if parent_link is not None else "",
        )
        _layouts[model] = found
    return found


# Left out of a digest (0 equals False, and is left out too).
_EMPTY_VALUES = (None, False, "", [], {})


def _pairs(lay: Layout, values) -> list:
    pairs = []
    for name, field, kind, raw in zip(lay.names, lay.fields, lay.kinds, values, strict=True):
        value = canonical_value(field, kind, raw)
        if value not in _EMPTY_VALUES:
            pairs.append([name, value])
    return pairs


def _is_fast(connection, lay: Layout) -> bool:
    """Whether the database formats ``lay``'s values as `canonical_value` would (PostgreSQL:
    `_kind` admits only the types `_stream` formats there or that need no formatting)."""
    return connection.vendor == "postgresql"


def _read_pairs(lay: Layout, values, fast: bool) -> list:
    """`_pairs` of a row as `_stream` reads it: on PostgreSQL the query already formats times
    and dates as `canonical_value` does, and integers, texts and booleans need nothing.

    The pairs are tuples there (JSON writes a tuple as a list: the same bytes), and a value is
    left out when it is false: for every type such a row holds (text, integer, boolean, None,
    and JSON's dict, list, text, number) that is exactly being one of `_EMPTY_VALUES` (0 and
    0.0 equal False; NaN is true and equals nothing), without five comparisons per value."""
    if not fast:
        return _pairs(lay, values)
    if lay.json_indexes:
        values = list(values)
        for index in lay.json_indexes:
            if values[index] is not None:
                values[index] = chain.decode(values[index])
    return list(compress(zip(lay.names, values, strict=True), values))


def _digest(lay: Layout, values, children: dict[str, list], key: bytes) -> bytes:
    return _digest_with(_keyed_state(key), lay, values, children)


def _keyed_state(key: bytes) -> hmac.HMAC:
    """The key's HMAC state with the prefix, set up once (a third of the cost of a digest
    otherwise) and copied per row."""
    base = _keyed.get(key)
    if base is None:
        base = _keyed[key] = hmac.new(key, b"record:", "sha256")
    return base


def _digest_with(base: hmac.HMAC, lay: Layout, values, children: dict[str, list]) -> bytes:
    state = base.copy()
    if not lay.children:
        # canonical({"row": values}), without building and sorting a dict of one key.
        state.update(b'{"row":' + chain.canonical(values) + b"}")
        return state.digest()
    content: dict[str, Any] = {"row": values}
    for table, _child in lay.children:
        rows = children.get(table) or []
        if rows:
            content[table] = sorted(rows, key=chain.canonical)
    state.update(chain.canonical(content))
    return state.digest()


_keyed: dict[bytes, hmac.HMAC] = {}


def digest_of_values(model, values: dict, children: dict | None = None, key=None) -> str:
    """The digest of one history row of ``model`` from its values by attname, and the rows of
    its many-to-many history tables as dicts by attname (``{table: [row, ...]}``)."""
    lay = layout(model)
    child_rows = {}
    for table, child in lay.children:
        rows = (children or {}).get(table) or []
        child_rows[table] = [_pairs(child, [row[n] for n in child.names]) for row in rows]
    row = _pairs(lay, [values[name] for name in lay.names])
    return _digest(lay, row, child_rows, key or chain.hmac_key()).hex()


def digest_of_record(record, key=None) -> str:
    """The digest of a history instance as simple-history just wrote it (with the many-to-many
    rows written with it, else read back)."""
    lay = layout(type(record))
    values = {name: getattr(record, name) for name in lay.names}
    written = getattr(record, "_m2m_rows", {})
    children = {}
    for table, child in lay.children:
        rows = written.get(table)
        if rows is None:
            rows = list(
                child.model._default_manager.using(record._state.db or "default")
                .filter(**{child.parent_column: record.pk})
                .values(*child.names)
            )
        else:
            rows = [{n: getattr(row, n) for n in child.names} for row in rows]
        children[table] = rows
    return digest_of_values(type(record), values, children, key)


def history_models(apps=None) -> dict[str, type]:
    """Audited model label (as events name it) → its history model, for every history table
    with rows of its own (many-to-many history tables belong to their parent's rows)."""
    from django.apps import apps as project_apps

    from .apps import protected_history_models

    found = {}
    for model in protected_history_models():
        if not _is_history(model):
            continue
        label = model.instance_type._meta.label_lower
        found[label] = model
    if apps is not None and apps is not project_apps:
        return {
            label: apps.get_model(model._meta.app_label, model._meta.model_name)
            for label, model in found.items()
        }
    return found


def table_digests(model, using: str = "default", chunk_size: int = 5000, key=None):
    """(history id, digest) of every row of ``model``'s history table, in history id order:
    plain rows in bulk, per table, one pass over each many-to-many history table alongside."""
    lay = layout(model)
    key = key or chain.hmac_key()
    connection = connections[using]
    pk_index = lay.columns.index(lay.pk_column)
    # A child's rows come ordered by their parent, its parent column last (then left out).
    child_streams = [
        (table, child, _stream(connection, child, child.parent_column, chunk_size))
        for table, child in lay.children
    ]
    pending = {table: next(stream, None) for table, _child, stream in child_streams}
    fast = _is_fast(connection, lay)
    fast_children = {table: _is_fast(connection, child) for table, child in lay.children}
    base = _keyed_state(key)
    for row in _stream(connection, lay, lay.pk_column, chunk_size):
        history_id = row[pk_index]
        children: dict[str, list] = {}
        for table, child, stream in child_streams:
            rows = []
            head = pending[table]
            while head is not None and head[-1] <= history_id:
                if head[-1] == history_id:
                    rows.append(_read_pairs(child, head[:-1], fast_children[table]))
                head = next(stream, None)
            pending[table] = head
            children[table] = rows
        yield history_id, _digest_with(base, lay, _read_pairs(lay, row, fast), children)


# PostgreSQL formats times and dates as `canonical_value` does (UTC, microseconds; ISO dates).
_PG_FORMATS = {
    _DATETIME: """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    _DATE: "to_char({}, 'YYYY-MM-DD')",
}


def _stream(connection, lay: Layout, order_column: str, chunk_size: int):
    """Plain tuples of ``lay``'s columns (then the ordering column if it is not one of them),
    through a server-side cursor on PostgreSQL."""
    quote = connection.ops.quote_name
    fast = _is_fast(connection, lay)
    selected = [
        _PG_FORMATS[kind].format(quote(column)) if fast and kind in _PG_FORMATS else quote(column)
        for column, kind in zip(lay.columns, lay.kinds, strict=True)
    ]
    if order_column not in lay.columns:
        selected.append(quote(order_column))
    sql = (
        f"SELECT {', '.join(selected)} FROM {quote(lay.table)} "  # noqa: S608
        f"ORDER BY {quote(order_column)}"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows
