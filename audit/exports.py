"""Exports of the audit trail: CSV for people (Excel-friendly, streamed), a ZIP archive with a
manifest and checksums for the Region's e-archive, and everything about one contact person (GDPR).

Exports read through server-side cursors in id order, inside a transaction (no WITH HOLD
cursor), so any size streams in constant memory from the first row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import tempfile
import zipfile
from collections.abc import Iterator

from django.db import connections, transaction
from django.db.models import CharField, F, Func, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chain, registry, upstream
from .checkpoints import published_head
from .models import AuditEvent, Kind
from .personal import Scrubber, expand, expand_value
from .readable import ChangesLines, Resolver, changes_text, readable_changes
from .registry import Person
from .selectors import chain_status, events_about_person

BOM = "\ufeff"
CHUNK = 2000
ARCHIVE_FORMAT = "policyflow-audit-archive/1"


def csv_header() -> list[str]:
    return [
        _("Sequence"),
        _("Event id"),
        _("Time (UTC)"),
        _("Event"),
        _("Actor"),
        _("County"),
        _("Municipality"),
        _("Process"),
        _("Stage"),
        _("What"),
        _("Why"),
        _("Changes"),
        _("Record"),
        # For people, after the machine columns (a re-import reads those, by position too):
        # the event's code beside its label above, the stage's name beside its code, and the
        # changes with their fields' labels and values in words (audit.readable).
        _("Event code"),
        _("Stage name"),
        _("Changes (readable)"),
    ]


def _stage_label(code: str) -> str:
    directory = registry.directory()
    return str(directory.stage_label(code)) if directory and code else ""


def csv_row(event: AuditEvent) -> list[str]:
    personal = event.personal
    kind = Kind(event.kind).label if event.kind in Kind.values else event.kind
    changes = expand_value(event.changes, personal) if event.changes else {}
    readable = readable_changes(event.model_label, changes, Resolver())
    return [
        str(event.seq),
        str(event.id),
        chain.timestamp(event.occurred_at),
        str(kind),
        expand(event.actor_label, personal),
        event.county_code,
        event.municipality_name,
        "" if event.process_id is None else str(event.process_id),
        event.stage,
        expand(event.summary, personal),
        expand(event.reason, personal),
        json.dumps(expand_value(event.changes, personal), ensure_ascii=False, sort_keys=True)
        if event.changes
        else "",
        f"{event.model_label}:{event.object_id}",
        event.kind,
        _stage_label(event.stage),
        changes_text(readable),
    ]


# What `csv_row` reads, in its order, plus the personal part last.
_CSV_COLUMNS = (
    "seq",
    "id",
    "occurred_at",
    "kind",
    "actor_label",
    "county_code",
    "municipality_name",
    "process_id",
    "stage",
    "summary",
    "reason",
    "changes",
    "model_label",
    "object_id",
    "personal",
)


class _PgTimestamp(Func):
    """`chain.timestamp` done by PostgreSQL: no datetime objects for a million rows."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    output_field = CharField()


def _csv_values(queryset):
    """Plain tuples of `_CSV_COLUMNS` in id order. On PostgreSQL the time comes formatted and
    the JSON columns as text, decoded only for the rows that need it."""
    queryset = queryset.order_by("id")
    if connections[queryset.db].vendor != "postgresql":
        return queryset.values_list(*_CSV_COLUMNS)
    formatted = {
        "occurred_at": _PgTimestamp(F("occurred_at")),
        "changes": Cast("changes", output_field=TextField()),
        "personal": Cast("personal", output_field=TextField()),
    }
    names = {name: f"csv_{name}" for name in formatted}
    queryset = queryset.annotate(**{names[name]: value for name, value in formatted.items()})
    return queryset.values_list(*(names.get(name, name) for name in _CSV_COLUMNS))


