"""The Node object each node's kubelet posts when it registers (kubelet/node.py)."""

from __future__ import annotations

from minikube_lite.clock import VirtualClock
from minikube_lite.config import ClusterConfig
from minikube_lite.kubelet.node import node_manifests


def test_node_manifests_as_kubelet_registers_them() -> None:
    clock = VirtualClock(start=1_700_000_000)
    manifests = {m["metadata"]["name"]: m for m in node_manifests(ClusterConfig.default(), clock)}
    master = manifests["master"]
    assert master["apiVersion"] == "v1" and master["kind"] == "Node"
    assert master["spec"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert master["spec"]["providerID"].startswith("cn-hangzhou.i-")
    status = manifests["node1"]["status"]
    conds = {c["type"]: c for c in status["conditions"]}
    assert [c["type"] for c in status["conditions"]] == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    assert conds["Ready"]["status"] == "True" and conds["Ready"]["reason"] == "KubeletReady"
    assert conds["Ready"]["message"] == "kubelet is posting ready status"
    assert (conds["MemoryPressure"]["status"], conds["MemoryPressure"]["reason"]) == (
        "False", "KubeletHasSufficientMemory")
    assert conds["DiskPressure"]["message"] == "kubelet has no disk pressure"
    assert conds["PIDPressure"]["reason"] == "KubeletHasSufficientPID"
    assert conds["Ready"]["lastHeartbeatTime"] == "2023-11-14T22:13:20Z"
    info = status["nodeInfo"]
    assert len(info) == 10 and all(v is not None for v in info.values())
    assert info["kubeletVersion"] == "v1.35.0" and info["containerRuntimeVersion"].startswith("containerd://1.7.")
    assert (info["operatingSystem"], info["architecture"]) == ("linux", "amd64")
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    assert status["capacity"]["cpu"] == "4" and status["allocatable"]["memory"] == "8286208Ki"
    ips = [next(a["address"] for a in m["status"]["addresses"] if a["type"] == "InternalIP")
           for m in manifests.values()]
    assert len(set(ips)) == 3 and all(ip.startswith("10.0.") for ip in ips)
    assert {"type": "Hostname", "address": "node2"} in manifests["node2"]["status"]["addresses"]


def test_not_ready_and_unschedulable_nodes() -> None:
    config = ClusterConfig.from_yaml("nodes: [{name: sick, ready: false, unschedulable: true}]")
    node = node_manifests(config, VirtualClock())[0]
    ready = node["status"]["conditions"][-1]
    assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady")
    assert node["spec"]["unschedulable"] is True
