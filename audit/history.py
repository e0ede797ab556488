"""django-simple-history's `HistoricalRecords`, with many-to-many history written more cheaply.

Models whose many-to-many fields are recorded (``m2m_fields``) use this class instead of
simple-history's. The rows written are the same.
"""

from simple_history.models import HistoricalRecords as _HistoricalRecords
from simple_history.signals import (
    post_create_historical_m2m_records,
    pre_create_historical_m2m_records,
)
from simple_history.utils import get_m2m_field_name


class HistoricalRecords(_HistoricalRecords):
    def create_historical_record_m2ms(self, history_instance, instance):
        """Copy ``instance``'s current links into the history, as simple-history does, but
        read as plain ids: simple-history joins every link to both related rows (the whole
        process and contact) and rebuilds the instance from its history row to find the
        through model, which cost more than the two statements it runs."""
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
            post_create_historical_m2m_records.send(
                sender=m2m_history_model,
                created_rows=created_rows,
                history_instance=history_instance,
                instance=instance,
                field=field,
            )
