"""Volume expansion, the whole path on the default cluster (virtual clock): a claim on the
expandable default class grows twice, first while no pod uses it (the node part waits), then
while its pod runs (online); the cloud disk, the PV, the claim status and the events follow
upstream at every step, and a claim on a class without expansion cannot grow."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster

JSON = dict[str, Any]
DRIVER = "diskplugin.csi.alibabacloud.com"


def claim(name: str, cls: str | None = None) -> JSON:
    spec: JSON = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}
    if cls:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


async def grow(c: Cluster, name: str, size: str) -> JSON:
    return await c.client.patch("pvc", name, {"spec": {"resources": {"requests": {"storage": size}}}}, "default")


async def reasons(c: Cluster, name: str) -> dict[str, int]:
    """Event reason -> count (a repeated event is one Event whose count grows, as client-go does)."""
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    return {e["reason"]: int(e.get("count") or 1) for e in items}


async def test_expansion_offline_then_online() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fixed"},
            "provisioner": DRIVER, "parameters": {"type": "cloud_ssd"}})
        await c.client.create("pvc", claim("data"), "default")
        await c.client.create("pvc", claim("other", "fixed"), "default")
        await c.settle()
        pvc = await c.client.get("pvc", "data", "default")
        pv_name = pvc["spec"]["volumeName"]
        disk_id = (await c.client.get("persistentvolumes", pv_name))["spec"]["csi"]["volumeHandle"]

        with pytest.raises(ApiError) as refused:
            await grow(c, "other", "30Gi")
        assert refused.value.code == 403

        # 1. No pod: the disk and the PV grow, the claim waits for the node.
        await grow(c, "data", "30Gi")
        await c.settle()
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["capacity"] == {"storage": "20Gi"}
        assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
        assert c.cloud.disks[disk_id].size_gib == 30
        assert (await c.client.get("persistentvolumes", pv_name))["spec"]["capacity"] == {"storage": "30Gi"}

        # 2. A pod starts on a node: the kubelet finishes the expansion.
        await c.client.create("pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
            "spec": {"containers": [{"name": "app", "image": "nginx"}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}, "default")
        await c.settle()
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["capacity"] == {"storage": "30Gi"} and "conditions" not in status
        assert "allocatedResourceStatuses" not in status

        # 3. Online: the pod keeps running while the claim grows again.
        await grow(c, "data", "50Gi")
        await c.settle()
        status = (await c.client.get("pvc", "data", "default"))["status"]
        assert status["capacity"] == {"storage": "50Gi"} and status["allocatedResources"] == {"storage": "50Gi"}
        assert c.cloud.disks[disk_id].size_gib == 50 and c.cloud.disks[disk_id].status == "In_use"
        assert (await c.client.get("pods", "app", "default"))["status"]["phase"] == "Running"

        counts = await reasons(c, "data")
        assert {r: counts.get(r) for r in ("ExternalExpanding", "Resizing", "FileSystemResizeRequired")} == {
            "ExternalExpanding": 2, "Resizing": 2, "FileSystemResizeRequired": 2}
        # The kubelet's message names the node and the volume: the same both times, one event.
        assert counts["FileSystemResizeSuccessful"] == 2
        assert (await reasons(c, "app"))["FileSystemResizeSuccessful"] == 2
        assert (await c.client.get("pvc", "other", "default"))["status"]["capacity"] == {"storage": "20Gi"}
        assert [o["operation"] for o in c.cloud.log].count("ResizeDisk") == 2
