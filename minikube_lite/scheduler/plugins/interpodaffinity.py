"""InterPodAffinity (filter): required pod affinity/anti-affinity, and existing pods' anti-affinity.

Counts are taken per (topologyKey, value) over the pods already on nodes, as upstream's
PreFilter does; the per-node check is then a few dictionary lookups. Preferred terms (scoring)
and ``namespaceSelector`` with non-empty selectors (which need Namespace labels) are not covered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from ...kube.selectors import match_label_selector
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
from ..snapshot import JSON, required_anti_affinity_terms

NAME = "InterPodAffinity"
ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules"
ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
_STATE_KEY = "PreFilter" + NAME

Pair = tuple[str, str]


def _ns(pod: JSON) -> str:
    return str((pod.get("metadata") or {}).get("namespace") or "default")


def term_matches(term: JSON, owner: JSON, target: JSON) -> bool:
    """Does ``target`` match a term declared by ``owner`` (namespaces, then label selector)?"""
    namespaces = term.get("namespaces") or []
    ns_selector = term.get("namespaceSelector")
    target_ns = _ns(target)
    if namespaces or ns_selector is not None:
        in_list = target_ns in namespaces
        all_ns = ns_selector is not None and not ns_selector.get("matchLabels") and \
            not ns_selector.get("matchExpressions")
        if not (in_list or all_ns):
            return False
    elif target_ns != _ns(owner):
        return False
    return match_label_selector(term.get("labelSelector"), (target.get("metadata") or {}).get("labels"))


def _required(pod: JSON, kind: str) -> list[JSON]:
    aff = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    terms: list[JSON] = aff.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    return terms


@dataclass
class _State:
    affinity: list[JSON]
    anti_affinity: list[JSON]
    existing_anti: dict[Pair, int] = field(default_factory=dict)
    affinity_counts: dict[Pair, int] = field(default_factory=dict)
    anti_counts: dict[Pair, int] = field(default_factory=dict)
    self_match: bool = False


class InterPodAffinity(PreFilterPlugin, FilterPlugin, EnqueueExtensions):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.snapshot = handle.snapshot

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("AssignedPod", "*"), ClusterEvent("Node", "Add"),
                ClusterEvent("Node", "UpdateNodeLabel")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        affinity = _required(pod, "podAffinity")
        anti = _required(pod, "podAntiAffinity")
        if not affinity and not anti and not self.snapshot.anti_affinity_pods:
            return None, Status(Code.Skip)
        nodes = self.snapshot.node_list()
        with_anti = [n for n in nodes if n.anti_affinity_pods]
        st = _State(affinity, anti)
        for info in with_anti:
            for p in info.pods.values():
                if not p.anti_affinity:
                    continue
                for term in required_anti_affinity_terms(p.pod):
                    key = term.get("topologyKey", "")
                    if key in info.labels and term_matches(term, p.pod, pod):
                        pair = (key, info.labels[key])
                        st.existing_anti[pair] = st.existing_anti.get(pair, 0) + 1
        if affinity or anti:
            for info in nodes:
                for p in info.pods.values():
                    for terms, counts in ((affinity, st.affinity_counts), (anti, st.anti_counts)):
                        for term in terms:
                            key = term.get("topologyKey", "")
                            if key in info.labels and term_matches(term, pod, p.pod):
                                pair = (key, info.labels[key])
                                counts[pair] = counts.get(pair, 0) + 1
            st.self_match = all(term_matches(t, pod, pod) for t in affinity)
        state.write(_STATE_KEY, st)
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        st: _State = state.data[_STATE_KEY]
        labels = node_info.labels
        if st.affinity and not self._satisfies_affinity(st, labels):
            return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_AFFINITY])
        for term in st.anti_affinity:
            key = term.get("topologyKey", "")
            if key in labels and st.anti_counts.get((key, labels[key]), 0) > 0:
                return Status(Code.Unschedulable, [ERR_REASON_ANTI_AFFINITY])
        if st.existing_anti:
            for pair in labels.items():
                if st.existing_anti.get(pair, 0) > 0:
                    return Status(Code.Unschedulable, [ERR_REASON_EXISTING_ANTI_AFFINITY])
        return None

    @staticmethod
    def _satisfies_affinity(st: _State, labels: dict[str, str]) -> bool:
        ok = True
        for term in st.affinity:
            key = term.get("topologyKey", "")
            if key not in labels or st.affinity_counts.get((key, labels[key]), 0) <= 0:
                ok = False
                break
        if ok:
            return True
        # The first pod of a group that is affine to itself may go anywhere the keys exist.
        if not st.affinity_counts and st.self_match:
            return all(t.get("topologyKey", "") in labels for t in st.affinity)
        return False
