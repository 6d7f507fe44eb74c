"""pytest plugin (registered through the ``pytest11`` entry point).

Fixtures: ``cluster`` (a fresh in-process cluster on a virtual clock), ``served_cluster``
(the same, served over HTTP on 127.0.0.1 with a kubeconfig, on the real clock) and
``client`` (the in-process API client of ``cluster``).

Both are the default cluster without its kube-system pods (``systemPods: false``): a test gets a
cluster that is idle the moment it starts, and counts only the pods it makes. Build
``Cluster()`` yourself for the kube-system pods and their component logs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from ..clock import VirtualClock
from ..cluster import Cluster
from ..config import ClusterConfig


def quiet_config() -> ClusterConfig:
    """The default cluster without the kube-system pods."""
    config = ClusterConfig.default()
    config.systemPods = False
    return config


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    """A fresh default cluster on a virtual clock: advance time with ``await cluster.settle()``."""
    async with Cluster(quiet_config(), clock=VirtualClock()) as c:
        yield c


@pytest_asyncio.fixture
async def served_cluster(tmp_path: Any) -> AsyncIterator[Cluster]:
    """A default cluster served over HTTP on a free loopback port, kubeconfig in ``tmp_path``."""
    async with Cluster(quiet_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        yield c


@pytest_asyncio.fixture
async def client(cluster: Cluster) -> Any:
    return cluster.client
