"""The common snapshot controller (storage.md §4.3-4.5, §4.7, §4.8): finalizers, annotations,
content creation, status mirroring, default class, pre-provisioned binding and deletion.

The source volume is a static CSI PV pre-bound to its claim (the PV controller completes the
binding), so these tests do not depend on the provisioner; the sidecar runs over the cluster's
cloud-disk driver, or a small CSI-shaped fake of it when the CSI drivers are not there.
"""

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
    restore_claim,
    snapshot_class,
    snapshot_cluster,
    snapshot_controller,
    start_sidecar,
    static_bound_claim,
    volume_snapshot,
)

from minikube_lite.client.informer import Informer
from minikube_lite.cluster import Cluster
from minikube_lite.controllers.sidecars.snapshotter import SnapshotSidecar
from minikube_lite.controllers.snapshot import controller as S
from minikube_lite.controllers.snapshot import objects as SO

NS = "default"


@pytest.fixture
async def cluster(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Cluster]:
    async with snapshot_cluster(monkeypatch) as c:
        await start_sidecar(c)
        yield c


async def get_vs(c: Cluster, name: str = "snap1") -> dict[str, Any]:
    return await c.client.get(VS, name, NS)


async def content_of(c: Cluster, vs: dict[str, Any]) -> dict[str, Any]:
    return await c.client.get(VSC, vs["status"]["boundVolumeSnapshotContentName"])


async def names(c: Cluster, resource: str, ns: str | None = None) -> list[str]:
    return sorted(o["metadata"]["name"] for o in (await c.client.list(resource, ns))["items"])


# ---------------------------------------------------------------- dynamic flow (§4.5)


async def test_4_5_dynamic_snapshot_finalizers_content_status_and_events(cluster: Cluster) -> None:
    c = cluster
    pvc, pv, disk_id = await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class())
    vs = await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    uid = vs["metadata"]["uid"]
    await c.settle(timeout=1)  # the cloud snapshot takes 5 s: stop while it is still progressing

    vs = await get_vs(c)
    assert vs["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE, SO.FINALIZER_VS_BOUND]
    assert vs["status"]["boundVolumeSnapshotContentName"] == f"snapcontent-{uid}"
    assert vs["status"]["readyToUse"] is False
    assert "creationTime" in vs["status"] and "error" not in vs["status"]
    claim = await c.client.get("persistentvolumeclaims", "src", NS)
    assert SO.FINALIZER_PVC_AS_SOURCE in claim["metadata"]["finalizers"]

    content = await content_of(c, vs)
    assert content["metadata"]["finalizers"] == [SO.FINALIZER_VSC_BOUND]
    ref = content["spec"]["volumeSnapshotRef"]
    assert (ref["kind"], ref["apiVersion"], ref["namespace"], ref["name"], ref["uid"]) == (
        "VolumeSnapshot", "snapshot.storage.k8s.io/v1", NS, "snap1", uid)
    assert content["spec"]["source"] == {"volumeHandle": disk_id}
    assert content["spec"]["driver"] == DISK_DRIVER
    assert content["spec"]["deletionPolicy"] == "Delete"
    assert content["spec"]["volumeSnapshotClassName"] == "disk-snapclass"
    assert content["spec"]["sourceVolumeMode"] == "Filesystem"
    assert content["status"]["readyToUse"] is False
    handle = content["status"]["snapshotHandle"]
    assert c.cloud.snapshots[handle].name == f"snapshot-{uid}"
    assert SO.ANN_BEING_CREATED not in (content["metadata"].get("annotations") or {})

    await c.settle()
    vs = await get_vs(c)
    content = await content_of(c, vs)
    assert content["status"]["readyToUse"] is True
    assert content["status"]["restoreSize"] == 20 * 1024**3
    assert isinstance(content["status"]["creationTime"], int)
    assert vs["status"]["readyToUse"] is True
    assert vs["status"]["restoreSize"] == "20Gi"
    assert vs["status"]["creationTime"].endswith("Z")
    claim = await c.client.get("persistentvolumeclaims", "src", NS)
    assert SO.FINALIZER_PVC_AS_SOURCE not in claim["metadata"]["finalizers"]
    assert await reasons(c.client, "snap1") == [
        ("Normal", "CreatingSnapshot", "Waiting for a snapshot default/snap1 to be created by the CSI driver."),
        ("Normal", "SnapshotCreated", "Snapshot default/snap1 was successfully created by the CSI driver."),
        ("Normal", "SnapshotReady", "Snapshot default/snap1 is ready to use."),
    ]


async def test_4_5_source_claim_not_bound_fails_then_recovers(cluster: Cluster) -> None:
    c = cluster
    await c.client.create(VSCLASS, snapshot_class())
    claim = await c.client.create("persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "src"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": "pv-src",
                 "resources": {"requests": {"storage": "20Gi"}}}}, NS)
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=3)
    vs = await get_vs(c)
    msg = ('Failed to create snapshot content with error failed to get input parameters to create snapshot snap1: '
           '"the PVC src is not yet bound to a PV, will not attempt to take a snapshot"')
    assert vs["status"]["readyToUse"] is False
    assert vs["status"]["error"]["message"] == msg
    assert ("Warning", "SnapshotContentCreationFailed", msg) in await reasons(c.client, "snap1")
    assert await names(c, VSC) == []
    # ensurePVCFinalizer runs first: the claim is protected although nothing was cut yet.
    pvc_now = await c.client.get("persistentvolumeclaims", "src", NS)
    assert SO.FINALIZER_PVC_AS_SOURCE in pvc_now["metadata"]["finalizers"]

    # The PV appears and binds: the snapshot proceeds without any user action.
    disk = await c.cloud.create_disk(zone="cn-hangzhou-b", size_gib=20, category="cloud_ssd")
    await c.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-src"},
        "spec": {"capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                 "persistentVolumeReclaimPolicy": "Retain",
                 "claimRef": {"namespace": NS, "name": "src", "uid": claim["metadata"]["uid"]},
                 "csi": {"driver": DISK_DRIVER, "volumeHandle": disk.disk_id}}})
    await c.settle()
    vs = await get_vs(c)
    assert vs["status"]["readyToUse"] is True
    assert "error" not in vs["status"]
    pvc_now = await c.client.get("persistentvolumeclaims", "src", NS)
    assert SO.FINALIZER_PVC_AS_SOURCE not in pvc_now["metadata"]["finalizers"]


