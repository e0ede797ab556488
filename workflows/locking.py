"""The flow's lock: a step holds its process's row (SELECT … FOR UPDATE) until its transaction
ends, so that a step completed twice at once completes once, and the audit events of the locked
work are written together (`audit.services.appended_together`).

It is viewflow's `SelectForUpdateLock` (waiting, not failing, for the holder) with the events
batched; `lock_for_update` lets a query that loads the process take the same lock itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet

from audit.services import appended_together


def lock_for_update(queryset: QuerySet) -> QuerySet:
    """``queryset`` (of the flow's process model) taking the flow's lock on the rows it reads:
    the process's own row, as `ProcessLock` locks it."""
    return queryset.select_for_update(of=("self",))


class ProcessLock:
    """`Flow.lock_impl`: ``with flow_class.lock(process_pk):`` runs in a transaction holding the
    process's row, with its audit events appended together."""

    @contextmanager
    def __call__(self, flow_class, process_pk) -> Iterator[None]:
        with transaction.atomic():
            lock_for_update(
                flow_class.process_class._default_manager.filter(pk=process_pk)
            ).exists()
            with appended_together():
                yield
