"""django-simple-history's `HistoricalRecords`, with many-to-many history written more cheaply.

Models whose many-to-many fields are recorded (``m2m_fields``) use this class instead of
simple-history's. The rows written are the same.
"""

from django.db import migrations
from simple_history.models import HistoricalRecords as _HistoricalRecords
from simple_history.signals import (
    post_create_historical_m2m_records,
    pre_create_historical_m2m_records,
)
from simple_history.utils import get_m2m_field_name


class HistoricalRecords(_HistoricalRecords):
    def create_historical_record_m2ms(self, history_instance, instance):
        """Copy ``instance``'s current links into the history, as simple-history does, but
        read as plain ids (kept on the history row for its audit event): simple-history joins
        every link to both related rows (the whole process and contact) and rebuilds the
        instance from its history row to find the through model, which cost more than the two
        statements it runs."""
        for field in history_instance._history_m2m_fields:
            m2m_history_model = self.m2m_models[field]
            through_model = field.remote_field.through
            attnames = [f.attname for f in through_model._meta.fields]
            links = through_model._default_manager.filter(
                **{get_m2m_field_name(field): instance}
            ).values_list(*attnames)
            insert_rows = [
                m2m_history_model(
                    history=history_instance, **dict(zip(attnames, link, strict=True))
                )
                for link in links
            ]
            pre_create_historical_m2m_records.send(
                sender=m2m_history_model,
                rows=insert_rows,
                history_instance=history_instance,
                instance=instance,
                field=field,
            )
            created_rows = m2m_history_model.objects.bulk_create(insert_rows)
            # The related ids just recorded, for the audit event's change (`audit.recording`).
            target = f"{field.m2m_reverse_field_name()}_id"
            if not hasattr(history_instance, "_m2m_ids"):
                history_instance._m2m_ids = {}
            history_instance._m2m_ids[field.name] = sorted(
                getattr(row, target) for row in created_rows
            )
            # And the rows themselves, for the digest binding them to the event (`audit.binding`).
            if not hasattr(history_instance, "_m2m_rows"):
                history_instance._m2m_rows = {}
            history_instance._m2m_rows[m2m_history_model._meta.db_table] = created_rows
            post_create_historical_m2m_records.send(
                sender=m2m_history_model,
                created_rows=created_rows,
                history_instance=history_instance,
                instance=instance,
                field=field,
            )


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
