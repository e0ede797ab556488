"""One CSV row's cells read into values, each mistake noted with its column and what is wrong."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from audit.forms import FIRST_YEAR, LAST_YEAR

from .columns import COLUMNS, labels, swedish

if TYPE_CHECKING:
    from .reading import Row


@dataclass
class RowError:
    column: str  # the column's header as written in the file (or the Swedish one)
    message: str


class CellReader:
    """Reads the cells of one row into an enterprise's values, noting each error."""

    def __init__(self, row: Row, headers: dict[str, str]) -> None:
        self.row = row
        self.headers = headers

    def error(self, key: str, message) -> None:
        header = self.headers.get(key) or next(c.header for c in COLUMNS if c.key == key)
        self.row.errors.append(RowError(column=header, message=str(message)))

    def has(self, key: str) -> bool:
        return key in self.row.cells

    def text(self, key: str, max_length: int) -> str:
        value = self.row.cells.get(key, "")
        if len(value) > max_length:
            self.error(
                key,
                _("At most %(max)s characters (this has %(length)s).")
                % {"max": max_length, "length": len(value)},
            )
        return value

    def required(self, key: str) -> str:
        value = self.row.cells.get(key, "")
        if not value:
            self.error(key, _("Empty: this column must be filled in."))
        return value

    def choice(self, key: str, choices, default: str | None = None) -> str | None:
        value = self.row.cells.get(key, "")
        if not value and default is not None:
            return default
        wanted = value.casefold()
        for code, label in choices.choices:
            if wanted in (code.casefold(), *(labels(label))):
                return code
        allowed = ", ".join(swedish(label) for _code, label in choices.choices)
        self.error(
            key,
            _("“%(value)s” is not one of: %(allowed)s.") % {"value": value, "allowed": allowed},
        )
        return None

    def date(self, key: str) -> datetime.date | None:
        value = self.row.cells.get(key, "")
        if not value:
            return None
        try:
            parsed = datetime.date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            self.error(
                key,
                _("“%(value)s” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31.")
                % {"value": value},
            )
            return None
        return parsed
