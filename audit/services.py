"""Every write on the audit trail: append an event to the chain, record a verification,
pseudonymise a contact person, note an export of personal data.

Appending takes a transaction-level advisory lock (PostgreSQL) so that chain heads are handed out
one at a time; the lock is held until the caller's transaction ends, which serialises audited
transactions from their first audited write to their commit. Take row locks before the first
audited write in a transaction: a row lock awaited while holding this lock can deadlock with a
transaction waiting for it (PostgreSQL detects it and aborts one). SQLite serialises writers by
itself.
"""

from __future__ import annotations

import html
import logging
import sys
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import pgtrigger
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chain, registry
from .models import GENESIS_HASH, ActorKind, AuditEvent, AuditVerification, Kind
from .personal import account_personal, build_personal, replace_in, text_pattern

logger = logging.getLogger(__name__)

# The advisory lock's key: any constant that no other code uses.
CHAIN_LOCK_KEY = zlib.crc32(b"policyflow.audit.chain")

# Who acts in a transaction, by (transaction id, process): a contact answering through a task
# link, or a project leader recording an answer. Later events of the same transaction and process
# that name no user are theirs too. Bounded; transaction ids are never reused.
_tx_actors: OrderedDict[tuple[str, int | None], tuple] = OrderedDict()
_TX_ACTORS_MAX = 256


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    occurred_at: object = None


def lock_chain(using: str = "default") -> str | None:
    """Serialise appends until the transaction ends; return the transaction id (PostgreSQL).

    Code that writes events itself (in bulk) calls this first; it also drops what
    `held_chain` remembers, since that code moves the head.
    """
    connection = connections[using]
    _write_waiting(connection)
    _held.pop(connection, None)
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_xact_id()::text FROM (SELECT pg_advisory_xact_lock(%s)) AS locked",
            [CHAIN_LOCK_KEY],
        )
        return cursor.fetchone()[0]


def chain_head(using: str = "default") -> Head:
    """The newest event's seq and hash (read it under the lock to append after it)."""
    row = (
        AuditEvent.objects.using(using)
        .order_by("-seq")
        .values_list("seq", "hash", "occurred_at")
        .first()
    )
    return Head(*row) if row else Head(0, GENESIS_HASH)


_CONTEXT_COLUMNS = ("municipality_id", "municipality_name", "county_code", "stage")


def process_context(process_id: int | None, using: str = "default") -> dict:
    """The process's latest place and stage on the chain (empty without a municipality)."""
    if process_id is None:
        return {}
    row = (
        AuditEvent.objects.using(using)
        .filter(process_id=process_id)
        .order_by("-id")
        .values(*_CONTEXT_COLUMNS)
        .first()
    )
    return row if row and row["municipality_id"] is not None else {}


@dataclass
class HeldChain:
    """What a transaction holding the chain lock knows. Nobody else can append until it ends,
    so the head it read stays the head, moved on by its own appends."""

    txid: str | None
    head: Head
    # Process id → its latest place and stage on the chain, as `process_context` reads it.
    contexts: dict = field(default_factory=dict)
    # The connection's list of on-commit callbacks when the head was read. Django replaces the
    # list when the transaction commits or rolls back and when a savepoint rolls back, which is
    # exactly when the head or the lock may be gone (a lock taken in a savepoint that rolls back
    # is released, and so are the events written in it).
    marker: list | None = None


# Per connection (connections are per thread), the chain the current transaction holds.
_held: WeakKeyDictionary = WeakKeyDictionary()


def held_chain(process_id: int | None = None, using: str = "default") -> HeldChain:
    """Lock the chain and read its head once per transaction (one round trip on PostgreSQL);
    later calls in the same transaction return what the first read, kept up to date by
    `append_event`.

    Call it inside `transaction.atomic()`: outside, the lock would end with the statement.
    """
    connection = connections[using]
    held = _held.get(connection)
    if held is None or held.marker is not connection.run_on_commit:
        txid, head, context = _lock_and_read_head(process_id, using)
        held = HeldChain(txid=txid, head=head)
        if process_id is not None:
            held.contexts[process_id] = context
        if connection.in_atomic_block:
            held.marker = connection.run_on_commit
            _held[connection] = held
    elif process_id is not None and process_id not in held.contexts:
        held.contexts[process_id] = process_context(process_id, using)
    return held