def _csv_formatter():
    """(decode, cells, lines): `decode` turns one `_csv_values` tuple into one whose changes
    are decoded and expanded; `cells` turns that into the cells of `csv_row`, the names behind
    the changes' ids taken from a `Resolver` that ``lines`` told about the whole block first."""
    labels = {value: str(label) for value, label in Kind.choices}
    stages: dict[str, str] = {}
    lines = ChangesLines()
    loads, timestamp = json.JSONDecoder().decode, chain.timestamp
    # As `csv_row`'s; decoded JSON holds no cycles to look for (~1 µs a row).
    dumps = upstream.json_encoder(ensure_ascii=False, sort_keys=True)

    def decode(row) -> tuple:
        (seq, event_id, occurred_at, kind, actor, county, municipality, process_id, stage) = row[:9]
        summary, reason, changes, model_label, object_id, personal = row[9:]
        if isinstance(changes, str):  # PostgreSQL: JSON as text
            needs_people = "⟦" in changes
            changes = loads(changes) if changes != "{}" else None
        else:  # decoded already (not PostgreSQL): expand everything, as `csv_row` does
            needs_people = True
        needs_people = needs_people or "⟦" in actor or "⟦" in summary or "⟦" in reason
        if needs_people:
            personal = loads(personal) if isinstance(personal, str) else personal
            actor = expand(actor, personal)
            summary = expand(summary, personal)
            reason = expand(reason, personal)
            changes = expand_value(changes, personal) if changes else changes
        return (
            *(seq, event_id, occurred_at, kind, actor, county, municipality, process_id, stage),
            *(summary, reason, changes, model_label, object_id),
        )

    def cells(row, fields: list | None, resolver: Resolver) -> tuple:
        (seq, event_id, occurred_at, kind, actor, county, municipality, process_id, stage) = row[:9]
        summary, reason, changes, model_label, object_id = row[9:]
        if stage not in stages:
            stages[stage] = _stage_label(stage)
        return (
            seq,
            event_id,
            occurred_at if isinstance(occurred_at, str) else timestamp(occurred_at),
            labels.get(kind, kind),
            actor,
            county,
            municipality,
            "" if process_id is None else process_id,
            stage,
            summary,
            reason,
            dumps(changes) if changes else "",
            f"{model_label}:{object_id}",
            kind,
            stages[stage],
            lines.text(fields, changes, resolver) if changes else "",
        )

    return decode, cells, lines


def _streamed_rows(queryset, values=None) -> Iterator[tuple]:
    """`_csv_values` of ``queryset`` (or ``values``), streamed through a server-side cursor
    inside a transaction (a savepoint in the caller's, which a cancelled query would abort):
    outside one, Django declares it WITH HOLD and PostgreSQL materialises the whole result
    before the first row.

    The same connection looks up the names behind each block's ids between two fetches, which
    a cursor inside a transaction allows. (psycopg's `stream`, which let PostgreSQL send rows
    while the previous ones were formatted, holds its connection until the last row.)
    """
    values = _csv_values(queryset) if values is None else values
    with transaction.atomic(using=queryset.db):
        yield from values.iterator(chunk_size=CHUNK)


# --- The CSV file on PostgreSQL: the cells of the columns PostgreSQL formats -----------------


def _cell(value: str, delimiter: str) -> str:
    """One cell as `csv.writer` writes it (``delimiter`` and the default dialect otherwise):
    in quotes, its quotes doubled, when it holds the delimiter, a quote or a line break."""
    if delimiter in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


class _CsvCells(Func):
    """Cells written by PostgreSQL as `_cell` writes them, each followed by the delimiter
    (``lead``: one before the first too). NULL reads as an empty cell, as None does in
    `csv.writer`."""

    output_field = TextField()

    def __init__(self, *expressions, delimiter: str, lead: bool = False) -> None:
        if delimiter not in (",", ";"):
            raise ValueError(f"Not a CSV delimiter: {delimiter!r}")
        super().__init__(*expressions)
        self.delimiter, self.lead = delimiter, lead

    def as_sql(self, compiler, connection, **extra_context):
        values, params = [], []
        delimiter = f"'{self.delimiter}'"
        # As `_cell`: quoted when it holds the delimiter, a quote, a line feed or a return.
        needs_quotes = (
            f"strpos({{value}}, {delimiter}) > 0 OR strpos({{value}}, '\"') > 0 "
            "OR strpos({value}, E'\\n') > 0 OR strpos({value}, E'\\r') > 0"
        )
        quoted = (
            f"CASE WHEN {needs_quotes} "
            "THEN '\"' || replace({value}, '\"', '\"\"') || '\"' ELSE {value} END"
        )
        for expression in self.get_source_expressions():
            sql, cell_params = compiler.compile(expression)
            values.append((f"COALESCE(({sql})::text, '')", cell_params))
        lead = f"{delimiter} || " if self.lead else ""
        # The cells asked together first (they seldom hold any of those), each only then.
        together = " || ".join(value for value, _params in values)
        sql = (
            f"(CASE WHEN {needs_quotes.format(value=f'({together})')} "
            f"THEN {lead}{f' || {delimiter} || '.join(quoted.format(value=v) for v, _p in values)}"
            f" || {delimiter} "
            f"ELSE {lead}{f' || {delimiter} || '.join(v for v, _p in values)} || {delimiter} END)"
        )
        each = [param for _value, cell_params in values for param in cell_params]
        params.extend(each * needs_quotes.count("{value}"))
        uses = quoted.count("{value}")
        params.extend(param for _value, cell_params in values for param in cell_params * uses)
        params.extend(each)
        return sql, params


