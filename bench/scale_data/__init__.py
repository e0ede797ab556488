"""Country-scale data for the benchmark (`manage.py generate_scale_data`): every municipality of
Sweden with years of policy processes, and a million audit events on valid hash chains (one per
municipality, anchored in a checkpoint).

Written with COPY in one transaction (PostgreSQL only), without `save()`: the history rows and
audit events the ORM would have written are written explicitly (see `simulate`). It needs a fresh
database (migrated, audit trail empty): the generated history lies in the past, and the audit
trail's times may never run backwards in chain order. A run is recorded in `scale_data_run`; the
same run again does nothing, another one is refused (history and the trail are append-only).
"""

from __future__ import annotations

import csv
import datetime
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.checkpoints import take_checkpoint
from audit.models import ActorKind, AuditEvent, Kind
from municipalities.models import County, Municipality
from municipalities.services import OFFICIAL_LIST
from workflows import stage_summary
from workflows.models import (
    CurrentProcess,
    MunicipalityStageReached,
    PolicyProcess,
    ProcessStageTime,
)
from workflows.seeding import PROJECT_LEADERS, STEERING_GROUP
from workflows.seeding import seed as seed_roles

from . import names
from .plan import STEERING_GROUP_SIZE, minimum_events_per_municipality, plan_country
from .rows import EventChain, Ids, Sink
from .simulate import Actor, Place, ProcessSim, User, World, writing_order

STAGE_SUMMARY_TABLES = (
    ProcessStageTime._meta.db_table,
    MunicipalityStageReached._meta.db_table,
    CurrentProcess._meta.db_table,
)

LEADERS = 4
MARKER_TABLE = "scale_data_run"
DIRECTORY_EVENTS = 21 + 290  # one per county and municipality of the official list


class ScaleDataError(Exception):
    """The database cannot take (more) scale data."""


@dataclass
class Result:
    created: bool
    events: int = 0
    processes: int = 0
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    message: str = ""


def _ensure_marker_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} ("
            "id serial PRIMARY KEY, seed integer NOT NULL, municipalities integer NOT NULL, "
            "events bigint NOT NULL, finished_at timestamptz NOT NULL, seconds double precision)"
        )


