"""Which volumes of a pod are claims, and how a CSI volume is attached to a node.

Both the attach/detach controller and the kubelet's volume manager decide with these rules (which
claims a pod names, whether a CSI driver needs attaching, what its VolumeAttachment is called):
the kubelet waits for exactly the VolumeAttachment the controller creates, so the rule lives once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def attachment_name(volume_handle: str, driver: str, node: str) -> str:
    """The VolumeAttachment name kubelet's CSI attacher uses (csi_attacher.go getAttachmentName)."""
    return "csi-" + hashlib.sha256(f"{volume_handle}{driver}{node}".encode()).hexdigest()


def attach_required(csidriver: Mapping[str, Any] | None) -> bool:
    """A CSI volume needs attaching unless its CSIDriver says ``attachRequired: false``
    (a missing CSIDriver object means attach, as in kubelet and the controller)."""
    if csidriver is None:
        return True
    value = (csidriver.get("spec") or {}).get("attachRequired")
    return True if value is None else bool(value)


def pod_claims(pod: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(volume name, claim name) for every PVC-backed volume, generic ephemeral ones included."""
    meta = pod.get("metadata") or {}
    out = []
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            out.append((str(vol.get("name")), str(claim)))
        elif vol.get("ephemeral") is not None:
            out.append((str(vol.get("name")), f"{meta.get('name')}-{vol.get('name')}"))
    return out
