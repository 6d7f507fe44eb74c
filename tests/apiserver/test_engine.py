"""REST semantics through the in-process client (the same request path as HTTP)."""

from __future__ import annotations

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError


def cm(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod(name: str, node: str | None = None, phase: str | None = None, **labels: str) -> dict:
    body: dict = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
                  "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
    if node:
        body["spec"]["nodeName"] = node
    return body


async def test_create_sets_server_fields_and_get_returns_them(cluster: Cluster) -> None:
    created = await cluster.client.create("configmaps", cm("a", x="1"), "default")
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert "generation" not in meta  # ConfigMaps do not track generation upstream; pods and workloads do
    assert meta["namespace"] == "default"
    got = await cluster.client.get("configmaps", "a", "default")
    assert got["metadata"]["resourceVersion"] == meta["resourceVersion"]
    assert got["data"] == {"x": "1"}


async def test_create_existing_name_is_already_exists(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    with pytest.raises(ApiError) as info:
        await cluster.client.create("configmaps", cm("a"), "default")
    assert (info.value.code, info.value.reason) == (409, "AlreadyExists")
    assert info.value.message == 'configmaps "a" already exists'


async def test_get_missing_is_not_found_with_group_qualified_name(cluster: Cluster) -> None:
    with pytest.raises(ApiError) as info:
        await cluster.client.get("storageclasses", "nope")
    assert info.value.code == 404
    assert info.value.message == 'storageclasses.storage.k8s.io "nope" not found'
    assert info.value.details == {"name": "nope", "group": "storage.k8s.io", "kind": "storageclasses"}


async def test_generate_name_uses_the_upstream_alphabet(cluster: Cluster) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}}
    made = await cluster.client.create("configmaps", body, "default")
    name = made["metadata"]["name"]
    assert name.startswith("job-") and len(name) == 9
    assert set(name[4:]) <= set("bcdfghjklmnpqrstvwxz2456789")


async def test_update_with_stale_resource_version_is_the_upstream_conflict(cluster: Cluster) -> None:
    first = await cluster.client.create("configmaps", cm("a", x="1"), "default")
    first["data"] = {"x": "2"}
    await cluster.client.update("configmaps", first, "default")
    first["data"] = {"x": "3"}
    with pytest.raises(ApiError) as info:
        await cluster.client.update("configmaps", first, "default")
    assert info.value.code == 409 and info.value.reason == "Conflict"
    assert info.value.message == ('Operation cannot be fulfilled on configmaps "a": the object has been modified; '
                                  "please apply your changes to the latest version and try again")
    assert (await cluster.client.get("configmaps", "a", "default"))["data"] == {"x": "2"}


async def test_update_without_change_keeps_resource_version(cluster: Cluster) -> None:
    first = await cluster.client.create("configmaps", cm("a", x="1"), "default")
    again = await cluster.client.update("configmaps", first, "default")
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


async def test_generation_bumps_on_spec_changes_only(cluster: Cluster) -> None:
    created = await cluster.client.create("pods", pod("p"), "default")
    assert created["metadata"]["generation"] == 1
    labelled = await cluster.client.patch("pods", "p", {"metadata": {"labels": {"a": "b"}}}, "default")
    assert labelled["metadata"]["generation"] == 1
    status = await cluster.client.patch("pods", "p", {"status": {"message": "hi"}}, "default", subresource="status")
    assert status["metadata"]["generation"] == 1
    changed = await cluster.client.patch("pods", "p", {"spec": {"activeDeadlineSeconds": 5}}, "default")
    assert changed["metadata"]["generation"] == 2


async def test_status_subresource_splits_spec_and_status(cluster: Cluster) -> None:
    await cluster.client.create("pods", pod("p"), "default")
    main = await cluster.client.patch("pods", "p", {"status": {"phase": "Running"}}, "default")
    assert main["status"]["phase"] == "Pending"  # the main resource ignores status
    via_status = await cluster.client.patch("pods", "p", {"status": {"phase": "Running"},
                                                          "spec": {"activeDeadlineSeconds": 9}},
                                            "default", subresource="status")
    assert via_status["status"]["phase"] == "Running"
    assert "activeDeadlineSeconds" not in via_status["spec"]  # /status ignores spec


