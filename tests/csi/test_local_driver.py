"""The host-path/local driver: node pinning, capacity per node, snapshots, restore, clone."""

from __future__ import annotations

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.config import DriverConfig
from minikube_lite.csi import spec
from minikube_lite.csi.local import LocalDriver
from minikube_lite.csi.spec import Code, CsiError

KEY = "topology.hostpath.csi/node"
GIB = 1024**3


def make(capacity: str = "10Gi") -> LocalDriver:
    dc = DriverConfig(name="hostpath.csi.k8s.io", type="local", capacityPerNode=capacity)
    return LocalDriver(dc, ["node1", "node2"], VirtualClock(start=1_700_000_000))


def req(name: str, size: int = GIB, preferred: tuple[str, ...] = (), requisite: tuple[str, ...] = (),
        source: spec.VolumeContentSource | None = None) -> spec.CreateVolumeRequest:
    reqs = None
    if preferred or requisite:
        reqs = spec.TopologyRequirement([spec.Topology({KEY: n}) for n in requisite],
                                        [spec.Topology({KEY: n}) for n in preferred])
    return spec.CreateVolumeRequest(name=name, capacity_range=spec.CapacityRange(size),
                                    volume_capabilities=[spec.VolumeCapability()], accessibility_requirements=reqs,
                                    volume_content_source=source)


@pytest.mark.parametrize(
    ("preferred", "requisite", "want"),
    [
        ((), (), "node1"),
        (("node2",), ("node1", "node2"), "node2"),
        ((), ("node2", "node1"), "node2"),
        (("ghost", "node2"), ("node2",), "node2"),
    ],
)
async def test_volume_pinned_to_chosen_node(preferred: tuple, requisite: tuple, want: str) -> None:
    driver = make()
    vol = (await driver.create_volume(req("v", preferred=preferred, requisite=requisite))).volume
    assert [t.segments for t in vol.accessible_topology] == [{KEY: want}]
    assert driver.volumes[vol.volume_id].node == want


async def test_capacity_per_node() -> None:
    driver = make("3Gi")
    await driver.create_volume(req("a", 2 * GIB, preferred=("node1",)))
    # The selected node is full: ResourceExhausted (the provisioner then reschedules).
    with pytest.raises(CsiError) as exc:
        await driver.create_volume(req("b", 2 * GIB, preferred=("node1",), requisite=("node1", "node2")))
    assert exc.value.code is Code.RESOURCE_EXHAUSTED and "node1" in exc.value.message
    # Without a preference, another node with room is used.
    vol = (await driver.create_volume(req("c", 2 * GIB, requisite=("node1", "node2")))).volume
    assert driver.volumes[vol.volume_id].node == "node2"
    cap = await driver.get_capacity(spec.GetCapacityRequest(accessible_topology=spec.Topology({KEY: "node1"})))
    assert cap.available_capacity == GIB
    with pytest.raises(CsiError) as exc2:
        await driver.create_volume(req("huge", 2 * 1024**4))
    assert exc2.value.code is Code.OUT_OF_RANGE


async def test_idempotent_create_and_name_conflict() -> None:
    driver = make()
    a = (await driver.create_volume(req("same", GIB))).volume
    b = (await driver.create_volume(req("same", GIB))).volume
    assert a.volume_id == b.volume_id and len(driver.volumes) == 1
    with pytest.raises(CsiError) as exc:
        await driver.create_volume(req("same", 2 * GIB))
    assert exc.value.code is Code.ALREADY_EXISTS


async def test_snapshot_ready_at_once_and_restore_and_clone_keep_data() -> None:
    driver = make()
    src = (await driver.create_volume(req("src", GIB, preferred=("node1",)))).volume
    driver.write_volume(src.volume_id, "v1")
    snap = (await driver.create_snapshot(spec.CreateSnapshotRequest(src.volume_id, "snap1"))).snapshot
    assert snap.ready_to_use and snap.size_bytes == GIB and snap.creation_time == 1_700_000_000 * 10**9
    driver.write_volume(src.volume_id, "v2")
    restored = (await driver.create_volume(req("restored", GIB, preferred=("node2",),
                                               source=spec.VolumeContentSource(snapshot_id=snap.snapshot_id)))).volume
    assert driver.read_volume(restored.volume_id).data == b"v1"
    assert driver.volumes[restored.volume_id].node == "node2"
    clone = (await driver.create_volume(req("clone", 0, source=spec.VolumeContentSource(volume_id=src.volume_id)))).volume
    assert driver.read_volume(clone.volume_id).data == b"v2" and clone.capacity_bytes == GIB
    with pytest.raises(CsiError) as exc:
        await driver.create_volume(req("r2", GIB, source=spec.VolumeContentSource(snapshot_id="nope")))
    assert exc.value.code is Code.NOT_FOUND
    with pytest.raises(CsiError) as exc2:
        await driver.create_volume(req("r3", GIB // 2, source=spec.VolumeContentSource(snapshot_id=snap.snapshot_id)))
    assert exc2.value.code is Code.OUT_OF_RANGE
    listed = await driver.list_snapshots(spec.ListSnapshotsRequest(source_volume_id=src.volume_id))
    assert [s.snapshot_id for s in listed.entries] == [snap.snapshot_id]
    await driver.delete_snapshot(spec.DeleteSnapshotRequest(snap.snapshot_id))
    assert (await driver.list_snapshots(spec.ListSnapshotsRequest())).entries == []


async def test_publish_only_on_own_node_and_delete_while_published() -> None:
    driver = make()
    vol = (await driver.create_volume(req("v", preferred=("node1",)))).volume
    with pytest.raises(CsiError) as exc:
        await driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, "node2"))
    assert exc.value.code is Code.FAILED_PRECONDITION
    await driver.controller_publish_volume(spec.ControllerPublishVolumeRequest(vol.volume_id, "node1"))
    with pytest.raises(CsiError) as exc2:
        await driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id))
    assert exc2.value.code is Code.FAILED_PRECONDITION
    await driver.controller_unpublish_volume(spec.ControllerUnpublishVolumeRequest(vol.volume_id, "node1"))
    await driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id))
    await driver.delete_volume(spec.DeleteVolumeRequest(vol.volume_id))
    assert driver.volumes == {}


async def test_node_get_info() -> None:
    driver = make()
    info = await driver.node_get_info(spec.NodeGetInfoRequest("node2"))
    assert info.node_id == "node2" and info.max_volumes_per_node == 0
    assert info.accessible_topology == spec.Topology({KEY: "node2"})
    with pytest.raises(CsiError) as exc:
        await driver.node_get_info(spec.NodeGetInfoRequest("master"))
    assert exc.value.code is Code.NOT_FOUND


async def test_local_volume_mounts_only_on_its_node() -> None:
    driver = make()
    vol = (await driver.create_volume(req("v", preferred=("node2",)))).volume
    with pytest.raises(CsiError) as exc:
        await driver.node_stage_volume(spec.NodeStageVolumeRequest(vol.volume_id, "node1", "/staging"))
    assert exc.value.code is Code.NOT_FOUND
    await driver.node_stage_volume(spec.NodeStageVolumeRequest(vol.volume_id, "node2", "/staging"))
    await driver.node_publish_volume(spec.NodePublishVolumeRequest(vol.volume_id, "node2", "/target"))
    assert driver.mounts.in_use(vol.volume_id) == ["node2"]
    with pytest.raises(CsiError) as exc2:
        await driver.node_publish_volume(spec.NodePublishVolumeRequest(vol.volume_id, "node2", ""))
    assert exc2.value.code is Code.INVALID_ARGUMENT
