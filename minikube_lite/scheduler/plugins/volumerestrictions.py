"""VolumeRestrictions: ReadWriteOncePod claims in use elsewhere, and inline disks already mounted.

A ReadWriteOncePod claim already used by a scheduled pod makes every node fail (the pod can only
run after the other one is gone); an inline GCE PD / AWS EBS disk already used read-write on a
node makes that node fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

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
from ..snapshot import JSON, pod_key
from .volumebinding import ERR_PVC_NOT_FOUND, claim_names

NAME = "VolumeRestrictions"
ERR_REASON_DISK_CONFLICT = "node(s) had no available disk"
ERR_REASON_RWOP_CONFLICT = ("node has pod using PersistentVolumeClaim with the same name and "
                            "ReadWriteOncePod access mode")
_STATE_KEY = "PreFilter" + NAME


def _inline_disks(pod: JSON) -> list[tuple[str, str, bool]]:
    """(kind, id, readOnly) for the inline disks whose double use upstream refuses."""
    out = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        if v.get("gcePersistentDisk"):
            d = v["gcePersistentDisk"]
            out.append(("gce", str(d.get("pdName", "")), bool(d.get("readOnly"))))
        elif v.get("awsElasticBlockStore"):
            d = v["awsElasticBlockStore"]
            out.append(("aws", str(d.get("volumeID", "")), False))
    return out


def _conflict(a: tuple[str, str, bool], b: tuple[str, str, bool]) -> bool:
    if a[0] != b[0] or a[1] != b[1]:
        return False
    return not (a[0] == "gce" and a[2] and b[2])   # GCE PDs may be shared read-only


@dataclass
class _State:
    disks: list[tuple[str, str, bool]]
    rwop_conflicts: int


class VolumeRestrictions(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.snapshot = handle.snapshot

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("AssignedPod", "Delete"), ClusterEvent("PersistentVolumeClaim", "Add"),
                ClusterEvent("PersistentVolumeClaim", "Update")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        disks = _inline_disks(pod)
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        rwop: set[str] = set()
        for name, ephemeral in claim_names(pod):
            if ephemeral:
                continue   # only persistentVolumeClaim volumes are looked at here, as upstream
            pvc = self.snapshot.pvcs.get_api(f"{ns}/{name}")
            if pvc is None:
                return None, Status(Code.UnschedulableAndUnresolvable, [ERR_PVC_NOT_FOUND.format(name)])
            if "ReadWriteOncePod" in ((pvc.get("spec") or {}).get("accessModes") or []):
                rwop.add(name)
        conflicts = 0
        if rwop:
            me = pod_key(pod)
            for info in self.snapshot.node_infos.values():
                for p in info.pods.values():
                    if p.key != me and (p.pod.get("metadata") or {}).get("namespace", "default") == ns and \
                            any(n in rwop for n, _ in claim_names(p.pod)):
                        conflicts += 1
        if not disks and not conflicts:
            return None, Status(Code.Skip)
        state.write(_STATE_KEY, _State(disks, conflicts))
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        st: _State = state.data[_STATE_KEY]
        if st.disks:
            for info in node_info.pods.values():
                for used in _inline_disks(info.pod):
                    if any(_conflict(used, d) for d in st.disks):
                        return Status(Code.Unschedulable, [ERR_REASON_DISK_CONFLICT])
        if st.rwop_conflicts:
            return Status(Code.Unschedulable, [ERR_REASON_RWOP_CONFLICT])
        return None
