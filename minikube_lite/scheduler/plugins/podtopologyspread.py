"""PodTopologySpread: hard (``DoNotSchedule``) constraints keep matching pods within maxSkew per domain.

Only the filter is implemented: soft (``ScheduleAnyway``) constraints and the cluster-default
constraints affect scoring only, and this plugin does not score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..framework import ClusterEvent, Code, CycleState, Handle, NodeInfo, PreFilterResult, Status
from ..matching import match_label_selector, tolerates_taint
from ..snapshot import JSON
from .nodeaffinity import pod_matches_node_selector_and_affinity

NAME = "PodTopologySpread"
ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
_STATE_KEY = "PreFilter" + NAME


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


def _constraints(pod: JSON) -> list[_Constraint]:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    out = []
    for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []:
        if c.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
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


class PodTopologySpread:
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
