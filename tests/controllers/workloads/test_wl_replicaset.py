"""ReplicaSet controller: create, adopt, scale down cheapest-first, status, events, GC cascade."""

from __future__ import annotations

import pytest
from _wl_helpers import events_for, pods_of, replicaset, workload_cluster

from minikube_lite.controllers.workloads.replicaset import ReplicaSetController


async def test_replicaset_creates_pods_and_reports_status(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("replicasets.apps", replicaset("web", 3), "default")
        await c.settle()
        pods = await pods_of(c, "web")
        assert len(pods) == 3
        for pod in pods:
            assert pod["metadata"]["name"].startswith("web-")
            ref = pod["metadata"]["ownerReferences"][0]
            assert ref["kind"] == "ReplicaSet" and ref["controller"] and ref["blockOwnerDeletion"]
            assert pod["status"]["phase"] == "Running"
        rs = await c.client.get("replicasets.apps", "web", "default")
        st = rs["status"]
        assert (st["replicas"], st["fullyLabeledReplicas"], st["readyReplicas"], st["availableReplicas"]) == (
            3, 3, 3, 3)
        assert st["observedGeneration"] == rs["metadata"]["generation"]
        events = await events_for(c, "web")
        created = [m for r, m in events if r == "SuccessfulCreate"]
        assert sorted(created) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)


async def test_replicaset_scales_down_and_replaces_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("replicasets.apps", replicaset("web", 3), "default")
        await c.settle()
        victim = (await pods_of(c, "web"))[0]["metadata"]["name"]
        await c.client.delete("pods", victim, "default")
        await c.settle()
        names = [p["metadata"]["name"] for p in await pods_of(c, "web")]
        assert len(names) == 3 and victim not in names
        await c.client.patch("replicasets.apps", "web", {"spec": {"replicas": 1}}, "default")
        await c.settle()
        assert len(await pods_of(c, "web")) == 1
        deleted = [m for r, m in await events_for(c, "web") if r == "SuccessfulDelete"]
        assert len(deleted) == 2 and all(m.startswith("Deleted pod: web-") for m in deleted)
        rs = await c.client.get("replicasets.apps", "web", "default")
        assert rs["status"]["replicas"] == 1


async def test_replicaset_adopts_orphans_and_gc_cascades(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        orphan = {"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "stray", "labels": {"app": "web"}},
                  "spec": {"containers": [{"name": "main", "image": "nginx"}]}}
        await c.client.create("pods", orphan, "default")
        await c.settle()
        await c.client.create("replicasets.apps", replicaset("web", 2), "default")
        await c.settle()
        pods = await pods_of(c, "web")
        assert len(pods) == 2
        stray = await c.client.get("pods", "stray", "default")
        assert stray["metadata"]["ownerReferences"][0]["name"] == "web"
        await c.client.delete("replicasets.apps", "web", "default")
        await c.settle()
        assert await pods_of(c, "web", active=False) == []


async def test_replicaset_min_ready_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("replicasets.apps", replicaset("slow", 2, minReadySeconds=30), "default")
        await c.settle(timeout=10)
        st = (await c.client.get("replicasets.apps", "slow", "default"))["status"]
        assert st["readyReplicas"] == 2 and st.get("availableReplicas", 0) == 0
        await c.settle()
        st = (await c.client.get("replicasets.apps", "slow", "default"))["status"]
        assert st["availableReplicas"] == 2


def test_controller_name() -> None:
    assert ReplicaSetController.name == "replicaset-controller"
