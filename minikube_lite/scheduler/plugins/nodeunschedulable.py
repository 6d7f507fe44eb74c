"""NodeUnschedulable: a cordoned node takes only pods that tolerate its unschedulable taint."""

from __future__ import annotations

from typing import ClassVar

from ...kube.names import TAINT_NODE_UNSCHEDULABLE
from ...kube.selectors import tolerates_taint
from ..framework import (
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    Status,
)
from ..snapshot import JSON

NAME = "NodeUnschedulable"
ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
_TAINT = {"key": TAINT_NODE_UNSCHEDULABLE, "effect": "NoSchedule"}


class NodeUnschedulable(FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint")]

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        if not node_info.unschedulable:
            return None
        if tolerates_taint((pod.get("spec") or {}).get("tolerations") or [], _TAINT):
            return None
        return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNSCHEDULABLE])
