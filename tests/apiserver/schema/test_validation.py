"""Built-in validation: each rule, with the exact upstream path and message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikube_lite.apiserver.errors import invalid
from minikube_lite.apiserver.registry import Registry, builtin_types
from minikube_lite.apiserver.schema.validation import names as n
from minikube_lite.apiserver.schema.validation import validate_create, validate_update

REG = Registry(builtin_types())

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
QNAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
ACCESS_MODES = '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'


def create(resource: str, obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_create(REG.resolve(resource), obj)]


def update(resource: str, obj: dict[str, Any], old: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_update(REG.resolve(resource), obj, old)]


def ns_meta(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", **extra}


# --- name rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fn", "value", "msgs"), [
    (n.is_dns1123_subdomain, "example.com", []),
    (n.is_dns1123_subdomain, "Foo", [SUBDOMAIN_MSG]),
    (n.is_dns1123_subdomain, "a" * 254, ["must be no more than 253 characters"]),
    (n.is_dns1123_subdomain, "bad\n", [SUBDOMAIN_MSG]),
    (n.is_dns1123_label, "my-name", []),
    (n.is_dns1123_label, "a.b", ["must not contain dots"]),
    (n.is_dns1123_label, "-a", [LABEL_MSG]),
    (n.is_dns1123_label, "a" * 64, ["must be no more than 63 characters"]),
    (n.is_dns1035_label, "1abc", [DNS1035_MSG]),
    (n.is_qualified_name, "example.com/MyName", []),
    (n.is_qualified_name, "bad key", [QNAME_MSG]),
    (n.is_qualified_name, "/x", ["prefix part must be non-empty"]),
    (n.is_qualified_name, "Ex.com/x", ["prefix part " + SUBDOMAIN_MSG]),
    (n.is_qualified_name, "x/", ["name part must be non-empty", QNAME_MSG]),
    (n.is_qualified_name, "a/b/c", ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                                    "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',"
                                    "  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
                                    "[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
                                    "'example.com/MyName')"]),
    (n.is_valid_label_value, "", []),
    (n.is_valid_label_value, "-x", [LABEL_VALUE_MSG]),
    (n.is_config_map_key, "KEY_name.1", []),
    (n.is_config_map_key, "a b", [CONFIG_KEY_MSG]),
    (n.is_config_map_key, "..", ["must not be '..'"]),
    (n.is_config_map_key, "..a", ["must not start with '..'"]),
])
def test_name_rules(fn: Any, value: str, msgs: list[str]) -> None:
    assert fn(value) == msgs


@pytest.mark.parametrize(("resource", "obj", "errors"), [
    ("cm", {"metadata": ns_meta("Foo")}, [f'metadata.name: Invalid value: "Foo": {SUBDOMAIN_MSG}']),
    ("cm", {"metadata": {"namespace": "default"}}, ["metadata.name: Required value: name or generateName is required"]),
    ("cm", {"metadata": {"name": "x"}}, ["metadata.namespace: Required value"]),
    ("ns", {"metadata": {"name": "a.b"}}, ['metadata.name: Invalid value: "a.b": must not contain dots']),
    ("svc", {"metadata": ns_meta("1svc"), "spec": {"ports": [{"port": 80}]}},
     [f'metadata.name: Invalid value: "1svc": {DNS1035_MSG}']),
    ("cm", {"metadata": ns_meta("ok", generateName="Web-")},
     [f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_MSG}']),
    ("cm", {"metadata": ns_meta("web-abcde", generateName="web-")}, []),
    ("sc", {"metadata": {"name": "s", "namespace": "default"}, "provisioner": "p"},
     ["metadata.namespace: Forbidden: not allowed on this type"]),
    ("cm", {"metadata": ns_meta(labels={"bad key": "v", "ok": "-x"})},
     [f'metadata.labels: Invalid value: "bad key": {QNAME_MSG}',
      f'metadata.labels: Invalid value: "-x": {LABEL_VALUE_MSG}']),
    ("cm", {"metadata": ns_meta(annotations={"a": "x" * (256 * 1024)})},
     ["metadata.annotations: Too long: may not be more than 262144 bytes"]),
    ("cm", {"metadata": ns_meta(annotations={"Example.COM/Key": "v"})}, []),
    ("cm", {"metadata": ns_meta(finalizers=["bad finalizer"])},
     [f'metadata.finalizers: Invalid value: "bad finalizer": {QNAME_MSG}']),
    ("cm", {"metadata": ns_meta(ownerReferences=[{"apiVersion": "v1", "kind": "Pod", "name": "p"}])},
     ['metadata.ownerReferences.uid: Invalid value: "": uid must not be empty']),
])
def test_object_meta(resource: str, obj: dict[str, Any], errors: list[str]) -> None:
    assert create(resource, obj) == errors


def test_invalid_status_message() -> None:
    errs = validate_create(REG.resolve("pvc"), {"metadata": ns_meta("Foo"), "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
    err = invalid("PersistentVolumeClaim", "", "PersistentVolumeClaim", "Foo", errs)
    assert err.code == 422
    assert err.message == f'PersistentVolumeClaim "Foo" is invalid: metadata.name: Invalid value: "Foo": {SUBDOMAIN_MSG}'


# --- PVC -----------------------------------------------------------------------------------------

def pvc(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": ns_meta("data"), "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


GOOD_PVC_SPEC = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                 "volumeMode": "Filesystem"}


@pytest.mark.parametrize(("spec", "errors"), [
    (GOOD_PVC_SPEC, []),
    ({}, ["spec.accessModes: Required value: at least 1 access mode is required",
          "spec.resources[storage]: Required value"]),
    ({**GOOD_PVC_SPEC, "accessModes": ["ReadWriteOnce", "Sometimes"]},
     [f'spec.accessModes: Unsupported value: "Sometimes": supported values: {ACCESS_MODES}']),
    ({**GOOD_PVC_SPEC, "accessModes": ["ReadWriteOncePod", "ReadWriteOnce"]},
     ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"]),
    ({**GOOD_PVC_SPEC, "resources": {"requests": {"storage": "0"}}},
     ['spec.resources[storage]: Invalid value: "0": must be greater than zero']),
    ({**GOOD_PVC_SPEC, "resources": {"requests": {"storage": "-1Gi"}}},
     ['spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero']),
    ({**GOOD_PVC_SPEC, "volumeMode": "Raw"},
     ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"']),
    ({**GOOD_PVC_SPEC, "storageClassName": "Fast"},
     [f'spec.storageClassName: Invalid value: "Fast": {SUBDOMAIN_MSG}']),
    ({**GOOD_PVC_SPEC, "dataSource": {"kind": "VolumeSnapshot", "name": "s"}},
     ["spec.dataSource: Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' when referencing the "
      "default apiGroup"]),
    ({**GOOD_PVC_SPEC, "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot"}},
     ["spec.dataSource.name: Required value"]),
    ({**GOOD_PVC_SPEC, "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "a"},
      "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "b"}},
     ["spec: Invalid value: spec.dataSource: must match dataSourceRef"]),
    ({**GOOD_PVC_SPEC, "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "a"},
      "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "a"}}, []),
    ({**GOOD_PVC_SPEC, "dataSource": {"kind": "PersistentVolumeClaim", "name": "src"}}, []),
    ({**GOOD_PVC_SPEC, "dataSourceRef": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                         "name": "a", "namespace": "Other"}},
     ['spec.dataSourceRef.namespace: Invalid value: "Other": ' + LABEL_MSG]),
    ({**GOOD_PVC_SPEC, "selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
     ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or "
      "'NotIn'"]),
])
def test_pvc_create(spec: dict[str, Any], errors: list[str]) -> None:
    assert create("pvc", pvc(spec)) == errors


BOUND = pvc({**GOOD_PVC_SPEC, "resources": {"requests": {"storage": "2Gi"}}, "volumeName": "pv1",
             "storageClassName": "fast"},
            {"phase": "Bound", "capacity": {"storage": "2Gi"}})
IMMUTABLE_PREFIX = ("spec: Forbidden: spec is immutable after creation except resources.requests and "
                    "volumeAttributesClassName for bound claims\n")


def changed(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    obj = copy.deepcopy(base)
    cur = obj
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return obj


@pytest.mark.parametrize(("new", "old", "errors"), [
    (changed(BOUND, ("spec", "resources", "requests", "storage"), "5Gi"), BOUND, []),
    (changed(BOUND, ("spec", "resources", "requests", "storage"), "2048Mi"), BOUND, []),
    (changed(BOUND, ("spec", "resources", "requests", "storage"), "1Gi"), BOUND,
     ["spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"]),
    (changed(BOUND, ("spec", "volumeAttributesClassName"), "gold"), BOUND, []),
    (changed(BOUND, ("metadata", "labels"), {"a": "b"}), BOUND, []),
    # the binder sets volumeName once
    (BOUND, changed(BOUND, ("spec", "volumeName"), ""), []),
])
def test_pvc_update_allowed_or_resize(new: dict[str, Any], old: dict[str, Any], errors: list[str]) -> None:
    assert update("pvc", new, old) == errors


@pytest.mark.parametrize(("new", "old"), [
    (changed(BOUND, ("spec", "accessModes"), ["ReadWriteMany"]), BOUND),
    (changed(BOUND, ("spec", "storageClassName"), "slow"), BOUND),
    (changed(BOUND, ("spec", "volumeName"), "pv2"), BOUND),
    (changed(changed(BOUND, ("status", "phase"), "Pending"), ("spec", "resources", "requests", "storage"), "5Gi"),
     changed(BOUND, ("status", "phase"), "Pending")),
])
def test_pvc_update_immutable(new: dict[str, Any], old: dict[str, Any]) -> None:
    errors = update("pvc", new, old)
    assert len(errors) == 1 and errors[0].startswith(IMMUTABLE_PREFIX)


# --- PV ------------------------------------------------------------------------------------------

GOOD_PV = {"metadata": {"name": "pv1"}, "spec": {
    "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
    "csi": {"driver": "disk.csi.example.com", "volumeHandle": "d-1"}}}


def pv(**spec: Any) -> dict[str, Any]:
    obj = copy.deepcopy(GOOD_PV)
    for k, v in spec.items():
        if v is None:
            obj["spec"].pop(k, None)
        else:
            obj["spec"][k] = v
    return obj


AFFINITY = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
    {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node1"]}]}]}}


@pytest.mark.parametrize(("obj", "errors"), [
    (GOOD_PV, []),
    ({"metadata": {"name": "pv1"}, "spec": {}}, ["spec.accessModes: Required value", "spec.capacity: Required value",
                                                 "spec: Required value: must specify a volume type"]),
    (pv(accessModes=["Bogus"]), [f'spec.accessModes: Unsupported value: "Bogus": supported values: {ACCESS_MODES}']),
    (pv(capacity={"storage": "0"}), ['spec.capacity[storage]: Invalid value: "0": must be greater than zero']),
    (pv(capacity={"cpu": "1"}), ['spec.capacity: Unsupported value: core.ResourceList{"cpu":"1"}: supported values: '
                                 '"storage"']),
    (pv(persistentVolumeReclaimPolicy="Keep"),
     ['spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", '
      '"Retain"']),
    (pv(hostPath={"path": "/data"}), ["spec.csi: Forbidden: may not specify more than 1 volume type"]),
    (pv(csi={"driver": "d"}), ["spec.csi.volumeHandle: Required value"]),
    (pv(csi=None, local={"path": "/mnt/disk"}), ["spec.nodeAffinity: Required value: Local volume requires node "
                                                 "affinity"]),
    (pv(csi=None, local={"path": "/mnt/disk"}, nodeAffinity=AFFINITY), []),
    (pv(nodeAffinity={}), ["spec.nodeAffinity.required: Required value: must specify required node constraints"]),
    (pv(nodeAffinity={"required": {"nodeSelectorTerms": []}}),
     ["spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term"]),
    (pv(nodeAffinity={"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "zone", "operator": "Near", "values": ["a"]}]}]}}),
     ['spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: "Near": not a '
      'valid selector operator']),
    (pv(volumeMode="Raw"), ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"']),
])
def test_pv_create(obj: dict[str, Any], errors: list[str]) -> None:
    assert create("pv", obj) == errors


def test_pv_update() -> None:
    bound = pv(claimRef={"namespace": "default", "name": "data"})
    assert update("pv", bound, GOOD_PV) == []
    moved = pv(csi={"driver": "disk.csi.example.com", "volumeHandle": "d-2"})
    errors = update("pv", moved, GOOD_PV)
    assert len(errors) == 1
    assert errors[0].startswith("spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable "
                                "after creation\n")


# --- StorageClass (storage.md §0.4) ----------------------------------------------------------------

SC = {"metadata": {"name": "fast"}, "provisioner": "disk.csi.example.com", "parameters": {"type": "ssd"},
      "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate", "allowVolumeExpansion": False}


@pytest.mark.parametrize(("changes", "errors"), [
    ({"parameters": {"type": "hdd"}}, ["parameters: Forbidden: updates to parameters are forbidden."]),
    ({"provisioner": "other.example.com"}, ["provisioner: Forbidden: updates to provisioner are forbidden."]),
    ({"reclaimPolicy": "Retain"}, ["reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."]),
    ({"volumeBindingMode": "WaitForFirstConsumer"},
     ['volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable']),
    ({"allowVolumeExpansion": True, "mountOptions": ["ro"], "allowedTopologies": [{"matchLabelExpressions": [
        {"key": "topology.kubernetes.io/zone", "values": ["cn-hangzhou-b"]}]}]}, []),
    ({"metadata": {"name": "fast", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}, []),
])
def test_storageclass_update(changes: dict[str, Any], errors: list[str]) -> None:
    assert update("sc", {**SC, **changes}, SC) == errors


@pytest.mark.parametrize(("obj", "errors"), [
    (SC, []),
    ({"metadata": {"name": "s"}}, ["provisioner: Required value"]),
    ({**SC, "provisioner": "bad provisioner"}, [f'provisioner: Invalid value: "bad provisioner": {QNAME_MSG}']),
    ({**SC, "reclaimPolicy": "Recycle"},
     ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']),
    ({**SC, "volumeBindingMode": "Later"},
     ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']),
    ({**SC, "allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": []}]}]},
     ["allowedTopologies[0].matchLabelExpressions[0].values: Required value"]),
])
def test_storageclass_create(obj: dict[str, Any], errors: list[str]) -> None:
    assert create("sc", obj) == errors


# --- Pod -----------------------------------------------------------------------------------------

def pod(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": ns_meta("web"), "spec": spec}


C = {"name": "app", "image": "nginx"}


@pytest.mark.parametrize(("spec", "errors"), [
    ({"containers": [C]}, []),
    ({"containers": []}, ["spec.containers: Required value"]),
    ({}, ["spec.containers: Required value"]),
    ({"containers": [{"image": "nginx"}]}, ["spec.containers[0].name: Required value"]),
    ({"containers": [{"name": "App", "image": "nginx"}]}, [f'spec.containers[0].name: Invalid value: "App": {LABEL_MSG}']),
    ({"containers": [{"name": "app"}]}, ["spec.containers[0].image: Required value"]),
    ({"containers": [C, C]}, ['spec.containers[1].name: Duplicate value: "app"']),
    ({"initContainers": [C], "containers": [C]}, ['spec.containers[0].name: Duplicate value: "app"']),
    ({"containers": [C], "restartPolicy": "Sometimes"},
     ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']),
    ({"containers": [{**C, "volumeMounts": [{"name": "data", "mountPath": "/d"}]}]},
     ['spec.containers[0].volumeMounts[0].name: Not found: "data"']),
    ({"containers": [{**C, "volumeMounts": [{"name": "data"}]}],
      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]},
     ["spec.containers[0].volumeMounts[0].mountPath: Required value"]),
    ({"containers": [C], "volumes": [{"name": "d", "emptyDir": {}}, {"name": "d", "emptyDir": {}}]},
     ['spec.volumes[1].name: Duplicate value: "d"']),
    ({"containers": [C], "volumes": [{"name": "d", "persistentVolumeClaim": {}}]},
     ["spec.volumes[0].persistentVolumeClaim.claimName: Required value"]),
    ({"containers": [{**C, "ports": [{"containerPort": 70000}]}]},
     ["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]),
    ({"containers": [{**C, "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}]},
     ['spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1']),
    ({"containers": [{**C, "resources": {"requests": {"memory": "-1Mi"}}}]},
     ['spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0']),
    ({"initContainers": [{"name": "side", "image": "envoy", "restartPolicy": "Always"}], "containers": [C]}, []),
    ({"initContainers": [{"name": "side", "image": "envoy", "restartPolicy": "Never"}],
      "containers": [{**C, "restartPolicy": "Always"}]},
     ['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
      "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"]),
    ({"containers": [C], "tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
     ['spec.tolerations[0].operator: Invalid value: "v": value must be empty when `operator` is \'Exists\'']),
    ({"containers": [C], "tolerations": [{"key": "k", "operator": "Equal", "effect": "Never"}]},
     ['spec.tolerations[0].effect: Unsupported value: "Never": supported values: "NoSchedule", "PreferNoSchedule", '
      '"NoExecute"']),
])
def test_pod_create(spec: dict[str, Any], errors: list[str]) -> None:
    assert create("pods", pod(spec)) == errors


POD = pod({"containers": [C], "tolerations": [{"key": "a", "operator": "Exists"}], "restartPolicy": "Always"})


@pytest.mark.parametrize(("new", "ok"), [
    (changed(POD, ("spec", "containers"), [{**C, "image": "nginx:2"}]), True),
    (changed(POD, ("spec", "nodeName"), "node1"), True),
    (changed(POD, ("spec", "activeDeadlineSeconds"), 30), True),
    (changed(POD, ("spec", "tolerations"), [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]),
     True),
    (changed(POD, ("spec", "tolerations"), []), False),
    (changed(POD, ("spec", "containers"), [{**C, "ports": [{"containerPort": 80}]}]), False),
    (changed(POD, ("spec", "restartPolicy"), "Never"), False),
])
def test_pod_update(new: dict[str, Any], ok: bool) -> None:
    errors = update("pods", new, POD)
    if ok:
        assert errors == []
    else:
        assert len(errors) == 1
        assert errors[0].startswith(
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
            "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
            "previously negative)\n")


def test_pod_node_name_cannot_move() -> None:
    bound = changed(POD, ("spec", "nodeName"), "node1")
    assert len(update("pods", changed(bound, ("spec", "nodeName"), "node2"), bound)) == 1


# --- Node, Namespace, ConfigMap, Secret, Service, Event ------------------------------------------------

@pytest.mark.parametrize(("resource", "obj", "errors"), [
    ("nodes", {"metadata": {"name": "node1"}, "spec": {"taints": [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}, []),
    ("nodes", {"metadata": {"name": "node1"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}},
     ['spec.taints[0].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", '
      '"NoExecute"']),
    ("nodes", {"metadata": {"name": "node1"}, "spec": {"taints": [{"key": "k"}]}},
     ["spec.taints[0].effect: Required value"]),
    ("ns", {"metadata": {"name": "team-a"}, "spec": {"finalizers": ["kubernetes"]}}, []),
    ("cm", {"metadata": ns_meta("c"), "data": {"a b": "1", "ok": "2"}},
     [f'data[a b]: Invalid value: "a b": {CONFIG_KEY_MSG}']),
    ("cm", {"metadata": ns_meta("c"), "data": {"k": "1"}, "binaryData": {"k": "AA=="}},
     ['data[k]: Invalid value: "k": duplicate of key present in binaryData',
      'binaryData[k]: Invalid value: "k": duplicate of key present in data']),
    ("cm", {"metadata": ns_meta("c"), "data": {"k": "x" * (1024 * 1024 + 1)}},
     [": Too long: may not be more than 1048576 bytes"]),
    ("secrets", {"metadata": ns_meta("s"), "type": "kubernetes.io/tls", "data": {"tls.crt": "QQ=="}},
     ["data[tls.key]: Required value"]),
    ("secrets", {"metadata": ns_meta("s"), "type": "kubernetes.io/service-account-token"},
     ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]),
    ("secrets", {"metadata": ns_meta("s"), "type": "Opaque", "stringData": {"../x": "1"}},
     [f'data[../x]: Invalid value: "../x": {CONFIG_KEY_MSG}', "data[../x]: Invalid value: \"../x\": must not start "
                                                              "with '..'"]),
    ("svc", {"metadata": ns_meta("web"), "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}, []),
    ("svc", {"metadata": ns_meta("web"), "spec": {"type": "Cluster", "ports": [{"port": 0}]}},
     ['spec.type: Unsupported value: "Cluster": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
      '"NodePort"', "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]),
    ("svc", {"metadata": ns_meta("web"), "spec": {"ports": [{"port": 80}, {"port": 81}]}},
     ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]),
    ("events", {"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"namespace": "other"}},
     ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']),
    ("events", {"metadata": {"name": "e", "namespace": "default"}, "involvedObject": {"kind": "Node"}}, []),
    ("events", {"metadata": {"name": "e", "namespace": "team"}, "involvedObject": {"kind": "Node"}},
     ['involvedObject.namespace: Invalid value: "": does not match event.namespace']),
    ("events", {"metadata": {"name": "e", "namespace": "default"}, "eventTime": "2025-06-02T10:00:00.000000Z",
                "involvedObject": {"namespace": "default"}, "reason": "R"},
     ["reportingComponent: Required value", 'reportingComponent: Invalid value: "": name part must be non-empty',
      f'reportingComponent: Invalid value: "": {QNAME_MSG}', "reportingInstance: Required value",
      "action: Required value"]),
    ("events", {"metadata": {"name": "e", "namespace": "default"}, "eventTime": "2025-06-02T10:00:00.000000Z",
                "involvedObject": {"namespace": "default"}, "reason": "R", "reportingComponent": "kubelet",
                "reportingInstance": "node1", "action": "Pull"}, []),
    ("events.events.k8s.io", {"metadata": ns_meta("e"), "regarding": {"namespace": "default"}, "type": "Normal",
                              "eventTime": "2025-06-02T10:00:00.000000Z", "reportingController": "kubelet",
                              "reportingInstance": "node1", "action": "Pull", "reason": "Pulled"}, []),
    ("events.events.k8s.io", {"metadata": ns_meta("e"), "regarding": {"namespace": "default"}, "type": "Bad",
                              "eventTime": "2025-06-02T10:00:00.000000Z", "reportingController": "kubelet",
                              "reportingInstance": "node1", "action": "Pull", "reason": "Pulled",
                              "deprecatedCount": 2},
     ['type: Invalid value: "": has invalid value: Bad', 'count: Invalid value: "": needs to be unset']),
])
def test_other_core_types(resource: str, obj: dict[str, Any], errors: list[str]) -> None:
    assert create(resource, obj) == errors


def test_immutable_configmap_and_secret_type() -> None:
    old = {"metadata": ns_meta("c"), "data": {"a": "1"}, "immutable": True}
    assert update("cm", {**old, "data": {"a": "2"}}, old) == [
        "data: Forbidden: field is immutable when `immutable` is set"]
    assert update("cm", {**old, "metadata": ns_meta("c", labels={"x": "y"})}, old) == []
    sec = {"metadata": ns_meta("s"), "type": "Opaque", "data": {}}
    assert update("secrets", {**sec, "type": "kubernetes.io/basic-auth", "data": {"username": "YQ=="}}, sec) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable']


def test_identity_is_immutable_on_update() -> None:
    old = {"metadata": {**ns_meta("c"), "uid": "u1"}, "data": {}}
    assert update("cm", {"metadata": {**ns_meta("c"), "uid": "u2"}, "data": {}}, old) == [
        'metadata.uid: Invalid value: "u2": field is immutable']


# --- workloads, storage API objects ----------------------------------------------------------------

TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [C]}}
DEPLOY = {"metadata": ns_meta("web"), "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                               "template": TEMPLATE}}


@pytest.mark.parametrize(("obj", "errors"), [
    (DEPLOY, []),
    (changed(DEPLOY, ("spec", "selector"), {"matchLabels": {"app": "db"}}),
     ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match '
      'template `labels`']),
    (changed(DEPLOY, ("spec", "replicas"), -1), ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]),
    ({"metadata": ns_meta("web"), "spec": {"template": TEMPLATE}}, ["spec.selector: Required value"]),
    (changed(DEPLOY, ("spec", "template", "spec", "restartPolicy"), "Never"),
     ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']),
    (changed(DEPLOY, ("spec", "template", "spec", "containers"), []), ["spec.template.spec.containers: Required value"]),
])
def test_deployment_create(obj: dict[str, Any], errors: list[str]) -> None:
    assert create("deploy", obj) == errors


def test_workload_selector_immutable_and_sts_spec() -> None:
    new = changed(changed(DEPLOY, ("spec", "selector"), {"matchLabels": {"app": "web2"}}),
                  ("spec", "template", "metadata", "labels"), {"app": "web2"})
    assert update("deploy", new, DEPLOY) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, '
        'MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable']
    sts = {"metadata": ns_meta("db"), "spec": {**DEPLOY["spec"], "serviceName": "db", "volumeClaimTemplates": [
        {"metadata": {"name": "data"}, "spec": GOOD_PVC_SPEC}]}}
    assert create("sts", sts) == []
    assert update("sts", changed(sts, ("spec", "replicas"), 5), sts) == []
    errors = update("sts", changed(sts, ("spec", "serviceName"), "other"), sts)
    assert errors == ["spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                      "'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' "
                      "and 'minReadySeconds' are forbidden"]
    bad_claim = changed(sts, ("spec", "volumeClaimTemplates"), [{"metadata": {"name": "d"}, "spec": {}}])
    assert create("sts", bad_claim) == [
        "spec.volumeClaimTemplates[0].spec.accessModes: Required value: at least 1 access mode is required",
        "spec.volumeClaimTemplates[0].spec.resources[storage]: Required value"]


@pytest.mark.parametrize(("resource", "obj", "errors"), [
    ("volumeattachments", {"metadata": {"name": "csi-1"}, "spec": {"attacher": "disk.csi", "nodeName": "node1",
                                                                    "source": {"persistentVolumeName": "pv1"}}}, []),
    ("volumeattachments", {"metadata": {"name": "csi-1"}, "spec": {"attacher": "disk.csi", "source": {}}},
     ["spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
      "spec.nodeName: Required value"]),
    ("csidrivers", {"metadata": {"name": "disk.csi"}, "spec": {"volumeLifecycleModes": ["Persistent", "Forever"]}},
     ['spec.volumeLifecycleModes[1]: Unsupported value: "Forever": supported values: "Ephemeral", "Persistent"']),
    ("csinodes", {"metadata": {"name": "node1"}, "spec": {"drivers": [{"name": "disk.csi"}]}},
     ["spec.drivers[0].nodeID: Required value"]),
    ("csistoragecapacities", {"metadata": ns_meta("c"), "capacity": "-1Gi"},
     ["storageClassName: Required value", 'capacity: Invalid value: "-1Gi": must be greater than or equal to 0']),
    ("leases", {"metadata": ns_meta("l"), "spec": {"leaseDurationSeconds": 0}},
     ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]),
    ("crd", {"metadata": {"name": "snapshots.example.com"}, "spec": {"group": "example.com",
                                                                      "names": {"plural": "volumesnapshots"}}},
     ['metadata.name: Invalid value: "snapshots.example.com": must be spec.names.plural+"."+spec.group']),
])
def test_storage_api_objects(resource: str, obj: dict[str, Any], errors: list[str]) -> None:
    assert create(resource, obj) == errors


def test_volumeattachment_spec_immutable() -> None:
    va = {"metadata": {"name": "csi-1"}, "spec": {"attacher": "disk.csi", "nodeName": "node1",
                                                  "source": {"persistentVolumeName": "pv1"}}}
    assert update("volumeattachments", {**va, "status": {"attached": True}}, va) == []
    errors = update("volumeattachments", changed(va, ("spec", "nodeName"), "node2"), va)
    assert len(errors) == 1 and errors[0].endswith(": field is immutable")


@pytest.mark.parametrize("junk", [
    {"metadata": None, "spec": "x"},
    {"metadata": {"name": 5, "labels": ["a"]}, "spec": {"containers": "no", "volumes": [None, 3]}},
    {},
])
def test_garbage_never_raises(junk: dict[str, Any]) -> None:
    for t in builtin_types():
        validate_create(t, junk)
        validate_update(t, junk, junk)
