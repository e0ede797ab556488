"""Writing the register as CSV, streamed a line at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.utils import translation

from ..models import Enterprise
from .columns import BOM, COLUMNS, CRITERION_NUMBERS, LIST_SEPARATOR, Column, safe


def export_columns(*, include_personal: bool) -> list[Column]:
    return [c for c in COLUMNS if include_personal or not c.personal]


def _cells(enterprise: Enterprise, columns: list[Column]) -> list[str]:
    values = {
        "org_number": enterprise.org_number,
        "name": enterprise.name,
        "legal_form": enterprise.get_legal_form_display(),
        "municipalities": f"{LIST_SEPARATOR} ".join(
            m.name for m in enterprise.municipalities.all()
        ),
        "line_of_business": enterprise.line_of_business,
        "places": str(enterprise.places),
        "works_with_reuse": "ja" if enterprise.works_with_reuse else "nej",
        "criteria": f"{LIST_SEPARATOR} ".join(
            number for number, code in CRITERION_NUMBERS.items() if code in enterprise.criteria
        ),
        "status": enterprise.get_status_display(),
        "registered_on": enterprise.registered_on.isoformat(),
        "closed_on": enterprise.closed_on.isoformat() if enterprise.closed_on else "",
        "contact_name": enterprise.contact_name,
        "contact_email": enterprise.contact_email,
        "contact_phone": enterprise.contact_phone,
    }
    return [safe(values[c.key]) for c in columns]


def stream_export(
    enterprises: Iterable[Enterprise], *, include_personal: bool, delimiter: str = ";"
) -> Iterator[str]:
    """The enterprises as CSV, a line at a time: UTF-8 text with a BOM (Excel), Swedish
    headers and values whatever the page's language, so the file reads back in (`read_import`)."""
    columns = export_columns(include_personal=include_personal)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([c.header for c in columns])
    yield BOM + flush()
    with translation.override("sv"):
        for enterprise in enterprises:
            writer.writerow(_cells(enterprise, columns))
            yield flush()
