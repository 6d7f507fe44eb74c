"""storage.md §7(a) steps 1-3 and the PVC cleanup of step 8: dynamic provisioning through the
host-path CSI driver, then binding, then deletion through DeleteVolume.

Runs the PV controller, the protection controllers and the external provisioners over the
default cluster; asserts object states, annotations, finalizers and the exact events.
"""

from __future__ import annotations

from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.sidecars.snapshotter import SnapshotSidecar
from minikube_lite.controllers.snapshot.controller import SnapshotController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController

HOSTPATH = "hostpath.csi.k8s.io"
NODE_KEY = "topology.hostpath.csi/node"
CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    ExternalProvisioners,
]


def src_claim() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "src", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "csi-hostpath-sc"}}


async def events_of(c: Cluster, name: str) -> list[dict[str, Any]]:
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"])))
    return items


async def test_scenario_a_steps_1_to_3_and_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", CONTROLLERS)
    async with Cluster(clock=VirtualClock()) as c:
        requests: list[Any] = []
        driver = c.drivers[HOSTPATH]
        original = driver.create_volume

        async def spy(req: Any) -> Any:
            requests.append(req)
            result = original(req)
            return await result if hasattr(result, "__await__") else result

        monkeypatch.setattr(driver, "create_volume", spy)

        # Step 1: the claim.
        pvc = await c.client.create("pvc", src_claim(), "default")
        uid = pvc["metadata"]["uid"]
        assert "kubernetes.io/pvc-protection" in pvc["metadata"]["finalizers"]
        assert pvc["status"]["phase"] == "Pending"
        await c.settle()

        # Step 2: the provisioner's request, PV and events.
        assert len(requests) == 1
        req = requests[0]
        assert req.name == f"pvc-{uid}"
        assert req.capacity_range.required_bytes == 1024**3
        requisite = [dict(t.segments) for t in req.accessibility_requirements.requisite]
        csinodes = (await c.client.list("csinodes"))["items"]
        with_driver = sorted(n["metadata"]["name"] for n in csinodes
                             if any(d["name"] == HOSTPATH for d in n["spec"].get("drivers") or []))
        assert requisite == [{NODE_KEY: n} for n in with_driver]

        pv = await c.client.get("persistentvolumes", f"pvc-{uid}")
        spec = pv["spec"]
        assert spec["capacity"] == {"storage": "1Gi"}
        assert spec["accessModes"] == ["ReadWriteOnce"]
        assert spec["persistentVolumeReclaimPolicy"] == "Delete"
        assert spec["storageClassName"] == "csi-hostpath-sc"
        assert spec["csi"]["driver"] == HOSTPATH and spec["csi"]["volumeHandle"]
        assert "storage.kubernetes.io/csiProvisionerIdentity" in spec["csi"]["volumeAttributes"]
        [term] = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
        [expr] = term["matchExpressions"]
        assert expr["key"] == NODE_KEY and expr["operator"] == "In" and expr["values"][0] in with_driver
        assert spec["claimRef"]["name"] == "src" and spec["claimRef"]["uid"] == uid
        ann = pv["metadata"]["annotations"]
        assert ann["pv.kubernetes.io/provisioned-by"] == HOSTPATH
        assert ann["volume.kubernetes.io/provisioner-deletion-secret-name"] == ""
        assert ann["volume.kubernetes.io/provisioner-deletion-secret-namespace"] == ""
        assert "pv.kubernetes.io/bound-by-controller" not in ann
        assert set(pv["metadata"]["finalizers"]) == {"kubernetes.io/pv-protection",
                                                     "external-provisioner.volume.kubernetes.io/finalizer"}

        # Step 3: bound.
        assert pv["status"]["phase"] == "Bound"
        got = await c.client.get("pvc", "src", "default")
        assert got["spec"]["volumeName"] == f"pvc-{uid}"
        ann = got["metadata"]["annotations"]
        assert ann["pv.kubernetes.io/bind-completed"] == "yes"
        assert ann["pv.kubernetes.io/bound-by-controller"] == "yes"
        assert ann["volume.kubernetes.io/storage-provisioner"] == HOSTPATH
        assert ann["volume.beta.kubernetes.io/storage-provisioner"] == HOSTPATH
        assert got["status"]["phase"] == "Bound"
        assert got["status"]["capacity"] == {"storage": "1Gi"}
        assert got["status"]["accessModes"] == ["ReadWriteOnce"]

        evs = await events_of(c, "src")
        seq = [(e["type"], e["reason"]) for e in evs]
        assert seq.index(("Normal", "ExternalProvisioning")) < seq.index(("Normal", "Provisioning")) \
            < seq.index(("Normal", "ProvisioningSucceeded"))
        by_reason = {e["reason"]: e for e in evs}
        assert by_reason["Provisioning"]["message"] == \
            'External provisioner is provisioning volume for claim "default/src"'
        assert by_reason["ProvisioningSucceeded"]["message"] == f"Successfully provisioned volume pvc-{uid}"
        assert by_reason["Provisioning"]["source"]["component"].startswith(HOSTPATH + "_csi-provisioner-")
        assert by_reason["ExternalProvisioning"]["source"]["component"] == "persistentvolume-controller"

        # Step 8 (PVC part): delete src; the provisioner deletes the volume and the PV disappears.
        handle = spec["csi"]["volumeHandle"]
        deleted: list[Any] = []
        original_delete = driver.delete_volume

        async def spy_delete(req: Any) -> Any:
            deleted.append(req)
            result = original_delete(req)
            return await result if hasattr(result, "__await__") else result

        monkeypatch.setattr(driver, "delete_volume", spy_delete)
        await c.client.delete("pvc", "src", "default")
        await c.settle()
        with pytest.raises(ApiError) as err:
            await c.client.get("pvc", "src", "default")
        assert err.value.code == 404
        with pytest.raises(ApiError) as err:
            await c.client.get("persistentvolumes", f"pvc-{uid}")
        assert err.value.code == 404
        assert [r.volume_id for r in deleted] == [handle]


