"""Stand-ins for the cluster fixtures when pytest-asyncio is not active: they fail saying why."""

from __future__ import annotations

import pytest

from .plugin import NEEDS_PYTEST_ASYNCIO


@pytest.fixture
def cluster() -> None:
    pytest.fail(NEEDS_PYTEST_ASYNCIO, pytrace=False)


@pytest.fixture
def served_cluster() -> None:
    pytest.fail(NEEDS_PYTEST_ASYNCIO, pytrace=False)


@pytest.fixture
def client() -> None:
    pytest.fail(NEEDS_PYTEST_ASYNCIO, pytrace=False)
