"""Every mock-cloud operation and each of its refusals, on a virtual clock."""

from __future__ import annotations

import asyncio

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import (
    CloudError,
    CloudTimeoutError,
    DiskInUseError,
    IdempotencyError,
    IncorrectStatusError,
    InvalidParameterError,
    MockCloud,
    NotFoundError,
    QuotaExceededError,
    ZoneError,
)
from minikube_lite.cloud import errors as E
from minikube_lite.cloud.config import CloudConfig
from minikube_lite.cloud.models import EMPTY_CHECKSUM, checksum
from minikube_lite.config import ClusterConfig

ZB, ZD = "cn-hangzhou-b", "cn-hangzhou-d"


def make_cloud(**overrides: object) -> tuple[MockCloud, VirtualClock]:
    clock = VirtualClock(start=1_700_000_000)
    cfg = CloudConfig.model_validate({"otherRegions": {"cn-shanghai": ["cn-shanghai-a"]}, **overrides})
    cloud = MockCloud(cfg, clock)
    cloud.add_instance("node1", ZB)
    cloud.add_instance("node-d", ZD)
    return cloud, clock


def inst(cloud: MockCloud, node: str) -> str:
    i = cloud.instance_for_node(node)
    assert i is not None
    return i.instance_id


async def ready_disk(cloud: MockCloud, clock: VirtualClock, zone: str = ZB, size: int = 20, **kw: object) -> str:
    disk = await cloud.create_disk(zone=zone, size_gib=size, category="cloud_ssd", **kw)  # type: ignore[arg-type]
    await clock.advance(cloud.config.durations.createDisk + cloud.config.durations.restoreDisk)
    assert cloud.disks[disk.disk_id].status == "Available"
    return disk.disk_id


async def test_create_disk_goes_creating_then_available() -> None:
    cloud, clock = make_cloud()
    disk = await cloud.create_disk(zone=ZB, size_gib=40, category="cloud_ssd", name="pvc-1")
    assert disk.disk_id.startswith("d-") and disk.status == "Creating"
    assert disk.region == "cn-hangzhou" and disk.size_gib == 40 and disk.content.checksum == EMPTY_CHECKSUM
    await clock.advance(1.9)
    assert disk.status == "Creating"
    await clock.advance(0.1)
    assert disk.status == "Available"
    assert cloud.describe_disks(name="pvc-1") == [disk]


async def test_create_disk_idempotent_by_client_token() -> None:
    cloud, _ = make_cloud()
    a = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", client_token="pvc-x")
    b = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", client_token="pvc-x")
    assert a is b and len(cloud.disks) == 1
    with pytest.raises(IdempotencyError) as exc:
        await cloud.create_disk(zone=ZD, size_gib=20, category="cloud_ssd", client_token="pvc-x")
    assert exc.value.code == E.IDEMPOTENT_MISMATCH


@pytest.mark.parametrize(
    ("kwargs", "exc_type", "code"),
    [
        ({"zone": "cn-hangzhou-z", "size_gib": 20}, ZoneError, E.ZONE_NOT_SUPPORTED),
        ({"zone": ZB, "size_gib": 10}, InvalidParameterError, E.INVALID_SIZE),
        ({"zone": ZB, "size_gib": 40000}, InvalidParameterError, E.INVALID_SIZE),
        ({"zone": ZB, "size_gib": 20, "category": "floppy"}, InvalidParameterError, E.INVALID_CATEGORY),
        ({"zone": ZB, "size_gib": 20, "snapshot_id": "s-missing"}, NotFoundError, E.SNAPSHOT_NOT_FOUND),
    ],
)
async def test_create_disk_refusals(kwargs: dict, exc_type: type[CloudError], code: str) -> None:
    cloud, _ = make_cloud()
    kwargs.setdefault("category", "cloud_ssd")
    with pytest.raises(exc_type) as exc:
        await cloud.create_disk(**kwargs)
    assert exc.value.code == code
    assert cloud.disks == {}