async def test_dry_run_validates_and_stores_nothing(cluster: Cluster) -> None:
    rv = cluster.engine.store.resource_version
    made = await cluster.client.create("configmaps", cm("dry"), "default", dry_run=True)
    assert made["metadata"]["name"] == "dry"
    assert cluster.engine.store.resource_version == rv
    with pytest.raises(ApiError):
        await cluster.client.get("configmaps", "dry", "default")


async def test_json_and_merge_patches(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a", x="1", y="2"), "default")
    merged = await cluster.client.patch("configmaps", "a", {"data": {"x": None, "z": "3"}}, "default")
    assert merged["data"] == {"y": "2", "z": "3"}
    patched = await cluster.client.patch("configmaps", "a", [{"op": "add", "path": "/data/w", "value": "4"}],
                                         "default", patch_type="json")
    assert patched["data"]["w"] == "4"
    with pytest.raises(ApiError) as info:
        await cluster.client.patch("configmaps", "a", [{"op": "test", "path": "/data/w", "value": "5"}], "default",
                                   patch_type="json")
    assert info.value.code == 422


async def test_patch_with_resource_version_is_a_precondition(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    with pytest.raises(ApiError) as info:
        await cluster.client.patch("configmaps", "a", {"metadata": {"resourceVersion": "1"}, "data": {"k": "v"}},
                                   "default")
    assert info.value.code == 409


@pytest.mark.parametrize("body, code, message", [
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"a": 1}}, 400,
     "cannot unmarshal number into Go struct field ConfigMap.data of type string"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, 422, "metadata.name: Required value"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}, 400,
     "the namespace of the provided object does not match the namespace sent on the request"),
    ({"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "x"}}, 400,
     "the API version in the data (v2) does not match the expected API version (v1)"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "oops"}, 400, "cannot unmarshal string"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}}, 422, "metadata.name: Invalid value"),
])
async def test_malformed_input_is_a_status_error_and_changes_nothing(cluster: Cluster, body: dict, code: int,
                                                                     message: str) -> None:
    rv = cluster.engine.store.resource_version
    with pytest.raises(ApiError) as info:
        await cluster.client.create("configmaps", body, "default")
    assert info.value.code == code, info.value.message
    assert message in info.value.message
    assert info.value.status()["kind"] == "Status"
    assert cluster.engine.store.resource_version == rv


async def test_label_selectors_all_operators(cluster: Cluster) -> None:
    for name, labels in [("a", {"app": "web", "tier": "fe"}), ("b", {"app": "db"}), ("c", {})]:
        await cluster.client.create("pods", pod(name, **labels), "default")

    async def names(selector: str) -> list[str]:
        listed = await cluster.client.list("pods", "default", label_selector=selector)
        return [p["metadata"]["name"] for p in listed["items"]]

    assert await names("app=web") == ["a"]
    assert await names("app==web") == ["a"]
    assert await names("app!=web") == ["b", "c"]
    assert await names("app") == ["a", "b"]
    assert await names("!app") == ["c"]
    assert await names("app in (web,db)") == ["a", "b"]
    assert await names("app notin (web)") == ["b", "c"]
    assert await names("app,tier=fe") == ["a"]
    with pytest.raises(ApiError) as info:
        await names("app in (")
    assert info.value.code == 400


async def test_field_selectors_per_type_and_unsupported_fields(cluster: Cluster) -> None:
    await cluster.client.create("pods", pod("on1", node="node1"), "default")
    await cluster.client.create("pods", pod("none"), "default")
    listed = await cluster.client.list("pods", field_selector="spec.nodeName=node1")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["on1"]
    listed = await cluster.client.list("pods", field_selector="status.phase!=Succeeded,status.phase!=Failed,"
                                                                "metadata.namespace=default")
    assert len(listed["items"]) == 2
    listed = await cluster.client.list("pods", "default", field_selector="metadata.name=none")
    assert [p["metadata"]["name"] for p in listed["items"]] == ["none"]
    with pytest.raises(ApiError) as info:
        await cluster.client.list("pods", field_selector="spec.bogus=1")
    assert (info.value.code, info.value.message) == (400, "field label not supported: spec.bogus")
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"}, "reason": "R",
          "involvedObject": {"kind": "Node", "name": "node1", "namespace": ""}}
    await cluster.client.create("events", ev, "default")
    listed = await cluster.client.list("events", field_selector="involvedObject.kind=Node,involvedObject.namespace=")
    assert [e["metadata"]["name"] for e in listed["items"]] == ["e1"]