def _lock_and_read_head(process_id: int | None, using: str) -> tuple[str | None, Head, dict]:
    """`lock_chain`, `chain_head` and `process_context`; on PostgreSQL in one round trip,
    through the function of migration 0003 (its query sees what was committed before the lock
    came)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        txid = lock_chain(using)
        return txid, chain_head(using), process_context(process_id, using)
    _write_waiting(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM audit_lock_chain_and_read_head(%s, %s)", [CHAIN_LOCK_KEY, process_id]
        )
        row = cursor.fetchone()
    head = Head(row[1], row[2], row[3]) if row[1] is not None else Head(0, GENESIS_HASH)
    context = dict(zip(_CONTEXT_COLUMNS, row[4:], strict=True)) if row[4] is not None else {}
    return row[0], head, context


# People of a municipality, per transaction: one query per municipality and transaction.
_tx_people: OrderedDict[tuple[str, int], dict] = OrderedDict()


def people_in_transaction(txid: str | None, municipality_id: int, load) -> dict:
    if txid is None:
        return load()
    key = (txid, municipality_id)
    if key not in _tx_people:
        _tx_people[key] = load()
        while len(_tx_people) > _TX_ACTORS_MAX:
            _tx_people.popitem(last=False)
    return _tx_people[key]


def forget_people() -> None:
    """A contact person changed: names must be looked up again."""
    _tx_people.clear()


def remember_actor(txid: str | None, process_id: int | None, actor: tuple) -> None:
    """Note who acts in this transaction for this process: ("user", user) or
    ("person", (pk, Person))."""
    if txid is None:
        return
    _tx_actors[(txid, process_id)] = actor
    _tx_actors.move_to_end((txid, process_id))
    while len(_tx_actors) > _TX_ACTORS_MAX:
        _tx_actors.popitem(last=False)


def actor_in_transaction(txid: str | None, process_id: int | None) -> tuple | None:
    if txid is None:
        return None
    return _tx_actors.get((txid, process_id))


def append_event(
    *,
    kind: str,
    summary: str,
    model_label: str,
    occurred_at=None,
    object_id: str = "",
    history_id: int | None = None,
    reason: str = "",
    actor_user=None,
    actor_kind: str | None = None,
    actor_label: str = "",
    process_id: int | None = None,
    municipality_id: int | None = None,
    municipality_name: str = "",
    county_code: str = "",
    stage: str = "",
    changes: dict | None = None,
    personal: dict | None = None,
    record_digest: str = "",
    using: str = "default",
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    Texts must already have their people replaced by placeholders (see `audit.personal`).
    The chain is locked and its head read once per transaction (`held_chain`). No savepoint:
    an event that cannot be written must take the history row that caused it down with it.
    """
    personal = personal or {}
    if actor_kind is None:
        actor_kind = ActorKind.USER if actor_user is not None else ActorKind.SYSTEM
    if actor_user is not None and not actor_label:
        actor_label = actor_user.get_full_name() or actor_user.get_username()
    with transaction.atomic(using=using, savepoint=False):
        held = held_chain(process_id, using)
        head = held.head
        now = timezone.now()
        occurred_at = occurred_at or now
        event = AuditEvent(
            seq=head.seq + 1,
            # The record's clock never runs backwards: a transaction that waited for the lock
            # is recorded when it got it, which keeps date filters exact on the id order.
            occurred_at=max(occurred_at, head.occurred_at) if head.occurred_at else occurred_at,
            kind=kind,
            actor_kind=actor_kind,
            actor_user=actor_user,
            actor_label=actor_label[:300],
            model_label=model_label,
            object_id=str(object_id or "")[:64],
            history_id=history_id,
            process_id=process_id,
            municipality_id=municipality_id,
            municipality_name=municipality_name or "",
            county_code=county_code or "",
            stage=stage or "",
            summary=summary,
            reason=reason or "",
            changes=changes or {},
            personal=personal,
            personal_digest=chain.personal_digest(personal),
            record_digest=record_digest,
            prev_hash=head.hash,
        )
        event.hash = chain.event_hash(_hashed_values(event))
        together = _together.get(connections[using])
        if together is not None:
            together.events.append(event)
        else:
            event.save(using=using, force_insert=True)
        held.head = Head(event.seq, event.hash, event.occurred_at)
        if process_id is not None:
            held.contexts[process_id] = (
                {name: getattr(event, name) for name in _CONTEXT_COLUMNS}
                if municipality_id is not None
                else {}
            )
    return event


def _hashed_values(event: AuditEvent) -> dict:
    return {name: getattr(event, name) for name in chain.HASHED_FIELDS}


# --- Appending together -----------------------------------------------------------------------