def previous_runs() -> list[tuple[int, int, int]]:
    """(seed, municipalities, events) of the scale data already in this database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
        if cursor.fetchone()[0] is None:
            return []
        cursor.execute(f"SELECT seed, municipalities, events FROM {MARKER_TABLE} ORDER BY id")  # noqa: S608
        return [tuple(row) for row in cursor.fetchall()]


def _check(*, municipalities: int, events: int, seed: int) -> Result | None:
    if connection.vendor != "postgresql":
        raise ScaleDataError(
            "generate_scale_data needs PostgreSQL (it writes with COPY); "
            f"this database is {connection.vendor}. Set DATABASE_URL to a PostgreSQL database."
        )
    if not 1 <= municipalities <= 290:
        raise ScaleDataError("--municipalities must be between 1 and 290.")
    floor = DIRECTORY_EVENTS + municipalities * minimum_events_per_municipality()
    if events < floor:
        raise ScaleDataError(
            f"--events must be at least {floor} for {municipalities} municipalities "
            "(contacts, one open and at least one closed process each)."
        )
    runs = previous_runs()
    if (seed, municipalities, events) in runs:
        return Result(created=False, message="This scale data is already in the database.")
    if runs:
        raise ScaleDataError(
            f"This database already holds other scale data {runs[0]} (seed, municipalities, "
            "events). History and the audit trail are append-only: use a fresh database."
        )
    if AuditEvent.objects.exists() or PolicyProcess.objects.exists():
        raise ScaleDataError(
            "generate_scale_data needs a fresh database (migrated, with an empty audit trail): "
            "it writes years of past history, and audit events may not be older than the ones "
            "already on the chain. Create one (createdb …; manage.py migrate) and run it there."
        )
    return None


def generate(
    *,
    municipalities: int,
    events: int,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Write exactly ``events`` audit events of country-scale data (see the module docstring)."""
    done = _check(municipalities=municipalities, events=events, seed=seed)
    if done is not None:
        return done
    started = time.monotonic()
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    plans = plan_country(
        municipalities=municipalities,
        events=events - DIRECTORY_EVENTS,
        seed=seed,
        now=now,
    )
    history_start = min(p.contacts_at for p in plans) - datetime.timedelta(days=30)
    rng = random.Random(seed + 1)
    with translation.override("sv"), transaction.atomic():
        _ensure_marker_table()
        sink = Sink(writing_order())
        ids = Ids()
        for model in writing_order():
            ids.register(model)
        chain = EventChain(sink[AuditEvent], ids)
        world = World(
            rng=rng, sink=sink, ids=ids, chain=chain, leaders=[], steering=[], places=[], now=now
        )
        all_places = _load_directory(world, history_start)
        if progress:
            progress(world.emitted)
        # Every county's project first (rows of the directory, as the counties are), so that the
        # roles' seeding finds Kronoberg's and writes no event outside the generator's ids.
        _county_projects()
        seed_roles(demo=False)  # the roles; the directory is complete, so this writes nothing else
        world.leaders, world.steering = _create_users(rng)
        world.places = _spread(all_places, municipalities)
        processes = _play(world, plans, progress)
        sink.flush(force=True)
        ids.reset_sequences()
        # The overview's summary of the stage history and each municipality's current process
        # are kept by a history signal, which COPY does not send: computed from the history and
        # processes just written, as `rebuild_stage_times` does.
        stage_summary.rebuild()
        stage_summary.rebuild_current()
        stage_summary.all_summaries_changed()
        chain.write_heads()
        take_checkpoint()
        if chain.count != events:
            raise AssertionError(f"wrote {chain.count} events, asked for {events}")
        seconds = time.monotonic() - started
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {MARKER_TABLE} (seed, municipalities, events, finished_at, seconds) "  # noqa: S608
                "VALUES (%s, %s, %s, now(), %s)",
                [seed, municipalities, events, seconds],
            )
    _analyze({*sink.written, *STAGE_SUMMARY_TABLES})
    return Result(
        created=True, events=chain.count, processes=processes, seconds=seconds, rows=sink.written
    )


def _analyze(tables) -> None:
    """The tables just filled as autovacuum leaves them in production: fresh planner statistics
    (until autovacuum gets to them the planner takes them for empty: a nested loop over 9,000
    processes turned the inbox's 40 ms query into 1.7 s), and on PostgreSQL, outside a
    transaction, vacuumed and frozen too. Without that, every run's copy of the data set the
    hint bits of a million rows in its first full read and wrote 90,000 pages back (the
    verification took 58 s of CPU at full size instead of 48), which no database that has run
    for a while does."""
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in sorted(tables):
            if vacuum:
                cursor.execute(f'VACUUM (FREEZE, ANALYZE) "{table}"')
            else:
                cursor.execute(f'ANALYZE "{table}"')


def _load_directory(world: World, when: datetime.datetime) -> list[Place]:
    """SCB's counties and municipalities, with their history and audit events (at ``when``)."""
    with OFFICIAL_LIST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    system = Actor(ActorKind.SYSTEM, label=_("PolicyFlow"))
    existing = {m.code: m for m in Municipality.objects.select_related("county")}
    if not existing:
        counties: dict[str, dict] = {}
        for row in rows:
            code = row["county_code"].strip()
            if code in counties:
                continue
            county = {"id": world.ids.take(County), "code": code}
            county["name"] = row["county_name"].strip()
            counties[code] = county
            world.sink[County].add(county)
            _directory_event(world, County, county, when, system, None)
        for row in rows:
            county = counties[row["county_code"].strip()]
            municipality = {
                "id": world.ids.take(Municipality),
                "code": row["municipality_code"].strip(),
                "name": row["municipality_name"].strip(),
                "county_id": county["id"],
            }
            world.sink[Municipality].add(municipality)
            place = Place(
                municipality["id"], municipality["name"], municipality["code"], county["code"], ""
            )
            _directory_event(world, Municipality, municipality, when, system, place)
        world.sink.flush(force=True)
        existing = {m.code: m for m in Municipality.objects.select_related("county")}
    return [
        Place(m.pk, m.name, m.code, m.county.code, names.ascii_slug(m.name))
        for m in sorted(existing.values(), key=lambda m: m.code)
    ]


