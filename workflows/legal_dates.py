"""Dates fixed by Swedish law for a municipal decision: the appeal deadline and its day off rule.

The appeal period (laglighetsprövning) is three weeks from the day the announcement of the
certified minutes was posted on the notice board (kommunallagen 13 kap. 5 §). When its last day
falls on a Saturday, a Sunday, another public holiday, midsommarafton, julafton or nyårsafton,
the period runs to the next weekday (lag (1930:173) om beräkning av lagstadgad tid, 2 §).
"""

import datetime
from functools import lru_cache

import holidays
from holidays.constants import DE_FACTO, PUBLIC

APPEAL_PERIOD = datetime.timedelta(weeks=3)


@lru_cache(maxsize=1)
def _days_off_by_law() -> holidays.HolidayBase:
    # PUBLIC: the public holidays of lag (1989:253) om allmänna helgdagar. DE_FACTO: exactly
    # midsommarafton, julafton and nyårsafton, which lag (1930:173) treats the same way. The
    # calendar's "every Sunday" option stays off: weekends are checked by weekday below.
    return holidays.Sweden(categories=(PUBLIC, DE_FACTO))


def is_day_off(day: datetime.date) -> bool:
    """Whether a time limit that ends on ``day`` moves on (lag (1930:173) 2 §)."""
    return day.weekday() >= 5 or day in _days_off_by_law()


def next_weekday(day: datetime.date) -> datetime.date:
    while is_day_off(day):
        day += datetime.timedelta(days=1)
    return day


def appeal_deadline(announced: datetime.date) -> datetime.date:
    """The last day to appeal a decision whose minutes were announced on ``announced``."""
    return next_weekday(announced + APPEAL_PERIOD)