async def test_4_4_default_class_chosen_by_the_source_driver(cluster: Cluster) -> None:
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class("other", driver="hostpath.csi.k8s.io", default=True))
    await c.client.create(VS, volume_snapshot("snap1", pvc="src", snapclass=None), NS)
    await c.settle(timeout=3)
    vs = await get_vs(c)
    msg = "Failed to set default snapshot class with error cannot find default snapshot class"
    assert vs["status"]["error"]["message"] == msg
    assert ("Warning", "SetDefaultSnapshotClassFailed", msg) in await reasons(c.client, "snap1")

    await c.client.create(VSCLASS, snapshot_class("disk-a", default=True))
    await c.client.create(VSCLASS, snapshot_class("disk-b", default=True))
    await c.client.create(VS, volume_snapshot("snap2", pvc="src", snapclass=None), NS)
    await c.settle(timeout=3)
    msg2 = "Failed to set default snapshot class with error 2 default snapshot classes were found"
    assert (await get_vs(c, "snap2"))["status"]["error"]["message"] == msg2

    await c.client.delete(VSCLASS, "disk-b")
    await c.settle()
    for name in ("snap1", "snap2"):
        vs = await get_vs(c, name)
        assert vs["spec"]["volumeSnapshotClassName"] == "disk-a"
        assert vs["status"]["readyToUse"] is True
        assert "error" not in vs["status"]


async def test_4_4_missing_named_class_is_reported_until_it_appears(cluster: Cluster) -> None:
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VS, volume_snapshot("snap1", pvc="src", snapclass="later"), NS)
    await c.settle(timeout=3)
    vs = await get_vs(c)
    msg = 'Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "later" not found'
    assert vs["status"]["error"]["message"] == msg
    assert ("Warning", "GetSnapshotClassFailed", msg) in await reasons(c.client, "snap1")
    assert await names(c, VSC) == []
    await c.client.create(VSCLASS, snapshot_class("later"))
    await c.settle()
    vs = await get_vs(c)
    assert vs["status"]["readyToUse"] is True and "error" not in vs["status"]


