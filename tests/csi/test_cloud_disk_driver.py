"""The cloud-disk CSI driver: zone choice, restore, publish, snapshots, error codes, NodeGetInfo."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_lite.clock import VirtualClock
from minikube_lite.cloud import MockCloud
from minikube_lite.config import ClusterConfig, DriverConfig
from minikube_lite.csi import spec
from minikube_lite.csi.cloud_disk import INSTANCE_ID_KEY, CloudDiskDriver, choose_zone
from minikube_lite.csi.spec import Code, CsiError

T = TypeVar("T")
ZB, ZD = "cn-hangzhou-b", "cn-hangzhou-d"
ZKEY = "topology.diskplugin.csi.alibabacloud.com/zone"
GIB = 1024**3


def make(**driver: object) -> tuple[CloudDiskDriver, MockCloud, VirtualClock]:
    clock = VirtualClock(start=1_700_000_000)
    config = ClusterConfig.default()
    cloud = MockCloud.for_cluster(config, clock)
    cloud.add_instance("node-d", ZD)
    dc = DriverConfig.model_validate({"name": "diskplugin.csi.alibabacloud.com", "type": "cloud-disk", **driver})
    return CloudDiskDriver(cloud, dc), cloud, clock


async def run(clock: VirtualClock, coro: Awaitable[T], step: float = 0.5, limit: float = 120) -> T:
    """Drive a driver call to completion by moving the virtual clock."""
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)
    spent = 0.0
    while not task.done() and spent < limit:
        await clock.advance(step)
        spent += step
    return await task


def topo(*zones: str, key: str = ZKEY) -> list[spec.Topology]:
    return [spec.Topology({key: z}) for z in zones]


def create_req(name: str = "pvc-1", size: int = 20 * GIB, **kw: object) -> spec.CreateVolumeRequest:
    caps = [spec.VolumeCapability(spec.AccessMode.SINGLE_NODE_WRITER, mount=spec.MountVolume("ext4"))]
    return spec.CreateVolumeRequest(name=name, capacity_range=spec.CapacityRange(size), volume_capabilities=caps,
                                    **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("preferred", "requisite", "zone_param", "want", "conflict"),
    [
        ([], [], [], ZB, False),                                # nothing asked: first cloud zone
        (topo(ZD), topo(ZB, ZD), [], ZD, False),               # preferred wins
        ([], topo(ZD, ZB), [], ZD, False),                      # then requisite, in order
        (topo(ZD, key="topology.kubernetes.io/zone"), [], [], ZD, False),  # generic zone key counts too
        ([spec.Topology({INSTANCE_ID_KEY: "i-1", ZKEY: ZD})], [], [], ZD, False),
        (topo(ZB), topo(ZB, ZD), [ZD], ZD, False),              # zoneId narrows the topology
        (topo(ZB), topo(ZB), [ZD], ZD, True),                   # conflict: zoneId wins, flagged
        ([], [], [ZD], ZD, False),                              # zoneId alone
    ],
)
def test_choose_zone(preferred: list, requisite: list, zone_param: list, want: str, conflict: bool) -> None:
    reqs = spec.TopologyRequirement(requisite=requisite, preferred=preferred) if preferred or requisite else None
    keys = [ZKEY, "topology.kubernetes.io/zone"]
    assert choose_zone(reqs, keys, zone_param, [ZB, ZD], "pvc-x") == (want, conflict)


async def test_create_volume_in_preferred_zone_returns_zone_topology() -> None:
    driver, cloud, clock = make()
    reqs = spec.TopologyRequirement(requisite=topo(ZB, ZD), preferred=topo(ZD, ZB))
    resp = await run(clock, driver.create_volume(create_req(accessibility_requirements=reqs,
                                                            parameters={"type": "cloud_ssd"})))
    vol = resp.volume
    disk = cloud.disks[vol.volume_id]
    assert vol.volume_id.startswith("d-") and disk.zone == ZD and disk.status == "Available"
    assert disk.category == "cloud_ssd" and disk.name == "pvc-1" and vol.capacity_bytes == 20 * GIB
    assert [t.segments for t in vol.accessible_topology] == [{ZKEY: ZD}]
    assert vol.volume_context == {"type": "cloud_ssd"}
    # CreateVolume is idempotent by name.
    again = await run(clock, driver.create_volume(create_req(accessibility_requirements=reqs,
                                                             parameters={"type": "cloud_ssd"})))
    assert again.volume.volume_id == vol.volume_id and len(cloud.disks) == 1


async def test_create_volume_sizes() -> None:
    driver, cloud, clock = make()
    resp = await run(clock, driver.create_volume(create_req(size=25 * GIB + 1)))
    assert resp.volume.capacity_bytes == 26 * GIB  # rounded up to whole GiB
    auto = await run(clock, driver.create_volume(create_req("small", size=GIB,
                                                            parameters={"volumeSizeAutoAvailable": "true"})))
    assert auto.volume.capacity_bytes == 20 * GIB
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req("tiny", size=GIB, parameters={"type": "cloud_ssd"})))
    assert exc.value.code is Code.INVALID_ARGUMENT and "InvalidDiskSize" in exc.value.message
    with pytest.raises(CsiError) as exc2:
        req = create_req("limited", size=20 * GIB)
        req.capacity_range = spec.CapacityRange(required_bytes=20 * GIB + 1, limit_bytes=20 * GIB + 1)
        await run(clock, driver.create_volume(req))
    assert exc2.value.code is Code.OUT_OF_RANGE


async def test_available_type_falls_through_categories() -> None:
    driver, cloud, clock = make()
    cloud.config.categories.pop("cloud_essd")
    resp = await run(clock, driver.create_volume(create_req(parameters={"type": "available"})))
    assert cloud.disks[resp.volume.volume_id].category == "cloud_ssd"


async def test_restore_from_snapshot_holds_its_data() -> None:
    driver, cloud, clock = make()
    src = (await run(clock, driver.create_volume(create_req("src", size=30 * GIB)))).volume
    cloud.write_disk(src.volume_id, b"course data")
    taken_at = clock.now()
    snap = (await driver.create_snapshot(spec.CreateSnapshotRequest(src.volume_id, "snapshot-1"))).snapshot
    assert not snap.ready_to_use and snap.size_bytes == 30 * GIB and snap.source_volume_id == src.volume_id
    assert snap.creation_time == int(taken_at) * 10**9  # nanoseconds
    cloud.write_disk(src.volume_id, b"later data")
    await clock.advance(5)
    again = (await driver.create_snapshot(spec.CreateSnapshotRequest(src.volume_id, "snapshot-1"))).snapshot
    assert again.snapshot_id == snap.snapshot_id and again.ready_to_use
    # Too small a restore is refused by the cloud.
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req(
            "small", size=20 * GIB, volume_content_source=spec.VolumeContentSource(snapshot_id=snap.snapshot_id))))
    assert exc.value.code is Code.INVALID_ARGUMENT
    restored = (await run(clock, driver.create_volume(create_req(
        "restored", size=30 * GIB, accessibility_requirements=spec.TopologyRequirement(topo(ZD), topo(ZD)),
        volume_content_source=spec.VolumeContentSource(snapshot_id=snap.snapshot_id))))).volume
    assert restored.content_source == spec.VolumeContentSource(snapshot_id=snap.snapshot_id)
    disk = cloud.disks[restored.volume_id]
    assert disk.zone == ZD and disk.source_snapshot_id == snap.snapshot_id
    assert cloud.read_disk(restored.volume_id).data == b"course data"


async def test_restore_missing_snapshot_is_not_found_and_clone_is_refused() -> None:
    driver, _, clock = make()
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req(
            volume_content_source=spec.VolumeContentSource(snapshot_id="s-missing"))))
    assert exc.value.code is Code.NOT_FOUND
    assert str(exc.value).startswith("rpc error: code = NotFound desc = ")
    with pytest.raises(CsiError) as exc2:
        await driver.create_volume(create_req(volume_content_source=spec.VolumeContentSource(volume_id="d-x")))
    assert exc2.value.code is Code.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"code": "QuotaExceed.Disk"}, Code.RESOURCE_EXHAUSTED),
        ({"code": "QuotaExceed.DiskCapacity"}, Code.RESOURCE_EXHAUSTED),
        ({"code": "OperationFailed.ZoneOutage"}, Code.UNAVAILABLE),
        ({"code": "ServiceUnavailable"}, Code.UNAVAILABLE),
        ({"code": "Throttling.User"}, Code.UNAVAILABLE),
        ({"code": "InvalidZoneId.NotSupported"}, Code.INVALID_ARGUMENT),
        ({"code": "IdempotentParameterMismatch"}, Code.ALREADY_EXISTS),
        ({"code": "OperationConflict"}, Code.ABORTED),
        ({"code": "RequestTimeout"}, Code.DEADLINE_EXCEEDED),
        ({"code": "InternalError"}, Code.INTERNAL),
    ],
)
async def test_cloud_errors_map_to_csi_codes(fault: dict, code: Code) -> None:
    driver, cloud, clock = make()
    cloud.faults.fail_next("CreateDisk", **fault)
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req()))
    assert exc.value.code is code and fault["code"] in exc.value.message
    assert cloud.disks == {}


async def test_real_quota_and_outage_map_to_resource_exhausted_and_unavailable() -> None:
    driver, cloud, clock = make()
    cloud.config.quotas.disksPerZone = 0
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req()))
    assert exc.value.code is Code.RESOURCE_EXHAUSTED
    cloud.config.quotas.disksPerZone = 10
    cloud.faults.zone_outage(ZB)
    with pytest.raises(CsiError) as exc2:
        await run(clock, driver.create_volume(create_req()))
    assert exc2.value.code is Code.UNAVAILABLE


async def test_create_volume_timeout_is_deadline_exceeded() -> None:
    driver, cloud, clock = make(operationTimeout=1)
    with pytest.raises(CsiError) as exc:
        await run(clock, driver.create_volume(create_req()))
    assert exc.value.code is Code.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    ("req", "code"),
    [
        (spec.CreateVolumeRequest(name=""), Code.INVALID_ARGUMENT),
        (spec.CreateVolumeRequest(name="x"), Code.INVALID_ARGUMENT),  # no capabilities
        (spec.CreateVolumeRequest(name="x", volume_capabilities=[
            spec.VolumeCapability(spec.AccessMode.MULTI_NODE_MULTI_WRITER)]), Code.INVALID_ARGUMENT),
        (spec.CreateVolumeRequest(name="x", volume_capabilities=[spec.VolumeCapability()],
                                  parameters={"regionId": "cn-beijing"}), Code.INVALID_ARGUMENT),
    ],
)
async def test_create_volume_bad_requests(req: spec.CreateVolumeRequest, code: Code) -> None:
    driver, _, _ = make()
    with pytest.raises(CsiError) as exc:
        await driver.create_volume(req)
    assert exc.value.code is code


async def test_publish_unpublish_and_delete() -> None:
    driver, cloud, clock = make(maxVolumesPerNode=1)
    vol = (await run(clock, driver.create_volume(create_req()))).volume
    node1 = cloud.instance_for_node("node1").instance_id  # type: ignore[union-attr]
    node2 = cloud.instance_for_node("node2").instance_id  # type: ignore[union-attr]
    node_d = cloud.instance_for_node("node-d").instance_id  # type: ignore[union-attr]
    pub = await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, node1)))
    assert pub.publish_context == {"devicePath": "/dev/vdb"} and cloud.disks[vol.volume_id].status == "In_use"
    # Idempotent on the same node; refused elsewhere; wrong zone is a precondition failure.
    await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, node1)))
    for node, code in ((node2, Code.FAILED_PRECONDITION), ("i-missing", Code.NOT_FOUND)):
        with pytest.raises(CsiError) as exc:
            await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, node)))
        assert exc.value.code is code
    with pytest.raises(CsiError) as exc_del:
        await run(clock, driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id)))
    assert exc_del.value.code is Code.FAILED_PRECONDITION  # still attached
    other = (await run(clock, driver.create_volume(create_req("pvc-2")))).volume
    with pytest.raises(CsiError) as exc_max:
        await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(other.volume_id, node1)))
    assert exc_max.value.code is Code.RESOURCE_EXHAUSTED
    zoned = (await run(clock, driver.create_volume(create_req("pvc-3")))).volume
    with pytest.raises(CsiError) as exc_zone:
        await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(zoned.volume_id, node_d)))
    assert exc_zone.value.code is Code.FAILED_PRECONDITION
    await run(clock, driver.controller_unpublish_volume(spec.ControllerUnpublishVolumeRequest(vol.volume_id, node1)))
    assert cloud.disks[vol.volume_id].status == "Available"
    await run(clock, driver.controller_unpublish_volume(spec.ControllerUnpublishVolumeRequest(vol.volume_id, node1)))
    await run(clock, driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id)))
    assert vol.volume_id not in cloud.disks
    await run(clock, driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id)))  # idempotent
    await run(clock, driver.controller_unpublish_volume(spec.ControllerUnpublishVolumeRequest("d-gone", node1)))


async def test_snapshot_errors_delete_and_list() -> None:
    driver, cloud, clock = make()
    with pytest.raises(CsiError) as exc:
        await driver.create_snapshot(spec.CreateSnapshotRequest("d-missing", "snap"))
    assert exc.value.code is Code.NOT_FOUND
    with pytest.raises(CsiError) as exc2:
        await driver.create_snapshot(spec.CreateSnapshotRequest("", "snap"))
    assert exc2.value.code is Code.INVALID_ARGUMENT
    a = (await run(clock, driver.create_volume(create_req("a")))).volume
    b = (await run(clock, driver.create_volume(create_req("b")))).volume
    s1 = (await driver.create_snapshot(spec.CreateSnapshotRequest(a.volume_id, "s1"))).snapshot
    await clock.advance(1)
    s2 = (await driver.create_snapshot(spec.CreateSnapshotRequest(b.volume_id, "s2"))).snapshot
    with pytest.raises(CsiError) as exc3:
        await driver.create_snapshot(spec.CreateSnapshotRequest(b.volume_id, "s1"))
    assert exc3.value.code is Code.ALREADY_EXISTS
    everything = await driver.list_snapshots(spec.ListSnapshotsRequest())
    assert [s.snapshot_id for s in everything.entries] == [s1.snapshot_id, s2.snapshot_id]
    by_id = await driver.list_snapshots(spec.ListSnapshotsRequest(snapshot_id=s2.snapshot_id))
    assert [s.snapshot_id for s in by_id.entries] == [s2.snapshot_id]
    by_source = await driver.list_snapshots(spec.ListSnapshotsRequest(source_volume_id=a.volume_id))
    assert [s.snapshot_id for s in by_source.entries] == [s1.snapshot_id]
    assert (await driver.list_snapshots(spec.ListSnapshotsRequest(snapshot_id="s-none"))).entries == []
    page = await driver.list_snapshots(spec.ListSnapshotsRequest(max_entries=1))
    assert len(page.entries) == 1 and page.next_token == "1"
    rest = await driver.list_snapshots(spec.ListSnapshotsRequest(max_entries=1, starting_token=page.next_token))
    assert rest.entries[0].snapshot_id == s2.snapshot_id and rest.next_token == ""
    with pytest.raises(CsiError) as exc4:
        await driver.list_snapshots(spec.ListSnapshotsRequest(starting_token="zz"))
    assert exc4.value.code is Code.ABORTED
    await run(clock, driver.delete_snapshot(spec.DeleteSnapshotRequest(s1.snapshot_id)))
    assert s1.snapshot_id not in cloud.snapshots
    await driver.delete_snapshot(spec.DeleteSnapshotRequest(s1.snapshot_id))  # idempotent


async def test_node_get_info_topology() -> None:
    driver, cloud, _ = make()
    info = await driver.node_get_info(spec.NodeGetInfoRequest("node1"))
    inst = cloud.instance_for_node("node1")
    assert inst is not None and info.node_id == inst.instance_id and info.max_volumes_per_node == 15
    assert info.accessible_topology is not None
    assert info.accessible_topology.segments == {
        INSTANCE_ID_KEY: inst.instance_id, ZKEY: ZB, "topology.kubernetes.io/region": "cn-hangzhou",
        "topology.kubernetes.io/zone": ZB,
    }
    private, _, _ = make(privateTopologyKey=True)
    seg = (await private.node_get_info(spec.NodeGetInfoRequest("node-d"))).accessible_topology
    assert seg is not None and "topology.kubernetes.io/zone" not in seg.segments and seg.segments[ZKEY] == ZD
    none, _, _ = make(maxVolumesPerNode=0)
    assert (await none.node_get_info(spec.NodeGetInfoRequest("node1"))).accessible_topology is None
    with pytest.raises(CsiError) as exc:
        await driver.node_get_info(spec.NodeGetInfoRequest("ghost"))
    assert exc.value.code is Code.NOT_FOUND


async def test_identity_capacity_and_capabilities() -> None:
    driver, cloud, clock = make()
    assert (await driver.get_plugin_info()).name == "diskplugin.csi.alibabacloud.com"
    assert spec.PluginCapability.VOLUME_ACCESSIBILITY_CONSTRAINTS in await driver.get_plugin_capabilities()
    caps = await driver.controller_get_capabilities()
    assert spec.ControllerCapability.CREATE_DELETE_SNAPSHOT in caps
    assert spec.ControllerCapability.PUBLISH_UNPUBLISH_VOLUME in caps
    await run(clock, driver.create_volume(create_req()))
    cap = await driver.get_capacity(spec.GetCapacityRequest(parameters={"type": "cloud_ssd"},
                                                            accessible_topology=spec.Topology({ZKEY: ZB})))
    quota = cloud.config.quotas.totalCapacityGiB
    assert cap.available_capacity == (quota - 20) * GIB and cap.maximum_volume_size == 32768 * GIB
    cloud.faults.zone_outage(ZD)
    out = await driver.get_capacity(spec.GetCapacityRequest(accessible_topology=spec.Topology({ZKEY: ZD})))
    assert out.available_capacity == 0


def test_csi_error_text_is_go_grpc_shaped() -> None:
    err = CsiError(Code.RESOURCE_EXHAUSTED, "quota")
    assert str(err) == "rpc error: code = ResourceExhausted desc = quota"
    assert Code.DEADLINE_EXCEEDED.go_name == "DeadlineExceeded" and Code.CANCELLED.go_name == "Canceled"
    assert spec.round_up_gib(1) == 1 and spec.round_up_gib(GIB) == 1 and spec.round_up_gib(0) == 0


async def test_node_stage_needs_the_disk_attached_here() -> None:
    driver, cloud, clock = make()
    vol = (await run(clock, driver.create_volume(create_req()))).volume
    stage = spec.NodeStageVolumeRequest(vol.volume_id, "node1", "/var/lib/kubelet/plugins/staging/x")
    with pytest.raises(CsiError) as exc:
        await driver.node_stage_volume(stage)
    assert exc.value.code is Code.FAILED_PRECONDITION  # not attached yet
    node1 = cloud.instance_for_node("node1").instance_id  # type: ignore[union-attr]
    await run(clock, driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, node1)))
    with pytest.raises(CsiError) as exc_other:
        await driver.node_stage_volume(spec.NodeStageVolumeRequest(vol.volume_id, "node2", "/staging"))
    assert exc_other.value.code is Code.FAILED_PRECONDITION  # attached elsewhere
    publish = spec.NodePublishVolumeRequest(vol.volume_id, "node1", "/pods/a/volumes/data",
                                            staging_target_path=stage.staging_target_path)
    with pytest.raises(CsiError) as exc_unstaged:
        await driver.node_publish_volume(publish)
    assert exc_unstaged.value.code is Code.FAILED_PRECONDITION
    await driver.node_stage_volume(stage)
    await driver.node_stage_volume(stage)  # idempotent
    await driver.node_publish_volume(publish)
    assert driver.mounts.in_use(vol.volume_id) == ["node1"]
    with pytest.raises(CsiError) as exc_busy:
        await driver.node_unstage_volume(spec.NodeUnstageVolumeRequest(vol.volume_id, "node1", "/staging"))
    assert exc_busy.value.code is Code.FAILED_PRECONDITION
    await driver.node_unpublish_volume(spec.NodeUnpublishVolumeRequest(vol.volume_id, "node1", publish.target_path))
    await driver.node_unstage_volume(spec.NodeUnstageVolumeRequest(vol.volume_id, "node1", "/staging"))
    assert driver.mounts.in_use(vol.volume_id) == []
    with pytest.raises(CsiError) as exc_missing:
        await driver.node_stage_volume(spec.NodeStageVolumeRequest("d-missing", "node1", "/staging"))
    assert exc_missing.value.code is Code.NOT_FOUND


_zone = st.sampled_from([ZB, ZD])
_term = st.builds(lambda z, k: spec.Topology({k: z}), _zone,
                  st.sampled_from([ZKEY, "topology.kubernetes.io/zone", INSTANCE_ID_KEY]))


@settings(max_examples=200, deadline=None)
@given(st.lists(_term, max_size=4), st.lists(_term, max_size=4), st.lists(_zone, max_size=2, unique=True))
def test_choose_zone_property(preferred: list, requisite: list, zone_param: list) -> None:
    reqs = spec.TopologyRequirement(requisite=requisite, preferred=preferred)
    zone, conflict = choose_zone(reqs, [ZKEY, "topology.kubernetes.io/zone"], zone_param, [ZB, ZD], "pvc")
    asked = [t.segments.get(ZKEY) or t.segments.get("topology.kubernetes.io/zone") for t in [*preferred, *requisite]]
    asked = [z for z in asked if z]
    if zone_param:
        assert zone in zone_param
        assert conflict == (bool(asked) and not set(asked) & set(zone_param))
        if not conflict and asked:
            assert zone == next(z for z in asked if z in zone_param)
    elif asked:
        assert (zone, conflict) == (asked[0], False)
    else:
        assert (zone, conflict) == (ZB, False)