async def test_quota_disks_per_zone_and_capacity() -> None:
    cloud, _ = make_cloud(quotas={"disksPerZone": 2, "totalCapacityGiB": 100})
    await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    with pytest.raises(QuotaExceededError) as exc:
        await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    assert exc.value.code == E.QUOTA_DISK
    await cloud.create_disk(zone=ZD, size_gib=40, category="cloud_ssd")  # 80 GiB used
    with pytest.raises(QuotaExceededError) as exc2:
        await cloud.create_disk(zone=ZD, size_gib=21, category="cloud_ssd")
    assert exc2.value.code == E.QUOTA_CAPACITY
    assert cloud.used_capacity_gib() == 80


async def test_attach_detach_cycle() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    i1 = inst(cloud, "node1")
    disk = await cloud.attach_disk(disk_id, i1)
    assert disk.status == "Attaching" and disk.instance_id == i1 and disk.device == "/dev/vdb"
    assert (await cloud.attach_disk(disk_id, i1)) is disk  # idempotent while attaching
    await clock.advance(2)
    assert disk.status == "In_use"
    assert cloud.instances[i1].disks == {disk_id: "/dev/vdb"}
    await cloud.detach_disk(disk_id, i1)
    assert disk.status == "Detaching"
    await clock.advance(1)
    assert disk.status == "Available" and disk.instance_ids == [] and cloud.instances[i1].disks == {}


async def test_attach_wrong_zone_refused() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock, zone=ZB)
    with pytest.raises(ZoneError) as exc:
        await cloud.attach_disk(disk_id, inst(cloud, "node-d"))
    assert exc.value.code == E.ZONE_MISMATCH
    assert cloud.disks[disk_id].status == "Available"


async def test_single_attach_disk_refuses_second_instance() -> None:
    cloud, clock = make_cloud()
    cloud.add_instance("node2", ZB)
    disk_id = await ready_disk(cloud, clock)
    await cloud.attach_disk(disk_id, inst(cloud, "node1"))
    await clock.advance(2)
    with pytest.raises(DiskInUseError) as exc:
        await cloud.attach_disk(disk_id, inst(cloud, "node2"))
    assert "already attached" in exc.value.message


async def test_attach_refusals() -> None:
    cloud, clock = make_cloud(quotas={"disksPerInstance": 1})
    creating = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    with pytest.raises(IncorrectStatusError):
        await cloud.attach_disk(creating.disk_id, inst(cloud, "node1"))
    with pytest.raises(NotFoundError) as exc:
        await cloud.attach_disk("d-nope", inst(cloud, "node1"))
    assert exc.value.code == E.DISK_NOT_FOUND
    await clock.advance(2)
    with pytest.raises(NotFoundError) as exc2:
        await cloud.attach_disk(creating.disk_id, "i-nope")
    assert exc2.value.code == E.INSTANCE_NOT_FOUND
    await cloud.attach_disk(creating.disk_id, inst(cloud, "node1"))
    other = await ready_disk(cloud, clock)
    with pytest.raises(QuotaExceededError) as exc3:
        await cloud.attach_disk(other, inst(cloud, "node1"))
    assert exc3.value.code == E.INSTANCE_DISK_LIMIT


async def test_detach_refusals() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    with pytest.raises(IncorrectStatusError):
        await cloud.detach_disk(disk_id, inst(cloud, "node1"))  # not attached
    with pytest.raises(NotFoundError):
        await cloud.detach_disk(disk_id, "i-nope")


async def test_multi_attach_disk_on_two_instances() -> None:
    cloud, clock = make_cloud()
    cloud.add_instance("node2", ZB)
    disk = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_essd", multi_attach=True)
    await clock.advance(2)
    await cloud.attach_disk(disk.disk_id, inst(cloud, "node1"))
    await clock.advance(2)
    await cloud.attach_disk(disk.disk_id, inst(cloud, "node2"))
    await clock.advance(2)
    assert disk.status == "In_use" and len(disk.instance_ids) == 2


