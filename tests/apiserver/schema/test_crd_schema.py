"""Structural-schema pruning, defaulting and validation on the snapshot CRDs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikube_lite.apiserver.errors import FieldError
from minikube_lite.apiserver.schema import crd as crd_schema
from minikube_lite.openapi import snapshot_crds

JSON = dict[str, Any]
GV = "snapshot.storage.k8s.io/v1"


@pytest.fixture(scope="module")
def crds() -> dict[str, JSON]:
    return {c["spec"]["names"]["kind"]: c for c in snapshot_crds()}


@pytest.fixture(scope="module")
def schemas(crds: dict[str, JSON]) -> dict[str, JSON]:
    return {kind: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for kind, c in crds.items()}


def _msgs(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


def _vs(**spec: Any) -> JSON:
    return {"apiVersion": GV, "kind": "VolumeSnapshot", "metadata": {"name": "s", "namespace": "default"},
            "spec": spec}


def _vsc(**spec: Any) -> JSON:
    base: JSON = {"deletionPolicy": "Delete", "driver": "disk.csi.example.com",
                  "source": {"volumeHandle": "d-1"}, "volumeSnapshotRef": {"name": "s", "namespace": "default"}}
    base.update(spec)
    return {"apiVersion": GV, "kind": "VolumeSnapshotContent", "metadata": {"name": "c"}, "spec": base}


def test_manifests_match_upstream_shape(crds: dict[str, JSON]) -> None:
    expect = {
        "VolumeSnapshot": ("volumesnapshots", "Namespaced", ["vs"], {"status": {}}),
        "VolumeSnapshotContent": ("volumesnapshotcontents", "Cluster", ["vsc", "vscs"], {"status": {}}),
        "VolumeSnapshotClass": ("volumesnapshotclasses", "Cluster", ["vsclass", "vsclasses"], {}),
    }
    for kind, (plural, scope, short, subresources) in expect.items():
        crd = crds[kind]
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1" and crd["kind"] == "CustomResourceDefinition"
        assert crd["metadata"]["name"] == f"{plural}.snapshot.storage.k8s.io"
        assert crd["metadata"]["annotations"]["api-approved.kubernetes.io"].startswith(
            "https://github.com/kubernetes-csi/external-snapshotter/pull/")
        spec = crd["spec"]
        assert spec["group"] == "snapshot.storage.k8s.io" and spec["scope"] == scope
        assert spec["names"]["plural"] == plural and spec["names"]["shortNames"] == short
        assert spec["names"]["listKind"] == kind + "List"
        [version] = spec["versions"]
        assert version["name"] == "v1" and version["served"] and version["storage"]
        assert version["subresources"] == subresources
    columns = {k: [(c["name"], c["type"], c["jsonPath"]) for c in crds[k]["spec"]["versions"][0]
                   ["additionalPrinterColumns"]] for k in crds}
    assert columns["VolumeSnapshot"] == [
        ("ReadyToUse", "boolean", ".status.readyToUse"),
        ("SourcePVC", "string", ".spec.source.persistentVolumeClaimName"),
        ("SourceSnapshotContent", "string", ".spec.source.volumeSnapshotContentName"),
        ("RestoreSize", "string", ".status.restoreSize"),
        ("SnapshotClass", "string", ".spec.volumeSnapshotClassName"),
        ("SnapshotContent", "string", ".status.boundVolumeSnapshotContentName"),
        ("CreationTime", "date", ".status.creationTime"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ]
    assert [c[0] for c in columns["VolumeSnapshotContent"]] == [
        "ReadyToUse", "RestoreSize", "DeletionPolicy", "Driver", "VolumeSnapshotClass", "VolumeSnapshot",
        "VolumeSnapshotNamespace", "Age"]
    assert columns["VolumeSnapshotContent"][1][1] == "integer"
    assert [c[0] for c in columns["VolumeSnapshotClass"]] == ["Driver", "DeletionPolicy", "Age"]


def test_snapshot_crds_returns_fresh_copies() -> None:
    first = snapshot_crds()
    first[0]["spec"]["group"] = "mutated"
    assert snapshot_crds()[0]["spec"]["group"] == "snapshot.storage.k8s.io"


@pytest.mark.parametrize(("kind", "obj", "expected"), [
    ("VolumeSnapshotClass", {"metadata": {"name": "c"}, "deletionPolicy": "Delete"}, ["driver: Required value"]),
    ("VolumeSnapshotClass", {"metadata": {"name": "c"}, "driver": "d", "deletionPolicy": "Keep"},
     ['deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"']),
    ("VolumeSnapshotClass", {"metadata": {"name": "c"}}, ["deletionPolicy: Required value", "driver: Required value"]),
    ("VolumeSnapshotClass", {"metadata": {"name": "c"}, "driver": 5, "deletionPolicy": "Retain"},
     ['driver: Invalid value: "integer": driver in body must be of type string: "integer"']),
    ("VolumeSnapshotClass", {"metadata": {"name": "c"}, "driver": "d", "deletionPolicy": "Retain",
                             "parameters": {"a": 1}},
     ['parameters.a: Invalid value: "integer": parameters.a in body must be of type string: "integer"']),
    ("VolumeSnapshot", {"metadata": {"name": "s"}}, ["spec: Required value"]),
    ("VolumeSnapshot", _vs(), ["spec.source: Required value"]),
    ("VolumeSnapshot", _vs(source={}),
     ['spec.source: Invalid value: "object": exactly one of volumeSnapshotContentName and '
      "persistentVolumeClaimName must be set"]),
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a", "volumeSnapshotContentName": "b"}),
     ['spec.source: Invalid value: "object": exactly one of volumeSnapshotContentName and '
      "persistentVolumeClaimName must be set"]),
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a"}, volumeSnapshotClassName=""),
     ['spec.volumeSnapshotClassName: Invalid value: "string": volumeSnapshotClassName must not be the empty '
      "string when set"]),
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a"}), []),
    ("VolumeSnapshot", {**_vs(source={"persistentVolumeClaimName": "a"}),
                        "status": {"restoreSize": "1Gi", "readyToUse": True,
                                   "creationTime": "2024-01-01T00:00:00Z"}}, []),
    ("VolumeSnapshot", {**_vs(source={"persistentVolumeClaimName": "a"}), "status": {"restoreSize": "lots"}},
     ['status.restoreSize: Invalid value: "lots": status.restoreSize in body should match '
      "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|"
      "(\\.[0-9]+))))?$'"]),
    ("VolumeSnapshot", {**_vs(source={"persistentVolumeClaimName": "a"}), "status": {"restoreSize": 1024}}, []),
    ("VolumeSnapshot", {**_vs(source={"persistentVolumeClaimName": "a"}), "status": {"restoreSize": True}},
     ['status.restoreSize: Invalid value: "boolean": status.restoreSize in body must be of type '
      'integer-or-string: "boolean"']),
    ("VolumeSnapshotContent", _vsc(), []),
    ("VolumeSnapshotContent", _vsc(deletionPolicy="Remove"),
     ['spec.deletionPolicy: Unsupported value: "Remove": supported values: "Delete", "Retain"']),
    ("VolumeSnapshotContent", {"metadata": {"name": "c"}, "spec": {}},
     ["spec.deletionPolicy: Required value", "spec.driver: Required value", "spec.source: Required value",
      "spec.volumeSnapshotRef: Required value"]),
    ("VolumeSnapshotContent", _vsc(volumeSnapshotRef={"name": "s"}),
     ['spec.volumeSnapshotRef: Invalid value: "object": both spec.volumeSnapshotRef.name and '
      "spec.volumeSnapshotRef.namespace must be set"]),
    ("VolumeSnapshotContent", _vsc(source={"volumeHandle": "a", "snapshotHandle": "b"}),
     ['spec.source: Invalid value: "object": exactly one of volumeHandle and snapshotHandle must be set']),
    ("VolumeSnapshotContent", {**_vsc(), "status": {"restoreSize": -1}},
     ["status.restoreSize: Invalid value: -1: status.restoreSize in body should be greater than or equal to 0"]),
    ("VolumeSnapshotContent", {**_vsc(), "status": {"creationTime": "yesterday"}},
     ['status.creationTime: Invalid value: "string": status.creationTime in body must be of type integer: '
      '"string"']),
])
def test_validate(schemas: dict[str, JSON], kind: str, obj: JSON, expected: list[str]) -> None:
    assert _msgs(crd_schema.validate(schemas[kind], obj)) == expected


def test_required_value_cause_shape(schemas: dict[str, JSON]) -> None:
    [err] = crd_schema.validate(schemas["VolumeSnapshotClass"], {"deletionPolicy": "Delete"})
    assert err.cause() == {"reason": "FieldValueRequired", "message": "Required value", "field": "driver"}


@pytest.mark.parametrize(("kind", "old", "new", "expected"), [
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a"}),
     _vs(source={"persistentVolumeClaimName": "b"}),
     ['spec.source.persistentVolumeClaimName: Invalid value: "string": persistentVolumeClaimName is immutable']),
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a"}),
     _vs(source={"volumeSnapshotContentName": "c"}),
     ['spec.source: Invalid value: "object": persistentVolumeClaimName is required once set']),
    ("VolumeSnapshot", _vs(source={"persistentVolumeClaimName": "a"}),
     _vs(source={"persistentVolumeClaimName": "a"}, volumeSnapshotClassName="x"), []),
    ("VolumeSnapshotContent", _vsc(), _vsc(source={"volumeHandle": "d-2"}),
     ['spec.source.volumeHandle: Invalid value: "string": volumeHandle is immutable']),
    ("VolumeSnapshotContent", _vsc(sourceVolumeMode="Filesystem"), _vsc(),
     ['spec: Invalid value: "object": sourceVolumeMode is required once set']),
    ("VolumeSnapshotContent", _vsc(sourceVolumeMode="Filesystem"), _vsc(sourceVolumeMode="Block"),
     ['spec.sourceVolumeMode: Invalid value: "string": sourceVolumeMode is immutable']),
    ("VolumeSnapshotContent", _vsc(), _vsc(sourceVolumeMode="Block"), []),  # newly set: no oldSelf, rule skipped
])
def test_transition_rules(schemas: dict[str, JSON], kind: str, old: JSON, new: JSON, expected: list[str]) -> None:
    assert _msgs(crd_schema.validate(schemas[kind], new, old)) == expected
    # on create (no old object) transition rules never run
    create_errs = [m for m in _msgs(crd_schema.validate(schemas[kind], new)) if "immutable" in m or "once set" in m]
    assert create_errs == []


def test_prune_and_unknown_fields(schemas: dict[str, JSON]) -> None:
    obj = _vs(source={"persistentVolumeClaimName": "a", "extra": 1}, bogus=True)
    obj["metadata"]["labelz"] = {}
    obj["status"] = {"readyToUse": False, "foo": "bar", "error": {"message": "m", "code": 3}}
    obj["top"] = 1
    before = copy.deepcopy(obj)
    assert crd_schema.unknown_fields(schemas["VolumeSnapshot"], obj) == [
        "metadata.labelz", "spec.source.extra", "spec.bogus", "status.foo", "status.error.code", "top"]
    pruned = crd_schema.prune(schemas["VolumeSnapshot"], obj)
    assert pruned == {
        "apiVersion": GV, "kind": "VolumeSnapshot", "metadata": {"name": "s", "namespace": "default"},
        "spec": {"source": {"persistentVolumeClaimName": "a"}},
        "status": {"readyToUse": False, "error": {"message": "m"}},
    }
    assert obj == before


def test_prune_keeps_parameters_map_and_drops_nulls(schemas: dict[str, JSON]) -> None:
    obj = {"apiVersion": GV, "kind": "VolumeSnapshotClass", "metadata": {"name": "c"}, "driver": "d",
           "deletionPolicy": "Delete", "parameters": {"type": "cloud_ssd", "any-key": "v"}}
    assert crd_schema.prune(schemas["VolumeSnapshotClass"], obj) == obj
    assert crd_schema.unknown_fields(schemas["VolumeSnapshotClass"], obj) == []
    with_null = {**obj, "parameters": None}
    assert "parameters" not in crd_schema.prune(schemas["VolumeSnapshotClass"], with_null)


def test_preserve_unknown_fields_and_embedded_resources() -> None:
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "properties": {"known": {"type": "string"}}},
        "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                     "properties": {"spec": {"type": "object"}}},
    }}
    obj = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "a"},
           "spec": {"known": "k", "free": {"form": [1, 2]}},
           "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}, "junk": 1}}
    assert crd_schema.unknown_fields(schema, obj) == ["template.junk"]
    pruned = crd_schema.prune(schema, obj)
    assert pruned["spec"] == {"known": "k", "free": {"form": [1, 2]}}
    assert pruned["template"] == {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}}


def test_defaults() -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
        "replicas": {"type": "integer", "default": 1},
        "mode": {"type": "string", "default": "Fast"},
        "ports": {"type": "array", "items": {"type": "object", "properties": {
            "protocol": {"type": "string", "default": "TCP"}, "port": {"type": "integer"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "weight": {"type": "integer", "default": 10}}}},
    }}}}
    obj: JSON = {"metadata": {"name": "a"}}
    assert crd_schema.apply_defaults(schema, obj) is obj
    assert obj["spec"] == {"replicas": 1, "mode": "Fast"}
    obj2: JSON = {"spec": {"mode": "Slow", "replicas": None, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}],
                           "labels": {"a": {}}}}
    crd_schema.apply_defaults(schema, obj2)
    assert obj2["spec"] == {"mode": "Slow", "replicas": 1,
                            "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                            "labels": {"a": {"weight": 10}}}
    # defaults are copies, not shared
    obj3: JSON = {}
    crd_schema.apply_defaults(schema, obj3)
    obj3["spec"]["x"] = 1
    assert schema["properties"]["spec"]["default"] == {}  # type: ignore[index]


@pytest.mark.parametrize(("schema", "value", "expected"), [
    ({"type": "string", "minLength": 3}, "ab", ['f: Invalid value: "ab": f in body should be at least 3 chars long']),
    ({"type": "string", "maxLength": 2}, "abc", ["f: Too long: may not be more than 2 bytes"]),
    ({"type": "integer", "maximum": 5}, 6, ["f: Invalid value: 6: f in body should be less than or equal to 5"]),
    ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 0,
     ["f: Invalid value: 0: f in body should be greater than 0"]),
    ({"type": "array", "minItems": 1, "items": {"type": "string"}}, [],
     ["f: Invalid value: 0: f in body should have at least 1 items"]),
    ({"type": "array", "maxItems": 1, "items": {"type": "string"}}, ["a", "b"],
     ["f: Too many: 2: must have at most 1 items"]),
    ({"type": "array", "items": {"type": "string"}}, ["a", 1],
     ['f[1]: Invalid value: "integer": f[1] in body must be of type string: "integer"']),
    ({"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1, "b": 2},
     ['f: Invalid value: "object": f in body must validate one and only one schema (oneOf)']),
    ({"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, {"a": 1}, []),
    ({"type": "string", "x-kubernetes-validations": [{"rule": "self.startsWith('x')"}]}, "y", []),  # unsupported: skipped
    ({"type": "integer", "x-kubernetes-validations": [{"rule": "self >= 2 && self != 5"}]}, 5,
     ['f: Invalid value: "integer": failed rule: self >= 2 && self != 5']),
    ({"type": "object", "x-kubernetes-validations": [
        {"rule": "has(self.a) || has(self.b)", "message": "need a or b", "reason": "FieldValueRequired"}]}, {},
     ["f: Required value: need a or b"]),
])
def test_generic_keywords(schema: JSON, value: Any, expected: list[str]) -> None:
    root = {"type": "object", "properties": {"f": schema}}
    assert _msgs(crd_schema.validate(root, {"f": value})) == expected
