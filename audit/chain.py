"""The hash chains: what each event's HMAC covers, computed the same way when writing and
verifying, and appending an event to its chain.

hash = HMAC-SHA256(AUDIT_HMAC_KEY, canonical JSON of every non-personal field, including seq,
prev_hash, personal_digest and (from version 2) record_digest, the digest of the event's history
row: `audit.binding`). personal_digest = HMAC-SHA256(key, canonical JSON of the personal
part, which carries a random salt). Pseudonymising replaces the personal part and keeps the
digest, so the chain still verifies, and the salt is gone with the data: the digest can no longer
be matched against a guessed name.

Each municipality's events form a chain of their own (`models.chain_of`); events of no
municipality form the project-wide chain. Appending locks the chain's `ChainHead` row with
`select_for_update` until the transaction ends: appends to one chain follow each other, appends
to different chains do not wait for each other. The head row moves on in the same transaction, so
a rolled-back transaction or savepoint takes its events and the head's move back together.
"""

import datetime
import functools
import hashlib
import hmac
import json
import operator
import re
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from . import upstream

# Version 2 hashes the history row's digest too; version 3 the chain's name. Events keep the
# version they were written with.
PAYLOAD_VERSION = 3

# The hashed fields, in the order the verifier reads them from the database.
HASHED_FIELDS_V1 = (
    "seq",
    "occurred_at",
    "kind",
    "actor_kind",
    "actor_user_id",
    "actor_label",
    "model_label",
    "object_id",
    "history_id",
    "process_id",
    "municipality_id",
    "municipality_name",
    "county_code",
    "stage",
    "summary",
    "reason",
    "changes",
    "personal_digest",
    "prev_hash",
)
HASHED_FIELDS_V2 = (*HASHED_FIELDS_V1, "record_digest")
HASHED_FIELDS = (*HASHED_FIELDS_V2, "chain")


def hmac_key() -> bytes:
    key = getattr(settings, "AUDIT_HMAC_KEY", "") or ""
    if not key:
        # Local use only: production sets AUDIT_HMAC_KEY (see docs/audit.md).
        key = hashlib.sha256(b"policyflow-audit:" + settings.SECRET_KEY.encode()).hexdigest()
    return key.encode()


# What `json.dumps` writes with these options, its encoder built once (the verifier encodes
# millions of values: `upstream.json_encoder`).
_CANONICAL = upstream.json_encoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(value: Any) -> bytes:
    return _CANONICAL(value).encode()


_DECODER = json.JSONDecoder()


def decode(text: str) -> Any:
    """`json.loads` of a JSON text as the database returns it: one document, nothing around it,
    so `raw_decode` alone reads it (without two whitespace searches); anything else goes through
    `json.loads`, which reads it or refuses it as before."""
    try:
        value, end = _DECODER.raw_decode(text)
    except ValueError:
        return _DECODER.decode(text)
    return value if end == len(text) else _DECODER.decode(text)


def timestamp(value: datetime.datetime) -> str:
    """UTC, microseconds: what PostgreSQL and SQLite both store and return unchanged."""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def personal_digest(personal: dict, key: bytes | None = None) -> str:
    return hmac.digest(key or hmac_key(), b"personal:" + canonical(personal), "sha256").hex()


def keyed(key: bytes, purpose: str) -> hmac.HMAC:
    """The HMAC of ``purpose`` ("event" or "personal") keyed once, with its prefix: for the
    verifier, which `.copy()`s it per row (the key is set up once, not per message)."""
    return hmac.new(key, f"{purpose}:".encode(), "sha256")


def keyed_personal_digest(personal: dict, state: hmac.HMAC) -> str:
    """`personal_digest` from ``keyed(key, "personal")``."""
    state = state.copy()
    state.update(canonical(personal))
    return state.hexdigest()


def hashed_fields(version: int = PAYLOAD_VERSION) -> tuple[str, ...]:
    return {1: HASHED_FIELDS_V1, 2: HASHED_FIELDS_V2}.get(version, HASHED_FIELDS)


def payload(values: dict, version: int = PAYLOAD_VERSION) -> dict:
    """The hashed part of an event, from a dict holding its version's hashed fields."""
    data = {name: values[name] for name in hashed_fields(version)}
    if not isinstance(data["occurred_at"], str):  # the verifier reads it already formatted
        data["occurred_at"] = timestamp(values["occurred_at"])
    data["v"] = version
    return data


