"""Server-side Tables: the upstream columns and the exact cells kubectl prints."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.apiserver.registry import Registry, ResourceType, builtin_types
from minikube_lite.apiserver.wire.tables import build_table, row_cells, table_columns
from minikube_lite.apiserver.wire.tables.custom import jsonpath_matches
from minikube_lite.clock import parse_time

REG = Registry(builtin_types())
NOW = parse_time("2025-06-02T10:00:00Z") or 0.0
T5M = "2025-06-02T09:55:00Z"
T2M14 = "2025-06-02T09:57:46Z"


def rt(name: str) -> ResourceType:
    return REG.resolve(name)


def meta(name: str = "x", ts: str = T5M, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": ts, **extra}


def names(resource: str) -> list[tuple[str, int]]:
    return [(c["name"], c["priority"]) for c in table_columns(rt(resource))]


# --- column sets -------------------------------------------------------------------------------

COLUMNS = {
    "pods": [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0), ("IP", 1), ("Node", 1),
             ("Nominated Node", 1), ("Readiness Gates", 1)],
    "nodes": [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0), ("Internal-IP", 1),
              ("External-IP", 1), ("OS-Image", 1), ("Kernel-Version", 1), ("Container-Runtime", 1)],
    "pv": [("Name", 0), ("Capacity", 0), ("Access Modes", 0), ("Reclaim Policy", 0), ("Status", 0), ("Claim", 0),
           ("StorageClass", 0), ("VolumeAttributesClass", 0), ("Reason", 0), ("Age", 0), ("VolumeMode", 1)],
    "pvc": [("Name", 0), ("Status", 0), ("Volume", 0), ("Capacity", 0), ("Access Modes", 0), ("StorageClass", 0),
            ("VolumeAttributesClass", 0), ("Age", 0), ("VolumeMode", 1)],
    "sc": [("Name", 0), ("Provisioner", 0), ("ReclaimPolicy", 0), ("VolumeBindingMode", 0),
           ("AllowVolumeExpansion", 0), ("Age", 0)],
    "events": [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1), ("Source", 1),
               ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)],
    "events.events.k8s.io": [("Last Seen", 0), ("Type", 0), ("Reason", 0), ("Object", 0), ("Subobject", 1),
                             ("Source", 1), ("Message", 0), ("First Seen", 1), ("Count", 1), ("Name", 1)],
    "ns": [("Name", 0), ("Status", 0), ("Age", 0)],
    "cm": [("Name", 0), ("Data", 0), ("Age", 0)],
    "secrets": [("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)],
    "svc": [("Name", 0), ("Type", 0), ("Cluster-IP", 0), ("External-IP", 0), ("Port(s)", 0), ("Age", 0),
            ("Selector", 1)],
    "sa": [("Name", 0), ("Age", 0)],
    "ep": [("Name", 0), ("Endpoints", 0), ("Age", 0)],
    "deploy": [("Name", 0), ("Ready", 0), ("Up-to-date", 0), ("Available", 0), ("Age", 0), ("Containers", 1),
               ("Images", 1), ("Selector", 1)],
    "rs": [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Age", 0), ("Containers", 1),
           ("Images", 1), ("Selector", 1)],
    "sts": [("Name", 0), ("Ready", 0), ("Age", 0), ("Containers", 1), ("Images", 1)],
    "ds": [("Name", 0), ("Desired", 0), ("Current", 0), ("Ready", 0), ("Up-to-date", 0), ("Available", 0),
           ("Node Selector", 0), ("Age", 0), ("Containers", 1), ("Images", 1), ("Selector", 1)],
    "leases": [("Name", 0), ("Holder", 0), ("Age", 0)],
    "csidrivers": [("Name", 0), ("AttachRequired", 0), ("PodInfoOnMount", 0), ("StorageCapacity", 0),
                   ("TokenRequests", 0), ("RequiresRepublish", 0), ("Modes", 0), ("Age", 0)],
    "csinodes": [("Name", 0), ("Drivers", 0), ("Age", 0)],
    "volumeattachments": [("Name", 0), ("Attacher", 0), ("PV", 0), ("Node", 0), ("Attached", 0), ("Age", 0)],
    "csistoragecapacities": [("Name", 0), ("StorageClassName", 0), ("Capacity", 0)],
    "crd": [("Name", 0), ("Created At", 0)],
}


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_columns(resource: str) -> None:
    assert names(resource) == COLUMNS[resource]


def test_every_builtin_type_has_columns_matching_its_cells() -> None:
    for t in builtin_types():
        cols = table_columns(t)
        assert cols, t.kind
        for c in cols:
            assert set(c) == {"name", "type", "format", "description", "priority"}
        assert len(row_cells(t, {"metadata": meta()}, NOW)) == len(cols), t.kind
        assert len(row_cells(t, {}, NOW)) == len(cols), t.kind


@pytest.mark.parametrize(("resource", "column", "type_", "fmt"), [
    ("pods", "Name", "string", "name"),
    ("cm", "Data", "integer", ""),
    ("events", "Count", "integer", ""),
    ("csidrivers", "AttachRequired", "boolean", ""),
    ("volumeattachments", "Attached", "boolean", ""),
    ("volumeattachments", "Attacher", "string", "name"),
    ("crd", "Created At", "date", ""),
    ("rs", "Desired", "integer", ""),
])
def test_column_types(resource: str, column: str, type_: str, fmt: str) -> None:
    c = next(c for c in table_columns(rt(resource)) if c["name"] == column)
    assert (c["type"], c["format"]) == (type_, fmt)


# --- pods --------------------------------------------------------------------------------------

def running(name: str, ready: bool = True, restarts: int = 0, finished: str | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {"name": name, "ready": ready, "restartCount": restarts,
                          "state": {"running": {"startedAt": T5M}}}
    if finished:
        cs["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return cs


def pod(status: dict[str, Any], containers: int = 1, init: list[dict[str, Any]] | None = None,
        **meta_extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": "nginx"} for i in range(containers)]}
    if init is not None:
        spec["initContainers"] = init
    return {"metadata": meta("p", **meta_extra), "spec": spec, "status": status}


POD_CASES: list[tuple[str, dict[str, Any], list[Any]]] = [
    ("pending", pod({"phase": "Pending"}), ["p", "0/1", "Pending", "0", "5m"]),
    ("creating", pod({"phase": "Pending", "containerStatuses": [
        {"name": "c0", "ready": False, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
     ["p", "0/1", "ContainerCreating", "0", "5m"]),
    ("half ready", pod({"phase": "Running", "containerStatuses": [running("c0"), running("c1", ready=False)]},
                       containers=2), ["p", "1/2", "Running", "0", "5m"]),
    ("restarts ago", pod({"phase": "Running", "containerStatuses": [
        running("c0", restarts=3, finished="2025-06-02T09:57:46Z")]}), ["p", "1/1", "Running", "3 (2m14s ago)", "5m"]),
    ("restarts no time", pod({"phase": "Running", "containerStatuses": [running("c0", restarts=2)]}),
     ["p", "1/1", "Running", "2", "5m"]),
    ("crashloop", pod({"phase": "Running", "containerStatuses": [
        {"name": "c0", "ready": False, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-06-02T09:59:00Z"}}}]}),
     ["p", "0/1", "CrashLoopBackOff", "4 (60s ago)", "5m"]),
    ("completed", pod({"phase": "Succeeded", "containerStatuses": [
        {"name": "c0", "ready": False, "restartCount": 0,
         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}), ["p", "0/1", "Completed", "0", "5m"]),
    ("exit code", pod({"phase": "Failed", "containerStatuses": [
        {"name": "c0", "state": {"terminated": {"exitCode": 2}}}]}), ["p", "0/1", "ExitCode:2", "0", "5m"]),
    ("signal", pod({"phase": "Failed", "containerStatuses": [
        {"name": "c0", "state": {"terminated": {"exitCode": 137, "signal": 9}}}]}), ["p", "0/1", "Signal:9", "0", "5m"]),
    ("evicted", pod({"phase": "Failed", "reason": "Evicted"}), ["p", "0/1", "Evicted", "0", "5m"]),
    ("gated", pod({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
     ["p", "0/1", "SchedulingGated", "0", "5m"]),
    ("terminating", pod({"phase": "Running", "containerStatuses": [running("c0")]},
                        deletionTimestamp="2025-06-02T10:00:00Z"), ["p", "1/1", "Terminating", "0", "5m"]),
    ("terminating succeeded stays", pod({"phase": "Succeeded"}, deletionTimestamp=T5M),
     ["p", "0/1", "Succeeded", "0", "5m"]),
    ("node lost", pod({"phase": "Running", "reason": "NodeLost"}, deletionTimestamp=T5M),
     ["p", "0/1", "Unknown", "0", "5m"]),
    ("init 0/2", pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i0", "state": {"running": {}}}, {"name": "i1", "state": {"waiting": {"reason": "PodInitializing"}}}]},
        init=[{"name": "i0"}, {"name": "i1"}]), ["p", "0/1", "Init:0/2", "0", "5m"]),
    ("init 1/2", pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i0", "state": {"terminated": {"exitCode": 0}}}, {"name": "i1", "state": {"running": {}}}]},
        init=[{"name": "i0"}, {"name": "i1"}]), ["p", "0/1", "Init:1/2", "0", "5m"]),
    ("init crash", pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i0", "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
        init=[{"name": "i0"}]), ["p", "0/1", "Init:CrashLoopBackOff", "2", "5m"]),
    ("init error", pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i0", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}, init=[{"name": "i0"}]),
     ["p", "0/1", "Init:Error", "0", "5m"]),
    ("init exit code", pod({"phase": "Pending", "initContainerStatuses": [
        {"name": "i0", "state": {"terminated": {"exitCode": 3}}}]}, init=[{"name": "i0"}]),
     ["p", "0/1", "Init:ExitCode:3", "0", "5m"]),
    ("sidecar counts", pod({"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                            "initContainerStatuses": [{"name": "side", "started": True, "ready": True,
                                                       "restartCount": 1, "state": {"running": {}}}],
                            "containerStatuses": [running("c0")]},
                           init=[{"name": "side", "restartPolicy": "Always"}]),
     ["p", "2/2", "Running", "1", "5m"]),
    ("completed with running sidecar-less", pod({"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True"}], "containerStatuses": [
        running("c0"), {"name": "c1", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
        containers=2), ["p", "1/2", "Running", "0", "5m"]),
    ("completed not ready", pod({"phase": "Running", "containerStatuses": [
        running("c0"), {"name": "c1", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]},
        containers=2), ["p", "1/2", "NotReady", "0", "5m"]),
]


@pytest.mark.parametrize(("obj", "cells"), [(c[1], c[2]) for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_pod_cells(obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt("pods"), obj, NOW)[:5] == cells


def test_pod_wide_cells() -> None:
    obj = pod({"phase": "Running", "podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.5"}], "nominatedNodeName": "n2",
               "conditions": [{"type": "gate/a", "status": "True"}]})
    obj["spec"]["nodeName"] = "node1"
    obj["spec"]["readinessGates"] = [{"conditionType": "gate/a"}, {"conditionType": "gate/b"}]
    assert row_cells(rt("pods"), obj, NOW)[5:] == ["10.0.0.5", "node1", "n2", "1/2"]
    assert row_cells(rt("pods"), pod({"phase": "Pending"}), NOW)[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_finished_pod_rows_have_conditions() -> None:
    t = build_table(rt("pods"), [pod({"phase": "Succeeded"}), pod({"phase": "Failed"}), pod({"phase": "Running"})],
                    now=NOW)
    assert t["rows"][0]["conditions"] == [{"type": "Completed", "status": "True", "reason": "Succeeded",
                                           "message": "The pod has completed successfully."}]
    assert t["rows"][1]["conditions"][0]["reason"] == "Failed"
    assert "conditions" not in t["rows"][2]


# --- nodes -------------------------------------------------------------------------------------

def node(labels: dict[str, str], ready: str | None = "True", unschedulable: bool = False) -> dict[str, Any]:
    status: dict[str, Any] = {"nodeInfo": {"kubeletVersion": "v1.35.0"},
                              "addresses": [{"type": "InternalIP", "address": "192.168.0.2"}]}
    if ready is not None:
        status["conditions"] = [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": ready}]
    return {"metadata": {"name": "n", "creationTimestamp": T5M, "labels": labels},
            "spec": {"unschedulable": unschedulable} if unschedulable else {}, "status": status}


@pytest.mark.parametrize(("obj", "cells"), [
    (node({"node-role.kubernetes.io/control-plane": ""}), ["n", "Ready", "control-plane", "5m", "v1.35.0"]),
    (node({}, ready="False"), ["n", "NotReady", "<none>", "5m", "v1.35.0"]),
    (node({}, ready="Unknown"), ["n", "NotReady", "<none>", "5m", "v1.35.0"]),
    (node({}, ready=None), ["n", "Unknown", "<none>", "5m", "v1.35.0"]),
    (node({"kubernetes.io/role": "worker", "node-role.kubernetes.io/master": "x",
           "node-role.kubernetes.io/": "y"}, unschedulable=True),
     ["n", "Ready,SchedulingDisabled", "master,worker", "5m", "v1.35.0"]),
])
def test_node_cells(obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt("nodes"), obj, NOW)[:5] == cells


def test_node_wide_cells() -> None:
    assert row_cells(rt("nodes"), node({}), NOW)[5:] == ["192.168.0.2", "<none>", "<unknown>", "<unknown>",
                                                         "<unknown>"]


# --- storage -----------------------------------------------------------------------------------

PV = {"metadata": meta("pv1"), "spec": {
    "capacity": {"storage": "1024Mi"}, "accessModes": ["ReadWriteOncePod", "ReadWriteOnce", "ReadOnlyMany"],
    "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "fast", "volumeMode": "Filesystem",
    "claimRef": {"namespace": "default", "name": "data"}}, "status": {"phase": "Bound"}}


@pytest.mark.parametrize(("obj", "cells"), [
    (PV, ["pv1", "1Gi", "RWO,ROX,RWOP", "Delete", "Bound", "default/data", "fast", "<unset>", "", "5m", "Filesystem"]),
    ({**PV, "metadata": meta("pv1", deletionTimestamp=T5M,
                             annotations={"volume.beta.kubernetes.io/storage-class": "old"})},
     ["pv1", "1Gi", "RWO,ROX,RWOP", "Delete", "Terminating", "default/data", "old", "<unset>", "", "5m",
      "Filesystem"]),
    ({"metadata": meta("pv2"), "spec": {}, "status": {"phase": "Failed", "reason": "Recycle"}},
     ["pv2", "0", "", "", "Failed", "", "", "<unset>", "Recycle", "5m", "<unset>"]),
])
def test_pv_cells(obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt("pv"), obj, NOW) == cells


@pytest.mark.parametrize(("obj", "cells"), [
    ({"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {
        "storage": "5Gi"}}, "storageClassName": "fast", "volumeMode": "Filesystem"}, "status": {"phase": "Pending"}},
     ["data", "Pending", "", "", "", "fast", "<unset>", "5m", "Filesystem"]),
    ({"metadata": meta("data"), "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv1",
                                         "resources": {"requests": {"storage": "5Gi"}}, "storageClassName": "fast",
                                         "volumeAttributesClassName": "gold"},
      "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadWriteMany"]}},
     ["data", "Bound", "pv1", "10Gi", "RWO,RWX", "fast", "gold", "5m", "<unset>"]),
    ({"metadata": meta("data", deletionTimestamp=T5M), "spec": {"volumeName": "pv1"}, "status": {"phase": "Bound"}},
     ["data", "Terminating", "pv1", "0", "", "", "<unset>", "5m", "<unset>"]),
])
def test_pvc_cells(obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt("pvc"), obj, NOW) == cells


@pytest.mark.parametrize(("annotations", "spec", "cells"), [
    ({"storageclass.kubernetes.io/is-default-class": "true"},
     {"provisioner": "disk.csi.example.com", "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer",
      "allowVolumeExpansion": True},
     ["std (default)", "disk.csi.example.com", "Retain", "WaitForFirstConsumer", True, "5m"]),
    ({"storageclass.beta.kubernetes.io/is-default-class": "true"}, {"provisioner": "p"},
     ["std (default)", "p", "Delete", "Immediate", False, "5m"]),
    ({"storageclass.kubernetes.io/is-default-class": "True"}, {"provisioner": "p"},
     ["std", "p", "Delete", "Immediate", False, "5m"]),
])
def test_storageclass_cells(annotations: dict[str, str], spec: dict[str, Any], cells: list[Any]) -> None:
    obj = {"metadata": {"name": "std", "creationTimestamp": T5M, "annotations": annotations}, **spec}
    assert row_cells(rt("sc"), obj, NOW) == cells


@pytest.mark.parametrize(("spec", "cells"), [
    ({}, ["d", True, False, False, "<unset>", False, "<none>", "5m"]),
    ({"attachRequired": False, "podInfoOnMount": True, "storageCapacity": True, "requiresRepublish": True,
      "tokenRequests": [{"audience": "a"}, {"audience": "b"}], "volumeLifecycleModes": ["Persistent", "Ephemeral"]},
     ["d", False, True, True, "a,b", True, "Persistent,Ephemeral", "5m"]),
    ({"tokenRequests": []}, ["d", True, False, False, "", False, "<none>", "5m"]),
])
def test_csidriver_cells(spec: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt("csidrivers"), {"metadata": meta("d"), "spec": spec}, NOW) == cells


def test_other_storage_cells() -> None:
    assert row_cells(rt("csinodes"), {"metadata": meta("n1"), "spec": {"drivers": [{"name": "a"}]}}, NOW) == \
        ["n1", 1, "5m"]
    va = {"metadata": meta("csi-1"), "spec": {"attacher": "disk.csi", "nodeName": "node1",
                                              "source": {"persistentVolumeName": "pv1"}}, "status": {"attached": True}}
    assert row_cells(rt("volumeattachments"), va, NOW) == ["csi-1", "disk.csi", "pv1", "node1", True, "5m"]
    inline = {"metadata": meta("csi-2"), "spec": {"attacher": "a", "nodeName": "n", "source": {}}}
    assert row_cells(rt("volumeattachments"), inline, NOW) == ["csi-2", "a", "", "n", False, "5m"]
    cap = {"metadata": meta("c"), "storageClassName": "fast", "capacity": "2048Mi"}
    assert row_cells(rt("csistoragecapacities"), cap, NOW) == ["c", "fast", "2Gi"]
    assert row_cells(rt("csistoragecapacities"), {"metadata": meta("c")}, NOW) == ["c", "", "<unset>"]


# --- events ------------------------------------------------------------------------------------

CORE_EVENT = {"metadata": meta("data.1"), "type": "Normal", "reason": "ExternalProvisioning",
              "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data", "namespace": "default"},
              "message": "  waiting  ", "source": {"component": "persistentvolume-controller"},
              "firstTimestamp": "2025-06-02T09:58:50Z", "lastTimestamp": "2025-06-02T09:58:51Z", "count": 2}


@pytest.mark.parametrize(("resource", "obj", "cells"), [
    ("events", CORE_EVENT, ["69s", "Normal", "ExternalProvisioning", "persistentvolumeclaim/data", "",
                            "persistentvolume-controller", "waiting", "70s", 2, "data.1"]),
    ("events", {"metadata": meta("e"), "type": "Warning", "reason": "FailedScheduling",
                "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{app}"},
                "eventTime": "2025-06-02T09:59:48.000000Z", "reportingComponent": "default-scheduler",
                "reportingInstance": "sched-1", "message": "m"},
     ["12s", "Warning", "FailedScheduling", "pod/p", "spec.containers{app}", "default-scheduler, sched-1", "m", "12s",
      1, "e"]),
    ("events", {"metadata": meta("e"), "involvedObject": {"kind": "Node"}, "source": {"component": "kubelet",
                                                                                         "host": "node1"},
                "firstTimestamp": T5M, "series": {"count": 7, "lastObservedTime": "2025-06-02T09:59:00.000000Z"}},
     ["60s", "", "", "node", "", "kubelet, node1", "", "5m", 7, "e"]),
    ("events.events.k8s.io", {"apiVersion": "events.k8s.io/v1", "metadata": meta("e2"), "type": "Normal",
                              "reason": "Provisioning", "regarding": {"kind": "PersistentVolumeClaim", "name": "d"},
                              "note": "External provisioner is provisioning volume",
                              "eventTime": "2025-06-02T09:59:00.000000Z", "reportingController": "disk.csi",
                              "deprecatedCount": 3, "deprecatedFirstTimestamp": T5M,
                              "deprecatedLastTimestamp": "2025-06-02T09:59:30Z"},
     ["30s", "Normal", "Provisioning", "persistentvolumeclaim/d", "", "disk.csi",
      "External provisioner is provisioning volume", "5m", 3, "e2"]),
    ("events", {"metadata": meta("e")}, ["<unknown>", "", "", "", "", "", "", "<unknown>", 1, "e"]),
])
def test_event_cells(resource: str, obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt(resource), obj, NOW) == cells


# --- small core types ---------------------------------------------------------------------------

SVC_CASES = [
    ({"type": "ClusterIP", "clusterIPs": ["10.96.0.1"], "ports": [{"port": 443, "protocol": "TCP"}]}, {},
     ["10.96.0.1", "<none>", "443/TCP", "<none>"]),
    ({"type": "NodePort", "clusterIPs": ["10.96.12.7"], "selector": {"b": "2", "a": "1"},
      "ports": [{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}]}, {},
     ["10.96.12.7", "<none>", "80:30080/TCP,53/UDP", "a=1,b=2"]),
    ({"type": "ClusterIP", "clusterIPs": ["None"], "externalIPs": ["1.2.3.4", "5.6.7.8"]}, {},
     ["None", "1.2.3.4,5.6.7.8", "<none>", "<none>"]),
    ({"type": "LoadBalancer", "clusterIPs": ["10.96.40.2"], "ports": [{"port": 443, "nodePort": 31443}]}, {},
     ["10.96.40.2", "<pending>", "443:31443/TCP", "<none>"]),
    ({"type": "LoadBalancer", "clusterIPs": ["10.0.0.1"], "externalIPs": ["9.9.9.9"]},
     {"loadBalancer": {"ingress": [{"ip": "8.8.8.8"}, {"hostname": "lb.example.com"}, {"ip": "1.1.1.1"}]}},
     ["10.0.0.1", "1.1.1.1,8.8.8.8,lb.example.com,9.9.9.9", "<none>", "<none>"]),
    ({"type": "ExternalName", "externalName": "db.example.com"}, {}, ["<none>", "db.example.com", "<none>", "<none>"]),
]


@pytest.mark.parametrize(("spec", "status", "cells"), SVC_CASES)
def test_service_cells(spec: dict[str, Any], status: dict[str, Any], cells: list[Any]) -> None:
    row = row_cells(rt("svc"), {"metadata": meta("s"), "spec": spec, "status": status}, NOW)
    assert [row[2], row[3], row[4], row[6]] == cells
    assert row[1] == spec["type"]


def test_small_core_cells() -> None:
    assert row_cells(rt("ns"), {"metadata": meta("default"), "status": {"phase": "Active"}}, NOW) == \
        ["default", "Active", "5m"]
    assert row_cells(rt("cm"), {"metadata": meta("c"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}},
                     NOW) == ["c", 3, "5m"]
    assert row_cells(rt("secrets"), {"metadata": meta("s"), "type": "Opaque", "data": {"a": "MQ=="}}, NOW) == \
        ["s", "Opaque", 1, "5m"]
    assert row_cells(rt("sa"), {"metadata": meta("default")}, NOW) == ["default", "5m"]
    assert row_cells(rt("leases"), {"metadata": meta("l"), "spec": {"holderIdentity": "node1"}}, NOW) == \
        ["l", "node1", "5m"]
    assert row_cells(rt("leases"), {"metadata": meta("l"), "spec": {}}, NOW) == ["l", "", "5m"]


@pytest.mark.parametrize(("subsets", "cell"), [
    (None, "<none>"),
    ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]}], "10.0.0.1:80,10.0.0.2:80"),
    ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 443}]}], "[fd00::1]:443"),
    ([{"addresses": [{"ip": "10.0.0.1"}]}], "10.0.0.1"),
    ([{"addresses": [{"ip": f"10.0.0.{n}"} for n in range(1, 5)], "ports": [{"port": 80}, {"port": 81}]}],
     "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 5 more..."),
    ([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], ""),
])
def test_endpoints_cell(subsets: Any, cell: str) -> None:
    obj: dict[str, Any] = {"metadata": meta("e")}
    if subsets is not None:
        obj["subsets"] = subsets
    assert row_cells(rt("ep"), obj, NOW)[1] == cell


# --- workloads ---------------------------------------------------------------------------------

TEMPLATE = {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}, {"name": "log", "image": "busybox"}],
                     "nodeSelector": {"kubernetes.io/os": "linux"}}}
SELECTOR = {"matchLabels": {"app": "web"}, "matchExpressions": [
    {"key": "tier", "operator": "In", "values": ["fe", "be"]}, {"key": "canary", "operator": "DoesNotExist"},
    {"key": "env", "operator": "NotIn", "values": ["dev"]}, {"key": "zone", "operator": "Exists"}]}
SELECTOR_TEXT = "app=web,!canary,env notin (dev),tier in (be,fe),zone"


def test_workload_cells() -> None:
    dep = {"metadata": meta("web"), "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
           "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    assert row_cells(rt("deploy"), dep, NOW) == ["web", "2/3", 3, 2, "5m", "web,log", "nginx:1.27,busybox",
                                                 SELECTOR_TEXT]
    dep_empty = {"metadata": meta("web"), "spec": {"replicas": 1}}
    assert row_cells(rt("deploy"), dep_empty, NOW) == ["web", "0/1", 0, 0, "5m", "", "", ""]
    rs = {"metadata": meta("web-7c5"), "spec": {"replicas": 3, "selector": {"matchLabels": {
        "pod-template-hash": "7c5", "app": "web"}}, "template": TEMPLATE}, "status": {"replicas": 3, "readyReplicas": 1}}
    assert row_cells(rt("rs"), rs, NOW) == ["web-7c5", 3, 3, 1, "5m", "web,log", "nginx:1.27,busybox",
                                            "app=web,pod-template-hash=7c5"]
    assert row_cells(rt("rs"), {"metadata": meta("r"), "spec": {"selector": {}}}, NOW)[-1] == "<none>"
    sts = {"metadata": meta("db"), "spec": {"replicas": 2, "template": TEMPLATE}, "status": {"readyReplicas": 2}}
    assert row_cells(rt("sts"), sts, NOW) == ["db", "2/2", "5m", "web,log", "nginx:1.27,busybox"]
    ds = {"metadata": meta("agent"), "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": TEMPLATE},
          "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
                     "updatedNumberScheduled": 3, "numberAvailable": 2}}
    assert row_cells(rt("ds"), ds, NOW) == ["agent", 3, 3, 2, 3, 2, "kubernetes.io/os=linux", "5m", "web,log",
                                            "nginx:1.27,busybox", "app=a"]


def test_crd_cells_are_creation_times() -> None:
    crd = {"metadata": {"name": "volumesnapshots.snapshot.storage.k8s.io", "creationTimestamp": T5M}}
    assert row_cells(rt("crd"), crd, NOW) == ["volumesnapshots.snapshot.storage.k8s.io", T5M]


# --- custom resources --------------------------------------------------------------------------

SNAPSHOT_COLUMNS = [
    {"name": "ReadyToUse", "type": "boolean", "jsonPath": ".status.readyToUse",
     "description": "Indicates if the snapshot is ready to be used to restore a volume."},
    {"name": "SourcePVC", "type": "string", "jsonPath": ".spec.source.persistentVolumeClaimName"},
    {"name": "SourceSnapshotContent", "type": "string", "jsonPath": ".spec.source.volumeSnapshotContentName"},
    {"name": "RestoreSize", "type": "string", "jsonPath": ".status.restoreSize"},
    {"name": "SnapshotClass", "type": "string", "jsonPath": ".spec.volumeSnapshotClassName"},
    {"name": "SnapshotContent", "type": "string", "jsonPath": ".status.boundVolumeSnapshotContentName"},
    {"name": "CreationTime", "type": "date", "jsonPath": ".status.creationTime"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def snapshot_rt(columns: list[dict[str, Any]] | None = SNAPSHOT_COLUMNS) -> ResourceType:
    version: dict[str, Any] = {"name": "v1", "served": True, "storage": True}
    if columns is not None:
        version["additionalPrinterColumns"] = columns
    return ResourceType(group="snapshot.storage.k8s.io", version="v1", kind="VolumeSnapshot",
                        plural="volumesnapshots", singular="volumesnapshot", namespaced=True, custom=True,
                        crd_version=version)


SNAP = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": meta("snap"),
        "spec": {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": "csi-snapclass"},
        "status": {"readyToUse": True, "restoreSize": "10Gi", "boundVolumeSnapshotContentName": "snapcontent-1",
                   "creationTime": T2M14}}


def test_custom_resource_columns_and_cells() -> None:
    t = snapshot_rt()
    cols = table_columns(t)
    assert [c["name"] for c in cols] == ["Name", "ReadyToUse", "SourcePVC", "SourceSnapshotContent", "RestoreSize",
                                         "SnapshotClass", "SnapshotContent", "CreationTime", "Age"]
    assert cols[0]["format"] == "name"
    assert cols[1]["description"] == "Indicates if the snapshot is ready to be used to restore a volume."
    assert cols[2]["description"] == \
        "Custom resource definition column (in JSONPath format): .spec.source.persistentVolumeClaimName"
    assert row_cells(t, SNAP, NOW) == ["snap", True, "data", None, "10Gi", "csi-snapclass", "snapcontent-1", "2m14s",
                                       "5m"]
    fresh = {"metadata": meta("new", ts="2025-06-02T10:00:00Z"), "spec": {"source": {"persistentVolumeClaimName": "d"}}}
    assert row_cells(t, fresh, NOW) == ["new", None, "d", None, None, None, None, None, "0s"]


def test_custom_resource_without_columns_gets_name_and_age() -> None:
    t = snapshot_rt(None)
    cols = table_columns(t)
    assert [(c["name"], c["type"]) for c in cols] == [("Name", "string"), ("Age", "date")]
    assert row_cells(t, SNAP, NOW) == ["snap", "5m"]


@pytest.mark.parametrize(("col_type", "path", "value"), [
    ("string", ".spec.n", "5"),
    ("string", ".spec.f", "1.5"),
    ("string", ".spec.b", "true"),
    ("string", ".spec.m", '{"a":"b"}'),
    ("string", ".spec.l", '["x","y"]'),
    ("string", ".spec.l[*]", "x"),
    ("string", ".spec.l[1]", "y"),
    ("string", ".status.conditions[?(@.type==\"Ready\")].status", "True"),
    ("string", ".metadata.labels['app.kubernetes.io/name']", "snap"),
    ("integer", ".spec.n", 5),
    ("integer", ".spec.f", 1),
    ("integer", ".spec.s", None),
    ("integer", ".spec.b", None),
    ("number", ".spec.n", 5.0),
    ("number", ".spec.s", None),
    ("boolean", ".spec.b", True),
    ("boolean", ".spec.s", None),
    ("date", ".spec.t", "5m"),
    ("date", ".spec.s", "<invalid>"),
    ("date", ".spec.n", None),
    ("string", ".spec.missing", None),
    ("string", ".spec.l[9]", None),
    ("string", "{.spec.s}", "text"),
])
def test_custom_cell_types(col_type: str, path: str, value: Any) -> None:
    t = snapshot_rt([{"name": "X", "type": col_type, "jsonPath": path}])
    obj = {"metadata": {"name": "o", "labels": {"app.kubernetes.io/name": "snap"}},
           "spec": {"n": 5, "f": 1.5, "b": True, "s": "text", "m": {"a": "b"}, "l": ["x", "y"], "t": T5M},
           "status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True"}]}}
    assert row_cells(t, obj, NOW)[1] == value


def test_jsonpath_matches() -> None:
    obj = {"a": [{"b": 1}, {"b": 2}], "c": {"d": {"e": 3}}}
    assert jsonpath_matches(obj, ".a[*].b") == [1, 2]
    assert jsonpath_matches(obj, ".a[-1].b") == [2]
    assert jsonpath_matches(obj, ".a[0:1].b") == [1]
    assert jsonpath_matches(obj, "..e") == [3]
    assert jsonpath_matches(obj, ".x.y") == []


# --- the Table envelope ------------------------------------------------------------------------

def test_table_envelope_metadata_rows() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {**meta("c"), "uid": "u1", "resourceVersion": "7",
                                                                 "labels": {"a": "b"}}, "data": {"k": "v"}}
    t = build_table(rt("cm"), [cm], now=NOW, resource_version="42", continue_token="tok")
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert t["metadata"] == {"resourceVersion": "42", "continue": "tok"}
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert t["rows"] == [{"cells": ["c", 1, "5m"], "object": {
        "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": cm["metadata"]}}]


@pytest.mark.parametrize(("mode", "expect"), [("Object", "full"), ("None", None), ("", "partial"),
                                              ("Metadata", "partial")])
def test_include_object(mode: str, expect: str | None) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("c"), "data": {}}
    row = build_table(rt("cm"), [cm], now=NOW, include_object=mode)["rows"][0]
    if expect == "full":
        assert row["object"] == cm
    elif expect == "partial":
        assert row["object"]["kind"] == "PartialObjectMetadata"
    else:
        assert row["object"] is None


def test_without_headers_and_empty() -> None:
    t = build_table(rt("pods"), [], now=NOW, with_headers=False)
    assert t["columnDefinitions"] == [] and t["rows"] == [] and t["metadata"] == {}


def test_unknown_type_falls_back_to_name_age() -> None:
    t = ResourceType(group="example.com", version="v1", kind="Widget", plural="widgets", singular="widget",
                     namespaced=True)
    assert [c["name"] for c in table_columns(t)] == ["Name", "Age"]
    assert row_cells(t, {"metadata": meta("w")}, NOW) == ["w", "5m"]


@pytest.mark.parametrize("junk", [
    {"metadata": meta("p"), "spec": {"containers": "nope"}, "status": {"containerStatuses": [1, None, "x"]}},
    {"metadata": meta("p"), "spec": None, "status": {"conditions": "x", "podIPs": ["1.2.3.4"]}},
])
def test_malformed_objects_do_not_raise(junk: dict[str, Any]) -> None:
    for name in ("pods", "pv", "pvc", "svc", "deploy", "ep", "events", "nodes", "csidrivers"):
        cells = row_cells(rt(name), junk, NOW)
        assert len(cells) == len(table_columns(rt(name)))
