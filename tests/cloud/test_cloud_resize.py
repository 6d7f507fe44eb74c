"""ResizeDisk on the mock cloud: grow only, limits and quota, async progress, faults, inspection."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import (
    IncorrectStatusError,
    InvalidParameterError,
    MockCloud,
    NotFoundError,
    QuotaExceededError,
)
from minikube_lite.cloud import errors as E
from minikube_lite.cloud.config import CloudConfig
from minikube_lite.cloud.errors import ConflictError, UnavailableError
from minikube_lite.cloud.http import cloud_app

ZB = "cn-hangzhou-b"


def make_cloud(**overrides: object) -> tuple[MockCloud, VirtualClock]:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud(CloudConfig.model_validate(overrides), clock)
    cloud.add_instance("node1", ZB)
    return cloud, clock


async def ready_disk(cloud: MockCloud, clock: VirtualClock, size: int = 20) -> str:
    disk = await cloud.create_disk(zone=ZB, size_gib=size, category="cloud_ssd")
    await clock.advance(cloud.config.durations.createDisk)
    return disk.disk_id


async def test_resize_grows_after_the_configured_duration() -> None:
    cloud, clock = make_cloud(durations={"resizeDisk": "4s"})
    disk_id = await ready_disk(cloud, clock)
    disk = await cloud.resize_disk(disk_id, 50)
    assert disk.size_gib == 20 and disk.resizing and disk.to_dict()["TargetSize"] == 50
    assert cloud.used_capacity_gib() == 50  # the new size is reserved at once
    await clock.advance(2)
    assert disk.to_dict()["ResizeProgress"] == "50%" and disk.size_gib == 20
    await clock.advance(2)
    assert disk.size_gib == 50 and not disk.resizing and disk.to_dict()["ResizeProgress"] == "100%"
    assert [o["operation"] for o in cloud.log][-1] == "ResizeDisk"


async def test_resize_while_in_use_and_waiting() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    await cloud.attach_disk(disk_id, cloud.instance_for_node("node1").instance_id)  # type: ignore[union-attr]
    await clock.advance(cloud.config.durations.attachDisk)
    await cloud.resize_disk(disk_id, 40)
    waiter = cloud.wait_disk_resized(disk_id)
    await clock.advance(cloud.config.durations.resizeDisk)
    assert (await waiter).size_gib == 40 and cloud.disks[disk_id].status == "In_use"


async def test_resize_same_target_is_idempotent_other_target_conflicts() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    first = await cloud.resize_disk(disk_id, 30)
    assert await cloud.resize_disk(disk_id, 30) is first
    with pytest.raises(ConflictError) as err:
        await cloud.resize_disk(disk_id, 40)
    assert err.value.message == E.MSG_RESIZE_IN_PROGRESS.format(disk=disk_id, target=30)


@pytest.mark.parametrize("size", [20, 10])
async def test_resize_refuses_not_growing(size: int) -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    with pytest.raises(InvalidParameterError) as err:
        await cloud.resize_disk(disk_id, size)
    assert err.value.code == E.INVALID_SIZE
    assert err.value.message == E.MSG_RESIZE_NOT_LARGER.format(size=size, disk=disk_id, current=20)
    assert cloud.disks[disk_id].size_gib == 20 and not cloud.disks[disk_id].resizing


async def test_resize_refuses_above_category_limit_and_quota() -> None:
    cloud, clock = make_cloud(quotas={"totalCapacityGiB": 100})
    disk_id = await ready_disk(cloud, clock)
    limit = cloud.config.categories["cloud_ssd"][1]
    with pytest.raises(InvalidParameterError) as too_big:
        await cloud.resize_disk(disk_id, limit + 1)
    assert too_big.value.code == E.INVALID_SIZE
    with pytest.raises(QuotaExceededError) as quota:
        await cloud.resize_disk(disk_id, 101)
    assert quota.value.code == E.QUOTA_CAPACITY
    assert (await cloud.resize_disk(disk_id, 100)).resize_target_gib == 100


async def test_resize_refuses_missing_and_creating_disks() -> None:
    cloud, clock = make_cloud()
    with pytest.raises(NotFoundError):
        await cloud.resize_disk("d-nope", 40)
    creating = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    with pytest.raises(IncorrectStatusError):
        await cloud.resize_disk(creating.disk_id, 40)


async def test_resize_faults_and_latency_apply() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    cloud.faults.fail_next("ResizeDisk", code="ServiceUnavailable")
    with pytest.raises(UnavailableError):
        await cloud.resize_disk(disk_id, 40)
    assert cloud.disks[disk_id].size_gib == 20 and not cloud.disks[disk_id].resizing
    assert cloud.faults.fired == [("ResizeDisk", "ServiceUnavailable")]
    assert (await cloud.resize_disk(disk_id, 40)).resize_target_gib == 40


async def test_resize_visible_over_http() -> None:
    cloud, clock = make_cloud(durations={"resizeDisk": "10s"})
    disk_id = await ready_disk(cloud, clock)
    await cloud.resize_disk(disk_id, 60)
    async with TestClient(TestServer(cloud_app(cloud))) as http:
        one = await (await http.get(f"/disks/{disk_id}")).json()
        assert (one["Size"], one["TargetSize"], one["ResizeProgress"]) == (20, 60, "0%")
        ops = await (await http.get("/operations")).json()
        assert ops["Operations"][-1]["operation"] == "ResizeDisk"