async def test_delete_disk_refused_while_attached_then_deleted() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock)
    await cloud.attach_disk(disk_id, inst(cloud, "node1"))
    for _ in range(2):  # Attaching, then In_use
        with pytest.raises(DiskInUseError) as exc:
            await cloud.delete_disk(disk_id)
        assert exc.value.code == E.DISK_IN_USE
        await clock.advance(2)
    await cloud.detach_disk(disk_id, inst(cloud, "node1"))
    await clock.advance(1)
    await cloud.delete_disk(disk_id)
    assert cloud.disks[disk_id].status == "Deleting"
    await cloud.delete_disk(disk_id)  # a repeat while deleting is fine
    await clock.advance(1)
    assert disk_id not in cloud.disks
    with pytest.raises(NotFoundError):
        await cloud.delete_disk(disk_id)


async def test_delete_disk_while_creating_refused() -> None:
    cloud, _ = make_cloud()
    disk = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    with pytest.raises(IncorrectStatusError) as exc:
        await cloud.delete_disk(disk.disk_id)
    assert exc.value.code == E.INCORRECT_DISK_STATUS


async def test_snapshot_progress_then_accomplished() -> None:
    cloud, clock = make_cloud()
    disk_id = await ready_disk(cloud, clock, size=50)
    snap = await cloud.create_snapshot(disk_id, name="snap1")
    assert snap.snapshot_id.startswith("s-") and snap.status == "progressing" and snap.progress == 0
    assert snap.source_disk_size_gib == 50 and snap.size_bytes == 50 * 1024**3
    await clock.advance(2.5)
    assert snap.progress == 50 and snap.to_dict()["Progress"] == "50%"
    await clock.advance(2.5)
    assert snap.status == "accomplished" and snap.progress == 100


async def test_snapshot_rate_per_gib() -> None:
    cloud, clock = make_cloud(durations={"createSnapshot": 1, "snapshotSecondsPerGiB": 0.1})
    disk_id = await ready_disk(cloud, clock, size=100)
    snap = await cloud.create_snapshot(disk_id)
    await clock.advance(10.9)
    assert not snap.ready
    await clock.advance(0.1)
    assert snap.ready


async def test_snapshot_refusals() -> None:
    cloud, clock = make_cloud(quotas={"snapshots": 1})
    with pytest.raises(NotFoundError) as exc:
        await cloud.create_snapshot("d-missing")
    assert exc.value.code == E.DISK_NOT_FOUND
    creating = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    with pytest.raises(IncorrectStatusError):
        await cloud.create_snapshot(creating.disk_id)
    await clock.advance(2)
    await cloud.create_snapshot(creating.disk_id)
    with pytest.raises(QuotaExceededError) as exc2:
        await cloud.create_snapshot(creating.disk_id)
    assert exc2.value.code == E.QUOTA_SNAPSHOT


async def test_snapshot_idempotent_by_client_token() -> None:
    cloud, clock = make_cloud()
    d1 = await ready_disk(cloud, clock)
    d2 = await ready_disk(cloud, clock)
    a = await cloud.create_snapshot(d1, client_token="snapshot-1")
    assert (await cloud.create_snapshot(d1, client_token="snapshot-1")) is a
    with pytest.raises(IdempotencyError):
        await cloud.create_snapshot(d2, client_token="snapshot-1")


async def test_restore_holds_snapshot_data_not_later_writes() -> None:
    cloud, clock = make_cloud()
    src = await ready_disk(cloud, clock, size=20)
    cloud.write_disk(src, b"hello v1")
    snap = await cloud.create_snapshot(src)
    cloud.write_disk(src, b"hello v2")  # after the snapshot: must not leak into the restore
    await clock.advance(5)
    restored = await cloud.create_disk(zone=ZD, size_gib=None, category="cloud_ssd", snapshot_id=snap.snapshot_id)
    assert restored.size_gib == 20 and restored.source_snapshot_id == snap.snapshot_id
    await clock.advance(2.9)
    assert restored.status == "Creating"  # restore takes createDisk + restoreDisk
    await clock.advance(0.1)
    assert restored.status == "Available"
    assert restored.content.checksum == checksum(b"hello v1") and restored.content.generation == 1
    assert cloud.read_disk(src).checksum == checksum(b"hello v2")


