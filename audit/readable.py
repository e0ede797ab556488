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

import datetime
import functools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_date
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
        if not changes:
            return
        relations = _relations(model_label)
        for name, pair in changes.items():
            related = relations.get(name)
            if related is not None:
                self.want_ids(related, pair)

    def want_ids(self, related, pair) -> None:
        """The ids in one change (``[old, new]``) of a relation to the model ``related``."""
        if not isinstance(pair, list | tuple):
            return
        known = self._names.get(related, {})
        for value in pair:
            for pk in value if isinstance(value, list) else [value]:
                if isinstance(pk, int) and pk not in known:
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
        if ids:
            self._keep([model], ids, names_of(model, ids))
        self._names.setdefault(model, {})

    def _keep(self, models_: list, ids: set, names: dict) -> None:
        for model in models_:
            known = self._names.setdefault(model, {})
            known.update(names)
            known.update({pk: "" for pk in ids if pk not in known})

    def known(self) -> int:
        """How many names it holds (a caller that keeps it for many blocks bounds its memory)."""
        return sum(map(len, self._names.values()))

    def fetch_all(self) -> None:
        # A parent model and its child (viewflow's Process and the PolicyProcess on the same
        # row) named by the same function: one set of ids for both. Every model named by a query
        # (`NameRows`, and the defaults) is read in one statement: a timeline page's six
        # lookups were six round trips and a third of its SQL time.
        shared: dict[tuple, list] = defaultdict(list)
        for model in list(self._wanted):
            namer = registry.spec_for(model).names
            parents = model._meta.get_parent_list()
            root = parents[-1] if parents else model
            shared[(namer, root) if namer is not None else (model,)].append(model)
        together, their_models = [], []
        for models_ in shared.values():
            ids = set().union(*(self._wanted.pop(model, set()) for model in models_))
            if not ids:
                continue
            how = _name_rows(models_[0])
            if how is None:
                self._keep(models_, ids, names_of(models_[0], ids))
            else:
                together.append((how, ids))
                their_models.append(models_)
        if together:
            for models_, (_how, ids), names in zip(
                their_models, together, read_names(together), strict=True
            ):
                self._keep(models_, ids, names)


@functools.lru_cache(maxsize=256)
def _relations(model_label: str) -> dict:
    """The model's relation fields by name, with the model each points at."""
    model = model_for(model_label)
    if model is None:
        return {}
    fields = [*model._meta.concrete_fields, *model._meta.many_to_many]
    return {f.name: _related_model(f) for f in fields if _related_model(f) is not None}


def user_names(users) -> list[tuple[int, str]]:
    """Each of the ``users`` (a queryset) with their name as people read it, as Django's
    ``get_full_name`` writes it, else the username: without a model object per user."""
    rows = users.values_list("pk", "first_name", "last_name", users.model.USERNAME_FIELD)
    return [(pk, f"{first} {last}".strip() or username) for pk, first, last, username in rows]


def _name_rows(model) -> registry.NameRows | None:
    """How ``model``'s rows are named as a query: its registered `NameRows`, or the default
    for users (as ``get_full_name``, else the username) and for models with a ``name``; None
    for a namer of its own that is not a query, or a model named by its ``str()``."""
    namer = registry.spec_for(model).names
    if namer is not None:
        return namer if isinstance(namer, registry.NameRows) else None
    return _default_name_rows(model)


@functools.cache
def _default_name_rows(model) -> registry.NameRows | None:
    # One per model: `_name_query` keeps each one's query.
    if model is get_user_model():
        return registry.NameRows(
            rows=model._default_manager,
            texts=("first_name", "last_name", model.USERNAME_FIELD),
            name=lambda first, last, username: f"{first} {last}".strip() or username,
        )
    if any(f.name == "name" for f in model._meta.concrete_fields):
        return registry.NameRows(
            rows=model._default_manager, texts=("name",), name=lambda name: name
        )
    return None


TEXTS = 3  # the columns of text a name is made of, at most (a user's: first, last, username)


