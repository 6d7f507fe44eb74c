"""The Priority admission plugin, the system PriorityClasses and the one-default rule."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError

JSON = dict[str, Any]


def pclass(name: str, value: int, **extra: Any) -> JSON:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, **extra}


def pod(name: str, **spec: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


async def test_system_classes_exist_at_start_and_cannot_be_deleted(cluster: Cluster) -> None:
    node = await cluster.client.get("priorityclasses", "system-node-critical")
    critical = await cluster.client.get("priorityclasses", "system-cluster-critical")
    assert (node["value"], critical["value"]) == (2000001000, 2000000000)
    assert node["description"] == "Used for system critical pods that must not be moved from their current node."
    assert critical["preemptionPolicy"] == "PreemptLowerPriority" and not critical.get("globalDefault")
    for name in ("system-node-critical", "system-cluster-critical"):
        with pytest.raises(ApiError) as info:
            await cluster.client.delete("priorityclasses", name)
        assert (info.value.code, info.value.reason) == (403, "Forbidden")
        assert info.value.message == (f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: this is a system '
                                      "priority class and cannot be deleted")
    assert await cluster.client.get("priorityclasses", "system-node-critical") == node


async def test_pod_without_class_gets_priority_zero(cluster: Cluster) -> None:
    created = await cluster.client.create("pods", pod("p"), "default")
    assert created["spec"]["priority"] == 0
    assert created["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    assert "priorityClassName" not in created["spec"]


async def test_class_name_resolves_into_priority_and_policy(cluster: Cluster) -> None:
    await cluster.client.create("priorityclasses", pclass("batch-low", 10, preemptionPolicy="Never"))
    created = await cluster.client.create("pods", pod("p", priorityClassName="batch-low"), "default")
    assert (created["spec"]["priority"], created["spec"]["preemptionPolicy"]) == (10, "Never")
    system = await cluster.client.create("pods", pod("s", priorityClassName="system-node-critical"), "kube-system")
    assert system["spec"]["priority"] == 2000001000
    # an update that leaves the priority out keeps it
    body = {**created, "spec": {k: v for k, v in created["spec"].items() if k not in ("priority",
                                                                                       "preemptionPolicy")}}
    updated = await cluster.client.update("pods", body, "default")
    assert (updated["spec"]["priority"], updated["spec"]["preemptionPolicy"]) == (10, "Never")


async def test_global_default_applies_when_no_class_is_named(cluster: Cluster) -> None:
    await cluster.client.create("priorityclasses", pclass("normal", 100, globalDefault=True))
    created = await cluster.client.create("pods", pod("p"), "default")
    assert (created["spec"]["priorityClassName"], created["spec"]["priority"]) == ("normal", 100)


@pytest.mark.parametrize(("spec", "message"), [
    ({"priorityClassName": "foo"}, 'pods "x" is forbidden: no PriorityClass with name foo was found'),
    ({"priorityClassName": "high", "priority": 5},
     'pods "x" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission '
     "controller computed 1000 from the given PriorityClass name"),
    ({"priority": 7},
     'pods "x" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission '
     "controller computed 0 from the given PriorityClass name"),
    ({"priorityClassName": "high", "preemptionPolicy": "Never"},
     'pods "x" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority '
     "admission controller computed PreemptLowerPriority from the given PriorityClass name"),
])
async def test_pod_refused(cluster: Cluster, spec: JSON, message: str) -> None:
    await cluster.client.create("priorityclasses", pclass("high", 1000))
    rv = cluster.engine.store.resource_version
    with pytest.raises(ApiError) as info:
        await cluster.client.create("pods", pod("x", **spec), "default")
    assert (info.value.code, info.value.reason, info.value.message) == (403, "Forbidden", message)
    assert info.value.details == {"name": "x", "kind": "pods"}
    assert cluster.engine.store.resource_version == rv


async def test_only_one_global_default(cluster: Cluster) -> None:
    await cluster.client.create("priorityclasses", pclass("a", 1, globalDefault=True))
    with pytest.raises(ApiError) as info:
        await cluster.client.create("priorityclasses", pclass("b", 2, globalDefault=True))
    assert info.value.code == 403
    assert info.value.message == ('priorityclasses.scheduling.k8s.io "b" is forbidden: PriorityClass a is already '
                                  "marked as default. Only one default can exist")
    b = await cluster.client.create("priorityclasses", pclass("b", 2))
    with pytest.raises(ApiError):
        await cluster.client.update("priorityclasses", {**b, "globalDefault": True})
    a = await cluster.client.get("priorityclasses", "a")
    assert (await cluster.client.update("priorityclasses", {**a, "description": "x"}))["globalDefault"] is True


async def test_controller_pods_pass_through_priority_admission(cluster: Cluster) -> None:
    await cluster.client.create("priorityclasses", pclass("web-critical", 500))
    await cluster.client.create("deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"priorityClassName": "web-critical",
                                       "containers": [{"name": "c", "image": "nginx"}]}}}}, "default")
    await cluster.settle()
    pods = (await cluster.client.list("pods", "default", label_selector="app=web"))["items"]
    assert len(pods) == 2 and {p["spec"]["priority"] for p in pods} == {500}
