"""Storage capacity tracking (issue 6 item 6; storage.md §2.4 step 4 reads what this publishes).

The capacity controller publishes one CSIStorageCapacity per (topology segment, StorageClass) of
each driver whose CSIDriver says ``storageCapacity: true``, from the cloud's free quota.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_lite.api.quantity import parse_quantity
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.capacity import (
    LABEL_DRIVER,
    LABEL_MANAGED_BY,
    CapacityController,
    cloud_free_capacity,
)

DRIVER = "capacity.csi.example.com"
ZONE = "topology.kubernetes.io/zone"
GIB = 1024**3

CONFIG = {
    "nodes": [
        {"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
        {"name": "node1", "zone": "cn-hangzhou-b"},
        {"name": "node2", "zone": "cn-hangzhou-d"},
    ],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"],
              "quotas": {"disksPerZone": 2, "totalCapacityGiB": 500}},
    "drivers": [],
    "objects": [],
}


class CloudBackedDriver:
    """The least a driver needs for the capacity controller: capabilities and its cloud."""

    def __init__(self, cloud: Any, get_capacity: bool = False) -> None:
        self.cloud = cloud
        self.calls: list[Any] = []

    def get_plugin_capabilities(self) -> list[str]:
        return ["CONTROLLER_SERVICE", "VOLUME_ACCESSIBILITY_CONSTRAINTS"]

    def controller_get_capabilities(self) -> list[str]:
        return ["CREATE_DELETE_VOLUME"]


def csidriver(storage_capacity: bool = True) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": DRIVER},
            "spec": {"attachRequired": True, "storageCapacity": storage_capacity}}


def csinode(node: str) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": node},
            "spec": {"drivers": [{"name": DRIVER, "nodeID": node, "topologyKeys": [ZONE]}]}}


def sc(name: str, category: str = "cloud_ssd") -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": DRIVER, "parameters": {"type": category}, "volumeBindingMode": "WaitForFirstConsumer"}


async def register(c: Cluster, node: str) -> None:
    """Add the test driver to the CSINode kubelet registration already created."""
    obj = await c.client.get("csinodes", node)
    obj["spec"]["drivers"] = [*(obj["spec"].get("drivers") or []), csinode(node)["spec"]["drivers"][0]]
    await c.client.update("csinodes", obj)


@pytest.fixture
async def env() -> AsyncIterator[tuple[Cluster, CapacityController]]:
    async with Cluster(ClusterConfig.from_dict(CONFIG), clock=VirtualClock()) as c:
        await c.client.create("csidrivers", csidriver())
        for node in ("node1", "node2"):
            await register(c, node)
        await c.client.create("storageclasses", sc("fast"))
        ctl = CapacityController(c.client, c.clock, config=c.config, cloud=c.cloud,
                                 drivers={DRIVER: CloudBackedDriver(c.cloud)})
        await ctl.start()
        await c.settle()
        try:
            yield c, ctl
        finally:
            await ctl.stop()


async def capacities(c: Cluster) -> dict[tuple[str, str], dict[str, Any]]:
    items = (await c.client.list("csistoragecapacities", "kube-system"))["items"]
    return {(o["nodeTopology"]["matchLabels"].get(ZONE, ""), o["storageClassName"]): o for o in items}


async def test_publishes_one_object_per_zone_and_class(env: Any) -> None:
    c, _ = env
    caps = await capacities(c)
    assert set(caps) == {("cn-hangzhou-b", "fast"), ("cn-hangzhou-d", "fast")}
    obj = caps[("cn-hangzhou-b", "fast")]
    assert obj["metadata"]["name"].startswith("csisc-")
    assert obj["metadata"]["labels"] == {LABEL_DRIVER: DRIVER, LABEL_MANAGED_BY: "external-provisioner"}
    assert obj["nodeTopology"] == {"matchLabels": {ZONE: "cn-hangzhou-b"}}
    assert parse_quantity(obj["capacity"]) == 500 * GIB
    assert parse_quantity(obj["maximumVolumeSize"]) == 500 * GIB


async def test_new_class_gets_objects_and_removed_class_loses_them(env: Any) -> None:
    c, _ = env
    await c.client.create("storageclasses", sc("other"))
    await c.settle()
    assert len(await capacities(c)) == 4
    await c.client.delete("storageclasses", "other")
    await c.settle()
    assert set(await capacities(c)) == {("cn-hangzhou-b", "fast"), ("cn-hangzhou-d", "fast")}


async def test_full_zone_reports_zero_after_the_poll_interval(env: Any) -> None:
    c, _ = env
    for i in range(2):
        await c.cloud.create_disk(zone="cn-hangzhou-b", size_gib=20, category="cloud_ssd", name=f"d{i}")
    await c.clock.advance(61)
    await c.settle()
    caps = await capacities(c)
    assert parse_quantity(caps[("cn-hangzhou-b", "fast")]["capacity"]) == 0
    assert parse_quantity(caps[("cn-hangzhou-d", "fast")]["capacity"]) == 460 * GIB


async def test_a_pv_of_the_driver_triggers_a_refresh(env: Any) -> None:
    c, _ = env
    disk = await c.cloud.create_disk(zone="cn-hangzhou-d", size_gib=100, category="cloud_ssd", name="x")
    await c.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-x"},
        "spec": {"capacity": {"storage": "100Gi"}, "accessModes": ["ReadWriteOnce"],
                 "csi": {"driver": DRIVER, "volumeHandle": disk.disk_id}}})
    await c.settle()
    caps = await capacities(c)
    assert parse_quantity(caps[("cn-hangzhou-b", "fast")]["capacity"]) == 400 * GIB


async def test_driver_without_storage_capacity_has_its_objects_removed(env: Any) -> None:
    c, _ = env
    obj = await c.client.get("csidrivers", DRIVER)
    await c.client.delete("csidrivers", DRIVER)
    obj["metadata"] = {"name": DRIVER}
    obj["spec"]["storageCapacity"] = False
    await c.client.create("csidrivers", obj)
    await c.settle()
    assert await capacities(c) == {}


async def test_restart_reuses_existing_objects(env: Any) -> None:
    c, ctl = env
    before = {k: v["metadata"]["name"] for k, v in (await capacities(c)).items()}
    await ctl.stop()
    again = CapacityController(c.client, c.clock, config=c.config, cloud=c.cloud,
                               drivers={DRIVER: CloudBackedDriver(c.cloud)})
    await again.start()
    await c.settle()
    after = {k: v["metadata"]["name"] for k, v in (await capacities(c)).items()}
    await again.stop()
    assert before == after


def test_cloud_free_capacity_caps_the_largest_volume_by_category(env: Any) -> None:
    c, _ = env
    value = cloud_free_capacity(c.cloud, {ZONE: "cn-hangzhou-b"}, {"type": "cloud"})
    assert value is not None and value.available == 500 * GIB and value.maximum == 500 * GIB
    c.cloud.config.quotas.totalCapacityGiB = 100000
    value = cloud_free_capacity(c.cloud, {ZONE: "cn-hangzhou-b"}, {"type": "cloud"})
    assert value is not None and value.maximum == 2000 * GIB
    assert cloud_free_capacity(c.cloud, {ZONE: "elsewhere"}, {}) is None


# ---------------------------------------------------------------- through the real cloud-disk driver

CLOUD_DRIVER = "diskplugin.csi.alibabacloud.com"
INSTANCE_KEY = "alibabacloud.com/ecs-instance-id"


@pytest.fixture
async def real_env() -> AsyncIterator[tuple[Cluster, CapacityController]]:
    config = {**CONFIG, "drivers": [{"name": CLOUD_DRIVER, "type": "cloud-disk", "storageCapacity": True}]}
    async with Cluster(ClusterConfig.from_dict(config), clock=VirtualClock()) as c:
        await c.client.create("storageclasses", {**sc("disk"), "provisioner": CLOUD_DRIVER})
        ctl = CapacityController(c.client, c.clock, config=c.config, cloud=c.cloud, drivers=c.drivers)
        await ctl.start()
        await c.settle()
        try:
            yield c, ctl
        finally:
            await ctl.stop()


async def test_get_capacity_per_registered_segment(real_env: Any) -> None:
    c, _ = real_env
    items = (await c.client.list("csistoragecapacities", "kube-system"))["items"]
    csinodes = (await c.client.list("csinodes"))["items"]
    registered = [n for n in csinodes if any(d["name"] == CLOUD_DRIVER for d in n["spec"].get("drivers") or [])]
    assert len(items) == len(registered) and items
    nodes = {n["metadata"]["name"]: n for n in (await c.client.list("nodes"))["items"]}
    for obj in items:
        labels = obj["nodeTopology"]["matchLabels"]
        matching = [n for n in nodes.values()
                    if all(n["metadata"]["labels"].get(k) == v for k, v in labels.items())]
        assert len(matching) >= 1 and obj["storageClassName"] == "disk"
        assert parse_quantity(obj["capacity"]) == 500 * GIB
        assert parse_quantity(obj["maximumVolumeSize"]) == 500 * GIB


async def test_get_capacity_sees_a_full_zone(real_env: Any) -> None:
    c, _ = real_env
    for i in range(2):
        await c.cloud.create_disk(zone="cn-hangzhou-d", size_gib=20, category="cloud_ssd", name=f"d{i}")
    await c.clock.advance(61)
    await c.settle()
    items = (await c.client.list("csistoragecapacities", "kube-system"))["items"]
    by_zone: dict[str, set[int]] = {}
    for obj in items:
        zone = next(v for k, v in obj["nodeTopology"]["matchLabels"].items() if k.endswith("/zone"))
        by_zone.setdefault(zone, set()).add(int(parse_quantity(obj["capacity"])))
    assert by_zone == {"cn-hangzhou-b": {460 * GIB}, "cn-hangzhou-d": {0}}


# ---------------------------------------------------------------- with the scheduler (storage.md §2.4 step 4)

SCHEDULED_CONTROLLERS = [
    ("minikube_lite.controllers.namespace", "NamespaceController"),
    ("minikube_lite.controllers.pv_binder", "PersistentVolumeController"),
    ("minikube_lite.controllers.protection", "PVCProtectionController"),
    ("minikube_lite.controllers.protection", "PVProtectionController"),
    ("minikube_lite.controllers.provisioner", "ExternalProvisioners"),
    ("minikube_lite.controllers.capacity", "CapacityController"),
    ("minikube_lite.scheduler.scheduler", "Scheduler"),
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
    config = {**CONFIG, "cloud": {**CONFIG["cloud"], "quotas": {"disksPerZone": 1, "totalCapacityGiB": 500}},
              "drivers": [{"name": CLOUD_DRIVER, "type": "cloud-disk", "storageCapacity": True}]}
    async with Cluster(ClusterConfig.from_dict(config), clock=VirtualClock()) as c:
        await c.client.create("storageclasses", {**sc("topo"), "provisioner": CLOUD_DRIVER})
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