class _Together:
    """The events appended while `appended_together()` is open, not yet written.

    Their seq and hash are handed out at once (the chain's head moves on in `held_chain`); only
    the INSERT waits. It is also a statement wrapper on the connection, so that what a savepoint
    rolls back is exactly what it would have rolled back had every event been written at once:
    the waiting events are written before a savepoint is set or released, and dropped when one
    is rolled back (they were all appended inside it, since nothing waits across a savepoint
    statement; the chain's head is read again after such a rollback, see `HeldChain.marker`).
    """

    def __init__(self, using: str) -> None:
        self.using = using
        self.events: list[AuditEvent] = []

    def __call__(self, execute, sql, params, many, context):
        if isinstance(sql, str):
            if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
                self.write()
            elif sql.startswith("ROLLBACK TO SAVEPOINT"):
                self.events.clear()
        return execute(sql, params, many, context)

    def write(self) -> None:
        if self.events:
            events, self.events = self.events, []
            AuditEvent.objects.using(self.using).bulk_create(events)


# Per connection, the open `appended_together()`.
_together: WeakKeyDictionary = WeakKeyDictionary()


def _write_waiting(connection) -> None:
    """Write the events waiting in an open `appended_together()`: taking or reading the chain
    anew must follow the head held so far."""
    together = _together.get(connection)
    if together is not None:
        together.write()


@contextmanager
def appended_together(using: str = "default") -> Iterator[None]:
    """Write the events appended inside in one INSERT when it closes (a step appends one per
    history record: four or five INSERTs became one).

    Open it inside the transaction (`transaction.atomic()`), around work that appends several
    events; nested, it joins the outer one. The events are written when it closes, whether the
    work inside raised or not: written rows and their events commit or roll back together, as
    when each event is written at once.
    """
    connection = connections[using]
    if connection in _together:
        yield
        return
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "appended_together() must be opened inside transaction.atomic()."
        )
    together = _Together(using)
    _together[connection] = together
    try:
        with connection.execute_wrapper(together):
            try:
                yield
            finally:
                _flush_on_exit(together)
    finally:
        del _together[connection]


def _flush_on_exit(together: _Together) -> None:
    if sys.exc_info()[0] is None:
        together.write()
        return
    # The work failed: write what it appended if the transaction can still take it (the caller
    # may catch the error and commit what was done), and let the work's own error propagate.
    try:
        with transaction.atomic(using=together.using, savepoint=False):
            together.write()
    except Exception:  # noqa: BLE001 (the transaction is broken: it cannot commit either)
        together.events.clear()
        _held.pop(connections[together.using], None)


# --- Verifications ----------------------------------------------------------------------------


def record_verification(*, result, source: str) -> AuditVerification:
    """Store the outcome of a chain verification (see `audit.verification`)."""
    return AuditVerification.objects.create(
        started_at=result.started_at,
        finished_at=result.finished_at,
        is_ok=result.is_ok,
        rows_checked=result.rows_checked,
        head_id=result.head_id,
        head_seq=result.head_seq,
        head_hash=result.head_hash or "",
        first_bad_id=result.first_bad_id,
        problem=result.first_problem or "",
        problem_count=len(result.problems),
        source=source,
    )


# --- Personal data ----------------------------------------------------------------------------


def _require_admin(user) -> None:
    if user is None or not (user.is_active and user.is_superuser):
        raise PermissionDenied(_("Only an administrator can do this."))


def _directory():
    directory = registry.directory()
    if directory is None:
        raise ValidationError(_("No directory of contact persons is configured."))
    return directory


def _person_label(person) -> str:
    return f"{person._meta.label_lower}:{person.pk}"


def note_personal_data_export(*, person, user) -> AuditEvent:
    """Record that an administrator exported everything stored about a contact person."""
    _require_admin(user)
    with transaction.atomic():
        return append_event(
            kind=Kind.PERSONAL_DATA_EXPORTED,
            summary=_("Personal data of contact person %(id)s exported") % {"id": person.pk},
            model_label=person._meta.label_lower,
            object_id=str(person.pk),
            actor_user=user,
            municipality_id=getattr(person, "municipality_id", None),
        )


# --- Sign-in ----------------------------------------------------------------------------------

# An account name is at most 150 characters (Django's user model); anything typed is kept short.
SIGNIN_NAME_CHARS = 150


