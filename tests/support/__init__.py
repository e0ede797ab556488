"""Test infrastructure shared by the test packages: a real SMTP server that keeps what it
receives, and real Celery workers (each test with a queue of its own)."""

import socket


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
