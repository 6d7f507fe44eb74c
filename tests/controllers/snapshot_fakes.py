"""Shared helpers for the snapshot tests (controller, sidecar, scenario (a), e2e).

``snapshot_driver(cluster, name)`` returns the cluster's real CSI driver when ``csi/registry.py``
provides one, and otherwise a minimal CSI-shaped driver over the cluster's MockCloud, so the
snapshot controllers can be tested before (and independently of) the CSI drivers.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import CloudError
from minikube_lite.cloud.errors import NotFoundError
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.sidecars.snapshotter import SnapshotSidecar
from minikube_lite.controllers.snapshot.controller import SnapshotController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController

JSON = dict[str, Any]
DISK_DRIVER = "diskplugin.csi.alibabacloud.com"
ZONE = "cn-hangzhou-b"
GIB = 1024**3

VS = "volumesnapshots.snapshot.storage.k8s.io"
VSC = "volumesnapshotcontents.snapshot.storage.k8s.io"
VSCLASS = "volumesnapshotclasses.snapshot.storage.k8s.io"

SNAPSHOT_CONTROLLERS = [SnapshotController]
BASE_CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
]
PROVISIONER = [ExternalProvisioners]

# Nodes only, no drivers, classes or snapshot classes: tests create what they need.
BARE_CONFIG: JSON = {
    "nodes": [{"name": "master", "controlPlane": True, "zone": ZONE},
              {"name": "node1", "zone": ZONE}, {"name": "node2", "zone": ZONE}],
    "cloud": {"region": "cn-hangzhou", "zones": [ZONE, "cn-hangzhou-d"]},
}


@asynccontextmanager
async def snapshot_cluster(monkeypatch: Any, config: ClusterConfig | None = None, *,
                           extra: list[type] | None = None) -> AsyncIterator[Cluster]:
    """A VirtualClock cluster with the PV, protection and snapshot controllers (plus ``extra``)."""
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [*BASE_CONTROLLERS, *SNAPSHOT_CONTROLLERS, *(extra or [])])
    async with Cluster(config or ClusterConfig.from_dict(BARE_CONFIG), clock=VirtualClock()) as c:
        yield c


async def events(client: Any, name: str, namespace: str = "default") -> list[JSON]:
    """Events about one object, oldest first."""
    listing = await client.list("events", namespace, field_selector=f"involvedObject.name={name}")
    items = list(listing.get("items") or [])
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"].get("resourceVersion") or 0)))
    return items


async def reasons(client: Any, name: str, namespace: str = "default") -> list[tuple[str, str, str]]:
    """(type, reason, message) of every event about ``name``, oldest first."""
    return [(e.get("type", ""), e.get("reason", ""), e.get("message", ""))
            for e in await events(client, name, namespace)]


def _code(err: CloudError) -> str:
    code = err.code
    if code.endswith(".NotFound"):
        return "NOT_FOUND"
    if code.startswith("QuotaExceed"):
        return "RESOURCE_EXHAUSTED"
    if code.startswith(("OperationFailed.ZoneOutage", "ServiceUnavailable", "Throttling")):
        return "UNAVAILABLE"
    if code.startswith(("InvalidParameter", "InvalidDiskSize")):
        return "INVALID_ARGUMENT"
    return "INTERNAL"


class FakeCsiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _get(req: Any, name: str) -> Any:
    return req.get(name) if isinstance(req, dict) else getattr(req, name, None)


class FakeDiskDriver:
    """The snapshot half of a cloud-disk CSI controller service, on the MockCloud."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.calls: list[tuple[str, Any]] = []

    def controller_get_capabilities(self) -> list[str]:
        return ["CREATE_DELETE_VOLUME", "CREATE_DELETE_SNAPSHOT", "LIST_SNAPSHOTS"]

    def _snap(self, snap: Any) -> JSON:
        return {"snapshot": {"snapshot_id": snap.snapshot_id, "source_volume_id": snap.source_disk_id,
                             "creation_time": int(snap.created_at * 1e9), "size_bytes": snap.size_bytes,
                             "ready_to_use": snap.ready}}

    async def create_snapshot(self, req: Any) -> JSON:
        self.calls.append(("CreateSnapshot", req))
        try:
            snap = await self.cloud.create_snapshot(_get(req, "source_volume_id"), name=_get(req, "name"),
                                                    client_token=_get(req, "name"))
        except CloudError as err:
            raise FakeCsiError(_code(err), err.message) from None
        return self._snap(snap)

    async def list_snapshots(self, req: Any) -> JSON:
        self.calls.append(("ListSnapshots", req))
        wanted = _get(req, "snapshot_id")
        snaps = self.cloud.describe_snapshots(snapshot_ids=[wanted] if wanted else None)
        return {"entries": [self._snap(s) for s in snaps]}

    async def delete_snapshot(self, req: Any) -> JSON:
        self.calls.append(("DeleteSnapshot", req))
        try:
            await self.cloud.delete_snapshot(_get(req, "snapshot_id"))
        except NotFoundError:
            pass  # DeleteSnapshot is idempotent
        except CloudError as err:
            raise FakeCsiError(_code(err), err.message) from None
        return {}