async def test_4_3_deletion_secret_annotations_from_class_parameters(cluster: Cluster) -> None:
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class(parameters={
        "csi.storage.k8s.io/snapshotter-secret-name": "secret-${volumesnapshot.name}",
        "csi.storage.k8s.io/snapshotter-secret-namespace": "${volumesnapshot.namespace}",
        "type": "standard"}))
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    content = await content_of(c, await get_vs(c))
    assert content["metadata"]["annotations"][SO.ANN_DELETION_SECRET_NAME] == "secret-snap1"
    assert content["metadata"]["annotations"][SO.ANN_DELETION_SECRET_NAMESPACE] == NS


# ---------------------------------------------------------------- pre-provisioned (§4.7)


def preprovisioned_content(name: str, handle: str, *, vs: str = "snap1", policy: str = "Retain",
                           driver: str = DISK_DRIVER, volume_handle: bool = False) -> dict[str, Any]:
    source = {"volumeHandle": handle} if volume_handle else {"snapshotHandle": handle}
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent", "metadata": {"name": name},
            "spec": {"deletionPolicy": policy, "driver": driver, "source": source,
                     "volumeSnapshotRef": {"name": vs, "namespace": NS}}}


async def cloud_snapshot(c: Cluster, data: str = "old") -> str:
    _, _, disk_id = await static_bound_claim(c, "seed", data=data)
    snap = await c.cloud.create_snapshot(disk_id, name="admin-made")
    await c.settle()
    return str(snap.snapshot_id)


async def test_4_7_preprovisioned_content_binds_and_reads_status_from_the_driver(cluster: Cluster) -> None:
    c = cluster
    handle = await cloud_snapshot(c)
    await c.client.create(VSC, preprovisioned_content("admin-content", handle))
    await c.settle()
    content = await c.client.get(VSC, "admin-content")
    assert "finalizers" not in content["metadata"] or not content["metadata"]["finalizers"]
    assert content.get("status", {}).get("readyToUse") is True  # the sidecar reads the handle's status

    vs = await c.client.create(VS, volume_snapshot("snap1", content="admin-content", snapclass=None), NS)
    await c.settle()
    content = await c.client.get(VSC, "admin-content")
    assert content["spec"]["volumeSnapshotRef"]["uid"] == vs["metadata"]["uid"]
    assert content["metadata"]["finalizers"] == [SO.FINALIZER_VSC_BOUND]
    assert content["status"]["snapshotHandle"] == handle
    vs = await get_vs(c)
    assert vs["status"]["boundVolumeSnapshotContentName"] == "admin-content"
    assert vs["status"]["readyToUse"] is True
    assert vs["status"]["restoreSize"] == "20Gi"
    # Retain: no bound finalizer on the snapshot.
    assert vs["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE]

    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    assert await names(c, VS, NS) == []
    content = await c.client.get(VSC, "admin-content")
    assert content["metadata"]["annotations"][SO.ANN_BEING_DELETED] == "yes"
    assert handle in c.cloud.snapshots


@pytest.mark.parametrize(("case", "reason", "message"), [
    ("missing", "SnapshotContentMissing", "VolumeSnapshotContent is missing"),
    ("dynamic", "SnapshotContentMismatch",
     "VolumeSnapshotContent is dynamically provisioned while expecting a pre-provisioned one"),
    ("misbound", "SnapshotContentMisbound", "VolumeSnapshotContent [admin-content] is bound to a different snapshot"),
])
async def test_4_7_preprovisioned_errors(cluster: Cluster, case: str, reason: str, message: str) -> None:
    c = cluster
    if case == "dynamic":
        await c.client.create(VSC, preprovisioned_content("admin-content", "d-123", volume_handle=True))
    elif case == "misbound":
        await c.client.create(VSC, preprovisioned_content("admin-content", "s-123", vs="someone-else"))
    await c.client.create(VS, volume_snapshot("snap1", content="admin-content", snapclass=None), NS)
    await c.settle(timeout=3)
    vs = await get_vs(c)
    assert vs["status"]["readyToUse"] is False
    assert vs["status"]["error"]["message"] == message
    assert ("Warning", reason, message) in await reasons(c.client, "snap1")


# ---------------------------------------------------------------- deletion (§4.8)


@pytest.mark.parametrize("policy", ["Delete", "Retain"])
async def test_4_8_delete_policy_deletes_content_and_cloud_snapshot_retain_keeps_them(
        cluster: Cluster, policy: str) -> None:
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class(policy=policy))
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    vs = await get_vs(c)
    content_name = vs["status"]["boundVolumeSnapshotContentName"]
    handle = (await content_of(c, vs))["status"]["snapshotHandle"]
    expected = [SO.FINALIZER_VS_AS_SOURCE] + ([SO.FINALIZER_VS_BOUND] if policy == "Delete" else [])
    assert vs["metadata"]["finalizers"] == expected

    seen: list[list[str]] = []
    watcher = Informer(c.client, VS, clock=c.clock)
    watcher.add_handler(lambda ev, obj, old: seen.append(list(obj["metadata"].get("finalizers") or [])))
    await watcher.start()
    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    await watcher.stop()
    assert await names(c, VS, NS) == []
    if policy == "Delete":
        # as-source goes at once; bound stays until the content is gone (then the snapshot goes).
        assert [SO.FINALIZER_VS_BOUND] in seen and [SO.FINALIZER_VS_AS_SOURCE] not in seen
        assert await names(c, VSC) == []
        assert handle not in c.cloud.snapshots
        assert [e["operation"] for e in c.cloud.log if e["target"] == handle][-1] == "DeleteSnapshot"
    else:
        content = await c.client.get(VSC, content_name)
        assert content["metadata"]["annotations"][SO.ANN_BEING_DELETED] == "yes"
        assert content["status"]["snapshotHandle"] == handle and content["status"]["readyToUse"] is True
        assert content["metadata"]["finalizers"] == [SO.FINALIZER_VSC_BOUND]
        assert handle in c.cloud.snapshots
        # The admin deletes the retained content: the object goes, the cloud snapshot stays.
        await c.client.delete(VSC, content_name)
        await c.settle()
        assert await names(c, VSC) == []
        assert handle in c.cloud.snapshots


