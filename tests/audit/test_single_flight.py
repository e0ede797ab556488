"""Single-flight cache fills (audit.single_flight): concurrent misses of one key compute it once,
on the cache the site is configured with (CACHE_URL: Redis here), with real threads."""

import threading
import uuid

from django.core.cache import cache

from audit import single_flight

READERS = 8


def concurrent(call, n=READERS) -> list:
    """``call()`` in ``n`` threads started together; their results."""
    results, errors = [None] * n, []
    start = threading.Barrier(n)

    def run(i):
        try:
            start.wait(timeout=10)
            results[i] = call()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return results


def test_concurrent_misses_compute_the_value_once():
    key = f"test-single-flight:{uuid.uuid4().hex}"
    computed, arrived = [], []
    everyone_arrived = threading.Condition()

    def compute():
        # The filler finishes only once every reader has missed the key: all of them really
        # overlapped with the fill.
        with everyone_arrived:
            assert everyone_arrived.wait_for(lambda: len(arrived) == READERS, timeout=10)
        computed.append(1)
        return {"figures": "the county's"}

    def read():
        with everyone_arrived:
            arrived.append(1)
            everyone_arrived.notify_all()
        return single_flight.get_or_fill(key, compute, timeout=60)

    results = concurrent(read)

    assert len(computed) == 1
    assert results == [{"figures": "the county's"}] * READERS
    assert cache.get(single_flight.lock_key(key)) is None  # the lock is released


def test_a_failed_fill_lets_the_waiting_readers_compute_it_themselves():
    key = f"test-single-flight:{uuid.uuid4().hex}"
    assert single_flight.claim(key)  # a filler that will never deliver
    released = threading.Timer(0.2, single_flight.release, args=[key])  # … and gives up
    released.start()

    value = single_flight.get_or_fill(key, lambda: "computed here", timeout=60, wait=10)

    released.join()
    assert value == "computed here"


def test_a_value_that_no_longer_serves_the_reader_is_computed_afresh():
    key = f"test-single-flight:{uuid.uuid4().hex}"
    cache.set(key, {"valid": False}, 60)

    value = single_flight.get_or_fill(
        key, lambda: {"valid": True}, timeout=60, is_usable=lambda v: v["valid"]
    )

    assert value == {"valid": True} and cache.get(key) == {"valid": True}
