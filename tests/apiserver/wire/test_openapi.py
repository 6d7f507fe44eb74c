"""/openapi/v3 root and group-version documents."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.apiserver.registry import Registry, builtin_types
from minikube_lite.apiserver.resources.crd import types_for_crd
from minikube_lite.apiserver.schema.upstream import SchemaSet
from minikube_lite.apiserver.wire.openapi import (
    PATCH_TYPES_BUILTIN,
    PATCH_TYPES_CUSTOM,
    custom_schema_name,
    gv_path,
    openapi_v3_document,
    openapi_v3_root,
)
from minikube_lite.openapi import snapshot_crds

JSON = dict[str, Any]
REF = "#/components/schemas/"


@pytest.fixture()
def registry() -> Registry:
    reg = Registry(builtin_types())
    for crd in snapshot_crds():
        for rt in types_for_crd(crd):
            reg.add(rt)
    return reg


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet.load()


def _patch_ops(doc: JSON) -> dict[str, JSON]:
    """kind -> PATCH operation of the main resource path, as kubectl's query-param verifier finds them."""
    out: dict[str, JSON] = {}
    for path, item in doc["paths"].items():
        op = item.get("patch")
        if op is None or path.endswith(("/status", "/scale")):
            continue
        out[op["x-kubernetes-group-version-kind"]["kind"]] = op
    return out


def _resolve(doc: JSON, schema: JSON) -> JSON:
    ref = schema.get("$ref") or (schema.get("allOf") or [{}])[0].get("$ref")
    assert ref is not None and ref.startswith(REF), schema
    return doc["components"]["schemas"][ref[len(REF):]]  # type: ignore[no-any-return]


def test_root_lists_every_group_version_with_stable_hash(registry: Registry, schemas: SchemaSet) -> None:
    root = openapi_v3_root(registry, schemas)
    assert set(root) == {"paths"}
    expected = {gv_path(g, v) for g, versions in registry.groups().items() for v in versions}
    assert set(root["paths"]) == expected
    assert "api/v1" in expected and "apis/snapshot.storage.k8s.io/v1" in expected
    for key, entry in root["paths"].items():
        url = entry["serverRelativeURL"]
        assert url.startswith(f"/openapi/v3/{key}?hash=")
        assert len(url.split("hash=")[1]) == 128
    assert openapi_v3_root(registry, schemas) == root  # deterministic


def test_hash_changes_only_for_the_changed_group_version(registry: Registry, schemas: SchemaSet) -> None:
    before = openapi_v3_root(registry, schemas)["paths"]
    crd = next(c for c in snapshot_crds() if c["spec"]["names"]["kind"] == "VolumeSnapshotClass")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["extra"] = {"type": "string"}
    for rt in types_for_crd(crd):
        registry.add(rt)
    after = openapi_v3_root(registry, schemas)["paths"]
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"apis/snapshot.storage.k8s.io/v1"}


def test_unknown_group_version_is_none(registry: Registry, schemas: SchemaSet) -> None:
    assert openapi_v3_document(registry, schemas, "nope.example.com", "v1") is None
    assert openapi_v3_document(registry, schemas, "", "v2") is None


