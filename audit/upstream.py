"""The two attributes of django-simple-history (3.13) that the audit app reads and that the
library does not document; nothing else of its internals is used (the rest: its signals,
`prev_record`, `HistoricalChanges`, `history_user`, `history_change_reason`).

- `simple_history/models.py`, `HistoricalRecords.create_history_model`: the history model's
  `_history_m2m_fields` lists the many-to-many fields recorded with it (`m2m_fields=`); the
  signal `post_create_historical_m2m_records` says which rows were written, not which fields a
  record has when none were linked.
- `simple_history/models.py`, `HistoricalRecords.finalize`: the audited model's
  `_meta.simple_history_manager_attribute` names its history manager: the way to tell an audited
  model from any other (`registry`-free, for the pseudonymisation's rewrite of every table).

`tests/audit/test_upstream.py` fails the day either changes: re-read the code named above when
upgrading django-simple-history.
"""

from __future__ import annotations


def recorded_m2m_fields(record) -> list:
    """The many-to-many fields a history record (or its model) records."""
    return list(getattr(record, "_history_m2m_fields", None) or [])


def is_audited(model) -> bool:
    """Whether ``model`` keeps a django-simple-history history."""
    return hasattr(model._meta, "simple_history_manager_attribute")
