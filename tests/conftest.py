"""Suite-wide checks.

Every cluster a test starts is leak-checked when it stops (issue 6, "Done means"): each live
cloud disk must belong to exactly one PersistentVolume, so a provisioned disk whose PV is gone
(unless the PV was deleted under the Retain policy, which keeps disks on purpose) or a disk
provisioned twice fails the test. Tests that make cloud disks by hand without PVs opt out
with ``@pytest.mark.allow_disk_leaks``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from minikube_lite.cluster import Cluster


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cluster-storage", choices=["memory", "etcd"], default="memory",
                     help="where every Cluster a test starts keeps its objects (etcd: a throwaway etcd, "
                          "one key prefix per cluster)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_disk_leaks: skip the cloud-disk leak check at cluster teardown")
    if config.getoption("--cluster-storage", "memory") == "etcd":
        _run_clusters_on_etcd(config)


def _run_clusters_on_etcd(config: pytest.Config) -> None:
    """Start one etcd for the run and give every Cluster without a ``storage`` its own prefix on it."""
    import contextlib
    import functools
    import uuid

    from minikube_lite.testing.etcd import run_etcd

    stack = contextlib.ExitStack()
    server = stack.enter_context(run_etcd())
    config.add_cleanup(stack.close)
    original = Cluster.__init__

    @functools.wraps(original)
    def init(self: Cluster, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("storage", server.url(f"cluster-{uuid.uuid4().hex[:12]}"))
        original(self, *args, **kwargs)

    Cluster.__init__ = init  # type: ignore[method-assign]


def _retained_handles(cluster: Cluster) -> set[str]:
    return getattr(cluster, "_retained_handles", set())


def _track_retained(cluster: Cluster) -> None:
    retained: set[str] = set()
    cluster._retained_handles = retained  # type: ignore[attr-defined]

    def on_write(op: str, rt: Any, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if op == "delete" and rt.key == ("", "persistentvolumes"):
            spec = obj.get("spec") or {}
            handle = (spec.get("csi") or {}).get("volumeHandle")
            if handle and spec.get("persistentVolumeReclaimPolicy") != "Delete":
                retained.add(handle)

    cluster.engine.on_write.append(on_write)


def leak_report(cluster: Cluster) -> list[str]:
    if cluster.cloud is None:
        return []
    pvs = [s.object() for s in cluster.engine.store.iter(("", "persistentvolumes"))]
    handles = Counter(((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle") for pv in pvs)
    problems = []
    for disk_id, disk in sorted(cluster.cloud.disks.items()):
        if getattr(disk, "status", "") == "Deleting" or disk_id in _retained_handles(cluster):
            continue
        owners = handles.get(disk_id, 0)
        if owners != 1:
            problems.append(f"disk {disk_id} ({getattr(disk, 'name', '')}, {getattr(disk, 'status', '')}) "
                            f"is the volumeHandle of {owners} PersistentVolumes")
    return problems


@pytest.fixture(autouse=True)
def cloud_disk_leak_check(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if request.node.get_closest_marker("allow_disk_leaks"):
        yield
        return
    original_init = Cluster.__init__
    original_stop = Cluster.stop
    failures: list[str] = []

    def init(self: Cluster, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _track_retained(self)

    async def stop(self: Cluster) -> None:
        if self.cloud is not None and self.controllers:
            try:
                await self.settle(timeout=120)
            except Exception:  # noqa: BLE001 - the test's own failure matters more
                pass
            failures.extend(leak_report(self))
        await original_stop(self)

    monkeypatch.setattr(Cluster, "__init__", init)
    monkeypatch.setattr(Cluster, "stop", stop)
    yield
    if failures:
        pytest.fail("cloud disk leak check failed at cluster teardown:\n  " + "\n  ".join(failures), pytrace=False)


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[Any]:
    """One real etcd for the session (temp data dir, free loopback ports); tests use their own prefixes."""
    from minikube_lite.testing.etcd import EtcdUnavailable, etcd_binary, run_etcd

    if etcd_binary() is None:
        pytest.skip("etcd is not installed and could not be: run scripts/install_etcd (Debian's etcd-server)")
    try:
        with run_etcd() as server:
            yield server
    except EtcdUnavailable as exc:
        pytest.skip(str(exc))
