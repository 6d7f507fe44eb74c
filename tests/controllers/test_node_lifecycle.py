"""Nodes marked down (their kubelet stopped): Unknown with the node lifecycle controller's
reason/message after the grace period, taints, pods no longer Ready, no new pods started, and
recovery when the kubelet posts again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock, parse_time
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.node_lifecycle import NodeLifecycleController
from minikube_lite.kube.names import NODE_LEASE_NAMESPACE
from minikube_lite.kube.nodes import DOWN_ANNOTATION
from minikube_lite.kubelet.heartbeat import NodeHeartbeat
from minikube_lite.kubelet.pods import Kubelet

JSON = dict[str, Any]

CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    Kubelet,
    NodeHeartbeat,
    NodeLifecycleController,
]

CONFIG: JSON = {
    "nodes": [{"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
              {"name": "node1", "zone": "cn-hangzhou-b"}, {"name": "node2", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"]},
    # Heartbeat timing is asserted against the clock right after start: no system pods to run first.
    "systemPods": False,
}


@pytest.fixture
def make_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Cluster]:
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", list(CONTROLLERS))
        async with Cluster(ClusterConfig.from_dict({**CONFIG, **overrides}), clock=VirtualClock()) as c:
            await c.settle()
            yield c

    return make


def condition(node: JSON, type_: str) -> JSON:
    return next(c for c in node["status"]["conditions"] if c["type"] == type_)


async def mark_down(c: Cluster, node: str, down: bool = True) -> None:
    await c.client.patch("nodes", node, {"metadata": {"annotations": {DOWN_ANNOTATION: "true" if down else None}}})


def pod(name: str, node: str = "node1") -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}}


async def events_about(c: Cluster, name: str) -> list[tuple[str, str, str, str]]:
    listing = await c.client.list("events", "default", field_selector=f"involvedObject.name={name}")
    items = sorted(listing.get("items") or [], key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["source"]["component"], e["message"]) for e in items]


# ---------------------------------------------------------------- a node goes down


async def test_node_marked_down_goes_unknown_after_the_grace_period(make_cluster: Any) -> None:
    async with make_cluster(timings={"nodeMonitorGracePeriod": "50s"}) as c:
        start = c.clock.now()
        await mark_down(c, "node1")
        await c.settle()
        node = await c.client.get("nodes", "node1")
        for type_ in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
            cond = condition(node, type_)
            assert (cond["status"], cond["reason"], cond["message"]) == (
                "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
            assert parse_time(cond["lastTransitionTime"]) == start + 50
            assert parse_time(cond["lastHeartbeatTime"]) == start  # the last time the kubelet was heard
        assert [(t["key"], t["effect"]) for t in node["spec"]["taints"]] == [
            ("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")]
        assert parse_time(node["spec"]["taints"][1]["timeAdded"]) == start + 50
        assert await events_about(c, "node1") == [
            ("Normal", "NodeNotReady", "node-controller", "Node node1 status is now: NodeNotReady")]
        lease = await c.client.get("leases", "node1", NODE_LEASE_NAMESPACE)
        assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(start, abs=1)
        # The other nodes stay Ready.
        assert condition(await c.client.get("nodes", "node2"), "Ready")["status"] == "True"


async def test_running_pods_on_a_down_node_are_marked_not_ready(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        await mark_down(c, "node1")
        await c.settle()
        p = await c.client.get("pods", "web", "default")
        ready = condition(p, "Ready")
        assert ready["status"] == "False"
        assert p["status"]["phase"] == "Running"  # nobody is left to say otherwise
        assert ("Warning", "NodeNotReady", "node-controller", "Node is not ready") in await events_about(c, "web")


async def test_pods_are_ready_again_when_the_node_returns(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        await mark_down(c, "node1")
        await c.settle()
        assert condition(await c.client.get("pods", "web", "default"), "Ready")["status"] == "False"
        await mark_down(c, "node1", down=False)
        await c.settle()
        assert condition(await c.client.get("pods", "web", "default"), "Ready")["status"] == "True"


async def test_pods_are_not_started_on_a_down_node(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await mark_down(c, "node1")
        await c.settle()
        await c.client.create("pods", pod("late"), "default")
        await c.settle()
        p = await c.client.get("pods", "late", "default")
        assert "containerStatuses" not in (p.get("status") or {})
        # Deleting it leaves it Terminating: no kubelet confirms the stop.
        await c.client.delete("pods", "late", "default")
        await c.settle()
        assert (await c.client.get("pods", "late", "default"))["metadata"]["deletionTimestamp"]


async def test_node_comes_back_when_the_mark_is_removed(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("late"), "default")
        await mark_down(c, "node1")
        await c.settle()
        await c.client.create("pods", pod("waiting"), "default")
        await c.settle()
        back = c.clock.now()
        await mark_down(c, "node1", down=False)
        await c.settle()
        node = await c.client.get("nodes", "node1")
        ready = condition(node, "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "True", "KubeletReady", "kubelet is posting ready status")
        assert parse_time(ready["lastTransitionTime"]) == back
        assert condition(node, "MemoryPressure")["reason"] == "KubeletHasSufficientMemory"
        assert not node["spec"].get("taints")
        assert ("Normal", "NodeReady", "kubelet", "Node node1 status is now: NodeReady") in \
            await events_about(c, "node1")
        assert (await c.client.get("pods", "waiting", "default"))["status"]["phase"] == "Running"


async def test_node_marked_down_in_the_config(make_cluster: Any) -> None:
    nodes = [{"name": "node1", "zone": "cn-hangzhou-b", "annotations": {DOWN_ANNOTATION: "true"}},
             {"name": "node2", "zone": "cn-hangzhou-b"}]
    async with make_cluster(nodes=nodes) as c:
        node = await c.client.get("nodes", "node1")
        assert condition(node, "Ready")["status"] == "Unknown"
        assert condition(await c.client.get("nodes", "node2"), "Ready")["status"] == "True"
        leases = (await c.client.list("leases", NODE_LEASE_NAMESPACE))["items"]
        assert [lease["metadata"]["name"] for lease in leases] == ["node2"]
