"""Storage capacity tracking (issue 6 item 6; storage.md §2.4 step 4 reads what this publishes).

The capacity controller publishes one CSIStorageCapacity per (topology segment, StorageClass) of
each driver whose CSIDriver says ``storageCapacity: true``, from the driver's GetCapacity (the
cloud-disk driver answers with the account's free quota in the segment's zone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.capacity import LABEL_DRIVER, LABEL_MANAGED_BY, CapacityController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.kube.quantity import parse_quantity
from minikube_lite.scheduler.scheduler import Scheduler

ZONE = "topology.kubernetes.io/zone"
GIB = 1024**3
CLOUD_DRIVER = "diskplugin.csi.alibabacloud.com"
INSTANCE_KEY = "alibabacloud.com/ecs-instance-id"
DRIVER_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"

CONFIG: dict[str, Any] = {
    "nodes": [
        {"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
        {"name": "node1", "zone": "cn-hangzhou-b"},
        {"name": "node2", "zone": "cn-hangzhou-d"},
    ],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"],
              "quotas": {"disksPerZone": 2, "totalCapacityGiB": 500}},
    "drivers": [{"name": CLOUD_DRIVER, "type": "cloud-disk", "storageCapacity": True}],
    "objects": [],
}


def sc(name: str, category: str = "cloud_ssd") -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": CLOUD_DRIVER, "parameters": {"type": category},
            "volumeBindingMode": "WaitForFirstConsumer"}


@pytest.fixture
async def env(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Cluster, CapacityController]]:
    import minikube_lite.cluster as cluster_mod

    # Only the controller under test publishes (the cluster's own list may include one too).
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [NamespaceController])
    async with Cluster(ClusterConfig.from_dict(CONFIG), clock=VirtualClock()) as c:
        await c.client.create("storageclasses", sc("fast"))
        ctl = CapacityController(c.client, c.clock, config=c.config, drivers=c.drivers)
        await ctl.start()
        await c.settle()
        try:
            yield c, ctl
        finally:
            await ctl.stop()


async def capacities(c: Cluster) -> list[dict[str, Any]]:
    return list((await c.client.list("csistoragecapacities", "kube-system"))["items"])


async def by_zone(c: Cluster, cls: str = "fast") -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for obj in await capacities(c):
        if obj["storageClassName"] == cls:
            zone = obj["nodeTopology"]["matchLabels"][DRIVER_ZONE_KEY]
            out.setdefault(zone, set()).add(int(parse_quantity(obj["capacity"])))
    return out


async def registered_nodes(c: Cluster) -> dict[str, dict[str, Any]]:
    csinodes = (await c.client.list("csinodes"))["items"]
    names = {n["metadata"]["name"] for n in csinodes
             if any(d["name"] == CLOUD_DRIVER for d in n["spec"].get("drivers") or [])}
    return {n["metadata"]["name"]: n for n in (await c.client.list("nodes"))["items"]
            if n["metadata"]["name"] in names}


async def test_one_object_per_registered_segment_and_class_from_get_capacity(env: Any) -> None:
    c, _ = env
    items = await capacities(c)
    nodes = await registered_nodes(c)
    assert len(items) == len(nodes) == 3
    for obj in items:
        assert obj["metadata"]["name"].startswith("csisc-")
        assert obj["metadata"]["labels"] == {LABEL_DRIVER: CLOUD_DRIVER, LABEL_MANAGED_BY: "external-provisioner"}
        assert obj["storageClassName"] == "fast"
        labels = obj["nodeTopology"]["matchLabels"]
        assert INSTANCE_KEY in labels and DRIVER_ZONE_KEY in labels
        [node] = [n for n in nodes.values() if all(n["metadata"]["labels"].get(k) == v for k, v in labels.items())]
        assert labels[DRIVER_ZONE_KEY] == node["metadata"]["labels"][ZONE]
        assert parse_quantity(obj["capacity"]) == 500 * GIB
        assert parse_quantity(obj["maximumVolumeSize"]) == 500 * GIB


async def test_new_class_gets_objects_and_removed_class_loses_them(env: Any) -> None:
    c, _ = env
    await c.client.create("storageclasses", sc("other"))
    await c.settle()
    assert len(await capacities(c)) == 6
    await c.client.delete("storageclasses", "other")
    await c.settle()
    assert {o["storageClassName"] for o in await capacities(c)} == {"fast"}
    assert len(await capacities(c)) == 3


@pytest.mark.allow_disk_leaks  # fills the zone with hand-made disks that have no PV
async def test_full_zone_reports_zero_after_the_poll_interval(env: Any) -> None:
    c, _ = env
    for i in range(2):
        await c.cloud.create_disk(zone="cn-hangzhou-d", size_gib=20, category="cloud_ssd", name=f"d{i}")
    await c.clock.advance(61)
    await c.settle()
    assert await by_zone(c) == {"cn-hangzhou-b": {460 * GIB}, "cn-hangzhou-d": {0}}


async def test_a_pv_of_the_driver_triggers_a_refresh(env: Any) -> None:
    c, _ = env
    disk = await c.cloud.create_disk(zone="cn-hangzhou-d", size_gib=100, category="cloud_ssd", name="x")
    await c.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-x"},
        "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"],
                 "csi": {"driver": CLOUD_DRIVER, "volumeHandle": disk.disk_id}}})
    await c.settle()
    assert await by_zone(c) == {"cn-hangzhou-b": {400 * GIB}, "cn-hangzhou-d": {400 * GIB}}


async def test_driver_without_storage_capacity_has_its_objects_removed(env: Any) -> None:
    c, _ = env
    obj = await c.client.get("csidrivers", CLOUD_DRIVER)
    await c.client.delete("csidrivers", CLOUD_DRIVER)
    obj["metadata"] = {"name": CLOUD_DRIVER}
    obj["spec"]["storageCapacity"] = False
    await c.client.create("csidrivers", obj)
    await c.settle()
    assert await capacities(c) == []


async def test_restart_reuses_existing_objects(env: Any) -> None:
    c, ctl = env
    before = sorted(o["metadata"]["name"] for o in await capacities(c))
    await ctl.stop()
    again = CapacityController(c.client, c.clock, config=c.config, drivers=c.drivers)
    await again.start()
    await c.settle()
    after = sorted(o["metadata"]["name"] for o in await capacities(c))
    await again.stop()
    assert before == after


async def test_maximum_volume_size_is_capped_by_the_category(env: Any) -> None:
    c, _ = env
    c.cloud.config.quotas.totalCapacityGiB = 100000
    await c.client.create("storageclasses", sc("basic", category="cloud"))
    await c.settle()
    basic = [o for o in await capacities(c) if o["storageClassName"] == "basic"]
    assert basic and all(parse_quantity(o["maximumVolumeSize"]) == 2000 * GIB for o in basic)
    assert all(parse_quantity(o["capacity"]) == 100000 * GIB for o in basic)


# ---------------------------------------------------------------- with the scheduler (storage.md §2.4 step 4)

SCHEDULED_CONTROLLERS = [
    NamespaceController,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    ExternalProvisioners,
    CapacityController,
    Scheduler,
]


def pod_with_claim(name: str, claim: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}}


def wffc_claim(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                     "storageClassName": "topo"}}


async def test_scheduler_avoids_a_full_zone_then_reports_not_enough_free_storage(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import minikube_lite.cluster as cluster_mod

    monkeypatch.setattr(cluster_mod, "CONTROLLERS", SCHEDULED_CONTROLLERS)
    config = {**CONFIG, "cloud": {**CONFIG["cloud"], "quotas": {"disksPerZone": 1, "totalCapacityGiB": 500}}}
    async with Cluster(ClusterConfig.from_dict(config), clock=VirtualClock()) as c:
        await c.client.create("storageclasses", sc("topo"))
        nodes_used = []
        for i in range(2):
            await c.client.create("pvc", wffc_claim(f"data{i}"), "default")
            await c.client.create("pods", pod_with_claim(f"app{i}", f"data{i}"), "default")
            await c.settle()
            pod = await c.client.get("pods", f"app{i}", "default")
            assert pod["spec"].get("nodeName"), pod.get("status")
            nodes_used.append(pod["spec"]["nodeName"])
            assert (await c.client.get("pvc", f"data{i}", "default"))["status"]["phase"] == "Bound"
        assert sorted(nodes_used) == ["node1", "node2"]
        assert sorted(d.zone for d in c.cloud.disks.values()) == ["cn-hangzhou-b", "cn-hangzhou-d"]
        await c.client.create("pvc", wffc_claim("data2"), "default")
        await c.client.create("pods", pod_with_claim("app2", "data2"), "default")
        await c.settle(timeout=30)
        pod = await c.client.get("pods", "app2", "default")
        assert not pod["spec"].get("nodeName")
        [cond] = [x for x in pod["status"]["conditions"] if x["type"] == "PodScheduled"]
        assert "node(s) did not have enough free storage" in cond["message"]
        assert len(c.cloud.disks) == 2
