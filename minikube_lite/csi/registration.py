"""What kubelet's CSI plugin registration writes to the API (storage.md 5.2).

Why through the Client only: this is kubelet's job, and kubelet is an API client like any other.
For every driver a CSIDriver object (normally shipped with the driver's manifests); for every
node a CSINode whose ``spec.drivers[]`` carries the NodeGetInfo answer (nodeID, the topology keys,
``allocatable.count``), the topology segments added as Node labels (a different existing value is
a collision, as upstream), and the ``csi.volume.kubernetes.io/nodeid`` annotation on the Node.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..client.base import ApiError, Client
from ..config import ClusterConfig, DriverConfig
from .spec import CsiDriver, NodeGetInfoRequest

NODE_ID_ANNOTATION = "csi.volume.kubernetes.io/nodeid"
MSG_TOPOLOGY_COLLISION = "detected topology value collision: driver reported %q:%q but existing label is %q:%q"


class RegistrationError(RuntimeError):
    """Plugin registration failed the way kubelet's would (e.g. a topology label collision)."""


def _go_quote(value: str) -> str:
    return json.dumps(value)


def csidriver_manifest(dc: DriverConfig) -> dict[str, Any]:
    """The CSIDriver object a driver's deployment manifests would create."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": {"name": dc.name},
        "spec": {
            "attachRequired": dc.resolved_attach_required(),
            "podInfoOnMount": dc.podInfoOnMount,
            "volumeLifecycleModes": list(dc.volumeLifecycleModes),
            "storageCapacity": dc.storageCapacity,
            "fsGroupPolicy": dc.fsGroupPolicy,
            "requiresRepublish": False,
            "seLinuxMount": False,
        },
    }


async def register_drivers(client: Client, config: ClusterConfig, drivers: Mapping[str, CsiDriver]) -> None:
    """Create CSIDriver objects, a CSINode per node, and the drivers' topology labels on Nodes."""
    for name in drivers:
        dc = config.driver(name) or DriverConfig(name=name, type="local")
        try:
            await client.create("csidrivers", csidriver_manifest(dc), field_manager="minikube-lite")
        except ApiError as err:
            if err.code != 409:
                raise
    for node in config.resolved_nodes():
        await register_node(client, node.name, drivers)


async def register_node(client: Client, node_name: str, drivers: Mapping[str, CsiDriver]) -> None:
    """Kubelet's nodeinfomanager for one node: NodeGetInfo of every driver running there."""
    node = await client.get("nodes", node_name)
    labels: dict[str, str] = dict((node.get("metadata") or {}).get("labels") or {})
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    try:
        node_ids: dict[str, str] = json.loads(annotations.get(NODE_ID_ANNOTATION) or "{}")
    except ValueError:
        node_ids = {}
    entries: list[dict[str, Any]] = []
    new_labels: dict[str, str] = {}
    for name, driver in drivers.items():
        if not driver.serves_node(node_name):
            continue
        info = await driver.node_get_info(NodeGetInfoRequest(node_name))
        segments = dict(info.accessible_topology.segments) if info.accessible_topology else {}
        for key, value in segments.items():
            current = new_labels.get(key, labels.get(key))
            if current is not None and current != value:
                raise RegistrationError(MSG_TOPOLOGY_COLLISION.replace("%q", "%s") % (
                    _go_quote(key), _go_quote(value), _go_quote(key), _go_quote(current)))
            new_labels[key] = value
        entry: dict[str, Any] = {"name": name, "nodeID": info.node_id, "topologyKeys": sorted(segments) or None}
        if entry["topologyKeys"] is None:
            del entry["topologyKeys"]
        if info.max_volumes_per_node > 0:
            entry["allocatable"] = {"count": info.max_volumes_per_node}
        entries.append(entry)
        node_ids[name] = info.node_id
    patch: dict[str, Any] = {"metadata": {}}
    changed = {k: v for k, v in new_labels.items() if labels.get(k) != v}
    if changed:
        patch["metadata"]["labels"] = changed
    if node_ids:
        patch["metadata"]["annotations"] = {NODE_ID_ANNOTATION: json.dumps(node_ids, sort_keys=True,
                                                                           separators=(",", ":"))}
    if patch["metadata"]:
        node = await client.patch("nodes", node_name, patch, patch_type="merge")
    await _upsert_csinode(client, node, entries)


async def _upsert_csinode(client: Client, node: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    meta = node.get("metadata") or {}
    name = meta["name"]
    owner = {"apiVersion": "v1", "kind": "Node", "name": name}
    if meta.get("uid"):
        owner["uid"] = meta["uid"]
    try:
        existing = await client.get("csinodes", name)
    except ApiError as err:
        if err.code != 404:
            raise
        body = {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
                "metadata": {"name": name, "ownerReferences": [owner]},
                "spec": {"drivers": entries}}
        await client.create("csinodes", body, field_manager="kubelet")
        return
    by_name = {d["name"]: d for d in (existing.get("spec") or {}).get("drivers") or []}
    for entry in entries:
        by_name[entry["name"]] = entry
    existing.setdefault("spec", {})["drivers"] = list(by_name.values())
    await client.update("csinodes", existing, field_manager="kubelet")


__all__ = ["register_drivers", "register_node", "csidriver_manifest", "RegistrationError",
           "NODE_ID_ANNOTATION", "MSG_TOPOLOGY_COLLISION"]
