"""Each injected fault: scripted one-shots, error rates (seeded), latency, zone outage."""

from __future__ import annotations

import asyncio

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import (
    CloudError,
    MockCloud,
    QuotaExceededError,
    UnavailableError,
    error_for_code,
)
from minikube_lite.cloud import errors as E
from minikube_lite.cloud.config import CloudConfig

ZB, ZD = "cn-hangzhou-b", "cn-hangzhou-d"


def make_cloud(**overrides: object) -> tuple[MockCloud, VirtualClock]:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud(CloudConfig.model_validate(overrides), clock)
    cloud.add_instance("node1", ZB)
    return cloud, clock


async def create(cloud: MockCloud, zone: str = ZB) -> str:
    return (await cloud.create_disk(zone=zone, size_gib=20, category="cloud_ssd")).disk_id


async def test_fail_next_in_one_zone_only_once() -> None:
    cloud, _ = make_cloud()
    cloud.faults.fail_next("CreateDisk", zone=ZD, code="QuotaExceed.Disk")
    await create(cloud, ZB)  # other zone: unaffected
    with pytest.raises(QuotaExceededError) as exc:
        await create(cloud, ZD)
    assert exc.value.code == "QuotaExceed.Disk"
    await create(cloud, ZD)  # one-shot: gone now
    assert len(cloud.disks) == 2
    assert cloud.faults.fired == [("CreateDisk", "QuotaExceed.Disk")]


async def test_fail_next_times_and_custom_message() -> None:
    cloud, clock = make_cloud()
    disk_id = await create(cloud)
    await clock.advance(2)
    cloud.faults.fail_next("AttachDisk", code="Throttling", message="slow down", times=2)
    for _ in range(2):
        with pytest.raises(UnavailableError) as exc:
            await cloud.attach_disk(disk_id, cloud.instance_for_node("node1").instance_id)  # type: ignore[union-attr]
        assert exc.value.message == "slow down"
    await cloud.attach_disk(disk_id, cloud.instance_for_node("node1").instance_id)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "operation", ["CreateDisk", "DeleteDisk", "AttachDisk", "DetachDisk", "CreateSnapshot", "DeleteSnapshot"]
)
async def test_every_operation_honours_scripted_faults(operation: str) -> None:
    cloud, clock = make_cloud()
    iid = cloud.instance_for_node("node1").instance_id  # type: ignore[union-attr]
    disk_id = await create(cloud)
    await clock.advance(2)
    snap = await cloud.create_snapshot(disk_id)
    await clock.advance(5)
    if operation == "DetachDisk":
        await cloud.attach_disk(disk_id, iid)
        await clock.advance(2)
    calls = {
        "CreateDisk": lambda: create(cloud),
        "DeleteDisk": lambda: cloud.delete_disk(disk_id),
        "AttachDisk": lambda: cloud.attach_disk(disk_id, iid),
        "DetachDisk": lambda: cloud.detach_disk(disk_id, iid),
        "CreateSnapshot": lambda: cloud.create_snapshot(disk_id),
        "DeleteSnapshot": lambda: cloud.delete_snapshot(snap.snapshot_id),
    }
    before = (dict(cloud.disks), dict(cloud.snapshots), cloud.disks[disk_id].status)
    cloud.faults.fail_next(operation, code="InternalError")
    with pytest.raises(CloudError) as exc:
        await calls[operation]()
    assert exc.value.code == "InternalError"
    assert (dict(cloud.disks), dict(cloud.snapshots), cloud.disks[disk_id].status) == before
    await calls[operation]()  # and the next call goes through


async def test_error_rate_is_seeded_and_reproducible() -> None:
    async def outcomes(seed: int) -> list[bool]:
        cloud, _ = make_cloud(faults={"seed": seed, "errorRates": {"CreateDisk": 0.5}})
        result = []
        for _ in range(30):
            try:
                await create(cloud)
                result.append(True)
            except UnavailableError as exc:
                assert exc.code == E.SERVICE_UNAVAILABLE
                result.append(False)
        return result

    first, again, other = await outcomes(7), await outcomes(7), await outcomes(8)
    assert first == again
    assert first != other
    assert 5 < first.count(False) < 25


async def test_error_rate_with_custom_code_and_wildcard() -> None:
    cloud, _ = make_cloud()
    cloud.faults.set_error_rate("*", 1.0, code="InternalError")
    with pytest.raises(CloudError) as exc:
        await create(cloud)
    assert exc.value.code == "InternalError"
    with pytest.raises(ValueError):
        cloud.faults.set_error_rate("CreateDisk", 1.5)


async def test_added_latency_delays_the_call() -> None:
    cloud, clock = make_cloud()
    cloud.faults.add_latency("CreateDisk", 3)
    task = asyncio.ensure_future(create(cloud))
    await asyncio.sleep(0)
    await clock.advance(2.9)
    assert not task.done()
    await clock.advance(0.1)
    assert task.done() and len(cloud.disks) == 1


async def test_zone_outage_blocks_the_zone_until_restored() -> None:
    cloud, _ = make_cloud(faults={"zoneOutages": [ZD]})
    with pytest.raises(UnavailableError) as exc:
        await create(cloud, ZD)
    assert exc.value.code == E.ZONE_OUTAGE and ZD in exc.value.message
    await create(cloud, ZB)
    cloud.faults.zone_outage(ZD, down=False)
    await create(cloud, ZD)


async def test_config_script_and_clear() -> None:
    cloud, _ = make_cloud(faults={"script": [{"operation": "CreateDisk", "code": "QuotaExceed.DiskCapacity"}]})
    with pytest.raises(QuotaExceededError):
        await create(cloud)
    cloud.faults.fail_next("CreateDisk")
    cloud.faults.zone_outage(ZB)
    cloud.faults.clear()
    await create(cloud)


@pytest.mark.parametrize(
    ("code", "cls_name"),
    [
        ("InvalidDiskId.NotFound", "NotFoundError"),
        ("QuotaExceed.Disk", "QuotaExceededError"),
        ("IncorrectDiskStatus", "IncorrectStatusError"),
        ("IncorrectDiskStatus.InUse", "DiskInUseError"),
        ("InvalidZoneId.NotSupported", "ZoneError"),
        ("InvalidDiskSize.ValueNotSupported", "InvalidParameterError"),
        ("OperationFailed.ZoneOutage", "UnavailableError"),
        ("Throttling", "UnavailableError"),
        ("OperationConflict", "ConflictError"),
        ("RequestTimeout", "CloudTimeoutError"),
        ("IdempotentParameterMismatch", "IdempotencyError"),
        ("SomethingElse", "CloudError"),
    ],
)
def test_error_for_code_builds_the_matching_type(code: str, cls_name: str) -> None:
    err = error_for_code(code, "m")
    assert type(err).__name__ == cls_name and err.code == code and err.message == "m"
