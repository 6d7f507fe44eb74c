"""TaintToleration: NoSchedule/NoExecute taints must be tolerated; PreferNoSchedule ones lower the score."""

from __future__ import annotations

from typing import ClassVar

from ...kube.selectors import tolerates_taint
from ..framework import (
    MAX_NODE_SCORE,
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    NormalizeScorePlugin,
    PreScorePlugin,
    ScorePlugin,
    Status,
    default_normalize_score,
)
from ..snapshot import JSON

NAME = "TaintToleration"
ERR_REASON_NOT_MATCH = "node(s) had taints that the pod didn't tolerate"
ERR_REASON_UNTOLERATED = "node(s) had untolerated taint {{{}: {}}}"   # Go: {%s: %s}
_STATE_KEY = "PreScore" + NAME
_FILTER_EFFECTS = ("NoSchedule", "NoExecute")


def untolerated_taint_reason(taint: JSON) -> str:
    """Upstream prints the taint as ``{key: value}``; an empty value leaves ``{key: }``."""
    return ERR_REASON_UNTOLERATED.format(taint.get("key", ""), taint.get("value") or "")


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Pod", "UpdatePodToleration")]

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        if not node_info.taints:
            return None
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        for taint in node_info.taints:
            if taint.get("effect") not in _FILTER_EFFECTS:
                continue
            if not tolerates_taint(tolerations, taint):
                return Status(Code.UnschedulableAndUnresolvable, [untolerated_taint_reason(taint)])
        return None

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        # With no PreferNoSchedule taint on any candidate every node would get the same score, so
        # skipping changes no decision and saves a pass over the nodes.
        if not any(t.get("effect") == "PreferNoSchedule" for n in nodes for t in n.taints):
            return Status(Code.Skip)
        tolerations = [t for t in (pod.get("spec") or {}).get("tolerations") or []
                       if not t.get("effect") or t.get("effect") == "PreferNoSchedule"]
        state.write(_STATE_KEY, tolerations)
        return None

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        tolerations = state.get(_STATE_KEY) or []
        return sum(1 for t in node_info.taints
                   if t.get("effect") == "PreferNoSchedule" and not tolerates_taint(tolerations, t))

    def normalize_score(self, state: CycleState, pod: JSON, scores: dict[str, int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, True, scores)
