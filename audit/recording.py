"""Every django-simple-history record becomes an audit event, in the same transaction.

Connected to simple-history's `post_create_historical_record` for every audited model. What a
record means (its kind, summary, the people it mentions) comes from the model's registration
(`audit.registry`); where it happened (process, municipality, county, stage) is read from the
record, else from the process's previous event (remembered when this thread appended it and
it is still its chain's head), else from the directory. The previous record
(for the field-level changes) is simple-history's `prev_record`.
"""

from __future__ import annotations

import dataclasses
import logging

from asgiref.local import Local
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from . import binding, chain, registry, upstream
from .models import ActorKind, AuditEvent, Kind, chain_of
from .personal import Scrubber, build_personal
from .registry import Change, Description, json_safe

logger = logging.getLogger(__name__)

HISTORY_FIELDS = {"history_id", "history_date", "history_change_reason", "history_type"}
HISTORY_FIELDS |= {"history_user", "history_relation"}

_GENERIC_KIND = {"+": Kind.RECORD_CREATED, "~": Kind.RECORD_CHANGED, "-": Kind.RECORD_DELETED}


def on_history_record(sender, history_instance, using=None, instance=None, **kwargs) -> None:
    record_history(history_instance, using=using or "default", instance=instance)


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
    for field in upstream.recorded_m2m_fields(record):
        if field.name in spec.hidden_fields:
            continue
        new_ids, old_ids = _m2m_ids(record, previous, field)
        if new_ids != old_ids:
            changes[field.name] = (old_ids if previous is not None else None, new_ids)
    return changes


def _m2m_ids(record, previous, field) -> tuple[list, list]:
    """The related ids of ``record`` and ``previous``: as written (`on_m2m_history`), else read
    in one query for both."""
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


def on_m2m_history(sender, created_rows, history_instance, field, **kwargs) -> None:
    """simple-history's `post_create_historical_m2m_records`: keep the many-to-many history rows
    just written on their history record, for its event's change (the related ids) and its digest
    (`audit.binding`), instead of reading them back."""
    target = f"{field.m2m_reverse_field_name()}_id"
    ids = history_instance.__dict__.setdefault("_m2m_ids", {})
    ids[field.name] = sorted(getattr(row, target) for row in created_rows)
    rows = history_instance.__dict__.setdefault("_m2m_rows", {})
    rows[sender._meta.db_table] = created_rows


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


# --- What the current transaction knows ------------------------------------------------------


@dataclasses.dataclass
class _Transaction:
    """What the current transaction's events found out, named by PostgreSQL's transaction id: who
    acts in it, per process (a contact answering through a task link, a leader recording an
    answer: the events that follow in the same transaction and process without a user of their
    own are theirs too), and the people of each municipality (one query per municipality and
    transaction). Kept per thread (a connection is); a new transaction id starts afresh; without
    one (SQLite) nothing is kept."""

    txid: str
    actors: dict = dataclasses.field(default_factory=dict)
    people: dict = dataclasses.field(default_factory=dict)
    # process id → (chain, hash, context) of the last event appended for the process here (see
    # `_still_latest`).
    contexts: dict = dataclasses.field(default_factory=dict)
    # chain key → its head as this transaction's last event there left it (still locked by it):
    # the transaction's next event there moves it with a compare-and-set instead of locking and
    # reading it again (`chain.append_event`). Forgotten when the transaction commits.
    heads: dict = dataclasses.field(default_factory=dict)


_local = Local()


def _memory(txid: str | None) -> _Transaction | None:
    if txid is None:
        return None
    memory = getattr(_local, "transaction", None)
    if memory is None or memory.txid != txid:
        memory = _local.transaction = _Transaction(txid)
    return memory


def forget_people() -> None:
    """A contact person changed: names must be looked up again."""
    memory = getattr(_local, "transaction", None)
    if memory is not None:
        memory.people.clear()


# --- The event of a history record ------------------------------------------------------------


def _remembered_context(process_id: int | None):
    """(chain, hash, context) of the latest event this thread appended for ``process_id``, if
    any. Only a guess until `_still_latest` confirms it under the chain's lock."""
    memory = getattr(_local, "transaction", None)
    if memory is None or process_id is None:
        return None
    return memory.contexts.get(process_id)


def _still_latest(remembered, head) -> bool:
    """Whether the remembered event is still its process's latest: it is the head of its chain
    (the locked head's hash is the event's). The event then exists (committed, or in this
    transaction: a rolled-back savepoint takes the event and the head's move back together),
    nothing was appended to the chain after it, and the chain's lock keeps everyone else out
    until this transaction ends; a process's events are in its municipality's chain."""
    chain_key, event_hash, _context = remembered
    return head.key == chain_key and head.hash == event_hash


def _process_context(process_id: int | None, using: str) -> dict:
    """The process's latest place and stage on the record (empty without a municipality)."""
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


_CONTEXT_COLUMNS = ("municipality_id", "municipality_name", "county_code", "stage")


def _remembered_head(key: str, using: str):
    """The head this thread's transaction left chain ``key`` at, if it remembers one."""
    memory = getattr(_local, "transaction", None)
    if memory is None or using != "default":
        return None
    return memory.heads.get(key)


