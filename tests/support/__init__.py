"""Test infrastructure shared by the test packages: a real SMTP server that keeps what it
receives, and real Celery workers (each test with a queue of its own)."""