async def test_4_8_delete_pending_while_a_restore_is_pending(cluster: Cluster) -> None:
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class())
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    # Nothing provisions class "disk" here, so the restore stays Pending.
    await c.client.create("persistentvolumeclaims", restore_claim("restored", "snap1"), NS)
    await c.settle()
    await c.client.delete(VS, "snap1", NS)
    await c.settle(timeout=10)
    vs = await get_vs(c)
    assert vs["metadata"]["deletionTimestamp"]
    assert vs["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE, SO.FINALIZER_VS_BOUND]
    pending = [e for e in await reasons(c.client, "snap1") if e[1] == "SnapshotDeletePending"]
    assert pending and pending[0] == ("Warning", "SnapshotDeletePending", "Snapshot is being used to restore a PVC")
    content = await content_of(c, vs)
    assert SO.ANN_BEING_DELETED not in (content["metadata"].get("annotations") or {})

    await c.client.delete("persistentvolumeclaims", "restored", NS)
    await c.settle()
    assert await names(c, VS, NS) == []
    assert await names(c, VSC) == []
    assert c.cloud.snapshots == {}


async def test_4_8_content_of_a_vanished_snapshot_is_kept(cluster: Cluster) -> None:
    """Upstream never deletes a content because its snapshot is missing (a copied YAML must not
    destroy data): the content and the cloud snapshot stay."""
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class())
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle()
    vs = await get_vs(c)
    content_name = vs["status"]["boundVolumeSnapshotContentName"]
    ctrl = snapshot_controller(c)
    await ctrl.stop()
    await c.client.patch(VS, "snap1", {"metadata": {"finalizers": None}}, NS)
    await c.client.delete(VS, "snap1", NS)
    fresh = S.SnapshotController(c.client, c.clock, config=c.config)
    await fresh.start()
    c.controllers[c.controllers.index(ctrl)] = fresh
    await c.settle()
    content = await c.client.get(VSC, content_name)
    assert not content["metadata"].get("deletionTimestamp")
    assert len(c.cloud.snapshots) == 1


