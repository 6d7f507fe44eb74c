"""Scenario (a) of storage.md §7: dynamic provisioning -> snapshot -> restore -> cleanup, step by
step, on the default cluster (host-path driver, as the spec tells it), with every controller of
the chain running: PV controller, protection, external-provisioner, snapshot controller, sidecar.

Then the same chain on the cloud-disk driver, proving the restored disk holds the snapshot's data
and not the source's later writes, and the restore refusals of step 7 with their exact messages.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "controllers"))

from snapshot_fakes import (  # noqa: E402
    BASE_CONTROLLERS,
    PROVISIONER,
    SNAPSHOT_CONTROLLERS,
    VS,
    VSC,
    real_drivers_available,
    reasons,
    volume_snapshot,
)

import minikube_lite.cluster as cluster_mod  # noqa: E402
from minikube_lite.client.informer import Informer  # noqa: E402
from minikube_lite.clock import VirtualClock  # noqa: E402
from minikube_lite.cluster import Cluster  # noqa: E402
from minikube_lite.controllers.sidecars.snapshotter import SnapshotSidecar
from minikube_lite.controllers.snapshot import objects as SO

pytestmark = pytest.mark.skipif(not real_drivers_available(), reason="needs the CSI drivers (csi/registry.py)")

NS = "default"
GROUP = "snapshot.storage.k8s.io"
HOSTPATH = "hostpath.csi.k8s.io"
ALL = [*BASE_CONTROLLERS, *PROVISIONER, *SNAPSHOT_CONTROLLERS,
       SnapshotSidecar]


def claim(name: str, size: str, sc: str, snapshot: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                            "resources": {"requests": {"storage": size}}}
    if snapshot:
        spec["dataSource"] = {"apiGroup": GROUP, "kind": "VolumeSnapshot", "name": snapshot}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
async def cluster(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Cluster]:
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", ALL)
    async with Cluster(clock=VirtualClock()) as c:
        yield c


class Recorder:
    """Every version of the VolumeSnapshots, as another controller's informer would see them."""

    def __init__(self, c: Cluster) -> None:
        self.seen: list[dict[str, Any]] = []
        self.informer = Informer(c.client, VS, clock=c.clock)
        self.informer.add_handler(lambda ev, obj, old: self.seen.append(copy.deepcopy(obj)))

    def versions(self, name: str) -> list[dict[str, Any]]:
        return [o for o in self.seen if o["metadata"]["name"] == name]


async def pvc(c: Cluster, name: str) -> dict[str, Any]:
    return await c.client.get("persistentvolumeclaims", name, NS)


