"""A real SMTP server (aiosmtpd) for tests, and the settings that make Django send to it."""

import asyncio
import email
import threading
import time
from dataclasses import dataclass, field
from email import policy

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port

HOLD_LIMIT_SECONDS = 60


@dataclass
class Received:
    rcpt_tos: list[str]
    message: email.message.EmailMessage
    at: float

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps what it accepts. It can answer every message with an
    error (``answer``) or hold the n-th message (``hold_at``) in DATA, before accepting it, until
    the client goes away: the moment a worker is killed in the middle of sending."""

    answer: str | None = None
    hold_at: int | None = None
    received: list[Received] = field(default_factory=list)
    data_attempts: list[float] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def __post_init__(self):
        self._lock = threading.Lock()

    def to(self, address: str) -> list[Received]:
        """The messages accepted so far for ``address``, oldest first."""
        with self._lock:
            return [r for r in self.received if address in r.rcpt_tos]

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.data_attempts.append(time.monotonic())
            attempt = len(self.data_attempts)
        if attempt == self.hold_at:
            self.holding.set()
            # Cancelled by aiosmtpd when the client disconnects: the message is never accepted.
            await asyncio.sleep(HOLD_LIMIT_SECONDS)
        if self.answer:
            return self.answer
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.received.append(Received(list(envelope.rcpt_tos), message, time.monotonic()))
        return "250 2.0.0 Accepted"


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Django sends through real SMTP to the test's server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_sink
