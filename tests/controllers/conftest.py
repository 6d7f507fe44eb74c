"""Fixtures for the storage controller tests: clusters running only the controllers under test.

Builders and event helpers live in ``_storage_builders.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from _storage_builders import BARE_CONFIG, BASE_CONTROLLERS, STORAGE_CONTROLLERS

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig

JSON = dict[str, Any]


@pytest.fixture
def storage_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``async with storage_cluster(config=None, extra=()) as c``: a VirtualClock cluster running the
    PV and protection controllers (plus ``extra`` controllers), nothing else that touches storage."""

    @asynccontextmanager
    async def make(config: JSON | ClusterConfig | None = None,
                   extra: Iterable[type] = ()) -> AsyncIterator[Cluster]:
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", [*BASE_CONTROLLERS, *STORAGE_CONTROLLERS, *extra])
        if config is None:
            cfg = ClusterConfig.from_dict(BARE_CONFIG)
        elif isinstance(config, ClusterConfig):
            cfg = config
        else:
            cfg = ClusterConfig.from_dict(config)
        async with Cluster(cfg, clock=VirtualClock()) as c:
            yield c

    return make

