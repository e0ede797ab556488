"""Helpers for the history tables of django-simple-history: a migration operation for their
lookup index, and a history manager whose class is built once."""

import functools

from django.db import migrations
from simple_history.manager import HistoryManager


def object_history_index(table: str, object_column: str) -> migrations.RunSQL:
    """A migration operation: an index on a history table's (object id, history_date).

    The previous record of an object (simple-history's `prev_record`, the change an audit event
    shows) is the object's latest record before a date; with only simple-history's separate
    indexes on the id and on the date, PostgreSQL read and sorted every record of the object
    (a process's history grows with each step). The index is a database detail Django's model
    state need not know, hence SQL.
    """
    name = f"{table}_{object_column}_date"[:63]
    return migrations.RunSQL(
        sql=f'CREATE INDEX "{name}" ON "{table}" ("{object_column}", "history_date")',
        reverse_sql=f'DROP INDEX "{name}"',
    )


class OnceBuiltHistoryManager(HistoryManager):
    """simple-history's history manager, for `HistoricalRecords(history_manager=...)` (its
    documented option), with its class built once per queryset class.

    simple-history hands out `Model.history` by building the manager's class anew on every
    access (Django's `Manager.from_queryset`, which walks every method of the queryset class:
    ~80 µs), and a save reads it twice: to write the history record, and for that record's
    `prev_record`, which the audit event's change compares with. The class built is the same
    each time, so it is built once.
    """

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)
