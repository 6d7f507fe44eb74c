"""Fixtures for the end-to-end tests: a served cluster and real kubectl binaries driving it.

One cluster is served per test module and per kubectl binary (module-scoped fixtures on a
module-scoped loop, so test modules must mark themselves ``asyncio(loop_scope="module")``),
which keeps the suite fast; tests in a module use their own object names so they do not
interfere. The kubectl fixture is parametrized over ``kubectl_binaries.all_kubectls()``:
kubectl 1.35 and 1.37 from PyPI layer packages and the kubectl on PATH.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from kubectl_runner import Kubectl, kb

from minikube_lite import Cluster

_KUBECTLS: list[tuple[str, Path]] = kb.all_kubectls()


@contextlib.asynccontextmanager
async def served(directory: Path, **kwargs: Any) -> AsyncIterator[Cluster]:
    """A default cluster served on a free 127.0.0.1 port (real clock, controllers running)."""
    directory.mkdir(parents=True, exist_ok=True)
    async with Cluster(serve=True, port=0, kubeconfig_path=directory / "kubeconfig.yaml", **kwargs) as c:
        yield c


@pytest_asyncio.fixture(scope="module", loop_scope="module",
                        params=[pytest.param(k, id=f"kubectl-{k[0]}") for k in _KUBECTLS] or
                        [pytest.param(None, id="no-kubectl")])
async def kubectl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> AsyncIterator[Kubectl]:
    """A kubectl (1.35, 1.37, the one on PATH) with a fresh served cluster of its own."""
    if request.param is None:
        pytest.skip("no kubectl binary available (no registry access and none on PATH)")
    label, binary = request.param
    workdir = tmp_path_factory.mktemp(f"kubectl-{label}")
    async with served(workdir / "cluster") as c:
        yield Kubectl(label, binary, c, workdir)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    """One served cluster shared by a module's tests (the Python client tests)."""
    async with served(tmp_path_factory.mktemp("served")) as c:
        yield c

