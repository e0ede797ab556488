"""How other apps tell the audit trail what their history records mean (`audit` imports none).

An app calls `register(Model, describe=..., personal_fields=...)` from its AppConfig.ready() for
each audited model, and the project sets one `Directory` (places and people) with
`set_directory`. Unregistered audited models are still recorded, with generic kinds.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Person:
    """A person without an account (a municipal contact) whose data can be pseudonymised."""

    name: str
    email: str = ""


@dataclass(frozen=True)
class Place:
    municipality_name: str
    county_code: str


@dataclass
class Change:
    """What `describe` callables receive: one historical record and what it changed."""

    record: Any
    previous: Any | None
    changes: dict[str, tuple[Any, Any]]
    memo: dict

    @property
    def history_type(self) -> str:
        return self.record.history_type

    @property
    def is_created(self) -> bool:
        return self.record.history_type == "+"

    @property
    def is_deleted(self) -> bool:
        return self.record.history_type == "-"

    def became(self, name: str, value: Any = None) -> bool:
        """Whether ``name`` changed in this record (to ``value`` if one is given)."""
        if name not in self.changes:
            return False
        return value is None or self.changes[name][1] == value

    def was_set(self, name: str) -> bool:
        """Whether ``name`` went from empty to a value in this record."""
        if name not in self.changes:
            return False
        old, new = self.changes[name]
        return not old and bool(new)


@dataclass
class Description:
    """What a registered model says about one of its history records; empty fields are derived."""

    kind: str | None = None
    summary: str | None = None
    process_id: int | None = None
    municipality_id: int | None = None
    # For records of a whole county (its project, who has a role in it): the trail's county filter.
    county_code: str | None = None
    stage: str | None = None
    actor_user_id: int | None = None
    # A person without an account acted (e.g. a contact through a task link).
    actor_person_id: int | None = None
    # People the record mentions: their names and emails are kept apart (pseudonymisable).
    people: dict[int, Person] = field(default_factory=dict)


Describe = Callable[[Change], Description | None]


# Compared by identity (a model's manager equals another model's plain manager): the trail
# keeps each one's query (`readable._name_query`).
@dataclass(frozen=True, eq=False)
class NameRows:
    """How rows of a model are named, as a query the trail reads together with the other
    models' names (a page's names in one statement, a UNION ALL, not one query per model):
    ``rows``, the model's rows (a manager or queryset: the trail keeps to the ids it needs);
    ``texts``, one to three of their columns (names or expressions) as text; ``name(*texts)``,
    the name people read."""

    rows: Any
    texts: tuple
    name: Callable[..., str]


@dataclass(frozen=True)
class ModelSpec:
    describe: Describe | None = None
    # Fields holding personal data: their old → new values go to the event's personal part.
    personal_fields: frozenset[str] = frozenset()
    # Fields never copied into an event (bulky or secret).
    hidden_fields: frozenset[str] = frozenset()
    # Whether its texts may name contact persons (their names are then looked up and kept apart).
    mentions_people: bool = True
    # How rows of the model are named where a change points at them (ids → names, one query;
    # or `NameRows`, read with the other models' names in one statement): the timeline shows
    # "Pia Projektledare", not "recorded_by 1". Default: `audit.readable`.
    names: Callable[[Iterable], dict] | NameRows | None = None
    # Fields that are the software's bookkeeping (a workflow engine's token, its node type):
    # recorded and exported as machine values, not listed among the changes people read.
    internal_fields: frozenset[str] = frozenset()
    # Whether the events of a record of no county and no place (a policy template, a stage limit)
    # are shared with every reader of the trail. False for one person's own things (an API token,
    # a calendar address): only those who read every county see them.
    shared: bool = True


class Directory(Protocol):
    """Places and people, provided by the project (it knows the municipality and contact models)."""

    person_model: Any

    def place(self, municipality_id: int, memo: dict) -> Place | None:
        """The municipality's name and county code."""

    def people(self, municipality_id: int, memo: dict) -> dict[int, Person]:
        """Every contact person of the municipality, by primary key."""

    def places(self) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
        """For the timeline filters: (code, name) of every county, by code, and (id, name,
        county code) of every municipality, by name."""

    def stage_label(self, code: str) -> str:
        """How a stage code reads (translated)."""

    def person(self, pk: int) -> Any:
        """The person model instance (raises its DoesNotExist)."""

    def person_names(self, person: Any) -> list[Person]:
        """Every name and email the person has had (live and history), newest first."""

    def personal_records(self, person: Any) -> dict[str, list[dict]]:
        """Everything stored about the person in the live data and history, for a GDPR export."""

    def pseudonymise_person(self, person: Any, pseudonym: Person) -> None:
        """Replace the person's own fields (live row and its history rows) with the pseudonym."""


_models: dict[type, ModelSpec] = {}
_directory: Directory | None = None


def register(
    model: type,
    *,
    describe: Describe | None = None,
    personal_fields: Iterable[str] = (),
    hidden_fields: Iterable[str] = (),
    mentions_people: bool = True,
    names: Callable[[Iterable], dict] | NameRows | None = None,
    internal_fields: Iterable[str] = (),
    shared: bool = True,
) -> None:
    """Say what ``model``'s history records mean (the audited model, not its history model)."""
    _models[model] = ModelSpec(
        describe,
        frozenset(personal_fields),
        frozenset(hidden_fields),
        mentions_people,
        names,
        frozenset(internal_fields),
        shared,
    )


def unshared_labels() -> list[str]:
    """The model labels (``app.model``) whose county-less events are not shared (``shared``)."""
    return [model._meta.label_lower for model, spec in _models.items() if not spec.shared]


def spec_for(model: type) -> ModelSpec:
    for klass in model.__mro__:
        if klass in _models:
            return _models[klass]
    return ModelSpec()


def set_directory(directory: Directory) -> None:
    global _directory
    _directory = directory


def directory() -> Directory | None:
    return _directory


def json_safe(value: Any) -> Any:
    """A value as it is stored in the events' JSON (dates as ISO text, decimals as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)  # floats as text: their JSON round trip is not exact everywhere
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile
        return value.name or ""
    return str(value)


@dataclass(frozen=True)
class Attachment:
    """A file the archive export holds beside the events (e.g. a decision's minutes)."""

    name: str  # its path inside the archive
    open: Callable[[], Any]  # opens it for binary reading
    meta: dict


# Callables that, given the exported events (a queryset), yield the files those events are about.
_attachment_sources: list[Callable[[Any], Iterable[Attachment]]] = []


def register_attachments(source: Callable[[Any], Iterable[Attachment]]) -> None:
    if source not in _attachment_sources:
        _attachment_sources.append(source)


def attachments(events) -> Iterator[Attachment]:
    for source in _attachment_sources:
        yield from source(events)
