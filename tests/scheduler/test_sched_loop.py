"""The scheduler loop against a real in-process cluster on a virtual clock (scenarios §7b, §7c).

The cluster runs without the other controllers so each test plays the PV controller and the
provisioner itself, step by step, and can observe every intermediate state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _sched_builders import ZONE, pod

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.scheduler.scheduler import Scheduler

PREEMPT_3 = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
TAINT_CP = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
JSON = dict[str, Any]


@pytest.fixture
async def env() -> AsyncIterator[tuple[Cluster, Scheduler]]:
    async with Cluster(ClusterConfig.default(), clock=VirtualClock(), components=False) as c:
        s = Scheduler(c.client, c.clock)
        await s.start()
        c.controllers.append(s)
        try:
            yield c, s
        finally:
            c.controllers.remove(s)
            await s.stop()


async def until(check: Callable[[], Awaitable[bool]], rounds: int = 2000) -> None:
    """Let the event loop run (without moving the virtual clock) until ``check`` holds."""
    for _ in range(rounds):
        if await check():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def events_for(c: Cluster, name: str) -> list[tuple[str, str, str]]:
    items = (await c.client.list("events", "default"))["items"]
    return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]


async def get_pod(c: Cluster, name: str) -> JSON:
    return await c.client.get("pods", name, "default")


def condition(p: JSON) -> JSON | None:
    return next((x for x in (p.get("status") or {}).get("conditions") or [] if x["type"] == "PodScheduled"), None)


def claim(name: str, cls: str, size: str = "1Gi") -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                     "resources": {"requests": {"storage": size}}}}


async def bind_claim(c: Cluster, pvc_name: str, pv: JSON) -> None:
    """Act as the PV controller's ``bind`` (storage.md 1.7) for an already claimRef'd PV."""
    pv_name = pv["metadata"]["name"]
    pv = await c.client.get("persistentvolumes", pv_name)
    pv["status"] = {"phase": "Bound"}
    await c.client.update("persistentvolumes", pv, subresource="status")
    pvc = await c.client.get("persistentvolumeclaims", pvc_name, "default")
    pvc["spec"]["volumeName"] = pv_name
    pvc["metadata"].setdefault("annotations", {}).update({"pv.kubernetes.io/bind-completed": "yes",
                                                          "pv.kubernetes.io/bound-by-controller": "yes"})
    pvc = await c.client.update("persistentvolumeclaims", pvc, "default")
    pvc["status"] = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": pv["spec"]["capacity"]}
    await c.client.update("persistentvolumeclaims", pvc, "default", subresource="status")


async def test_schedules_a_plain_pod_and_records_scheduled(env):
    c, s = env
    await c.client.create("pods", pod("web"), "default")
    await c.settle()
    p = await get_pod(c, "web")
    assert p["spec"]["nodeName"] in ("node1", "node2")
    assert await events_for(c, "web") == [
        ("Normal", "Scheduled", f"Successfully assigned default/web to {p['spec']['nodeName']}")]
    assert not s.pending_work()


async def test_other_scheduler_pods_are_left_alone(env):
    c, _ = env
    await c.client.create("pods", pod("mine", scheduler_name="my-scheduler"), "default")
    await c.settle()
    p = await get_pod(c, "mine")
    assert not p["spec"].get("nodeName")
    assert await events_for(c, "mine") == []


async def test_failed_scheduling_event_condition_and_node_label_requeue(env):
    c, _ = env
    await c.client.create("pods", pod("ssd", node_selector={"disk": "ssd"}), "default")
    await c.settle()
    msg = (f"0/3 nodes are available: {TAINT_CP}, 2 node(s) didn't match Pod's node affinity/selector."
           + PREEMPT_3)
    assert await events_for(c, "ssd") == [("Warning", "FailedScheduling", msg)]
    cond = condition(await get_pod(c, "ssd"))
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", msg)
    await c.client.patch("nodes", "node2", {"metadata": {"labels": {"disk": "ssd"}}})
    await c.settle()
    p = await get_pod(c, "ssd")
    assert p["spec"]["nodeName"] == "node2"
    assert (await events_for(c, "ssd"))[-1] == ("Normal", "Scheduled", "Successfully assigned default/ssd to node2")


async def test_scenario_c_zone_restricted_class_then_fixed(env):
    c, s = env
    zonal = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "zonal"},
             "provisioner": "diskplugin.csi.alibabacloud.com", "volumeBindingMode": "WaitForFirstConsumer",
             "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-d"]}]}]}
    await c.client.create("storageclasses", zonal)
    await c.client.create("persistentvolumeclaims", claim("data", "zonal"), "default")
    await c.client.create("pods", pod("app", pvcs=("data",)), "default")
    await c.settle()
    msg = (f"0/3 nodes are available: {TAINT_CP}, 2 node(s) didn't find available persistent volumes to bind."
           + PREEMPT_3)
    assert await events_for(c, "app") == [("Warning", "FailedScheduling", msg)]
    cond = condition(await get_pod(c, "app"))
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", msg)

    # delete the class: the claim is treated as Immediate until it comes back. A class deletion is
    # not a requeue event upstream, so the pod is retried by the 5-minute unschedulable flush.
    await c.client.delete("storageclasses", "zonal")
    await c.settle()
    assert len(await events_for(c, "app")) == 1
    await c.clock.advance(300)
    await c.settle()
    immediate = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims." + PREEMPT_3
    assert (await events_for(c, "app"))[-1] == ("Warning", "FailedScheduling", immediate)

    # recreate it for zone b: the StorageClass Add event re-tries the pod at once
    zonal["allowedTopologies"][0]["matchLabelExpressions"][0]["values"] = ["cn-hangzhou-b"]
    await c.client.create("storageclasses", zonal)

    async def selected() -> bool:
        pvc = await c.client.get("persistentvolumeclaims", "data", "default")
        return "volume.kubernetes.io/selected-node" in (pvc["metadata"].get("annotations") or {})

    await until(selected)
    pvc = await c.client.get("persistentvolumeclaims", "data", "default")
    node = pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
    assert node in ("node1", "node2")
    assert not (await get_pod(c, "app"))["spec"].get("nodeName")   # PreBind waits for the binding

    # play the provisioner: a PV in zone b for the claim, then the PV controller's bind
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pvc-{pvc['metadata']['uid']}"},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                   "storageClassName": "zonal", "persistentVolumeReclaimPolicy": "Delete",
                   "csi": {"driver": "diskplugin.csi.alibabacloud.com", "volumeHandle": "d-1"},
                   "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data",
                                "uid": pvc["metadata"]["uid"]},
                   "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                       {"key": ZONE, "operator": "In", "values": ["cn-hangzhou-b"]}]}]}}}}
    pv = await c.client.create("persistentvolumes", pv)
    await bind_claim(c, "data", pv)
    await c.settle()
    p = await get_pod(c, "app")
    assert p["spec"]["nodeName"] == node
    assert (await events_for(c, "app"))[-1] == ("Normal", "Scheduled", f"Successfully assigned default/app to {node}")
    assert not s.pending_work()


async def test_scenario_b_local_pv_prebind_writes_claim_ref(env):
    c, _ = env
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "local-pv-1"},
          "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
                   "storageClassName": "local-storage", "persistentVolumeReclaimPolicy": "Retain",
                   "local": {"path": "/mnt/disks/vol1"},
                   "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                       {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node2"]}]}]}}}}
    pv = await c.client.create("persistentvolumes", pv)
    pv["status"] = {"phase": "Available"}     # the PV controller's first sync
    await c.client.update("persistentvolumes", pv, subresource="status")
    await c.client.create("persistentvolumeclaims", claim("local-claim", "local-storage", "5Gi"), "default")
    await c.client.create("pods", pod("app", pvcs=("local-claim",)), "default")

    async def claimed() -> bool:
        got = await c.client.get("persistentvolumes", "local-pv-1")
        return bool(got["spec"].get("claimRef"))

    await until(claimed)
    got = await c.client.get("persistentvolumes", "local-pv-1")
    pvc = await c.client.get("persistentvolumeclaims", "local-claim", "default")
    ref = got["spec"]["claimRef"]
    assert (ref["kind"], ref["namespace"], ref["name"], ref["uid"]) == \
        ("PersistentVolumeClaim", "default", "local-claim", pvc["metadata"]["uid"])
    assert got["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
    await bind_claim(c, "local-claim", got)
    await c.settle()
    assert (await get_pod(c, "app"))["spec"]["nodeName"] == "node2"
    # a second pod using the bound local claim is narrowed to node2 as well
    await c.client.create("pods", pod("again", pvcs=("local-claim",)), "default")
    await c.settle()
    assert (await get_pod(c, "again"))["spec"]["nodeName"] == "node2"


async def test_prebind_failure_when_provisioning_fails_is_retried(env):
    c, _ = env
    await c.client.create("persistentvolumeclaims", claim("data", "alicloud-disk-topology"), "default")
    await c.client.create("pods", pod("app", pvcs=("data",)), "default")

    async def selected() -> bool:
        pvc = await c.client.get("persistentvolumeclaims", "data", "default")
        return "volume.kubernetes.io/selected-node" in (pvc["metadata"].get("annotations") or {})

    await until(selected)
    # the provisioner gives up (ResourceExhausted): it removes selected-node
    await c.client.patch("persistentvolumeclaims", "data",
                         {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": None}}}, "default")

    async def failed() -> bool:
        return any(r == "FailedScheduling" for _, r, _ in await events_for(c, "app"))

    await until(failed)
    ev = [m for _, r, m in await events_for(c, "app") if r == "FailedScheduling"]
    assert ev[0] == 'running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "data"'
    cond = condition(await get_pod(c, "app"))
    assert cond["reason"] == "SchedulerError"
    # after its backoff the pod is tried again and selects a node again
    assert not await selected()
    await c.clock.advance(1)
    await until(selected)


async def test_preemption_evicts_lower_priority_pod_and_nominates(env):
    c, _ = env
    for n in ("node1", "node2"):
        await c.client.create("pods", pod(f"low-{n}", cpu="3", priority=0, node_name=n), "default")
    # the Priority admission plugin resolves the class into spec.priority (an explicit 1000 is refused)
    await c.client.create("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                              "metadata": {"name": "high"}, "value": 1000})
    high_pod = pod("high", cpu="2")
    high_pod["spec"]["priorityClassName"] = "high"
    await c.client.create("pods", high_pod, "default")

    async def evicted() -> bool:
        names = {p["metadata"]["name"]: p for p in (await c.client.list("pods", "default"))["items"]}
        gone = [n for n in ("low-node1", "low-node2")
                if n not in names or names[n]["metadata"].get("deletionTimestamp")]
        return len(gone) == 1

    await until(evicted)
    await c.settle()
    high = await get_pod(c, "high")
    msg = f"0/3 nodes are available: {TAINT_CP}, 2 Insufficient cpu."   # no PostFilter text: preemption worked
    assert await events_for(c, "high") == [("Warning", "FailedScheduling", msg)]
    victim_node = high["status"]["nominatedNodeName"]
    assert victim_node in ("node1", "node2") and not high["spec"].get("nodeName")
    victim = await get_pod(c, f"low-{victim_node}")
    assert victim["metadata"].get("deletionTimestamp")
    assert (await events_for(c, victim["metadata"]["name"]))[0][:2] == ("Normal", "Preempted")
    # the kubelet finishes the victim: the AssignedPod Delete event re-tries the preemptor
    await c.client.delete("pods", victim["metadata"]["name"], "default", grace_period_seconds=0)
    await c.settle()
    assert (await get_pod(c, "high"))["spec"]["nodeName"] == victim_node


async def test_settle_does_not_jump_time_for_a_waiting_prebind_and_pod_deletion_ends_it(env):
    c, s = env
    await c.client.create("persistentvolumeclaims", claim("data", "alicloud-disk-topology"), "default")
    await c.client.create("pods", pod("app", pvcs=("data",)), "default")
    before = c.clock.now()
    await c.settle()          # nobody provisions: the pod waits in PreBind, time stays put
    assert c.clock.now() - before < 1
    assert s.queue.pending()["inFlight"] == ["default/app"]
    await c.client.delete("pods", "app", "default", grace_period_seconds=0)
    await c.settle()
    assert s.queue.pending()["inFlight"] == [] and not s.pending_work()
    assert [r for _, r, _ in await events_for(c, "app")] == []


async def test_scheduling_gates_hold_the_pod_until_removed(env):
    c, _ = env
    gated = pod("gated")
    gated["spec"]["schedulingGates"] = [{"name": "example.com/quota"}]
    await c.client.create("pods", gated, "default")
    await c.settle()
    p = await get_pod(c, "gated")
    cond = condition(p)
    assert (cond["status"], cond["reason"], cond["message"]) == \
        ("False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")
    assert not p["spec"].get("nodeName")
    await c.client.patch("pods", "gated", [{"op": "remove", "path": "/spec/schedulingGates"}], "default",
                         patch_type="json")
    await c.settle()
    assert (await get_pod(c, "gated"))["spec"]["nodeName"] in ("node1", "node2")


async def test_prebind_gives_up_as_soon_as_its_node_is_deleted(env):
    """PreBind waits on the objects its check reads, its node included: no poll has to come round
    (the virtual clock does not move here) for a deleted node to end the wait."""
    c, s = env
    zonal = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "zonal"},
             "provisioner": "diskplugin.csi.alibabacloud.com", "volumeBindingMode": "WaitForFirstConsumer"}
    await c.client.create("storageclasses", zonal)
    await c.client.create("persistentvolumeclaims", claim("data", "zonal"), "default")
    await c.client.create("pods", pod("app", pvcs=("data",)), "default")

    async def selected() -> bool:
        pvc = await c.client.get("persistentvolumeclaims", "data", "default")
        return "volume.kubernetes.io/selected-node" in (pvc["metadata"].get("annotations") or {})

    await until(selected)
    node = (await c.client.get("persistentvolumeclaims", "data", "default"))["metadata"]["annotations"][
        "volume.kubernetes.io/selected-node"]
    now = c.clock.now()
    await c.client.delete("nodes", node)

    async def failed() -> bool:
        return any(e[1] == "FailedScheduling" for e in await events_for(c, "app"))

    await until(failed)
    assert c.clock.now() == now
    assert (await events_for(c, "app"))[-1] == (
        "Warning", "FailedScheduling",
        f'running PreBind plugin "VolumeBinding": binding volumes: failed to get node "{node}": node "{node}" not found')


async def test_the_loop_lets_other_tasks_run_between_cycles() -> None:
    """A backlog does not hold the event loop: after each cycle the loop yields once, so watch
    events, binding cycles and Lease renewals run while thousands of pods wait their turn."""
    s = Scheduler(None, VirtualClock())
    cycles: list[str] = []

    async def cycle_that_awaits_nothing(q: Any) -> None:   # as a successful cycle: PreBind is a task
        cycles.append(q.key)
        s.queue.done(q.key)

    s.schedule_one = cycle_that_awaits_nothing  # type: ignore[method-assign]
    for i in range(5):
        s.queue.add(pod(f"p{i}"))
    task = asyncio.create_task(s._run())
    seen = []
    for _ in range(5):
        await asyncio.sleep(0)
        seen.append(len(cycles))
    s.queue.close()
    await task
    assert seen == [1, 2, 3, 4, 5]
