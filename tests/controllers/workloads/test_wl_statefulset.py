"""StatefulSet controller: ordered pods with stable claims on a WaitForFirstConsumer cloud-disk class,
Parallel, scale-down keeping (or deleting) claims, rolling update, events with upstream texts, GC."""

from __future__ import annotations

from typing import Any

import pytest
from _wl_helpers import events_for, pod_template, pods_of, workload_cluster

from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.workloads.statefulset import ordinal_of

JSON = dict[str, Any]


def statefulset(name: str = "web", replicas: int = 3, *, storage: str | None = "20Gi",
                storage_class: str = "alicloud-disk-topology", **spec: Any) -> JSON:
    body: JSON = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
                  "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                           "template": pod_template(name), **spec}}
    if storage:
        body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
            {"name": "data", "mountPath": "/data"}]
        body["spec"]["volumeClaimTemplates"] = [{
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class,
                     "resources": {"requests": {"storage": storage}}}}]
    return body


async def claims(c: Cluster) -> dict[str, JSON]:
    return {p["metadata"]["name"]: p for p in (await c.client.list("persistentvolumeclaims", "default"))["items"]}


def test_ordinal_of() -> None:
    assert ordinal_of("web", "web-12") == 12
    assert ordinal_of("web", "web-x") is None and ordinal_of("web", "webby-1") is None


async def test_ordered_pods_with_bound_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(), "default")
        await c.settle()
        pods = await pods_of(c, "web")
        assert [p["metadata"]["name"] for p in pods] == ["web-0", "web-1", "web-2"]
        for i, pod in enumerate(pods):
            labels = pod["metadata"]["labels"]
            assert labels["statefulset.kubernetes.io/pod-name"] == f"web-{i}"
            assert labels["apps.kubernetes.io/pod-index"] == str(i)
            assert labels["controller-revision-hash"].startswith("web-")
            assert pod["spec"]["hostname"] == f"web-{i}" and pod["spec"]["subdomain"] == "web"
            assert {"name": "data", "persistentVolumeClaim": {"claimName": f"data-web-{i}"}} in pod["spec"]["volumes"]
            assert pod["status"]["phase"] == "Running"
        # Ordered: each pod started only after the previous one was Ready.
        starts = [p["metadata"]["creationTimestamp"] for p in pods]
        readies = [next(x for x in p["status"]["conditions"] if x["type"] == "Ready")["lastTransitionTime"]
                   for p in pods]
        assert readies[0] <= starts[1] and readies[1] <= starts[2]
        pvcs = await claims(c)
        assert sorted(pvcs) == ["data-web-0", "data-web-1", "data-web-2"]
        for i in range(3):
            pvc = pvcs[f"data-web-{i}"]
            assert pvc["status"]["phase"] == "Bound"
            assert pvc["metadata"]["labels"] == {"app": "web"}
            node = pods[i]["spec"]["nodeName"]
            assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
            pv = await c.client.get("persistentvolumes", pvc["spec"]["volumeName"])
            zones = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
            assert zones == ["cn-hangzhou-b"]
        sts = await c.client.get("statefulsets.apps", "web", "default")
        st = sts["status"]
        assert (st["replicas"], st["readyReplicas"], st["currentReplicas"], st["updatedReplicas"],
                st["availableReplicas"]) == (3, 3, 3, 3, 3)
        assert st["currentRevision"] == st["updateRevision"] == pods[0]["metadata"]["labels"]["controller-revision-hash"]
        events = await events_for(c, "web")
        assert events[:2] == [
            ("SuccessfulCreate", "create Claim data-web-0 Pod web-0 in StatefulSet web success"),
            ("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful")]


async def test_scale_down_keeps_claims_and_scale_up_reuses(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(), "default")
        await c.settle()
        volume = (await claims(c))["data-web-2"]["spec"]["volumeName"]
        await c.client.patch("statefulsets.apps", "web", {"spec": {"replicas": 1}}, "default")
        await c.settle()
        assert [p["metadata"]["name"] for p in await pods_of(c, "web", active=False)] == ["web-0"]
        assert sorted(await claims(c)) == ["data-web-0", "data-web-1", "data-web-2"]
        deletes = [m for r, m in await events_for(c, "web") if r == "SuccessfulDelete"]
        assert deletes == ["delete Pod web-2 in StatefulSet web successful",
                           "delete Pod web-1 in StatefulSet web successful"]
        await c.client.patch("statefulsets.apps", "web", {"spec": {"replicas": 3}}, "default")
        await c.settle()
        assert len(await pods_of(c, "web")) == 3
        assert (await claims(c))["data-web-2"]["spec"]["volumeName"] == volume


