"""ControllerRevisions of StatefulSets and DaemonSets: one per template, renumbered on undo,
pods labelled with their revision, partitions keeping the current revision, history limits."""

from __future__ import annotations

from typing import Any

import pytest
from _wl_helpers import pod_template, pods_of, workload_cluster

from minikube_lite.cluster import Cluster
from minikube_lite.controllers.workloads.history import (
    RevisionHistory,
    hash_revision,
    revision_patch,
    template_of,
)

JSON = dict[str, Any]


def statefulset(name: str = "web", replicas: int = 3, **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": pod_template(name), **spec}}


def daemonset(name: str = "agent", **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": pod_template(name), **spec}}


async def revisions(c: Cluster, owner: str) -> list[JSON]:
    items = (await c.client.list("controllerrevisions.apps", "default"))["items"]
    mine = [r for r in items if r["metadata"]["ownerReferences"][0]["name"] == owner]
    return sorted(mine, key=lambda r: r["revision"])


async def set_image(c: Cluster, resource: str, name: str, image: str) -> None:
    obj = await c.client.get(resource, name, "default")
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = image
    await c.client.update(resource, obj, "default")
    await c.settle()


async def undo(c: Cluster, resource: str, name: str, revision: JSON) -> None:
    """What kubectl rollout undo does: the revision's data as a strategic merge patch."""
    await c.client.patch(resource, name, revision["data"], "default", patch_type="strategic")
    await c.settle()


def test_revision_patch_replaces_the_template() -> None:
    owner = statefulset()
    data = revision_patch(owner)
    template = pod_template("web")
    assert data == {"spec": {"template": {
        "$patch": "replace", "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"image": "nginx:1.27", "name": "main", "resources": {}}]}}}}
    # Go's map encoding: every level in sorted key order, so kubectl's bytes compare equal.
    assert list(data["spec"]["template"]) == ["$patch", "metadata", "spec"]
    assert list(data["spec"]["template"]["spec"]["containers"][0]) == ["image", "name", "resources"]
    assert template_of({"data": data})["metadata"] == template["metadata"]
    assert hash_revision(data, None) == hash_revision(data, 0) != hash_revision(data, 1)


async def test_statefulset_revisions_rollout_and_undo(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        created = await c.client.create("statefulsets.apps", statefulset(), "default")
        await c.settle()
        [first] = await revisions(c, "web")
        assert first["revision"] == 1 and first["metadata"]["name"].startswith("web-")
        assert first["metadata"]["labels"] == {"app": "web", "controller-revision-hash":
                                               first["metadata"]["name"].removeprefix("web-")}
        assert first["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
        assert first["data"]["spec"]["template"]["$patch"] == "replace"
        await set_image(c, "statefulsets.apps", "web", "nginx:1.28")
        first, second = await revisions(c, "web")
        assert second["revision"] == 2
        sts = await c.client.get("statefulsets.apps", "web", "default")
        assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"] == second["metadata"]["name"]
        pods = await pods_of(c, "web")
        assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {second["metadata"]["name"]}
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}
        await undo(c, "statefulsets.apps", "web", first)
        revs = await revisions(c, "web")
        assert [(r["metadata"]["name"], r["revision"]) for r in revs] == [
            (second["metadata"]["name"], 2), (first["metadata"]["name"], 3)]
        pods = await pods_of(c, "web")
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.27"}
        sts = await c.client.get("statefulsets.apps", "web", "default")
        assert sts["status"]["updateRevision"] == sts["status"]["currentRevision"] == first["metadata"]["name"]
        assert sts["status"]["collisionCount"] == 0


async def test_statefulset_partition_keeps_lower_ordinals_on_current_revision(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(
            updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}), "default")
        await c.settle()
        await set_image(c, "statefulsets.apps", "web", "nginx:1.28")
        images = {p["metadata"]["name"]: p["spec"]["containers"][0]["image"] for p in await pods_of(c, "web")}
        assert images == {"web-0": "nginx:1.27", "web-1": "nginx:1.27", "web-2": "nginx:1.28"}
        # A deleted pod below the partition comes back from the current revision's template.
        await c.client.delete("pods", "web-0", "default", grace_period_seconds=0)
        await c.settle()
        web0 = await c.client.get("pods", "web-0", "default")
        sts = await c.client.get("statefulsets.apps", "web", "default")
        assert web0["spec"]["containers"][0]["image"] == "nginx:1.27"
        assert web0["metadata"]["labels"]["controller-revision-hash"] == sts["status"]["currentRevision"]
        assert sts["status"]["currentRevision"] != sts["status"]["updateRevision"]
        assert (sts["status"]["currentReplicas"], sts["status"]["updatedReplicas"]) == (2, 1)


async def test_revision_history_limit_deletes_unused_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(replicas=1, revisionHistoryLimit=2), "default")
        await c.settle()
        for tag in ("1.28", "1.29", "1.30", "1.31"):
            await set_image(c, "statefulsets.apps", "web", f"nginx:{tag}")
        revs = await revisions(c, "web")
        # The live revision plus two unused ones.
        assert [r["revision"] for r in revs] == [3, 4, 5]
        assert template_of(revs[-1])["spec"]["containers"][0]["image"] == "nginx:1.31"


async def test_daemonset_revisions_and_undo(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("daemonsets.apps", daemonset(), "default")
        await c.settle()
        [first] = await revisions(c, "agent")
        pods = await pods_of(c, "agent")
        assert len(pods) == 2  # node1, node2 (master is tainted)
        hash_ = first["metadata"]["labels"]["controller-revision-hash"]
        assert first["metadata"]["name"] == f"agent-{hash_}"
        assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {hash_}
        await set_image(c, "daemonsets.apps", "agent", "nginx:1.28")
        first, second = await revisions(c, "agent")
        assert second["revision"] == 2
        assert {p["spec"]["containers"][0]["image"] for p in await pods_of(c, "agent")} == {"nginx:1.28"}
        await undo(c, "daemonsets.apps", "agent", first)
        revs = await revisions(c, "agent")
        assert [(r["metadata"]["name"], r["revision"]) for r in revs] == [
            (second["metadata"]["name"], 2), (first["metadata"]["name"], 3)]
        pods = await pods_of(c, "agent")
        assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.27"}
        assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {hash_}


async def test_reconcile_again_changes_no_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(replicas=2), "default")
        await c.client.create("daemonsets.apps", daemonset(), "default")
        await c.settle()
        before = {r["metadata"]["name"]: r["metadata"]["resourceVersion"]
                  for r in (await c.client.list("controllerrevisions.apps", "default"))["items"]}
        sts_ctl = next(x for x in c.controllers if x.name == "statefulset-controller")
        ds_ctl = next(x for x in c.controllers if x.name == "daemonset-controller")
        for _ in range(3):
            await sts_ctl.reconcile("default/web")
            await ds_ctl.reconcile("default/agent")
        await c.settle()
        after = {r["metadata"]["name"]: r["metadata"]["resourceVersion"]
                 for r in (await c.client.list("controllerrevisions.apps", "default"))["items"]}
        assert after == before and len(after) == 2


async def test_a_hash_collision_bumps_the_collision_count(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        sts = await c.client.create("statefulsets.apps", statefulset(replicas=0), "default")
        other = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                 "metadata": {"name": "web-taken", "labels": {"app": "other"},
                              "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "x",
                                                   "uid": "another-owner", "controller": True}]},
                 "data": {"spec": {"template": {"$patch": "replace"}}}, "revision": 1}
        await c.client.create("controllerrevisions.apps", other, "default")
        history = RevisionHistory(c.client, "StatefulSet")
        # A hash that collides with the taken name until the collision count moves it on.
        made = await history.sync(sts, lambda data, collisions: "taken" if collisions == 0 else f"free{collisions}")
        assert made.collision_count == 1
        assert made.update["metadata"]["name"] == "web-free1"
        assert made.update["data"] == revision_patch(sts)


async def test_orphaned_revisions_are_adopted(monkeypatch: pytest.MonkeyPatch) -> None:
    async with workload_cluster(monkeypatch) as c:
        await c.client.create("statefulsets.apps", statefulset(replicas=1), "default")
        await c.settle()
        [first] = await revisions(c, "web")
        await c.client.delete("statefulsets.apps", "web", "default", propagation_policy="Orphan")
        await c.settle()
        orphan = await c.client.get("controllerrevisions.apps", first["metadata"]["name"], "default")
        assert not orphan["metadata"].get("ownerReferences")
        again = await c.client.create("statefulsets.apps", statefulset(replicas=1), "default")
        await c.settle()
        [adopted] = [r for r in (await c.client.list("controllerrevisions.apps", "default"))["items"]]
        assert adopted["metadata"]["name"] == first["metadata"]["name"]
        assert adopted["metadata"]["ownerReferences"][0]["uid"] == again["metadata"]["uid"]
        sts = await c.client.get("statefulsets.apps", "web", "default")
        assert sts["status"]["updateRevision"] == first["metadata"]["name"]
        assert sts["status"]["collisionCount"] == 0
