"""Node registration: the v1 Node object each node's kubelet posts when it joins the cluster.

Labels, taints, capacity and allocatable come from the cluster config (``ClusterConfig.resolved_nodes``);
what kubelet itself reports (conditions, nodeInfo, addresses, runtime handlers) is spelled here, as
``pkg/kubelet/nodestatus/setters.go`` sets it. The kubelet's heartbeats (``heartbeat.py``) post
the same conditions again after a restart, so the condition constants live here too.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from ..clock import Clock, RealClock, rfc3339
from ..config import ClusterConfig, ResolvedNode

KUBELET_VERSION = "v1.35.0"
CONTAINER_RUNTIME_VERSION = "containerd://1.7.27"
OS_IMAGE = "Alibaba Cloud Linux 3.2104 U11 (OpenAnolis Edition)"
KERNEL_VERSION = "5.10.134-18.al8.x86_64"

# Node conditions exactly as kubelet posts them (pkg/kubelet/nodestatus/setters.go).
COND_MEMORY = ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available")
COND_DISK = ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure")
COND_PID = ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available")
COND_READY = ("Ready", "KubeletReady", "kubelet is posting ready status")
COND_NOT_READY = (
    "Ready", "KubeletNotReady",
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized",
)
#: The order kubelet lists the Node conditions in.
CONDITION_ORDER = ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")


def node_manifests(config: ClusterConfig, clock: Clock | None = None) -> list[dict[str, Any]]:
    """v1 Node objects as each node's kubelet registers them (labels, taints, status, nodeInfo)."""
    now = rfc3339((clock or RealClock()).now())
    return [_node_manifest(n, now) for n in config.resolved_nodes()]


def _node_manifest(node: ResolvedNode, now: str) -> dict[str, Any]:
    def uid(kind: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{kind}.{node.name}.minikube-lite"))

    def cond(spec: tuple[str, str, str], status: str) -> dict[str, str]:
        return {"type": spec[0], "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
                "reason": spec[1], "message": spec[2]}

    pod_cidr = f"{ipaddress.IPv4Address('10.244.0.0') + node.index * 256}/24"
    spec: dict[str, Any] = {
        "podCIDR": pod_cidr,
        "podCIDRs": [pod_cidr],
        "providerID": f"{node.region}.{node.instance_id}",
    }
    if node.taints:
        spec["taints"] = [dict(t) for t in node.taints]
    if node.unschedulable:
        spec["unschedulable"] = True
    annotations = {
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        **node.annotations,
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node.name, "labels": dict(node.labels), "annotations": annotations},
        "spec": spec,
        "status": {
            "capacity": dict(node.capacity),
            "allocatable": dict(node.allocatable),
            "conditions": [
                cond(COND_MEMORY, "False"),
                cond(COND_DISK, "False"),
                cond(COND_PID, "False"),
                cond(COND_READY, "True") if node.ready else cond(COND_NOT_READY, "False"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": node.internal_ip},
                {"type": "Hostname", "address": node.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": uid("machine").replace("-", ""),
                "systemUUID": uid("system"),
                "bootID": uid("boot"),
                "kernelVersion": KERNEL_VERSION,
                "osImage": OS_IMAGE,
                "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "features": {"supplementalGroupsPolicy": True},
            "runtimeHandlers": [
                {"name": "runc", "features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}},
                {"name": "", "features": {"recursiveReadOnlyMounts": True, "userNamespaces": True}},
            ],
        },
    }
