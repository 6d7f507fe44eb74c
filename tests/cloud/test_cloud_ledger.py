"""The quota counters follow the books: after every create, delete, resize and refusal they equal
a count over all disks and snapshots."""

from __future__ import annotations

from collections import Counter

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import CloudError, MockCloud
from minikube_lite.cloud.config import CloudConfig
from minikube_lite.cloud.ledger import Ledger
from minikube_lite.cloud.models import SNAPSHOT_DELETING, Disk

ZB, ZD = "cn-hangzhou-b", "cn-hangzhou-d"


def recount(cloud: MockCloud) -> tuple[dict[str, int], int, int]:
    """The books counted the slow way."""
    return (dict(Counter(d.zone for d in cloud.disks.values())), sum(d.reserved_gib for d in cloud.disks.values()),
            sum(1 for s in cloud.snapshots.values() if s.status != SNAPSHOT_DELETING))


def assert_books(cloud: MockCloud) -> None:
    per_zone, reserved, live = recount(cloud)
    assert dict(cloud.ledger.disks_per_zone) == per_zone
    assert (cloud.used_capacity_gib(), cloud.ledger.live_snapshots) == (reserved, live)
    assert [cloud.disk_count(z) for z in (ZB, ZD, "nowhere")] == [per_zone.get(ZB, 0), per_zone.get(ZD, 0), 0]


async def test_counts_follow_creates_deletes_resizes_and_every_refusal() -> None:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud(CloudConfig.model_validate({"quotas": {"disksPerZone": 2, "totalCapacityGiB": 100,
                                                             "snapshots": 1}}), clock)
    node = cloud.add_instance("node1", ZB).instance_id
    durations = cloud.config.durations

    async def refused(call: object) -> None:
        with pytest.raises(CloudError):
            await call  # type: ignore[misc]
        assert_books(cloud)

    a = await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", client_token="a")
    assert_books(cloud)
    assert await cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", client_token="a") is a  # idempotent
    assert_books(cloud)
    await refused(cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd", snapshot_id="s-none"))
    await refused(cloud.create_disk(zone=ZB, size_gib=1, category="cloud_ssd"))            # below the minimum
    cloud.faults.fail_next("CreateDisk", code="ServiceUnavailable")
    await refused(cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd"))           # injected fault
    b = await cloud.create_disk(zone=ZB, size_gib=30, category="cloud_ssd")
    await refused(cloud.create_disk(zone=ZB, size_gib=20, category="cloud_ssd"))           # disks per zone
    await refused(cloud.create_disk(zone=ZD, size_gib=60, category="cloud_ssd"))           # capacity (50 used)
    await refused(cloud.delete_disk(a.disk_id))                                            # still Creating
    await clock.advance(durations.createDisk)

    await cloud.resize_disk(b.disk_id, 45)                                                 # reserves 45 at once
    assert_books(cloud)
    assert cloud.used_capacity_gib() == 65
    await refused(cloud.resize_disk(a.disk_id, 60))                                        # capacity
    await clock.advance(durations.resizeDisk)
    assert_books(cloud)

    await cloud.attach_disk(a.disk_id, node)
    await clock.advance(durations.attachDisk)
    await refused(cloud.delete_disk(a.disk_id))                                            # attached
    snap = await cloud.create_snapshot(a.disk_id)
    assert_books(cloud)
    await refused(cloud.create_snapshot(b.disk_id))                                        # snapshot quota
    await cloud.delete_snapshot(snap.snapshot_id)
    assert_books(cloud)
    await cloud.delete_snapshot(snap.snapshot_id)                                          # already deleting
    assert_books(cloud)

    await cloud.resize_disk(b.disk_id, 50)
    await cloud.delete_disk(b.disk_id)                        # Deleting still counts until it is gone
    assert_books(cloud)
    assert cloud.disk_count(ZB) == 2
    await clock.advance(max(durations.deleteDisk, durations.resizeDisk, durations.deleteSnapshot) + 1)
    assert_books(cloud)
    assert (cloud.disk_count(ZB), cloud.used_capacity_gib(), cloud.ledger.live_snapshots) == (1, 20, 0)
    c = await cloud.create_disk(zone=ZD, size_gib=60, category="cloud_ssd")                # room again
    assert c.zone == ZD
    assert_books(cloud)


def test_a_zone_without_disks_leaves_the_counter() -> None:
    ledger = Ledger()
    disk = Disk(disk_id="d-1", name="d-1", region="r", zone=ZB, size_gib=20, category="cloud_ssd", status="Creating",
                created_at=0.0)
    ledger.disk_added(disk)
    ledger.disk_growing(disk, 30)
    disk.resize_target_gib = 30
    assert (ledger.disk_count(ZB), ledger.reserved_gib) == (1, 30)
    ledger.disk_removed(disk)
    assert (dict(ledger.disks_per_zone), ledger.reserved_gib) == ({}, 0)
