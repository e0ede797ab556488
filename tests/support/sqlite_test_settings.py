"""The test settings on a SQLite file configured as `make run`'s (`for_sqlite`: WAL, IMMEDIATE
transactions, busy timeout), for running the project's own critical-path tests on SQLite too
(tests/policyflow/test_sqlite_default.py runs them in a subprocess). SQLITE_TEST_DIR is the
folder of the test database."""

import os

from policyflow.settings.base import for_sqlite
from policyflow.settings.test import *  # noqa: F403

_folder = os.environ["SQLITE_TEST_DIR"]
DATABASES = {
    "default": for_sqlite(
        {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": f"{_folder}/policyflow.sqlite3",
            # A file, not Django's in-memory default: threads then see one database, with
            # the same locking as the quick start's.
            "TEST": {"NAME": f"{_folder}/test_policyflow.sqlite3"},
            "ATOMIC_REQUESTS": False,
        }
    )
}
PGTRIGGER_INSTALL_ON_MIGRATE = False
# Transactional tests empty the database with DELETE after each test, which the append-only
# triggers refuse (the quick-start tests check the triggers on a database of their own).
AUDIT_SQLITE_TRIGGERS = False
