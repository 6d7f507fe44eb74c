"""The PersistentVolume a provisioned volume becomes (storage.md §3.5).

Why apart: the PV is a pure function of the claim, its class, the request and the driver's
answer; a function makes every field's origin visible in one place.
"""

from __future__ import annotations

from ....client.base import JSON
from .driver import Capabilities, CreatedVolume
from .fields import bytes_to_quantity
from .messages import ANN_DELETION_SECRET_NAME, ANN_DELETION_SECRET_NAMESPACE, PROVISIONER_ID_KEY
from .requests import VolumeRequest
from .topology import volume_node_affinity


def build_pv(claim: JSON, cls: JSON, req: VolumeRequest, vol: CreatedVolume, capacity: int,
             caps: Capabilities, *, driver_name: str, identity: str) -> JSON:
    """The PV external-provisioner's Provision returns (before the library adds claimRef and finalizer)."""
    spec = claim.get("spec") or {}
    source: JSON = {"driver": driver_name, "volumeHandle": vol.volume_id,
                    "volumeAttributes": {PROVISIONER_ID_KEY: identity, **vol.volume_context}}
    if not req.block and req.fs_type:
        source["fsType"] = req.fs_type
    pv_spec: JSON = {
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": {"storage": bytes_to_quantity(capacity)},
        "csi": source,
        "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy") or "Delete",
    }
    if cls.get("mountOptions"):
        pv_spec["mountOptions"] = list(cls["mountOptions"])
    if spec.get("volumeMode"):
        pv_spec["volumeMode"] = spec["volumeMode"]
    if caps.topology:
        affinity = volume_node_affinity(vol.accessible_topology)
        if affinity is not None:
            pv_spec["nodeAffinity"] = affinity
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": req.name,
                     "annotations": {ANN_DELETION_SECRET_NAME: "", ANN_DELETION_SECRET_NAMESPACE: ""}},
        "spec": pv_spec,
    }