@functools.lru_cache(maxsize=128)
def _name_query(how: registry.NameRows, which: int):
    """The rows of ``how`` as (``which``, pk, text, text, text): the ``which``-th part of
    `read_names`' statement, built once (a queryset is reused by filtering it, which clones
    it): building each part's values query again cost the ORM as much as the rest of a page's
    names. In no order: a model's default ordering would join the tables it orders by."""
    texts = [*how.texts, *[how.texts[-1]] * (TEXTS - len(how.texts))]
    return how.rows.order_by().values_list(models.Value(which), "pk", *texts)


def read_names(wanted: list[tuple[registry.NameRows, set]]) -> list[dict]:
    """The names of each ``(how, ids)`` pair, all read in one statement (UNION ALL of each
    model's rows, tagged by their place in ``wanted``)."""
    queries = [
        _name_query(how, which).filter(pk__in=ids) for which, (how, ids) in enumerate(wanted)
    ]
    rows = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    names: list[dict] = [{} for _ in wanted]
    for which, pk, *texts in rows:
        how = wanted[which][0]
        names[which][pk] = how.name(*texts[: len(how.texts)])
    return names


def names_of(model, ids) -> dict:
    """How the rows ``ids`` of ``model`` are named for people (one query)."""
    how = _name_rows(model)
    if how is not None:
        return read_names([(how, ids)])[0]
    namer = registry.spec_for(model).names
    if namer is not None:
        return namer(ids)
    return {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=ids).order_by()}


# Formatting a date is the costly part of an export's row: the same texts come back often
# (a step's records share their minute), so they are kept, per language.
@functools.lru_cache(maxsize=4096)
def _date(value: str, language: str) -> str:
    parsed = parse_date(value) if isinstance(value, str) else None
    return formats.date_format(parsed, "DATE_FORMAT") if parsed else str(value)


# Format characters of a time finer than the minute: without them, a minute's texts are one.
_FINER_THAN_MINUTES = set("sucrUeOTZ")


@functools.lru_cache(maxsize=64)
def _shows_minutes_only(language: str) -> bool:
    return not _FINER_THAN_MINUTES & set(formats.get_format("DATETIME_FORMAT"))


@dataclass(frozen=True)
class _Context:
    """What every value of one event's changes is read with (looked up once per event)."""

    language: str
    zone: Any
    minutes_only: bool


def reading_context() -> _Context:
    """The active language and time zone, for `readable_changes` of many events."""
    return _context()


def _context() -> _Context:
    language = translation.get_language() or ""
    return _Context(language, timezone.get_current_timezone(), _shows_minutes_only(language))


# Format characters that read only the time of day, and those that read only the date.
_TIME_OF_DAY = set("aAfgGhHiP")
_DATE_ONLY = set("bdDEFjlLmMnNStwWyYz")


@functools.lru_cache(maxsize=64)
def _date_and_time_apart(language: str) -> str | None:
    """The text between the date and the time when the language's DATETIME_FORMAT is its
    DATE_FORMAT, that text and its TIME_FORMAT, each of date or time-of-day characters only
    ("j F Y H:i" is "j F Y", " " and "H:i"): a time then reads as its day's text and its
    minute's, each worked out once (a million events hold some thousand days, but tens of
    thousands of distinct minutes). None: the format read whole."""
    whole = formats.get_format("DATETIME_FORMAT")
    date, time = formats.get_format("DATE_FORMAT"), formats.get_format("TIME_FORMAT")
    between = whole[len(date) : len(whole) - len(time)]
    if len(date) + len(time) > len(whole) or f"{date}{between}{time}" != whole:
        return None
    if "\\" in whole or _letters(between) or not _letters(date) <= _DATE_ONLY:
        return None
    return between if _letters(time) <= _TIME_OF_DAY else None


def _letters(format_string: str) -> set[str]:
    return {c for c in format_string if c.isalpha()}


@functools.lru_cache(maxsize=4096)
def _day_text(day: datetime.date, language: str) -> str:
    return formats.date_format(day, "DATE_FORMAT")


@functools.lru_cache(maxsize=2048)
def _time_of_day_text(hour: int, minute: int, language: str) -> str:
    return formats.time_format(datetime.time(hour, minute), "TIME_FORMAT")


@functools.lru_cache(maxsize=16384)
def _datetime_text(key: str, zone, language: str) -> str:
    try:
        parsed = datetime.datetime.fromisoformat(key)
    except ValueError:
        return key
    if timezone.is_aware(parsed):
        parsed = parsed.astimezone(zone)
    between = _date_and_time_apart(language) if _shows_minutes_only(language) else None
    if between is not None:
        return (
            f"{_day_text(parsed.date(), language)}{between}"
            f"{_time_of_day_text(parsed.hour, parsed.minute, language)}"
        )
    return formats.date_format(parsed, "DATETIME_FORMAT")


