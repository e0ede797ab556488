"""What an email says: the three templates rendered in the recipient's language when it is
queued, and the email message built from the stored row when it is sent."""

import functools
import hashlib
import secrets
from email.headerregistry import Address
from email.policy import Compat32, compat32
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation

from audit import upstream

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


@functools.lru_cache(maxsize=512)
def _folded(name: str, value: str, linesep: str, max_line_length, cte_type: str) -> bytes:
    """A header line as compat32 writes it: a pure function of the header and the three
    settings of the policy its folding reads."""
    policy = compat32.clone(linesep=linesep, max_line_length=max_line_length, cte_type=cte_type)
    return policy.fold_binary(name, value)


class _FoldedOnce(Compat32):
    """compat32, the policy of Django's messages, writing each distinct header line once per
    process: the email package folds every header of every message anew (a `Header` object,
    its splitting and line lengths), most of them the same in each email (From, the parts'
    Content-Type, MIME-Version, Auto-Submitted, a recipient's To, an event's Subject)."""

    def fold_binary(self, name, value):
        if not isinstance(value, str):
            return super().fold_binary(name, value)
        return _folded(name, value, self.linesep, self.max_line_length, self.cte_type)


FOLDED_ONCE = _FoldedOnce()


class _OutboxMessage(mail.EmailMultiAlternatives):
    def message(self):
        msg = super().message()
        # A random boundary of our own: left unset, the email package picks one by compiling a
        # new regular expression for every message (a sixth of building it). 128 random bits
        # can't be guessed by whoever wrote the body, nor occur in it by chance.
        msg.set_boundary(f"=={secrets.token_hex(16)}==")
        # The generator writes the message (and its parts) with the message's policy.
        msg.policy = FOLDED_ONCE
        return msg


@functools.lru_cache(maxsize=512)
def _address_header(name: str, value: str, charset: str) -> str:
    """An address header's value as Django would store it, when that is one line of ASCII (a
    name outside ASCII encoded, e.g. "=?utf-8?b?w4VzYSDDlmJlcmc=?= <asa@example.se>"): Django
    then stores it as given instead of parsing and encoding the name in every message.
    Otherwise (a long name its encoding folds), the value itself, for Django to encode."""
    encoded = upstream.encoded_header(name, value, charset)
    if encoded is None:
        return value  # Django raises it where it always did
    return encoded if encoded.isascii() and "\n" not in encoded else value


@functools.lru_cache(maxsize=512)
def _recipient(display_name: str, addr_spec: str, charset: str) -> str:
    """The To header of a recipient: its name and address formatted and encoded once."""
    value = str(Address(display_name=display_name, addr_spec=addr_spec))
    return _address_header("To", value, charset)


def build_message(notification: Notification, connection=None) -> mail.EmailMultiAlternatives:
    """The email of a stored notification, its sealed secrets filled in."""
    charset = settings.DEFAULT_CHARSET
    recipient = _recipient(notification.recipient_name, notification.recipient_email, charset)
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
            "From": _address_header("From", settings.DEFAULT_FROM_EMAIL, charset),
            "To": recipient,
            "Message-ID": message_id(notification),
            "Content-Language": notification.language,
            # RFC 3834: tells auto-responders not to answer.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(body_html, "text/html")
    return message
