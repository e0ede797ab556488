"""Every read of the audit trail: the timeline (keyset-paginated), the chain's state, choices for
the filters, and the events about one contact person.

`timeline` runs one query for a page whatever the table's size (plus one per date bound, which
turns the date into an id bound through the time index): newest first, ordered by id, which is
the chain's order.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import registry
from .conf import setting
from .models import AuditCheckpoint, AuditEvent, AuditVerification, Kind
from .personal import expand, expand_value
from .readable import Resolver, readable_changes, reading_context, user_names

MAX_LIMIT = 500


@dataclass(frozen=True)
class TimelinePage:
    events: list[AuditEvent]
    # Pass as after_id for the next (older) page; None on the last page.
    next_after_id: int | None


def _as_datetime(value, *, end: bool = False) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    # A date bound covers the whole day, in the site's time zone.
    day = value + datetime.timedelta(days=1) if end else value
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _first_id_from(moment: datetime.datetime) -> int | None:
    return (
        AuditEvent.objects.filter(occurred_at__gte=moment)
        .order_by("occurred_at", "id")
        .values_list("id", flat=True)
        .first()
    )


def _pk(value) -> int | None:
    return getattr(value, "pk", value)


def filtered_events(
    *,
    county: str | None = None,
    counties: Iterable[str] | None = None,
    municipality=None,
    process=None,
    actor=None,
    kinds: Iterable[str] | None = None,
    since: datetime.date | datetime.datetime | None = None,
    until: datetime.date | datetime.datetime | None = None,
) -> QuerySet | None:
    """The events matching the filters, newest first (None: nothing can match).

    ``since`` is inclusive, ``until`` exclusive for a datetime and inclusive for a date (the
    whole day). Event times never run backwards in a chain's id order, so date bounds become id
    bounds (exact within a chain; across chains, an event written in parallel with another, in
    the moment a transaction takes around a bound, may fall on the other side of it).
    """
    qs = AuditEvent.objects.all()
    if counties is not None:
        # The reader's counties only (AUDIT_COUNTY_SCOPE), and what belongs to no county and no
        # place (a changed policy template or stage limit, a sign-in lock: shared settings), but
        # not one person's own things (their API tokens, calendar address: registry `shared`).
        qs = qs.filter(
            Q(county_code__in=list(counties))
            | (
                Q(county_code="", municipality_id__isnull=True, process_id__isnull=True)
                & ~Q(model_label__in=registry.unshared_labels())
            )
        )
    if county:
        qs = qs.filter(county_code=county)
    if municipality is not None:
        qs = qs.filter(municipality_id=_pk(municipality))
    if process is not None:
        qs = qs.filter(process_id=_pk(process))
    if actor is not None:
        qs = qs.filter(actor_user_id=_pk(actor))
    kinds = [k for k in (kinds or []) if k]
    if kinds:
        qs = qs.filter(kind__in=kinds)
    if since is not None:
        first = _first_id_from(_as_datetime(since))
        if first is None:
            return None
        qs = qs.filter(id__gte=first)
    if until is not None:
        beyond = _first_id_from(_as_datetime(until, end=True))
        if beyond is not None:
            qs = qs.filter(id__lt=beyond)
    return qs.order_by("-id")


def timeline(
    *,
    county: str | None = None,
    counties: Iterable[str] | None = None,
    municipality=None,
    process=None,
    actor=None,
    kinds: Iterable[str] | None = None,
    since=None,
    until=None,
    after_id: int | None = None,
    limit: int = 50,
    fields: Iterable[str] | None = None,
) -> TimelinePage:
    """One page of events, newest first; the next page starts after ``next_after_id``.
    ``fields``: only these columns (a reader of a few, e.g. the process page's history, which
    would otherwise decode every event's changes, draft texts included)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    kinds = [k for k in (kinds or []) if k]
    qs = filtered_events(
        county=county,
        counties=counties,
        municipality=municipality,
        process=process,
        actor=actor,
        kinds=kinds,
        since=since,
        until=until,
    )
    if qs is None:
        return TimelinePage([], None)
    if not kinds:
        # Bookkeeping is in the chain and the exports; a page shows it when asked by kind.
        qs = qs.exclude(kind=Kind.RECORD_TOUCHED)
    if after_id is not None:
        qs = qs.filter(id__lt=after_id)
    if fields is not None:
        qs = qs.only(*fields)
    events = list(qs[: limit + 1])
    has_more = len(events) > limit
    events = events[:limit]
    return TimelinePage(events, events[-1].id if has_more and events else None)


def _stage_label(code: str) -> str:
    directory = registry.directory()
    return directory.stage_label(code) if directory and code else code


def display_events(events: Iterable[AuditEvent]) -> list[dict]:
    """A page of events as people read them (`display`), the names behind the ids in its
    changes looked up together: one query per related model for the whole page; the language
    and time zone their values read in, and each stage's label, worked out once for the page."""
    events = list(events)
    resolver = Resolver()
    for event in events:
        resolver.want(event.model_label, event.changes)
    resolver.fetch_all()
    context = reading_context()
    stages: dict[str, str] = {}
    return [display(event, resolver=resolver, context=context, stages=stages) for event in events]


# What each kind reads as (lazy: translated when shown), looked up per event in a dict.
_KIND_LABELS = dict(Kind.choices)


def kind_label(kind: str) -> str:
    """The kind in words (the stored value itself for a kind this version does not know)."""
    return _KIND_LABELS.get(kind, kind)


def display(
    event: AuditEvent,
    *,
    resolver: Resolver | None = None,
    context=None,
    stages: dict[str, str] | None = None,
) -> dict:
    """An event as people read it: placeholders replaced by the names they stand for, and
    each change with its field's label and its values in words (`audit.readable`).

    For many events (`display_events`): ``context``, the language and time zone
    (`readable.reading_context`), and ``stages``, the stage labels worked out so far."""
    personal = event.personal
    changes = expand_value(event.changes, personal)
    stages = {} if stages is None else stages
    stage = stages.get(event.stage)
    if stage is None:
        stage = stages[event.stage] = _stage_label(event.stage)
    return {
        "id": event.id,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "kind": event.kind,
        "kind_label": kind_label(event.kind),
        "actor": expand(event.actor_label, personal),
        "actor_kind": event.actor_kind,
        "municipality": event.municipality_name,
        "county_code": event.county_code,
        "stage": stage,
        "process_id": event.process_id,
        "summary": expand(event.summary, personal),
        "reason": expand(event.reason, personal),
        "changes": changes,
        "readable_changes": readable_changes(
            event.model_label, changes, resolver or Resolver(), context
        ),
        "personal_changes": (personal or {}).get("changes", {}),
        "record": f"{event.model_label}:{event.object_id}",
        "is_pseudonymised": event.pseudonymised_at is not None,
    }


# --- The chain's state ------------------------------------------------------------------------


def data_version(counties: Iterable[str] | None = None) -> str:
    """A value that changes with every write PolicyFlow makes in ``counties`` (county codes;
    None: in every county), every write that belongs to no municipality, every checkpoint and
    every verification of the audit chain ("0.0.0" before the first).

    Every write appends an audit event in its own transaction, moving its chain's head on, so
    the sum of the chains' lengths grows with every commit: a change counter (the newest event's
    id is not, now that chains commit in parallel: a lower id may commit after a higher one).
    Each municipality's head names its county (`ChainHead.county_code`), so a page of Kronoberg
    stays as it was while Skåne writes; the project-wide chain's head names none and counts for
    every county. The newest checkpoint's and verification's numbers say whether the trail's
    status changed. One query over the chain heads (one row per municipality).
    """
    where, params = "", []
    if counties is not None:
        codes = sorted(set(counties))
        where = " WHERE county_code = ''"
        if codes:
            where += f" OR county_code IN ({', '.join(['%s'] * len(codes))})"
            params = codes
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT sum(seq) FROM audit_chainhead{where}),"  # noqa: S608 (placeholders)
            " (SELECT max(seq) FROM audit_auditcheckpoint),"
            " (SELECT max(id) FROM audit_auditverification)",
            params,
        )
        events, checkpoint, verification = cursor.fetchone()
    return f"{events or 0}.{checkpoint or 0}.{verification or 0}"


