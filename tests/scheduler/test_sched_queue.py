"""The scheduling queue: priority order, unschedulable pool, event moves, backoff from the Clock."""

from __future__ import annotations

import asyncio

import pytest
from _sched_builders import pod

from minikube_lite.clock import VirtualClock
from minikube_lite.scheduler.framework import ClusterEvent
from minikube_lite.scheduler.queue import SchedulingQueue

EVENTS = {"VolumeBinding": [ClusterEvent("StorageClass", "Add"), ClusterEvent("StorageClass", "Update")],
          "TaintToleration": [ClusterEvent("Node", "UpdateNodeTaint")],
          "NodeAffinity": [ClusterEvent("Node", "Update")]}


def _queue(clock: VirtualClock) -> SchedulingQueue:
    return SchedulingQueue(clock, EVENTS)


async def _pop(q: SchedulingQueue):
    return await asyncio.wait_for(q.pop(), 1.0)


async def test_priority_then_fifo():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("a", priority=0))
    await clock.advance(1)
    q.add(pod("b", priority=10))
    await clock.advance(1)
    q.add(pod("c", priority=0))
    q.add(pod("d", priority=10))
    assert [(await _pop(q)).key for _ in range(4)] == ["default/b", "default/d", "default/a", "default/c"]


async def test_unschedulable_pod_moves_on_a_registered_event_only():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("p"))
    info = await _pop(q)
    cycle = q.scheduling_cycle
    info.unschedulable_plugins = {"VolumeBinding"}
    q.requeue_failed(info, cycle, error=False)
    assert q.pending()["unschedulable"] == ["default/p"]
    assert q.move_on_event("Node", "UpdateNodeTaint") == 0
    assert q.move_on_event("StorageClass", "Add") == 1
    # still inside its 1 s backoff, but moved by an event: popped at once (SchedulerPopFromBackoffQ)
    assert q.has_ready()
    assert (await _pop(q)).key == "default/p"


@pytest.mark.parametrize("resource,action,moves", [
    ("Node", "UpdateNodeLabel", True),    # "Update" matches the finer node updates
    ("Node", "UpdateNodeTaint", True),
    ("Node", "Add", False),
    ("PersistentVolume", "Add", False),
])
async def test_event_matching(resource, action, moves):
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("p"))
    info = await _pop(q)
    info.unschedulable_plugins = {"NodeAffinity"}
    q.requeue_failed(info, q.scheduling_cycle, error=False)
    assert (q.move_on_event(resource, action) == 1) is moves


async def test_error_backoff_doubles_to_ten_seconds():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("p"))
    waits = []
    for _ in range(6):
        info = await _pop(q)
        q.requeue_failed(info, q.scheduling_cycle, error=True)
        expiry = q.next_backoff_expiry()
        waits.append(expiry - clock.now())
        assert not q.has_ready()
        await clock.advance_to(expiry)
    assert waits == [1, 2, 4, 8, 10, 10]


async def test_event_during_the_cycle_sends_pod_to_backoff():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("p"))
    info = await _pop(q)
    cycle = q.scheduling_cycle
    q.move_on_event("PersistentVolume", "Add")      # arrives while p is being scheduled
    info.unschedulable_plugins = {"VolumeBinding"}
    q.requeue_failed(info, cycle, error=False)
    assert q.pending()["backoff"] == ["default/p"]
    await clock.advance(1)
    assert q.pending()["active"] == ["default/p"]


async def test_leftover_unschedulable_pods_are_flushed_after_five_minutes():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    q.add(pod("p"))
    info = await _pop(q)
    info.unschedulable_plugins = {"VolumeBinding"}
    q.requeue_failed(info, q.scheduling_cycle, error=False)
    await clock.advance(299)
    q.flush_unschedulable_leftover()
    assert q.pending()["unschedulable"] == ["default/p"]
    await clock.advance(1)
    q.flush_unschedulable_leftover()
    assert q.pending()["active"] == ["default/p"]


async def test_gated_pod_waits_until_gates_are_removed():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    gated = pod("g")
    gated["spec"]["schedulingGates"] = [{"name": "example.com/wait"}]
    q.add(gated)
    assert q.pending()["gated"] == ["default/g"] and not q.has_ready()
    open_ = pod("g")
    q.update(gated, open_)
    assert (await _pop(q)).key == "default/g"


async def test_status_only_update_does_not_requeue():
    clock = VirtualClock(start=100)
    q = _queue(clock)
    p = pod("p")
    q.add(p)
    info = await _pop(q)
    info.unschedulable_plugins = {"VolumeBinding"}
    q.requeue_failed(info, q.scheduling_cycle, error=False)
    with_status = {**p, "status": {"conditions": [{"type": "PodScheduled", "status": "False"}]}}
    q.update(p, with_status)
    assert q.pending()["unschedulable"] == ["default/p"]
    relabelled = {**p, "metadata": {**p["metadata"], "labels": {"x": "y"}}}
    q.update(with_status, relabelled)
    assert q.pending()["unschedulable"] == []


def test_scheduler_reads_timings_from_the_cluster_config():
    from minikube_lite.config import ClusterConfig
    from minikube_lite.scheduler.scheduler import Scheduler

    cfg = ClusterConfig.default()
    cfg.timings.schedulerBackoffInitial = 2
    cfg.timings.schedulerBackoffMax = 20
    cfg.timings.bindTimeout = 30
    s = Scheduler(None, VirtualClock(start=0), config=cfg)
    assert (s.queue.initial_backoff, s.queue.max_backoff, s.handle.bind_timeout_seconds) == (2, 20, 30)
    assert Scheduler(None, VirtualClock(start=0), config=cfg, max_backoff_seconds=3).queue.max_backoff == 3
    assert Scheduler(None, VirtualClock(start=0)).queue.max_in_unschedulable == 300


async def test_queueing_hint_limits_pvc_events_to_pods_using_the_claim():
    from _sched_builders import pvc

    clock = VirtualClock(start=100)
    q = SchedulingQueue(clock, {"VolumeBinding": [ClusterEvent("PersistentVolumeClaim", "Update")]},
                        hints={"VolumeBinding": lambda p, r, a, o, old: o["metadata"]["name"] in
                               [v["persistentVolumeClaim"]["claimName"] for v in p["spec"].get("volumes", [])]})
    for name, claim in (("a", "data-a"), ("b", "data-b")):
        q.add(pod(name, pvcs=(claim,)))
        info = await _pop(q)
        info.unschedulable_plugins = {"VolumeBinding"}
        q.requeue_failed(info, q.scheduling_cycle, error=False)
    assert q.move_on_event("PersistentVolumeClaim", "Update", pvc("data-b", "std")) == 1
    assert q.pending()["unschedulable"] == ["default/a"]


@pytest.mark.parametrize("old,new,action", [
    (None, pod("p", node_name="n"), "Add"),
    (pod("p"), pod("p", node_name="n"), "Add"),
    (pod("p", node_name="n"), {**pod("p", node_name="n"), "status": {"phase": "Running"}}, None),
    (pod("p", node_name="n"), pod("p", node_name="n", labels={"x": "y"}), "UpdatePodLabel"),
    (pod("p", node_name="n", cpu="2"), pod("p", node_name="n", cpu="1"), "UpdatePodScaleDown"),
])
def test_assigned_pod_action(old, new, action):
    from minikube_lite.scheduler.scheduler import assigned_pod_action

    assert assigned_pod_action(old, new) == action