def test_core_document_shape(registry: Registry, schemas: SchemaSet) -> None:
    doc = openapi_v3_document(registry, schemas, "", "v1")
    assert doc is not None
    assert doc["openapi"] == "3.0.0" and doc["info"]["version"] == "v1.35.0"
    ops = _patch_ops(doc)
    # Namespace PATCH is what kubectl uses as a stand-in for CRD groups.
    for kind in ("Namespace", "Pod", "PersistentVolumeClaim", "PersistentVolume", "ConfigMap", "Node", "Event"):
        op = ops[kind]
        assert op["x-kubernetes-action"] == "patch"
        assert op["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": kind}
        assert "fieldValidation" in [p["name"] for p in op["parameters"]]
        assert tuple(op["requestBody"]["content"]) == PATCH_TYPES_BUILTIN
    assert "/api/v1/namespaces/{name}" in doc["paths"]
    assert "/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}" in doc["paths"]
    assert "/api/v1/persistentvolumeclaims" in doc["paths"]  # list across namespaces
    assert "/api/v1/persistentvolumes/{name}/status" in doc["paths"]
    binding = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"]
    assert binding["x-kubernetes-group-version-kind"]["kind"] == "Binding"
    eviction = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
    assert eviction["x-kubernetes-group-version-kind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}
    components = doc["components"]["schemas"]
    for name in ("io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodList", "io.k8s.api.policy.v1.Eviction",
                 "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Status"):
        assert name in components
    assert "io.k8s.api.apps.v1.Deployment" not in components
    # every $ref resolves inside the document
    refs: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$ref":
                    refs.append(v)
                else:
                    walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(doc)
    assert refs and all(r[len(REF):] in components for r in refs)


def test_explain_ready_descriptions(registry: Registry, schemas: SchemaSet) -> None:
    doc = openapi_v3_document(registry, schemas, "", "v1")
    assert doc is not None
    pvc = doc["components"]["schemas"]["io.k8s.api.core.v1.PersistentVolumeClaim"]
    assert pvc["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "PersistentVolumeClaim", "version": "v1"}]
    spec = _resolve(doc, pvc["properties"]["spec"])
    data_source = spec["properties"]["dataSource"]
    assert data_source["description"].startswith(
        "dataSource field can be used to specify either: * An existing VolumeSnapshot object "
        "(snapshot.storage.k8s.io/VolumeSnapshot)")
    target = _resolve(doc, data_source)
    assert set(target["properties"]) == {"apiGroup", "kind", "name"}
    assert target["required"] == ["kind", "name"]
    assert "apiVersion" in pvc["properties"] and "enum" not in pvc["properties"]["apiVersion"]


def test_group_documents(registry: Registry, schemas: SchemaSet) -> None:
    storage = openapi_v3_document(registry, schemas, "storage.k8s.io", "v1")
    assert storage is not None
    assert set(_patch_ops(storage)) == {"StorageClass", "CSIDriver", "CSINode", "CSIStorageCapacity",
                                        "VolumeAttachment", "VolumeAttributesClass"}
    assert "/apis/storage.k8s.io/v1/storageclasses/{name}" in storage["paths"]
    apps = openapi_v3_document(registry, schemas, "apps", "v1")
    assert apps is not None
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"]
    assert scale["x-kubernetes-group-version-kind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]
    events = openapi_v3_document(registry, schemas, "events.k8s.io", "v1")
    assert events is not None
    assert "io.k8s.api.events.v1.Event" in events["components"]["schemas"]


def test_custom_resource_document(registry: Registry, schemas: SchemaSet) -> None:
    doc = openapi_v3_document(registry, schemas, "snapshot.storage.k8s.io", "v1")
    assert doc is not None
    ops = _patch_ops(doc)
    assert set(ops) == {"VolumeSnapshot", "VolumeSnapshotContent", "VolumeSnapshotClass"}
    for kind, op in ops.items():
        assert op["x-kubernetes-group-version-kind"] == {"group": "snapshot.storage.k8s.io", "version": "v1",
                                                         "kind": kind}
        assert "fieldValidation" in [p["name"] for p in op["parameters"]]
        content = op["requestBody"]["content"]
        assert tuple(content) == PATCH_TYPES_CUSTOM
        assert "application/strategic-merge-patch+json" not in content
    name = custom_schema_name("snapshot.storage.k8s.io", "v1", "VolumeSnapshot")
    assert name == "io.k8s.storage.snapshot.v1.VolumeSnapshot"
    vs = doc["components"]["schemas"][name]
    assert vs["x-kubernetes-group-version-kind"] == [
        {"group": "snapshot.storage.k8s.io", "version": "v1", "kind": "VolumeSnapshot"}]
    assert _resolve(doc, vs["properties"]["metadata"]) is doc["components"]["schemas"][
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    assert vs["properties"]["spec"]["properties"]["source"]["description"].startswith("source specifies where")
    vs_list = doc["components"]["schemas"]["io.k8s.storage.snapshot.v1.VolumeSnapshotList"]
    assert vs_list["properties"]["items"]["items"] == {"$ref": REF + name}
    assert "/apis/snapshot.storage.k8s.io/v1/namespaces/{namespace}/volumesnapshots/{name}/status" in doc["paths"]
    assert "/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/{name}/status" not in doc["paths"]
    # the CRD's stored schema is not modified by publishing it
    crd_version = registry.get("snapshot.storage.k8s.io", "v1", "volumesnapshots").crd_version  # type: ignore[union-attr]
    assert "x-kubernetes-group-version-kind" not in crd_version["schema"]["openAPIV3Schema"]  # type: ignore[index]
