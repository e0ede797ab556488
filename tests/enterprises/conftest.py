"""Helpers of the ASF register's tests: CSV files as Excel in Sweden saves them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = [
    "Organisationsnummer",
    "Namn",
    "Juridisk form",
    "Kommuner",
    "Platser i arbetsintegrering",
    "Återbruk",
    "Kriterier",
    "Status",
    "I registret sedan",
]


def csv_bytes(rows: list[list[str]], *, header=HEADER, delimiter: str = ";") -> bytes:
    """UTF-8 with a byte order mark and CRLF line ends: Excel's "CSV UTF-8"."""
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def kronoberg(seeded):
    from municipalities.models import County

    return County.objects.get(code="07")
