"""The quick start's mailbox: the emails Django's file backend wrote under var/emails, listed on
a staff-only page while DEBUG is on, so that a task link opens with one click and nobody needs an
SMTP server to try PolicyFlow. In production (DEBUG off, or SMTP configured) the page is a 404.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# What the file backend writes after each message.
SEPARATOR = "-" * 79
MAX_SHOWN = 200


@dataclass(frozen=True)
class EmailFile:
    subject: str
    to: str
    date: object
    body: str
    message_id: str


def is_enabled() -> bool:
    return bool(settings.DEBUG) and settings.EMAIL_BACKEND == FILE_BACKEND


def _parse(text: str) -> EmailFile | None:
    message = email.message_from_string(text.strip() + "\n", policy=email.policy.default)
    if not message["Message-ID"] and not message["Subject"]:
        return None
    part = message.get_body(preferencelist=("plain",))
    try:
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return EmailFile(
        subject=str(message["Subject"] or ""),
        to=str(message["To"] or ""),
        date=date,
        body=part.get_content() if part is not None else "",
        message_id=str(message["Message-ID"] or ""),
    )


def latest_emails() -> list[EmailFile]:
    """The newest emails first (at most MAX_SHOWN)."""
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    found: list[EmailFile] = []
    for path in sorted(folder.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True):
        chunks = path.read_text(errors="replace").split("\n" + SEPARATOR + "\n")
        for chunk in reversed(chunks):
            if chunk.strip() and (parsed := _parse(chunk)) is not None:
                found.append(parsed)
        if len(found) >= MAX_SHOWN:
            break
    return found[:MAX_SHOWN]
