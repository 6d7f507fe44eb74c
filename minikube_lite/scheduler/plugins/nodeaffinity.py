"""NodeAffinity: ``nodeSelector`` and required node affinity filter; preferred terms score."""

from __future__ import annotations

from typing import Any, ClassVar

from ...kube.selectors import match_node_selector_term, match_node_selector_terms
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
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ScorePlugin,
    Status,
    default_normalize_score,
)
from ..snapshot import JSON

NAME = "NodeAffinity"
ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
_PRE_FILTER_KEY = "PreFilter" + NAME
_PRE_SCORE_KEY = "PreScore" + NAME


def _affinity(pod: JSON) -> dict[str, Any]:
    aff: dict[str, Any] = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    return aff


def pod_matches_node_selector_and_affinity(pod: JSON, node: JSON) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector labels AND required terms."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    for k, v in ((pod.get("spec") or {}).get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = _affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        return match_node_selector_terms(required.get("nodeSelectorTerms"), node)
    return True


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeLabel")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        spec = pod.get("spec") or {}
        if not spec.get("nodeSelector") and \
                _affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution") is None:
            return None, Status(Code.Skip)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        if node_info.node is None or not pod_matches_node_selector_and_affinity(pod, node_info.node):
            return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_POD])
        return None

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        terms = _affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []
        if not terms:
            return Status(Code.Skip)
        state.write(_PRE_SCORE_KEY, terms)
        return None

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        total = 0
        node = node_info.node or {}
        for term in state.get(_PRE_SCORE_KEY) or []:
            w = int(term.get("weight") or 0)
            if w and match_node_selector_term(term.get("preference") or {}, node):
                total += w
        return total

    def normalize_score(self, state: CycleState, pod: JSON, scores: dict[str, int]) -> None:
        default_normalize_score(MAX_NODE_SCORE, False, scores)