def event_hash(values: dict, key: bytes | None = None, version: int = PAYLOAD_VERSION) -> str:
    data = canonical(payload(values, version))
    return hmac.digest(key or hmac_key(), b"event:" + data, "sha256").hex()


def stored_row_hash(values: tuple, state: hmac.HMAC, version: int = PAYLOAD_VERSION) -> str:
    """`event_hash` of a row as the verifier reads it: the values of HASHED_FIELDS in their
    order, the time already formatted, through `StoredPayload`; ``state``:
    ``keyed(key, "event")``."""
    payload = _stored_payload(version)(values)
    state = state.copy()
    state.update(payload)
    return state.hexdigest()


# Characters JSON escapes (ensure_ascii=False): a text without them is written as it is, quoted.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')
# The hashed fields that hold integers or None; `changes` holds JSON; every other one text.
_INTEGER_FIELDS = frozenset({"seq", "actor_user_id", "history_id", "process_id", "municipality_id"})
_JSON_FIELD = "changes"


class StoredPayload:
    """The canonical JSON of a stored event's payload (``version``), from the values of
    HASHED_FIELDS in their order: the same bytes as ``canonical(payload(...))``, a million times
    over without building and sorting a dict and encoding every value through the encoder.

    The keys' order and the text between the values are fixed per version, so the payload is a
    %-template: a text value goes in between quotes as it is when it has nothing JSON escapes
    (the encoder, ensure_ascii=False, writes exactly that), an integer as its repr (as the
    encoder does), None as null, and `changes` through the encoder. A row with anything else (a
    text to escape, a value of another type) is encoded as a whole by the encoder instead."""

    def __init__(self, version: int) -> None:
        self.version = version
        # What a version hashed: not the chain before 3, nor record_digest before 2.
        left_out = {"chain"} if version < 3 else set()
        if version == 1:
            left_out.add("record_digest")
        names = [name for name in HASHED_FIELDS if name not in left_out]
        position = {name: HASHED_FIELDS.index(name) for name in names}
        keys = sorted([*names, "v"])  # the encoder's order (sort_keys)
        slots, parts = [name for name in keys if name != "v"], []
        for name in keys:
            if name == "v":
                parts.append(f'"v":{version}')
            elif name in _INTEGER_FIELDS or name == _JSON_FIELD:
                parts.append(f'"{name}":%s')
            else:
                parts.append(f'"{name}":"%s"')
        self.template = "{" + ",".join(parts) + "}"
        self.pick = operator.itemgetter(*(position[name] for name in slots))
        texts = [name for name in slots if name not in _INTEGER_FIELDS and name != _JSON_FIELD]
        self.pick_texts = operator.itemgetter(*(position[name] for name in texts))
        self.integer_slots = tuple(i for i, name in enumerate(slots) if name in _INTEGER_FIELDS)
        self.json_slot = slots.index(_JSON_FIELD)
        self.positions = tuple(position.items())

    def __call__(self, values: tuple) -> bytes:
        try:
            texts = "".join(self.pick_texts(values))  # TypeError unless every one is text
        except TypeError:
            return self.encoded(values)
        if _ESCAPED.search(texts) is not None:
            return self.encoded(values)
        args = list(self.pick(values))
        for slot in self.integer_slots:
            value = args[slot]
            if value is None:
                args[slot] = "null"
            elif type(value) is not int:  # a bool is an int to isinstance, not to JSON
                return self.encoded(values)
        args[self.json_slot] = _CANONICAL(args[self.json_slot])
        return (self.template % tuple(args)).encode()

    def encoded(self, values: tuple) -> bytes:
        """The payload through the encoder: a dict of the version's fields, sorted."""
        data = {name: values[index] for name, index in self.positions}
        data["v"] = self.version
        return _CANONICAL(data).encode()


@functools.cache
def _stored_payload(version: int) -> StoredPayload:
    return StoredPayload(version)


# --- Appending ---------------------------------------------------------------------------------


