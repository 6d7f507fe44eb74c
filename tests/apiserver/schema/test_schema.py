"""SchemaSet: the SchemaNode view of the upstream schemas and decode-time field validation."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.schema.duplicate_keys import find_duplicate_fields
from minikube_lite.apiserver.schema.go_json import (
    QUANTITY_FORMAT_WRONG,
    quantity_error,
    rfc3339_error,
    strict_message,
)
from minikube_lite.apiserver.schema.upstream import SchemaSet


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet.load()


def _pod(**spec_extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec_extra},
    }


def test_generated_data_loads(schemas: SchemaSet) -> None:
    assert schemas.kube_version == "v1.35.0"
    assert SchemaSet.load() is schemas  # cached
    for api_version, kind in [("v1", "Pod"), ("v1", "PersistentVolumeClaim"), ("storage.k8s.io/v1", "StorageClass"),
                              ("events.k8s.io/v1", "Event"), ("v1", "Event"), ("apps/v1", "StatefulSet"),
                              ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
                              ("coordination.k8s.io/v1", "Lease"), ("autoscaling/v1", "Scale"),
                              ("policy/v1", "Eviction"), ("v1", "Binding"), ("v1", "PodList")]:
        assert schemas.node(api_version, kind) is not None, (api_version, kind)
    assert schemas.node("v1", "NoSuchKind") is None
    assert schemas.definition_name("events.k8s.io/v1", "Event") == "io.k8s.api.events.v1.Event"
    assert schemas.definition_name("v1", "Event") == "io.k8s.api.core.v1.Event"


def test_schema_node_patch_metadata(schemas: SchemaSet) -> None:
    pod = schemas.node("v1", "Pod")
    assert pod is not None and pod.type == "object"
    spec = pod.property("spec")
    assert spec is not None
    containers = spec.property("containers")
    assert containers is not None
    assert containers.type == "array"
    assert containers.patch_merge_key == "name"
    assert containers.patch_strategy == "merge"
    assert containers.list_type == "map"
    assert containers.list_map_keys == ("name",)
    volumes = spec.property("volumes")
    assert volumes is not None and volumes.patch_strategy == "merge,retainKeys"
    item = containers.items()
    assert item is not None
    ports = item.property("ports")
    assert ports is not None and ports.list_map_keys == ("containerPort", "protocol")
    assert spec.property("nosuchfield") is None


def test_map_property_returns_additional_properties(schemas: SchemaSet) -> None:
    meta = schemas.node("v1", "ConfigMap")
    assert meta is not None
    labels = meta.property("metadata").property("labels")  # type: ignore[union-attr]
    assert labels is not None
    for key in ("app", "anything/at-all"):
        value = labels.property(key)
        assert value is not None and value.type == "string"
    finalizers = meta.property("metadata").property("finalizers")  # type: ignore[union-attr]
    assert finalizers is not None and finalizers.patch_strategy == "merge" and finalizers.list_type == "set"


def test_node_from_openapi_uses_list_extensions_and_object_meta(schemas: SchemaSet) -> None:
    node = schemas.node_from_openapi({
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"ports": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port", "protocol"],
            "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}}}},
    })
    ports = node.property("spec").property("ports")  # type: ignore[union-attr]
    assert ports is not None
    assert ports.list_type == "map" and ports.list_map_keys == ("port", "protocol")
    assert ports.items().property("port").type == "integer"  # type: ignore[union-attr]
    owner_refs = node.property("metadata").property("ownerReferences")  # type: ignore[union-attr]
    assert owner_refs is not None and owner_refs.patch_merge_key == "uid"


@pytest.mark.parametrize(("api_version", "kind", "obj", "message"), [
    ("v1", "ConfigMap", {"data": {"a": 1}},
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
     "field ConfigMap.data of type string"),
    ("v1", "Pod", {"spec": "x"},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
     "Pod.spec of type v1.PodSpec"),
    ("v1", "Pod", {"spec": {"containers": [{"name": 5}]}},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field '
     "Container.spec.containers.name of type string"),
    ("v1", "Pod", {"spec": {"containers": {"name": "c"}}},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal object into Go struct field '
     "PodSpec.spec.containers of type []v1.Container"),
    ("v1", "Pod", {"metadata": {"labels": "x"}},
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field '
     "ObjectMeta.metadata.labels of type map[string]string"),
    ("apps/v1", "Deployment", {"spec": {"replicas": "3"}},
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go '
     "struct field DeploymentSpec.spec.replicas of type int32"),
    ("apps/v1", "Deployment", {"spec": {"replicas": 1.5}},
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go '
     "struct field DeploymentSpec.spec.replicas of type int32"),
    ("storage.k8s.io/v1", "StorageClass", {"allowVolumeExpansion": "yes"},
     'StorageClass in version "v1" cannot be handled as a StorageClass: json: cannot unmarshal string into Go '
     "struct field StorageClass.allowVolumeExpansion of type bool"),
    ("v1", "PersistentVolumeClaim", {"spec": {"resources": {"requests": {"storage": "lots"}}}},
     'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: ' + QUANTITY_FORMAT_WRONG),
    ("v1", "PersistentVolumeClaim", {"metadata": {"creationTimestamp": 5}},
     'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: json: cannot '
     "unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string"),
    ("v1", "Service", {"spec": {"ports": [{"port": 80, "targetPort": True}]}},
     'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal bool into Go struct field '
     "ServicePort.spec.ports.targetPort of type int32"),
    ("v1", "Secret", {"data": {"k": "not base64!"}},
     'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'),
    ("v1", "Pod", {"status": {"startTime": "yesterday"}},
     'Pod in version "v1" cannot be handled as a Pod: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": '
     'cannot parse "yesterday" as "2006"'),
    ("v1", "Pod", [1, 2],
     'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go value of type v1.Pod'),
])
def test_wrong_types_give_the_upstream_400(schemas: SchemaSet, api_version: str, kind: str, obj: Any,
                                           message: str) -> None:
    for mode in ("Strict", "Warn", "Ignore"):
        result = schemas.check(api_version, kind, obj, mode)
        assert isinstance(result.decode_error, ApiError)
        assert result.decode_error.code == 400
        assert result.decode_error.reason == "BadRequest"
        assert result.decode_error.message == message
        assert result.error is result.decode_error


def test_first_type_error_in_document_order_wins(schemas: SchemaSet) -> None:
    obj = {"metadata": {"name": 1}, "spec": {"replicas": "x"}}
    result = schemas.check("apps/v1", "Deployment", obj, "Strict")
    assert result.decode_error is not None
    assert "ObjectMeta.metadata.name of type string" in result.decode_error.message


@pytest.mark.parametrize(("obj", "paths"), [
    (_pod(foo=1), ["spec.foo"]),
    ({**_pod(), "extra": True}, ["extra"]),
    ({**_pod(), "metadata": {"name": "p", "lables": {"a": "b"}}}, ["metadata.lables"]),
    (_pod(containers=[{"name": "c", "image": "i"}, {"name": "d", "imagee": "i"}]), ["spec.containers[1].imagee"]),
    (_pod(volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "c", "ro": True}}]),
     ["spec.volumes[0].persistentVolumeClaim.ro"]),
    (_pod(nodeSelector={"zone": "b"}, affinity={"nodeAffinity": {"required": {}}}),
     ["spec.affinity.nodeAffinity.required"]),
    (_pod(containers=[{"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}, "limit": {}}}]),
     ["spec.containers[0].resources.limit"]),
])
def test_unknown_fields_paths(schemas: SchemaSet, obj: dict[str, Any], paths: list[str]) -> None:
    result = schemas.check("v1", "Pod", obj, "Warn")
    assert result.decode_error is None
    assert result.unknown_fields == paths
    assert result.warnings == [f'unknown field "{p}"' for p in paths]


def test_known_maps_accept_any_key(schemas: SchemaSet) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"x/y": "z"}},
           "data": {"whatever": "1", "other.key": "2"}}
    result = schemas.check("v1", "ConfigMap", obj, "Strict")
    assert result.error is None and result.unknown_fields == [] and result.pruned == obj


def test_pruned_drops_unknown_fields_only(schemas: SchemaSet) -> None:
    obj = _pod(foo=1)
    obj["spec"]["containers"][0]["imagee"] = "x"
    obj["status"] = {"phase": "Pending", "bogus": 1}
    result = schemas.check("v1", "Pod", obj, "Ignore")
    assert result.error is None and result.warnings == []
    assert result.unknown_fields == ["spec.containers[0].imagee", "spec.foo", "status.bogus"]
    assert result.pruned == {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": "Pending"},
    }
    assert obj["spec"]["foo"] == 1  # the input is not modified


def test_field_validation_modes(schemas: SchemaSet) -> None:
    obj = _pod(foo=1, bar=2)
    strict = schemas.check("v1", "Pod", obj, "Strict")
    assert strict.error is not None and strict.decode_error is None
    assert strict.error.code == 400 and strict.error.reason == "BadRequest"
    assert strict.error.message == ('Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
                                    'unknown field "spec.foo", unknown field "spec.bar"')
    warn = schemas.check("v1", "Pod", obj, "Warn")
    assert warn.error is None
    assert warn.warnings == ['unknown field "spec.foo"', 'unknown field "spec.bar"']
    ignore = schemas.check("v1", "Pod", obj, "Ignore")
    assert ignore.error is None and ignore.warnings == []
    assert ignore.unknown_fields == ["spec.foo", "spec.bar"]
    default = schemas.check("v1", "Pod", obj, None)  # upstream default is Warn
    assert default.warnings == warn.warnings
    for result in (strict, warn, ignore):
        assert "foo" not in result.pruned["spec"]


# The body of kubernetes test/integration/apiserver/field_validation_test.go (invalidBodyJSON).
UPSTREAM_BODY = """{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "d", "unknownMeta": "x", "name": "d", "labels": {"app": "nginx"}},
  "spec": {
    "unknown1": "val1", "unknownDupe": "valDupe", "unknownDupe": "valDupe2",
    "paused": true, "paused": false,
    "selector": {"matchLabels": {"app": "nginx"}},
    "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{
      "name": "nginx", "image": "nginx:latest", "unknownNested": "val1",
      "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}
  }
}"""
UPSTREAM_STRICT = (
    'strict decoding error: unknown field "metadata.unknownMeta", duplicate field "metadata.name", '
    'unknown field "spec.unknown1", unknown field "spec.unknownDupe", duplicate field "spec.paused", '
    'unknown field "spec.template.spec.containers[0].unknownNested", '
    'duplicate field "spec.template.spec.containers[0].imagePullPolicy"'
)


def test_duplicates_and_unknowns_in_document_order(schemas: SchemaSet) -> None:
    obj = json.loads(UPSTREAM_BODY)
    result = schemas.check("apps/v1", "Deployment", obj, "Strict", raw=UPSTREAM_BODY.encode())
    assert result.error is not None
    assert result.error.message == 'Deployment in version "v1" cannot be handled as a Deployment: ' + UPSTREAM_STRICT
    assert result.duplicate_fields == ["metadata.name", "spec.paused",
                                       "spec.template.spec.containers[0].imagePullPolicy"]
    warn = schemas.check("apps/v1", "Deployment", obj, "Warn", raw=UPSTREAM_BODY)
    assert strict_message(warn.warnings) == UPSTREAM_STRICT
    # last duplicate wins, as in Go
    assert warn.pruned["spec"]["paused"] is False
    assert warn.pruned["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_duplicates_when_raw_differs_from_object(schemas: SchemaSet) -> None:
    raw = '{"metadata": {"name": "a", "name": "a"}, "spec": {"foo": 1, "foo": 2}}'
    obj = {"metadata": {"name": "a", "namespace": "default"}, "spec": {"foo": 2}}
    result = schemas.check("v1", "Pod", obj, "Warn", raw=raw)
    # spec.foo is unknown, so its duplicate is not reported again (upstream behaviour)
    assert result.warnings == ['unknown field "spec.foo"', 'duplicate field "metadata.name"']


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"a": 1, "a": 2}', ["a"]),
    ('{"a": {"b": 1, "c": 2, "b": 3}, "l": [{"x": 1}, {"x": 1, "x": 2}]}', ["a.b", "l[1].x"]),
    ('{"a": 1}', []),
    ("not json", []),
    (b'{"m": {"k": "v", "k": "w"}}', ["m.k"]),
])
def test_find_duplicate_fields(raw: str | bytes, expected: list[str]) -> None:
    assert find_duplicate_fields(raw) == expected


@pytest.mark.parametrize(("text", "error"), [
    ("1Gi", None), ("500m", None), ("1e3", None), ("0.5", None), ("+1", None), ("1E", None),
    ("abc", QUANTITY_FORMAT_WRONG), ("", QUANTITY_FORMAT_WRONG), ("1 Gi", QUANTITY_FORMAT_WRONG),
    ("1Gk", "unable to parse quantity's suffix"), ("1..2", "unable to parse numeric part of quantity"),
])
def test_quantity_errors(text: str, error: str | None) -> None:
    assert quantity_error(text) == error


def test_valid_objects_pass_strict(schemas: SchemaSet) -> None:
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": "data", "namespace": "default", "finalizers": ["kubernetes.io/pvc-protection"]},
           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "csi-disk",
                    "resources": {"requests": {"storage": "20Gi"}},
                    "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s"}},
           "status": {"phase": "Bound", "capacity": {"storage": 21474836480}}}
    result = schemas.check("v1", "PersistentVolumeClaim", pvc, "Strict")
    assert result.error is None and result.unknown_fields == [] and result.pruned == pvc
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "x"},
          "provisioner": "p", "parameters": {"type": "cloud_ssd"}, "volumeBindingMode": "WaitForFirstConsumer",
          "allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone",
                                                            "values": ["cn-hangzhou-b"]}]}]}
    assert schemas.check("storage.k8s.io/v1", "StorageClass", sc, "Strict").error is None
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b"},
           "spec": {"group": "b", "names": {"kind": "A", "plural": "a"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "default": {},
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}}}]}}
    assert schemas.check("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd, "Strict").error is None


def test_unknown_kind_is_not_checked(schemas: SchemaSet) -> None:
    obj = {"apiVersion": "example.com/v1", "kind": "Thing", "spec": {"anything": 1}}
    result = schemas.check("example.com/v1", "Thing", obj, "Strict")
    assert result.error is None and result.pruned == obj


def test_check_is_fast_for_a_pod_with_status(schemas: SchemaSet) -> None:
    pod = _pod(nodeName="node1", volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}],
               tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule"}])
    pod["spec"]["containers"][0].update({"ports": [{"containerPort": 80}], "resources": {"requests": {"cpu": "1"}},
                                         "volumeMounts": [{"name": "v", "mountPath": "/data"}]})
    pod["status"] = {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}],
                     "startTime": "2024-01-01T00:00:00Z", "qosClass": "Burstable",
                     "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}
                                    for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
                     "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0, "image": "nginx",
                                            "imageID": "docker://x", "started": True,
                                            "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]}
    assert schemas.check("v1", "Pod", pod, "Strict").error is None
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        schemas.check("v1", "Pod", pod, "Strict")
    per_check = (time.perf_counter() - start) / runs
    assert per_check < 0.001, per_check


@pytest.mark.parametrize(("value", "error"), [
    ("2024-01-01T00:00:00Z", None),
    ("2024-01-01T08:00:00.123456+08:00", None),
    ("2024-02-29T00:00:00Z", None),
    ("", 'parsing time "" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "2006"'),
    ("2024-13-01T00:00:00Z", 'parsing time "2024-13-01T00:00:00Z": month out of range'),
    ("2023-02-29T00:00:00Z", 'parsing time "2023-02-29T00:00:00Z": day out of range'),
    ("2024-01-01 00:00:00Z",
     'parsing time "2024-01-01 00:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 00:00:00Z" as "T"'),
    ("2024-01-01T00:00:00",
     'parsing time "2024-01-01T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"'),
    ("2024-01-01T00:00:00Zjunk", 'parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk"'),
])
def test_rfc3339_errors(value: str, error: str | None) -> None:
    assert rfc3339_error(value) == error


def test_node_from_openapi_is_memoised_per_schema_object(schemas: SchemaSet) -> None:
    schema = {"type": "object", "properties": {"spec": {"type": "object"}}}
    assert schemas.node_from_openapi(schema) is schemas.node_from_openapi(schema)
    assert schemas.node_from_openapi(dict(schema)) is not schemas.node_from_openapi(schema)
