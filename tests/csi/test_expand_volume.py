"""ControllerExpandVolume / NodeExpandVolume and the expansion capabilities of both drivers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import MockCloud
from minikube_lite.config import ClusterConfig, DriverConfig
from minikube_lite.csi import spec
from minikube_lite.csi.cloud_disk import CloudDiskDriver
from minikube_lite.csi.local import LocalDriver
from minikube_lite.csi.spec import Code, CsiError

T = TypeVar("T")
GIB = 1024**3
PATH = "/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pvc-1/mount"


def cloud_driver() -> tuple[CloudDiskDriver, MockCloud, VirtualClock]:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud.for_cluster(ClusterConfig.default(), clock)
    return CloudDiskDriver(cloud), cloud, clock


async def run(clock: VirtualClock, coro: Awaitable[T], step: float = 0.5, limit: float = 120) -> T:
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)
    spent = 0.0
    while not task.done() and spent < limit:
        await clock.advance(step)
        spent += step
    return await task


def expand(volume_id: str, size: int, **kw: object) -> spec.ControllerExpandVolumeRequest:
    return spec.ControllerExpandVolumeRequest(volume_id, spec.CapacityRange(size), **kw)  # type: ignore[arg-type]


async def new_disk(driver: CloudDiskDriver, clock: VirtualClock, size_gib: int = 20) -> str:
    req = spec.CreateVolumeRequest("pvc-1", spec.CapacityRange(size_gib * GIB), [spec.VolumeCapability()],
                                   {"type": "cloud_ssd"})
    return (await run(clock, driver.create_volume(req))).volume.volume_id


async def test_cloud_disk_capabilities_include_expansion() -> None:
    driver, _, _ = cloud_driver()
    assert spec.VolumeExpansion.ONLINE in await driver.get_plugin_capabilities()
    assert spec.ControllerCapability.EXPAND_VOLUME in await driver.controller_get_capabilities()
    assert spec.NodeCapability.EXPAND_VOLUME in await driver.node_get_capabilities()


async def test_cloud_disk_controller_expand_waits_for_the_cloud_and_is_idempotent() -> None:
    driver, cloud, clock = cloud_driver()
    disk_id = await new_disk(driver, clock)
    resp = await run(clock, driver.controller_expand_volume(expand(disk_id, 30 * GIB)))
    assert (resp.capacity_bytes, resp.node_expansion_required) == (30 * GIB, True)
    assert cloud.disks[disk_id].size_gib == 30
    calls = sum(1 for o in cloud.log if o["operation"] == "ResizeDisk")
    again = await run(clock, driver.controller_expand_volume(expand(disk_id, 25 * GIB)))
    assert again.capacity_bytes == 30 * GIB  # already as large: no second cloud call
    assert sum(1 for o in cloud.log if o["operation"] == "ResizeDisk") == calls
    block = await run(clock, driver.controller_expand_volume(
        expand(disk_id, 30 * GIB, volume_capability=spec.VolumeCapability(block=True))))
    assert block.node_expansion_required is False


async def test_cloud_disk_controller_expand_rounds_up_to_gib() -> None:
    driver, cloud, clock = cloud_driver()
    disk_id = await new_disk(driver, clock)
    resp = await run(clock, driver.controller_expand_volume(expand(disk_id, 20 * GIB + 1)))
    assert resp.capacity_bytes == 21 * GIB and cloud.disks[disk_id].size_gib == 21


@pytest.mark.parametrize(("setup", "code"), [
    ("no-id", Code.INVALID_ARGUMENT),
    ("no-range", Code.INVALID_ARGUMENT),
    ("limit", Code.OUT_OF_RANGE),
    ("missing", Code.NOT_FOUND),
    ("quota", Code.RESOURCE_EXHAUSTED),
    ("too-big", Code.INVALID_ARGUMENT),
    ("outage", Code.UNAVAILABLE),
])
async def test_cloud_disk_controller_expand_errors(setup: str, code: Code) -> None:
    driver, cloud, clock = cloud_driver()
    disk_id = await new_disk(driver, clock)
    req = expand(disk_id, 40 * GIB)
    if setup == "no-id":
        req.volume_id = ""
    elif setup == "no-range":
        req.capacity_range = None
    elif setup == "limit":
        req.capacity_range = spec.CapacityRange(40 * GIB, 30 * GIB)
    elif setup == "missing":
        req.volume_id = "d-nope"
    elif setup == "quota":
        cloud.config.quotas.totalCapacityGiB = 30
    elif setup == "too-big":
        req.capacity_range = spec.CapacityRange((cloud.config.categories["cloud_ssd"][1] + 1) * GIB)
    elif setup == "outage":
        cloud.faults.fail_next("ResizeDisk", code="ServiceUnavailable")
    with pytest.raises(CsiError) as err:
        await run(clock, driver.controller_expand_volume(req))
    assert err.value.code is code
    assert cloud.disks[disk_id].size_gib == 20


async def test_cloud_disk_node_expand_needs_the_disk_attached_here() -> None:
    driver, cloud, clock = cloud_driver()
    disk_id = await new_disk(driver, clock)
    node_req = spec.NodeExpandVolumeRequest(disk_id, "node1", PATH, spec.CapacityRange(20 * GIB))
    with pytest.raises(CsiError) as err:
        await driver.node_expand_volume(node_req)
    assert err.value.code is Code.FAILED_PRECONDITION
    instance = cloud.instance_for_node("node1")
    assert instance is not None
    await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(
        disk_id, instance.instance_id)))
    assert (await driver.node_expand_volume(node_req)).capacity_bytes == 20 * GIB
    for bad, code in ((spec.NodeExpandVolumeRequest("", "node1", PATH), Code.INVALID_ARGUMENT),
                      (spec.NodeExpandVolumeRequest(disk_id, "node1", ""), Code.INVALID_ARGUMENT),
                      (spec.NodeExpandVolumeRequest("d-nope", "node1", PATH), Code.NOT_FOUND)):
        with pytest.raises(CsiError) as err:
            await driver.node_expand_volume(bad)
        assert err.value.code is code


def local_driver(capacity: str = "10Gi") -> LocalDriver:
    dc = DriverConfig(name="hostpath.csi.k8s.io", type="local", capacityPerNode=capacity)
    return LocalDriver(dc, ["node1"], VirtualClock(start=1_700_000_000))


async def test_hostpath_expands_like_csi_driver_host_path() -> None:
    driver = local_driver()
    assert spec.VolumeExpansion.ONLINE in await driver.get_plugin_capabilities()
    assert spec.ControllerCapability.EXPAND_VOLUME in await driver.controller_get_capabilities()
    assert spec.NodeCapability.EXPAND_VOLUME in await driver.node_get_capabilities()
    vol = (await driver.create_volume(spec.CreateVolumeRequest(
        "pvc-1", spec.CapacityRange(GIB), [spec.VolumeCapability()]))).volume
    resp = await driver.controller_expand_volume(expand(vol.volume_id, 2 * GIB))
    assert (resp.capacity_bytes, resp.node_expansion_required) == (2 * GIB, True)
    smaller = await driver.controller_expand_volume(expand(vol.volume_id, GIB))
    assert smaller.capacity_bytes == 2 * GIB  # never shrinks
    node = await driver.node_expand_volume(spec.NodeExpandVolumeRequest(vol.volume_id, "node1", PATH))
    assert node.capacity_bytes == 2 * GIB


@pytest.mark.parametrize(("size", "code", "message"), [
    (11 * GIB, Code.RESOURCE_EXHAUSTED, None),
    (2 * 1024**4, Code.OUT_OF_RANGE, f"Requested capacity {2 * 1024**4} exceeds maximum allowed {1024**4}"),
])
async def test_hostpath_expand_refusals(size: int, code: Code, message: str | None) -> None:
    driver = local_driver()
    vol = (await driver.create_volume(spec.CreateVolumeRequest(
        "pvc-1", spec.CapacityRange(GIB), [spec.VolumeCapability()]))).volume
    with pytest.raises(CsiError) as err:
        await driver.controller_expand_volume(expand(vol.volume_id, size))
    assert err.value.code is code
    if message is not None:
        assert err.value.message == message
    assert driver.volumes[vol.volume_id].size_bytes == GIB
    with pytest.raises(CsiError) as missing:
        await driver.controller_expand_volume(expand("nope", GIB))
    assert missing.value.code is Code.NOT_FOUND
