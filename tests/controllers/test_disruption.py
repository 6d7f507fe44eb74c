"""The disruption controller's PodDisruptionBudget status (int and percent, min and max, scale of
the owning controller) and the eviction subresource honouring it (429 with the upstream cause)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster

JSON = dict[str, Any]


@asynccontextmanager
async def settled_cluster() -> AsyncIterator[Cluster]:
    """The default cluster (workload controllers, scheduler, kubelet, disruption controller), settled."""
    async with Cluster(clock=VirtualClock()) as c:
        await c.settle()
        yield c


def deployment(name: str, replicas: int) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}}


async def pods_of(c: Cluster, app: str) -> list[JSON]:
    items = (await c.client.list("pods", "default", label_selector=f"app={app}"))["items"]
    return sorted((p for p in items if not p["metadata"].get("deletionTimestamp")), key=lambda p: p["metadata"]["name"])


def budget(name: str = "web-pdb", app: str = "web", **spec: Any) -> JSON:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": app}}, **spec}}


async def status_of(c: Cluster, name: str = "web-pdb") -> JSON:
    return (await c.client.get("poddisruptionbudgets.policy", name, "default"))["status"]


async def evict(c: Cluster, pod: str) -> JSON:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": "default"}}
    return await c.client.create("pods", body, "default", subresource="eviction", name=pod)


@pytest.mark.parametrize(("spec", "replicas", "expected", "desired", "allowed"), [
    ({"minAvailable": 2}, 3, 3, 2, 1),
    ({"minAvailable": "50%"}, 3, 3, 2, 1),     # ceil(1.5)
    ({"maxUnavailable": 1}, 3, 3, 2, 1),
    ({"maxUnavailable": "50%"}, 3, 3, 1, 2),   # ceil(1.5) unavailable
    ({"maxUnavailable": "10%"}, 4, 4, 3, 1),   # ceil(0.4) = 1
    ({"minAvailable": "100%"}, 2, 2, 2, 0),
    ({"minAvailable": 0}, 2, 2, 0, 2),
])
async def test_budget_status_math(spec: JSON, replicas: int, expected: int,
                                  desired: int, allowed: int) -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=replicas), "default")
        pdb = await c.client.create("poddisruptionbudgets.policy", budget(**spec), "default")
        await c.settle()
        st = await status_of(c)
        assert (st["expectedPods"], st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]) == (
            expected, desired, replicas, allowed)
        assert st["observedGeneration"] == pdb["metadata"]["generation"] == 1
        [cond] = st["conditions"]
        assert (cond["type"], cond["status"], cond["reason"]) == (
            "DisruptionAllowed", "True" if allowed else "False", "SufficientPods" if allowed else "InsufficientPods")


async def test_percent_uses_the_controller_scale_not_the_pod_count() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=4), "default")
        await c.client.create("poddisruptionbudgets.policy", budget(maxUnavailable="25%"), "default")
        await c.settle()
        # The deployment wants 6 but its pods are not there yet: expected follows the scale.
        await c.client.patch("deployments.apps", "web", {"spec": {"replicas": 6}}, "default")
        await c.settle()
        st = await status_of(c)
        assert (st["expectedPods"], st["desiredHealthy"]) == (6, 4)  # ceil(1.5) = 2 unavailable
        assert st["disruptionsAllowed"] == 2


async def test_statefulset_scale_and_pods_leaving_the_selector() -> None:
    async with settled_cluster() as c:
        sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
               "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                        "template": {"metadata": {"labels": {"app": "db"}},
                                     "spec": {"containers": [{"name": "c", "image": "postgres:17"}]}}}}
        await c.client.create("statefulsets.apps", sts, "default")
        await c.client.create("poddisruptionbudgets.policy", budget("db", app="db", minAvailable="60%"), "default")
        await c.settle()
        st = await status_of(c, "db")
        assert (st["expectedPods"], st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]) == (
            3, 2, 3, 1)  # ceil(1.8)
        # A pod relabelled out of the selector no longer counts as healthy; the scale still says 3.
        await c.client.patch("pods", "db-2", {"metadata": {"labels": {"app": "other"}}}, "default")
        await c.settle()
        st = await status_of(c, "db")
        assert (st["expectedPods"], st["desiredHealthy"], st["currentHealthy"], st["disruptionsAllowed"]) == (
            3, 2, 2, 0)
        assert st["conditions"][0]["reason"] == "InsufficientPods"


async def test_eviction_spends_the_budget_then_is_refused() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=3), "default")
        await c.client.create("poddisruptionbudgets.policy", budget(minAvailable=2), "default")
        await c.settle()
        first, second, _ = await pods_of(c, "web")
        answer = await evict(c, first["metadata"]["name"])
        assert answer["status"] == "Success"
        st = await status_of(c)
        # Spent at once by the API server, before the controller looks again.
        assert st["disruptionsAllowed"] == 0 and first["metadata"]["name"] in st["disruptedPods"]
        gone = await c.client.get("pods", first["metadata"]["name"], "default")
        target = next(x for x in gone["status"]["conditions"] if x["type"] == "DisruptionTarget")
        assert (target["status"], target["reason"], target["message"]) == (
            "True", "EvictionByEvictionAPI", "Eviction API: evicting")
        assert gone["metadata"]["deletionTimestamp"]
        with pytest.raises(ApiError) as info:
            await evict(c, second["metadata"]["name"])
        err = info.value
        assert (err.code, err.reason, err.message) == (
            429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.")
        # currentHealthy is the controller's last count (the API server only spends the budget).
        assert err.details is not None and [c["reason"] for c in err.details["causes"]] == ["DisruptionBudget"]
        assert err.details["causes"][0]["message"].startswith("The disruption budget web-pdb needs 2 healthy pods")
        assert not (await c.client.get("pods", second["metadata"]["name"], "default"))["metadata"].get(
            "deletionTimestamp")
        # The replacement comes up; the budget allows one disruption again and forgets the evicted pod.
        await c.settle()
        st = await status_of(c)
        assert (st["currentHealthy"], st["disruptionsAllowed"]) == (3, 1)
        assert "disruptedPods" not in st
        assert (await evict(c, second["metadata"]["name"]))["status"] == "Success"


async def test_exhausted_budget_refusal_is_exact() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=3), "default")
        await c.client.create("poddisruptionbudgets.policy", budget(minAvailable=3), "default")
        await c.settle()
        pod = (await pods_of(c, "web"))[0]
        with pytest.raises(ApiError) as info:
            await evict(c, pod["metadata"]["name"])
        status = info.value.status()
        assert status["code"] == 429 and status["reason"] == "TooManyRequests"
        assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
        assert status["details"]["causes"] == [{
            "reason": "DisruptionBudget",
            "message": "The disruption budget web-pdb needs 3 healthy pods and has 3 currently"}]


async def test_eviction_without_budget_or_of_pending_pod_just_deletes() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=1), "default")
        await c.settle()
        [pod] = await pods_of(c, "web")
        assert (await evict(c, pod["metadata"]["name"]))["status"] == "Success"
        await c.settle()
        assert [p["metadata"]["name"] for p in await pods_of(c, "web")] != [pod["metadata"]["name"]]
        with pytest.raises(ApiError) as info:
            await evict(c, "nope")
        assert info.value.code == 404
        survivor = (await pods_of(c, "web"))[0]["metadata"]["name"]
        wrong = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}}
        with pytest.raises(ApiError) as info:
            await c.client.create("pods", wrong, "default", subresource="eviction", name=survivor)
        assert (info.value.code, info.value.message) == (400, "name in URL does not match name in Eviction object")
        assert not (await c.client.get("pods", survivor, "default"))["metadata"].get("deletionTimestamp")


async def test_two_budgets_for_one_pod_are_refused() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=2), "default")
        await c.client.create("poddisruptionbudgets.policy", budget("a", minAvailable=0), "default")
        await c.client.create("poddisruptionbudgets.policy", budget("b", minAvailable=0), "default")
        await c.settle()
        pod = (await pods_of(c, "web"))[0]
        with pytest.raises(ApiError) as info:
            await evict(c, pod["metadata"]["name"])
        assert (info.value.code, info.value.message) == (
            500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")


async def test_generation_not_yet_observed_is_refused() -> None:
    async with settled_cluster() as c:
        await c.client.create("deployments.apps", deployment("web", replicas=2), "default")
        await c.client.create("poddisruptionbudgets.policy", budget(minAvailable=0), "default")
        await c.settle()
        await c.client.patch("poddisruptionbudgets.policy", "web-pdb", {"spec": {"minAvailable": 1}}, "default")
        pod = (await pods_of(c, "web"))[0]
        with pytest.raises(ApiError) as info:
            await evict(c, pod["metadata"]["name"])
        assert info.value.code == 429
        assert info.value.details is not None and info.value.details["causes"][0]["message"] == (
            "The disruption budget web-pdb is still being processed by the server.")
        await c.settle()
        st = await status_of(c)
        assert (st["observedGeneration"], st["desiredHealthy"], st["disruptionsAllowed"]) == (2, 1, 1)
