"""Helpers for running PolicyFlow's production commands as real processes on this machine."""

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent


def random_secret_key() -> str:
    """Long and varied enough for Django's deployment check (security.W009)."""
    return secrets.token_urlsafe(50)


def production_environment() -> dict[str, str]:
    """A clean environment like the containers': production settings, the required variables,
    and this machine's database and broker as the test settings chose them."""
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
        "DJANGO_SETTINGS_MODULE": "policyflow.settings.production",
        "SECRET_KEY": random_secret_key(),
        "ALLOWED_HOSTS": "policyflow.example.se",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        "SITE_URL": "https://policyflow.example.se",
        # Required by production; nothing these subprocesses do should reach an SMTP server.
        "EMAIL_URL": "consolemail://",
    }
