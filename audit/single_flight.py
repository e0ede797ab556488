"""Single-flight cache fills: when many requests miss the same cache key at once, one computes
the value and the others wait for it, instead of each computing it (eight concurrent misses of
the overview each drew its figures, and under load none finished before gunicorn's timeout).

The filler takes a short lock key with ``cache.add`` (atomic in Redis: SET NX); the others poll
the value's key for a bounded time, then compute it themselves: a filler that died or a slow
fill never blocks a reader longer than ``wait`` seconds. The lock expires on its own after
``lock_seconds`` if its holder never releases it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")

POLL_SECONDS = 0.02


def lock_key(key: str) -> str:
    return f"{key}:filling"


def claim(key: str, *, lock_seconds: int = 30) -> bool:
    """Whether this caller is the one to fill ``key`` (the others should `wait_for` it)."""
    return cache.add(lock_key(key), 1, timeout=lock_seconds)


def release(key: str) -> None:
    cache.delete(lock_key(key))


def wait_for(key: str, *, wait: float, is_usable: Callable[[object], bool] = lambda v: True):
    """The value another caller is filling under ``key``, or None after ``wait`` seconds or as
    soon as the filler gave up (its lock is gone and no value came)."""
    deadline = time.monotonic() + wait
    while True:
        value = cache.get(key)
        if value is not None and is_usable(value):
            return value
        if time.monotonic() >= deadline or cache.get(lock_key(key)) is None:
            # One last look: the value may have landed just as the lock went.
            value = cache.get(key)
            return value if value is not None and is_usable(value) else None
        time.sleep(POLL_SECONDS)


def get_or_fill(
    key: str,
    compute: Callable[[], T],
    *,
    timeout: int | Callable[[T], int],
    wait: float = 10.0,
    is_usable: Callable[[T], bool] = lambda v: True,
) -> T:
    """The value cached under ``key``, computed by ``compute()`` by one caller at a time.

    ``timeout``: the seconds to keep it, or a function of the value giving them. ``is_usable``:
    whether a cached value still serves this caller (else it is computed afresh).
    """
    value = cache.get(key)
    if value is not None and is_usable(value):
        return value
    if not claim(key, lock_seconds=max(1, int(wait * 3))):
        value = wait_for(key, wait=wait, is_usable=is_usable)
        if value is not None:
            return value
        # The filler is slow or gone: compute without keeping the others waiting any longer.
        return compute()
    try:
        value = compute()
        seconds = timeout(value) if callable(timeout) else timeout
        cache.set(key, value, timeout=max(1, int(seconds)))
        return value
    finally:
        release(key)
