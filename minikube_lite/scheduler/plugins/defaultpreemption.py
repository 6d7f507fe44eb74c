"""DefaultPreemption (PostFilter): finds nodes where evicting lower-priority pods would help.

It always composes upstream's ``preemption: 0/N nodes are available: ...`` text when no node
qualifies; nodes rejected UnschedulableAndUnresolvable count as ``Preemption is not helpful for
scheduling``. When a node does qualify, the victims (fewest, lowest priority) are returned in
the PostFilterResult for the scheduler to evict, and the pod is nominated to that node.
"""

from __future__ import annotations

from typing import ClassVar

from ..framework import (
    Code,
    CycleState,
    Handle,
    NodeInfo,
    NodeStatuses,
    PostFilterPlugin,
    PostFilterResult,
    Status,
)
from ..snapshot import JSON, PodInfo, pod_priority

NAME = "DefaultPreemption"
ERR_NOT_HELPFUL = "Preemption is not helpful for scheduling"
ERR_NO_VICTIMS = "No preemption victims found for incoming pod"
ERR_POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
PREEMPTION_PREFIX = "preemption: "


class DefaultPreemption(PostFilterPlugin):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    def post_filter(self, state: CycleState, pod: JSON, statuses: NodeStatuses
                    ) -> tuple[PostFilterResult | None, Status]:
        from ..algorithm import fit_error_message  # local: algorithm imports the framework

        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return None, Status(Code.Unschedulable, [PREEMPTION_PREFIX + ERR_POLICY_NEVER])
        all_nodes = self.handle.snapshot.node_list()
        out: dict[str, Status] = {}
        candidates: list[tuple[tuple[int, int, int], str, list[JSON]]] = []
        prio = pod_priority(pod)
        fwk = self.handle.framework
        for info in all_nodes:
            st = statuses.get(info.name)
            if st.code == Code.UnschedulableAndUnresolvable:
                out[info.name] = Status(Code.UnschedulableAndUnresolvable, [ERR_NOT_HELPFUL])
                continue
            victims, status = self._select_victims(state, pod, prio, info)
            if status is not None:
                out[info.name] = status
                continue
            if not victims:
                out[info.name] = Status(Code.UnschedulableAndUnresolvable, [ERR_NO_VICTIMS])
                continue
            key = (max(pod_priority(v) for v in victims), sum(pod_priority(v) for v in victims), len(victims))
            candidates.append((key, info.name, victims))
        if candidates and fwk is not None:
            candidates.sort(key=lambda c: c[0])
            _, node_name, victims = candidates[0]
            return PostFilterResult(node_name, victims), Status(Code.Success)
        msg = fit_error_message(len(all_nodes), NodeStatuses(out), "", "")
        return PostFilterResult(""), Status(Code.Unschedulable, [PREEMPTION_PREFIX + msg])

    def _select_victims(self, state: CycleState, pod: JSON, prio: int, info: NodeInfo
                        ) -> tuple[list[JSON], Status | None]:
        """``SelectVictimsOnNode``: remove all lower-priority pods, then reprieve as many as fit."""
        fwk = self.handle.framework
        lower = [p for p in info.pods.values() if p.priority < prio]
        if not lower:
            return [], Status(Code.UnschedulableAndUnresolvable, [ERR_NO_VICTIMS])
        trial = info.clone()
        for p in lower:
            trial.remove_pod(p.key)
        assert fwk is not None
        status = fwk.run_filter(state.clone(), pod, trial)
        if status is not None:
            return [], status
        victims: list[PodInfo] = []
        for p in sorted(lower, key=lambda p: -p.priority):
            trial.add_pod(p)
            if fwk.run_filter(state.clone(), pod, trial) is not None:
                trial.remove_pod(p.key)
                victims.append(p)
        return [v.pod for v in victims], None
