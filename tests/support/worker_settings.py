"""Settings of a `celery worker` subprocess started by a test (tests.support.workers): the test
settings, with real SMTP to the test's aiosmtpd server and the test's own queue."""

import os

from policyflow.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["TEST_WORKER_SMTP_PORT"])
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
CELERY_TASK_DEFAULT_QUEUE = os.environ["TEST_WORKER_QUEUE"]
# A test's small trail made in parts (`exports.parts`), as the country's trail is.
EXPORTS_CSV_PART_ROWS = int(os.environ.get("TEST_WORKER_EXPORTS_CSV_PART_ROWS", "50000"))
