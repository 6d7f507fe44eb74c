"""PodTopologySpread: hard (``DoNotSchedule``) constraints keep matching pods within maxSkew per domain;
soft (``ScheduleAnyway``) constraints score nodes with fewer matching pods higher.

The cluster-default constraints (applied upstream to pods of Services/ReplicaSets/StatefulSets
that declare none) are not applied: they need those objects' selectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ...kube.names import HOSTNAME_LABEL
from ...kube.selectors import match_label_selector, tolerates_taint
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
)
from ..snapshot import JSON
from .nodeaffinity import pod_matches_node_selector_and_affinity

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
_STATE_KEY = "PreFilter" + NAME
_SCORE_KEY = "PreScore" + NAME


@dataclass
class _Constraint:
    max_skew: int
    topology_key: str
    selector: dict[str, Any]
    min_domains: int
    honor_affinity: bool
    honor_taints: bool


@dataclass
class _State:
    constraints: list[_Constraint]
    counts: list[dict[str, int]]   # per constraint: topology value -> matching pods


@dataclass
class _ScoreState:
    constraints: list[_Constraint]
    ignored: set[str]
    pair_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    weights: list[float] = field(default_factory=list)


def _constraints(pod: JSON, when: str = "DoNotSchedule") -> list[_Constraint]:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        if c.get("whenUnsatisfiable", "DoNotSchedule") != when:
            continue
        sel = dict(c.get("labelSelector") or {})
        keys = c.get("matchLabelKeys") or []
        if keys:
            exprs = list(sel.get("matchExpressions") or [])
            exprs += [{"key": k, "operator": "In", "values": [labels[k]]} for k in keys if k in labels]
            sel["matchExpressions"] = exprs
        out.append(_Constraint(int(c.get("maxSkew") or 1), str(c.get("topologyKey", "")),
                               sel if c.get("labelSelector") is not None else {"matchExpressions": [
                                   {"key": "\x00never", "operator": "Exists"}]},
                               int(c.get("minDomains") or 1),
                               c.get("nodeAffinityPolicy", "Honor") == "Honor",
                               c.get("nodeTaintsPolicy", "Ignore") == "Honor"))
    return out


def _matching_pods(info: NodeInfo, ns: str, selector: dict[str, Any]) -> int:
    n = 0
    for p in info.pods.values():
        md = p.pod.get("metadata") or {}
        if (md.get("namespace") or "default") == ns and not md.get("deletionTimestamp") and \
                match_label_selector(selector, md.get("labels")):
            n += 1
    return n


def _node_included(c: _Constraint, pod: JSON, info: NodeInfo, tolerations: list[JSON]) -> bool:
    if c.honor_affinity and not pod_matches_node_selector_and_affinity(pod, info.node or {}):
        return False
    if c.honor_taints and any(t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates_taint(tolerations, t)
                              for t in info.taints):
        return False
    return True



class PodTopologySpread(
        PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin, EnqueueExtensions,
):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.snapshot = handle.snapshot

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("AssignedPod", "*"), ClusterEvent("Node", "Add"),
                ClusterEvent("Node", "UpdateNodeLabel"), ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("Node", "Delete")]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        constraints = _constraints(pod)
        if not constraints:
            return None, Status(Code.Skip)
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        counts: list[dict[str, int]] = [{} for _ in constraints]
        for info in self.snapshot.node_list():
            node = info.node or {}
            if not all(c.topology_key in info.labels for c in constraints):
                continue
            for i, c in enumerate(constraints):
                if c.honor_affinity and not pod_matches_node_selector_and_affinity(pod, node):
                    continue
                if c.honor_taints and any(t.get("effect") in ("NoSchedule", "NoExecute")
                                          and not tolerates_taint(tolerations, t) for t in info.taints):
                    continue
                value = info.labels[c.topology_key]
                n = 0
                for p in info.pods.values():
                    md = p.pod.get("metadata") or {}
                    if (md.get("namespace") or "default") != ns or md.get("deletionTimestamp"):
                        continue
                    if match_label_selector(c.selector, md.get("labels")):
                        n += 1
                counts[i][value] = counts[i].get(value, 0) + n
        state.write(_STATE_KEY, _State(constraints, counts))
        return None, None

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        st: _State = state.read(_STATE_KEY)
        pod_labels = (pod.get("metadata") or {}).get("labels") or {}
        for c, counts in zip(st.constraints, st.counts, strict=True):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                return Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_LABEL_NOT_MATCH])
            if len(counts) < c.min_domains:
                min_match = 0
            else:
                min_match = min(counts.values()) if counts else 0
            self_match = 1 if match_label_selector(c.selector, pod_labels) else 0
            skew = counts.get(value, 0) + self_match - min_match
            if skew > c.max_skew:
                return Status(Code.Unschedulable, [ERR_REASON_CONSTRAINTS_NOT_MATCH])
        return None

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        """Count matching pods per (key, value) of the soft constraints over the domains of ``nodes``."""
        constraints = _constraints(pod, "ScheduleAnyway")
        if not constraints:
            return Status(Code.Skip)
        keys = {c.topology_key for c in constraints}
        ignored = {n.name for n in nodes if not keys <= n.labels.keys()}
        st = _ScoreState(constraints, ignored)
        domains: list[set[str]] = [set() for _ in constraints]
        for n in nodes:
            if n.name in ignored:
                continue
            for i, c in enumerate(constraints):
                domains[i].add(n.labels[c.topology_key])
                if c.topology_key != HOSTNAME_LABEL:
                    st.pair_counts.setdefault((c.topology_key, n.labels[c.topology_key]), 0)
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        for info in self.snapshot.node_list():
            if not keys <= info.labels.keys():
                continue
            for c in constraints:
                if c.topology_key == HOSTNAME_LABEL:
                    continue
                pair = (c.topology_key, info.labels[c.topology_key])
                if pair in st.pair_counts and _node_included(c, pod, info, tolerations):
                    st.pair_counts[pair] += _matching_pods(info, ns, c.selector)
        for i, c in enumerate(constraints):
            size = len(nodes) - len(ignored) if c.topology_key == HOSTNAME_LABEL else len(domains[i])
            st.weights.append(math.log(size + 2))
        state.write(_SCORE_KEY, st)
        return None


    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        st: _ScoreState = state.data[_SCORE_KEY]
        if node_info.name in st.ignored:
            return 0
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        total = 0.0
        for c, w in zip(st.constraints, st.weights, strict=True):
            value = node_info.labels.get(c.topology_key)
            if value is None:
                continue
            if c.topology_key == HOSTNAME_LABEL:
                cnt = _matching_pods(node_info, ns, c.selector)
            else:
                cnt = st.pair_counts.get((c.topology_key, value), 0)
            total += cnt * w + (c.max_skew - 1)
        return round(total)


    def normalize_score(self, state: CycleState, pod: JSON, scores: dict[str, int]) -> None:
        """Fewer matching pods is better: ``100 * (max + min - score) / max``; ignored nodes get 0."""
        st: _ScoreState = state.data[_SCORE_KEY]
        live = [v for k, v in scores.items() if k not in st.ignored]
        if not live:
            return
        lo, hi = min(live), max(live)
        for k, v in scores.items():
            if k in st.ignored:
                scores[k] = 0
            elif hi == 0:
                scores[k] = MAX_NODE_SCORE
            else:
                scores[k] = MAX_NODE_SCORE * (hi + lo - v) // hi
