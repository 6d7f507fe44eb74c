"""FailedScheduling composition (storage.md §2.9): histogram sorted as strings, PostFilter text."""

from __future__ import annotations

from _sched_builders import CP_TAINT, ZONE, node, pod, pvc, sc, schedule

from minikube_lite.scheduler.algorithm import fit_error_message, num_feasible_nodes_to_find
from minikube_lite.scheduler.framework import Code, NodeStatuses, Status
from minikube_lite.scheduler.snapshot import Snapshot

NOT_HELPFUL = "Preemption is not helpful for scheduling"


def test_canonical_message():
    snap = Snapshot.from_objects(
        nodes=[node("master", taints=[CP_TAINT], zone="cn-hangzhou-b"), node("node1", zone="cn-hangzhou-b"),
               node("node2", zone="cn-hangzhou-b")],
        pvcs=[pvc("data", "zonal")], storage_classes=[sc("zonal", zones=["cn-hangzhou-d"])])
    assert schedule(snap, pod("app", pvcs=("data",))) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 node(s) didn't find available persistent volumes to bind. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling.")


def test_mixed_failures_sorted_as_plain_strings():
    """Taint, resources, affinity and volumes together; the first failing filter wins per node."""
    nodes = [node("cp", taints=[CP_TAINT], zone="b"),
             node("small1", cpu="1", zone="b"), node("small2", cpu="1", zone="b"),
             node("other-zone", zone="d"),
             node("cordoned", unschedulable=True, zone="b")]
    nodes += [node(f"w{i}", zone="b", labels={"disk": "hdd"}) for i in range(10)]
    snap = Snapshot.from_objects(nodes=nodes, pvcs=[pvc("data", "np")],
                                 storage_classes=[sc("np", "kubernetes.io/no-provisioner")])
    for i in range(10):   # fill half of the hdd workers so they fail on resources, not volumes
        if i % 2 == 0:
            snap.assume_pod(pod(f"filler{i}", cpu="3500m"), f"w{i}")
    p = pod("app", cpu="1", pvcs=("data",),
            affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]}]}}})
    # cp: taint; other-zone: affinity; cordoned: unschedulable; five full workers: cpu (resolvable,
    # but no lower-priority victims); small1/small2 (1 cpu fits exactly) and five hdd workers: volumes.
    assert schedule(snap, p) == (
        "0/15 nodes are available: "
        "1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "1 node(s) were unschedulable, "
        "5 Insufficient cpu, "
        "7 node(s) didn't find available persistent volumes to bind. "
        "preemption: 0/15 nodes are available: 10 Preemption is not helpful for scheduling, "
        "5 No preemption victims found for incoming pod.")


def test_histogram_sorting_is_lexicographic_not_numeric():
    statuses = {f"n{i}": Status(Code.UnschedulableAndUnresolvable, ["node(s) were unschedulable"])
                for i in range(10)}
    statuses["x"] = Status(Code.UnschedulableAndUnresolvable, ["node(s) didn't match Pod's node affinity/selector"])
    statuses["y"] = Status(Code.UnschedulableAndUnresolvable, ["node(s) didn't match Pod's node affinity/selector"])
    msg = fit_error_message(12, NodeStatuses(statuses), "", "")
    assert msg == ("0/12 nodes are available: 10 node(s) were unschedulable, "
                   "2 node(s) didn't match Pod's node affinity/selector.")


def test_multiple_reasons_of_one_node_are_each_counted():
    statuses = {"a": Status(Code.Unschedulable, ["Insufficient cpu", "Insufficient memory"]),
                "b": Status(Code.Unschedulable, ["Insufficient cpu"])}
    assert fit_error_message(2, NodeStatuses(statuses), "", "") == \
        "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."


def test_prefilter_message_and_absent_nodes():
    assert fit_error_message(3, NodeStatuses({}, Status(Code.UnschedulableAndUnresolvable, ["x"])), "x", "p: y") == \
        "0/3 nodes are available: x. p: y"
    absent = Status(Code.UnschedulableAndUnresolvable, ["node(s) didn't satisfy plugin(s) [VolumeBinding]"])
    msg = fit_error_message(3, NodeStatuses({"a": Status(Code.Unschedulable, ["Too many pods"])}, absent), "", "")
    assert msg == "0/3 nodes are available: 1 Too many pods, 2 node(s) didn't satisfy plugin(s) [VolumeBinding]."


def test_resource_only_failure_offers_preemption_when_lower_priority_pods_exist():
    snap = Snapshot.from_objects(nodes=[node("a", cpu="2"), node("b", cpu="2", taints=[CP_TAINT])])
    snap.assume_pod(pod("low", cpu="1500m", priority=0), "a")
    # no lower-priority pods than the preemptor (same priority): no victims
    assert schedule(snap, pod("p", cpu="1")) == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.")
    # preemptionPolicy Never
    assert schedule(snap, pod("p", cpu="1", priority=100, preemption_policy="Never")).endswith(
        "preemption: not eligible due to preemptionPolicy=Never.")


def test_preemption_nominates_node_and_victims():
    from _sched_builders import make

    from minikube_lite.scheduler.algorithm import FitError
    from minikube_lite.scheduler.framework import CycleState

    snap = Snapshot.from_objects(nodes=[node("a", cpu="2")])
    snap.assume_pod(pod("low", cpu="1500m", priority=0), "a")
    snap.assume_pod(pod("tiny", cpu="100m", priority=0), "a")
    fwk, alg = make(snap)
    state = CycleState()
    p = pod("p", cpu="1", priority=1000)
    try:
        alg.schedule_pod(state, p)
        raise AssertionError("should not fit")
    except FitError as fit:
        r, st = fwk.run_post_filter(state, p, fit.diagnosis.statuses)
    assert st.is_success()
    assert r.nominated_node_name == "a"
    assert [v["metadata"]["name"] for v in r.victims] == ["low"]   # "tiny" is reprieved


def test_percentage_of_nodes_to_score():
    assert num_feasible_nodes_to_find(None, 50) == 50
    assert num_feasible_nodes_to_find(None, 99) == 99
    assert num_feasible_nodes_to_find(None, 100) == 100     # 49% of 100 -> 49 -> min 100
    assert num_feasible_nodes_to_find(None, 1000) == 420    # 50 - 1000/125 = 42%
    assert num_feasible_nodes_to_find(None, 5000) == 500    # 50 - 40 = 10%
    assert num_feasible_nodes_to_find(None, 6000) == 300    # floor at 5%
    assert num_feasible_nodes_to_find(30, 1000) == 300
    assert num_feasible_nodes_to_find(1, 1000) == 100
