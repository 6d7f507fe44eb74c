"""The apiserver's start objects: RBAC defaults, APF configuration, APIServices, ComponentStatus."""

from __future__ import annotations

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.wire.tables import build_table

BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}


async def test_default_cluster_roles(cluster: Cluster) -> None:
    names = {r["metadata"]["name"] for r in (await cluster.client.list("clusterroles"))["items"]}
    assert {"cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user",
            "system:public-info-viewer"} <= names
    admin = await cluster.client.get("clusterroles", "cluster-admin")
    assert admin["metadata"]["labels"] == BOOTSTRAP
    assert admin["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    assert admin["rules"] == [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                              {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    view = await cluster.client.get("clusterroles", "view")
    edit = await cluster.client.get("clusterroles", "edit")
    assert view["aggregationRule"] == {"clusterRoleSelectors": [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
    assert edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert all(rule in edit["rules"] for rule in view["rules"])
    assert not any("delete" in r["verbs"] for r in view["rules"])


async def test_default_cluster_role_bindings(cluster: Cluster) -> None:
    crb = await cluster.client.get("clusterrolebindings", "cluster-admin")
    assert crb["metadata"]["labels"] == BOOTSTRAP
    assert crb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "cluster-admin"}
    assert crb["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                "name": "system:masters"}]
    public = await cluster.client.get("clusterrolebindings", "system:public-info-viewer")
    assert [s["name"] for s in public["subjects"]] == ["system:authenticated", "system:unauthenticated"]


async def test_flow_control_mandatory_objects(cluster: Cluster) -> None:
    levels = {p["metadata"]["name"]: p for p in (await cluster.client.list("prioritylevelconfigurations"))["items"]}
    schemas = {f["metadata"]["name"]: f for f in (await cluster.client.list("flowschemas"))["items"]}
    assert set(levels) == set(schemas) == {"exempt", "catch-all"}
    assert levels["exempt"]["spec"]["type"] == "Exempt"
    assert levels["catch-all"]["spec"]["limited"]["limitResponse"] == {"type": "Reject"}
    assert schemas["exempt"]["spec"]["matchingPrecedence"] == 1
    assert schemas["catch-all"]["spec"]["distinguisherMethod"] == {"type": "ByUser"}


async def test_one_local_available_api_service_per_group_version(cluster: Cluster) -> None:
    services = {a["metadata"]["name"]: a for a in (await cluster.client.list("apiservices"))["items"]}
    expected = {f"{v}.{g}" for g, versions in cluster.engine.registry.groups().items() for v in versions}
    assert set(services) == expected
    assert {"v1.", "v1.apps", "v2.autoscaling", "v1.autoscaling", "v1.snapshot.storage.k8s.io"} <= set(services)
    core = services["v1."]
    assert core["spec"] == {"version": "v1", "groupPriorityMinimum": 18000, "versionPriority": 1}
    assert core["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "onstart"}
    assert services["v1.snapshot.storage.k8s.io"]["metadata"]["labels"] == {
        "kube-aggregator.kubernetes.io/automanaged": "true"}
    rt = cluster.engine.registry.resolve("apiservices")
    table = build_table(rt, [services["v1.apps"]], now=cluster.clock.now())
    assert table["rows"][0]["cells"][:3] == ["v1.apps", "Local", "True"]


async def test_component_statuses_are_computed_on_read(cluster: Cluster) -> None:
    listed = await cluster.client.list("componentstatuses")
    assert [c["metadata"]["name"] for c in listed["items"]] == ["scheduler", "controller-manager", "etcd-0"]
    etcd = await cluster.client.get("componentstatuses", "etcd-0")
    assert etcd["conditions"] == [{"type": "Healthy", "status": "True", "message": "ok"}]
    with pytest.raises(ApiError) as missing:
        await cluster.client.get("componentstatuses", "nope")
    assert missing.value.code == 404
    with pytest.raises(ApiError) as create:
        await cluster.client.create("componentstatuses", {"apiVersion": "v1", "kind": "ComponentStatus",
                                                          "metadata": {"name": "x"}})
    assert create.value.code == 405
    assert cluster.engine.store.get(("", "componentstatuses"), "", "etcd-0") is None


async def test_later_clusters_get_the_same_objects_with_their_own_identity() -> None:
    async with Cluster(components=False) as first, Cluster(components=False) as second:
        for resource in ("clusterroles", "clusterrolebindings", "apiservices", "flowschemas", "priorityclasses"):
            a = {o["metadata"]["name"]: o for o in (await first.client.list(resource))["items"]}
            b = {o["metadata"]["name"]: o for o in (await second.client.list(resource))["items"]}
            assert set(a) == set(b) and a
            for name, obj in a.items():
                other = b[name]
                assert obj["metadata"]["uid"] != other["metadata"]["uid"]
                strip = ("uid", "resourceVersion", "creationTimestamp", "managedFields")
                assert {k: v for k, v in obj["metadata"].items() if k not in strip} == \
                    {k: v for k, v in other["metadata"].items() if k not in strip}
                assert {k: v for k, v in obj.items() if k != "metadata"} == \
                    {k: v for k, v in other.items() if k != "metadata"}
                assert other["metadata"]["managedFields"][0]["manager"] == "kube-apiserver"
        # the copies are real objects: watchable, updatable, deletable
        crb = await second.client.get("clusterrolebindings", "system:monitoring")
        crb["metadata"]["labels"]["extra"] = "1"
        assert (await second.client.update("clusterrolebindings", crb))["metadata"]["labels"]["extra"] == "1"
        await second.client.delete("clusterroles", "system:monitoring")