def note_signin_lockout(*, username: str, failures: int) -> AuditEvent | None:
    """Record that sign-in to an existing account was locked after ``failures`` failed attempts
    (django-axes). A name that is no account records nothing: anyone can type any text there (a
    made-up name, a person's email, a password typed in the wrong box), and the trail cannot
    forget it. Axes keeps it in its own access attempts, which expire and can be reset.

    The account's name stays out of the hashed texts: the summary holds a placeholder and the
    name is in the event's personal part, like a contact person's, so it can be pseudonymised."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import translation

    user_model = get_user_model()
    name = (username or "")[:SIGNIN_NAME_CHARS]
    user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
    if user is None:
        return None
    placeholder, personal = account_personal(user)
    # In the record's language (the site's), whatever language the sign-in page was shown in.
    with translation.override(settings.LANGUAGE_CODE):
        summary = _(
            "Sign-in with the account name “%(name)s” locked after %(count)d failed attempts"
        ) % {"name": placeholder, "count": failures}
    with transaction.atomic():
        return append_event(
            kind=Kind.SIGNIN_LOCKED,
            summary=summary,
            model_label="auth.user",
            object_id=str(user.pk),
            personal=personal,
        )


def pseudonym_for(person) -> registry.Person:
    from django.conf import settings
    from django.utils import translation

    # In the record's language (the site's), whoever asks.
    with translation.override(settings.LANGUAGE_CODE):
        name = _("Pseudonymised contact %(id)s") % {"id": person.pk}
    return registry.Person(name=name, email=f"pseudonymised-{person.pk}@invalid.example")


@dataclass(frozen=True)
class PseudonymisationResult:
    event: AuditEvent
    events_rewritten: int
    rows_rewritten: int


def _text_columns(model) -> list[str]:
    """The columns of ``model``'s own table that a pseudonymisation rewrites: its text columns
    (local fields: a multi-table child's parent columns live in the parent's table)."""
    from django.db import models as db_models

    text_fields = (db_models.CharField, db_models.TextField)
    return [
        f.column
        for f in model._meta.local_concrete_fields
        if isinstance(f, text_fields) and f.name not in ("history_type",)
    ]


def _names_text(connection, column: str, old: str) -> tuple[str, list]:
    """(SQL condition, parameters): ``column`` (quoted) holds ``old`` as a pseudonymisation
    replaces it, in any letter case. One definition for the rows rewritten and the rows listed."""
    if connection.vendor == "postgresql":
        # PostgreSQL's regular expressions read Python's escapes and look-arounds alike for
        # these patterns (\w is [[:alnum:]_] in both).
        return f"{column} ~* %s", [text_pattern(old)]
    # SQLite: LIKE ignores the case of ASCII letters.
    return f"{column} LIKE %s ESCAPE '\\'", [f"%{_like_escape(old)}%"]


def _audited_tables():
    """(model, text columns) of every audited model and of its history table."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    for model in apps.get_models():
        is_history = issubclass(model, HistoricalChanges)
        if not is_history and not hasattr(model._meta, "simple_history_manager_attribute"):
            continue
        columns = _text_columns(model)
        if columns:
            yield model, columns


def _history_trigger_uris() -> list[str]:
    from .apps import history_trigger_uris

    return history_trigger_uris()


