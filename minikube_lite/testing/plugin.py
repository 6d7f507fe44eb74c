"""pytest plugin (registered through the ``pytest11`` entry point).

Fixtures: ``cluster`` (a fresh in-process cluster on a virtual clock), ``served_cluster``
(the same, served over HTTP on 127.0.0.1 with a kubeconfig, on the real clock) and
``client`` (the in-process API client of ``cluster``). They are coroutines, so they need
pytest-asyncio (the ``test`` extra; ``asyncio_mode = auto`` lets plain ``async def`` tests use
them).

This module is loaded by every pytest run in an environment where minikube-lite is
installed, including runs that never use a cluster and environments without the ``test``
extra. So it imports only pytest and the standard library: the fixtures themselves live in
:mod:`minikube_lite.testing.fixtures`, registered at configure time only when pytest-asyncio
is active; without it, the fixture names still exist and fail with a message saying what to
install.

The fixtures' clusters are the default cluster without its kube-system pods
(``systemPods: false``): idle the moment they start, so a test counts only the pods it makes
and pays nothing for the system pods; build ``Cluster()`` yourself for them and their logs.

Options: ``--minikube-lite-seed N`` seeds every cluster the fixtures make (``Cluster(seed=N)``:
same placements, generated names and uids on every run); ``@pytest.mark.minikube_lite(seed=N)``
does the same for one test (the marker wins over the option).
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

SEED_OPTION = "--minikube-lite-seed"
MARKER = "minikube_lite"
FIXTURE_NAMES = frozenset({"cluster", "served_cluster", "client"})
NEEDS_PYTEST_ASYNCIO = ("the minikube-lite fixtures are coroutines and need pytest-asyncio: "
                        "pip install 'minikube-lite[test]' (or pytest-asyncio) and set asyncio_mode = auto")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minikube-lite")
    group.addoption(SEED_OPTION, dest="minikube_lite_seed", type=int, default=None, metavar="N",
                    help="seed every cluster of the minikube-lite fixtures (reproducible placements, "
                         "generated names and uids)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(seed=None): options of the minikube-lite cluster fixtures "
                                       "for this test (seed: Cluster(seed=N))")
    if config.pluginmanager.has_plugin("asyncio"):
        from . import fixtures
    else:
        from . import fixtures_unavailable as fixtures  # type: ignore[no-redef]
    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "minikube_lite.testing.fixtures")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Warm up once, before the first test, when some test will start a cluster.

    The first cluster of a process builds the shared, immutable data every later cluster
    reuses (controller modules, parsed schemas, the built-in CRDs). Building it here keeps
    that cost out of the first test; freezing what exists afterwards (``gc.freeze``) takes the
    process's long-lived objects out of every later full garbage collection, which otherwise
    walks them again and again as stopped clusters are collected.
    """
    if not config.pluginmanager.has_plugin("asyncio") or getattr(config, "_minikube_lite_warm", False):
        return
    if not any(FIXTURE_NAMES.intersection(getattr(item, "fixturenames", ())) for item in items):
        return
    from ..cluster import warm_up

    warm_up()
    gc.collect()
    gc.freeze()
    config._minikube_lite_warm = True  # type: ignore[attr-defined]


def seed_for(request: Any) -> int | None:
    """The seed of a test's clusters: the ``minikube_lite(seed=N)`` marker, else ``--minikube-lite-seed``."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and "seed" in marker.kwargs:
        return None if marker.kwargs["seed"] is None else int(marker.kwargs["seed"])
    value = request.config.getoption("minikube_lite_seed", default=None)
    return None if value is None else int(value)
