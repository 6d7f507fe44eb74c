"""Strategic merge patch: upstream's own test cases, the patches kubectl apply emits, and errors.

Schemas come from a tiny ``SchemaNode`` over hand-written JSON-schema dicts (the ``MergeItem``
type of upstream's ``patch_test.go`` and a slice of Deployment), and from the real
``SchemaSet`` for the Deployment/Service/ConfigMap cases.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from minikube_lite.apiserver.apply.strategic_merge import strategic_merge
from minikube_lite.apiserver.apply.strategic_merge_errors import (
    ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST,
    ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
    ERR_MERGING_LISTS_DIRECTIVE,
    ERR_NO_LIST_OF_LISTS,
    StrategicMergeError,
    go_value,
)
from minikube_lite.apiserver.schema.nodes import SchemaNode

# ---------------------------------------------------------------------------------------------
# a minimal SchemaNode over JSON-schema dicts


class Node:
    def __init__(self, schema: dict[str, Any], defs: dict[str, Any]) -> None:
        self._defs = defs
        self._s = defs[schema["$ref"]] if "$ref" in schema else schema
        self._outer = schema  # the x-kubernetes-* of a property sit next to its $ref

    def _ext(self, key: str) -> Any:
        return self._outer.get(key, self._s.get(key))

    @property
    def type(self) -> str | None:
        return self._s.get("type")

    @property
    def patch_merge_key(self) -> str | None:
        return self._ext("x-kubernetes-patch-merge-key")

    @property
    def patch_strategy(self) -> str | None:
        return self._ext("x-kubernetes-patch-strategy")

    @property
    def list_type(self) -> str | None:
        return self._ext("x-kubernetes-list-type")

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return tuple(self._ext("x-kubernetes-list-map-keys") or ())

    @property
    def map_type(self) -> str | None:
        return self._ext("x-kubernetes-map-type")

    def property(self, name: str) -> SchemaNode | None:
        if name in self._s.get("properties", {}):
            return Node(self._s["properties"][name], self._defs)
        extra = self._s.get("additionalProperties")
        return Node(extra, self._defs) if isinstance(extra, dict) else None

    def items(self) -> SchemaNode | None:
        return Node(self._s["items"], self._defs) if "items" in self._s else None


def merge_list(ref: str, key: str, retain: bool = False) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": ref}, "x-kubernetes-patch-merge-key": key,
            "x-kubernetes-patch-strategy": "merge,retainKeys" if retain else "merge"}


STR = {"type": "string"}
INT_SET = {"type": "array", "items": {"type": "integer"}, "x-kubernetes-patch-strategy": "merge"}
STR_MAP = {"type": "object", "additionalProperties": STR}

# upstream patch_test.go MergeItem / RetainKeysMergeItem
MERGE_DEFS: dict[str, Any] = {
    "MergeItem": {"type": "object", "properties": {
        "name": STR, "value": STR, "other": STR,
        "mergingList": merge_list("MergeItem", "name"),
        "nonMergingList": {"type": "array", "items": {"$ref": "MergeItem"}},
        "mergingIntList": INT_SET,
        "nonMergingIntList": {"type": "array", "items": {"type": "integer"}},
        "mergeItemPtr": {"$ref": "MergeItem", "x-kubernetes-patch-strategy": "merge",
                         "x-kubernetes-patch-merge-key": "name"},
        "simpleMap": STR_MAP,
        "replacingItem": {"type": "object", "x-kubernetes-patch-strategy": "replace"},
        "retainKeysMap": {"$ref": "RetainKeysMergeItem", "x-kubernetes-patch-strategy": "retainKeys"},
        "retainKeysMergingList": merge_list("MergeItem", "name", retain=True),
    }},
    "RetainKeysMergeItem": {"type": "object", "properties": {
        "name": STR, "value": STR, "other": STR, "simpleMap": STR_MAP, "mergingIntList": INT_SET,
        "mergingList": merge_list("MergeItem", "name"),
        "nonMergingList": {"type": "array", "items": {"$ref": "MergeItem"}},
    }},
}
MERGE_ITEM = Node({"$ref": "MergeItem"}, MERGE_DEFS)

# a slice of apps/v1 Deployment, enough for what kubectl apply patches
DEPLOY_DEFS: dict[str, Any] = {
    "Deployment": {"type": "object", "properties": {
        "metadata": {"$ref": "ObjectMeta"}, "spec": {"$ref": "DeploymentSpec"}}},
    "ObjectMeta": {"type": "object", "properties": {
        "name": STR, "labels": STR_MAP, "annotations": STR_MAP,
        "finalizers": {"type": "array", "items": STR, "x-kubernetes-patch-strategy": "merge",
                       "x-kubernetes-list-type": "set"},
        "ownerReferences": merge_list("OwnerReference", "uid")}},
    "OwnerReference": {"type": "object", "properties": {"uid": STR, "name": STR}},
    "DeploymentSpec": {"type": "object", "properties": {
        "replicas": {"type": "integer"},
        "strategy": {"$ref": "DeploymentStrategy", "x-kubernetes-patch-strategy": "retainKeys"},
        "template": {"$ref": "PodTemplateSpec"}}},
    "DeploymentStrategy": {"type": "object", "properties": {"type": STR, "rollingUpdate": {"type": "object"}}},
    "PodTemplateSpec": {"type": "object", "properties": {
        "metadata": {"$ref": "ObjectMeta"}, "spec": {"$ref": "PodSpec"}}},
    "PodSpec": {"type": "object", "properties": {
        "containers": merge_list("Container", "name"),
        "volumes": merge_list("Volume", "name", retain=True),
        "tolerations": {"type": "array", "items": {"type": "object"}, "x-kubernetes-list-type": "atomic"},
        "nodeSelector": STR_MAP}},
    "Container": {"type": "object", "properties": {
        "name": STR, "image": STR, "args": {"type": "array", "items": STR},
        "env": merge_list("EnvVar", "name"), "ports": merge_list("ContainerPort", "containerPort")}},
    "EnvVar": {"type": "object", "properties": {"name": STR, "value": STR}},
    "ContainerPort": {"type": "object", "properties": {"containerPort": {"type": "integer"}}},
    "Volume": {"type": "object", "properties": {
        "name": STR, "emptyDir": {"type": "object"}, "configMap": {"type": "object"}}},
}
DEPLOYMENT = Node({"$ref": "Deployment"}, DEPLOY_DEFS)


def y(text: str) -> Any:
    return yaml.safe_load(text)


# ---------------------------------------------------------------------------------------------
# upstream patch_test.go cases (applying the given patch to the given object)

UPSTREAM: list[tuple[str, str, str, str]] = [
    ("unique scalars when merging lists",
     "mergingIntList: [1, 2]", "mergingIntList: [2, 3]", "mergingIntList: [1, 2, 3]"),
    ("delete map from nested map",
     "simpleMap: {key1: 1, key2: 1}", "simpleMap: {$patch: delete}", "simpleMap: {}"),
    ("delete all items from merging list",
     "mergingList: [{name: 1}, {name: 2}]", "mergingList: [{$patch: replace}]", "mergingList: []"),
    ("merge empty merging lists", "mergingList: []", "mergingList: []", "mergingList: []"),
    ("delete all keys from map", "{name: 1, value: 1}", "{$patch: replace}", "{}"),
    ("add key and delete all keys from map", "{name: 1, value: 1}", "{other: a, $patch: replace}", "{other: a}"),
    ("delete all duplicate entries in a merging list",
     "mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]",
     "mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]",
     "mergingList: [{name: 2, value: a}]"),
    ("retainKeys map can add a field when no retainKeys directive present",
     "retainKeysMap: {name: foo}", "retainKeysMap: {value: bar}", "retainKeysMap: {name: foo, value: bar}"),
    ("retainKeys map can delete a field when no retainKeys directive present",
     "retainKeysMap: {name: foo, value: a}", "retainKeysMap: {value: null}", "retainKeysMap: {name: foo}"),
    ("retainKeys list can change a field",
     "retainKeysMergingList: [{name: bar}, {name: foo, value: a}]",
     "retainKeysMergingList: [{name: foo, value: b}]",
     "retainKeysMergingList: [{name: bar}, {name: foo, value: b}]"),
    ("preserve the order from the patch in a merging list",
     "mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]",
     "mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]",
     "mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]"),
    ("preserve the order from the patch in a merging list 2",
     "mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]",
     "mergingList: [{name: 3, value: c}, {name: 1, value: a}]",
     "mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]"),
    ("preserve the order from the patch in a merging int list",
     "mergingIntList: [1, 2, 3]", "mergingIntList: [3, 1, 2]", "mergingIntList: [3, 1, 2]"),
    ("preserve the order from the patch in a merging int list 2",
     "mergingIntList: [1, 2, 3]", "mergingIntList: [3, 1]", "mergingIntList: [2, 3, 1]"),
    ("$setElementOrder contains item that is not present in the list to be merged",
     "mergingList: [{name: 1}, {name: 3}]",
     "{$setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}],"
     " mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}",
     "mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]"),
    ("$setElementOrder contains item that is not present in the int list to be merged",
     "mergingIntList: [1, 3]", "{$setElementOrder/mergingIntList: [3, 2, 1]}", "mergingIntList: [3, 1]"),
    ("$deleteFromPrimitiveList of nonexistent item should not add the item",
     "mergingIntList: [1, 2]", "{$deleteFromPrimitiveList/mergingIntList: [3]}", "mergingIntList: [1, 2]"),
    ("$deleteFromPrimitiveList on empty primitive list",
     "mergingIntList: null", "{$deleteFromPrimitiveList/mergingIntList: [3]}", "mergingIntList: null"),
    ("$deleteFromPrimitiveList on nonexistent primitive list should not add the list",
     "foo: [bar]", "{$deleteFromPrimitiveList/mergingIntList: [3]}", "foo: [bar]"),
    ("$deleteFromPrimitiveList deletes from a merge list",
     "mergingIntList: [1, 2, 3]", "{$deleteFromPrimitiveList/mergingIntList: [2]}", "mergingIntList: [1, 3]"),
    ("$deleteFromPrimitiveList deletes from a non-merge list",
     "nonMergingIntList: [1, 2, 3]", "{$deleteFromPrimitiveList/nonMergingIntList: [2]}",
     "nonMergingIntList: [1, 3]"),
    ("nested patch merge with empty list (three-way)",
     "{name: hi, mergingList: [{name: hello2}]}",
     "{$setElementOrder/mergingList: [{name: hello}, {name: doesntexist}],"
     " mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]}",
     "{name: hi, mergingList: [{name: hello}, {name: hello2}]}"),
    ("nested patch merge with empty list (two-way)",
     "{name: hi}", "mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]",
     "{name: hi, mergingList: [{name: hello}]}"),
    ("delete items in lists of scalars",
     "mergingIntList: [1, 2, 3, 4]",
     "{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}",
     "mergingIntList: [1, 2, 4]"),
    ("delete all duplicate items in lists of scalars",
     "mergingIntList: [1, 2, 3, 3, 4]",
     "{$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}",
     "mergingIntList: [1, 2, 4]"),
    ("add and delete items in lists of scalars",
     "mergingIntList: [1, 2, 3]",
     "{$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3],"
     " mergingIntList: [4]}",
     "mergingIntList: [1, 2, 4]"),
    ("merge lists of maps",
     "mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]",
     "{$setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}],"
     " mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]}",
     "mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b},"
     " {name: 3, value: 3}]"),
    ("defined null values delete, unmatched nulls are dropped",
     "{name: a, other: a}", "{name: 1, value: 1, other: null}", "{name: 1, value: 1}"),
    ("replace strategy on a map field",
     "replacingItem: {a: 1, b: 2}", "replacingItem: {c: 3}", "replacingItem: {c: 3}"),
    ("non-merging list is replaced",
     "nonMergingList: [{name: 1}, {name: 2}]", "nonMergingList: [{name: 3}]", "nonMergingList: [{name: 3}]"),
    ("merge-strategy pointer struct merges as a map",
     "mergeItemPtr: {name: a, value: 1}", "mergeItemPtr: {other: x}", "mergeItemPtr: {name: a, value: 1, other: x}"),
    ("new item without $setElementOrder goes before the server-only ones",
     "mergingList: [{name: 1}, {name: 2}]", "mergingList: [{name: 3}]",
     "mergingList: [{name: 3}, {name: 1}, {name: 2}]"),
    ("changed item keeps its place",
     "mergingList: [{name: 1}, {name: 2}, {name: 3}]", "mergingList: [{name: 2, value: x}]",
     "mergingList: [{name: 1}, {name: 2, value: x}, {name: 3}]"),
    ("$retainKeys clears the keys it does not list",
     "retainKeysMap: {name: foo, value: a, other: b}",
     "retainKeysMap: {$retainKeys: [name, simpleMap], simpleMap: {k: v}}",
     "retainKeysMap: {name: foo, simpleMap: {k: v}}"),
    ("$retainKeys in a keyed list item",
     "retainKeysMergingList: [{name: a, value: 1, other: 2}]",
     "retainKeysMergingList: [{name: a, $retainKeys: [name, other], other: 3}]",
     "retainKeysMergingList: [{name: a, other: 3}]"),
    ("directives in a value the object lacks are stripped",
     "{}", "retainKeysMap: {$retainKeys: [name], name: n, $setElementOrder/mergingList: [{name: x}],"
           " mergingList: [{name: x, value: null}], gone: null}",
     "retainKeysMap: {name: n, mergingList: [{name: x}]}"),
    ("$patch: replace on a nested map",
     "simpleMap: {a: 1, b: 2}", "simpleMap: {$patch: replace, c: 3}", "simpleMap: {c: 3}"),
    ("$patch: replace in a merging list keeps only the patch items",
     "mergingList: [{name: 1}, {name: 2}]", "mergingList: [{name: 3}, {$patch: replace}]",
     "mergingList: [{name: 3}]"),
]


@pytest.mark.parametrize(("description", "original", "patch", "expected"), UPSTREAM,
                         ids=[c[0] for c in UPSTREAM])
def test_upstream_cases(description: str, original: str, patch: str, expected: str) -> None:
    orig, p = y(original), y(patch)
    frozen = copy.deepcopy((orig, p))
    assert strategic_merge(orig, p, MERGE_ITEM) == y(expected)
    assert (orig, p) == frozen, "inputs must not be modified"


@pytest.mark.parametrize(
    ("original", "patch", "message", "code"),
    [
        ("mergingList: [{name: 1, value: a}]", "mergingList: [{value: b}]",
         "map: map[value:b] does not contain declared merge key: name", 500),
        ("mergingList: [{name: 1}, {name: 3}, {name: 2}]",
         "{$setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}],"
         " mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}", "doesn't match", 500),
        ("mergingIntList: [1, 3, 2]",
         "{$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}", "doesn't match", 500),
        ("mergingList: [{name: 1}]", "mergingList: [{name: 1, $patch: merge}]", ERR_MERGING_LISTS_DIRECTIVE, 500),
        ("mergingList: [{name: 1}]", "mergingList: [{name: 1, $patch: explode}]",
         "unknown patch type: explode in map: map[$patch:explode name:1]", 500),
        ("simpleMap: {a: b}", "simpleMap: {$patch: explode}",
         "unknown patch type: explode in map: map[$patch:explode]", 500),
        ("mergingList: [{name: 1}]", "mergingList: [{$patch: delete}]",
         "map: map[$patch:delete] does not contain declared merge key: name", 500),
        ("retainKeysMap: {name: a}", "retainKeysMap: {$retainKeys: [name], value: x}",
         ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS, 400),
        ("retainKeysMap: {name: a}", "retainKeysMap: {$retainKeys: name}", ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS, 400),
        ("mergingIntList: [1]", "{$deleteFromPrimitiveList: [1]}", ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST, 400),
        ("mergingIntList: [[1]]", "mergingIntList: [[2]]", ERR_NO_LIST_OF_LISTS, 422),
        ("mergingIntList: [1]", "mergingIntList: [a]", "list element types are not identical", 500),
    ],
)
def test_errors(original: str, patch: str, message: str, code: int) -> None:
    with pytest.raises(StrategicMergeError) as exc:
        strategic_merge(y(original), y(patch), MERGE_ITEM)
    assert message in exc.value.message
    assert exc.value.code == code
    status = exc.value.to_api_error().status()
    assert status["code"] == code
    if code == 422:
        assert status["reason"] == "Invalid"
        assert status["details"]["causes"][0]["message"] == exc.value.message
    else:
        assert status["message"] == exc.value.message


# ---------------------------------------------------------------------------------------------
# what kubectl's client-side three-way apply sends

LIVE: dict[str, Any] = y("""
metadata:
  name: web
  labels: {app: web}
  finalizers: [example.com/a, example.com/b]
