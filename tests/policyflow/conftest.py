"""Fixtures for the deployment tests: a production-like environment for real processes."""

import pytest

from .helpers import production_environment


@pytest.fixture
def production_env() -> dict[str, str]:
    return production_environment()


from tests.support.sqlite_site import quick_start, quick_start_database  # noqa: E402, F401
