"""The cluster fixtures, registered by :mod:`minikube_lite.testing.plugin` when pytest-asyncio is active.

The cluster itself is imported inside the fixtures: a pytest run that never asks for one does
not pay for importing it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from .plugin import seed_for

if TYPE_CHECKING:
    from ..client.inprocess import InProcessClient
    from ..cluster import Cluster
    from ..config import ClusterConfig


def quiet_config() -> ClusterConfig:
    """The default cluster without the kube-system pods: idle the moment it starts, so a test
    counts only the pods it makes (build ``Cluster()`` yourself for the system pods and their logs)."""
    from ..config import ClusterConfig

    config = ClusterConfig.default()
    config.systemPods = False
    return config


@pytest_asyncio.fixture
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    """A fresh default cluster on a virtual clock: advance time with ``await cluster.settle()``."""
    from ..clock import VirtualClock
    from ..cluster import Cluster

    async with Cluster(quiet_config(), clock=VirtualClock(), seed=seed_for(request)) as c:
        yield c


@pytest_asyncio.fixture
async def served_cluster(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Cluster]:
    """A default cluster served over HTTP on a free loopback port, kubeconfig in ``tmp_path``."""
    from ..cluster import Cluster

    async with Cluster(quiet_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml",
                       seed=seed_for(request)) as c:
        yield c


@pytest_asyncio.fixture
async def client(cluster: Cluster) -> InProcessClient:
    """The in-process API client of ``cluster``."""
    return cluster.client
