"""Deployment controller: hashed ReplicaSets, rolling update and Recreate, revisions, status
conditions with upstream texts, ScalingReplicaSet events, scale, history cleanup, GC cascade."""

from __future__ import annotations

from typing import Any

import pytest
from _wl_helpers import deployment, events_for, pods_of, workload_cluster

from minikube_lite.cluster import Cluster
from minikube_lite.controllers.workloads.common import SAFE_ALPHABET, safe_encode, template_hash
from minikube_lite.controllers.workloads.deployment import (
    HASH_LABEL,
    REVISION_ANNOTATION,
    fenceposts,
)

JSON = dict[str, Any]


async def replica_sets(c: Cluster, app: str) -> list[JSON]:
    items = (await c.client.list("replicasets.apps", "default"))["items"]
    items = [rs for rs in items if rs["metadata"]["name"].startswith(f"{app}-")]
    return sorted(items, key=lambda rs: int(rs["metadata"]["annotations"][REVISION_ANNOTATION]))


def cond(obj: JSON, kind: str) -> JSON:
    return next(x for x in obj["status"]["conditions"] if x["type"] == kind)


def test_hash_is_safe_encoded_and_collision_sensitive() -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "a", "image": "b"}]}}
    h = template_hash(template)
    assert h == template_hash(template) and all(ch in SAFE_ALPHABET for ch in h)
    assert template_hash(template, 1) != h and 6 <= len(h) <= 10
    assert safe_encode("0123456789") == "456789bcdf"  # e.g. nginx-7c5ddbdf54