def real_drivers_available() -> bool:
    try:
        importlib.import_module("minikube_lite.csi.registry")
        importlib.import_module("minikube_lite.csi.spec")
    except ImportError:
        return False
    return True


async def start_sidecar(cluster: Any, *, poll: float | None = None) -> SnapshotSidecar:
    """The sidecar over the cluster's drivers (or the fake disk driver), registered for settle()."""
    for ctrl in cluster.controllers:
        if isinstance(ctrl, SnapshotSidecar):
            return ctrl
    drivers = dict(cluster.drivers) if cluster.drivers.get(DISK_DRIVER) else {DISK_DRIVER: FakeDiskDriver(cluster.cloud)}
    sidecar = SnapshotSidecar(cluster.client, cluster.clock, drivers=drivers, config=cluster.config)
    if poll is not None:
        sidecar.poll_interval = poll
    await sidecar.start()
    cluster.controllers.append(sidecar)
    return sidecar


def snapshot_controller(cluster: Any) -> SnapshotController:
    return next(c for c in cluster.controllers if isinstance(c, SnapshotController))


def snapshot_class(name: str = "disk-snapclass", *, driver: str = DISK_DRIVER, policy: str = "Delete",
                   default: bool = False, parameters: dict[str, str] | None = None) -> JSON:
    meta: JSON = {"name": name}
    if default:
        meta["annotations"] = {"snapshot.storage.kubernetes.io/is-default-class": "true"}
    body: JSON = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass", "metadata": meta,
                  "driver": driver, "deletionPolicy": policy}
    if parameters:
        body["parameters"] = parameters
    return body


def volume_snapshot(name: str, *, pvc: str | None = None, content: str | None = None,
                    snapclass: str | None = "disk-snapclass") -> JSON:
    source: JSON = {"persistentVolumeClaimName": pvc} if pvc else {"volumeSnapshotContentName": content}
    spec: JSON = {"source": source}
    if snapclass:
        spec["volumeSnapshotClassName"] = snapclass
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": name},
            "spec": spec}


def restore_claim(name: str, snapshot: str, *, size: str = "20Gi", sc: str = "disk") -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                     "resources": {"requests": {"storage": size}},
                     "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                    "name": snapshot}}}


async def static_bound_claim(cluster: Any, name: str = "src", *, size_gib: int = 20, ns: str = "default",
                             driver: str = DISK_DRIVER, data: str | None = None) -> tuple[JSON, JSON, str]:
    """A cloud disk, a CSI PV pre-bound to a claim and the claim; the PV controller binds them.

    Returns (pvc, pv, disk id) after settling. The class is "" so nothing provisions it.
    """
    disk = await cluster.cloud.create_disk(zone=ZONE, size_gib=size_gib, category="cloud_ssd", name=f"pv-{name}")
    await cluster.settle()
    if data is not None:
        cluster.cloud.write_disk(disk.disk_id, data)
    claim = await cluster.client.create("persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": f"pv-{name}",
                 "resources": {"requests": {"storage": f"{size_gib}Gi"}}}}, ns)
    await cluster.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{name}"},
        "spec": {"capacity": {"storage": f"{size_gib}Gi"}, "accessModes": ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                 "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name,
                              "uid": claim["metadata"]["uid"]},
                 "csi": {"driver": driver, "volumeHandle": disk.disk_id, "fsType": "ext4"}}})
    await cluster.settle()
    claim = await cluster.client.get("persistentvolumeclaims", name, ns)
    pv = await cluster.client.get("persistentvolumes", f"pv-{name}")
    return claim, pv, disk.disk_id
