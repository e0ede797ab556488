"""Reading a CSV file into a preview of the import: every row checked against the county's
register, each error named by row and column. Nothing is saved here."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from municipalities.models import County, Municipality

from ..models import Criterion, Enterprise, LegalForm, Status, criteria_in_order
from ..services import EnterpriseData, changed_fields
from ..validators import normalise_orgnr
from .cells import CellReader, RowError
from .columns import (
    BOM,
    BY_HEADER,
    COLUMNS,
    CRITERION_NUMBERS,
    LIST_SEPARATOR,
    MAX_BYTES,
    MAX_ROWS,
    NO,
    YES,
    swedish,
    unquoted,
)


class FileError(Exception):
    """The file as a whole cannot be read (encoding, size, header)."""


@dataclass
class Row:
    number: int  # the row's number as a spreadsheet shows it (the header is row 1)
    cells: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    data: EnterpriseData | None = None
    enterprise: Enterprise | None = None  # the register's enterprise it changes, if any
    changes: list[str] = field(default_factory=list)

    @property
    def change_labels(self) -> list[str]:
        """What the row changes, as the register's page names it."""
        names = []
        for name in self.changes:
            label = str(Enterprise._meta.get_field(name).verbose_name)
            names.append(label[:1].upper() + label[1:] if not names else label)
        return names

    @property
    def action(self) -> str:
        if self.errors:
            return "error"
        if self.enterprise is None:
            return "new"
        return "changed" if self.changes else "unchanged"


