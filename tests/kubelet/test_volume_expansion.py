"""The kubelet's NodeExpandVolume loop on the default cluster (virtual clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.kubelet.volume_expansion import KubeletVolumeExpansion

JSON = dict[str, Any]


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with Cluster(clock=VirtualClock()) as c:
        yield c


def pod(name: str = "app", claim: str = "data") -> JSON:
    # Tolerates the control plane: an Immediate host-path volume may be placed on any node.
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "nginx"}],
                     "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                      "effect": "NoSchedule"}],
                     "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}}


async def setup_claim(c: Cluster, cls: str | None = None, size: str = "20Gi") -> JSON:
    spec: JSON = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls:
        spec["storageClassName"] = cls
    await c.client.create("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                  "metadata": {"name": "data"}, "spec": spec}, "default")
    await c.client.create("pods", pod(), "default")
    await c.settle()
    running = await c.client.get("pods", "app", "default")
    assert running["status"]["phase"] == "Running"
    return running


async def reasons(c: Cluster, name: str) -> list[tuple[str, str, str, str]]:
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["reason"], e["source"]["component"], e["source"].get("host", ""), e["message"]) for e in items]


async def test_online_expansion_of_a_mounted_volume(cluster: Cluster) -> None:
    running = await setup_claim(cluster)
    node = running["spec"]["nodeName"]
    await cluster.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "30Gi"}}}}, "default")
    await cluster.settle()
    pvc = await cluster.client.get("pvc", "data", "default")
    assert pvc["status"]["capacity"] == {"storage": "30Gi"}
    assert "conditions" not in pvc["status"] and "allocatedResourceStatuses" not in pvc["status"]
    assert pvc["status"]["allocatedResources"] == {"storage": "30Gi"}
    pv_name = pvc["spec"]["volumeName"]
    done = ("FileSystemResizeSuccessful", "kubelet", node,
            f'MountVolume.NodeExpandVolume succeeded for volume "{pv_name}" {node}')
    assert done in await reasons(cluster, "app")
    assert (await reasons(cluster, "data"))[-1] == done


async def test_finished_claim_is_left_alone(cluster: Cluster) -> None:
    await setup_claim(cluster)
    await cluster.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "30Gi"}}}}, "default")
    await cluster.settle()
    before = (await cluster.client.get("pvc", "data", "default"), await reasons(cluster, "data"))
    loop = next(x for x in cluster.controllers if isinstance(x, KubeletVolumeExpansion))
    loop.queue.add("default/data")
    await cluster.settle()
    assert (await cluster.client.get("pvc", "data", "default"), await reasons(cluster, "data")) == before


async def test_hostpath_volume_finishes_on_its_node(cluster: Cluster) -> None:
    running = await setup_claim(cluster, cls="csi-hostpath-sc", size="1Gi")
    await cluster.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "3Gi"}}}}, "default")
    await cluster.settle()
    pvc = await cluster.client.get("pvc", "data", "default")
    assert pvc["status"]["capacity"] == {"storage": "3Gi"}
    driver = cluster.drivers["hostpath.csi.k8s.io"]
    handle = (await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"]))["spec"]["csi"]["volumeHandle"]
    assert driver.volumes[handle].size_bytes == 3 * 1024**3
    assert any(r[0] == "FileSystemResizeSuccessful" and r[2] == running["spec"]["nodeName"]
               for r in await reasons(cluster, "app"))


async def test_node_expansion_failure_is_recorded_and_retried(cluster: Cluster) -> None:
    """The volume vanishes from the node plugin: NodeResizeError and a Warning, then a retry
    after the backoff succeeds once the plugin knows the volume again."""
    await cluster.client.create("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                        "metadata": {"name": "data"},
                                        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "csi-hostpath-sc",
                                                 "resources": {"requests": {"storage": "1Gi"}}}}, "default")
    await cluster.settle()
    await cluster.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}, "default")
    await cluster.settle()
    pvc = await cluster.client.get("pvc", "data", "default")
    assert pvc["status"]["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    driver = cluster.drivers["hostpath.csi.k8s.io"]
    handle = (await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"]))["spec"]["csi"]["volumeHandle"]
    hidden = driver.volumes.pop(handle)
    await cluster.client.create("pods", pod(), "default")
    for _ in range(200):
        await cluster._quiesce()
        if any(r[0] == "FileSystemResizeFailed" for r in await reasons(cluster, "app")):
            break
        await cluster.clock.advance(0.5)  # type: ignore[attr-defined]
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["capacity"] == {"storage": "1Gi"}
    assert status["allocatedResourceStatuses"] == {"storage": "NodeResizePending"}
    error = next(c for c in status["conditions"] if c["type"] == "NodeResizeError")
    assert error["message"].startswith("failed to expand pvc with rpc error: code = NotFound desc = ")
    failed = next(r for r in await reasons(cluster, "app") if r[0] == "FileSystemResizeFailed")
    assert failed[3].startswith(f'MountVolume.NodeExpandVolume failed for volume "{pvc["spec"]["volumeName"]}"')
    driver.volumes[handle] = hidden
    await cluster.settle()
    status = (await cluster.client.get("pvc", "data", "default"))["status"]
    assert status["capacity"] == {"storage": "2Gi"} and "conditions" not in status


async def test_failed_node_expansion_backs_off_by_the_runtime_rule(cluster: Cluster) -> None:
    """Each failed NodeExpandVolume waits ``kubeletExpandRetryInitial`` doubling, even though its
    own status write (NodeResizeError) brings the claim back at once."""
    await cluster.client.create("pvc", {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                        "metadata": {"name": "data"},
                                        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "csi-hostpath-sc",
                                                 "resources": {"requests": {"storage": "1Gi"}}}}, "default")
    await cluster.settle()
    await cluster.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}, "default")
    await cluster.settle()
    pvc = await cluster.client.get("pvc", "data", "default")
    driver = cluster.drivers["hostpath.csi.k8s.io"]
    handle = (await cluster.client.get("persistentvolumes", pvc["spec"]["volumeName"]))["spec"]["csi"]["volumeHandle"]
    driver.volumes.pop(handle)
    await cluster.client.create("pods", pod(), "default")
    attempts: list[float] = []
    seen = 0
    for _ in range(200):
        await cluster._quiesce()
        items = (await cluster.client.list("events", "default", field_selector="involvedObject.name=app"))["items"]
        count = sum(int(e.get("count") or 1) for e in items if e["reason"] == "FileSystemResizeFailed")
        if count > seen:
            attempts.append(cluster.clock.now())
            seen = count
        if len(attempts) == 4:
            break
        await cluster.clock.advance(0.25)  # type: ignore[attr-defined]
    initial = cluster.config.timings.kubeletExpandRetryInitial
    gaps = [round(b - a, 3) for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps == [initial, 2 * initial, 4 * initial]