async def test_restore_refusals() -> None:
    cloud, clock = make_cloud()
    src = await ready_disk(cloud, clock, size=30)
    snap = await cloud.create_snapshot(src)
    with pytest.raises(IncorrectStatusError) as exc:
        await cloud.create_disk(zone=ZB, size_gib=30, category="cloud_ssd", snapshot_id=snap.snapshot_id)
    assert exc.value.code == E.INCORRECT_SNAPSHOT_STATUS
    await clock.advance(5)
    with pytest.raises(InvalidParameterError) as exc2:
        await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", snapshot_id=snap.snapshot_id)
    assert exc2.value.code == E.SIZE_TOO_SMALL
    with pytest.raises(NotFoundError) as exc3:  # snapshots are regional
        await cloud.create_disk(zone="cn-shanghai-a", size_gib=30, category="cloud_ssd",
                                snapshot_id=snap.snapshot_id)
    assert exc3.value.code == E.SNAPSHOT_NOT_FOUND and "cn-shanghai" in exc3.value.message
    assert len(cloud.disks) == 1


async def test_delete_snapshot() -> None:
    cloud, clock = make_cloud()
    src = await ready_disk(cloud, clock)
    snap = await cloud.create_snapshot(src)
    await cloud.delete_snapshot(snap.snapshot_id)
    assert snap.status == "deleting"
    with pytest.raises(NotFoundError):  # a deleting snapshot cannot be restored
        await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", snapshot_id=snap.snapshot_id)
    await clock.advance(1)
    assert snap.snapshot_id not in cloud.snapshots
    with pytest.raises(NotFoundError) as exc:
        await cloud.delete_snapshot(snap.snapshot_id)
    assert exc.value.code == E.SNAPSHOT_NOT_FOUND


async def test_snapshot_survives_source_disk_deletion() -> None:
    cloud, clock = make_cloud()
    src = await ready_disk(cloud, clock)
    snap = await cloud.create_snapshot(src)
    await cloud.delete_disk(src)
    await clock.advance(5)
    assert snap.ready and src not in cloud.disks


async def test_wait_helpers_follow_the_virtual_clock() -> None:
    cloud, clock = make_cloud()
    disk = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd")
    waiter = asyncio.ensure_future(cloud.wait_disk(disk.disk_id, "Available", timeout=60))
    await asyncio.sleep(0)
    assert not waiter.done()
    await clock.advance(2)
    assert (await waiter) is disk
    slow = asyncio.ensure_future(cloud.wait_snapshot("s-none", timeout=1))
    with pytest.raises(NotFoundError):
        await slow
    cloud.config.durations.deleteDisk = 100
    await cloud.delete_disk(disk.disk_id)
    gone = asyncio.ensure_future(cloud.wait_disk_gone(disk.disk_id, timeout=5))
    await asyncio.sleep(0)
    await clock.advance(5)
    with pytest.raises(CloudTimeoutError):
        await gone


async def test_api_latency_spends_clock_time() -> None:
    cloud, clock = make_cloud(durations={"apiLatency": 0.5})
    task = asyncio.ensure_future(cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd"))
    await asyncio.sleep(0)
    assert not task.done() and cloud.disks == {}
    await clock.advance(0.5)
    assert task.done() and len(cloud.disks) == 1


def test_for_cluster_creates_one_instance_per_node_in_its_zone() -> None:
    config = ClusterConfig.default()
    cloud = MockCloud.for_cluster(config, VirtualClock())
    nodes = config.resolved_nodes()
    assert sorted(i.node_name for i in cloud.instances.values()) == ["master", "node1", "node2"]
    for node in nodes:
        instance = cloud.instance_for_node(node.name)
        assert instance is not None
        assert instance.instance_id == node.instance_id and instance.zone == node.zone == ZB
    assert cloud.zones == [ZB, ZD]
    with pytest.raises(ZoneError):
        cloud.add_instance("x", "mars-1")


async def test_to_dict_is_json_ready() -> None:
    import json

    cloud, clock = make_cloud()
    d = await ready_disk(cloud, clock)
    await cloud.create_snapshot(d)
    data = json.loads(json.dumps(cloud.to_dict()))
    assert data["disks"][0]["DiskId"] == d and data["snapshots"][0]["SourceDiskId"] == d
    assert data["usage"]["capacityGiB"] == 20