async def test_scenario_a_restore_from_a_real_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps 4-7 with the snapshot controller and csi-snapshotter: the provisioner restores from
    snap1 (3.6), refuses a 512Mi restore with the exact message, and drops its source finalizer."""
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [
        *CONTROLLERS,
        SnapshotController,
        SnapshotSidecar,
    ])
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("pvc", src_claim(), "default")
        await c.settle()
        await c.client.create("volumesnapshots.snapshot.storage.k8s.io", {
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": "snap1", "namespace": "default"},
            "spec": {"volumeSnapshotClassName": "csi-hostpath-snapclass",
                     "source": {"persistentVolumeClaimName": "src"}}}, "default")
        await c.settle()
        vs = await c.client.get("volumesnapshots.snapshot.storage.k8s.io", "snap1", "default")
        assert vs["status"]["readyToUse"] is True, vs.get("status")
        assert vs["status"]["restoreSize"] == "1Gi"

        def restore(name: str, size: str) -> dict[str, Any]:
            body = src_claim()
            body["metadata"]["name"] = name
            body["spec"]["resources"]["requests"]["storage"] = size
            body["spec"]["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                          "name": "snap1"}
            return body

        await c.client.create("pvc", restore("small", "512Mi"), "default")
        await c.client.create("pvc", restore("restored", "1Gi"), "default")
        await c.settle(timeout=5)
        small_events = [(e["type"], e["reason"], e["message"]) for e in await events_of(c, "small")]
        assert ("Warning", "ProvisioningFailed",
                'failed to provision volume with StorageClass "csi-hostpath-sc": error getting handle for '
                "DataSource Type VolumeSnapshot by Name snap1: requested volume size 536870912 is less than the "
                "size 1073741824 for the source snapshot snap1") in small_events
        assert (await c.client.get("pvc", "small", "default"))["status"]["phase"] == "Pending"
        restored = await c.client.get("pvc", "restored", "default")
        assert restored["status"]["phase"] == "Bound"
        reasons = [e["reason"] for e in await events_of(c, "restored")]
        assert "ProvisioningSucceeded" in reasons
        # The provisioner's source protection was taken for "restored" and dropped after success;
        # "small" never got past the size check, so it never took it.
        vs = await c.client.get("volumesnapshots.snapshot.storage.k8s.io", "snap1", "default")
        assert "provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection" \
            not in (vs["metadata"].get("finalizers") or [])
        restored_pv = await c.client.get("persistentvolumes", restored["spec"]["volumeName"])
        assert restored_pv["spec"]["capacity"] == {"storage": "1Gi"}
