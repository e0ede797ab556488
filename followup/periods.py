"""The periods a follow-up covers: a quarter ("2026Q4"), a year ("2026") or the project period
("project", from the settings' PROJECT_START to PROJECT_END)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

PROJECT = "project"
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def label(self) -> str:
        if self.key == PROJECT:
            return _("The project period (%(start)s – %(end)s)") % {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
            }
        if "Q" in self.key:
            year, quarter = self.key.split("Q")
            return _("Quarter %(quarter)s %(year)s") % {"quarter": quarter, "year": year}
        return _("The year %(year)s") % {"year": self.key}

    @property
    def before_start(self) -> datetime.date:
        return self.start - datetime.timedelta(days=1)


def project_period() -> Period:
    config = settings.POLICYFLOW
    return Period(PROJECT, config["PROJECT_START"], config["PROJECT_END"])


def quarter(year: int, number: int) -> Period:
    start = datetime.date(year, 3 * number - 2, 1)
    end = (
        datetime.date(year, 12, 31)
        if number == 4
        else datetime.date(year, 3 * number + 1, 1) - datetime.timedelta(days=1)
    )
    return Period(f"{year}Q{number}", start, end)


def year(number: int) -> Period:
    return Period(str(number), datetime.date(number, 1, 1), datetime.date(number, 12, 31))


def current_quarter(today: datetime.date) -> Period:
    return quarter(today.year, (today.month - 1) // 3 + 1)


def parse(key: str | None, *, today: datetime.date) -> Period | None:
    """The period ``key`` names (the current quarter when empty), or None if it names none."""
    key = (key or "").strip()
    if not key:
        return current_quarter(today)
    if key == PROJECT:
        return project_period()
    if match := _QUARTER.match(key):
        number = int(match.group(1))
        return quarter(number, int(match.group(2))) if 2000 <= number <= 2100 else None
    if match := _YEAR.match(key):
        number = int(match.group(1))
        return year(number) if 2000 <= number <= 2100 else None
    return None


def choices(*, today: datetime.date) -> list[Period]:
    """What the page offers: the project period, its years and its quarters up to today."""
    project = project_period()
    offered = [project]
    last = min(today, project.end)
    for number in range(last.year, project.start.year - 1, -1):
        offered.append(year(number))
    current = current_quarter(last)
    y, q = current.start.year, int(current.key[-1])
    while True:
        period = quarter(y, q)
        if period.end < project.start:
            break
        offered.append(period)
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return offered
