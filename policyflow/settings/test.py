"""Test settings: the real PostgreSQL and Redis of this machine (see Makefile)."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/policyflow")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # On disk (var/, untracked): a `celery worker` subprocess writes what the test reads.
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "test-exports"},  # noqa: F405
    },
}
# Static files come from the finders in tests; no collected STATIC_ROOT is needed.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
