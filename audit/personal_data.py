"""Personal data on the audit trail (GDPR): an administrator's export of everything stored about
a contact person is recorded; a contact person who has left is pseudonymised everywhere without
breaking the chains (docs/audit.md, "Personal data")."""

from __future__ import annotations

import html
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import chain, registry, upstream
from .models import AuditEvent, Kind, chain_of
from .personal import replace_in, text_pattern


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
        return chain.append_event(
            kind=Kind.PERSONAL_DATA_EXPORTED,
            summary=_("Personal data of contact person %(id)s exported") % {"id": person.pk},
            model_label=person._meta.label_lower,
            object_id=str(person.pk),
            actor_user=user,
            municipality_id=getattr(person, "municipality_id", None),
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
        if not is_history and not upstream.is_audited(model):
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
        # The chain of the person's municipality first, as every audited write takes it before
        # its rows: no event naming the person is appended there while the names are rewritten
        # (the event of the rewrite goes there too), and no lock waits on another in the
        # opposite order.
        chain.lock_head(chain_of(getattr(person, "municipality_id", None)))
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
        with upstream.ignoring_triggers(*_history_trigger_uris(), "audit.AuditEvent:append_only"):
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
        # Its head is read again: the rewrite may have appended events (a contact's history).
        event = chain.append_event(
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