class _PgPlain(Func):
    """Cells PostgreSQL writes as they are (numbers, the formatted time: nothing to quote),
    each followed by the delimiter."""

    output_field = TextField()

    def __init__(self, *expressions, delimiter: str) -> None:
        if delimiter not in (",", ";"):
            raise ValueError(f"Not a CSV delimiter: {delimiter!r}")
        super().__init__(*expressions)
        self.delimiter = delimiter

    def as_sql(self, compiler, connection, **extra_context):
        sql_parts, params = [], []
        for expression in self.get_source_expressions():
            sql, cell_params = compiler.compile(expression)
            sql_parts.append(f"COALESCE(({sql})::text, '')")
            params.extend(cell_params)
        delimiter = f"'{self.delimiter}'"
        return f"({f' || {delimiter} || '.join(sql_parts)} || {delimiter})", params


class _PersonalText(Func):
    """The personal part as text, NULL when it is empty (most events name nobody): whether an
    event's texts or changes hold a placeholder is Python's question, asked of the texts it
    reads anyway (asking PostgreSQL wrote the changes as text a second time for each row)."""

    template = "NULLIF(%(expressions)s, '{}'::jsonb)::text"
    output_field = TextField()


def _pg_csv_values(queryset, delimiter: str):
    """Per event, in id order: the cells PostgreSQL writes (already quoted, with their
    delimiters) around the raw values only Python turns into cells (the texts that may hold
    placeholders, the changes and their readable line, the labels of codes)."""
    return (
        queryset.order_by("id")
        .annotate(
            csv_head=_PgPlain(
                F("seq"), F("id"), _PgTimestamp(F("occurred_at")), delimiter=delimiter
            ),
            csv_where=_CsvCells(
                F("county_code"),
                F("municipality_name"),
                F("process_id"),
                F("stage"),
                delimiter=delimiter,
                lead=True,
            ),
            csv_record=_CsvCells(
                Func(
                    F("model_label"),
                    F("object_id"),
                    template="(%(expressions)s)",
                    arg_joiner=" || ':' || ",
                    output_field=TextField(),
                ),
                F("kind"),
                delimiter=delimiter,
                lead=True,
            ),
            csv_changes=Cast("changes", output_field=TextField()),
            csv_personal=_PersonalText(F("personal")),
        )
        .values_list(
            "csv_head",
            "kind",
            "actor_label",
            "csv_where",
            "summary",
            "reason",
            "csv_changes",
            "csv_record",
            "stage",
            "model_label",
            "csv_personal",
        )
    )


