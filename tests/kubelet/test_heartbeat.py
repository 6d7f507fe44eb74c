"""Node heartbeats: every node's Lease in kube-node-lease renewed often, the Ready condition's
lastHeartbeatTime re-posted rarely, on daemon timers that do not keep ``settle()`` busy."""

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
from minikube_lite.kube.names import NODE_LEASE_NAMESPACE
from minikube_lite.kubelet.heartbeat import NodeHeartbeat, lease_due

JSON = dict[str, Any]

CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    NodeHeartbeat,
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


# ---------------------------------------------------------------- heartbeats


async def test_every_node_has_a_lease(make_cluster: Any) -> None:
    async with make_cluster() as c:
        leases = (await c.client.list("leases", NODE_LEASE_NAMESPACE))["items"]
        assert sorted(lease["metadata"]["name"] for lease in leases) == ["master", "node1", "node2"]
        for lease in leases:
            name = lease["metadata"]["name"]
            node = await c.client.get("nodes", name)
            assert lease["spec"]["holderIdentity"] == name
            assert lease["spec"]["leaseDurationSeconds"] == 40
            assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(c.clock.now(), abs=1)
            assert lease["metadata"]["ownerReferences"] == [
                {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node["metadata"]["uid"]}]


async def test_lease_and_ready_heartbeat_move_every_interval(make_cluster: Any) -> None:
    async with make_cluster(timings={"nodeStatusUpdateInterval": "10s", "nodeStatusReportInterval": "10s"}) as c:
        start = c.clock.now()
        before = await c.client.get("nodes", "node1")
        transition = condition(before, "Ready")["lastTransitionTime"]
        await c.clock.advance(25)
        await c.settle()
        node = await c.client.get("nodes", "node1")
        ready = condition(node, "Ready")
        assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
        assert parse_time(ready["lastHeartbeatTime"]) == start + 20
        assert ready["lastTransitionTime"] == transition
        assert parse_time(condition(node, "MemoryPressure")["lastHeartbeatTime"]) == start + 20
        lease = await c.client.get("leases", "node1", NODE_LEASE_NAMESPACE)
        assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(start + 20)


async def test_lease_is_renewed_often_and_status_reported_rarely(make_cluster: Any) -> None:
    async with make_cluster() as c:
        start = c.clock.now()
        await c.clock.advance(65)
        lease = await c.client.get("leases", "node1", NODE_LEASE_NAMESPACE)
        assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(start + 60)
        ready = condition(await c.client.get("nodes", "node1"), "Ready")
        assert parse_time(ready["lastHeartbeatTime"]) == start
        await c.clock.advance(300)
        ready = condition(await c.client.get("nodes", "node1"), "Ready")
        assert parse_time(ready["lastHeartbeatTime"]) == start + 300


async def test_a_deleted_lease_is_made_again_at_the_next_renewal(make_cluster: Any) -> None:
    async with make_cluster() as c:
        start = c.clock.now()
        await c.client.delete("leases", "node1", NODE_LEASE_NAMESPACE)
        await c.clock.advance(11)
        await c.settle()
        lease = await c.client.get("leases", "node1", NODE_LEASE_NAMESPACE)
        node = await c.client.get("nodes", "node1")
        assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(start + 10)
        assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]


async def test_a_renewal_restores_a_lease_someone_else_changed(make_cluster: Any) -> None:
    async with make_cluster() as c:
        start = c.clock.now()
        await c.client.patch("leases", "node1", {"spec": {"holderIdentity": "intruder"}}, NODE_LEASE_NAMESPACE)
        await c.clock.advance(11)
        await c.settle()
        lease = await c.client.get("leases", "node1", NODE_LEASE_NAMESPACE)
        assert lease["spec"]["holderIdentity"] == "node1"
        assert parse_time(lease["spec"]["renewTime"]) == pytest.approx(start + 10)


async def test_the_heartbeat_keeps_its_own_lease_and_watches_none(make_cluster: Any) -> None:
    """As upstream's kubelet: the Lease its last write returned, no Lease watch (each renewal would
    come back to it as an event)."""
    async with make_cluster() as c:
        heartbeat = next(ctl for ctl in c.controllers if isinstance(ctl, NodeHeartbeat))
        assert all(inf.resource != "leases" for inf in heartbeat.informers.values())
        await c.clock.advance(11)
        await c.settle()
        stored = await c.client.get("leases", "node2", NODE_LEASE_NAMESPACE)
        assert heartbeat.latest_leases["node2"]["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_a_renewal_is_due_a_little_before_a_full_interval() -> None:
    """On a real clock the resync tick comes every 10 s but the last renewal was stamped a few
    milliseconds after its own tick: that renewal must not make the next tick skip (which
    renewed every 20 s, not upstream's 10)."""
    assert lease_due(None, 100.0, 10.0)
    assert lease_due(100.004, 110.001, 10.0)      # the previous reconcile ran 3 ms later than this one
    assert lease_due(100.0, 110.0, 10.0)
    assert not lease_due(100.0, 105.0, 10.0)      # a Node event half-way: no extra renewal
    assert not lease_due(100.0, 108.9, 10.0)


async def test_heartbeats_do_not_keep_settle_busy(make_cluster: Any) -> None:
    async with make_cluster() as c:
        start = c.clock.now()
        await c.settle()
        assert c.clock.now() == start


