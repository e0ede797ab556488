"""The hash chain: what each event's HMAC covers, computed the same way when writing and verifying.

hash = HMAC-SHA256(AUDIT_HMAC_KEY, canonical JSON of every non-personal field, including seq,
prev_hash, personal_digest and (from version 2) record_digest, the digest of the event's history
row: `audit.binding`). personal_digest = HMAC-SHA256(key, canonical JSON of the personal
part, which carries a random salt). Pseudonymising replaces the personal part and keeps the
digest, so the chain still verifies, and the salt is gone with the data: the digest can no longer
be matched against a guessed name.
"""

import datetime
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

# Version 2 hashes the history row's digest too; events written before it keep version 1.
PAYLOAD_VERSION = 2

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
HASHED_FIELDS = (*HASHED_FIELDS_V1, "record_digest")


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


def hashed_fields(version: int = PAYLOAD_VERSION) -> tuple[str, ...]:
    return HASHED_FIELDS_V1 if version == 1 else HASHED_FIELDS


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


def stored_event_hash(values: dict, key: bytes, version: int = PAYLOAD_VERSION) -> str:
    """`event_hash` of values as the verifier reads them: exactly HASHED_FIELDS, the time
    already formatted. ``values`` gets the payload version added (and, for version 1, loses
    record_digest, which it did not hash)."""
    if version == 1:
        del values["record_digest"]
    values["v"] = version
    return hmac.digest(key, b"event:" + _CANONICAL(values).encode(), "sha256").hex()
