"""``apply`` on both clients and on the cluster: sources, server-side apply semantics, CRDs, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from minikube_lite import Cluster, VirtualClock
from minikube_lite.client.http import HttpClient
from minikube_lite.client.manifests import ManifestError, load_documents

PVC_YAML = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 20Gi}}
"""

CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}

WIDGET_CRD_AND_CR = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
"""


def names(objs: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objs]


async def test_apply_creates_then_updates_through_server_side_apply(cluster: Cluster) -> None:
    [created] = await cluster.apply(PVC_YAML)
    assert names([created]) == [("PersistentVolumeClaim", "default", "data")]
    [entry] = [m for m in created["metadata"]["managedFields"] if m["manager"] == "minikube-lite-test"]
    assert entry["operation"] == "Apply"

    cm = dict(CONFIG_MAP, data={"a": "1"})
    [first] = await cluster.apply(cm)
    [second] = await cluster.apply(dict(CONFIG_MAP, data={"a": "2", "b": "3"}))
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["data"] == {"a": "2", "b": "3"}
    # Fields the manager stops applying are removed, as server-side apply does.
    [third] = await cluster.apply(dict(CONFIG_MAP, data={"b": "3"}))
    assert third["data"] == {"b": "3"}
    stored = await cluster.client.get("configmaps", "settings", "default")
    assert stored["data"] == {"b": "3"}


async def test_apply_conflicts_with_another_manager_unless_forced(cluster: Cluster) -> None:
    await cluster.apply(CONFIG_MAP, field_manager="someone-else")
    with pytest.raises(ManifestError) as err:
        await cluster.apply(dict(CONFIG_MAP, data={"a": "changed"}))
    assert err.value.code == 409 and err.value.reason == "Conflict"
    assert err.value.document == 'document 1 (ConfigMap "settings")'
    assert err.value.message.startswith('document 1 (ConfigMap "settings"): Apply failed with 1 conflict')
    [forced] = await cluster.apply(dict(CONFIG_MAP, data={"a": "changed"}), force=True)
    assert forced["data"] == {"a": "changed"}


async def test_apply_takes_lists_multi_document_yaml_and_list_kinds(cluster: Cluster) -> None:
    second = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two"}}
    applied = await cluster.apply([CONFIG_MAP, second])
    assert names(applied) == [("ConfigMap", "default", "settings"), ("ConfigMap", "default", "two")]

    text = "---\n" + PVC_YAML + "---\n# only a comment\n---\n" + json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Secret",
                                                         "metadata": {"name": "s"}, "stringData": {"k": "v"}}]})
    applied = await cluster.apply(text, namespace="kube-public")
    assert names(applied) == [("PersistentVolumeClaim", "kube-public", "data"), ("Secret", "kube-public", "s")]


async def test_apply_defaults_namespaces_like_kubectl(cluster: Cluster) -> None:
    pv_and_ns = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}},
        dict(CONFIG_MAP, metadata={"name": "in-team"}),
        dict(CONFIG_MAP, metadata={"name": "pinned", "namespace": "kube-system"}),
    ]
    applied = await cluster.apply(pv_and_ns[:1])
    assert names(applied) == [("Namespace", None, "team")]
    applied = await cluster.apply(pv_and_ns[1:2], namespace="team")
    assert names(applied) == [("ConfigMap", "team", "in-team")]
    applied = await cluster.apply(pv_and_ns[2:])
    assert names(applied) == [("ConfigMap", "kube-system", "pinned")]
    # An object whose namespace differs from the one asked for gets the API's own refusal.
    with pytest.raises(ManifestError) as err:
        await cluster.apply(pv_and_ns[2:], namespace="team")
    assert err.value.code == 400 and "does not match the namespace" in err.value.api_message


async def test_apply_reads_a_file_and_a_folder_in_sorted_order(cluster: Cluster, tmp_path: Path) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "20-pvc.yaml").write_text(PVC_YAML)
    (folder / "10-config.json").write_text(json.dumps(CONFIG_MAP))
    (folder / "30-more.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more}\n")
    (folder / "notes.txt").write_text("not a manifest")
    applied = await cluster.apply(folder)
    assert names(applied) == [("ConfigMap", "default", "settings"), ("PersistentVolumeClaim", "default", "data"),
                              ("ConfigMap", "default", "more")]
    applied = await cluster.apply(str(folder / "20-pvc.yaml"), namespace="kube-public")
    assert names(applied) == [("PersistentVolumeClaim", "kube-public", "data")]
    with pytest.raises(FileNotFoundError):
        await cluster.apply(tmp_path / "missing.yaml")


async def test_apply_serves_a_crd_applied_earlier_in_the_same_call(cluster: Cluster) -> None:
    crd, widget = await cluster.apply(WIDGET_CRD_AND_CR)
    assert crd["kind"] == "CustomResourceDefinition"
    assert names([widget]) == [("Widget", "default", "w1")]
    stored = await cluster.client.get("widgets.example.com", "w1", "default")
    assert stored["spec"] == {"size": 3}


async def test_a_bad_document_raises_the_api_error_naming_it(cluster: Cluster, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(PVC_YAML + "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: broken}\n"
                   "spec: {accessModes: [Nope], resources: {requests: {storage: 1Gi}}}\n")
    with pytest.raises(ManifestError) as err:
        await cluster.apply(bad)
    assert err.value.code == 422 and err.value.reason == "Invalid"
    assert err.value.document == f'{bad} document 2 (PersistentVolumeClaim "broken")'
    assert 'spec.accessModes: Unsupported value: "Nope"' in str(err.value)
    assert err.value.status()["reason"] == "Invalid"
    # The documents before the bad one were applied; nothing of the bad one was stored.
    assert (await cluster.client.get("pvc", "data", "default"))["metadata"]["name"] == "data"
    pvcs = await cluster.client.list("pvc", "default")
    assert [p["metadata"]["name"] for p in pvcs["items"]] == ["data"]


@pytest.mark.parametrize("doc, code, text", [
    ({"kind": "ConfigMap", "metadata": {"name": "x"}}, 400, "Object 'apiVersion' is missing"),
    ({"apiVersion": "v1", "metadata": {"name": "x"}}, 400, "Object 'Kind' is missing"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}, 400, "resource name may not be empty"),
    ({"apiVersion": "example.com/v9", "kind": "Gadget", "metadata": {"name": "x"}}, 404,
     'no matches for kind "Gadget" in version "example.com/v9"'),
])
async def test_documents_that_cannot_be_sent_fail_with_a_status(cluster: Cluster, doc: dict[str, Any], code: int,
                                                                text: str) -> None:
    with pytest.raises(ManifestError) as err:
        await cluster.apply(doc)
    assert err.value.code == code and text in err.value.message
    assert err.value.message.startswith("document 1 (")


def test_unparsable_yaml_names_its_source() -> None:
    with pytest.raises(ManifestError) as err:
        load_documents("kind: [unclosed\nmetadata: {}\n")
    assert err.value.code == 400 and "cannot parse" in err.value.message


async def test_http_client_applies_the_same_way(tmp_path: Path) -> None:
    async with Cluster(clock=VirtualClock(), serve=True, kubeconfig_path=tmp_path / "kubeconfig.yaml") as served:
        client = HttpClient(served.url)
        try:
            crd, widget = await client.apply(WIDGET_CRD_AND_CR, namespace="kube-public")
            assert names([widget]) == [("Widget", "kube-public", "w1")]
            [cm] = await client.apply(CONFIG_MAP)
            assert [m["manager"] for m in cm["metadata"]["managedFields"]] == ["minikube-lite-test"]
            with pytest.raises(ManifestError) as err:
                await client.apply(dict(CONFIG_MAP, data={"a": "x"}), field_manager="other")
            assert err.value.code == 409
        finally:
            await client.close()