async def test_scenario_a_step_by_step(cluster: Cluster) -> None:
    c = cluster
    rec = Recorder(c)
    await rec.informer.start()

    # 1-3. PVC src is provisioned by the host-path driver and bound.
    await c.client.create("persistentvolumeclaims", claim("src", "1Gi", "csi-hostpath-sc"), NS)
    await c.settle()
    src = await pvc(c, "src")
    assert src["status"]["phase"] == "Bound"
    assert src["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    pv = await c.client.get("persistentvolumes", src["spec"]["volumeName"])
    assert pv["metadata"]["name"] == f"pvc-{src['metadata']['uid']}"
    assert pv["spec"]["csi"]["driver"] == HOSTPATH

    # 4. VolumeSnapshot snap1 of src.
    vs = await c.client.create(VS, volume_snapshot("snap1", pvc="src", snapclass="csi-hostpath-snapclass"), NS)
    uid = vs["metadata"]["uid"]
    await c.settle()
    versions = rec.versions("snap1")
    # as-source first, then status bound with readyToUse false, then the bound finalizer.
    assert versions[0]["metadata"].get("finalizers") in (None, [])
    first_fin = next(v for v in versions if v["metadata"].get("finalizers"))
    assert first_fin["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE] and not first_fin.get("status")
    first_status = next(v for v in versions if v.get("status"))
    assert first_status["status"]["boundVolumeSnapshotContentName"] == f"snapcontent-{uid}"
    assert first_status["status"]["readyToUse"] is False
    assert SO.FINALIZER_VS_BOUND not in first_status["metadata"]["finalizers"]

    content = await c.client.get(VSC, f"snapcontent-{uid}")
    assert content["spec"]["source"] == {"volumeHandle": pv["spec"]["csi"]["volumeHandle"]}
    assert content["spec"]["deletionPolicy"] == "Delete"
    assert content["spec"]["driver"] == HOSTPATH
    assert content["spec"]["volumeSnapshotClassName"] == "csi-hostpath-snapclass"
    assert content["metadata"]["finalizers"] == [SO.FINALIZER_VSC_BOUND]

    # 5. Sidecar: content status; the being-created annotation is gone again.
    assert content["status"]["readyToUse"] is True
    assert content["status"]["restoreSize"] == 1073741824
    assert isinstance(content["status"]["creationTime"], int) and content["status"]["snapshotHandle"]
    assert SO.ANN_BEING_CREATED not in (content["metadata"].get("annotations") or {})

    # 6. Controller: VS ready, events, PVC finalizer dropped again.
    vs = await c.client.get(VS, "snap1", NS)
    assert vs["status"]["readyToUse"] is True and vs["status"]["restoreSize"] == "1Gi"
    assert vs["status"]["creationTime"]
    assert vs["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE, SO.FINALIZER_VS_BOUND]
    assert await reasons(c.client, "snap1") == [
        ("Normal", "CreatingSnapshot", "Waiting for a snapshot default/snap1 to be created by the CSI driver."),
        ("Normal", "SnapshotCreated", "Snapshot default/snap1 was successfully created by the CSI driver."),
        ("Normal", "SnapshotReady", "Snapshot default/snap1 is ready to use."),
    ]
    src_versions_finalizers = (await pvc(c, "src"))["metadata"]["finalizers"]
    assert src_versions_finalizers == ["kubernetes.io/pvc-protection"]

    # 7. Restore: provisioned from the snapshot and bound.
    await c.client.create("persistentvolumeclaims", claim("restored", "1Gi", "csi-hostpath-sc", "snap1"), NS)
    await c.settle()
    restored = await pvc(c, "restored")
    assert restored["status"]["phase"] == "Bound"
    rpv = await c.client.get("persistentvolumes", restored["spec"]["volumeName"])
    assert rpv["metadata"]["name"] == f"pvc-{restored['metadata']['uid']}"
    events = await reasons(c.client, "restored")
    assert ("Normal", "ProvisioningSucceeded", f"Successfully provisioned volume {rpv['metadata']['name']}") in events
    vs = await c.client.get(VS, "snap1", NS)
    assert "provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection" not in vs["metadata"]["finalizers"]

    # 7 (negative). Too small a request stays Pending with the exact message.
    await c.client.create("persistentvolumeclaims", claim("small", "512Mi", "csi-hostpath-sc", "snap1"), NS)
    await c.settle(timeout=5)
    assert (await pvc(c, "small"))["status"]["phase"] == "Pending"
    failed = [m for t, r, m in await reasons(c.client, "small") if r == "ProvisioningFailed"]
    assert failed and failed[0].endswith(
        "error getting handle for DataSource Type VolumeSnapshot by Name snap1: requested volume size 536870912 "
        "is less than the size 1073741824 for the source snapshot snap1")

    # 8. Deleting snap1 while "small" (restoring from it) is Pending.
    await c.client.delete(VS, "snap1", NS)
    await c.settle(timeout=5)
    vs = await c.client.get(VS, "snap1", NS)
    assert vs["metadata"]["deletionTimestamp"]
    assert ("Warning", "SnapshotDeletePending", "Snapshot is being used to restore a PVC") in await reasons(
        c.client, "snap1")
    assert (await c.client.get(VSC, f"snapcontent-{uid}"))["metadata"].get("deletionTimestamp") is None

    # Later: the pending restore goes away; content annotated, deleted, finalised; VS gone.
    await c.client.delete("persistentvolumeclaims", "small", NS)
    await c.settle()
    assert (await c.client.list(VS, NS))["items"] == []
    assert (await c.client.list(VSC))["items"] == []
    hostpath = c.drivers[HOSTPATH]
    assert getattr(hostpath, "snapshots", {}) == {}

    # Deleting src: the PVC goes, the PV is released and deleted by the provisioner.
    await c.client.delete("persistentvolumeclaims", "src", NS)
    await c.settle()
    names = [p["metadata"]["name"] for p in (await c.client.list("persistentvolumes"))["items"]]
    assert pv["metadata"]["name"] not in names and rpv["metadata"]["name"] in names
    await rec.informer.stop()


async def test_scenario_a_cloud_disk_restore_holds_the_snapshot_data(cluster: Cluster) -> None:
    """The course's names: disk-pvc, disk-snapshot (default class), and a restore from it."""
    c = cluster
    await c.client.create("persistentvolumeclaims", claim("disk-pvc", "20Gi", "alicloud-disk-ssd"), NS)
    await c.settle()
    source = await pvc(c, "disk-pvc")
    disk_id = (await c.client.get("persistentvolumes", source["spec"]["volumeName"]))["spec"]["csi"]["volumeHandle"]
    c.cloud.write_disk(disk_id, "version 1: before the snapshot")

    await c.client.create(VS, volume_snapshot("disk-snapshot", pvc="disk-pvc", snapclass=None), NS)
    await c.settle(timeout=1)  # the cloud snapshot takes 5 s
    vs = await c.client.get(VS, "disk-snapshot", NS)
    assert vs["spec"]["volumeSnapshotClassName"] == "default-snapclass"  # the default class for the driver
    assert vs["status"]["readyToUse"] is False
    c.cloud.write_disk(disk_id, "version 2: after the snapshot")

    # 7 (negative): restoring from a snapshot that is not ready yet.
    await c.client.create("persistentvolumeclaims", claim("restore", "20Gi", "alicloud-disk-ssd", "disk-snapshot"), NS)
    await c.settle(timeout=1)
    assert (await pvc(c, "restore"))["status"]["phase"] == "Pending"
    failed = [m for t, r, m in await reasons(c.client, "restore") if r == "ProvisioningFailed"]
    assert failed and failed[0].endswith(
        "error getting handle for DataSource Type VolumeSnapshot by Name disk-snapshot: "
        "snapshot disk-snapshot is not Ready")

    await c.settle()
    vs = await c.client.get(VS, "disk-snapshot", NS)
    assert vs["status"]["readyToUse"] is True and vs["status"]["restoreSize"] == "20Gi"
    restored = await pvc(c, "restore")
    assert restored["status"]["phase"] == "Bound"
    new_disk = (await c.client.get("persistentvolumes", restored["spec"]["volumeName"]))["spec"]["csi"]["volumeHandle"]
    handle = (await c.client.get(VSC, vs["status"]["boundVolumeSnapshotContentName"]))["status"]["snapshotHandle"]
    assert c.cloud.disks[new_disk].source_snapshot_id == handle
    assert c.cloud.read_disk(new_disk).data == b"version 1: before the snapshot"
    assert c.cloud.read_disk(disk_id).data == b"version 2: after the snapshot"

    # deletionPolicy Delete: deleting the snapshot deletes the content and the cloud snapshot.
    await c.client.delete(VS, "disk-snapshot", NS)
    await c.settle()
    assert (await c.client.list(VSC))["items"] == []
    assert handle not in c.cloud.snapshots
    assert c.cloud.read_disk(new_disk).data == b"version 1: before the snapshot"
