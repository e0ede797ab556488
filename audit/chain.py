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
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

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


# What `json.dumps` would build for each call with these options, built once (the verifier
# encodes a million payloads).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def canonical(value: Any) -> bytes:
    return _CANONICAL(value).encode()


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


def stored_event_hash(values: dict, state: hmac.HMAC, version: int = PAYLOAD_VERSION) -> str:
    """`event_hash` of values as the verifier reads them: exactly HASHED_FIELDS, the time
    already formatted; ``state``: ``keyed(key, "event")``. ``values`` gets the payload version
    added (and loses the fields its version did not hash: the chain before 3, record_digest
    before 2)."""
    if version < 3:
        del values["chain"]
        if version == 1:
            del values["record_digest"]
    values["v"] = version
    state = state.copy()
    state.update(_CANONICAL(values).encode())
    return state.hexdigest()


# --- Appending ---------------------------------------------------------------------------------


def lock_head(key: str, using: str = "default"):
    """The chain ``key``'s head row, locked until the transaction ends (created on first use),
    with ``txid``: PostgreSQL's transaction id (None elsewhere), which names the transaction for
    `audit.recording`'s memory of who acts in it.

    Call it inside `transaction.atomic()`. Take row locks that the work needs (e.g. the flow's
    process lock) before the first audited write: a transaction waiting for a row while holding a
    chain's head may deadlock with one waiting for that head (PostgreSQL aborts one)."""
    from .models import ChainHead

    heads = ChainHead.objects.using(using).select_for_update().filter(key=key)
    if connections[using].vendor == "postgresql":
        heads = heads.annotate(txid=RawSQL("pg_current_xact_id()::text", ()))
    head = next(iter(heads), None)
    if head is None:
        # A new chain: whoever inserts the row first wins; the others wait and find it.
        ChainHead.objects.using(using).bulk_create([ChainHead(key=key)], ignore_conflicts=True)
        head = heads.get()
    if not hasattr(head, "txid"):
        head.txid = None
    return head


def append_event(*, head=None, head_is_remembered: bool = False, using: str = "default", **fields):
    """Append one event (``fields``: `AuditEvent`'s, without the chain's own) to the chain of its
    municipality, in the caller's transaction; ``head``: that chain's head, if already locked
    (`lock_head`).

    ``head_is_remembered``: ``head`` is not read under the lock but as this transaction left it
    after its own last append (`audit.recording`). The head then moves only if it is still that
    one, in that transaction (``head.txid``): one compare-and-set UPDATE, which also takes the
    row's lock again if a rolled-back savepoint released it. When it is not (a savepoint rolled
    the head back, or the transaction is another one), nothing is written and None is returned:
    the caller locks the head (`lock_head`) and tries again.

    Texts must already have their people replaced by placeholders (see `audit.personal`). No
    savepoint: an event that cannot be written takes the history row that caused it down with it.
    """
    from .models import ActorKind, AuditEvent, ChainHead, chain_of

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
        moved = {"seq": event.seq, "hash": event.hash, "occurred_at": event.occurred_at}
        if head_is_remembered:
            # The head first: the event is written only once it is known to follow it.
            if not _move_remembered_head(head, moved, using):
                return None
            event.save(using=using, force_insert=True)
        else:
            event.save(using=using, force_insert=True)
            ChainHead.objects.using(using).filter(key=key).update(**moved)
        head.seq, head.hash, head.occurred_at = event.seq, event.hash, event.occurred_at
    return event


def _move_remembered_head(head, moved: dict, using: str) -> bool:
    """Move ``head`` to ``moved`` if the row still holds ``head.hash`` and this is the
    transaction ``head.txid`` that left it there (PostgreSQL only: elsewhere no head is
    remembered). READ COMMITTED re-checks the condition on the row's latest version once its
    lock is had, so a head moved by anyone else meanwhile is never overwritten."""
    from .models import ChainHead

    if head.txid is None:
        return False
    return bool(
        ChainHead.objects.using(using)
        .alias(txid=RawSQL("pg_current_xact_id()::text", ()))
        .filter(key=head.key, hash=head.hash, txid=head.txid)
        .update(**moved)
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
