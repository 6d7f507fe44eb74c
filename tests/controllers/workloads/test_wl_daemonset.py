"""DaemonSet controller: one pod per eligible node (control-plane taint respected unless tolerated),
metadata.name node affinity and daemon tolerations, status, node changes, rolling update, GC."""

from __future__ import annotations

from typing import Any

import pytest
from _wl_helpers import events_for, pod_template, pods_of, workload_cluster

from minikube_lite.controllers.workloads.daemonset import node_should_run

JSON = dict[str, Any]


def daemonset(name: str = "agent", **template_spec: Any) -> JSON:
    template = pod_template(name)
    template["spec"].update(template_spec)
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template}}


@pytest.mark.parametrize(("spec", "node", "expected"), [
    ({}, {"metadata": {"name": "n"}}, True),
    ({}, {"metadata": {"name": "n"}, "spec": {"taints": [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}, False),
    ({}, {"metadata": {"name": "n"}, "spec": {"taints": [
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]}}, True),
    ({}, {"metadata": {"name": "n"}, "spec": {"taints": [{"key": "x", "effect": "PreferNoSchedule"}]}}, True),
    ({"nodeSelector": {"disk": "ssd"}}, {"metadata": {"name": "n", "labels": {"disk": "ssd"}}}, True),
    ({"nodeSelector": {"disk": "ssd"}}, {"metadata": {"name": "n"}}, False),
])
def test_node_should_run(spec: JSON, node: JSON, expected: bool) -> None:
    assert node_should_run(spec, node) is expected


async def test_one_pod_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("daemonsets.apps", daemonset(), "kube-system")
        await c.settle()
        pods = await pods_of(c, "agent", "kube-system")
        assert sorted(p["spec"]["nodeName"] for p in pods) == ["node1", "node2"]
        for pod in pods:
            terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
            assert terms["nodeSelectorTerms"] == [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]}]
            keys = {t["key"] for t in pod["spec"]["tolerations"]}
            assert {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                    "node.kubernetes.io/unschedulable"} <= keys
            assert pod["status"]["phase"] == "Running"
        st = (await c.client.get("daemonsets.apps", "agent", "kube-system"))["status"]
        assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"],
                st["updatedNumberScheduled"], st["numberAvailable"], st.get("numberMisscheduled", 0)) == (
            2, 2, 2, 2, 2, 0)
        created = [m for r, m in await events_for(c, "agent", "kube-system") if r == "SuccessfulCreate"]
        assert len(created) == 2 and all(m.startswith("Created pod: agent-") for m in created)


async def test_tolerating_control_plane_and_node_selector(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        tol = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]
        await c.client.create("daemonsets.apps", daemonset("everywhere", tolerations=tol), "default")
        await c.client.create("daemonsets.apps", daemonset("picky", nodeSelector={"disk": "ssd"}), "default")
        await c.settle()
        assert sorted(p["spec"]["nodeName"] for p in await pods_of(c, "everywhere")) == ["master", "node1", "node2"]
        assert await pods_of(c, "picky") == []
        await c.client.patch("nodes", "node2", {"metadata": {"labels": {"disk": "ssd"}}})
        await c.settle()
        assert [p["spec"]["nodeName"] for p in await pods_of(c, "picky")] == ["node2"]
        await c.client.patch("nodes", "node2", {"metadata": {"labels": {"disk": None}}})
        await c.settle()
        assert await pods_of(c, "picky") == []


async def test_rolling_update_and_gc(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("daemonsets.apps", daemonset(), "default")
        await c.settle()
        await c.client.patch("daemonsets.apps", "agent", {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.28"}]}}}}, "default", patch_type="strategic")
        await c.settle()
        pods = await pods_of(c, "agent")
        assert len(pods) == 2 and {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
        st = (await c.client.get("daemonsets.apps", "agent", "default"))["status"]
        assert st["updatedNumberScheduled"] == 2 and st["numberReady"] == 2
        await c.client.delete("daemonsets.apps", "agent", "default")
        await c.settle()
        assert await pods_of(c, "agent", active=False) == []
