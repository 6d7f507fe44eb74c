"""storage.md §7(c): a zone-restricted class (zone d) on a cluster whose workers are all in zone b,
then fixed, on the course's default cluster (``cn-hangzhou-b`` nodes, the cloud also has
``cn-hangzhou-d``) with its cloud-disk CSI driver.

Runs the PV controller, the protection controllers, the scheduler and the external
provisioners. The class is fixed both ways the spec allows: an in-place edit of
``allowedTopologies`` (as the course does) and delete-and-recreate (with the transient
"class missing" behaviour of step 3).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.scheduler.scheduler import Scheduler

JSON = dict[str, Any]
NS = "default"
DRIVER = "diskplugin.csi.alibabacloud.com"
ZONE = "topology.kubernetes.io/zone"
CONTROLLERS = [
    NamespaceController,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    ExternalProvisioners,
    Scheduler,
]
READY = all(importlib.util.find_spec(m) is not None for m in (
    "minikube_lite.scheduler.scheduler", "minikube_lite.controllers.sidecars.provisioning.controller", "minikube_lite.csi.registry"))
pytestmark = pytest.mark.skipif(not READY, reason="the scheduler, provisioner or CSI drivers are not in this tree yet")

PREEMPTION = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
NO_NODE = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 node(s) didn't find available persistent volumes to bind." + PREEMPTION)
UNBOUND_IMMEDIATE = "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims." + PREEMPTION
EXTERNAL = (f"Waiting for a volume to be created either by the external provisioner '{DRIVER}' or manually by "
            "the system administrator. If volume creation is delayed, please verify that the provisioner is "
            "running and correctly registered.")
WAIT_FIRST = ("Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
WAIT_POD = ("Normal", "WaitForPodScheduled", "waiting for pod app to be scheduled")


def zonal(zone: str) -> JSON:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "zonal"},
            "provisioner": DRIVER, "parameters": {"type": "cloud_ssd"}, "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": [zone]}]}]}


DATA: JSON = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
              "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "zonal",
                       "resources": {"requests": {"storage": "20Gi"}}}}
APP: JSON = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
             "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                      "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}


@pytest.fixture
def scenario() -> Callable[..., Any]:
    @asynccontextmanager
    async def make() -> AsyncIterator[Cluster]:
        async with Cluster(clock=VirtualClock(), components=[*CONTROLLERS, "kubelet", "kubelet-volume-expansion"]) as c:
            yield c

    return make


async def reasons(c: Cluster, name: str) -> list[tuple[str, str, str]]:
    items = (await c.client.list("events", NS, field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: (e.get("lastTimestamp") or "", int(e["metadata"]["resourceVersion"])))
    return [(e["type"], e["reason"], e["message"]) for e in items]


async def advance(c: Cluster, seconds: float) -> None:
    assert isinstance(c.clock, VirtualClock)
    await c.settle(timeout=60)
    await c.clock.advance(seconds)
    await c.settle(timeout=60)


async def steps_1_and_2(c: Cluster) -> None:
    await c.client.create("storageclasses", zonal("cn-hangzhou-d"))
    await c.client.create("pvc", DATA, NS)
    await c.settle(timeout=60)
    # Step 1: delay binding, no provisioning yet.
    claim = await c.client.get("pvc", "data", NS)
    assert claim["status"]["phase"] == "Pending"
    assert "volume.kubernetes.io/storage-provisioner" not in (claim["metadata"].get("annotations") or {})
    assert set(await reasons(c, "data")) == {WAIT_FIRST}

    # Step 2: no node is in zone d, so the pod cannot be scheduled.
    await c.client.create("pods", APP, NS)
    await advance(c, 15)
    assert ("Warning", "FailedScheduling", NO_NODE) in await reasons(c, "app")
    app = await c.client.get("pods", "app", NS)
    assert not app["spec"].get("nodeName")
    cond = next(x for x in app["status"]["conditions"] if x["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", NO_NODE)
    assert (await reasons(c, "data"))[-1] == WAIT_POD
    claim = await c.client.get("pvc", "data", NS)
    assert claim["status"]["phase"] == "Pending"
    assert "volume.kubernetes.io/selected-node" not in (claim["metadata"].get("annotations") or {})


async def steps_4_to_8(c: Cluster) -> None:
    await c.settle()
    claim = await c.client.get("pvc", "data", NS)
    uid = claim["metadata"]["uid"]
    anns = claim["metadata"]["annotations"]
    node = anns["volume.kubernetes.io/selected-node"]
    assert node in ("node1", "node2")
    # Step 5: the PV controller hands the claim to the external provisioner.
    assert anns["volume.kubernetes.io/storage-provisioner"] == DRIVER
    assert anns["volume.beta.kubernetes.io/storage-provisioner"] == DRIVER
    events = await reasons(c, "data")
    assert ("Normal", "ExternalProvisioning", EXTERNAL) in events
    # Step 6: provisioned in zone b.
    assert ("Normal", "ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid}") in events
    volume = await c.client.get("persistentvolumes", f"pvc-{uid}")
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == DRIVER
    assert volume["spec"]["claimRef"]["name"] == "data" and volume["spec"]["claimRef"]["uid"] == uid
    terms = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert all(v == "cn-hangzhou-b" for t in terms for e in t["matchExpressions"] if "zone" in e["key"]
               for v in e["values"])
    # Step 7: bound.
    assert volume["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == f"pvc-{uid}"
    assert anns["pv.kubernetes.io/bind-completed"] == "yes" and anns["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert claim["status"] == {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}}
    # Step 8: the pod lands on the selected node.
    app = await c.client.get("pods", "app", NS)
    assert app["spec"]["nodeName"] == node
    assert ("Normal", "Scheduled", f"Successfully assigned default/app to {node}") in await reasons(c, "app")
    # One cloud disk, in zone b, behind the PV.
    disks = c.cloud.describe_disks()
    assert [(d.disk_id, d.zone) for d in disks] == [(volume["spec"]["csi"]["volumeHandle"], "cn-hangzhou-b")]


async def test_scenario_c_fixed_by_editing_allowed_topologies(scenario: Any) -> None:
    async with scenario() as c:
        await steps_1_and_2(c)
        # Step 3 (course): edit allowedTopologies in place, zone d -> zone b (accepted, §0.4).
        sc = await c.client.get("storageclasses", "zonal")
        sc["allowedTopologies"] = zonal("cn-hangzhou-b")["allowedTopologies"]
        await c.client.update("storageclasses", sc)
        # Step 4: the class update requeues the pod.
        await steps_4_to_8(c)


async def test_scenario_c_fixed_by_recreating_the_class(scenario: Any) -> None:
    async with scenario() as c:
        await steps_1_and_2(c)
        # Step 3 (brief): delete the class; while it is missing the claim is treated as Immediate.
        await c.client.delete("storageclasses", "zonal")
        await advance(c, 15)
        assert ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "zonal" not found') in \
            await reasons(c, "data")
        assert (await c.client.get("pvc", "data", NS))["status"]["phase"] == "Pending"
        # A class delete does not requeue the pod; the unschedulable-pods flush (5 min) retries it.
        await advance(c, 300)
        assert ("Warning", "FailedScheduling", UNBOUND_IMMEDIATE) in await reasons(c, "app")
        await c.client.create("storageclasses", zonal("cn-hangzhou-b"))
        await steps_4_to_8(c)
