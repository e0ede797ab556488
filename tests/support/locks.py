"""Race tests without timers: let the holder of a lock go only once the other transaction is
seen waiting for it, so the race happens however slow the machine is."""

import sys
import threading

from django.db import connection

from tests.support.workers import wait_until

# Generous: a condition wait, only reached when the condition never comes.
LOCK_WAIT_TIMEOUT = 120


def _postgresql_backend_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        # Activity is read once per transaction: drop the snapshot so each poll sees it anew.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _sqlite_thread_waits_for_the_write_lock(thread: threading.Thread) -> bool:
    """SQLite has no activity view. Its transactions begin IMMEDIATE (the write lock at BEGIN,
    see policyflow/settings/base.py), so a thread standing in Django's BEGIN waits for the
    lock: SQLite's busy handler keeps it there until the holder commits."""
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "_start_transaction_under_autocommit":
            return True
        frame = frame.f_back
    return False


def wait_until_waiting_on_a_lock(thread: threading.Thread, *, timeout=LOCK_WAIT_TIMEOUT):
    """Return once ``thread`` (another connection of this test database) is blocked on a lock;
    fail the test if ``thread`` ends first or nothing waits within ``timeout`` seconds."""

    def waiting() -> bool:
        assert thread.is_alive(), "the thread ended without waiting for the lock"
        if connection.vendor == "postgresql":
            return _postgresql_backend_waits_on_a_lock()
        return _sqlite_thread_waits_for_the_write_lock(thread)

    wait_until(waiting, timeout=timeout, interval=0.02, why=lambda: "nobody waited on a lock")


def join_all(*threads: threading.Thread, timeout=LOCK_WAIT_TIMEOUT) -> None:
    """Wait for ``threads`` to end; fail the test if one is still stuck."""
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"


def hold_then_wait(holder, waiter, *, holding: threading.Event, release: threading.Event) -> None:
    """Run ``holder`` in a thread until it sets ``holding`` (it then holds a lock and waits for
    ``release``), then ``waiter`` in another; set ``release`` only once the waiter is seen
    blocked on a lock, and return when both have ended (fail the test if either is stuck)."""
    holding_thread = threading.Thread(target=holder)
    holding_thread.start()
    assert holding.wait(timeout=LOCK_WAIT_TIMEOUT), "the holder never took its lock"
    waiting_thread = threading.Thread(target=waiter)
    waiting_thread.start()
    wait_until_waiting_on_a_lock(waiting_thread)
    release.set()
    join_all(holding_thread, waiting_thread)