def lock_head(key: str, using: str = "default"):
    """The chain ``key``'s head row, locked until the transaction ends (created on first use),
    with ``txid``: PostgreSQL's transaction id (None elsewhere), which names the transaction for
    `audit.recording`'s memory of who acts in it.

    Call it inside `transaction.atomic()`. Take row locks that the work needs (e.g. the flow's
    process lock) before the first audited write: a transaction waiting for a row while holding a
    chain's head may deadlock with one waiting for that head (PostgreSQL aborts one)."""
    from .models import ChainHead

    head = _locked_head(key, using)
    if head is None:
        # A new chain: whoever inserts the row first wins; the others wait and find it.
        ChainHead.objects.using(using).bulk_create([ChainHead(key=key)], ignore_conflicts=True)
        head = _locked_head(key, using)
    return head


def _locked_head(key: str, using: str):
    """The head row locked, or None if the chain has none yet. On PostgreSQL one plain
    statement, the transaction id read with it; elsewhere the ORM's `select_for_update`."""
    from .models import ChainHead

    connection = connections[using]
    if connection.vendor != "postgresql":
        head = ChainHead.objects.using(using).select_for_update().filter(key=key).first()
        if head is not None:
            head.txid = None
        return head
    with connection.cursor() as cursor:
        cursor.execute(_head_sql(using), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    head = ChainHead.from_db(using, _HEAD_FIELDS, row[:-1])
    head.txid = row[-1]
    return head


# The head row's fields, as `_head_sql` reads them and `_insert_sql` moves them (the key first).
_HEAD_FIELDS = ("key", "seq", "hash", "occurred_at", "county_code")


@functools.cache
def _head_sql(using: str) -> str:
    from .models import ChainHead

    quote, meta = connections[using].ops.quote_name, ChainHead._meta
    columns = [quote(meta.get_field(name).column) for name in _HEAD_FIELDS]
    return (
        f"SELECT {', '.join(columns)}, pg_current_xact_id()::text "  # noqa: S608
        f"FROM {quote(meta.db_table)} WHERE {columns[0]} = %s FOR UPDATE"
    )


def append_event(*, head=None, head_is_remembered: bool = False, using: str = "default", **fields):
    """Append one event (``fields``: `AuditEvent`'s, without the chain's own) to the chain of its
    municipality, in the caller's transaction; ``head``: that chain's head, if already locked
    (`lock_head`).

    ``head_is_remembered``: ``head`` is not read under the lock but as this transaction left it
    after its own last append (`audit.recording`; PostgreSQL only). The head then moves only if
    it is still that one, in that transaction (``head.txid``): a compare-and-set UPDATE, which
    also takes the row's lock again if a rolled-back savepoint released it. When it is not (a
    savepoint rolled the head back, or the transaction is another one), nothing is written and
    None is returned: the caller locks the head (`lock_head`) and tries again.

    On PostgreSQL the head's move and the event's INSERT are one statement
    (`_insert_moving_head`); elsewhere the event is saved, then the head updated.

    Texts must already have their people replaced by placeholders (see `audit.personal`). No
    savepoint: an event that cannot be written takes the history row that caused it down with it.
    """
    from .models import PROJECT_CHAIN, ActorKind, AuditEvent, ChainHead, chain_of

    personal = fields.pop("personal", None) or {}
    actor_user = fields.get("actor_user")
    if fields.get("actor_kind") is None:
        fields["actor_kind"] = ActorKind.USER if actor_user is not None else ActorKind.SYSTEM
    if actor_user is not None and not fields.get("actor_label"):
        fields["actor_label"] = actor_user.get_full_name() or actor_user.get_username()
    with transaction.atomic(using=using, savepoint=False):
        key = chain_of(fields.get("municipality_id"))
        if head is None or head.key != key:
            head = lock_head(key, using)
        occurred_at = fields.pop("occurred_at", None) or timezone.now()
        event = AuditEvent(
            chain=key,
            seq=head.seq + 1,
            # The chain's clock never runs backwards: a transaction that waited for the chain is
            # recorded when it got it, which keeps a chain's times in its seq order.
            occurred_at=max(occurred_at, head.occurred_at) if head.occurred_at else occurred_at,
            personal=personal,
            personal_digest=personal_digest(personal),
            prev_hash=head.hash,
            **dict(_texts(fields)),
            **_others(fields),
        )
        event.hash = event_hash({name: getattr(event, name) for name in HASHED_FIELDS})
        moved = {
            "seq": event.seq,
            "hash": event.hash,
            "occurred_at": event.occurred_at,
            # Which county's pages this chain's events change (`selectors.data_version`): a
            # municipality's county; none for the project-wide chain, which changes every page.
            "county_code": event.county_code if key != PROJECT_CHAIN else "",
        }
        if connections[using].vendor == "postgresql":
            # One statement: the head moved (compare-and-set when remembered) and the event
            # inserted only if it did.
            if not _insert_moving_head(event, head, moved, head_is_remembered, using):
                return None
        elif head_is_remembered:
            # Heads are remembered by PostgreSQL's transaction id only: none here.
            return None
        else:
            # SQLite: no data-modifying WITH; two statements.
            event.save(using=using, force_insert=True)
            ChainHead.objects.using(using).filter(key=key).update(**moved)
        head.seq, head.hash, head.occurred_at = event.seq, event.hash, event.occurred_at
        head.county_code = moved["county_code"]
    return event


def _insert_moving_head(event, head, moved: dict, head_is_remembered: bool, using: str) -> bool:
    """PostgreSQL: move the head row to ``moved`` and insert ``event`` in one statement (a
    data-modifying WITH; PostgreSQL runs it to the end whether or not the INSERT reads it): the
    event is inserted only if the head moved. Unremembered, the head is locked by this
    transaction and always moves. Remembered, it moves only if the row still holds ``head.hash``
    and this is the transaction ``head.txid`` that left it there: READ COMMITTED re-checks the
    condition on the row's latest version once its lock is had, so a head moved by anyone else
    meanwhile is never overwritten. False: nothing was written."""
    connection = connections[using]
    fields = _inserted_fields()
    params = [moved[name] for name in _HEAD_FIELDS[1:]] + [head.key]
    if head_is_remembered:
        if head.txid is None:
            return False
        params += [head.hash, head.txid]
    params += [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(head_is_remembered, using), params)
        row = cursor.fetchone()
    if row is None:
        return False
    # What `Model.save()` leaves on a new instance: its primary key, and saved to ``using``.
    event.pk = row[0]
    event._state.adding = False
    event._state.db = using
    return True


@functools.cache
def _inserted_fields() -> tuple:
    """`AuditEvent`'s columns an insert writes: every concrete field but the generated id."""
    from .models import AuditEvent

    return tuple(
        field
        for field in AuditEvent._meta.get_fields()
        if field.concrete and not field.many_to_many and not field.primary_key
    )


@functools.cache
def _insert_sql(head_is_remembered: bool, using: str) -> str:
    from .models import AuditEvent, ChainHead

    quote, head_meta, event_meta = (
        connections[using].ops.quote_name,
        ChainHead._meta,
        AuditEvent._meta,
    )
    key, *moved = (quote(head_meta.get_field(name).column) for name in _HEAD_FIELDS)
    condition = f"{key} = %s"
    if head_is_remembered:
        hash_column = quote(head_meta.get_field("hash").column)
        condition += f" AND {hash_column} = %s AND pg_current_xact_id()::text = %s"
    fields = _inserted_fields()
    return (
        f"WITH moved AS (UPDATE {quote(head_meta.db_table)}"  # noqa: S608
        f" SET {', '.join(f'{column} = %s' for column in moved)}"
        f" WHERE {condition} RETURNING 1)"
        f" INSERT INTO {quote(event_meta.db_table)}"
        f" ({', '.join(quote(field.column) for field in fields)})"
        f" SELECT {', '.join(['%s'] * len(fields))} WHERE EXISTS (SELECT 1 FROM moved)"
        f" RETURNING {quote(event_meta.pk.column)}"
    )


# Text fields stored as "" when not given; the object id and actor label cut to their columns.
_TEXT_FIELDS = {"municipality_name": None, "county_code": None, "stage": None, "reason": None}
_TEXT_FIELDS |= {"object_id": 64, "actor_label": 300, "record_digest": None}


def _texts(fields: dict):
    for name, limit in _TEXT_FIELDS.items():
        value = fields.get(name)
        value = str(value) if value not in (None, "") else ""
        yield name, value[:limit] if limit else value


def _others(fields: dict) -> dict:
    others = {name: value for name, value in fields.items() if name not in _TEXT_FIELDS}
    others["changes"] = others.get("changes") or {}
    return others
