"""The csi-resizer sidecar on the default cluster (virtual clock): status, PV, events, retries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.sidecars.resizer import ExternalResizers
from minikube_lite.kube import resize_status as rs

JSON = dict[str, Any]
DISK = "diskplugin.csi.alibabacloud.com"
HOSTPATH = "hostpath.csi.k8s.io"


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with Cluster(clock=VirtualClock()) as c:
        yield c


def claim(name: str = "data", size: str = "20Gi", cls: str | None = None) -> JSON:
    spec: JSON = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


async def bound(c: Cluster, size: str = "20Gi", cls: str | None = None) -> JSON:
    await c.client.create("pvc", claim(size=size, cls=cls), "default")
    await c.settle()
    pvc = await c.client.get("pvc", "data", "default")
    assert pvc["status"]["phase"] == "Bound"
    return pvc


async def grow(c: Cluster, size: str) -> None:
    await c.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": size}}}}, "default")


async def events(c: Cluster, name: str = "data") -> list[tuple[str, str, str, str]]:
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["source"]["component"], e["message"]) for e in items]


def resize_calls(c: Cluster) -> int:
    return sum(1 for o in c.cloud.log if o["operation"] == "ResizeDisk")


def resizer(c: Cluster, driver: str = DISK) -> Any:
    group = next(x for x in c.controllers if isinstance(x, ExternalResizers))
    return group.instances[driver]


async def test_grow_without_pod_waits_for_the_node(cluster: Cluster) -> None:
    pvc = await bound(cluster)
    await grow(cluster, "30Gi")
    await cluster.settle()
    pvc = await cluster.client.get("pvc", "data", "default")
    status = pvc["status"]
    assert status["capacity"]["storage"] == "20Gi"
    assert status["allocatedResources"] == {"storage": "30Gi"}
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    conds = {c["type"]: c for c in status["conditions"]}
    assert set(conds) == {"Resizing", "FileSystemResizePending"}
    assert conds["FileSystemResizePending"]["message"] == (
        "Waiting for user to (re-)start a pod to finish file system resize of volume on node.")
    pv = await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"])
    assert pv["spec"]["capacity"] == {"storage": "30Gi"}
    assert "volume.alpha.kubernetes.io/pre-resize-capacity" not in pv["metadata"]["annotations"]
    assert cluster.cloud.disks[pv["spec"]["csi"]["volumeHandle"]].size_gib == 30
    source = f"external-resizer {DISK}"
    items = (await cluster.client.list("events", "default", field_selector="involvedObject.name=data"))["items"]
    assert all(int(e.get("count") or 1) == 1 for e in items if e["source"]["component"] == source)  # once each
    assert [e for e in await events(cluster) if e[2] == source] == [
        ("Normal", "Resizing", source, f"External resizer is resizing volume {pv['metadata']['name']}"),
        ("Normal", "FileSystemResizeRequired", source, "Require file system resize of volume on node"),
    ]


async def test_reconcile_again_changes_nothing(cluster: Cluster) -> None:
    await bound(cluster)
    await grow(cluster, "30Gi")
    await cluster.settle()
    before = (await cluster.client.get("pvc", "data", "default"), resize_calls(cluster), await events(cluster))
    for _ in range(3):
        resizer(cluster).queue.add("default/data")
        await cluster.settle()
    after = (await cluster.client.get("pvc", "data", "default"), resize_calls(cluster), await events(cluster))
    assert after == before


async def test_transient_cloud_failure_is_retried_with_backoff(cluster: Cluster) -> None:
    pvc = await bound(cluster)
    cluster.cloud.faults.fail_next("ResizeDisk", code="ServiceUnavailable", times=2)
    await grow(cluster, "30Gi")
    for _ in range(50):
        await cluster._quiesce()
        if any(e[1] == "VolumeResizeFailed" for e in await events(cluster)):
            break
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}
    assert [c["type"] for c in status["conditions"]] == ["Resizing"]  # a non-final error: no error condition
    await cluster.settle()
    failed = [e for e in await events(cluster) if e[1] == "VolumeResizeFailed"]
    pv_name = pvc["spec"]["volumeName"]
    assert len(failed) >= 1 and failed[0][0] == "Warning"
    assert failed[0][3].startswith(f'resize volume "{pv_name}" by resizer "{DISK}" failed: rpc error: '
                                   "code = Unavailable desc = ControllerExpandVolume: ServiceUnavailable")
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    assert cluster.cloud.faults.fired == [("ResizeDisk", "ServiceUnavailable")] * 2


async def test_infeasible_size_then_user_lowers_the_request(cluster: Cluster) -> None:
    """RecoverVolumeExpansionFailure: an impossible size is marked infeasible; a lower request wins."""
    await bound(cluster)
    await grow(cluster, "40000Gi")  # above cloud_ssd's 32768 GiB maximum
    await cluster.settle(timeout=5)
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResourceStatuses"] == {"storage": "ControllerResizeInfeasible"}
    assert status["allocatedResources"] == {"storage": "40000Gi"}
    error = next(c for c in status["conditions"] if c["type"] == "ControllerResizeError")
    assert error["message"].startswith("failed to expand pvc with rpc error: code = InvalidArgument desc = ")
    assert status["capacity"]["storage"] == "20Gi"
    await grow(cluster, "40Gi")
    await cluster.settle()
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResources"] == {"storage": "40Gi"}
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    assert "ControllerResizeError" not in {c["type"] for c in status["conditions"]}


async def test_hostpath_volume_is_expanded_by_its_own_resizer(cluster: Cluster) -> None:
    pvc = await bound(cluster, size="1Gi", cls="csi-hostpath-sc")
    await grow(cluster, "2Gi")
    await cluster.settle()
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    pv = await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"])
    assert pv["spec"]["capacity"] == {"storage": "2Gi"}
    assert [e[2] for e in await events(cluster) if e[1] == "Resizing"] == [f"external-resizer {HOSTPATH}"]
    assert resize_calls(cluster) == 0


def test_merge_resize_conditions_keeps_other_conditions_and_times() -> None:
    old = [{"type": "Resizing", "status": "True", "lastTransitionTime": "t0"},
           {"type": "Other", "status": "True"}]
    merged = rs.merge_resize_conditions(old, [rs.condition("Resizing", "t1")], keep_old=False)
    assert merged == old
    merged = rs.merge_resize_conditions(old, [rs.condition("FileSystemResizePending", "t1")], keep_old=False)
    assert [c["type"] for c in merged] == ["Other", "FileSystemResizePending"]
    merged = rs.merge_resize_conditions(old, [rs.condition("FileSystemResizePending", "t1")], keep_old=True)
    assert [c["type"] for c in merged] == ["Resizing", "Other", "FileSystemResizePending"]


def slow_retry_config(seconds: float) -> ClusterConfig:
    config = ClusterConfig.default()
    config.timings.resizerRetryInitial = seconds
    config.timings.resizerRetryMax = 10 * seconds
    return config


async def test_a_failed_expansion_sits_out_the_configured_backoff() -> None:
    """The runtime's retry rule: a rate-limited requeue held for ``resizerRetryInitial``, even
    though the resizer's own status write brings the claim back sooner."""
    async with Cluster(slow_retry_config(30.0), clock=VirtualClock()) as c:
        await bound(c)
        c.cloud.faults.fail_next("ResizeDisk", code="ServiceUnavailable", times=1)
        await grow(c, "30Gi")
        await c.settle(timeout=10)
        assert c.cloud.faults.fired == [("ResizeDisk", "ServiceUnavailable")]
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["allocatedResourceStatuses"] == {"storage": "ControllerResizeInProgress"}
        assert 20.0 <= resizer(c).queue.held_for("default/data") <= 30.0
        await c.settle()
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
        assert resizer(c).queue.held_for("default/data") == 0.0


async def test_a_new_request_cuts_the_backoff_short() -> None:
    """A final error holds the claim for the backoff; the user's lower request is news and runs now."""
    async with Cluster(slow_retry_config(300.0), clock=VirtualClock()) as c:
        await bound(c)
        await grow(c, "40000Gi")  # above cloud_ssd's maximum: InvalidArgument, final
        await c.settle(timeout=5)
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["allocatedResourceStatuses"] == {"storage": "ControllerResizeInfeasible"}
        assert resizer(c).queue.held_for("default/data") > 250.0
        await grow(c, "40Gi")
        await c.settle(timeout=5)
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["allocatedResources"] == {"storage": "40Gi"}
        assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}


async def test_a_fractional_request_expands_to_the_next_whole_byte(cluster: Cluster) -> None:
    """ControllerExpandVolume gets ``Quantity.Value()`` of the new request, rounded up."""
    pvc = await bound(cluster, size="1Ki", cls="csi-hostpath-sc")
    await grow(cluster, "1024.5")
    await cluster.settle()
    pv = await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"])
    assert pv["spec"]["capacity"] == {"storage": "1025"}
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