def pseudonymise_person(*, person, user, reason: str) -> PseudonymisationResult:
    """Replace a contact person's name and email, in live data, in history and in the audit
    trail's personal parts, without breaking the chain; record it as an event.

    Every text column of every audited table and history table has the person's former names and
    emails replaced (plain text replacement: full names and emails, see docs/audit.md). Events keep
    their `personal_digest`, so their hashes still verify; they are marked `pseudonymised_at`
    and listed in the new event, which the verifier checks.
    """
    _require_admin(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the contact person is pseudonymised.")})
    directory = _directory()
    pseudonym = pseudonym_for(person)
    with transaction.atomic():
        # The chain's lock first, as every audited write takes it before its rows: no event
        # naming the person is appended while the names are rewritten, and no lock waits on
        # another in the opposite order.
        held_chain()
        names = [n for n in directory.person_names(person) if n.name != pseudonym.name]
        replacements: list[tuple[str, str]] = []
        for former in names:
            if former.email:
                replacements.append((former.email, pseudonym.email))
            if former.name:
                replacements.append((former.name, pseudonym.name))
        # As HTML too (the stored email bodies escape "&", "'", "<", ">" and '"').
        replacements += [(html.escape(old), html.escape(new)) for old, new in replacements]
        # Longest first, so that a name inside an email or a longer name is replaced whole.
        replacements = sorted(set(replacements), key=lambda r: -len(r[0]))
        with pgtrigger.ignore(*_history_trigger_uris(), "audit.AuditEvent:append_only"):
            # The history rows about to change, with their digests as they are: the event lists
            # each one rewritten with its old and new digest, so its events still bind them.
            naming = _history_rows_naming(person, replacements)
            before = _history_row_digests(naming)
            directory.pseudonymise_person(person, pseudonym)
            rows = _replace_everywhere(replacements)
            rewritten = _pseudonymise_events(person.pk, pseudonym, replacements)
        after = _history_row_digests(naming)
        rewritten_rows = [
            [label, pk, digest, after.get((label, pk), "")]
            for (label, pk), digest in sorted(before.items())
            if after.get((label, pk)) != digest
        ]
        event = append_event(
            kind=Kind.PERSON_PSEUDONYMISED,
            summary=_("Contact person %(id)s pseudonymised") % {"id": person.pk},
            model_label=person._meta.label_lower,
            object_id=str(person.pk),
            reason=reason,
            actor_user=user,
            municipality_id=getattr(person, "municipality_id", None),
            changes={"person": person.pk, "events": rewritten, "rows": rewritten_rows},
        )
    return PseudonymisationResult(event=event, events_rewritten=len(rewritten), rows_rewritten=rows)


def _replace_everywhere(replacements: list[tuple[str, str]]) -> int:
    """Replace each old text by its new one in every text column of the audited tables, in any
    letter case ("VERA@VAXJO.EXAMPLE" is the same address)."""
    if not replacements:
        return 0
    connection = connections["default"]
    quote = connection.ops.quote_name
    postgresql = connection.vendor == "postgresql"
    total = 0
    with connection.cursor() as cursor:
        for model, columns in _audited_tables():
            table = quote(model._meta.db_table)
            for column in columns:
                col = quote(column)
                for old, new in replacements:
                    where, params = _names_text(connection, col, old)
                    # Fixed identifiers from the model registry; values are parameters.
                    if postgresql:
                        cursor.execute(
                            f"UPDATE {table} SET {col} = "  # noqa: S608
                            f"regexp_replace({col}, %s, %s, 'gi') WHERE {where}",
                            [text_pattern(old), new.replace("\\", "\\\\"), *params],
                        )
                    else:  # SQLite: REPLACE does not ignore case (LIKE does, for ASCII)
                        cursor.execute(
                            f"UPDATE {table} SET {col} = REPLACE({col}, %s, %s) "  # noqa: S608
                            f"WHERE {where}",
                            [old, new, *params],
                        )
                    total += max(cursor.rowcount, 0)
    return total


def _history_rows_naming(person, replacements) -> dict[str, tuple[type, list[int]]]:
    """Audited model label → (history model, ids of its rows that the pseudonymisation may
    rewrite): the person's own, and every row with one of the old texts in a text column (the
    same columns and conditions as `_replace_everywhere`)."""
    from . import binding

    connection = connections["default"]
    quote = connection.ops.quote_name
    found = {}
    with connection.cursor() as cursor:
        for label, model in sorted(binding.history_models().items()):
            conditions, params = [], []
            for column in _text_columns(model):
                for old, _new in replacements:
                    condition, values = _names_text(connection, quote(column), old)
                    conditions.append(condition)
                    params += values
            if label == person._meta.label_lower:
                own = model._meta.get_field(person._meta.pk.name)
                conditions.append(f"{quote(own.column)} = %s")
                params.append(person.pk)
            if not conditions:
                continue
            pk = quote(model._meta.pk.column)
            cursor.execute(
                f"SELECT {pk} FROM {quote(model._meta.db_table)} "  # noqa: S608
                f"WHERE {' OR '.join(conditions)}",
                params,
            )
            ids = [row[0] for row in cursor.fetchall()]
            if ids:
                found[label] = (model, ids)
    return found


def _history_row_digests(naming: dict[str, tuple[type, list[int]]]) -> dict[tuple, str]:
    from . import binding

    digests = {}
    for label, (model, ids) in naming.items():
        for record in model._default_manager.filter(pk__in=ids):
            digests[(label, record.pk)] = binding.digest_of_record(record)
    return digests


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pseudonymise_events(person_pk: int, pseudonym: registry.Person, replacements) -> list[int]:
    key = str(person_pk)
    now = timezone.now()
    rewritten = []
    events = (
        AuditEvent.objects.filter(personal__people__has_key=key)
        .only("id", "personal")
        .order_by("id")
    )
    for event in events.iterator(chunk_size=1000):
        personal = replace_in(event.personal, replacements)
        personal["people"][key] = {"name": pseudonym.name, "email": pseudonym.email}
        personal["salt"] = ""  # the digest can no longer be recomputed, nor guessed
        AuditEvent.objects.filter(pk=event.pk).update(personal=personal, pseudonymised_at=now)
        rewritten.append(event.pk)
    return rewritten


def personal_from(people: dict[int, registry.Person], changes: dict) -> dict:
    return build_personal(people, changes)
