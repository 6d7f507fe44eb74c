"""The clusterrole-aggregation controller folds labelled ClusterRoles into admin/edit/view."""

from __future__ import annotations

from minikube_lite import Cluster

RBAC = "rbac.authorization.k8s.io/v1"
WIDGETS_READ = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]}
WIDGETS_WRITE = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["create", "delete"]}


async def test_labelled_roles_are_aggregated_and_removed_again(cluster: Cluster) -> None:
    view_before = (await cluster.client.get("clusterroles", "view"))["rules"]
    await cluster.client.create("clusterroles", {
        "apiVersion": RBAC, "kind": "ClusterRole", "rules": [WIDGETS_READ],
        "metadata": {"name": "widgets-view", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}})
    await cluster.client.create("clusterroles", {
        "apiVersion": RBAC, "kind": "ClusterRole", "rules": [WIDGETS_WRITE],
        "metadata": {"name": "widgets-edit", "labels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}})
    await cluster.settle()
    view = (await cluster.client.get("clusterroles", "view"))["rules"]
    edit = (await cluster.client.get("clusterroles", "edit"))["rules"]
    admin = (await cluster.client.get("clusterroles", "admin"))["rules"]
    assert WIDGETS_READ in view and WIDGETS_WRITE not in view
    assert WIDGETS_READ in edit and WIDGETS_WRITE in edit  # edit aggregates view
    assert WIDGETS_READ in admin and WIDGETS_WRITE in admin  # admin aggregates edit
    await cluster.client.delete("clusterroles", "widgets-view")
    await cluster.settle()
    assert (await cluster.client.get("clusterroles", "view"))["rules"] == view_before
    assert WIDGETS_READ not in (await cluster.client.get("clusterroles", "admin"))["rules"]


async def test_bootstrap_roles_are_already_aggregated(cluster: Cluster) -> None:
    before = {n: (await cluster.client.get("clusterroles", n))["metadata"]["resourceVersion"]
              for n in ("admin", "edit", "view")}
    await cluster.settle()
    after = {n: (await cluster.client.get("clusterroles", n))["metadata"]["resourceVersion"]
             for n in ("admin", "edit", "view")}
    assert before == after  # nothing to write: the start objects carry the union already
