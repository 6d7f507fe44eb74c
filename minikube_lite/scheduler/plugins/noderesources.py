"""NodeResourcesFit (filter + LeastAllocated score) and NodeResourcesBalancedAllocation.

A pod fits when each request fits in allocatable minus what the pods already on the node
request, and the node has room for one more pod. Reasons are upstream's ``Insufficient <name>``
and ``Too many pods``; every failing resource is reported, as upstream keeps all reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..framework import (
    MAX_NODE_SCORE,
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
)
from ..snapshot import JSON, pod_non_zero_requests, pod_requests

NAME = "NodeResourcesFit"
BALANCED_NAME = "NodeResourcesBalancedAllocation"
ERR_REASON_TOO_MANY_PODS = "Too many pods"
ERR_REASON_INSUFFICIENT_CPU = "Insufficient cpu"
ERR_REASON_INSUFFICIENT_MEMORY = "Insufficient memory"
ERR_REASON_INSUFFICIENT_EPHEMERAL = "Insufficient ephemeral-storage"
ERR_REASON_INSUFFICIENT = "Insufficient {}"
_STATE_KEY = "PreFilter" + NAME
_FIRST = ("cpu", "memory", "ephemeral-storage")


def insufficient_reason(resource: str) -> str:
    return ERR_REASON_INSUFFICIENT.format(resource)


@dataclass(slots=True)
class _PreFilterState:
    requests: dict[str, int]
    non_zero_cpu: int
    non_zero_mem: int
    empty: bool
    names: list[str]    # requested resources, in the order upstream reports them


def _pre_state(state: CycleState, pod: JSON) -> _PreFilterState:
    s: _PreFilterState | None = state.data.get(_STATE_KEY)
    if s is None:
        req = {k: v for k, v in pod_requests(pod).items() if k != "pods"}
        cpu, mem = pod_non_zero_requests(pod)
        names = [r for r in _FIRST if req.get(r)] + sorted(r for r in req if r not in _FIRST and req[r])
        s = _PreFilterState(req, cpu, mem, not any(req.values()), names)
        state.write(_STATE_KEY, s)
    return s


def fits_request(requests: dict[str, int], empty: bool, node_info: NodeInfo,
                 names: list[str] | None = None) -> list[tuple[str, bool]]:
    """``fitsRequest``: (reason, unresolvable) per insufficient resource, upstream order."""
    out: list[tuple[str, bool]] = []
    alloc = node_info.allocatable
    allowed_pods = alloc.get("pods", 0)
    if len(node_info.pods) + 1 > allowed_pods:
        out.append((ERR_REASON_TOO_MANY_PODS, False))
    if empty:
        return out
    used = node_info.requested
    if names is None:
        names = [r for r in _FIRST if requests.get(r)] + sorted(r for r in requests if r not in _FIRST and requests[r])
    for r in names:
        want = requests[r]
        have = alloc.get(r, 0)
        if want > have - used.get(r, 0):
            out.append((insufficient_reason(r), want > have))
    return out


class NodeResourcesFit(PreFilterPlugin, FilterPlugin, ScorePlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("AssignedPod", "Delete"), ClusterEvent("AssignedPod", "Update"),
                ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeAllocatable")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        state.write(_STATE_KEY, None)
        _pre_state(state, pod)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        s = state.data.get(_STATE_KEY) or _pre_state(state, pod)
        alloc = node_info.allocatable
        if len(node_info.pods) < alloc.get("pods", 0):
            # fast path of fits_request: room for the pod, so only the requested resources matter
            used = node_info.requested
            req = s.requests
            for r in s.names:
                if req[r] > alloc.get(r, 0) - used.get(r, 0):
                    break
            else:
                return None
        bad = fits_request(s.requests, s.empty, node_info, s.names)
        if not bad:
            return None
        code = Code.UnschedulableAndUnresolvable if any(u for _, u in bad) else Code.Unschedulable
        return Status(code, [r for r, _ in bad])

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        """LeastAllocated over cpu and memory, weight 1 each, with non-zero request defaults."""
        s = state.data.get(_STATE_KEY) or _pre_state(state, pod)
        total = 0
        alloc = node_info.allocatable.get("cpu", 0)
        req = node_info.non_zero_cpu + s.non_zero_cpu
        if alloc and req <= alloc:
            total += (alloc - req) * MAX_NODE_SCORE // alloc
        alloc = node_info.allocatable.get("memory", 0)
        req = node_info.non_zero_mem + s.non_zero_mem
        if alloc and req <= alloc:
            total += (alloc - req) * MAX_NODE_SCORE // alloc
        return total // 2


class NodeResourcesBalancedAllocation(PreScorePlugin, ScorePlugin):
    """Favours nodes whose cpu and memory fractions stay close after placing the pod."""

    name: ClassVar[str] = BALANCED_NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        s = _pre_state(state, pod)
        if s.empty:
            return Status(Code.Skip)   # best-effort pods do not change the balance
        return None

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        s = _pre_state(state, pod)
        fractions = []
        for name in ("cpu", "memory"):
            alloc = node_info.allocatable.get(name, 0)
            if not alloc:
                continue
            used = node_info.requested.get(name, 0) + s.requests.get(name, 0)
            fractions.append(min(1.0, used / alloc))
        if len(fractions) < 2:
            return MAX_NODE_SCORE
        std = abs(fractions[0] - fractions[1]) / 2
        return int((1 - std) * MAX_NODE_SCORE)
