"""Property: random sequences of cloud operations never lose or duplicate a disk or snapshot,
capacity accounting (the ledger's counters, resizes included) always adds up, and attachments always stay consistent and zonal."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import CloudError, MockCloud
from minikube_lite.cloud.config import CloudConfig
from minikube_lite.cloud.models import ATTACHING, DETACHING, IN_USE

ZONES = ["cn-hangzhou-b", "cn-hangzhou-d"]

op = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), st.sampled_from([20, 40, 60]), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 9)),
    st.tuples(st.just("attach"), st.integers(0, 9), st.integers(0, 3)),
    st.tuples(st.just("detach"), st.integers(0, 9)),
    st.tuples(st.just("snapshot"), st.integers(0, 9)),
    st.tuples(st.just("delete_snapshot"), st.integers(0, 9)),
    st.tuples(st.just("restore"), st.integers(0, 9), st.integers(0, 1)),
    st.tuples(st.just("write"), st.integers(0, 9)),
    st.tuples(st.just("resize"), st.integers(0, 9), st.sampled_from([10, 30])),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 2.0, 5.0])),
    st.tuples(st.just("fault"), st.sampled_from(["CreateDisk", "AttachDisk", "DeleteDisk", "CreateSnapshot"])),
)


def check_invariants(cloud: MockCloud, created: set[str], deleted: set[str], snaps: set[str],
                     snaps_deleted: set[str], snap_content: dict[str, str]) -> None:
    # Nothing appears that a successful call did not return; nothing vanishes without a delete.
    assert set(cloud.disks) <= created
    assert created - set(cloud.disks) <= deleted
    assert set(cloud.snapshots) <= snaps
    assert snaps - set(cloud.snapshots) <= snaps_deleted
    # Capacity and quotas add up.
    quotas = cloud.config.quotas
    assert cloud.used_capacity_gib() == sum(d.reserved_gib for d in cloud.disks.values())
    assert cloud.used_capacity_gib() <= quotas.totalCapacityGiB
    for zone in ZONES:
        assert cloud.disk_count(zone) == sum(1 for d in cloud.disks.values() if d.zone == zone)
        assert cloud.disk_count(zone) <= quotas.disksPerZone
    live = sum(1 for s in cloud.snapshots.values() if s.status != "deleting")
    assert cloud.ledger.live_snapshots == live <= quotas.snapshots
    # Attachments: one instance (single-attach), same zone, both sides agree.
    for disk in cloud.disks.values():
        assert len(disk.instance_ids) <= (4 if disk.multi_attach else 1)
        assert len(set(disk.instance_ids)) == len(disk.instance_ids)
        assert bool(disk.instance_ids) == (disk.status in (ATTACHING, IN_USE, DETACHING))
        for iid in disk.instance_ids:
            assert cloud.instances[iid].zone == disk.zone
            assert disk.disk_id in cloud.instances[iid].disks
    for inst in cloud.instances.values():
        for disk_id in inst.disks:
            assert inst.instance_id in cloud.disks[disk_id].instance_ids
        assert len(set(inst.disks.values())) == len(inst.disks)  # distinct devices
    # Snapshots keep the content they were taken with.
    for sid, snap in cloud.snapshots.items():
        assert snap.content.checksum == snap_content[sid]


async def run(ops: list[tuple]) -> None:
    clock = VirtualClock(start=1_700_000_000)
    cloud = MockCloud(CloudConfig.model_validate({
        "quotas": {"disksPerZone": 4, "totalCapacityGiB": 200, "snapshots": 6},
        "faults": {"seed": 1},
    }), clock)
    instances = [cloud.add_instance(f"n{i}", ZONES[i % 2]).instance_id for i in range(4)]
    created: set[str] = set()
    deleted: set[str] = set()
    snaps: set[str] = set()
    snaps_deleted: set[str] = set()
    snap_content: dict[str, str] = {}
    restored_from: dict[str, str] = {}

    def pick(pool: list[str], i: int) -> str | None:
        return pool[i % len(pool)] if pool else None

    for step in ops:
        kind = step[0]
        disks = sorted(cloud.disks)
        all_snaps = sorted(cloud.snapshots)
        try:
            if kind == "create":
                d = await cloud.create_disk(zone=ZONES[step[1]], size_gib=step[2], category="cloud_ssd",
                                            multi_attach=step[3])
                assert d.disk_id not in created
                created.add(d.disk_id)
            elif kind == "delete" and (disk_id := pick(disks, step[1])):
                await cloud.delete_disk(disk_id)
                deleted.add(disk_id)
            elif kind == "attach" and (disk_id := pick(disks, step[1])):
                await cloud.attach_disk(disk_id, instances[step[2]])
            elif kind == "detach" and (disk_id := pick(disks, step[1])):
                iid = cloud.disks[disk_id].instance_id
                if iid:
                    await cloud.detach_disk(disk_id, iid)
            elif kind == "snapshot" and (disk_id := pick(disks, step[1])):
                s = await cloud.create_snapshot(disk_id)
                assert s.snapshot_id not in snaps
                snaps.add(s.snapshot_id)
                snap_content[s.snapshot_id] = cloud.disks[disk_id].content.checksum
            elif kind == "delete_snapshot" and (sid := pick(all_snaps, step[1])):
                await cloud.delete_snapshot(sid)
                snaps_deleted.add(sid)
            elif kind == "restore" and (sid := pick(all_snaps, step[1])):
                d = await cloud.create_disk(zone=ZONES[step[2]], size_gib=None, category="cloud_ssd",
                                            snapshot_id=sid)
                created.add(d.disk_id)
                restored_from[d.disk_id] = snap_content[sid]
                assert d.content.checksum == snap_content[sid]
            elif kind == "write" and (disk_id := pick(disks, step[1])):
                if cloud.disks[disk_id].status != "Deleting":
                    cloud.write_disk(disk_id, f"data-{len(ops)}-{disk_id}")
            elif kind == "resize" and (disk_id := pick(disks, step[1])):
                await cloud.resize_disk(disk_id, cloud.disks[disk_id].size_gib + step[2])
            elif kind == "advance":
                await clock.advance(step[1])
            elif kind == "fault":
                cloud.faults.fail_next(step[1], code="ServiceUnavailable")
        except CloudError:
            pass  # refusals are allowed; the invariants must hold regardless
        check_invariants(cloud, created, deleted, snaps, snaps_deleted, snap_content)
    # Let everything settle: every transition completes, deletes finish, nothing is left half-done.
    await clock.advance(60)
    check_invariants(cloud, created, deleted, snaps, snaps_deleted, snap_content)
    assert set(cloud.disks) == created - deleted
    assert set(cloud.snapshots) == snaps - snaps_deleted
    assert all(d.status in ("Available", "In_use") for d in cloud.disks.values())
    assert all(s.status == "accomplished" for s in cloud.snapshots.values())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, max_size=40))
def test_random_operation_sequences_keep_the_books(ops: list[tuple]) -> None:
    asyncio.run(asyncio.wait_for(run(ops), timeout=20))
