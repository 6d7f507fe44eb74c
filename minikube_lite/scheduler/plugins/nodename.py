"""NodeName: a pod that names its node fits only that node."""

from __future__ import annotations

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
from ..snapshot import JSON

NAME = "NodeName"
ERR_REASON = "node(s) didn't match the requested node name"


class NodeName(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        # Nothing to check for pods without spec.nodeName: skip the per-node call entirely.
        if not (pod.get("spec") or {}).get("nodeName"):
            return None, Status(Code.Skip)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        want = (pod.get("spec") or {}).get("nodeName")
        if want and want != node_info.name:
            return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON])
        return None