@dataclass(frozen=True)
class ChainStatus:
    # The latest checkpoint: every chain's head, the head published outside the database.
    head: AuditCheckpoint | None
    last_verification: AuditVerification | None
    last_success: AuditVerification | None

    @property
    def is_verified_up_to_head(self) -> bool:
        v = self.last_verification
        return bool(v and v.is_ok and self.head and v.head_seq == self.head.seq)


def chain_status() -> ChainStatus:
    """The latest checkpoint and verification (2 queries; 3 after a failed verification), for
    the steering group's page."""
    head = AuditCheckpoint.objects.order_by("-seq").defer("heads").first()
    last = AuditVerification.objects.order_by("-id").first()
    if last is None or last.is_ok:  # never verified, or the latest is the latest success
        last_ok = last
    else:
        last_ok = AuditVerification.objects.filter(is_ok=True).order_by("-id").first()
    return ChainStatus(head=head, last_verification=last, last_success=last_ok)


# --- Filter choices ---------------------------------------------------------------------------


def place_choices(
    county_code: str | None = None, *, within: Iterable[str] | None = None
) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(code, name) of every county, and (id, name) of the municipalities of one county, or of
    all (of the ``within`` codes), by name: the timeline filter's places, in one read."""
    directory = registry.directory()
    if directory is None:
        return [], []
    counties, municipalities = directory.places()
    if county_code:
        return counties, [(pk, name) for pk, name, code in municipalities if code == county_code]
    if within is None:
        return counties, [(pk, name) for pk, name, _code in municipalities]
    within = set(within)
    # All of the reader's counties, as Python orders their names.
    rows = sorted(
        ((pk, name) for pk, name, code in municipalities if code in within), key=lambda row: row[1]
    )
    return counties, rows