async def test_retention_policy_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        policy = {"whenScaled": "Delete", "whenDeleted": "Delete"}
        await c.client.create("statefulsets.apps", statefulset(
            persistentVolumeClaimRetentionPolicy=policy, podManagementPolicy="Parallel"), "default")
        await c.settle()
        assert len(await claims(c)) == 3
        await c.client.patch("statefulsets.apps", "web", {"spec": {"replicas": 2}}, "default")
        await c.settle()
        assert sorted(await claims(c)) == ["data-web-0", "data-web-1"]
        await c.client.delete("statefulsets.apps", "web", "default")
        await c.settle()
        assert await pods_of(c, "web", active=False) == []
        assert await claims(c) == {}
        assert (await c.client.list("persistentvolumes"))["items"] == []


async def test_when_deleted_policy_changed_later_applies_to_existing_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """As upstream: with whenDeleted Delete the set is the claims' controller owner, also for claims
    made while the policy was Retain; back to Retain, the set lets go of them again."""
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(replicas=2, podManagementPolicy="Parallel"), "default")
        await c.settle()
        assert [meta.get("ownerReferences") for meta in (cl["metadata"] for cl in (await claims(c)).values())] == \
            [None, None]
        sts = await c.client.patch("statefulsets.apps", "web", {"spec": {"persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": "Delete"}}}, "default")
        await c.settle()
        for claim in (await claims(c)).values():
            assert claim["metadata"]["ownerReferences"] == [{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": sts["metadata"]["uid"],
                "controller": True, "blockOwnerDeletion": True}]
        await c.client.patch("statefulsets.apps", "web", {"spec": {"persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": "Retain"}}}, "default")
        await c.settle()
        assert all(not cl["metadata"].get("ownerReferences") for cl in (await claims(c)).values())
        await c.client.patch("statefulsets.apps", "web", {"spec": {"persistentVolumeClaimRetentionPolicy": {
            "whenDeleted": "Delete"}}}, "default")
        await c.settle()
        await c.client.delete("statefulsets.apps", "web", "default")
        await c.settle()
        assert await claims(c) == {}
        assert (await c.client.list("persistentvolumes"))["items"] == []
        assert [d for d in c.cloud.disks.values() if d.status != "Deleting"] == []


async def test_rolling_update_and_gc_keeps_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(storage=None), "default")
        await c.settle()
        before = (await c.client.get("statefulsets.apps", "web", "default"))["status"]["updateRevision"]
        await c.client.patch("statefulsets.apps", "web", {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "nginx:1.28"}]}}}}, "default", patch_type="strategic")
        await c.settle()
        pods = await pods_of(c, "web")
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
        st = (await c.client.get("statefulsets.apps", "web", "default"))["status"]
        assert st["updateRevision"] != before and st["currentRevision"] == st["updateRevision"]
        assert st["updatedReplicas"] == 3 and st["readyReplicas"] == 3
        deletes = [m for r, m in await events_for(c, "web") if r == "SuccessfulDelete"]
        assert [m.split()[2] for m in deletes] == ["web-2", "web-1", "web-0"]
        await c.client.delete("statefulsets.apps", "web", "default")
        await c.settle()
        assert await pods_of(c, "web", active=False) == []


async def test_each_claim_follows_its_pod_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """WaitForFirstConsumer: every replica's disk is made in the zone its pod was scheduled to."""
    config = ClusterConfig.default().model_copy(deep=True)
    config.nodes[2].zone = "cn-hangzhou-d"
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}]
    body = statefulset(replicas=2)
    body["spec"]["template"]["spec"]["topologySpreadConstraints"] = spread
    async with workload_cluster(monkeypatch, config) as c:
        await c.client.create("statefulsets.apps", body, "default")
        await c.settle()
        zones = set()
        for pod in await pods_of(c, "web"):
            node = await c.client.get("nodes", pod["spec"]["nodeName"])
            zone = node["metadata"]["labels"]["topology.kubernetes.io/zone"]
            pvc = await c.client.get("persistentvolumeclaims", f"data-{pod['metadata']['name']}", "default")
            pv = await c.client.get("persistentvolumes", pvc["spec"]["volumeName"])
            terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
            assert terms[0]["matchExpressions"][0]["values"] == [zone]
            assert pod["status"]["phase"] == "Running"
            zones.add(zone)
        assert zones == {"cn-hangzhou-b", "cn-hangzhou-d"}
