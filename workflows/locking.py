"""The flow's lock: a step holds its process's row (SELECT … FOR UPDATE) until its transaction
ends, so that a step completed twice at once completes once. It is taken before the step's first
audited write, as the audit chains ask (`audit.chain.lock_head`).

It is viewflow's `SelectForUpdateLock` (waiting, not failing, for the holder);
`lock_for_update` lets a query that loads the process take the same lock itself.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import QuerySet


def lock_for_update(queryset: QuerySet) -> QuerySet:
    """``queryset`` (of the flow's process model) taking the flow's lock on the rows it reads:
    the process's own row, as `ProcessLock` locks it."""
    return queryset.select_for_update(of=("self",))


class ProcessLock:
    """`Flow.lock_impl`: ``with flow_class.lock(process_pk):`` runs in a transaction holding the
    process's row."""

    @contextmanager
    def __call__(self, flow_class, process_pk) -> Iterator[None]:
        with transaction.atomic():
            lock_for_update(
                flow_class.process_class._default_manager.filter(pk=process_pk)
            ).exists()
            yield