def _minute_key(value: str) -> str | None:
    """A stored ISO time's text to the minute, with its UTC offset (one text per minute), or
    None for a text that is not such a time."""
    if len(value) >= 22 and value[16:17] == ":":
        return value[:16] + value[-6:] if value[-6:-5] in "+-" else value[:16]
    return None


def _datetime(value: str, context: _Context) -> str:
    if not isinstance(value, str):
        return str(value)
    if context.minutes_only:
        value = _minute_key(value) or value
    return _datetime_text(value, context.zone, context.language)


def _custom_value(field, value) -> str | None:
    """A third-party field's stored form as its Python value names itself (viewflow's node
    reference "…PolicyAdoptionFlow.decision" is the step "Record the decision")."""
    try:
        python = field.to_python(value)
    except Exception:  # noqa: BLE001 (a value the field no longer knows: shown as stored)
        return None
    for attribute in ("task_title", "title", "label"):
        title = getattr(python, attribute, None)
        if title:
            return str(title)
    return None


@dataclass(frozen=True)
class _FieldPlan:
    """How one field's values read, worked out once per model, field and language."""

    field: Any
    label: str
    order: int
    # How a value that is not empty reads: one of the `_read_*` functions below, chosen once
    # here rather than by tests per value (an export reads some five million values).
    read: Callable[[_FieldPlan, Any, Resolver, _Context], str]
    yes_no: tuple[str, str]  # a true and a false value, in the plan's language
    related: Any = None
    choices: dict | None = None