def _pg_csv_blocks(queryset, delimiter: str) -> Iterator[str]:
    """The lines of `csv_row` for ``queryset``'s events, `CHUNK` a block: PostgreSQL writes
    the cells of plain columns, Python the rest (the names put back, the changes as JSON and
    in words, the labels of codes), per block after one `Resolver` fetch for the block's ids."""
    labels = {value: str(label) for value, label in Kind.choices}
    kinds: dict[str, str] = {}  # kind → its label's cell and the delimiter
    stages: dict[str, str] = {}  # stage → its label's cell and the delimiter
    lines = ChangesLines()
    # PostgreSQL's JSON text read without looking for white space around it (`chain.decode`).
    decode_json = chain.decode
    # As `csv_row`'s; decoded JSON holds no cycles to look for (~1 µs a row).
    dumps = upstream.json_encoder(ensure_ascii=False, sort_keys=True)
    end = "\r\n"

    def decode(row) -> tuple:
        head, kind, actor, where, summary, reason, changes, record, stage, model_label = row[:10]
        named = "⟦" in changes  # names to put back in the changes
        changes = decode_json(changes) if changes != "{}" else None
        if not (named or "⟦" in actor or "⟦" in summary or "⟦" in reason):
            return (head, kind, actor, where, summary, reason, changes, record, stage, model_label)
        # A placeholder somewhere: the names put back (none when the personal part is empty).
        personal = decode_json(row[10]) if row[10] is not None else {}
        actor = expand(actor, personal)
        summary = expand(summary, personal)
        reason = expand(reason, personal)
        changes = expand_value(changes, personal) if changes and named else changes
        return (head, kind, actor, where, summary, reason, changes, record, stage, model_label)

    def line(row, fields: list | None, resolver: Resolver) -> str:
        head, kind, actor, where, summary, reason, changes, record, stage, model_label = row
        kind_cell = kinds.get(kind)
        if kind_cell is None:
            kind_cell = kinds[kind] = _cell(labels.get(kind, kind), delimiter) + delimiter
        stage_cell = stages.get(stage)
        if stage_cell is None:
            stage_cell = stages[stage] = _cell(_stage_label(stage), delimiter) + delimiter
        if changes:
            # An object's JSON holds quotes: always quoted.
            json_cell = '"' + dumps(changes).replace('"', '""') + '"'
            readable = _cell(text(fields, changes, resolver), delimiter)
        else:
            json_cell = readable = ""
        texts = f"{actor}{summary}{reason}"  # most hold nothing to quote: asked once
        if delimiter in texts or '"' in texts or "\n" in texts or "\r" in texts:
            actor, summary, reason = (_cell(value, delimiter) for value in (actor, summary, reason))
        return (
            f"{head}{kind_cell}{actor}{where}{summary}{delimiter}{reason}{delimiter}"
            f"{json_cell}{record}{stage_cell}{readable}{end}"
        )

    rows = _streamed_rows(queryset, _pg_csv_values(queryset, delimiter))
    text = lines.text
    for block, shown, resolver in _resolved_blocks(rows, decode, lines, label_at=9, changes_at=6):
        yield "".join(
            [line(row, fields, resolver) for row, fields in zip(block, shown, strict=True)]
        )


# Names a stream keeps from block to block at most: each block then reads only the names it
# is the first to need (the same processes, people and steps come back block after block).
NAMES_KEPT = 20_000


def _resolved_blocks(rows, decode, lines: ChangesLines, *, label_at: int, changes_at: int):
    """``rows`` decoded, `CHUNK` at a time, each block with its rows' shown fields (for
    `ChangesLines.text`) and a `Resolver` that has read the names behind the block's ids (one
    statement a block, for the ids no earlier block read); the query stops when the caller
    does."""
    resolver = Resolver()
    try:
        while block := list(map(decode, itertools.islice(rows, CHUNK))):
            if resolver.known() > NAMES_KEPT:
                resolver = Resolver()
            want = lines.want
            shown = [want(resolver, row[label_at], row[changes_at]) for row in block]
            resolver.fetch_all()
            yield block, shown, resolver
    finally:
        rows.close()  # a client that went away: stop the query now


