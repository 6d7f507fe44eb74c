"""The csi-snapshotter sidecar (storage.md §4.6, §4.8.3-4): CreateSnapshot, readiness polling,
error status and recovery on cloud faults, being-created protection, DeleteSnapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from snapshot_fakes import (
    DISK_DRIVER,
    VS,
    VSC,
    VSCLASS,
    reasons,
    snapshot_class,
    snapshot_cluster,
    start_sidecar,
    static_bound_claim,
    volume_snapshot,
)

from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.sidecars import snapshotter as SC
from minikube_lite.controllers.snapshot import objects as SO

NS = "default"
CONFIG = {
    "nodes": [{"name": "node1", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b"],
              "durations": {"createSnapshot": 10.0, "apiLatency": 0.0}},
    "timings": {"snapshotReadyPollInterval": 2.0, "snapshotRetryInitial": 1.0, "snapshotRetryMax": 8.0},
}


@pytest.fixture
async def cluster(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Cluster]:
    async with snapshot_cluster(monkeypatch, ClusterConfig.from_dict(CONFIG)) as c:
        await start_sidecar(c)
        await static_bound_claim(c)
        await c.client.create(VSCLASS, snapshot_class())
        yield c


async def content(c: Cluster, name: str = "snap1") -> dict[str, Any]:
    vs = await c.client.get(VS, name, NS)
    return await c.client.get(VSC, SO.dynamic_content_name(vs))


def sidecar(c: Cluster) -> Any:
    return next(x for x in c.controllers if isinstance(x, SC.SnapshotSidecar))


def driver_calls(c: Cluster, op: str) -> int:
    return sum(1 for e in c.cloud.log if e["operation"] == op)


async def test_4_6_readiness_is_polled_on_the_configured_interval_until_accomplished(cluster: Cluster) -> None:
    c = cluster
    assert sidecar(c).poll_interval == 2.0
    start = c.clock.now()
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=5)
    vsc = await content(c)
    assert vsc["status"]["readyToUse"] is False
    assert vsc["status"]["snapshotHandle"] in c.cloud.snapshots
    assert vsc["status"]["creationTime"] == int(start * 1e9)
    assert (await c.client.get(VS, "snap1", NS))["status"]["readyToUse"] is False
    await c.settle()
    vsc = await content(c)
    assert vsc["status"]["readyToUse"] is True
    # Ready at t=10 s, noticed by the first poll after it; never polled again once ready.
    assert 10 <= c.clock.now() - start <= 12.5
    assert driver_calls(c, "CreateSnapshot") == 1
    drv = sidecar(c).drivers[DISK_DRIVER]
    if hasattr(drv, "calls"):  # the fake records its requests: one ListSnapshots per interval
        assert sum(1 for op, _ in drv.calls if op == "ListSnapshots") == 5
    await c.clock.advance(60)
    await c.settle()
    assert (await content(c))["metadata"]["resourceVersion"] == vsc["metadata"]["resourceVersion"]


async def test_4_6_cloud_fault_sets_error_status_and_event_then_recovers(cluster: Cluster) -> None:
    c = cluster
    c.cloud.faults.fail_next("CreateSnapshot", code="InternalError", message="disk is busy", times=1000)
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=60)
    vsc = await content(c)
    handle = vsc["spec"]["source"]["volumeHandle"]
    msg = (f'Failed to create snapshot: failed to take snapshot of the volume {handle}: '
           f'"rpc error: code = Internal desc = disk is busy"')
    assert vsc["status"]["readyToUse"] is False
    assert vsc["status"]["error"]["message"] == msg and vsc["status"]["error"]["time"]
    assert "snapshotHandle" not in vsc["status"]
    # A final error: the being-created annotation is removed.
    assert SO.ANN_BEING_CREATED not in (vsc["metadata"].get("annotations") or {})
    events = await reasons(c.client, vsc["metadata"]["name"])
    assert events == [("Warning", "SnapshotCreationFailed", msg)]
    vs = await c.client.get(VS, "snap1", NS)
    assert vs["status"]["error"]["message"] == msg and vs["status"]["readyToUse"] is False
    assert c.cloud.snapshots == {}

    tries = len(c.cloud.faults.fired)
    assert 3 <= tries <= 10  # backoff: 1, 2, 4, 8, 8... s (snapshotRetryMax is 8 s here)
    c.cloud.faults.clear()
    await c.settle()  # the next backoff retry reaches the cloud again
    vsc = await content(c)
    assert vsc["status"]["readyToUse"] is True and "error" not in vsc["status"]
    vs = await c.client.get(VS, "snap1", NS)
    assert vs["status"]["readyToUse"] is True and "error" not in vs["status"]
    assert len(c.cloud.snapshots) == 1
    assert (await reasons(c.client, vsc["metadata"]["name"])) == [("Warning", "SnapshotCreationFailed", msg)]


async def test_4_6_event_source_is_the_drivers_sidecar(cluster: Cluster) -> None:
    c = cluster
    c.cloud.faults.fail_next("CreateSnapshot", code="InternalError")
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    vsc = await content(c)
    listing = await c.client.list("events", NS, field_selector=f"involvedObject.name={vsc['metadata']['name']}")
    assert {e["source"]["component"] for e in listing["items"]} == {f"csi-snapshotter {DISK_DRIVER}"}


async def test_4_6_unavailable_keeps_being_created_and_deletion_waits_for_the_answer(cluster: Cluster) -> None:
    c = cluster
    c.cloud.faults.zone_outage("cn-hangzhou-b")
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=3)
    vsc = await content(c)
    assert vsc["metadata"]["annotations"][SO.ANN_BEING_CREATED] == "yes"
    assert "code = Unavailable" in vsc["status"]["error"]["message"]
    await c.client.delete(VS, "snap1", NS)
    await c.settle(timeout=5)
    vsc = await content(c)  # still there: CreateSnapshot has not answered yet
    assert vsc["metadata"]["deletionTimestamp"]
    assert vsc["metadata"]["annotations"][SO.ANN_BEING_DELETED] == "yes"
    c.cloud.faults.zone_outage("cn-hangzhou-b", down=False)
    await c.settle()
    assert (await c.client.list(VS, NS))["items"] == []
    assert (await c.client.list(VSC))["items"] == []
    assert c.cloud.snapshots == {}
    assert driver_calls(c, "DeleteSnapshot") == 1


async def test_4_8_deleting_during_creation_leaves_no_cloud_snapshot(cluster: Cluster) -> None:
    c = cluster
    c.cloud.faults.add_latency("CreateSnapshot", 3.0)  # the CreateSnapshot call is in flight for 3 s
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=1)
    vsc = await content(c)
    assert vsc["metadata"]["annotations"][SO.ANN_BEING_CREATED] == "yes"
    assert not vsc.get("status")
    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    assert (await c.client.list(VS, NS))["items"] == []
    assert (await c.client.list(VSC))["items"] == []
    assert c.cloud.snapshots == {}
    ops = [e["operation"] for e in c.cloud.log if e["operation"] in ("CreateSnapshot", "DeleteSnapshot")]
    assert ops == ["CreateSnapshot", "DeleteSnapshot"]


async def test_4_8_deleting_a_progressing_snapshot_deletes_it_in_the_cloud(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=3)
    vsc = await content(c)
    handle = vsc["status"]["snapshotHandle"]
    assert c.cloud.snapshots[handle].status == "progressing"
    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    assert (await c.client.list(VSC))["items"] == []
    assert handle not in c.cloud.snapshots


async def test_4_8_delete_snapshot_failure_is_reported_and_retried(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    name = (await content(c))["metadata"]["name"]
    c.cloud.faults.fail_next("DeleteSnapshot", code="InternalError", times=2)
    await c.client.delete(VS, "snap1", NS)
    await c.settle(timeout=1)
    vsc = await c.client.get(VSC, name)
    assert vsc["metadata"]["finalizers"] == [SO.FINALIZER_VSC_BOUND]
    assert ("Warning", "SnapshotDeleteError", "Failed to delete snapshot") in await reasons(c.client, name)
    await c.settle()
    assert (await c.client.list(VSC))["items"] == []
    assert (await c.client.list(VS, NS))["items"] == []
    assert c.cloud.snapshots == {}


async def test_4_6_unknown_reserved_parameter_fails_the_snapshot(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VSCLASS, snapshot_class("odd", parameters={"csi.storage.k8s.io/bogus": "1"}))
    await c.client.create(VS, volume_snapshot("snap1", pvc="src", snapclass="odd"), NS)
    await c.settle(timeout=3)
    vsc = await content(c)
    assert vsc["status"]["error"]["message"] == (
        'Failed to create snapshot: failed to remove CSI Parameters of prefixed keys: found unknown parameter key '
        '"csi.storage.k8s.io/bogus" with reserved namespace csi.storage.k8s.io/')
    # The failure came after the annotation was set and before any CSI call: it stays (the safe side).
    assert vsc["metadata"]["annotations"][SO.ANN_BEING_CREATED] == "yes"
    assert c.cloud.snapshots == {}


async def test_4_6_missing_class_fails_the_snapshot_until_it_appears(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=1)
    name = (await content(c))["metadata"]["name"]
    # The class goes away under a content that still needs it.
    await c.client.delete(VSCLASS, "disk-snapclass")
    await c.client.patch(VSC, name, {"status": None}, subresource="status")
    await c.settle(timeout=3)
    vsc = await c.client.get(VSC, name)
    assert vsc["status"]["error"]["message"] == (
        f'Failed to create snapshot: failed to get input parameters to create snapshot for content {name}: '
        f'"volumesnapshotclass.snapshot.storage.k8s.io \\"disk-snapclass\\" not found"')
    await c.client.create(VSCLASS, snapshot_class())
    await c.settle()
    assert (await c.client.get(VSC, name))["status"]["readyToUse"] is True


async def test_4_6_class_parameters_reach_the_driver_without_reserved_keys(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VSCLASS, snapshot_class("params", parameters={
        "csi.storage.k8s.io/snapshotter-secret-name": "s", "csi.storage.k8s.io/snapshotter-secret-namespace": NS,
        "instantAccess": "true"}))
    drv = sidecar(c).drivers[DISK_DRIVER]
    if not hasattr(drv, "calls"):
        pytest.skip("the real cloud-disk driver does not record its requests")
    await c.client.create(VS, volume_snapshot("snap1", pvc="src", snapclass="params"), NS)
    await c.settle()
    creates = [req for op, req in drv.calls if op == "CreateSnapshot"]
    params = creates[0]["parameters"] if isinstance(creates[0], dict) else creates[0].parameters
    assert params == {"instantAccess": "true"}


async def test_4_8_deleting_a_failing_snapshot_does_not_wait_for_the_create_backoff(cluster: Cluster) -> None:
    c = cluster
    c.cloud.faults.fail_next("CreateSnapshot", code="InternalError", times=1000)
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=30)  # backoff has grown to its 8 s cap
    start = c.clock.now()
    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    assert (await c.client.list(VS, NS))["items"] == [] and (await c.client.list(VSC))["items"] == []
    assert c.clock.now() - start < 1.0
    assert c.cloud.snapshots == {}