@pytest.mark.parametrize(("replicas", "surge", "unavailable", "expected"), [
    (4, "25%", "25%", (1, 1)), (3, "25%", "25%", (1, 0)), (10, 3, 0, (3, 0)), (5, 0, 0, (0, 1)),
])
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]) -> None:
    d = deployment("x", replicas, strategy={"type": "RollingUpdate",
                                            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
    assert fenceposts(d) == expected


async def test_deployment_rolls_out(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("web", 3), "default")
        await c.settle()
        [rs] = await replica_sets(c, "web")
        pod_hash = rs["metadata"]["labels"][HASH_LABEL]
        assert rs["metadata"]["name"] == f"web-{pod_hash}"
        assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", HASH_LABEL: pod_hash}
        ann = rs["metadata"]["annotations"]
        assert ann[REVISION_ANNOTATION] == "1"
        assert ann["deployment.kubernetes.io/desired-replicas"] == "3"
        assert ann["deployment.kubernetes.io/max-replicas"] == "4"
        assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
        pods = await pods_of(c, "web")
        assert len(pods) == 3 and all(p["status"]["phase"] == "Running" for p in pods)
        assert all(p["metadata"]["labels"][HASH_LABEL] == pod_hash for p in pods)
        d = await c.client.get("deployments.apps", "web", "default")
        st = d["status"]
        assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3, 3)
        assert st.get("unavailableReplicas", 0) == 0
        assert st["observedGeneration"] == d["metadata"]["generation"]
        assert d["metadata"]["annotations"][REVISION_ANNOTATION] == "1"
        assert [x["type"] for x in st["conditions"]] == ["Available", "Progressing"]
        assert (cond(d, "Available")["reason"], cond(d, "Available")["message"]) == (
            "MinimumReplicasAvailable", "Deployment has minimum availability.")
        assert (cond(d, "Progressing")["reason"], cond(d, "Progressing")["message"]) == (
            "NewReplicaSetAvailable", f'ReplicaSet "web-{pod_hash}" has successfully progressed.')
        assert ("ScalingReplicaSet", f"Scaled up replica set web-{pod_hash} to 3 from 0") in await events_for(c, "web")


async def test_set_image_rolls_to_new_replicaset(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("web", 4), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "web",
                             {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.28"}]}}}},
                             "default", patch_type="strategic")
        await c.settle()
        old, new = await replica_sets(c, "web")
        assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == 4
        assert new["metadata"]["annotations"][REVISION_ANNOTATION] == "2"
        pods = await pods_of(c, "web")
        assert len(pods) == 4
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
        d = await c.client.get("deployments.apps", "web", "default")
        assert d["metadata"]["annotations"][REVISION_ANNOTATION] == "2"
        assert d["status"]["updatedReplicas"] == 4 and d["status"]["replicas"] == 4
        assert cond(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        messages = [m for r, m in await events_for(c, "web") if r == "ScalingReplicaSet"]
        new_name, old_name = new["metadata"]["name"], old["metadata"]["name"]
        assert f"Scaled up replica set {new_name} to 1 from 0" in messages
        assert f"Scaled down replica set {old_name} to 0 from 1" in messages
        # Rolling back to the first template reuses its ReplicaSet with the next revision.
        await c.client.patch("deployments.apps", "web",
                             {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}}},
                             "default", patch_type="strategic")
        await c.settle()
        first, second = await replica_sets(c, "web")
        assert first["metadata"]["name"] == new_name and second["metadata"]["name"] == old_name
        assert second["metadata"]["annotations"][REVISION_ANNOTATION] == "3"
        assert second["spec"]["replicas"] == 4


async def test_rolling_update_respects_surge_and_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Watch every pod count on the way: never above replicas+maxSurge, never below the minimum."""
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("web", 4), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "web",
                             {"spec": {"template": {"metadata": {"annotations": {"x": "1"}}}}}, "default")
        peak = 0
        for _ in range(200):
            pods = await pods_of(c, "web")
            peak = max(peak, len(pods))
            await c.settle(timeout=0.5)
            d = await c.client.get("deployments.apps", "web", "default")
            if d["status"].get("updatedReplicas") == 4 and d["status"].get("replicas") == 4 and \
                    d["status"].get("availableReplicas") == 4:
                break
        assert peak <= 5
        assert len(await replica_sets(c, "web")) == 2


async def test_scale_and_recreate_and_history_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("db", 2, strategy={"type": "Recreate"},
                                                             revisionHistoryLimit=1), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "db", {"spec": {"replicas": 5}}, "default", subresource="scale")
        await c.settle()
        assert len(await pods_of(c, "db")) == 5
        [rs] = await replica_sets(c, "db")
        assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "5"
        for image in ("nginx:1.28", "nginx:1.29"):
            await c.client.patch("deployments.apps", "db", {"spec": {"template": {"spec": {
                "containers": [{"name": "main", "image": image}]}}}}, "default", patch_type="strategic")
            await c.settle()
        rss = await replica_sets(c, "db")
        assert [r["metadata"]["annotations"][REVISION_ANNOTATION] for r in rss] == ["2", "3"]
        pods = await pods_of(c, "db")
        assert len(pods) == 5 and {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.29"}
        await c.client.delete("deployments.apps", "db", "default")
        await c.settle()
        assert await pods_of(c, "db", active=False) == []
        assert await replica_sets(c, "db") == []


async def test_pause_resume_and_progress_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("web", 2), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "web", {"spec": {"paused": True}}, "default")
        await c.client.patch("deployments.apps", "web", {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.28"}]}}}}, "default", patch_type="strategic")
        await c.settle()
        d = await c.client.get("deployments.apps", "web", "default")
        assert (cond(d, "Progressing")["status"], cond(d, "Progressing")["reason"],
                cond(d, "Progressing")["message"]) == ("Unknown", "DeploymentPaused", "Deployment is paused")
        assert len(await replica_sets(c, "web")) == 1  # no rollout while paused
        await c.client.patch("deployments.apps", "web", {"spec": {"paused": False}}, "default")
        await c.settle()
        assert len(await replica_sets(c, "web")) == 2
        d = await c.client.get("deployments.apps", "web", "default")
        assert cond(d, "Progressing")["reason"] == "NewReplicaSetAvailable"
        # Pods that can never schedule: the rollout times out after progressDeadlineSeconds.
        await c.client.create("deployments.apps", deployment("stuck", 1, progressDeadlineSeconds=60), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "stuck", {"spec": {"template": {"spec": {
            "nodeSelector": {"nowhere": "true"}}}}}, "default")
        await c.settle()
        d = await c.client.get("deployments.apps", "stuck", "default")
        [new] = [rs for rs in await replica_sets(c, "stuck") if rs["spec"]["template"]["spec"].get("nodeSelector")]
        assert (cond(d, "Progressing")["status"], cond(d, "Progressing")["reason"],
                cond(d, "Progressing")["message"]) == (
            "False", "ProgressDeadlineExceeded", f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.')
        assert cond(d, "Available")["status"] == "True"  # the old pod still serves


async def test_scale_during_stuck_rollout_is_proportional(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("deployments.apps", deployment("web", 4), "default")
        await c.settle()
        await c.client.patch("deployments.apps", "web", {"spec": {"template": {"spec": {
            "nodeSelector": {"nowhere": "true"}}}}}, "default")
        await c.settle()
        old, new = await replica_sets(c, "web")
        assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (3, 2)  # 4 - 1 unavailable; 4 + 1 surge
        await c.client.patch("deployments.apps", "web", {"spec": {"replicas": 8}}, "default", subresource="scale")
        await c.settle()
        old, new = await replica_sets(c, "web")
        total = old["spec"]["replicas"] + new["spec"]["replicas"]
        assert total == 10  # 8 + 2 surge, shared between both
        assert old["spec"]["replicas"] > 3 and new["spec"]["replicas"] > 2
        assert old["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "8"
        await c.client.patch("deployments.apps", "web", {"spec": {"template": {"spec": {
            "nodeSelector": None}}}}, "default")
        await c.settle()
        d = await c.client.get("deployments.apps", "web", "default")
        assert (d["status"]["replicas"], d["status"]["availableReplicas"]) == (8, 8)
        assert len(await pods_of(c, "web")) == 8
