"""The cluster fixtures, registered by :mod:`minikube_lite.testing.plugin` when pytest-asyncio is active.

The cluster itself is imported inside the fixtures: a pytest run that never asks for one does
not pay for importing it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
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


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; leave it as it was afterwards.

    A cluster's start allocates several thousand objects that live until its stop, and its
    stop frees them by reference counting (a stopped cluster leaves no reference cycles:
    tests/test_cluster_memory.py). Collections triggered while a cluster starts or stops would
    find no garbage, only walk live objects (about a tenth of a fixture's cost): so the fixtures
    start and stop their cluster with the collector paused. The test itself runs with the
    collector as it was, and ``gc.collect()`` works as ever.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest_asyncio.fixture
async def cluster(request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    """A fresh default cluster on a virtual clock: advance time with ``await cluster.settle()``."""
    from ..clock import VirtualClock
    from ..cluster import Cluster

    c = Cluster(quiet_config(), clock=VirtualClock(), seed=seed_for(request))
    with collector_paused():
        await c.start()
    try:
        yield c
    finally:
        with collector_paused():
            await c.stop()


@pytest_asyncio.fixture
async def served_cluster(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Cluster]:
    """A default cluster served over HTTP on a free loopback port, kubeconfig in ``tmp_path``."""
    from ..cluster import Cluster

    c = Cluster(quiet_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml",
                seed=seed_for(request))
    with collector_paused():
        await c.start()
    try:
        yield c
    finally:
        with collector_paused():
            await c.stop()


@pytest_asyncio.fixture
async def client(cluster: Cluster) -> InProcessClient:
    """The in-process API client of ``cluster``."""
    return cluster.client
