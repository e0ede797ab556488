"""The worker's SMTP connection, kept between messages, and what an SMTP error means.

Reusing the connection saves the connect, greeting, EHLO and QUIT of every message (on a loaded
machine that was most of a single message's time).
"""

import logging
import smtplib
import threading
import time

from django.conf import settings
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from . import sealing
from .models import Notification
from .rendering import build_message

logger = logging.getLogger(__name__)

# Errors worth another attempt: every SMTP error, and network errors (refused, reset, timeout).
SMTP_ERRORS = (smtplib.SMTPException, OSError)
ERROR_MAX_LENGTH = 2000

# The settings that choose the connection: a change opens a new one.
CONNECTION_SETTINGS = (
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_SSL_CERTFILE",
    "EMAIL_SSL_KEYFILE",
    "EMAIL_TIMEOUT",
)


class SmtpSession:
    """The worker's SMTP connection, opened when a message is to be sent and kept for the next.

    It is kept only for the SMTP backend, only while the settings that chose it stay the same,
    and closed after NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS idle. A server may close a connection
    after some messages or while it is idle (421, or it just hangs up); the message that finds
    it closed is sent once more over a new connection instead of waiting a backoff. (Had the
    server hung up after taking the message but before answering, a later retry would send it
    again too.)
    """

    def __init__(self) -> None:
        self.connection = None
        self.key: tuple = ()
        self.sent = 0
        self.last_used = 0.0

    def send(self, notification: Notification) -> None:
        key = tuple(getattr(settings, name, None) for name in CONNECTION_SETTINGS)
        idle = time.monotonic() - self.last_used
        if self.connection is not None and (key != self.key or idle > self.keepalive()):
            self.close()
        if self.connection is None:
            self.connection = mail.get_connection(fail_silently=False)
            self.key = key
            self.connection.open()
        try:
            build_message(notification, self.connection).send()
        except SMTP_ERRORS as error:
            if not (self.sent and is_closed_by_server(error)):
                raise
            self.close()
            self.send(notification)
            return
        self.sent += 1
        self.last_used = time.monotonic()

    def release(self) -> None:
        """The end of a run: keep the connection for the next only if it is worth keeping."""
        if not isinstance(self.connection, SmtpBackend) or self.keepalive() <= 0:
            self.close()

    def close(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.close()
        except Exception:  # the messages are sent and recorded: a failing QUIT changes nothing
            logger.debug("Closing the SMTP connection failed.", exc_info=True)
        self.connection, self.sent = None, 0

    @staticmethod
    def keepalive() -> float:
        return float(settings.NOTIFICATIONS_SMTP_KEEPALIVE_SECONDS)


_local = threading.local()


def smtp_session() -> SmtpSession:
    """This thread's session (a prefork worker process has one thread)."""
    if not hasattr(_local, "smtp"):
        _local.smtp = SmtpSession()
    return _local.smtp


def is_closed_by_server(error: Exception) -> bool:
    """The server hung up (421 "closing channel", or the connection just ended)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    return isinstance(error, smtplib.SMTPServerDisconnected)


def is_permanent(error: Exception) -> bool:
    """A 5xx answer about the recipient or the message, or a secret that can't be unsealed:
    retrying can't change it."""
    if isinstance(error, sealing.Unsealable):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def describe(error: Exception) -> str:
    """The error as the delivery log shows it, e.g. "SMTPDataError: 451 4.3.0 Try again"."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(
            f"{recipient}: {code} {_text(answer)}"
            for recipient, (code, answer) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        detail = f"{error.smtp_code} {_text(error.smtp_error)}"
    else:
        detail = str(error)
    return f"{type(error).__name__}: {detail}"[:ERROR_MAX_LENGTH]


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
