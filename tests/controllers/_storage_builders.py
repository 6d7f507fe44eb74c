"""Manifest builders and event read-back for the storage controller tests (exact upstream text)."""

from __future__ import annotations

from typing import Any

from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController

JSON = dict[str, Any]

STORAGE_CONTROLLERS = [
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
]
BASE_CONTROLLERS = [
    NamespaceController,
]

# Nodes only, no StorageClasses: tests create exactly the classes they need.
BARE_CONFIG: JSON = {
    "nodes": [{"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
              {"name": "node1", "zone": "cn-hangzhou-b"}, {"name": "node2", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"]},
}


def storage_class(name: str, provisioner: str = "example.com/csi", *, mode: str = "Immediate",
                  reclaim: str = "Delete", default: bool = False, **extra: Any) -> JSON:
    meta: JSON = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta,
            "provisioner": provisioner, "reclaimPolicy": reclaim, "volumeBindingMode": mode, **extra}


def pvc(name: str, size: str = "1Gi", *, sc: str | None = None, modes: list[str] | None = None,
        volume_name: str | None = None, selector: JSON | None = None, volume_mode: str | None = None,
        annotations: dict[str, str] | None = None) -> JSON:
    spec: JSON = {"accessModes": modes or ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if sc is not None:
        spec["storageClassName"] = sc
    if volume_name is not None:
        spec["volumeName"] = volume_name
    if selector is not None:
        spec["selector"] = selector
    if volume_mode is not None:
        spec["volumeMode"] = volume_mode
    meta: JSON = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}


def pv(name: str, size: str = "1Gi", *, sc: str = "", modes: list[str] | None = None,
       reclaim: str = "Retain", claim_ref: JSON | None = None, labels: dict[str, str] | None = None,
       volume_mode: str | None = None, node: str | None = None, annotations: dict[str, str] | None = None,
       csi: JSON | None = None) -> JSON:
    spec: JSON = {"capacity": {"storage": size}, "accessModes": modes or ["ReadWriteOnce"],
                  "persistentVolumeReclaimPolicy": reclaim, "storageClassName": sc}
    if csi is not None:
        spec["csi"] = csi
    else:
        spec["hostPath"] = {"path": f"/mnt/{name}"}
    if claim_ref is not None:
        spec["claimRef"] = claim_ref
    if volume_mode is not None:
        spec["volumeMode"] = volume_mode
    if node is not None:
        spec.pop("hostPath")
        spec["local"] = {"path": f"/mnt/disks/{name}"}
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    meta: JSON = {"name": name}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": spec}


def pod(name: str, claim: str, *, node: str | None = None) -> JSON:
    spec: JSON = {"containers": [{"name": "app", "image": "nginx:1.27",
                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}
    if node is not None:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def events(client: Any, name: str, namespace: str = "default", kind: str | None = None) -> list[JSON]:
    """Events about one object, oldest first."""
    listing = await client.list("events", namespace, field_selector=f"involvedObject.name={name}")
    items = [e for e in listing.get("items") or []
             if kind is None or (e.get("involvedObject") or {}).get("kind") == kind]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"].get("creationTimestamp") or "",
                              int(e["metadata"].get("resourceVersion") or 0)))
    return items


async def reasons(client: Any, name: str, namespace: str = "default", kind: str | None = None) -> list[tuple[str, str, str]]:
    """(type, reason, message) of every event about ``name``, oldest first."""
    return [(e.get("type", ""), e.get("reason", ""), e.get("message", ""))
            for e in await events(client, name, namespace, kind)]
