"""What an email says: the three templates rendered in the recipient's language when it is
queued, and the email message built from the stored row when it is sent."""

import functools
import hashlib
import secrets
from email.headerregistry import Address
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from . import sealing
from .models import Notification

SUBJECT_MAX_LENGTH = Notification._meta.get_field("subject").max_length


def _absolute_urls(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _absolute_urls(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_absolute_urls(v) for v in value]
    if key.endswith("_url") and isinstance(value, str) and value.startswith("/"):
        return settings.SITE_URL + value
    return value


def render_notification(
    *, event: str, language: str, recipient_name: str, context: dict
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of ``event`` in ``language``."""
    full_context = {
        **_absolute_urls(context),
        "recipient_name": recipient_name,
        "language": language,
        "site_url": settings.SITE_URL,
    }
    base = f"notifications/email/{event}"
    with translation.override(language):
        subject = " ".join(render_to_string(f"{base}_subject.txt", full_context).split())
        if len(subject) > SUBJECT_MAX_LENGTH:
            subject = subject[: SUBJECT_MAX_LENGTH - 1] + "…"
        full_context["subject"] = subject
        body_text = render_to_string(f"{base}.txt", full_context).strip() + "\n"
        body_html = render_to_string(f"{base}.html", full_context)
    return subject, body_text, body_html


@functools.lru_cache(maxsize=8)
def _address_of(value: str) -> str:
    """The bare address of a "Name <address>" setting, parsed once per value."""
    return parseaddr(value)[1]


def message_id(notification: Notification) -> str:
    """A Message-ID derived from the idempotency key: every attempt carries the same one, so a
    duplicate that slips through the crash window (see docs/decisions/notifications-outbox.md)
    can be recognised by mail systems."""
    domain = _address_of(settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "policyflow.localhost"
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:40]
    return f"<notification.{digest}@{domain}>"


class _OutboxMessage(mail.EmailMultiAlternatives):
    def message(self):
        msg = super().message()
        # A random boundary of our own: left unset, the email package picks one by compiling a
        # new regular expression for every message (a sixth of building it). 128 random bits
        # can't be guessed by whoever wrote the body, nor occur in it by chance.
        msg.set_boundary(f"=={secrets.token_hex(16)}==")
        return msg


def build_message(notification: Notification, connection=None) -> mail.EmailMultiAlternatives:
    """The email of a stored notification, its sealed secrets filled in."""
    recipient = str(
        Address(display_name=notification.recipient_name, addr_spec=notification.recipient_email)
    )
    body_text, body_html = sealing.fill(
        notification.sealed_context, text=notification.body_text, html=notification.body_html
    )
    message = _OutboxMessage(
        subject=notification.subject,
        body=body_text,
        # The envelope's addresses bare, the headers' with the names (Django takes From and To
        # from headers when given, tickets #9214 and #17444): its SMTP backend parses each
        # envelope address of every message (sanitize_address), which with the names was 3.6 %
        # of the worker's instructions per email.
        from_email=_address_of(settings.DEFAULT_FROM_EMAIL) or settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient_email],
        connection=connection,
        headers={
            "From": settings.DEFAULT_FROM_EMAIL,
            "To": recipient,
            "Message-ID": message_id(notification),
            "Content-Language": notification.language,
            # RFC 3834: tells auto-responders not to answer.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(body_html, "text/html")
    return message