def kind_choices() -> list[tuple[str, str]]:
    return list(Kind.choices)


def actor_choices(county_codes=None) -> list[tuple[int, str]]:
    """Users who may act: anyone with an account who is active; of the counties
    ``county_codes`` only (None: every county), as the project's directory knows their people
    (a reader of one county is not shown another county's staff)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._default_manager.order_by("first_name", "last_name", "username")
    users = users.filter(is_active=True)
    directory = registry.directory()
    if county_codes is not None and hasattr(directory, "user_ids_in_counties"):
        users = users.filter(pk__in=directory.user_ids_in_counties(list(county_codes)))
    return user_names(users)  # as the trail names them (`readable.names_of`)


# --- Personal data ----------------------------------------------------------------------------


def events_about_person(person_pk: int) -> QuerySet:
    """Events whose personal part names the person (pseudonymised ones included)."""
    return AuditEvent.objects.filter(personal__people__has_key=str(person_pk)).order_by("id")


def search_people(query: str, *, limit: int = 50) -> list:
    directory = registry.directory()
    if directory is None or not query.strip():
        return []
    model = directory.person_model
    from django.db.models import Q

    condition = Q(name__icontains=query.strip()) | Q(email__icontains=query.strip())
    return list(model._default_manager.filter(condition).order_by("name", "pk")[:limit])


def process_readable(pk: int, counties, *, version: str, also: str) -> tuple[bool, object]:
    """Whether a reader of ``counties`` (None: every county) may read process ``pk``'s trail:
    some of its events are in their counties (any event at all for a reader of every county).
    The county codes its events carry are kept in the cache under the data version ``version``:
    they change only with a new event, which is a new version, so the answer is never stale.
    Read in one round trip with the cache key ``also`` (the caller's own entry, e.g. the kept
    download): returns (readable, what ``also`` holds or None)."""
    key = f"audit:process-counties:{version}:{pk}"
    found = cache.get_many([key, also])
    codes = found.get(key)
    if codes is None:
        codes = sorted(
            AuditEvent.objects.filter(process_id=pk)
            .order_by()
            .values_list("county_code", flat=True)
            .distinct(),
            key=str,
        )
        cache.set(key, codes, setting("PAGE_CACHE_SECONDS"))
    readable = bool(codes) and (counties is None or bool(set(codes) & set(counties)))
    return readable, found.get(also)
