"""CRD group/versions get a local APIService while a CRD serves them."""

from __future__ import annotations

from minikube_lite import Cluster


def crd(group: str, plural: str, versions: list[tuple[str, bool]]) -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": plural[:-1], "kind": plural[:-1].title()},
                     "versions": [{"name": v, "served": served, "storage": n == 0,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}
                                  for n, (v, served) in enumerate(versions)]}}


async def names(cluster: Cluster) -> set[str]:
    return {a["metadata"]["name"] for a in (await cluster.client.list("apiservices"))["items"]}


async def test_crd_versions_are_registered_and_unregistered(cluster: Cluster) -> None:
    await cluster.client.create("customresourcedefinitions", crd("example.com", "widgets",
                                                                  [("v1", True), ("v1alpha1", False)]))
    await cluster.client.create("customresourcedefinitions", crd("example.com", "gadgets", [("v1", True)]))
    await cluster.settle()
    assert "v1.example.com" in await names(cluster) and "v1alpha1.example.com" not in await names(cluster)
    svc = await cluster.client.get("apiservices", "v1.example.com")
    assert svc["metadata"]["labels"] == {"kube-aggregator.kubernetes.io/automanaged": "true"}
    assert (svc["spec"]["groupPriorityMinimum"], svc["spec"]["versionPriority"]) == (1000, 100)
    await cluster.client.delete("customresourcedefinitions", "widgets.example.com")
    await cluster.settle()
    assert "v1.example.com" in await names(cluster)  # gadgets still serves it
    await cluster.client.delete("customresourcedefinitions", "gadgets.example.com")
    await cluster.settle()
    assert "v1.example.com" not in await names(cluster)
    assert "v1.apps" in await names(cluster)  # built-ins stay


async def test_built_in_and_start_crd_services_are_left_alone(cluster: Cluster) -> None:
    before = {a["metadata"]["name"]: a["metadata"]["resourceVersion"]
              for a in (await cluster.client.list("apiservices"))["items"]}
    await cluster.settle()
    after = {a["metadata"]["name"]: a["metadata"]["resourceVersion"]
             for a in (await cluster.client.list("apiservices"))["items"]}
    assert before == after and "v1.snapshot.storage.k8s.io" in after