def _read_related(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(resolver.name(plan.related, pk) for pk in values) or EMPTY


def _read_choice(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    text = plan.choices.get(str(value))
    return _plain(value) if text is None else text


def _read_bool(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    return plan.yes_no[0] if value else plan.yes_no[1]


def _read_datetime(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    if isinstance(value, bool):
        return _read_bool(plan, value, resolver, context)
    return _datetime(value, context)


def _read_date(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    if isinstance(value, bool):
        return _read_bool(plan, value, resolver, context)
    return _date(value, context.language)


def _read_custom(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    if isinstance(value, bool):
        return _read_bool(plan, value, resolver, context)
    return _custom_value(plan.field, value) or _plain(value)


def _read_text(plan: _FieldPlan, value: Any, resolver: Resolver, context: _Context) -> str:
    if isinstance(value, bool):
        return _read_bool(plan, value, resolver, context)
    return _plain(value)


def _plan(field, order: int) -> _FieldPlan:
    label = _(str(field.verbose_name))
    label = label[:1].upper() + label[1:]
    plan = functools.partial(_FieldPlan, field, label, order, yes_no=(_("Yes"), _("No")))
    related = _related_model(field)
    if related is not None:
        return plan(read=_read_related, related=related)
    if getattr(field, "flatchoices", None):
        choices = {str(key): str(text) for key, text in field.flatchoices}
        return plan(read=_read_choice, choices=choices)
    if isinstance(field, models.BooleanField):
        return plan(read=_read_bool)
    if isinstance(field, models.DateTimeField):
        return plan(read=_read_datetime)
    if isinstance(field, models.DateField):
        return plan(read=_read_date)
    if not type(field).__module__.startswith("django."):
        return plan(read=_read_custom)
    return plan(read=_read_text)


@functools.lru_cache(maxsize=256)
def _model_plan(model_label: str, language: str) -> dict[str, _FieldPlan | None]:
    """Each shown field of the model by name (None: not shown, bookkeeping or internal)."""
    model = model_for(model_label)
    if model is None:
        return {}
    internal = registry.spec_for(model).internal_fields
    plans: dict[str, _FieldPlan | None] = {}
    for order, field in enumerate([*model._meta.concrete_fields, *model._meta.many_to_many]):
        hidden = field.name in internal or is_bookkeeping_field(field)
        plans[field.name] = None if hidden else _plan(field, order)
    return plans


def _plain(value) -> str:
    if isinstance(value, str):
        return value
    if type(value) is int:  # as json writes an integer (not a bool: its type is not int)
        return int.__repr__(value)
    return json.dumps(value, ensure_ascii=False)


def _value(plan: _FieldPlan | None, value: Any, resolver: Resolver, context: _Context) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if plan is None:
        return _plain(value)
    return plan.read(plan, value, resolver, context)


def value_text(field, value: Any, resolver: Resolver) -> str:
    """One stored value of ``field`` as a person reads it."""
    plan = _plan(field, 0) if field is not None else None
    return _value(plan, value, resolver, _context())


def readable_changes(
    model_label: str, changes: dict, resolver: Resolver, context: _Context | None = None
) -> list[ReadableChange]:
    """The event's changes, each with its field's label, in the model's field order.

    ``context``: the language and time zone (`reading_context()`), when the caller reads many
    events at once."""
    if not changes:
        return []
    context = context or _context()
    plans = _model_plan(model_label, context.language)
    result = []
    shown = _shown(changes, plans)
    for _order, name, plan, pair in sorted(shown, key=lambda item: item[:2]):
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        result.append(
            ReadableChange(
                name=name,
                label=plan.label if plan is not None else name,
                old=_value(plan, old, resolver, context),
                new=_value(plan, new, resolver, context),
            )
        )
    return result


def _shown(changes: dict, plans: dict) -> list[tuple]:
    """(order, name, plan, pair) of each change a reader sees, unsorted: a field the model hides
    left out, a field the model no longer has after the others, with its name and values as
    stored (no plan)."""
    unknown = len(plans)
    shown = []
    for name, pair in changes.items():
        if name in plans:
            plan = plans[name]
            if plan is not None:
                shown.append((plan.order, name, plan, pair))
        else:
            shown.append((unknown, name, None, pair))
    return shown


def changes_text(changes: list[ReadableChange]) -> str:
    """Changes on one line (the CSV's readable column): ``Label: old → new; …``. A line break
    inside a value (a draft's text) shows as ↵, so that each event stays one line of the file;
    the exact text is in the JSON column."""
    text = "; ".join(f"{c.label}: {c.old} → {c.new}" for c in changes)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ↵ ")


# The values whose text depends only on the field and the value (never on a name looked up):
# their segments are kept by `ChangesLines`. Not floats (-0.0 equals 0.0, and reads otherwise).
_KEPT_TYPES = frozenset({str, int, bool, type(None)})


class ChangesLines:
    """`changes_text(readable_changes(...))` of many events in one language and time zone (an
    export): the same text, built without the per-change objects. Worked out once and kept:
    each *shape* of changes (the model and the names of the fields changed, in their order:
    an export of a million events meets a few dozen), as the shown fields in reading order
    with their labels and plans; and each field's ``Label: old → new`` for a pair of plain
    values that comes back (a status "queued" → "sent", an attempt 0 → 1). Names behind ids
    are never kept: they come from the caller's `Resolver`, as in `readable_changes`."""

    # Distinct pairs kept at most (times to the microsecond are all distinct), and only short
    # ones (a draft's text seldom comes back): memory stays bounded over a million events.
    LIMIT = 5_000
    LONGEST = 160
    SHAPES = 1_000  # shapes kept at most (a trail's fields come and go with its models)

    def __init__(self, context: _Context | None = None) -> None:
        self.context = context or _context()
        # (model label, *names) → `_shape`
        self.shapes: dict[tuple, tuple[list[tuple], list[tuple]]] = {}
        # (model label, name) → {(type(old), old, type(new), new): segment}
        self.fields: dict[tuple[str, str], dict[tuple, str]] = {}
        self.kept = 0
        # A time's text to the minute, by its minute's ISO text (`_datetime`'s key): the
        # export's times come back minute after minute (None: the format shows seconds).
        self.minutes: dict[str, str] | None = {} if self.context.minutes_only else None

    def _shape(self, model_label: str, changes: dict) -> tuple[list[tuple], list[tuple]]:
        """The shown fields of ``changes`` in reading order, each as (name, label, plan, its
        kept segments or None, its own reader of a value or None: `_value`), and the relations
        among them as (name, related model)."""
        key = (model_label, *changes)
        shape = self.shapes.get(key)
        if shape is not None:
            return shape
        plans = _model_plan(model_label, self.context.language)
        shown = _shown(dict.fromkeys(changes), plans)
        shown.sort(key=_order_and_name)
        fields, relations = [], []
        for _order, name, plan, _pair in shown:
            # Names behind ids are the resolver's: a relation's segments are never kept. Nor a
            # time's: to the microsecond, each comes once (its minute's text is kept instead).
            keeps = plan is None or plan.read not in (_read_related, _read_datetime)
            segments = self.fields.setdefault((model_label, name), {}) if keeps else None
            read = None
            if plan is not None and plan.read is _read_related:
                read = self._name
            elif plan is not None and plan.read is _read_datetime and self.minutes is not None:
                read = self._time
            fields.append((name, plan.label if plan is not None else name, plan, segments, read))
            if plan is not None and plan.related is not None:
                relations.append((name, plan.related))
        if len(self.shapes) >= self.SHAPES:
            self.shapes.clear()
        shape = self.shapes[key] = (fields, relations)
        return shape

    def want(self, resolver: Resolver, model_label: str, changes: dict) -> list | None:
        """Tell ``resolver`` the ids whose names `line` will read for ``changes`` (the shown
        relations only: `Resolver.want` without a look at each field). Returns the changes'
        shown fields, for `text` (None: no changes)."""
        if not changes:
            return None
        fields, relations = self._shape(model_label, changes)
        for name, related in relations:
            resolver.want_ids(related, changes[name])
        return fields

    def line(self, model_label: str, changes: dict, resolver: Resolver) -> str:
        return self.text(self._shape(model_label, changes)[0], changes, resolver) if changes else ""

    def text(self, fields: list, changes: dict, resolver: Resolver) -> str:
        """`line` of ``changes`` (not empty) with their shown fields as `want` returned them."""
        context, kept_types = self.context, _KEPT_TYPES
        parts = []
        for name, label, plan, segments, read in fields:
            pair = changes[name]
            if isinstance(pair, (list, tuple)) and len(pair) == 2:  # noqa: UP038 (no union per row)
                old, new = pair
            else:
                old, new = None, pair
            pair_key = segment = None
            if segments is not None and type(old) in kept_types and type(new) in kept_types:
                pair_key = (type(old), old, type(new), new)
                segment = segments.get(pair_key)
            if read is not None:
                segment = (
                    f"{label}: {EMPTY if old is None else read(plan, old, resolver)}"
                    f" → {EMPTY if new is None else read(plan, new, resolver)}"
                )
            elif segment is None:
                # None, the most common old value (a record created), without a call.
                segment = (
                    f"{label}: {EMPTY if old is None else _value(plan, old, resolver, context)}"
                    f" → {EMPTY if new is None else _value(plan, new, resolver, context)}"
                )
                if pair_key is not None and len(segment) <= self.LONGEST:
                    self._keep(segments, pair_key, segment)
            parts.append(segment)
        text = "; ".join(parts)
        if "\n" in text or "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " ↵ ")
        return text

    MINUTES = 20_000  # minutes' texts kept at most

    def _name(self, plan: _FieldPlan, value: Any, resolver: Resolver) -> str:
        """`_value` of a relation's value: one id's name without the list `_read_related`
        makes of it (an id's name is never empty: at least ``#id``)."""
        if type(value) is int:
            return resolver.name(plan.related, value)
        return _value(plan, value, resolver, self.context)

    def _time(self, plan: _FieldPlan, value: Any, resolver: Resolver) -> str:
        """`_value` of a time field's value when the format shows minutes only: a stored ISO
        time's text looked up by its minute (as `_datetime` keys it), worked out once."""
        key = _minute_key(value) if type(value) is str else None
        if key is not None:
            text = self.minutes.get(key)
            if text is None:
                if len(self.minutes) >= self.MINUTES:
                    self.minutes.clear()
                context = self.context
                text = self.minutes[key] = _datetime_text(key, context.zone, context.language)
            return text
        return _value(plan, value, resolver, self.context)

    def _keep(self, segments: dict, pair_key: tuple, segment: str) -> None:
        if self.kept >= self.LIMIT:
            for kept in self.fields.values():
                kept.clear()
            self.kept = 0
        segments[pair_key] = segment
        self.kept += 1


def _order_and_name(item: tuple) -> tuple:
    return item[0], item[1]
