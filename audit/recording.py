"""Every django-simple-history record becomes an audit event, in the same transaction.

Connected to simple-history's `post_create_historical_record` for every audited model. What a
record means (its kind, summary, the people it mentions) comes from the model's registration
(`audit.registry`); where it happened (process, municipality, county, stage) is read from the
record, else from the process's previous event, else from the directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connections, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords as SimpleHistoryRecords
from simple_history.utils import get_app_model_primary_key_name

from . import binding, registry, services
from .models import ActorKind, AuditEvent, Kind
from .personal import Scrubber, build_personal
from .registry import Change, Description, json_safe

logger = logging.getLogger(__name__)

HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}
HISTORY_FIELDS |= {"history_user", "history_relation"}

_GENERIC_KIND = {"+": Kind.RECORD_CREATED, "~": Kind.RECORD_CHANGED, "-": Kind.RECORD_DELETED}


def on_history_record(sender, history_instance, using=None, instance=None, **kwargs) -> None:
    record_history(history_instance, using=using or "default", instance=instance)


def remember_loaded(instance) -> None:
    """Note ``instance``'s values as just loaded from its row, so that its next recorded save is
    compared with them instead of reading the previous history record (a statement per save).

    Call it right after loading the row under a lock that stops others writing it (a step's
    process lock): the values are then the row's, which its latest history record holds too.
    Each recorded save moves the noted values on. Models with recorded many-to-many fields
    still read the previous record (it holds their links).
    """
    instance._audit_loaded = _row_values(instance)


def _row_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


class _LoadedState:
    """The values `remember_loaded` noted, read like a previous history record."""

    def __init__(self, meta, values: dict) -> None:
        self._meta = meta
        self.__dict__.update(values)


_PLAIN = (str, int, float, bool, type(None))


def _field_values(record, names) -> dict:
    values = {}
    for name in names:
        field = record._meta.get_field(name)
        value = getattr(record, field.attname)
        if not isinstance(value, _PLAIN) and field.get_internal_type() == "CharField":
            # Custom text fields (e.g. viewflow's node references): their stored form.
            value = field.get_prep_value(value)
        values[name] = value
    return values


def _tracked_names(record, spec: registry.ModelSpec) -> list[str]:
    return [
        f.name
        for f in record.instance_type._meta.concrete_fields
        if f.name not in spec.hidden_fields and _has_field(record, f.name)
    ]


def _has_field(record, name: str) -> bool:
    try:
        record._meta.get_field(name)
    except Exception:  # noqa: BLE001 (excluded from the history model)
        return False
    return True


def _changes(record, previous, spec: registry.ModelSpec) -> dict[str, tuple]:
    """Field-level old → new values (all set values for a new record)."""
    names = _tracked_names(record, spec)
    new = _field_values(record, names)
    if previous is None:
        changes = {n: (None, v) for n, v in new.items() if v not in (None, "")}
    else:
        old = _field_values(previous, names)
        changes = {n: (old[n], new[n]) for n in names if old[n] != new[n]}
    for field in getattr(record, "_history_m2m_fields", []):
        if field.name in spec.hidden_fields:
            continue
        new_ids, old_ids = _m2m_ids(record, previous, field)
        if new_ids != old_ids:
            changes[field.name] = (old_ids if previous is not None else None, new_ids)
    return changes


def _m2m_ids(record, previous, field) -> tuple[list, list]:
    """The related ids of ``record`` and ``previous``: as written (`audit.history`) and as read
    with the previous record (`_previous_query`), else in one query for both."""
    new = getattr(record, "_m2m_ids", {}).get(field.name)
    old = getattr(previous, "_m2m_ids", {}).get(field.name) if previous is not None else []
    if new is not None and old is not None:
        return new, old
    m2m_model = getattr(record, field.name).model
    target = field.m2m_reverse_field_name()
    history_ids = [record.history_id] + ([previous.history_id] if previous is not None else [])
    rows = m2m_model.objects.filter(history_id__in=history_ids).values_list(
        "history_id", f"{target}_id"
    )
    new_ids, old_ids = [], []
    for history_id, related_id in rows:
        (new_ids if history_id == record.history_id else old_ids).append(related_id)
    return sorted(new_ids), sorted(old_ids)


def _previous_record(record, using: str):
    """The same row as simple-history's `record.prev_record` (the same query), as a model
    instance. The query's SQL is built once per history model: composing it through the ORM
    (and simple-history building a manager class per `prev_record`) cost several times the
    query itself, once per changed record."""
    query = _previous_query(type(record), using)
    with connections[using].cursor() as cursor:
        cursor.execute(query.sql, [getattr(record, query.key), record.history_date])
        row = cursor.fetchone()
    return query.instance(row, using) if row is not None else None


@dataclass(frozen=True)
class _PreviousQuery:
    key: str
    sql: str
    attnames: tuple[str, ...]
    # (column index, converters, column expression) for the columns whose stored form differs
    # from the Python one (JSON, for instance), as the ORM's compiler would apply them.
    converters: tuple
    model: type
    # Many-to-many fields whose related ids follow the row's columns (PostgreSQL arrays).
    m2m_names: tuple[str, ...] = ()

    def instance(self, row, using: str):
        values = list(row[: len(self.attnames)])
        connection = connections[using]
        for index, converters, expression in self.converters:
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        record = self.model.from_db(using, self.attnames, values)
        if self.m2m_names:
            related = row[len(self.attnames) :]
            record._m2m_ids = {
                name: sorted(ids) for name, ids in zip(self.m2m_names, related, strict=True)
            }
        return record


_previous_queries: dict[tuple[type, str], _PreviousQuery] = {}


def _previous_query(model, using: str) -> _PreviousQuery:
    query = _previous_queries.get((model, using))
    if query is None:
        connection = connections[using]
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        table = quote(model._meta.db_table)
        key = get_app_model_primary_key_name(model.instance_type)
        key_column = quote(model._meta.get_field(key).column)
        date_column = quote(model._meta.get_field("history_date").column)
        columns = ", ".join(f"{table}.{quote(f.column)}" for f in fields)
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((index, tuple(found), column))
        m2m_names, m2m_columns = [], []
        if connection.vendor == "postgresql":
            # The previous record's related ids, in the same round trip.
            for field in getattr(model, "_history_m2m_fields", []):
                m2m = SimpleHistoryRecords.m2m_models[field]
                target = quote(m2m._meta.get_field(field.m2m_reverse_field_name()).column)
                m2m_table = quote(m2m._meta.db_table)
                history = quote(m2m._meta.get_field("history").column)
                m2m_names.append(field.name)
                m2m_columns.append(
                    f", ARRAY(SELECT m.{target} FROM {m2m_table} AS m "  # noqa: S608
                    f"WHERE m.{history} = {table}.{quote(model._meta.pk.column)})"
                )
        query = _PreviousQuery(
            key=key,
            # Identifiers from the model's options, quoted; values are parameters.
            sql=(
                f"SELECT {columns}{''.join(m2m_columns)} FROM {table} "  # noqa: S608
                f"WHERE {table}.{key_column} = %s AND {table}.{date_column} < %s "
                f"ORDER BY {table}.{date_column} DESC LIMIT 1"
            ),
            attnames=tuple(f.attname for f in fields),
            converters=tuple(converters),
            model=model,
            m2m_names=tuple(m2m_names),
        )
        _previous_queries[(model, using)] = query
    return query


def _describe(spec: registry.ModelSpec, change: Change) -> Description:
    if spec.describe is None:
        return Description()
    try:
        return spec.describe(change) or Description()
    except Exception:
        # A describing mistake must not stop the step; the event is still written, generically.
        logger.exception("Describing %s for the audit trail failed.", change.record._meta.label)
        return Description()


def _place(municipality_id: int, memo: dict):
    directory = registry.directory()
    return directory.place(municipality_id, memo) if directory else None


def _object_id(record) -> str:
    pk = record.instance_type._meta.pk
    return str(getattr(record, pk.attname, "") or "")


def _default_process_id(record) -> int | None:
    for attname in ("process_id", "process_ptr_id"):
        value = getattr(record, attname, None)
        if value is not None:
            return value
    return None


def _previous(record, instance, using: str):
    if record.history_type == "+":
        return None
    loaded = getattr(instance, "_audit_loaded", None)
    if loaded is not None and not getattr(record, "_history_m2m_fields", None):
        return _LoadedState(record._meta, loaded)
    return _previous_record(record, using)


def record_history(record, *, using: str = "default", instance=None) -> AuditEvent:
    model = record.instance_type
    spec = registry.spec_for(model)
    # No savepoint: the event belongs to the history row's transaction, and fails with it.
    with transaction.atomic(using=using, savepoint=False), translation.override(_record_language()):
        previous = _previous(record, instance, using)
        if getattr(instance, "_audit_loaded", None) is not None:
            instance._audit_loaded = _row_values(instance)
        raw_changes = _changes(record, previous, spec)
        change = Change(record=record, previous=previous, changes=raw_changes, memo={})
        description = _describe(spec, change)
        summary = description.summary or _generic_summary(record)
        kind = description.kind or _GENERIC_KIND.get(record.history_type, Kind.RECORD_CHANGED)
        if _is_bookkeeping(record, raw_changes, spec):
            kind = Kind.RECORD_TOUCHED

        process_id = description.process_id or _default_process_id(record)
        municipality_id = description.municipality_id or getattr(record, "municipality_id", None)
        stage = description.stage or getattr(record, "stage", None) or ""
        held = services.held_chain(process_id, using)
        txid = held.txid
        context = held.contexts.get(process_id, {}) if process_id is not None else {}
        municipality_id = municipality_id or context.get("municipality_id")
        if municipality_id and municipality_id == context.get("municipality_id"):
            municipality_name = context["municipality_name"]
            county_code = context["county_code"]
        else:
            place = _place(municipality_id, change.memo) if municipality_id else None
            municipality_name = place.municipality_name if place else ""
            county_code = place.county_code if place else ""
        county_code = county_code or description.county_code or ""
        if process_id and not stage:
            stage = context.get("stage", "")

        actor_user, actor_kind, actor_label, acting = _actor(record, description, txid, process_id)
        people = dict(description.people)
        if acting is not None:
            people.setdefault(*acting)
        directory = registry.directory()
        if directory is not None and model is directory.person_model:
            services.forget_people()
        if municipality_id and directory is not None and spec.mentions_people:
            known = services.people_in_transaction(
                txid, municipality_id, lambda: directory.people(municipality_id, change.memo)
            )
            people = {**known, **people}
        scrubber = Scrubber(people)
        actor_label = scrubber.text(actor_label)

        public_changes, personal_changes = {}, {}
        for name, (old, new) in raw_changes.items():
            pair = [json_safe(old), json_safe(new)]
            if name in spec.personal_fields:
                personal_changes[name] = pair
                scrubber.mentions(pair)
            else:
                public_changes[name] = scrubber.value(pair)
        summary = scrubber.text(str(summary))
        reason = scrubber.text(record.history_change_reason or "")
        explicit = set(description.people) | ({acting[0]} if acting else set())
        mentioned = {pk: people[pk] for pk in scrubber.used | explicit}

        return services.append_event(
            kind=kind,
            summary=summary,
            occurred_at=record.history_date,
            model_label=model._meta.label_lower,
            object_id=_object_id(record),
            history_id=record.history_id,
            reason=reason,
            actor_user=actor_user,
            actor_kind=actor_kind,
            actor_label=actor_label,
            process_id=process_id,
            municipality_id=municipality_id,
            municipality_name=municipality_name,
            county_code=county_code,
            stage=stage,
            changes=public_changes,
            personal=build_personal(mentioned, personal_changes),
            # The row as written: its event's hash covers it, so it cannot change unseen.
            record_digest=binding.digest_of_record(record),
            using=using,
        )


def _is_bookkeeping(record, changes: dict, spec: registry.ModelSpec) -> bool:
    """Whether a changed record changed nothing people read: no field, or only the
    software's own (`internal_fields`), e.g. a workflow engine's token. Created and deleted
    records always say something."""
    return record.history_type == "~" and set(changes) <= spec.internal_fields


def _record_language() -> str:
    from django.conf import settings

    # The record's own words are in the site's language, whoever's request wrote them.
    return settings.LANGUAGE_CODE


def _generic_summary(record) -> str:
    verb = {"+": _("created"), "~": _("changed"), "-": _("deleted")}.get(record.history_type, "")
    return f"{record.instance_type._meta.verbose_name} {_object_id(record)} {verb}".strip()


def _actor(record, description: Description, txid, process_id):
    """(user, kind, label, acting person): the user who did it, else the last actor of this
    transaction and process (a contact through a task link, a leader recording an answer, the
    user whose step opened the next one), else PolicyFlow itself."""
    user, acting = record.history_user, None
    if user is not None:
        services.remember_actor(txid, process_id, ("user", user))
    else:
        if description.actor_user_id:
            from django.contrib.auth import get_user_model

            user = get_user_model()._default_manager.filter(pk=description.actor_user_id).first()
            if user is not None:
                services.remember_actor(txid, process_id, ("user", user))
        elif description.actor_person_id in description.people:
            acting = (description.actor_person_id, description.people[description.actor_person_id])
            services.remember_actor(txid, process_id, ("person", acting))
        else:
            inherited = services.actor_in_transaction(txid, process_id)
            if inherited is not None and inherited[0] == "user":
                user = inherited[1]
            elif inherited is not None:
                acting = inherited[1]
    if user is not None:
        return user, ActorKind.USER, user.get_full_name() or user.get_username(), None
    if acting is not None:
        label = _("%(name)s (via task link)") % {"name": acting[1].name}
        return None, ActorKind.CONTACT, label, acting
    return None, ActorKind.SYSTEM, _("PolicyFlow"), None


def connection_is_postgresql(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"
