"""The pod status generated from the kubelet's runtime (kubelet/status.py), on plain runtimes."""

from __future__ import annotations

from typing import Any

from minikube_lite.kubelet.containerd import ContainerRuntime, PodRuntime
from minikube_lite.kubelet.status import pod_status, status_key

NOW = "2026-01-01T00:00:00Z"
NODE: dict[str, Any] = {"metadata": {"name": "node1"},
                        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}]}}
POD: dict[str, Any] = {"metadata": {"name": "web", "uid": "u"},
                       "spec": {"initContainers": [{"name": "init", "image": "busybox"}],
                                "containers": [{"name": "app", "image": "nginx",
                                                "volumeMounts": [{"name": "d", "mountPath": "/d"}]}]}}


def runtime() -> PodRuntime:
    return PodRuntime(uid="u", node="node1", containers=[ContainerRuntime("init", "busybox", True),
                                                         ContainerRuntime("app", "nginx", False)])


def test_a_new_pod_is_pending_behind_its_init_container() -> None:
    st = pod_status(POD, runtime(), NODE, NOW)
    assert st["phase"] == "Pending" and st["hostIP"] == "10.0.0.11" and st["startTime"] == NOW
    assert st["initContainerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert st["containerStatuses"][0]["volumeMounts"] == [
        {"name": "d", "mountPath": "/d", "recursiveReadOnly": "Disabled"}]
    conditions = {c["type"]: c for c in st["conditions"]}
    assert conditions["Initialized"]["message"] == "containers with incomplete status: [init]"
    assert conditions["Ready"]["reason"] == "ContainersNotReady"
    assert "podIP" not in st


def test_running_then_finished() -> None:
    rt = runtime()
    rt.sandbox, rt.pod_ip = True, "10.244.1.2"
    for c in rt.containers:
        c.state, c.started_at = "running", NOW
    rt.containers[0].state, rt.containers[0].reason = "terminated", "Completed"
    st = pod_status(POD, rt, NODE, NOW)
    assert st["phase"] == "Running" and st["podIPs"] == [{"ip": "10.244.1.2"}]
    assert all(c["status"] == "True" for c in st["conditions"])
    rt.containers[1].state, rt.containers[1].reason, rt.containers[1].exit_code = "terminated", "Error", 2
    st = pod_status(POD, rt, NODE, NOW, terminal=True)
    assert st["phase"] == "Failed"
    ready = next(c for c in st["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


def test_status_key_ignores_condition_timestamps() -> None:
    a = pod_status(POD, runtime(), NODE, NOW)
    later = pod_status({**POD, "status": {}}, runtime(), NODE, "2026-01-01T00:05:00Z")
    later["startTime"] = a["startTime"]
    assert status_key(a) == status_key(later)
    later["phase"] = "Running"
    assert status_key(a) != status_key(later)