async def test_pagination_with_continue_tokens_and_expiry() -> None:
    from minikube_lite import VirtualClock

    async with Cluster(clock=VirtualClock(), history_size=10, components=False) as c:
        for i in range(7):
            await c.client.create("configmaps", cm(f"cm{i}"), "default")
        seen: list[str] = []
        token = None
        while True:
            page = await c.client.list("configmaps", "default", limit=3, continue_token=token)
            seen.extend(i["metadata"]["name"] for i in page["items"])
            token = page["metadata"].get("continue")
            if not token:
                break
            assert page["metadata"]["remainingItemCount"] >= 1
        assert seen == [f"cm{i}" for i in range(7)]
        page = await c.client.list("configmaps", "default", limit=2)
        token = page["metadata"]["continue"]
        for i in range(20):  # push the token's resourceVersion out of the kept history
            await c.client.create("configmaps", cm(f"more{i}"), "default")
        with pytest.raises(ApiError) as info:
            await c.client.list("configmaps", "default", limit=2, continue_token=token)
        assert info.value.code == 410 and info.value.reason == "Expired"


async def test_defaults_clients_read(cluster: Cluster) -> None:
    p = await cluster.client.create("pods", pod("p"), "default")
    assert p["status"]["phase"] == "Pending"
    assert p["spec"]["restartPolicy"] == "Always" and p["spec"]["schedulerName"] == "default-scheduler"
    sc = await cluster.client.create("storageclasses", {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                                        "metadata": {"name": "x"}, "provisioner": "p"})
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")
    ns = await cluster.client.get("namespaces", "default")
    assert ns["status"]["phase"] == "Active"
    pv = await cluster.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
        "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/x"}}})
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["status"]["phase"] in ("Pending", "Available")


async def test_system_namespaces_exist_at_start(cluster: Cluster) -> None:
    names = {n["metadata"]["name"] for n in (await cluster.client.list("namespaces"))["items"]}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


async def test_every_registered_type_is_served(cluster: Cluster) -> None:
    expected = {"namespaces", "nodes", "pods", "persistentvolumes", "persistentvolumeclaims", "events", "configmaps",
                "secrets", "services", "serviceaccounts", "endpoints", "storageclasses", "csidrivers", "csinodes",
                "csistoragecapacities", "volumeattachments", "events.events.k8s.io", "leases", "deployments",
                "replicasets", "statefulsets", "daemonsets", "customresourcedefinitions"}
    for resource in sorted(expected):
        listed = await cluster.client.list(resource)
        assert listed["items"] is not None and listed["kind"].endswith("List")


async def test_pod_binding_subresource(cluster: Cluster) -> None:
    await cluster.client.create("pods", pod("p"), "default")
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node1"}}
    status = await cluster.client.create("pods", binding, "default", subresource="binding", name="p")
    assert status["status"] == "Success"
    bound = await cluster.client.get("pods", "p", "default")
    assert bound["spec"]["nodeName"] == "node1"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in bound["status"]["conditions"])
    with pytest.raises(ApiError) as info:
        await cluster.client.create("pods", binding, "default", subresource="binding", name="p")
    assert info.value.code == 409 and 'is already assigned to node "node1"' in info.value.message


async def test_scale_subresource(cluster: Cluster) -> None:
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
              "spec": {"selector": {"matchLabels": {"app": "d"}},
                       "template": {"metadata": {"labels": {"app": "d"}},
                                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    await cluster.client.create("deployments", deploy, "default")
    scale = await cluster.client.get("deployments", "d", "default", subresource="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 1 and scale["status"]["selector"] == "app=d"
    scaled = await cluster.client.patch("deployments", "d", {"spec": {"replicas": 3}}, "default", subresource="scale")
    assert scaled["spec"]["replicas"] == 3
    assert (await cluster.client.get("deployments", "d", "default"))["spec"]["replicas"] == 3
