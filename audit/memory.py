"""Python's cyclic garbage collector paused around long passes over rows that form no cycles."""

import contextlib
import gc


@contextlib.contextmanager
def cycle_collector_paused():
    """The cyclic collector off for the block (and in processes forked meanwhile), as it was
    after it.

    For passes over a million rows (the CSV export, the full verification): each row's objects
    are freed by reference counting as soon as it is written or checked, and none form cycles,
    but their allocations set the collector off every few hundred objects, and each time it
    walked the block in hand and, at each full pass, every long-lived object of the process:
    ~10 µs of a CSV row's ~55, ~8 % of a verifying worker's CPU, for nothing found. Meant for a
    process that runs one such task at a time (Celery's prefork pool, the verification's
    pool): a thread running beside it would go without the collector too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