@dataclass
class ImportPreview:
    rows: list[Row] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # key → header as in the file

    @property
    def is_valid(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def error_count(self) -> int:
        return sum(len(r.errors) for r in self.rows) + len(self.file_errors)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {a: self.count(a) for a in ("new", "changed", "unchanged", "error")}


def decode(raw: bytes) -> str:
    """The file's text: UTF-8, with or without Excel's byte order mark."""
    if len(raw) > MAX_BYTES:
        raise FileError(
            _("The file is larger than %(size)s MB: split it into smaller files.")
            % {"size": MAX_BYTES // 1_000_000}
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FileError(
            _(
                "The file is not saved as UTF-8. In Excel, choose Save as → “CSV UTF-8 "
                "(kommaavgränsad)” and upload it again."
            )
        ) from None
    return text.removeprefix(BOM)


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") >= first_line.count(",") else ","


def read_import(text: str, *, county: County, lock: bool = False) -> ImportPreview:
    """Every row of ``text`` read and checked against ``county``'s register; nothing saved.

    ``lock``: lock the register's enterprises the file names (the import's transaction)."""
    preview = ImportPreview()
    text = text.removeprefix(BOM)
    if "\x00" in text:
        # A binary file (a workbook saved as .xlsx, say) rather than text.
        preview.file_errors.append(_("The file is not a CSV text file: save it as CSV UTF-8."))
        return preview
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    except csv.Error as error:
        preview.file_errors.append(
            _("The file cannot be read as CSV: %(error)s.") % {"error": error}
        )
        return preview
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()
    if not records:
        preview.file_errors.append(
            _("The file is empty: it needs a header row and one row per enterprise.")
        )
        return preview
    positions = _read_header(records[0], preview)
    if preview.file_errors:
        return preview
    body = records[1:]
    if len(body) > MAX_ROWS:
        preview.file_errors.append(
            _("The file has %(rows)s rows; at most %(max)s can be imported at once.")
            % {"rows": len(body), "max": MAX_ROWS}
        )
        return preview
    for number, record in enumerate(body, start=2):
        if not any(cell.strip() for cell in record):
            continue  # an empty line (Excel leaves some)
        cells = {
            key: unquoted(record[index].strip() if index < len(record) else "")
            for key, index in positions.items()
        }
        preview.rows.append(Row(number=number, cells=cells))
    if not preview.rows:
        preview.file_errors.append(_("The file has a header row but no enterprises."))
        return preview
    _check_rows(preview, county=county, lock=lock)
    return preview


def _read_header(header: list[str], preview: ImportPreview) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().removeprefix(BOM).strip()
        column = BY_HEADER.get(name.casefold())
        if column is None:
            if name:
                preview.ignored_columns.append(name)
            continue
        if column.key in positions:
            preview.file_errors.append(
                _("The column “%(column)s” appears twice in the header row.") % {"column": name}
            )
            continue
        positions[column.key] = index
        preview.headers[column.key] = name
    missing = [c.header for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        preview.file_errors.append(
            _(
                "The header row lacks the column(s): %(columns)s. The first row must name "
                "the columns."
            )
            % {"columns": ", ".join(missing)}
        )
    return positions


def _check_rows(preview: ImportPreview, *, county: County, lock: bool) -> None:
    by_name, by_code = {}, {}
    for municipality in Municipality.objects.filter(county=county):
        by_name[municipality.name.casefold()] = municipality
        by_code[municipality.code] = municipality

    numbers = {}
    for row in preview.rows:
        try:
            numbers[row.number] = normalise_orgnr(row.cells.get("org_number", ""))
        except ValidationError as error:
            CellReader(row, preview.headers).error("org_number", error.messages[0])
    existing = Enterprise.objects.filter(org_number__in=set(numbers.values()))
    if lock:
        existing = existing.select_for_update(of=("self",))
    known = {
        e.org_number: e
        for e in existing.select_related("county").prefetch_related("municipalities")
    }
    seen: dict[str, int] = {}
    today = timezone.localdate()
    for row in preview.rows:
        check = CellReader(row, preview.headers)
        org_number = numbers.get(row.number)
        enterprise = None
        if org_number is not None:
            if org_number in seen:
                check.error(
                    "org_number",
                    _("%(number)s is also on row %(row)s: one row per enterprise.")
                    % {"number": org_number, "row": seen[org_number]},
                )
            seen.setdefault(org_number, row.number)
            enterprise = known.get(org_number)
            if enterprise is not None and enterprise.county_id != county.pk:
                check.error(
                    "org_number",
                    _("%(number)s is in the register of another county.") % {"number": org_number},
                )
                enterprise = None
        data = _row_data(check, org_number, enterprise, by_name, by_code, county, today)
        if row.errors or data is None:
            continue
        row.data = data
        row.enterprise = enterprise
        row.changes = changed_fields(enterprise, data) if enterprise is not None else []


def _max(name: str) -> int:
    return Enterprise._meta.get_field(name).max_length


def _row_data(check, org_number, enterprise, by_name, by_code, county, today):
    """The row's values, an existing enterprise's where the file has no such column."""
    kept = enterprise

    def keep(key, value, default):
        if check.has(key):
            return value
        return getattr(kept, key) if kept is not None else default

    name = check.required("name")
    if name:
        name = check.text("name", _max("name"))
    legal_form = check.choice("legal_form", LegalForm) if check.required("legal_form") else None

    municipalities = []
    cell = check.required("municipalities")
    for part in filter(None, (p.strip() for p in cell.split(LIST_SEPARATOR))):
        found = by_code.get(part) or by_name.get(part.casefold())
        if found is None:
            check.error(
                "municipalities",
                _("“%(value)s” is not a municipality in %(county)s.")
                % {"value": part, "county": county.name},
            )
        elif found not in municipalities:
            municipalities.append(found)

    places = 0
    raw_places = check.row.cells.get("places", "")
    if raw_places:
        try:
            places = int(raw_places.replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            places = None
        if places is None or places < 0:
            check.error(
                "places",
                _("“%(value)s” is not a number of places: write a whole number, 0 or more.")
                % {"value": raw_places},
            )
            places = 0

    reuse_text = check.row.cells.get("works_with_reuse", "").casefold()
    reuse = reuse_text in YES
    if reuse_text not in YES | NO:
        check.error(
            "works_with_reuse",
            _("“%(value)s” is neither “ja” nor “nej”.")
            % {"value": check.row.cells["works_with_reuse"]},
        )

    criteria = []
    for part in filter(
        None, (p.strip() for p in check.row.cells.get("criteria", "").split(LIST_SEPARATOR))
    ):
        code = CRITERION_NUMBERS.get(part) or (
            part.casefold() if part.casefold() in Criterion.values else None
        )
        if code is None:
            check.error(
                "criteria",
                _("“%(value)s” is not one of Tillväxtverket's criteria: write their numbers 1–4.")
                % {"value": part},
            )
        else:
            criteria.append(code)

    # An empty status or date (or no such column) keeps the register's value; a new
    # enterprise is active, in the register from today.
    status = check.choice("status", Status, default=kept.status if kept else Status.ACTIVE)
    registered_on = check.date("registered_on")
    if registered_on is None and not check.row.cells.get("registered_on"):
        registered_on = kept.registered_on if kept is not None else today
    closed_on = check.date("closed_on")
    if closed_on is None and not check.row.cells.get("closed_on") and not check.has("closed_on"):
        closed_on = kept.closed_on if kept is not None else None
    if status == Status.CLOSED and closed_on is None and not check.row.cells.get("closed_on"):
        check.error("closed_on", _("A closed enterprise needs the date it closed."))
    if status not in (None, Status.CLOSED) and closed_on is not None:
        check.error(
            "closed_on",
            _("Only a closed enterprise has a closing date: set its status to “%(closed)s”.")
            % {"closed": swedish(Status.CLOSED.label)},
        )
    if closed_on and registered_on and closed_on < registered_on:
        check.error("closed_on", _("The closing date cannot be before it entered the register."))

    contact_email = check.text("contact_email", _max("contact_email"))
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            check.error(
                "contact_email",
                _("“%(value)s” is not an email address.") % {"value": contact_email},
            )

    values = {
        "line_of_business": keep(
            "line_of_business", check.text("line_of_business", _max("line_of_business")), ""
        ),
        "places": keep("places", places, 0),
        "works_with_reuse": keep("works_with_reuse", reuse, False),
        "criteria": tuple(keep("criteria", criteria_in_order(criteria), ())),
        "contact_name": keep("contact_name", check.text("contact_name", _max("contact_name")), ""),
        "contact_email": keep("contact_email", contact_email, ""),
        "contact_phone": keep(
            "contact_phone", check.text("contact_phone", _max("contact_phone")), ""
        ),
    }
    if check.row.errors or org_number is None:
        return None
    return EnterpriseData(
        name=name,
        org_number=org_number,
        legal_form=legal_form,
        municipalities=tuple(municipalities),
        status=status,
        registered_on=registered_on,
        closed_on=closed_on,
        **values,
    )
