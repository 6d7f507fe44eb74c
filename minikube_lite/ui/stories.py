"""The course's example manifests (``examples/0N-*/*.yaml``) applied through any API client.

The browser tests and the screenshot script tell the same stories as ``run.sh`` does with
kubectl; this is the small ``kubectl apply -f`` they need: create, or replace what exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..client.base import ApiError

JSON = dict[str, Any]

# kind -> (resource as the client names it, namespaced)
KINDS: dict[str, tuple[str, bool]] = {
    "Pod": ("pods", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "PersistentVolume": ("persistentvolumes", False),
    "StorageClass": ("storageclasses", False),
    "VolumeSnapshot": ("volumesnapshots.snapshot.storage.k8s.io", True),
    "VolumeSnapshotClass": ("volumesnapshotclasses.snapshot.storage.k8s.io", False),
}


def manifests(path: str | Path) -> list[JSON]:
    return [doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc]


async def apply(client: Any, path: str | Path, namespace: str = "default") -> list[JSON]:
    """Create every object of a YAML file; an object that exists is replaced (its spec edited)."""
    out = []
    for doc in manifests(path):
        resource, namespaced = KINDS[doc["kind"]]
        ns = namespace if namespaced else None
        try:
            out.append(await client.create(resource, doc, ns))
        except ApiError as err:
            if err.code != 409:
                raise
            current = await client.get(resource, doc["metadata"]["name"], ns)
            doc.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
            out.append(await client.update(resource, doc, ns))
    return out


async def delete(client: Any, path: str | Path, namespace: str = "default") -> None:
    """Delete every object of a YAML file (gone already is fine)."""
    for doc in manifests(path):
        resource, namespaced = KINDS[doc["kind"]]
        try:
            await client.delete(resource, doc["metadata"]["name"], namespace if namespaced else None)
        except ApiError as err:
            if err.code != 404:
                raise


def teaching_config() -> Any:
    """The course's cluster with cloud and kubelet delays cut to fractions of a second.

    The stories then run on the real clock (as a browser needs) in a few seconds.
    """
    from ..config import ClusterConfig

    config = ClusterConfig.default()
    d = config.cloud.durations
    d.createDisk, d.deleteDisk, d.attachDisk, d.detachDisk = 0.2, 0.1, 0.2, 0.1
    d.createSnapshot, d.deleteSnapshot, d.restoreDisk = 0.5, 0.1, 0.2
    t = config.timings
    t.podStartDelay, t.imagePullDelay, t.podTerminationDelay, t.volumeMountDelay = 0.1, 0.1, 0.1, 0.05
    return config
