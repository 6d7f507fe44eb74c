"""VolumeZone: a pod's bound PVs carrying zone/region labels pin it to nodes in those zones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ...kube.names import LEGACY_REGION_LABEL, LEGACY_ZONE_LABEL, REGION_LABEL, ZONE_LABEL
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
from ..snapshot import JSON
from .volumebinding import claim_names

NAME = "VolumeZone"
ERR_REASON_CONFLICT = "node(s) had no available volume zone"
ERR_PVC_NO_NAME = "PersistentVolumeClaim had no name"
ERR_PVC_NO_PV_NO_CLASS = "PersistentVolumeClaim had no pv name and storageClass name"
ERR_PV_NO_NAME = "PersistentVolume had no name"
ERR_PVC_NOT_FOUND = 'persistentvolumeclaim "{}" not found'
ERR_PV_NOT_FOUND = 'persistentvolume "{}" not found'
ERR_SC_NOT_FOUND = 'storageclass.storage.k8s.io "{}" not found'
_STATE_KEY = "PreFilter" + NAME
TOPOLOGY_LABELS = (LEGACY_ZONE_LABEL, LEGACY_REGION_LABEL, ZONE_LABEL, REGION_LABEL)
_TO_GA = {LEGACY_ZONE_LABEL: ZONE_LABEL, LEGACY_REGION_LABEL: REGION_LABEL}


@dataclass(frozen=True)
class _PVTopology:
    key: str
    values: frozenset[str]


def label_zones_to_set(value: str) -> frozenset[str]:
    """``volumehelpers.LabelZonesToSet``: multi-zone PV labels are ``__``-separated."""
    return frozenset(v.strip() for v in value.split("__") if v.strip())


class VolumeZone(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.snapshot = handle.snapshot

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("StorageClass", "Add"), ClusterEvent("Node", "Add"),
                ClusterEvent("Node", "UpdateNodeLabel"), ClusterEvent("PersistentVolumeClaim", "Add"),
                ClusterEvent("PersistentVolumeClaim", "Update"), ClusterEvent("PersistentVolume", "Add"),
                ClusterEvent("PersistentVolume", "Update")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        topologies: list[_PVTopology] = []
        for name, _ in claim_names(pod):
            if not name:
                return None, Status(Code.UnschedulableAndUnresolvable, [ERR_PVC_NO_NAME])
            pvc = self.snapshot.pvcs.get_api(f"{ns}/{name}")
            if pvc is None:
                return None, Status(Code.UnschedulableAndUnresolvable,
                                    [ERR_PVC_NOT_FOUND.format(name)])
            pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
            if not pv_name:
                sc_name = claim_class(pvc)
                if not sc_name:
                    return None, Status(Code.UnschedulableAndUnresolvable,
                                        [ERR_PVC_NO_PV_NO_CLASS])
                sc = self.snapshot.storage_classes.get(sc_name)
                if sc is None:
                    return None, Status(Code.UnschedulableAndUnresolvable,
                                        [ERR_SC_NOT_FOUND.format(sc_name)])
                if sc.get("volumeBindingMode") == "WaitForFirstConsumer":
                    continue
                return None, Status(Code.UnschedulableAndUnresolvable, [ERR_PV_NO_NAME])
            pv = self.snapshot.pvs.get_api(pv_name)
            if pv is None:
                return None, Status(Code.UnschedulableAndUnresolvable,
                                    [ERR_PV_NOT_FOUND.format(pv_name)])
            labels = (pv.get("metadata") or {}).get("labels") or {}
            for key in TOPOLOGY_LABELS:
                if key in labels:
                    topologies.append(_PVTopology(key, label_zones_to_set(labels[key])))
        if not topologies:
            return None, Status(Code.Skip)
        state.write(_STATE_KEY, topologies)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        topologies: list[_PVTopology] = state.get(_STATE_KEY) or []
        labels = node_info.labels
        if not any(k in labels for k in TOPOLOGY_LABELS):
            return None   # a node without zone labels has no zone constraint
        for t in topologies:
            v = labels.get(t.key)
            if v is None:
                v = labels.get(_TO_GA.get(t.key, ""))
            if v is None or v not in t.values:
                return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_CONFLICT])
        return None
