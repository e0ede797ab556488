"""A migration operation for the history tables of django-simple-history."""

from django.db import migrations


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
