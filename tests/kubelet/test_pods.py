"""The fake kubelet: the upstream start sequence on a virtual clock, exact event texts, status
fields, volume errors (FailedMount), graceful deletion, exit codes, orphans and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.apiserver.resources.subresources import pod_log
from minikube_lite.clock import VirtualClock, parse_time
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.config.timings import KUBELET_REMOTE_WORKERS
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.node_lifecycle import NodeLifecycleController
from minikube_lite.controllers.volume.attach_detach import AttachDetachController, CSIAttacher
from minikube_lite.controllers.volume.protection import PVCProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.kubelet.containerd import normalize_image
from minikube_lite.kubelet.containers import EXIT_CODE_ANNOTATION
from minikube_lite.kubelet.events import KubeletRecorder, go_duration, kubelet_events_for
from minikube_lite.kubelet.heartbeat import NodeHeartbeat
from minikube_lite.kubelet.pods import Kubelet

JSON = dict[str, Any]

KUBELET_CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    PersistentVolumeController,
    PVCProtectionController,
    Kubelet,
    NodeHeartbeat,
    NodeLifecycleController,
    AttachDetachController,
    CSIAttacher,
]

BASE: JSON = {
    "nodes": [{"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
              {"name": "node1", "zone": "cn-hangzhou-b"}, {"name": "node2", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"]},
    "timings": {"podStartDelay": "1s", "imagePullDelay": "1.2s", "volumeMountDelay": "0.2s",
                "podTerminationDelay": "0.5s"},
}


@pytest.fixture
def make_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[Cluster]:
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", list(KUBELET_CONTROLLERS))
        data = {**BASE, **overrides}
        async with Cluster(ClusterConfig.from_dict(data), clock=VirtualClock()) as c:
            await c.settle()
            yield c

    return make


def pod(name: str, node: str | None = "node1", *, image: str = "nginx", containers: list[JSON] | None = None,
        claim: str | None = None, annotations: dict[str, str] | None = None, **spec: Any) -> JSON:
    body: JSON = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations or {}},
                  "spec": {"containers": containers or [{"name": "c", "image": image}], **spec}}
    if node:
        body["spec"]["nodeName"] = node
    if claim:
        body["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
        for c in body["spec"]["containers"]:
            c["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    return body


async def pod_events(c: Cluster, name: str) -> list[JSON]:
    listing = await c.client.list("events", "default", field_selector=f"involvedObject.name={name}")
    items = list(listing.get("items") or [])
    items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return items


def kubelet_ctl(c: Cluster) -> Kubelet:
    return next(ctl for ctl in c.controllers if isinstance(ctl, Kubelet))


# ---------------------------------------------------------------- pure helpers

@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (0.0004, "0s"), (0.313, "313ms"), (1.2, "1.2s"), (1.0, "1s"), (1.5945, "1.594s"),
    (62.5, "1m2.5s"), (3600, "1h0m0s"),
])
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


@pytest.mark.parametrize(("image", "repo", "full"), [
    ("nginx", "docker.io/library/nginx", "docker.io/library/nginx:latest"),
    ("nginx:1.27", "docker.io/library/nginx", "docker.io/library/nginx:1.27"),
    ("bitnami/redis:7", "docker.io/bitnami/redis", "docker.io/bitnami/redis:7"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause", "registry.k8s.io/pause:3.10"),
    ("localhost:5000/app", "localhost:5000/app", "localhost:5000/app:latest"),
    ("busybox@sha256:abc", "docker.io/library/busybox", "docker.io/library/busybox@sha256:abc"),
])
def test_normalize_image(image: str, repo: str, full: str) -> None:
    assert normalize_image(image) == (repo, full)


# ---------------------------------------------------------------- the start sequence

async def test_pod_runs_with_the_upstream_sequence_and_timing(make_cluster: Any) -> None:
    async with make_cluster() as c:
        t0 = c.clock.now()
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        p = await c.client.get("pods", "web", "default")
        st = p["status"]
        assert st["phase"] == "Running"
        # mount 0.2 s + sandbox 1 s + pull 1.2 s of cluster time
        assert c.clock.now() - t0 == pytest.approx(2.4, abs=1e-6)
        assert [(x["type"], x["status"]) for x in st["conditions"]] == [
            ("PodReadyToStartContainers", "True"), ("Initialized", "True"), ("Ready", "True"),
            ("ContainersReady", "True"), ("PodScheduled", "True")]
        assert all(x.get("lastTransitionTime") for x in st["conditions"])
        assert st["hostIP"] == "10.0.0.11" and st["hostIPs"] == [{"ip": "10.0.0.11"}]
        assert st["podIP"].startswith("10.244.1.") and st["podIPs"] == [{"ip": st["podIP"]}]
        assert parse_time(st["startTime"]) is not None
        (cs,) = st["containerStatuses"]
        assert cs["name"] == "c" and cs["ready"] and cs["started"] and cs["restartCount"] == 0
        assert cs["image"] == "docker.io/library/nginx:latest"
        assert cs["imageID"].startswith("docker.io/library/nginx@sha256:") and len(cs["imageID"]) == 31 + 64
        assert cs["containerID"].startswith("containerd://")
        assert parse_time(cs["state"]["running"]["startedAt"]) is not None

        events = await pod_events(c, "web")
        got = kubelet_events_for(events)
        assert [(r, f) for r, f, _ in got] == [("Pulling", "spec.containers{c}"), ("Pulled", "spec.containers{c}"),
                                               ("Created", "spec.containers{c}"), ("Started", "spec.containers{c}")]
        messages = [m for _, _, m in got]
        assert messages[0] == 'Pulling image "nginx"'
        assert messages[1].startswith('Successfully pulled image "nginx" in 1.2s (1.2s including waiting). Image size: ')
        assert messages[1].endswith(" bytes.")
        assert messages[2:] == ["Container created", "Container started"]
        assert all(e["source"] == {"component": "kubelet", "host": "node1"} for e in events)
        assert all(e["type"] == "Normal" for e in events)


async def test_status_while_starting_is_container_creating(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.clock.advance(0.1)
        p = await c.client.get("pods", "web", "default")
        st = p["status"]
        assert st["phase"] == "Pending"
        assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "ContainerCreating"}}
        assert st["containerStatuses"][0]["image"] == "nginx"
        ready = next(x for x in st["conditions"] if x["type"] == "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == (
            "False", "ContainersNotReady", "containers with unready status: [c]")
        sandbox = next(x for x in st["conditions"] if x["type"] == "PodReadyToStartContainers")
        assert sandbox["status"] == "False"
        assert "podIP" not in st and st["hostIP"] == "10.0.0.11"


async def test_image_present_on_the_node_is_not_pulled_again(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("a", image="nginx:1.27"), "default")
        await c.settle()
        await c.client.create("pods", pod("b", image="nginx:1.27"), "default")
        await c.client.create("pods", pod("c", node="node2", image="nginx:1.27"), "default")
        await c.settle()
        b = kubelet_events_for(await pod_events(c, "b"))
        assert [(r, m) for r, _, m in b] == [
            ("Pulled", 'Container image "nginx:1.27" already present on machine and can be accessed by the pod'),
            ("Created", "Container created"), ("Started", "Container started")]
        other = kubelet_events_for(await pod_events(c, "c"))
        assert other[0][0] == "Pulling"  # node2 has never pulled it
        ips = {(await c.client.get("pods", n, "default"))["status"]["podIP"] for n in ("a", "b")}
        assert len(ips) == 2


async def test_pull_policy_always_pulls_every_time(make_cluster: Any) -> None:
    async with make_cluster() as c:
        for name in ("a", "b"):
            await c.client.create("pods", pod(name, image="nginx:latest"), "default")
            await c.settle()
        assert kubelet_events_for(await pod_events(c, "b"))[0][0] == "Pulling"


async def test_init_containers_run_first_and_complete(make_cluster: Any) -> None:
    async with make_cluster() as c:
        body = pod("web")
        body["spec"]["initContainers"] = [{"name": "setup", "image": "busybox:1.37"}]
        await c.client.create("pods", body, "default")
        await c.settle()
        st = (await c.client.get("pods", "web", "default"))["status"]
        assert st["phase"] == "Running"
        (init,) = st["initContainerStatuses"]
        assert init["state"]["terminated"]["reason"] == "Completed" and init["state"]["terminated"]["exitCode"] == 0
        assert init["ready"] is False
        paths = [f for _, f, _ in kubelet_events_for(await pod_events(c, "web"))]
        assert paths[:4] == ["spec.initContainers{setup}"] * 4 and paths[4:] == ["spec.containers{c}"] * 4


@pytest.mark.parametrize(("code", "phase", "reason"), [("0", "Succeeded", "Completed"), ("3", "Failed", "Error")])
async def test_exit_code_annotation_ends_the_pod(make_cluster: Any, code: str, phase: str, reason: str) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("job", annotations={EXIT_CODE_ANNOTATION: code}, restartPolicy="Never"),
                              "default")
        await c.settle()
        st = (await c.client.get("pods", "job", "default"))["status"]
        assert st["phase"] == phase
        term = st["containerStatuses"][0]["state"]["terminated"]
        assert (term["exitCode"], term["reason"]) == (int(code), reason)
        assert parse_time(term["finishedAt"]) >= parse_time(term["startedAt"])  # type: ignore[operator]
        ready = next(x for x in st["conditions"] if x["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


async def test_host_network_pod_gets_the_node_ip(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("agent", hostNetwork=True), "default")
        await c.settle()
        st = (await c.client.get("pods", "agent", "default"))["status"]
        assert st["podIP"] == st["hostIP"] == "10.0.0.11"


async def test_pods_without_a_node_are_left_alone(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("pending", node=None), "default")
        await c.settle()
        p = await c.client.get("pods", "pending", "default")
        assert "containerStatuses" not in (p.get("status") or {})
        assert await pod_events(c, "pending") == []


# ---------------------------------------------------------------- volumes


async def test_missing_claim_gives_failed_mount_and_the_pod_waits(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web", claim="data"), "default")
        await c.settle()
        st = (await c.client.get("pods", "web", "default"))["status"]
        assert st["phase"] == "Pending"
        assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        events = await pod_events(c, "web")
        assert [(e["type"], e["reason"], e["message"]) for e in events] == [(
            "Warning", "FailedMount",
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], "
            "failed to process volumes=[data]: error processing PVC default/data: failed to fetch PVC from API "
            'server: persistentvolumeclaims "data" not found')]
        assert "fieldPath" not in events[0]["involvedObject"]
        # kubelet retries every 10 s (a daemon timer): the event repeats, aggregated
        await c.clock.advance(25)
        events = await pod_events(c, "web")
        assert len(events) == 1 and events[0]["count"] == 3


async def test_unbound_claim_gives_failed_mount_until_it_binds(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "manual"}}, "default")
        await c.client.create("pods", pod("web", claim="data"), "default")
        await c.settle()
        events = await pod_events(c, "web")
        assert events[-1]["message"] == (
            "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to "
            "process volumes=[data]: error processing PVC default/data: PVC is not bound")
        # A matching static (non-CSI) PV binds the claim; the PVC change brings the pod up.
        await c.client.create("persistentvolumes", {
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                     "hostPath": {"path": "/mnt/pv1"}}})
        await c.clock.advance(16)  # the PV controller binds on its 15 s claim resync
        await c.settle()
        assert (await c.client.get("pods", "web", "default"))["status"]["phase"] == "Running"


# ---------------------------------------------------------------- deletion


async def test_graceful_deletion_stops_containers_then_removes_the_pod(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        ip = (await c.client.get("pods", "web", "default"))["status"]["podIP"]
        t0 = c.clock.now()
        await c.client.delete("pods", "web", "default")
        p = await c.client.get("pods", "web", "default")
        assert p["metadata"]["deletionTimestamp"] and p["metadata"]["deletionGracePeriodSeconds"] == 30
        await c.settle()
        with pytest.raises(Exception) as err:
            await c.client.get("pods", "web", "default")
        assert getattr(err.value, "code", None) == 404
        assert c.clock.now() - t0 == pytest.approx(0.5, abs=1e-6)
        killing = [e for e in await pod_events(c, "web") if e["reason"] == "Killing"]
        assert [(e["message"], e["involvedObject"]["fieldPath"]) for e in killing] == [
            ("Stopping container c", "spec.containers{c}")]
        # The IP is free again for the next pod on the node.
        await c.client.create("pods", pod("next"), "default")
        await c.settle()
        assert (await c.client.get("pods", "next", "default"))["status"]["podIP"] == ip


async def test_grace_period_bounds_the_stop(make_cluster: Any) -> None:
    async with make_cluster(timings={"podTerminationDelay": "20s"}) as c:
        await c.client.create("pods", pod("web", terminationGracePeriodSeconds=3), "default")
        await c.settle()
        t0 = c.clock.now()
        await c.client.delete("pods", "web", "default")
        await c.settle()
        assert c.clock.now() - t0 == pytest.approx(3.0, abs=1e-6)


async def test_pods_of_a_deleted_node_are_removed(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web", node="node2"), "default")
        await c.settle()
        await c.client.delete("nodes", "node2")
        await c.settle()
        listing = await c.client.list("pods", "default")
        assert [p["metadata"]["name"] for p in listing["items"]] == []


async def test_restarted_kubelet_adopts_running_pods(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        before = await c.client.get("pods", "web", "default")
        old = kubelet_ctl(c)
        await old.stop()
        c.controllers.remove(old)
        new = Kubelet(c.client, c.clock, config=c.config)
        await new.start()
        c.controllers.append(new)
        await c.settle()
        after = await c.client.get("pods", "web", "default")
        assert after["status"]["containerStatuses"] == before["status"]["containerStatuses"]
        assert after["status"]["podIP"] == before["status"]["podIP"]
        assert len(kubelet_events_for(await pod_events(c, "web"))) == 4  # nothing started twice


async def test_network_not_ready_node_does_not_start_pods(make_cluster: Any) -> None:
    nodes = [{"name": "node1", "zone": "cn-hangzhou-b", "ready": False}]
    async with make_cluster(nodes=nodes) as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        st = (await c.client.get("pods", "web", "default"))["status"]
        assert st["phase"] == "Pending"
        (event,) = await pod_events(c, "web")
        assert (event["type"], event["reason"], event["message"]) == (
            "Warning", "NetworkNotReady",
            "network is not ready: container runtime network not ready: NetworkReady=false "
            "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")


async def test_logs_come_from_the_written_status(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("web"), "default")
        await c.settle()
        text = pod_log(c.engine, "default", "web", {})
        assert "container c started on node node1" in text


async def test_one_recorder_writes_every_nodes_events_with_its_node_as_host(make_cluster: Any) -> None:
    """The kubelets of all nodes share one recorder; each event still names its pod's node."""
    async with make_cluster() as c:
        await c.client.create("pods", pod("a", "node1"), "default")
        await c.client.create("pods", pod("b", "node2", claim="missing"), "default")  # FailedMount: pod-level
        await c.settle()
        for name, node, reasons in (("a", "node1", ["Pulling", "Pulled", "Created", "Started"]),
                                    ("b", "node2", ["FailedMount"])):
            events = await pod_events(c, name)
            assert [e["reason"] for e in events] == reasons
            assert all(e["source"] == {"component": "kubelet", "host": node} and e["reportingInstance"] == node
                       for e in events)
        assert isinstance(kubelet_ctl(c).events, KubeletRecorder)


class _RemoteStub:
    remote = True


class _InProcessStub:
    remote = False


def test_worker_counts_are_the_components_own_in_process_and_many_over_http() -> None:
    clock = VirtualClock()
    assert Kubelet(_InProcessStub(), clock).workers == Kubelet.workers == 4  # type: ignore[arg-type]
    assert NodeHeartbeat(_InProcessStub(), clock).workers == NodeHeartbeat.workers == 1  # type: ignore[arg-type]
    assert Kubelet(_RemoteStub(), clock).workers == KUBELET_REMOTE_WORKERS  # type: ignore[arg-type]
    assert NodeHeartbeat(_RemoteStub(), clock).workers == KUBELET_REMOTE_WORKERS  # type: ignore[arg-type]
    config = ClusterConfig.from_dict({**BASE, "timings": {"kubeletWorkers": 8}})
    for client in (_InProcessStub(), _RemoteStub()):
        assert Kubelet(client, clock, config).workers == 8  # type: ignore[arg-type]
        assert NodeHeartbeat(client, clock, config).workers == 8  # type: ignore[arg-type]
