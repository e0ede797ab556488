"""audit.sqlite reads pgtrigger internals (no public API offers them): they must still exist
and mean what the SQLite triggers take them to mean. A pgtrigger upgrade that renames them fails
here, not as triggers that can no longer be lifted (or never fire) on the SQLite default."""

import pgtrigger
import pytest
from pgtrigger import registry

from audit import sqlite
from audit.models import AuditEvent

APPEND_ONLY = "audit.AuditEvent:append_only"


def append_only_pgid() -> str:
    (trigger,) = [
        t for m, t in registry.registered() if m is AuditEvent and t.name == "append_only"
    ]
    return trigger.get_pgid(AuditEvent)


def test_pgtrigger_ignore_is_what_the_sqlite_triggers_ask_about():
    pgid = append_only_pgid()

    assert sqlite._is_ignored(pgid) == 0
    with pgtrigger.ignore(APPEND_ONLY):
        assert sqlite._is_ignored(pgid) == 1
    assert sqlite._is_ignored(pgid) == 0


def test_an_any_change_condition_becomes_a_sqlite_when_clause():
    condition = pgtrigger.AnyChange(exclude=["personal", "pseudonymised_at"])

    clause = sqlite._condition(AuditEvent, condition)

    assert 'OLD."summary" IS NOT NEW."summary"' in clause
    assert '"personal"' not in clause


@pytest.mark.parametrize(
    "condition",
    [
        ~pgtrigger.AnyChange(),  # read through `_negated`
        pgtrigger.AnyDontChange(),  # read through `comparison`
        pgtrigger.AllChange(),
    ],
    ids=["negated", "dont-change", "all-change"],
)
def test_a_condition_without_a_sqlite_form_is_refused(condition):
    with pytest.raises(NotImplementedError):
        sqlite._condition(AuditEvent, condition)
