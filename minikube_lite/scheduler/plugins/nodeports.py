"""NodePorts: two pods on one node cannot claim the same hostPort/protocol/IP."""

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

NAME = "NodePorts"
ERR_REASON = "node(s) didn't have free ports for the requested pod ports"
_STATE_KEY = "PreFilter" + NAME
_ANY_IP = "0.0.0.0"

Port = tuple[str, str, int]   # (hostIP, protocol, hostPort)


def host_ports(pod: JSON) -> list[Port]:
    spec = pod.get("spec") or {}
    out: list[Port] = []
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for p in c.get("ports") or []:
            hp = p.get("hostPort") or 0
            if hp > 0:
                out.append((p.get("hostIP") or _ANY_IP, p.get("protocol") or "TCP", int(hp)))
    return out


def _conflict(a: Port, b: Port) -> bool:
    return a[1] == b[1] and a[2] == b[2] and (a[0] == b[0] or _ANY_IP in (a[0], b[0]))


class NodePorts(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("AssignedPod", "Delete"), ClusterEvent("Node", "Add")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        ports = host_ports(pod)
        if not ports:
            return None, Status(Code.Skip)
        state.write(_STATE_KEY, ports)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        wanted: list[Port] = state.get(_STATE_KEY) or []
        for info in node_info.pods.values():
            for used in host_ports(info.pod):
                if any(_conflict(used, w) for w in wanted):
                    return Status(Code.Unschedulable, [ERR_REASON])
        return None