def _head(key: str, using: str, *, reuse: bool):
    """(chain ``key``'s head, whether it is the remembered one, not read under a new lock)."""
    remembered = _remembered_head(key, using) if reuse else None
    if remembered is not None:
        return remembered, True
    return chain.lock_head(key, using), False


def _remember_head(memory: _Transaction, head, using: str, *, locked_now: bool) -> None:
    if locked_now:
        # A commit ends the lock. A rollback (of the transaction, or of the savepoint this was
        # registered in) leaves the memory, but then the head no longer holds the remembered
        # hash, or the transaction is another: the next append finds that out and locks again.
        transaction.on_commit(memory.heads.clear, using=using)
    memory.heads[head.key] = head


def record_history(record, *, using: str = "default", instance=None) -> AuditEvent:
    model = record.instance_type
    spec = registry.spec_for(model)
    # No savepoint: the event belongs to the history row's transaction, and fails with it.
    with transaction.atomic(using=using, savepoint=False), translation.override(_record_language()):
        # simple-history's previous record of the object (None for a new one).
        previous = record.prev_record if record.history_type != "+" else None
        raw_changes = _changes(record, previous, spec)
        # The chain's head as this transaction left it, else (or when it moved meanwhile: a
        # savepoint rolled back) read under its lock.
        event = _record_event(record, spec, previous, raw_changes, using, reuse_head=True)
        if event is None:
            event = _record_event(record, spec, previous, raw_changes, using, reuse_head=False)
        return event


def _record_event(record, spec, previous, raw_changes, using: str, *, reuse_head: bool):
    model = record.instance_type
    change = Change(record=record, previous=previous, changes=raw_changes, memo={})
    description = _describe(spec, change)
    summary = description.summary or _generic_summary(record)
    kind = description.kind or _GENERIC_KIND.get(record.history_type, Kind.RECORD_CHANGED)
    if _is_bookkeeping(record, raw_changes, spec):
        kind = Kind.RECORD_TOUCHED

    process_id = description.process_id or _default_process_id(record)
    own_municipality_id = description.municipality_id or getattr(record, "municipality_id", None)
    own_stage = description.stage or getattr(record, "stage", None) or ""
    # The process's latest event on the record: remembered when this thread appended it (in
    # this transaction or the one before; checked once the chain is locked), else read.
    remembered = _remembered_context(process_id) if using == "default" else None
    context = remembered[2] if remembered else _process_context(process_id, using)
    place = _placed(own_municipality_id, own_stage, process_id, context, description, change)
    head, head_is_remembered = _head(chain_of(place[0]), using, reuse=reuse_head)
    memory = _memory(head.txid)
    if remembered and not _still_latest(remembered, head):
        context = _process_context(process_id, using)
        again = _placed(own_municipality_id, own_stage, process_id, context, description, change)
        if chain_of(again[0]) != head.key:
            head, head_is_remembered = _head(chain_of(again[0]), using, reuse=reuse_head)
            memory = _memory(head.txid)
        place = again
    municipality_id, municipality_name, county_code, stage = place
    actor_user, actor_kind, actor_label, acting = _actor(record, description, memory, process_id)
    people = dict(description.people)
    if acting is not None:
        people.setdefault(*acting)
    directory = registry.directory()
    if directory is not None and model is directory.person_model:
        forget_people()
    if municipality_id and directory is not None and spec.mentions_people:
        if memory is None or municipality_id not in memory.people:
            known = directory.people(municipality_id, change.memo)
            if memory is not None:
                memory.people[municipality_id] = known
        else:
            known = memory.people[municipality_id]
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

    event = chain.append_event(
        head=head,
        head_is_remembered=head_is_remembered,
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
    if event is None:
        return None  # the remembered head moved: the caller locks it and tries again
    if memory is not None and using == "default":
        _remember_head(memory, head, using, locked_now=not head_is_remembered)
    if memory is not None and process_id is not None and municipality_id:
        memory.contexts[process_id] = (
            event.chain,
            event.hash,
            {
                "municipality_id": event.municipality_id,
                "municipality_name": event.municipality_name,
                "county_code": event.county_code,
                "stage": event.stage,
            },
        )
    return event


def _placed(municipality_id, stage, process_id, context: dict, description, change) -> tuple:
    """(municipality id, its name, county code, stage) of an event: the record's own, else its
    process's latest on the record (``context``), else the directory's."""
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
    return municipality_id, municipality_name, county_code, stage


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


def _actor(record, description: Description, memory: _Transaction | None, process_id):
    """(user, kind, label, acting person): the user who did it, else the last actor of this
    transaction and process (a contact through a task link, a leader recording an answer, the
    user whose step opened the next one), else PolicyFlow itself."""
    actors = memory.actors if memory is not None else {}
    user, acting = record.history_user, None
    if user is not None:
        actors[process_id] = ("user", user)
    else:
        if description.actor_user_id:
            from django.contrib.auth import get_user_model

            user = get_user_model()._default_manager.filter(pk=description.actor_user_id).first()
            if user is not None:
                actors[process_id] = ("user", user)
        elif description.actor_person_id in description.people:
            acting = (description.actor_person_id, description.people[description.actor_person_id])
            actors[process_id] = ("person", acting)
        else:
            inherited = actors.get(process_id)
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
