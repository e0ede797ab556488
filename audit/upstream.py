"""Every undocumented upstream name the project uses, each with the code it relies on and a test
that fails the day it changes.

The two attributes of django-simple-history (3.13) that the audit app reads and that the
library does not document; nothing else of its internals is used (the rest: its signals,
`prev_record`, `HistoricalChanges`, `history_user`, `history_change_reason`).

- `simple_history/models.py`, `HistoricalRecords.create_history_model`: the history model's
  `_history_m2m_fields` lists the many-to-many fields recorded with it (`m2m_fields=`); the
  signal `post_create_historical_m2m_records` says which rows were written, not which fields a
  record has when none were linked.
- `simple_history/models.py`, `HistoricalRecords.finalize`: the audited model's
  `_meta.simple_history_manager_attribute` names its history manager: the way to tell an audited
  model from any other (`registry`-free, for the pseudonymisation's rewrite of every table).

`tests/audit/test_upstream.py` fails the day either changes: re-read the code named above when
upgrading django-simple-history.

And one of Python's `json` module (3.11), for the verifier's and the CSV export's speed:

- `Lib/json/encoder.py`, `JSONEncoder.iterencode`: `c_make_encoder` (the `_json` module's C
  encoder) is what `JSONEncoder.encode` builds on every call, with the encoder's options, and
  then calls; `json_encoder` builds it once. The verifier encodes ~3 million values (each
  event's changes and personal part, each history row), and the building cost as much as the
  encoding of a small value. The test checks that it writes what `JSONEncoder.encode` writes,
  byte for byte, for every kind of value the trail holds and both option sets used (the
  chain's canonical form, the export's changes cell); without it (another Python), the
  encoder's own `encode` is used.

And one of Django's (5.2), for the mail worker's speed:

- `django/core/mail/message.py`, `forbid_multi_line_headers`: what `EmailMessage.message()`
  does to each header value (refuses a newline, encodes a name outside ASCII); `encoded_header`
  calls it once per distinct address so that the worker hands Django the encoded value
  (`notifications.rendering`). Django 6.0 rewrites its email building: re-check it then.
  `tests/notifications/test_message_bytes.py` fails the day it writes other bytes than Django's
  own `EmailMultiAlternatives` for Swedish, CJK, quoted and long names.

And one of django-pgtrigger's (4.x), for PostgreSQL's prepared statements:

- `pgtrigger/runtime.py`, `_inject_pgtrigger_ignore`: inside `pgtrigger.ignore()` every statement
  is sent as `SELECT set_config('pgtrigger.ignore', %s, true); <statement>`, two statements in
  one, which PostgreSQL's extended protocol refuses ("cannot insert multiple commands into a
  prepared statement") when statements are bound on the server (`DATABASE_PREPARE_THRESHOLD`,
  `policyflow.settings.base.for_postgresql`). `ignoring_triggers` binds the connection's
  statements on the client for the block's length (psycopg's documented `cursor_factory` and
  `ClientCursor`, on the connection Django keeps as `connection.connection`).
  `tests/audit/test_upstream.py` fails the day pgtrigger stops sending two statements (the
  switch is then no longer needed) or Django stops choosing its cursors through the psycopg
  connection's `cursor_factory`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pgtrigger
from django.core.mail.message import BadHeaderError, forbid_multi_line_headers
from django.db import DEFAULT_DB_ALIAS, connections


def recorded_m2m_fields(record) -> list:
    """The many-to-many fields a history record (or its model) records."""
    return list(getattr(record, "_history_m2m_fields", None) or [])


def is_audited(model) -> bool:
    """Whether ``model`` keeps a django-simple-history history."""
    return hasattr(model._meta, "simple_history_manager_attribute")


def json_encoder(**options) -> Callable[[Any], str]:
    """``json.JSONEncoder(**options).encode`` (without the check for circular references: decoded
    JSON and database rows have none), its C encoder built once."""
    encoder = json.JSONEncoder(check_circular=False, **options)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None or encoder.indent is not None:
        return encoder.encode
    strings = (
        json.encoder.encode_basestring_ascii
        if encoder.ensure_ascii
        else (json.encoder.encode_basestring)
    )
    built = make(
        None,
        encoder.default,
        strings,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(built(value, 0))

    return encode


def encoded_header(name: str, value: str, charset: str) -> str | None:
    """The header value as Django's `EmailMessage.message()` would store it, or None where
    Django would refuse it (a newline) or cannot encode it: the caller then hands Django the
    value itself, for it to raise or encode as it always does."""
    try:
        return forbid_multi_line_headers(name, value, charset)[1]
    except (BadHeaderError, ValueError):
        return None


@contextlib.contextmanager
def ignoring_triggers(*uris: str, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """`pgtrigger.ignore(*uris)`, with the connection's statements bound on the client meanwhile
    (on PostgreSQL with server-side binding; elsewhere `pgtrigger.ignore` itself)."""
    connection = connections[using]
    raw = None
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        if not issubclass(connection.connection.cursor_factory, psycopg.ClientCursor):
            raw = connection.connection
    if raw is None:
        with pgtrigger.ignore(*uris):
            yield
        return
    factory = raw.cursor_factory
    raw.cursor_factory = psycopg.ClientCursor
    try:
        with pgtrigger.ignore(*uris):
            yield
    finally:
        raw.cursor_factory = factory
