"""Fixtures for the deployment tests: a production-like environment for real processes."""

import pytest

from .helpers import production_environment


@pytest.fixture
def production_env() -> dict[str, str]:
    return production_environment()
