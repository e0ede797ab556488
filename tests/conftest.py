"""Shared fixtures: roles, users and the Kronoberg municipalities on the real PostgreSQL."""

import uuid

import pgtrigger
import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import get_resolver
from django.utils import translation

from audit import upstream
from policyflow.cache import cache_config
from tests.factories import (
    ContactFactory,
    leader_of,
    national_reader,
    reference_of,
    steering_of,
)
from workflows.defaults import ensure_defaults
from workflows.seeding import seed

get_resolver().url_patterns  # noqa: B018  (viewflow nodes reverse URLs: import the URLconf)


# The rows of the seeded database (table: PostgreSQL's binary COPY of its rows), taken once per
# session: what a transactional test's flush puts back.
_SEEDED_ROWS: dict[str, bytes] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the test database once per session: loading 290 municipalities per test is slow."""
    with django_db_blocker.unblock():
        seed(demo=False)
        _SEEDED_ROWS.update(_copy_out_seeded_rows())


def _copy_out_seeded_rows() -> dict[str, bytes]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        ):
            name = connection.ops.quote_name(table)
            with cursor.cursor.copy(f"COPY {name} TO STDOUT (FORMAT binary)") as copy:
                data = b"".join(bytes(chunk) for chunk in copy)
            if cursor.cursor.rowcount:
                rows[name] = data
    return rows


def _copy_in_seeded_rows(connection) -> None:
    """The seeded rows again, as they were (same keys): the database a worker's first test
    found. Foreign keys are checked at commit (Django's are deferrable), so order is free."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for table, data in _SEEDED_ROWS.items():
            with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)


@pytest.fixture(scope="session", autouse=True)
def _flush_past_truncate_triggers():
    """Transactional tests empty the database after themselves with `flush` (TRUNCATE), which
    the record's tables refuse (`audit.models.no_truncate`): lift those triggers for the flush's
    statements only, as the test runner's own business. Nothing else in a test truncates them.

    The flush then puts the seeded rows back (`_SEEDED_ROWS`, one COPY a table), so the next
    test finds the database every worker starts with, content types, permissions, roles and
    municipalities with the same keys, instead of seeding and recording it all again (seconds
    each time). pgtrigger installs the triggers again after the flush (its post_migrate
    receiver, as after the session's migrate): a session-wide switch-off of that receiver also
    left the session's own migrate without triggers (the fixture runs before the database is
    created), and the record's verification then found every append-only trigger missing."""
    from django.db import connection

    from audit.models import NO_TRUNCATE_TRIGGER

    uris = [
        f"{model._meta.label}:{trigger.name}"
        for model, trigger in pgtrigger.registered()
        if trigger.name == NO_TRUNCATE_TRIGGER
    ]
    operations = type(connection.ops)
    execute_sql_flush = operations.execute_sql_flush

    def flush_ignoring_truncate_triggers(self, sql_list):
        with upstream.ignoring_triggers(*uris, using=self.connection.alias):
            execute_sql_flush(self, sql_list)
        if _SEEDED_ROWS and self.connection.vendor == "postgresql":
            _copy_in_seeded_rows(self.connection)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "execute_sql_flush", flush_ignoring_truncate_triggers)
        yield


@pytest.fixture
def seeded(db):
    """The official municipality list and the roles, as `seed_kronoberg` creates them.

    Transactional tests flush the database after themselves; seed again when that happened.
    """
    from municipalities.models import Municipality

    if not Municipality.objects.exists() or not Group.objects.exists():
        seed(demo=False)


@pytest.fixture
def leader(seeded):
    """Pia, project leader of Kronoberg (07)."""
    return leader_of("07", username="pia", first_name="Pia", last_name="Projektledare")


@pytest.fixture
def steering(seeded):
    """Sven, steering group of Kronoberg (07)."""
    return steering_of("07", username="sven", first_name="Sven", last_name="Styrgrupp")


@pytest.fixture
def kalmar_leader(seeded):
    """Karl, project leader of Kalmar (08): must see nothing of Kronoberg."""
    return leader_of("08", username="karl", first_name="Karl", last_name="Kalmar")


@pytest.fixture
def reference(seeded):
    """Rut, reference group of Kronoberg (07): the overview and reports, no personal data."""
    return reference_of("07", username="rut", first_name="Rut", last_name="Referens")


@pytest.fixture
def national(seeded):
    """Nora, national reader: every county, read-only."""
    return national_reader(username="nora", first_name="Nora", last_name="Nationell")


@pytest.fixture
def vaxjo(seeded):
    from municipalities.models import Municipality

    return Municipality.objects.get(code="0780")


@pytest.fixture
def vaxjo_contact(vaxjo):
    return ContactFactory(municipality=vaxjo, name="Vera Växjö", email="vera@vaxjo.example")


@pytest.fixture
def leader_client(client, leader):
    client.force_login(leader)
    return client


@pytest.fixture(autouse=True)
def _a_cache_of_the_tests_own(settings):
    """Pages one test cached are never served to another: the public pages' cache keys name a
    data version (a count of writes), which another test can reach with other data (a test
    rolled back, or one on the other xdist worker: both share the Redis database)."""
    default = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"},
    }


@pytest.fixture
def shared_cache(settings):
    """The default cache on this machine's Redis, as production's is, whatever CACHE_URL says
    (unset, the tests' cache is per process): for what only a cache shared by every process
    does (`municipalities.access` keeps nothing in a per-process cache). Keys of the test's own."""
    redis_server = settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **cache_config(f"{redis_server}/13"),
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}",
        },
    }


@pytest.fixture(autouse=True)
def _site_language_between_tests():
    """Each test starts in the site's language (Swedish): a language one test activated (a
    request's middleware, a test's own `translation.activate`) must not write the next test's
    record in English on the same worker."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Put back the rows data migrations create (the default policy template, stage limits).

    Transactional tests flush the database after themselves, which removes those rows for
    the tests that run after them on the same worker.
    """
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_defaults()
