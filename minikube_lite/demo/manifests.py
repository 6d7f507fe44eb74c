"""The objects the demo stories create, with the names of ``examples/01-03`` and the course."""

from __future__ import annotations

from typing import Any

from ..kube.names import HOSTNAME_LABEL, NOT_SUPPORTED_PROVISIONER

JSON = dict[str, Any]

NS = "default"
DRIVER = "diskplugin.csi.alibabacloud.com"
ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"
VS = "volumesnapshots.snapshot.storage.k8s.io"
VSC = "volumesnapshotcontents.snapshot.storage.k8s.io"
VSCLASS = "volumesnapshotclasses.snapshot.storage.k8s.io"


def storage_class(name: str, *, binding: str = "Immediate", zone: str | None = None) -> JSON:
    """A cloud-disk class; ``zone`` restricts it with ``allowedTopologies``."""
    sc: JSON = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                "provisioner": DRIVER, "parameters": {"type": "cloud_ssd"}, "reclaimPolicy": "Delete",
                "volumeBindingMode": binding}
    if zone is not None:
        sc["allowedTopologies"] = [{"matchLabelExpressions": [{"key": ZONE_KEY, "values": [zone]}]}]
    return sc


def local_storage_class(name: str, *, binding: str) -> JSON:
    """A class for static local PVs: nothing provisions for it, only the binding mode matters."""
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": NOT_SUPPORTED_PROVISIONER, "reclaimPolicy": "Retain", "volumeBindingMode": binding}


def claim(name: str, size: str, storage_class_name: str, snapshot: str | None = None) -> JSON:
    spec: JSON = {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class_name,
                  "resources": {"requests": {"storage": size}}}
    if snapshot is not None:
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": snapshot}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod(name: str, claim_name: str, *, node: str | None = None) -> JSON:
    """An nginx pod mounting the claim at /data; ``node`` pins it with a hostname nodeSelector."""
    spec: JSON = {"containers": [{"name": "nginx", "image": "nginx:1.27",
                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]}
    if node is not None:
        spec["nodeSelector"] = {HOSTNAME_LABEL: node}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def local_pv(name: str, node: str, path: str = "/share", size: str = "10Gi",
             storage_class_name: str = "local-storage") -> JSON:
    """A static local PV pinned to one node, as the course's Local PV example."""
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": storage_class_name,
                     "local": {"path": path},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": HOSTNAME_LABEL, "operator": "In", "values": [node]}]}]}}}}