def stream_csv(queryset, *, delimiter: str = ",", header: bool = True) -> Iterator[str]:
    """UTF-8 with a BOM (Excel detects the encoding), one line per event, oldest first.
    (``header=False``: the lines only, a later part of a file made in parts.)

    The same cells as `csv_row`, sent in blocks of `CHUNK` lines: on PostgreSQL, the cells of
    plain columns written by PostgreSQL (`_pg_csv_blocks`); elsewhere from plain tuples
    (`_streamed_rows`) through Python's csv writer.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    if header:
        writer.writerow(csv_header())
        yield BOM + buffer.getvalue()
    if connections[queryset.db].vendor == "postgresql":
        yield from _pg_csv_blocks(queryset, delimiter)
        return
    decode, cells, lines = _csv_formatter()
    rows = _streamed_rows(queryset)
    for block, shown, resolver in _resolved_blocks(rows, decode, lines, label_at=12, changes_at=11):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(
            cells(row, fields, resolver) for row, fields in zip(block, shown, strict=True)
        )
        yield buffer.getvalue()


# --- The archive ------------------------------------------------------------------------------


def archive_record(event: AuditEvent) -> dict:
    """One event as stored in the archive: every field, hashed ones exactly as hashed."""
    record = {name: getattr(event, name) for name in chain.HASHED_FIELDS}
    record["occurred_at"] = chain.timestamp(event.occurred_at)
    record.update(
        id=event.id,
        hash=event.hash,
        chain_version=event.chain_version,
        personal=event.personal,
        pseudonymised_at=chain.timestamp(event.pseudonymised_at)
        if event.pseudonymised_at
        else None,
        # For readers: the texts with the names put back.
        readable={
            "actor": expand(event.actor_label, event.personal),
            "summary": expand(event.summary, event.personal),
            "reason": expand(event.reason, event.personal),
        },
    )
    return record


SCHEMA = {
    "format": ARCHIVE_FORMAT,
    "files": {
        "events.jsonl": "One JSON object per line, one per audit event, in id order.",
        "manifest.json": (
            "This archive's contents, SHA-256 checksums and the latest checkpoint of every chain's "
            "head (`published`: check the live record against it with "
            "`manage.py verify_audit --expect-head SEQ:HASH`)."
        ),
        "schema.json": "This description.",
        "minutes/decision-<id>.<ext>": "A decision's minutes file (its SHA-256 in the manifest).",
    },
    "event_fields": {
        "chain": (
            "The hash chain of the event: municipality:<id>, project (no municipality) or legacy "
            "(written before chains per municipality)."
        ),
        "seq": "Position in its chain (no gaps in the full trail).",
        "id": "Database id of the event.",
        "occurred_at": "UTC time, ISO 8601 with microseconds.",
        "kind": "What happened (a code; see kinds).",
        "actor_kind": "user, contact (via task link) or system.",
        "actor_user_id": "Id of the acting user, if any.",
        "actor_label": "Who acted; may hold placeholders ⟦p:ID⟧ for people in 'personal'.",
        "model_label, object_id": "The record the event is about.",
        "history_id": "Row of the record's history table (django-simple-history).",
        "process_id, municipality_id, municipality_name, county_code, stage": "Where.",
        "summary": "What happened (placeholders as in actor_label).",
        "reason": "Why: the reason recorded with the change.",
        "changes": "Field-level changes: {field: [old, new]}.",
        "personal": "Personal data kept apart (people's names and emails, personal fields).",
        "personal_digest": "HMAC-SHA256 of the canonical JSON of 'personal' when written.",
        "prev_hash": "hash of the previous event in its chain.",
        "record_digest": (
            "HMAC-SHA256 of the history row the event describes (chain_version 2; for version 1 "
            "events filled in later and not hashed)."
        ),
        "chain_version": (
            "Which fields 'hash' covers: 1 without record_digest, 2 with it, 3 with the chain too."
        ),
        "hash": "HMAC-SHA256 over the canonical JSON of the hashed fields (see docs/audit.md).",
        "pseudonymised_at": "When the personal part was pseudonymised (its digest then stays).",
        "readable": "actor, summary and reason with the placeholders filled in.",
    },
    "kinds": {value: str(label) for value, label in Kind.choices},
}


def _event_for_person(event: AuditEvent, key: str) -> dict:
    people = event.personal.get("people", {})
    own = {"people": {key: people[key]}} if key in people else {}
    other = _("another person")
    # The personal changes hold names as written: placeholders first, as every event text has
    # them (whole names, longest first), then only the person's own put back.
    scrubber = Scrubber(
        {
            int(pk): Person(found.get("name", ""), found.get("email", ""))
            for pk, found in people.items()
        }
    )
    changes = scrubber.value(event.personal.get("changes", {}))
    return {
        "id": event.id,
        "seq": event.seq,
        "occurred_at": chain.timestamp(event.occurred_at),
        "kind": event.kind,
        "actor": expand(event.actor_label, own, missing=other),
        "municipality": event.municipality_name,
        "summary": expand(event.summary, own, missing=other),
        "reason": expand(event.reason, own, missing=other),
        "personal": people.get(key),
        "personal_changes": expand_value(changes, own, missing=other),
        "pseudonymised": event.pseudonymised_at is not None,
    }


def _sha256_file(handle) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def write_archive(target, queryset, *, filters: dict | None = None) -> dict:
    """Write the ZIP archive of ``queryset``'s events to the binary file ``target``.

    Returns the manifest. Events go through a temporary file first (checksum before zipping).
    """
    status = chain_status()
    count, first_seq, last_seq = 0, None, None
    with tempfile.TemporaryFile() as events_file:
        # In a transaction: a server-side cursor without WITH HOLD streams from the first row.
        with transaction.atomic(using=queryset.db):
            for event in queryset.order_by("id").iterator(chunk_size=CHUNK):
                line = json.dumps(archive_record(event), ensure_ascii=False, sort_keys=True)
                events_file.write(line.encode() + b"\n")
                count += 1
                first_seq = event.seq if first_seq is None else first_seq
                last_seq = event.seq
        events_sha = _sha256_file(events_file)
        schema_bytes = json.dumps(SCHEMA, ensure_ascii=False, indent=2, sort_keys=True).encode()
        verification = status.last_verification
        manifest = {
            "format": ARCHIVE_FORMAT,
            "created_at": chain.timestamp(timezone.now()),
            "filters": filters or {},
            "event_count": count,
            "first_seq": first_seq,
            "last_seq": last_seq,
            # The latest checkpoint (every chain's head).
            "chain_head": {
                "seq": status.head.seq if status.head else None,
                "id": status.head.id if status.head else None,
                "hash": status.head.hash if status.head else None,
                # Kept by the e-archive, outside PolicyFlow's database: the live record must
                # still hold it (`manage.py verify_audit --expect-head SEQ:HASH`).
                "published": published_head(status.head.seq, status.head.hash)
                if status.head
                else "",
            },
            "last_verification": {
                "finished_at": chain.timestamp(verification.finished_at),
                "is_ok": verification.is_ok,
                "head_seq": verification.head_seq,
                "head_hash": verification.head_hash,
            }
            if verification
            else None,
            "hash_algorithm": "HMAC-SHA256",
            "files": {
                "events.jsonl": {"sha256": events_sha, "lines": count},
                "schema.json": {"sha256": hashlib.sha256(schema_bytes).hexdigest()},
            },
        }
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            events_file.seek(0)
            with archive.open("events.jsonl", "w", force_zip64=True) as member:
                for block in iter(lambda: events_file.read(1 << 20), b""):
                    member.write(block)
            archive.writestr("schema.json", schema_bytes)
            # Files the events are about (a decision's minutes), each with its SHA-256.
            for attachment in registry.attachments(queryset):
                digest, size = hashlib.sha256(), 0
                try:
                    source = attachment.open()
                except OSError:
                    # A file gone from storage: the archive says so rather than failing whole.
                    manifest["files"][attachment.name] = {"missing": True, **attachment.meta}
                    continue
                with source, archive.open(attachment.name, "w", force_zip64=True) as member:
                    for block in iter(lambda source=source: source.read(1 << 20), b""):
                        digest.update(block)
                        size += len(block)
                        member.write(block)
                manifest["files"][attachment.name] = {
                    "sha256": digest.hexdigest(),
                    "size": size,
                    **attachment.meta,
                }
            archive.writestr(
                "manifest.json",
                json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode(),
            )
    return manifest


def verify_archive(source) -> list[str]:
    """Problems found checking an archive's files against its manifest (empty: all good)."""
    problems = []
    with zipfile.ZipFile(source) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for name, meta in manifest["files"].items():
            with archive.open(name) as member:
                digest = hashlib.sha256()
                for block in iter(lambda member=member: member.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != meta["sha256"]:
                problems.append(f"{name}: checksum does not match the manifest")
    return problems


# --- GDPR -------------------------------------------------------------------------------------


def personal_data_export(person) -> dict:
    """Everything stored about a contact person: live data, history and audit events.

    An event that names the person may name others too (a meeting's participants): their names
    and emails are left out, as "another person"; the export is the person's data only."""
    directory = registry.directory()
    records = directory.personal_records(person) if directory else {}
    events = [
        _event_for_person(event, str(person.pk))
        for event in events_about_person(person.pk).iterator(chunk_size=CHUNK)
    ]
    return {
        "format": "policyflow-personal-data/1",
        "created_at": chain.timestamp(timezone.now()),
        "person": {"model": person._meta.label_lower, "id": person.pk, "name": str(person)},
        "records": records,
        "audit_events": events,
    }
