"""storage.md §7(b): a local PV, ``kubernetes.io/no-provisioner`` and WaitForFirstConsumer.

Runs the PV controller, the protection controllers and the scheduler over the scenario's
three-node cluster and checks every step: object states, annotations, finalizers and the exact
events. The pod reaching ``Running`` (step 6) needs the fake kubelet and is checked only when a
kubelet controller is wired into ``cluster.CONTROLLERS``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.components import select
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.scheduler.scheduler import Scheduler

JSON = dict[str, Any]
NS = "default"
SCHEDULER = Scheduler
STORAGE = [
    NamespaceController,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
]
KUBELET = [c.cls for c in select("kubelet,kubelet-volume-expansion")]
HAVE_SCHEDULER = importlib.util.find_spec("minikube_lite.scheduler.scheduler") is not None
needs_scheduler = pytest.mark.skipif(not HAVE_SCHEDULER, reason="the scheduler is not in this tree yet")

CONFIG: JSON = {
    "nodes": [{"name": "cp", "controlPlane": True, "zone": "cn-hangzhou-b"},
              {"name": "worker-1", "zone": "cn-hangzhou-b"},
              {"name": "worker-2", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b"]},
    "drivers": [],
}
LOCAL_STORAGE: JSON = {
    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-storage"},
    "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer",
    "reclaimPolicy": "Retain",
}
PREEMPTION = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


def local_pv(reclaim: str = "Retain") -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "local-pv-1"},
            "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": reclaim, "storageClassName": "local-storage",
                     "local": {"path": "/mnt/disks/vol1"},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-1"]}]}]}}}}


LOCAL_CLAIM: JSON = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "local-claim"},
                     "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-storage",
                              "resources": {"requests": {"storage": "5Gi"}}}}
APP: JSON = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
             "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                      "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "local-claim"}}]}}


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(config: JSON = CONFIG, scheduler: bool = True) -> AsyncIterator[Cluster]:
        # The fake kubelet too.
        controllers = [*STORAGE, *KUBELET]
        if scheduler:
            controllers.append(SCHEDULER)
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", controllers)
        async with Cluster(ClusterConfig.from_dict(config), clock=VirtualClock()) as c:
            yield c

    return make


async def reasons(c: Cluster, name: str) -> list[tuple[str, str, str]]:
    items = (await c.client.list("events", NS, field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"])))
    return [(e["type"], e["reason"], e["message"]) for e in items]


async def advance(c: Cluster, seconds: float) -> None:
    assert isinstance(c.clock, VirtualClock)
    await c.settle()
    await c.clock.advance(seconds)
    await c.settle()


async def test_scenario_b_steps_1_to_3_without_scheduler(scenario: Any) -> None:
    """Steps 1-3 as the PV controller sees them while nothing schedules the pod."""
    async with scenario(scheduler=False) as c:
        await c.client.create("storageclasses", LOCAL_STORAGE)
        created = await c.client.create("persistentvolumes", local_pv())
        assert created["status"]["phase"] == "Pending"
        assert created["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
        await c.settle()
        assert (await c.client.get("persistentvolumes", "local-pv-1"))["status"]["phase"] == "Available"

        claim = await c.client.create("pvc", LOCAL_CLAIM, NS)
        assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
        await advance(c, 15)
        claim = await c.client.get("pvc", "local-claim", NS)
        assert claim["status"] == {"phase": "Pending"} and not claim["metadata"].get("annotations")
        assert set(await reasons(c, "local-claim")) == {
            ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")}
        first = (await c.client.list("events", NS, field_selector="involvedObject.name=local-claim"))["items"][0]
        assert first["count"] >= 2  # repeated every resync

        await c.client.create("pods", APP, NS)
        await advance(c, 15)
        assert (await reasons(c, "local-claim"))[-1] == (
            "Normal", "WaitForPodScheduled", "waiting for pod app to be scheduled")
        assert (await c.client.get("persistentvolumes", "local-pv-1"))["status"]["phase"] == "Available"


@needs_scheduler
async def test_scenario_b_binds_on_the_pv_node_and_retains_on_delete(scenario: Any) -> None:
    async with scenario() as c:
        await c.client.create("storageclasses", LOCAL_STORAGE)
        await c.client.create("persistentvolumes", local_pv())
        await c.client.create("pvc", LOCAL_CLAIM, NS)
        await c.settle()
        assert ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding") in \
            await reasons(c, "local-claim")

        await c.client.create("pods", APP, NS)
        await c.settle()
        # Steps 4-5: the scheduler pre-binds the PV, the PV controller completes the binding.
        volume = await c.client.get("persistentvolumes", "local-pv-1")
        claim = await c.client.get("pvc", "local-claim", NS)
        assert volume["spec"]["claimRef"]["name"] == "local-claim"
        assert volume["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
        assert volume["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
        assert volume["status"]["phase"] == "Bound"
        assert claim["spec"]["volumeName"] == "local-pv-1"
        assert claim["metadata"]["annotations"] == {"pv.kubernetes.io/bind-completed": "yes",
                                                    "pv.kubernetes.io/bound-by-controller": "yes"}
        assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "5Gi"}}
        assert "volume.kubernetes.io/storage-provisioner" not in claim["metadata"]["annotations"]
        # Step 6: bound to worker-1.
        app = await c.client.get("pods", "app", NS)
        assert app["spec"]["nodeName"] == "worker-1"
        assert ("Normal", "Scheduled", "Successfully assigned default/app to worker-1") in await reasons(c, "app")
        assert app["status"]["phase"] == "Running"

        # Step 8: delete the pod, then the claim: the PV is Released and keeps its claimRef (Retain).
        await c.client.delete("pvc", "local-claim", NS)
        await c.settle()
        assert (await c.client.get("pvc", "local-claim", NS))["metadata"]["deletionTimestamp"]  # pod still uses it
        await c.client.delete("pods", "app", NS, grace_period_seconds=0)
        await c.settle()
        assert not (await c.client.list("pvc", NS))["items"]
        volume = await c.client.get("persistentvolumes", "local-pv-1")
        assert volume["status"]["phase"] == "Released"
        assert volume["spec"]["claimRef"]["name"] == "local-claim"
        # Not rebindable until the claimRef is removed.
        await c.client.create("pvc", LOCAL_CLAIM, NS)
        await c.client.create("pods", APP, NS)
        await advance(c, 15)
        assert (await c.client.get("pvc", "local-claim", NS))["status"]["phase"] == "Pending"
        assert (await c.client.get("persistentvolumes", "local-pv-1"))["status"]["phase"] == "Released"


@needs_scheduler
async def test_scenario_b_delete_policy_fails(scenario: Any) -> None:
    """Step 8 with ``Delete``: no deleter for a local volume, so the PV goes Failed (§1.10)."""
    async with scenario() as c:
        await c.client.create("storageclasses", LOCAL_STORAGE)
        await c.client.create("persistentvolumes", local_pv("Delete"))
        await c.client.create("pvc", LOCAL_CLAIM, NS)
        await c.client.create("pods", APP, NS)
        await c.settle()
        assert (await c.client.get("pvc", "local-claim", NS))["status"]["phase"] == "Bound"
        await c.client.delete("pods", "app", NS, grace_period_seconds=0)
        await c.client.delete("pvc", "local-claim", NS)
        await c.settle()
        message = 'error getting deleter volume plugin for volume "local-pv-1": no deletable volume plugin matched'
        volume = await c.client.get("persistentvolumes", "local-pv-1")
        assert volume["status"]["phase"] == "Failed" and volume["status"]["message"] == message
        assert ("Warning", "VolumeFailedDelete", message) in await reasons(c, "local-pv-1")


@needs_scheduler
async def test_scenario_b_step_7_no_node_qualifies(scenario: Any) -> None:
    config = {**CONFIG, "nodes": [{"name": "cp", "controlPlane": True, "zone": "cn-hangzhou-b"},
                                  {"name": "worker-1", "zone": "cn-hangzhou-b", "unschedulable": True},
                                  {"name": "worker-2", "zone": "cn-hangzhou-b"}]}
    async with scenario(config) as c:
        await c.client.create("storageclasses", LOCAL_STORAGE)
        await c.client.create("persistentvolumes", local_pv())
        await c.client.create("pvc", LOCAL_CLAIM, NS)
        await c.client.create("pods", APP, NS)
        await c.settle(timeout=60)
        expected = ("0/3 nodes are available: 1 node(s) didn't find available persistent volumes to bind, "
                    "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
                    "1 node(s) were unschedulable." + PREEMPTION)
        assert ("Warning", "FailedScheduling", expected) in await reasons(c, "app")
        assert (await c.client.get("pvc", "local-claim", NS))["status"]["phase"] == "Pending"
        assert (await c.client.get("persistentvolumes", "local-pv-1"))["status"]["phase"] == "Available"
