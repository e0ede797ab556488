"""Append-only on SQLite: the registered pgtrigger `Protect` triggers, as SQLite triggers.

pgtrigger installs its triggers on PostgreSQL only, so on the SQLite quick start a plain UPDATE
of an audit event or a history row used to succeed. After every `migrate` (which on SQLite
rebuilds a table to alter it, dropping its triggers) this module creates, for each registered
`Protect` trigger, a row-level SQLite trigger that raises the same message as pgtrigger's.
TRUNCATE does not exist in SQLite (a DELETE without WHERE fires the DELETE trigger).

Lifting a trigger works as on PostgreSQL, with `pgtrigger.ignore(uri)`: the trigger's WHEN
clause asks a function that each Django connection registers (`pf_trigger_ignored`), which reads
pgtrigger's own per-thread ignore state. A program that is not PolicyFlow (the sqlite3 shell)
has no such function, so its UPDATE or DELETE fails too. Whoever edits the file anyway has to
drop a trigger first: `missing()` sees it, and `verify_audit` reports it.
"""

from __future__ import annotations

import logging

import pgtrigger
from django.db import connections
from pgtrigger import registry

logger = logging.getLogger(__name__)

IGNORED_FUNCTION = "pf_trigger_ignored"


# pgtrigger internals, read here and nowhere else (django-pgtrigger 4.17; pinned in uv.lock):
# - `pgtrigger.runtime._ignore`, the thread-local whose `value` is the set of trigger pgids that
#   `pgtrigger.ignore()` lifts (upstream pgtrigger/runtime.py, read there by
#   `_inject_pgtrigger_ignore`, which sends it to PostgreSQL as `pgtrigger.ignore`);
# - `_Change._negated` and `_Change.comparison` of a condition (upstream pgtrigger/core.py,
#   class `_Change`, the base of `AnyChange`; `~condition` sets `_negated`).
# pgtrigger has no public API for either. tests/audit/test_sqlite_triggers.py checks that they
# still exist and mean this; tests/policyflow/test_sqlite_default.py checks, on SQLite with the
# triggers installed, that a pseudonymisation (inside `pgtrigger.ignore`) rewrites history and
# `verify_audit` still passes.


def _is_ignored(pgid: str) -> int:
    from pgtrigger.runtime import _ignore

    return int(pgid in getattr(_ignore, "value", ()))


def register_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: give each SQLite connection the triggers' function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(IGNORED_FUNCTION, 1, _is_ignored)


def _condition(model, condition) -> str:
    """A pgtrigger condition as SQLite SQL (only the kinds PolicyFlow uses)."""
    if condition is None:
        return ""
    if (
        type(condition) is not pgtrigger.AnyChange
        or condition._negated
        or condition.comparison != "df"
        or condition.exclude_auto
        or condition.all
    ):
        raise NotImplementedError(f"No SQLite form for the trigger condition {condition!r}")
    excluded = set(condition.exclude)
    names = condition.fields or [f.name for f in model._meta.concrete_fields]
    columns = sorted(model._meta.get_field(name).column for name in names if name not in excluded)
    changed = " OR ".join(f'OLD."{column}" IS NOT NEW."{column}"' for column in columns)
    return f" AND ({changed})"


def expected_triggers() -> dict[str, tuple[str, str]]:
    """{trigger name: (table, CREATE TRIGGER statement)} for every registered Protect trigger,
    one per SQLite operation (UPDATE, DELETE)."""
    triggers = {}
    for model, trigger in registry.registered():
        if not isinstance(trigger, pgtrigger.Protect):
            continue
        pgid = trigger.get_pgid(model)
        table = model._meta.db_table
        for operation in trigger.operation:
            if str(operation) not in ("UPDATE", "DELETE"):
                continue  # TRUNCATE: SQLite has none
            name = f"{pgid}_{str(operation).lower()}"
            action = "update" if str(operation) == "UPDATE" else "delete"
            when = f"NOT {IGNORED_FUNCTION}('{pgid}')"
            if str(operation) == "UPDATE":
                when += _condition(model, trigger.condition)
            triggers[name] = (
                table,
                # Fixed names from the model registry.
                f'CREATE TRIGGER "{name}" BEFORE {operation} ON "{table}" '  # noqa: S608
                f"FOR EACH ROW WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, 'pgtrigger: Cannot {action} rows from {table} "
                f"table'); END",
            )
    return triggers


def _installed(cursor) -> dict[str, str]:
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    return dict(cursor.fetchall())


def install(using: str = "default") -> int:
    """Create the triggers that are missing or differ; return how many were (re)created."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return 0
    created = 0
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        installed = _installed(cursor)
        for name, (table, sql) in expected_triggers().items():
            if table not in tables or installed.get(name) == sql:
                continue
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            cursor.execute(sql)
            created += 1
    if created:
        logger.info("%s append-only triggers installed (SQLite).", created)
    return created


def install_on_migrate(sender, using, **kwargs) -> None:
    """`post_migrate` receiver. AUDIT_SQLITE_TRIGGERS = False leaves them out: only for test
    databases that transactional tests empty with DELETE (PostgreSQL's TRUNCATE passes the
    row triggers)."""
    from django.conf import settings

    if getattr(settings, "AUDIT_SQLITE_TRIGGERS", True):
        install(using)


def missing(using: str = "default") -> list[str]:
    """The append-only triggers that are not installed as PolicyFlow would install them."""
    connection = connections[using]
    with connection.cursor() as cursor:
        installed = _installed(cursor)
    return sorted(
        f"{table}:{name}"
        for name, (table, sql) in expected_triggers().items()
        if installed.get(name) != sql
    )
