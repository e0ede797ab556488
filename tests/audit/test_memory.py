"""The pause of the cyclic garbage collector around the long passes (export, verification)
leaves the process as it found it: a worker's later tasks are collected as before."""

import gc

import pytest

from audit.memory import cycle_collector_paused


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_paused_in_the_block_and_as_it_was_after_it(enabled_before):
    (gc.enable if enabled_before else gc.disable)()
    try:
        with cycle_collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled_before
        with pytest.raises(RuntimeError), cycle_collector_paused():
            raise RuntimeError("a failed pass")
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