spec:
  replicas: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      nodeSelector: {zone: b, disk: ssd}
      tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]
      volumes:
      - {name: data, emptyDir: {}}
      - {name: logs, emptyDir: {}}
      containers:
      - name: a
        image: nginx
        env: [{name: X, value: "1"}, {name: Y, value: "2"}]
        ports: [{containerPort: 80}]
      - name: b
        image: sidecar
""")

KUBECTL_CASES: list[tuple[str, str, Any]] = [
    ("remove a container",
     '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],'
     '"containers":[{"$patch":"delete","name":"b"}]}}}}',
     lambda o: [c["name"] for c in o["spec"]["template"]["spec"]["containers"]] == ["a"]),
    ("env merge by name (change, add, delete)",
     '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],'
     '"containers":[{"$setElementOrder/env":[{"name":"X"},{"name":"Z"}],"env":[{"name":"X","value":"9"},'
     '{"name":"Z","value":"3"},{"$patch":"delete","name":"Y"}],"name":"a"}]}}}}',
     lambda o: o["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "X", "value": "9"},
                                                                          {"name": "Z", "value": "3"}]),
    ("volume source emptyDir -> configMap with $retainKeys",
     '{"spec":{"template":{"spec":{"$setElementOrder/volumes":[{"name":"data"},{"name":"logs"}],'
     '"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"cm"},"emptyDir":null,'
     '"name":"data"}]}}}}',
     lambda o: o["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "configMap": {"name": "cm"}},
                                                             {"name": "logs", "emptyDir": {}}]),
    ("tolerations (atomic) replaced",
     '{"spec":{"template":{"spec":{"tolerations":[{"key":"c","operator":"Exists"}]}}}}',
     lambda o: o["spec"]["template"]["spec"]["tolerations"] == [{"key": "c", "operator": "Exists"}]),
    ("finalizers $deleteFromPrimitiveList",
     '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/a"],'
     '"$setElementOrder/finalizers":["example.com/b"]}}',
     lambda o: o["metadata"]["finalizers"] == ["example.com/b"]),
    ("finalizers add as a set",
     '{"metadata":{"finalizers":["example.com/c","example.com/a"]}}',
     # upstream order: patch items the live list lacks go before the server-only ones
     lambda o: o["metadata"]["finalizers"] == ["example.com/c", "example.com/a", "example.com/b"]),
    ("$patch: replace on a map",
     '{"spec":{"template":{"spec":{"nodeSelector":{"$patch":"replace","zone":"d"}}}}}',
     lambda o: o["spec"]["template"]["spec"]["nodeSelector"] == {"zone": "d"}),
    ("strategy switch to Recreate with $retainKeys",
     '{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}}',
     lambda o: o["spec"]["strategy"] == {"type": "Recreate"}),
    ("label removed and replicas changed",
     '{"metadata":{"labels":{"app":null,"tier":"fe"}},"spec":{"replicas":5}}',
     lambda o: o["metadata"]["labels"] == {"tier": "fe"} and o["spec"]["replicas"] == 5),
    ("set image (kubectl set image)",
     '{"spec":{"template":{"spec":{"containers":[{"image":"nginx:2","name":"a"}]}}}}',
     lambda o: [(c["name"], c["image"]) for c in o["spec"]["template"]["spec"]["containers"]]
     == [("a", "nginx:2"), ("b", "sidecar")]),
    ("rollout restart annotation",
     '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"now"}}}}}',
     lambda o: o["spec"]["template"]["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "now"}),
    ("container args list replaced, ports merge by containerPort",
     '{"spec":{"template":{"spec":{"containers":[{"name":"a","args":["x"],'
     '"ports":[{"containerPort":443}]}]}}}}',
     lambda o: o["spec"]["template"]["spec"]["containers"][0]["args"] == ["x"]
     and o["spec"]["template"]["spec"]["containers"][0]["ports"] == [{"containerPort": 443},
                                                                     {"containerPort": 80}]),
]


def _real_deployment_schema() -> SchemaNode | None:
    try:
        from minikube_lite.apiserver.schema.upstream import SchemaSet
    except ImportError:
        return None
    return SchemaSet.load().node("apps/v1", "Deployment")


@pytest.mark.parametrize("which", ["hand-written", "SchemaSet"])
@pytest.mark.parametrize(("description", "patch", "check"), KUBECTL_CASES, ids=[c[0] for c in KUBECTL_CASES])
def test_kubectl_apply_patches(which: str, description: str, patch: str, check: Any) -> None:
    import json

    schema = DEPLOYMENT if which == "hand-written" else _real_deployment_schema()
    if schema is None:
        pytest.skip("minikube_lite.apiserver.schema.upstream not available")
    live = copy.deepcopy(LIVE)
    out = strategic_merge(live, json.loads(patch), schema)
    assert check(out), out
    assert live == LIVE


def test_service_ports_merge_by_port_with_real_schema() -> None:
    from minikube_lite.apiserver.schema.upstream import SchemaSet

    svc = SchemaSet.load().node("v1", "Service")
    live = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]}}
    patch = {"spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 443}],
                      "ports": [{"port": 80, "targetPort": "http"}]}}
    assert strategic_merge(live, patch, svc)["spec"]["ports"] == [
        {"port": 80, "targetPort": "http"}, {"port": 443, "targetPort": 8443}]


def test_without_schema_behaves_as_merge_patch_and_strips_directives() -> None:
    live = {"a": {"b": 1, "c": 2}, "l": [{"name": "x"}, {"name": "y"}], "s": 1}
    patch = {"a": {"c": None, "d": 3}, "l": [{"name": "z", "$patch": "delete"}, {"name": "w"}],
             "$setElementOrder/l": [{"name": "w"}], "s": None, "$retainKeys": ["a", "l", "s"]}
    assert strategic_merge(live, patch, None) == {"a": {"b": 1, "d": 3}, "l": [{"name": "w"}]}


def test_top_level_patch_directives() -> None:
    assert strategic_merge({"a": 1}, {"$patch": "delete"}, None) == {}
    assert strategic_merge({"a": 1}, {"$patch": "replace", "b": 2}, None) == {"b": 2}


@pytest.mark.parametrize(("value", "text"), [
    ({"b": 1, "a": "x"}, "map[a:x b:1]"), ([1, "a", None, True], "[1 a <nil> true]"),
    (1.5, "1.5"), (2.0, "2"), (1e-7, "1e-07"), ({"m": {"k": []}}, "map[m:map[k:[]]]"),
])
def test_go_value(value: Any, text: str) -> None:
    assert go_value(value) == text
