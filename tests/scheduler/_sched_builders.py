"""Object builders and a one-call scheduling helper for the scheduler tests (plain dicts)."""

from __future__ import annotations

import random
from typing import Any

from minikube_lite.clock import VirtualClock
from minikube_lite.scheduler.algorithm import Algorithm, FitError
from minikube_lite.scheduler.defaults import default_profile, in_tree_registry
from minikube_lite.scheduler.framework import CycleState, Framework, Handle
from minikube_lite.scheduler.snapshot import Snapshot

JSON = dict[str, Any]
CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def node(name: str, *, labels: dict[str, str] | None = None, taints: list[JSON] | None = None,
         cpu: str = "4", memory: str = "8Gi", pods: str = "110", unschedulable: bool = False,
         zone: str | None = None) -> JSON:
    lab = {HOST: name}
    if zone:
        lab[ZONE] = zone
    lab.update(labels or {})
    spec: JSON = {}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": lab}, "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}}


def pod(name: str, *, ns: str = "default", cpu: str | None = None, memory: str | None = None,
        pvcs: tuple[str, ...] = (), tolerations: list[JSON] | None = None,
        node_selector: dict[str, str] | None = None, affinity: JSON | None = None,
        priority: int | None = None, labels: dict[str, str] | None = None,
        spread: list[JSON] | None = None, node_name: str | None = None, host_port: int | None = None,
        scheduler_name: str | None = None, preemption_policy: str | None = None) -> JSON:
    requests = {}
    if cpu:
        requests["cpu"] = cpu
    if memory:
        requests["memory"] = memory
    container: JSON = {"name": "c", "image": "nginx"}
    if requests:
        container["resources"] = {"requests": requests}
    if host_port:
        container["ports"] = [{"containerPort": 80, "hostPort": host_port}]
    spec: JSON = {"containers": [container]}
    if pvcs:
        spec["volumes"] = [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(pvcs)]
    for k, v in (("tolerations", tolerations), ("nodeSelector", node_selector), ("affinity", affinity),
                 ("priority", priority), ("topologySpreadConstraints", spread), ("nodeName", node_name),
                 ("schedulerName", scheduler_name), ("preemptionPolicy", preemption_policy)):
        if v is not None:
            spec[k] = v
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "labels": labels or {}},
            "spec": spec, "status": {"phase": "Pending"}}


def sc(name: str, provisioner: str = "disk.csi.example.com", *, mode: str = "WaitForFirstConsumer",
       zones: list[str] | None = None) -> JSON:
    obj: JSON = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                 "provisioner": provisioner, "volumeBindingMode": mode, "reclaimPolicy": "Delete"}
    if zones is not None:
        obj["allowedTopologies"] = [{"matchLabelExpressions": [{"key": ZONE, "values": zones}]}]
    return obj


def pvc(name: str, cls: str | None, *, size: str = "1Gi", ns: str = "default", volume_name: str | None = None,
        bound: bool = False, selected_node: str | None = None, phase: str = "Pending",
        deleting: bool = False, access: tuple[str, ...] = ("ReadWriteOnce",), rv: str = "1") -> JSON:
    ann: dict[str, str] = {}
    if bound:
        ann["pv.kubernetes.io/bind-completed"] = "yes"
    if selected_node:
        ann["volume.kubernetes.io/selected-node"] = selected_node
    md: JSON = {"name": name, "namespace": ns, "uid": f"uid-{name}", "annotations": ann, "resourceVersion": rv}
    if deleting:
        md["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec: JSON = {"accessModes": list(access), "resources": {"requests": {"storage": size}}}
    if cls is not None:
        spec["storageClassName"] = cls
    if volume_name:
        spec["volumeName"] = volume_name
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": md, "spec": spec,
            "status": {"phase": phase}}


def pv(name: str, cls: str, *, size: str = "5Gi", hostname: str | None = None, zone: str | None = None,
       claim: JSON | None = None, phase: str = "Available", labels: dict[str, str] | None = None,
       csi_driver: str | None = None, access: tuple[str, ...] = ("ReadWriteOnce",), rv: str = "1") -> JSON:
    spec: JSON = {"capacity": {"storage": size}, "accessModes": list(access), "storageClassName": cls,
                  "persistentVolumeReclaimPolicy": "Retain"}
    exprs = []
    if hostname:
        exprs.append({"key": HOST, "operator": "In", "values": [hostname]})
        spec["local"] = {"path": "/mnt/disks/vol1"}
    if zone:
        exprs.append({"key": ZONE, "operator": "In", "values": [zone]})
    if exprs:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": exprs}]}}
    if claim is not None:
        spec["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": claim["metadata"]["namespace"],
                            "name": claim["metadata"]["name"], "uid": claim["metadata"]["uid"]}
    if csi_driver:
        spec["csi"] = {"driver": csi_driver, "volumeHandle": f"h-{name}"}
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": labels or {}, "resourceVersion": rv}, "spec": spec,
            "status": {"phase": phase}}


def three_nodes(master_taint: JSON | None = None, zone: str = "b") -> list[JSON]:
    return [node("master", taints=[master_taint or CP_TAINT], zone=zone),
            node("node1", zone=zone), node("node2", zone=zone)]


def make(snapshot: Snapshot, *, percentage: int | None = None, seed: int = 0) -> tuple[Framework, Algorithm]:
    handle = Handle(VirtualClock(start=1_000_000), snapshot)
    fwk = Framework(in_tree_registry(), default_profile(percentage_of_nodes_to_score=percentage), handle)
    return fwk, Algorithm(fwk, percentage_of_nodes_to_score=percentage, rng=random.Random(seed))


def schedule(snapshot: Snapshot, p: JSON, *, seed: int = 0) -> str:
    """The chosen node name, or the full FailedScheduling message (with the PostFilter part)."""
    fwk, alg = make(snapshot, seed=seed)
    state = CycleState()
    try:
        return alg.schedule_pod(state, p).suggested_host
    except FitError as fit:
        _, st = fwk.run_post_filter(state, p, fit.diagnosis.statuses)
        if st is not None:
            fit.diagnosis.post_filter_msg = st.message()
        return str(fit)
