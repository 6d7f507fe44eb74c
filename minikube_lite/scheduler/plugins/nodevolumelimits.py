"""NodeVolumeLimits (CSI): a node takes no more volumes of a driver than its CSINode allows."""

from __future__ import annotations

from typing import ClassVar

from ...kube.volumes import claim_class
from ..framework import (
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    PreFilterPlugin,
    PreFilterResult,
    Status,
)
from ..snapshot import JSON, Snapshot
from .volumebinding import ERR_PVC_NOT_FOUND, claim_names

NAME = "NodeVolumeLimits"
ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED = "node(s) exceed max volume count"
_STATE_KEY = "PreFilter" + NAME


def node_volume_limits(csi_node: JSON | None) -> dict[str, int]:
    """Driver -> ``allocatable.count`` from the node's CSINode."""
    out: dict[str, int] = {}
    for d in ((csi_node or {}).get("spec") or {}).get("drivers") or []:
        count = (d.get("allocatable") or {}).get("count")
        if isinstance(count, int):
            out[str(d.get("name", ""))] = count
    return out


def attachable_volumes(snapshot: Snapshot, pod: JSON, new_pod: bool) -> tuple[dict[str, str], str | None]:
    """Unique CSI volume name -> driver for the pod's claims; an error text for a missing new-pod PVC."""
    out: dict[str, str] = {}
    ns = (pod.get("metadata") or {}).get("namespace") or "default"
    for name, _ in claim_names(pod):
        pvc = snapshot.pvcs.get_api(f"{ns}/{name}")
        if pvc is None:
            if new_pod:
                return out, ERR_PVC_NOT_FOUND.format(name)
            continue
        pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
        if not pv_name:
            sc = snapshot.storage_classes.get(claim_class(pvc))
            if sc is not None and sc.get("provisioner"):
                out[f"{sc['provisioner']}/{ns}-{name}"] = str(sc["provisioner"])
            continue
        pv = snapshot.pvs.get_api(pv_name)
        if pv is None:
            sc = snapshot.storage_classes.get(claim_class(pvc))
            if sc is not None and sc.get("provisioner"):
                out[f"{sc['provisioner']}/{ns}-{name}"] = str(sc["provisioner"])
            continue
        csi = (pv.get("spec") or {}).get("csi")
        if csi:
            out[f"{csi.get('driver', '')}/{csi.get('volumeHandle', '')}"] = str(csi.get("driver", ""))
    return out, None


#: PreFilter's result: the pod's new volumes (unique name -> driver), the error text for a missing
#: claim, and the volume count per driver, counted once per pod rather than once per node.
_PreState = tuple[dict[str, str], str | None, tuple[tuple[str, int], ...]]


def _pre_state(snapshot: Snapshot, pod: JSON) -> _PreState:
    new_volumes, err = attachable_volumes(snapshot, pod, True)
    wanted: dict[str, int] = {}
    for driver in new_volumes.values():
        wanted[driver] = wanted.get(driver, 0) + 1
    return new_volumes, err, tuple(wanted.items())


class NodeVolumeLimits(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.snapshot = handle.snapshot
        self._limits_cache: dict[str, tuple[JSON, dict[str, int]]] = {}

    def _limits(self, node: str, csi_node: JSON) -> dict[str, int]:
        """``node_volume_limits`` per CSINode object, reparsed only when the object is replaced."""
        hit = self._limits_cache.get(node)
        if hit is None or hit[0] is not csi_node:
            hit = self._limits_cache[node] = (csi_node, node_volume_limits(csi_node))
        return hit[1]

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("CSINode", "Add"), ClusterEvent("CSINode", "Update"),
                ClusterEvent("AssignedPod", "Delete"), ClusterEvent("PersistentVolumeClaim", "Add"),
                ClusterEvent("Node", "Add")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        if not claim_names(pod):
            return None, Status(Code.Skip)
        state.write(_STATE_KEY, _pre_state(self.snapshot, pod))
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        pre: _PreState | None = state.data.get(_STATE_KEY)
        new_volumes, err, wanted = pre if pre is not None else _pre_state(self.snapshot, pod)
        if err is not None:
            return Status(Code.UnschedulableAndUnresolvable, [err])
        if not new_volumes:
            return None
        csi_node = self.snapshot.csi_nodes.get(node_info.name)
        if csi_node is None:
            return None
        limits = self._limits(node_info.name, csi_node)
        if not limits:
            return None
        # Each claim of a pod already here is at most one attached volume, so when even that upper
        # bound leaves room, the answer is "fits" without resolving every claim's PV on the node.
        upper = node_info.claim_count
        for driver, count in wanted:
            limit = limits.get(driver)
            if limit is not None and upper + count > limit:
                break
        else:
            return None
        new_volumes = dict(new_volumes)
        attached: dict[str, str] = {}
        for info in node_info.pods.values():
            vols, _ = attachable_volumes(self.snapshot, info.pod, False)
            attached.update(vols)
        attached_count: dict[str, int] = {}
        for unique, driver in attached.items():
            new_volumes.pop(unique, None)
            attached_count[driver] = attached_count.get(driver, 0) + 1
        new_count: dict[str, int] = {}
        for driver in new_volumes.values():
            new_count[driver] = new_count.get(driver, 0) + 1
        for driver, count in new_count.items():
            limit = limits.get(driver)
            if limit is not None and attached_count.get(driver, 0) + count > limit:
                return Status(Code.Unschedulable, [ERR_REASON_MAX_VOLUME_COUNT_EXCEEDED])
        return None
