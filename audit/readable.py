"""Field-level changes as people read them: the field's label and each value in words.

An event stores its changes as machine values (``{"body": [null, "kf"]}``), which stay the
record. This module reads them through the audited model's field metadata, in the active
language: the field's verbose_name, a choice's label, Yes/No, a date in the page's format, and
the name behind an id. Nothing here knows a particular model, so a field added tomorrow reads
well without more work.

Names behind ids are looked up in bulk: one query per related model for a whole page (or block
of an export), whatever the number of events, through `Resolver`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import registry

EMPTY = "–"

# Django names a field that has no verbose_name after the field itself ("recorded by"); the
# label is looked up in the catalogue as it stands, so these words read in Swedish too.
AUTOMATIC_LABELS = (
    gettext_noop("recorded by"),
    gettext_noop("created by"),
    gettext_noop("process"),
    gettext_noop("task"),
)


@dataclass(frozen=True)
class ReadableChange:
    """One changed field: its label, and its old and new values as text."""

    name: str
    label: str
    old: str
    new: str


def model_for(model_label: str):
    try:
        return apps.get_model(model_label)
    except (LookupError, ValueError):
        return None


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def is_bookkeeping_field(field) -> bool:
    """A row's own key and a parent link: they say which row, not what changed."""
    return field is not None and (
        field.primary_key
        and (isinstance(field, models.AutoField) or getattr(field, "remote_field", None))
    )


def _related_model(field):
    if field is not None and field.is_relation and field.related_model is not None:
        related = field.related_model
        return None if related == "self" else related
    return None


class Resolver:
    """Names behind ids, fetched once per related model for everything `want`ed before."""

    def __init__(self) -> None:
        self._wanted: dict[type, set] = defaultdict(set)
        self._names: dict[type, dict] = {}

    def want(self, model_label: str, changes: dict) -> None:
        model = model_for(model_label)
        for name, pair in (changes or {}).items():
            related = _related_model(_field(model, name))
            if related is None or not isinstance(pair, list | tuple):
                continue
            for value in pair:
                for pk in value if isinstance(value, list) else [value]:
                    if isinstance(pk, int) and pk not in self._names.get(related, {}):
                        self._wanted[related].add(pk)

    def name(self, model, pk) -> str:
        if model in self._wanted:
            self._fetch(model)
        names = self._names.get(model, {})
        if pk not in names:
            self._wanted[model].add(pk)
            self._fetch(model)
            names = self._names[model]
        return names.get(pk) or f"#{pk}"

    def _fetch(self, model) -> None:
        ids = self._wanted.pop(model, set())
        known = self._names.setdefault(model, {})
        if ids:
            known.update(names_of(model, ids))
            known.update({pk: "" for pk in ids if pk not in known})

    def fetch_all(self) -> None:
        for model in list(self._wanted):
            self._fetch(model)


def names_of(model, ids) -> dict:
    """How the rows ``ids`` of ``model`` are named for people (one query)."""
    namer = registry.spec_for(model).names
    if namer is not None:
        return namer(ids)
    manager = model._default_manager
    if model is get_user_model():
        rows = manager.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "username")
        return {pk: f"{first} {last}".strip() or username for pk, first, last, username in rows}
    if any(f.name == "name" for f in model._meta.concrete_fields):
        return dict(manager.filter(pk__in=ids).values_list("pk", "name"))
    return {obj.pk: str(obj) for obj in manager.filter(pk__in=ids)}


def _date(value: str) -> str:
    parsed = parse_date(value) if isinstance(value, str) else None
    return formats.date_format(parsed, "DATE_FORMAT") if parsed else str(value)


def _datetime(value: str) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value)
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    return formats.date_format(parsed, "DATETIME_FORMAT")


def _custom_value(field, value) -> str | None:
    """A third-party field's stored form as its Python value names itself (viewflow's node
    reference "…PolicyAdoptionFlow.decision" is the step "Record the decision")."""
    if type(field).__module__.startswith("django."):
        return None
    try:
        python = field.to_python(value)
    except Exception:  # noqa: BLE001 (a value the field no longer knows: shown as stored)
        return None
    for attribute in ("task_title", "title", "label"):
        title = getattr(python, attribute, None)
        if title:
            return str(title)
    return None


def value_text(field, value: Any, resolver: Resolver) -> str:
    """One stored value of ``field`` as a person reads it."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if field is None:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    custom = _custom_value(field, value)
    if custom is not None:
        return custom
    related = _related_model(field)
    if related is not None:
        values = value if isinstance(value, list) else [value]
        return ", ".join(resolver.name(related, pk) for pk in values) or EMPTY
    choices = getattr(field, "flatchoices", None)
    if choices:
        for key, label in choices:
            if key == value or str(key) == str(value):
                return str(label)
    if isinstance(field, models.BooleanField) or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(field, models.DateTimeField):
        return _datetime(value)
    if isinstance(field, models.DateField):
        return _date(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def readable_changes(model_label: str, changes: dict, resolver: Resolver) -> list[ReadableChange]:
    """The event's changes, each with its field's label, in the model's field order."""
    if not changes:
        return []
    model = model_for(model_label)
    internal = registry.spec_for(model).internal_fields if model is not None else frozenset()
    order = {}
    if model is not None:
        fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
        order = {f.name: index for index, f in enumerate(fields)}
    result = []
    for name in sorted(changes, key=lambda n: (order.get(n, len(order)), n)):
        pair = changes[name]
        field = _field(model, name)
        if name in internal or is_bookkeeping_field(field):
            continue
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        label = _(str(field.verbose_name)) if field is not None else name
        result.append(
            ReadableChange(
                name=name,
                label=label[:1].upper() + label[1:],
                old=value_text(field, old, resolver),
                new=value_text(field, new, resolver),
            )
        )
    return result


def changes_text(changes: list[ReadableChange]) -> str:
    """Changes on one line (the CSV's readable column): ``Label: old → new; …``."""
    return "; ".join(f"{c.label}: {c.old} → {c.new}" for c in changes)
