"""The bytes of an outbox email: what Django's own EmailMultiAlternatives writes for the same
message, though the outbox's headers are encoded and folded once per process
(`notifications.rendering`)."""

from email.headerregistry import Address

import pytest
from django.conf import settings
from django.core import mail

from notifications.models import Notification
from notifications.rendering import build_message, render_notification

BOUNDARY = "==0123456789abcdef0123456789abcdef=="
DATE = "Mon, 07 Dec 2026 03:00:00 -0000"

NAMES = [
    "Vera Växjö",
    "Bench Mottagare",
    'Karl "Kalle" Ek, chef',
    "",
    # Encoded, the name is longer than a header line: Django folds it.
    "Överförmyndarnämndens sekreterare Åsa Långnamnsdotter-Ärlebäck i Ölandsbro",
    "Zoë Ñúñez 李",
]
SUBJECTS = [
    None,  # the event's own, rendered
    "Kort ämne",
    "Ett långt ämne med åäö som går över radgränsen för ett huvudfält – Växjö kommun, steg 3",
    "An ASCII subject long enough to be folded by the email package's header folding, twice",
]


def _notification(name: str, subject: str | None, number: int) -> Notification:
    rendered, text, html = render_notification(
        event="task_assigned",
        language="sv",
        recipient_name=name,
        context={"municipality": "Växjö", "task_title": "Skriv utkastet", "task_url": "/t/1/"},
    )
    return Notification(
        event="task_assigned",
        idempotency_key=f"bytes:{number}",
        topic="bench",
        recipient_email=f"mottagare{number}@växjö.example" if number % 5 == 4 else "m@x.example",
        recipient_name=name,
        language="sv",
        subject=subject or rendered,
        body_text=text,
        body_html=html,
    )


def _bytes(email: mail.EmailMessage) -> bytes:
    message = email.message()
    message.set_boundary(BOUNDARY)
    message.replace_header("Date", DATE)
    return message.as_bytes(linesep="\r\n")


def _djangos_own(built, notification: Notification) -> mail.EmailMultiAlternatives:
    """The same email as a plain EmailMultiAlternatives, its From and To unencoded."""
    headers = dict(built.extra_headers)
    name, address = notification.recipient_name, notification.recipient_email
    headers["To"] = str(Address(display_name=name, addr_spec=address))
    headers["From"] = settings.DEFAULT_FROM_EMAIL
    email = mail.EmailMultiAlternatives(
        subject=built.subject,
        body=built.body,
        from_email=built.from_email,
        to=built.to,
        headers=headers,
    )
    for content, mimetype in built.alternatives:
        email.attach_alternative(content, mimetype)
    return email


@pytest.mark.parametrize("name", NAMES)
def test_an_outbox_email_has_the_bytes_djangos_own_message_would_have(name):
    for number, subject in enumerate(SUBJECTS * 2):  # twice: once written, once remembered
        notification = _notification(name, subject, number)
        built = build_message(notification)
        assert _bytes(built) == _bytes(_djangos_own(built, notification))
