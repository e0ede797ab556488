"""A minutes file (protokoll) as the record keeps it: PDF, ODT or DOCX read from its content
(the `filetype` library: magic numbers, no system library), within the size limit of
``settings.MINUTES_MAX_BYTES``, with its SHA-256; and the name it is downloaded under."""

import hashlib
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import MINUTES_EXTENSIONS, Decision


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def check_upload(upload) -> tuple[str, str]:
    """The content type and SHA-256 of an uploaded minutes file, or a ValidationError for the
    minutes_file field."""
    limit = settings.MINUTES_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            {
                "minutes_file": _(
                    "The file is too large: at most %(limit)s MB (this one is %(size)s MB)."
                )
                % {"limit": _megabytes(limit), "size": _megabytes(upload.size)}
            }
        )
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in MINUTES_EXTENSIONS:
        raise ValidationError(
            {
                "minutes_file": _(
                    "The minutes must be a PDF, ODT or DOCX file (read from its content)."
                )
            }
        )
    digest = hashlib.sha256(head)
    for block in iter(lambda: upload.read(1 << 20), b""):
        digest.update(block)
    upload.seek(0)
    return kind.mime, digest.hexdigest()


def original_name(upload) -> str:
    return PurePath(upload.name or "").name[:255]


def download_name(decision: Decision) -> str:
    """A name with nothing from the uploader in it: protokoll-<municipality>-<date>-p<§>.ext."""
    extension = MINUTES_EXTENSIONS.get(decision.minutes_content_type, "")
    parts = [
        "protokoll",
        slugify(decision.process.municipality.name),
        decision.meeting_date.isoformat(),
        slugify(f"p{decision.paragraph}"),
    ]
    return "-".join(part for part in parts if part) + extension
