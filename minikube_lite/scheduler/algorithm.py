"""One scheduling attempt over the snapshot: filter, score, pick a host; or a FitError.

``schedule_pod`` is the synchronous heart of ``schedule_one.go`` (schedulePod,
findNodesThatFitPod, prioritizeNodes, selectHost). ``FitError`` composes the FailedScheduling
message exactly as ``framework.FitError.Error`` does (storage.md §2.9).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .framework import Code, CycleState, Framework, NodeStatuses, Status
from .snapshot import JSON, NodeInfo

NO_NODE_AVAILABLE_MSG = "0/{} nodes are available"
ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods"
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """``numFeasibleNodesToFind``: all nodes below 100, else an adaptive percentage (min 5%, min 100)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    pct = percentage or 0
    if pct == 0:
        pct = 50 - num_all_nodes // 125
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    n = num_all_nodes * pct // 100
    return max(n, MIN_FEASIBLE_NODES_TO_FIND)


def fit_error_message(num_all_nodes: int, statuses: NodeStatuses, pre_filter_msg: str,
                      post_filter_msg: str) -> str:
    """``FitError.Error``: reason histogram sorted as plain strings, then the PostFilter message."""
    msg = NO_NODE_AVAILABLE_MSG.format(num_all_nodes) + ":"
    if pre_filter_msg:
        msg += f" {pre_filter_msg}."
    else:
        counts: dict[str, int] = {}
        for st in statuses.statuses.values():
            for r in st.reasons:
                counts[r] = counts.get(r, 0) + 1
        absent = num_all_nodes - len(statuses)
        if absent > 0:
            for r in statuses.absent.reasons:
                counts[r] = counts.get(r, 0) + absent
        parts = sorted(f"{v} {k}" for k, v in counts.items())
        if parts:
            msg += " " + ", ".join(parts) + "."
    if post_filter_msg:
        msg += f" {post_filter_msg}"
    return msg


@dataclass
class Diagnosis:
    statuses: NodeStatuses = field(default_factory=NodeStatuses)
    unschedulable_plugins: set[str] = field(default_factory=set)
    pre_filter_msg: str = ""
    post_filter_msg: str = ""


class FitError(Exception):
    """No node fits; ``str()`` is the FailedScheduling message."""

    def __init__(self, pod: JSON, num_all_nodes: int, diagnosis: Diagnosis) -> None:
        super().__init__()
        self.pod = pod
        self.num_all_nodes = num_all_nodes
        self.diagnosis = diagnosis

    def __str__(self) -> str:
        d = self.diagnosis
        return fit_error_message(self.num_all_nodes, d.statuses, d.pre_filter_msg, d.post_filter_msg)


class SchedulingError(Exception):
    """An internal error of a plugin (Status Error): the attempt is retried with backoff."""


@dataclass
class ScheduleResult:
    suggested_host: str
    evaluated_nodes: int
    feasible_nodes: int


class Algorithm:
    """Holds what survives between attempts: the round-robin start index and the tie-break RNG."""

    def __init__(self, framework: Framework, *, percentage_of_nodes_to_score: int | None = None,
                 rng: random.Random | None = None) -> None:
        self.framework = framework
        self.percentage = percentage_of_nodes_to_score
        self.rng = rng or random.Random()
        self.next_start_node_index = 0

    def schedule_pod(self, state: CycleState, pod: JSON) -> ScheduleResult:
        snapshot = self.framework.handle.snapshot
        all_nodes = snapshot.node_list()
        if not all_nodes:
            raise SchedulingError(ERR_NO_NODES_AVAILABLE)
        feasible, diagnosis = self._find_nodes_that_fit(state, pod, all_nodes)
        if not feasible:
            raise FitError(pod, len(all_nodes), diagnosis)
        evaluated = len(feasible) + len(diagnosis.statuses)
        if len(feasible) == 1:
            return ScheduleResult(feasible[0].name, evaluated, 1)
        scores = self._prioritize(state, pod, feasible)
        return ScheduleResult(self._select_host(feasible, scores), evaluated, len(feasible))

    def _find_nodes_that_fit(self, state: CycleState, pod: JSON, all_nodes: list[NodeInfo]
                             ) -> tuple[list[NodeInfo], Diagnosis]:
        fwk = self.framework
        diagnosis = Diagnosis()
        result, status, narrowing = fwk.run_pre_filter(state, pod)
        if status is not None and status.code != Code.Success:
            if not status.is_rejected():
                raise SchedulingError(status.message())
            diagnosis.statuses = NodeStatuses({}, status)
            diagnosis.pre_filter_msg = status.message()
            if status.plugin:
                diagnosis.unschedulable_plugins.add(status.plugin)
            return [], diagnosis
        nodes = all_nodes
        if result is not None and result.node_names is not None:
            snap = fwk.handle.snapshot
            nodes = [n for n in (snap.get_node(name) for name in sorted(result.node_names)) if n is not None]
            diagnosis.statuses.absent = Status(
                Code.UnschedulableAndUnresolvable,
                [f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowing))}]"])
        feasible = self._find_nodes_that_pass_filters(state, pod, diagnosis, nodes, len(all_nodes))
        return feasible, diagnosis

    def _find_nodes_that_pass_filters(self, state: CycleState, pod: JSON, diagnosis: Diagnosis,
                                      nodes: list[NodeInfo], num_all: int) -> list[NodeInfo]:
        fwk = self.framework
        to_find = num_feasible_nodes_to_find(self.percentage, len(nodes))
        feasible: list[NodeInfo] = []
        statuses = diagnosis.statuses.statuses
        n = len(nodes)
        start = self.next_start_node_index % n if n else 0
        processed = 0
        run_filter = fwk.run_filter
        filters = fwk.active_filters(state)
        for i in range(n):
            info = nodes[(start + i) % n]
            processed += 1
            st = run_filter(state, pod, info, filters)
            if st is None:
                feasible.append(info)
                if len(feasible) >= to_find:
                    break
            elif st.code == Code.Error:
                raise SchedulingError(st.message())
            else:
                statuses[info.name] = st
                if st.plugin:
                    diagnosis.unschedulable_plugins.add(st.plugin)
        if num_all:
            self.next_start_node_index = (self.next_start_node_index + processed) % num_all
        return feasible

    def _prioritize(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> dict[str, int]:
        fwk = self.framework
        if not fwk.score_plugins:
            return dict.fromkeys((n.name for n in nodes), 1)
        st = fwk.run_pre_score(state, pod, nodes)
        if st is not None:
            raise SchedulingError(st.message())
        return fwk.run_score(state, pod, nodes)

    def _select_host(self, nodes: list[NodeInfo], scores: dict[str, int]) -> str:
        """Highest total score; ties broken uniformly at random (reservoir sampling, as upstream)."""
        best = ""
        best_score = -1
        seen = 0
        for info in nodes:
            s = scores.get(info.name, 0)
            if s > best_score:
                best, best_score, seen = info.name, s, 1
            elif s == best_score:
                seen += 1
                if self.rng.randrange(seen) == 0:
                    best = info.name
        return best