def test_reserved_parameters_are_stripped() -> None:
    assert SO.strip_reserved_parameters({"csi.storage.k8s.io/snapshotter-secret-name": "x", "type": "a"}) == {
        "type": "a"}


async def test_4_8_unbound_preprovisioned_content_is_finalised_without_a_csi_call(cluster: Cluster) -> None:
    c = cluster
    handle = await cloud_snapshot(c)
    await c.client.create(VSC, preprovisioned_content("admin-content", handle, policy="Delete"))
    await c.settle()
    await c.client.delete(VSC, "admin-content")
    await c.settle()
    assert await names(c, VSC) == []
    assert handle in c.cloud.snapshots  # never bound to a snapshot: the cloud snapshot is not deleted


async def test_4_7_preprovisioned_delete_policy_deletes_the_cloud_snapshot_with_the_snapshot(
        cluster: Cluster) -> None:
    c = cluster
    handle = await cloud_snapshot(c)
    await c.client.create(VSC, preprovisioned_content("admin-content", handle, policy="Delete"))
    await c.client.create(VS, volume_snapshot("snap1", content="admin-content", snapclass=None), NS)
    await c.settle()
    vs = await get_vs(c)
    assert vs["status"]["readyToUse"] is True
    assert vs["metadata"]["finalizers"] == [SO.FINALIZER_VS_AS_SOURCE, SO.FINALIZER_VS_BOUND]
    await c.client.delete(VS, "snap1", NS)
    await c.settle()
    assert await names(c, VS, NS) == [] and await names(c, VSC) == []
    assert handle not in c.cloud.snapshots


async def test_restart_mid_snapshot_takes_exactly_one_cloud_snapshot(cluster: Cluster) -> None:
    """Level-based and idempotent: fresh controllers pick up a half-done snapshot where it is."""
    c = cluster
    await static_bound_claim(c)
    await c.client.create(VSCLASS, snapshot_class())
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=1)
    assert (await get_vs(c))["status"]["readyToUse"] is False
    old = [x for x in c.controllers if isinstance(x, (S.SnapshotController, SnapshotSidecar))]
    for ctrl in old:
        await ctrl.stop()
        c.controllers.remove(ctrl)
    fresh = S.SnapshotController(c.client, c.clock, config=c.config)
    await fresh.start()
    c.controllers.append(fresh)
    await start_sidecar(c)
    await c.settle()
    vs = await get_vs(c)
    assert vs["status"]["readyToUse"] is True
    assert len(c.cloud.snapshots) == 1
    assert [r for _, r, _ in await reasons(c.client, "snap1")] == ["CreatingSnapshot", "SnapshotCreated",
                                                                     "SnapshotReady"]


@pytest.mark.parametrize(("case", "error"), [
    ("missing", "snapshot controller failed to update snap1 on API server: cannot get claim from snapshot"),
    ("not_csi", "cannot find CSI PersistentVolumeSource for volume pv-src"),
])
async def test_4_5_source_errors_are_content_creation_failures(cluster: Cluster, case: str, error: str) -> None:
    c = cluster
    await c.client.create(VSCLASS, snapshot_class())
    if case == "not_csi":
        claim = await c.client.create("persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "src"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": "pv-src",
                     "resources": {"requests": {"storage": "1Gi"}}}}, NS)
        await c.client.create("persistentvolumes", {
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-src"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "",
                     "hostPath": {"path": "/mnt/src"},
                     "claimRef": {"namespace": NS, "name": "src", "uid": claim["metadata"]["uid"]}}})
        await c.settle()
    await c.client.create(VS, volume_snapshot("snap1", pvc="src"), NS)
    await c.settle(timeout=3)
    msg = f"Failed to create snapshot content with error {error}"
    vs = await get_vs(c)
    assert vs["status"]["error"]["message"] == msg and vs["status"]["readyToUse"] is False
    assert ("Warning", "SnapshotContentCreationFailed", msg) in await reasons(c.client, "snap1")
    assert await names(c, VSC) == []
    if case == "not_csi":  # protected first (ensurePVCFinalizer), then refused
        claim = await c.client.get("persistentvolumeclaims", "src", NS)
        assert SO.FINALIZER_PVC_AS_SOURCE in claim["metadata"]["finalizers"]
