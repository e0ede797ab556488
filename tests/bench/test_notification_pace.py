"""The paced mail's rule: its p95 is reported only from a pace the machine kept steady.

The cases are the latency parts of two runs of 2026-12-07 on one machine: the full run's, paced
at 70 % of its one-per-transaction rate (208.6 msg/s) and steady; the export-and-mail run's, paced
at 70 % of 233 msg/s, where the queueing side could not keep the pace and the wait grew from the
first third to the last (its p95 of 807 ms said how long the run was).
"""

from bench.notifications import steady


def paced(rate, achieved, first, last):
    return {
        "rate_per_s": rate,
        "achieved_rate_per_s": achieved,
        "first_third_p50_ms": first,
        "last_third_p50_ms": last,
    }


def test_a_pace_kept_with_a_wait_that_does_not_grow_is_steady():
    assert steady(paced(146.0, 146.0, 9.4, 12.5))


def test_a_pace_the_queueing_side_could_not_keep_is_not_steady():
    assert not steady(paced(163.1, 125.6, 214.8, 754.8))
    # The pace kept but the wait growing through the run: the queue grew all the same.
    assert not steady(paced(163.1, 160.0, 214.8, 754.8))
    # The wait steady but the pace not kept: the machine could not queue at that rate.
    assert not steady(paced(163.1, 125.6, 10.0, 12.0))


def test_a_few_milliseconds_more_at_the_end_are_noise_not_a_queue():
    assert steady(paced(89.0, 89.0, 15.0, 60.0))


def test_too_few_messages_to_tell_count_as_steady():
    # Fewer than three messages have no thirds to compare: the part keeps its one attempt.
    assert steady(paced(20.0, 20.0, None, None))