def _directory_event(world, model, row, when, actor, place) -> None:
    label = f"{model._meta.verbose_name} {row['id']} {_('created')}"
    world.history(
        model, row, None, when=when, actor=actor, reason="", kind=Kind.RECORD_CREATED,
        summary=label, place=place, process=None,
    )  # fmt: skip


def _spread(places: list[Place], count: int) -> list[Place]:
    """``count`` municipalities spread over the whole list (so over every county)."""
    step = len(places) / count
    return [places[int(i * step)] for i in range(count)]


def _create_users(rng: random.Random) -> tuple[list[User], list[User]]:
    UserModel = get_user_model()
    people = []
    for role, count, prefix in [(PROJECT_LEADERS, LEADERS, "pl"), (STEERING_GROUP, 6, "sg")]:
        for number in range(count):
            first, last = names.person_name(rng)
            username = f"{prefix}{number + 1}.{names.ascii_slug(first)}"
            people.append((role, first, last, username))
    users = UserModel.objects.bulk_create(
        [
            UserModel(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@region.example",
                password=make_password(None),
            )
            for _role, first, last, username in people
        ]
    )
    groups = {g.name: g for g in Group.objects.filter(name__in=[PROJECT_LEADERS, STEERING_GROUP])}
    through = UserModel.groups.through
    through.objects.bulk_create(
        [
            through(user_id=user.pk, group_id=groups[role].pk)
            for user, (role, *_rest) in zip(users, people, strict=True)
        ]
    )
    _members_of_every_county(users, people)
    as_users = [User(u.pk, u.get_full_name(), u.email) for u in users]
    assert len(as_users) - LEADERS == STEERING_GROUP_SIZE
    return as_users[:LEADERS], as_users[LEADERS:]


def _county_projects() -> None:
    """A project for every county that has none (the country-scale project runs everywhere)."""
    from municipalities.models import County, CountyProject

    have = set(CountyProject.objects.values_list("county_id", flat=True))
    CountyProject.objects.bulk_create(
        [
            CountyProject(county=county, name=f"ASF i {county.name.removesuffix(' län')}")
            for county in County.objects.exclude(pk__in=have)
        ]
    )


def _members_of_every_county(users, people) -> None:
    """The country-scale project: every county has a project; the leaders lead every county and
    the steering group follows every county (roles per county: `municipalities.scoping`)."""
    from municipalities import access
    from municipalities.models import CountyProject, Membership

    _county_projects()
    role_of = {PROJECT_LEADERS: Membership.Role.LEADER, STEERING_GROUP: Membership.Role.STEERING}
    Membership.objects.bulk_create(
        [
            Membership(user_id=user.pk, project=project, role=role_of[role])
            for project in CountyProject.objects.all()
            for user, (role, *_rest) in zip(users, people, strict=True)
        ],
        ignore_conflicts=True,
    )
    # bulk_create sends no signals: the roles kept in the cache are read again.
    access.forget_everyone()


def _play(world: World, plans, progress) -> int:
    """Run every municipality's operations, all processes interleaved in time order."""
    entries = []
    counties = sorted({p.county_code for p in world.places})
    for municipality_plan in plans:
        place = world.places[municipality_plan.index]
        entries.append((municipality_plan.contacts_at, len(entries), municipality_plan, None))
        lead = world.leaders[counties.index(place.county_code) % len(world.leaders)]
        for process_plan in municipality_plan.processes:
            sim = ProcessSim(world, place, lead, process_plan.approvers, len(process_plan.ops))
            for op in process_plan.ops:
                entries.append((op.at, len(entries), sim, op))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    count = 0
    for at, _order, target, op in entries:
        before = world.emitted
        if op is None:
            world.add_contacts(world.places[target.index], target.contacts, at)
        else:
            if op.kind == "start":
                count += 1
            target.run(op)
        world.sink.flush()
        if progress:
            progress(world.emitted - before)
    return count
