"""Finalizers, propagation policies with the garbage collector, and namespace lifecycle."""

from __future__ import annotations

import pytest

from minikube_lite import Cluster, VirtualClock
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.client.informer import metadata_only, running_shared_informer
from minikube_lite.controllers.garbage_collector import GarbageCollector


def cm(name: str, owner: dict | None = None, finalizers: list[str] | None = None) -> dict:
    meta: dict = {"name": name}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "blockOwnerDeletion": True}]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


WIDGETS = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}


async def exists(cluster: Cluster, name: str, ns: str = "default") -> bool:
    try:
        await cluster.client.get("configmaps", name, ns)
        return True
    except ApiError as err:
        assert err.code == 404
        return False


async def test_delete_without_finalizers_removes_at_once_with_a_success_status(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    status = await cluster.client.delete("configmaps", "a", "default")
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "a" and status["details"]["kind"] == "configmaps"
    assert not await exists(cluster, "a")


async def test_finalizers_keep_the_object_until_removed(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a", finalizers=["example.com/hold"]), "default")
    pending = await cluster.client.delete("configmaps", "a", "default")
    assert pending["metadata"]["deletionTimestamp"]
    assert await exists(cluster, "a")
    with pytest.raises(ApiError) as info:
        await cluster.client.patch("configmaps", "a", {"metadata": {"finalizers": ["example.com/hold", "x/new"]}},
                                   "default")
    assert info.value.code == 422 and "no new finalizers can be added" in info.value.message
    await cluster.client.patch("configmaps", "a", {"metadata": {"finalizers": None}}, "default")
    assert not await exists(cluster, "a")


async def test_delete_precondition_on_uid(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    with pytest.raises(ApiError) as info:
        await cluster.client.delete("configmaps", "a", "default", preconditions={"uid": "nope"})
    assert info.value.code == 409 and "Precondition failed: UID in precondition: nope" in info.value.message


async def test_background_deletion_collects_dependents(cluster: Cluster) -> None:
    owner = await cluster.client.create("configmaps", cm("owner"), "default")
    await cluster.client.create("configmaps", cm("child", owner), "default")
    await cluster.client.delete("configmaps", "owner", "default", propagation_policy="Background")
    await cluster.settle()
    assert not await exists(cluster, "child")


async def test_foreground_deletion_deletes_dependents_first(cluster: Cluster) -> None:
    owner = await cluster.client.create("configmaps", cm("owner"), "default")
    await cluster.client.create("configmaps", cm("child", owner), "default")
    pending = await cluster.client.delete("configmaps", "owner", "default", propagation_policy="Foreground")
    assert "foregroundDeletion" in pending["metadata"]["finalizers"]
    await cluster.settle()
    assert not await exists(cluster, "child")
    assert not await exists(cluster, "owner")


async def test_orphan_deletion_keeps_dependents_without_the_reference(cluster: Cluster) -> None:
    owner = await cluster.client.create("configmaps", cm("owner"), "default")
    await cluster.client.create("configmaps", cm("child", owner), "default")
    await cluster.client.delete("configmaps", "owner", "default", propagation_policy="Orphan")
    await cluster.settle()
    assert not await exists(cluster, "owner")
    child = await cluster.client.get("configmaps", "child", "default")
    assert not child["metadata"].get("ownerReferences")


async def test_namespace_lifecycle(cluster: Cluster) -> None:
    await cluster.client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmp"}})
    await cluster.client.create("configmaps", cm("a"), "tmp")
    deleting = await cluster.client.delete("namespaces", "tmp")
    assert deleting["status"]["phase"] == "Terminating"
    with pytest.raises(ApiError) as info:
        await cluster.client.create("configmaps", cm("b"), "tmp")
    assert info.value.code == 403
    assert info.value.message == ('configmaps "b" is forbidden: unable to create new content in namespace tmp '
                                  "because it is being terminated")
    await cluster.settle()
    assert not await exists(cluster, "a", "tmp")
    with pytest.raises(ApiError) as gone:
        await cluster.client.get("namespaces", "tmp")
    assert gone.value.code == 404


async def test_create_in_missing_namespace_is_not_found(cluster: Cluster) -> None:
    with pytest.raises(ApiError) as info:
        await cluster.client.create("configmaps", cm("a"), "nowhere")
    assert (info.value.code, info.value.message) == (404, 'namespaces "nowhere" not found')


async def test_custom_resources_of_a_new_crd_are_garbage_collected(cluster: Cluster) -> None:
    await cluster.client.create("customresourcedefinitions", WIDGETS)
    await cluster.settle()
    owner = await cluster.client.create("configmaps", cm("owner"), "default")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget",
              "metadata": {"name": "w", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                                             "uid": owner["metadata"]["uid"]}]}}
    await cluster.client.create("widgets.example.com", widget, "default")
    await cluster.client.delete("configmaps", "owner", "default")
    await cluster.settle()
    assert not (await cluster.client.list("widgets.example.com", "default"))["items"]


async def test_every_namespace_gets_a_default_service_account_and_pods_use_it(cluster: Cluster) -> None:
    await cluster.client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    await cluster.settle()
    account = await cluster.client.get("serviceaccounts", "default", "team")
    assert account["metadata"]["name"] == "default"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    made = await cluster.client.create("pods", pod, "team")
    assert made["spec"]["serviceAccountName"] == "default"
    svc = await cluster.client.get("services", "kubernetes", "default")
    assert svc["spec"]["clusterIP"] == "10.96.0.1" and svc["spec"]["ports"][0]["port"] == 443


async def test_the_gc_shares_the_informers_others_run_and_keeps_metadata_of_the_rest(cluster: Cluster) -> None:
    collector = next(c for c in cluster.controllers if isinstance(c, GarbageCollector))
    pods = collector.informers["pods"]
    assert pods.transform is None and pods is running_shared_informer(cluster.client, "pods")
    assert collector.informers["configmaps"].transform is metadata_only   # nobody else watches them
    # An owner chain across both kinds of cache: ConfigMap -> Pod (shared) -> ConfigMap.
    owner = await cluster.client.create("configmaps", cm("owner"), "default")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                                          "uid": owner["metadata"]["uid"]}]},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    pod = await cluster.client.create("pods", pod, "default")
    await cluster.client.create("configmaps", cm("grandchild", pod), "default")
    await cluster.settle()
    await cluster.client.delete("configmaps", "owner", "default")
    await cluster.settle()
    assert not (await cluster.client.list("pods", "default"))["items"]
    assert not await exists(cluster, "grandchild")


async def test_a_stopped_gc_stops_the_informers_of_types_served_after_its_start() -> None:
    async with Cluster(components=["garbage-collector"], clock=VirtualClock()) as cluster:
        await cluster.client.create("customresourcedefinitions", WIDGETS)
        await cluster.settle()
        collector = cluster.controllers[0]
        widgets = collector.informers["widgets.v1.example.com"]
        assert widgets.synced
    assert widgets._task is None and widgets._stopped
