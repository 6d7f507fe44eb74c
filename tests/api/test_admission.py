"""Admission plugins of the API server: Priority (pods take their PriorityClass's value)."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.api.errors import ApiError


def pod(name: str, **spec: Any) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}], **spec}}


def priority_class(name: str, value: int, **extra: Any) -> dict:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
            "value": value, **extra}


async def test_the_system_priority_classes_exist_from_the_start(cluster: Cluster) -> None:
    classes = {c["metadata"]["name"]: c for c in (await cluster.client.list("priorityclasses"))["items"]}
    assert classes["system-node-critical"]["value"] == 2000001000
    assert classes["system-cluster-critical"]["value"] == 2000000000
    assert {c["preemptionPolicy"] for c in classes.values()} == {"PreemptLowerPriority"}


async def test_a_pod_takes_priority_and_preemption_policy_from_its_class(cluster: Cluster) -> None:
    await cluster.client.create("priorityclasses", priority_class("batch-low", 1000, preemptionPolicy="Never"))
    created = await cluster.client.create("pods", pod("p", priorityClassName="batch-low"), "default")
    assert (created["spec"]["priority"], created["spec"]["preemptionPolicy"]) == (1000, "Never")
    critical = await cluster.client.create("pods", pod("c", priorityClassName="system-cluster-critical"), "default")
    assert critical["spec"]["priority"] == 2000000000
    # A later update that leaves the (immutable) fields out keeps them.
    created["metadata"]["labels"] = {"x": "y"}
    del created["spec"]["priority"]
    updated = await cluster.client.update("pods", created, "default")
    assert updated["spec"]["priority"] == 1000


async def test_a_pod_without_a_class_gets_the_lowest_global_default(cluster: Cluster) -> None:
    plain = await cluster.client.create("pods", pod("before"), "default")
    assert ("priorityClassName" not in plain["spec"], plain["spec"]["priority"],
            plain["spec"]["preemptionPolicy"]) == (True, 0, "PreemptLowerPriority")
    await cluster.client.create("priorityclasses", priority_class("default-a", 50, globalDefault=True))
    await cluster.client.create("priorityclasses", priority_class("default-b", 20, globalDefault=True))
    defaulted = await cluster.client.create("pods", pod("after"), "default")
    assert (defaulted["spec"]["priorityClassName"], defaulted["spec"]["priority"]) == ("default-b", 20)


@pytest.mark.parametrize(("spec", "message"), [
    ({"priorityClassName": "nope"}, 'pods "bad" is forbidden: no PriorityClass with name nope was found'),
    ({"priorityClassName": "mid", "priority": 7},
     'pods "bad" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority '
     "admission controller computed 500 from the given PriorityClass name"),
    ({"priorityClassName": "mid", "preemptionPolicy": "Never"},
     'pods "bad" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; '
     "priority admission controller computed PreemptLowerPriority from the given PriorityClass name"),
])
async def test_a_pod_at_odds_with_its_class_is_forbidden(cluster: Cluster, spec: dict, message: str) -> None:
    await cluster.client.create("priorityclasses", priority_class("mid", 500))
    with pytest.raises(ApiError) as info:
        await cluster.client.create("pods", pod("bad", **spec), "default")
    assert (info.value.code, info.value.reason, info.value.message) == (403, "Forbidden", message)
    assert (await cluster.client.list("pods", "default", field_selector="metadata.name=bad"))["items"] == []
