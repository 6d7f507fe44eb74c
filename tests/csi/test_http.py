"""CSI over HTTP: the served drivers under /csi/v1 and RemoteCsiDriver, against a real served cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from minikube_lite.cluster import Cluster
from minikube_lite.csi import spec
from minikube_lite.csi.http import CALLS, RemoteCsiDriver, decode, encode, field_types
from minikube_lite.csi.spec import Code, CsiError

DISK = "diskplugin.csi.alibabacloud.com"
HOSTPATH = "hostpath.csi.k8s.io"


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def volume_request(name: str, **parameters: str) -> spec.CreateVolumeRequest:
    return spec.CreateVolumeRequest(
        name=name, capacity_range=spec.CapacityRange(required_bytes=20 * spec.GIB),
        volume_capabilities=[spec.VolumeCapability(spec.AccessMode.SINGLE_NODE_WRITER, spec.MountVolume("ext4"))],
        parameters={"type": "cloud_ssd", **parameters},
        accessibility_requirements=spec.TopologyRequirement(
            requisite=[spec.Topology({"topology.diskplugin.csi.alibabacloud.com/zone": "cn-hangzhou-b"})]))


def test_every_message_survives_the_wire_format() -> None:
    req = volume_request("pvc-1")
    req.volume_content_source = spec.VolumeContentSource(snapshot_id="s-1")
    assert decode(spec.CreateVolumeRequest, encode(req)) == req
    caps = [spec.ControllerCapability.CREATE_DELETE_VOLUME, spec.ControllerCapability.LIST_SNAPSHOTS]
    assert encode(caps) == ["CREATE_DELETE_VOLUME", "LIST_SNAPSHOTS"]
    assert decode(list[spec.ControllerCapability], encode(caps)) == caps
    listed = spec.ListSnapshotsResponse([spec.Snapshot("s-1", "d-1", 5, 10, True)], "2")
    assert decode(spec.ListSnapshotsResponse, encode(listed)) == listed
    plugin_caps = [spec.PluginCapability.CONTROLLER_SERVICE, spec.VolumeExpansion.ONLINE]
    assert decode(spec.PluginCapabilities, encode(plugin_caps)) == plugin_caps
    expand = spec.ControllerExpandVolumeRequest(volume_id="d-1", capacity_range=spec.CapacityRange(required_bytes=30))
    assert decode(spec.ControllerExpandVolumeRequest, encode(expand)) == expand
    assert set(CALLS) == {name for name in dir(spec.CsiDriver) if not name.startswith("_")} - {"serves_node"}


async def test_a_remote_driver_creates_and_deletes_the_cloud_disk(served_cluster: Cluster,
                                                                  session: aiohttp.ClientSession) -> None:
    nodes = ["master", "node1", "node2"]
    driver = await RemoteCsiDriver.connect(session, served_cluster.url, DISK, nodes)
    assert [n for n in nodes if driver.serves_node(n)] == [n for n in nodes
                                                         if served_cluster.drivers[DISK].serves_node(n)]
    assert (await driver.get_plugin_info()).name == DISK
    assert spec.ControllerCapability.CREATE_DELETE_VOLUME in await driver.controller_get_capabilities()
    created = (await driver.create_volume(volume_request("pvc-remote"))).volume
    disk = served_cluster.cloud.disks[created.volume_id]
    assert (disk.zone, disk.size_gib, disk.category) == ("cn-hangzhou-b", 20, "cloud_ssd")
    again = (await driver.create_volume(volume_request("pvc-remote"))).volume
    assert again.volume_id == created.volume_id  # idempotent by name, as a retrying sidecar needs
    await driver.delete_volume(spec.DeleteVolumeRequest(created.volume_id))
    assert created.volume_id not in served_cluster.cloud.disks or \
        served_cluster.cloud.disks[created.volume_id].status == "Deleting"
    info = await driver.node_get_info(spec.NodeGetInfoRequest("node1"))
    assert info.node_id == served_cluster.cloud.instance_for_node("node1").instance_id  # type: ignore[union-attr]


def test_decoding_resolves_each_message_class_once() -> None:
    """A CreateVolumeRequest with a term per node (thousands in a large cluster) resolves the
    Topology class's field types once, not once per term."""
    terms = [spec.Topology({"topology.kubernetes.io/zone": f"z-{i % 3}", "node": f"n-{i}"}) for i in range(3000)]
    req = volume_request("pvc-many")
    req.accessibility_requirements = spec.TopologyRequirement(requisite=terms, preferred=terms[:10])
    field_types.cache_clear()
    assert decode(spec.CreateVolumeRequest, encode(req)) == req
    resolved = field_types.cache_info()
    assert resolved.misses < 10 and resolved.hits >= 3000   # one resolution per class, hits for the rest


async def test_a_remote_driver_connects_for_thousands_of_nodes(served_cluster: Cluster,
                                                               session: aiohttp.ClientSession) -> None:
    """The node list goes in the body: as ``?node=`` parameters 1,000 names already outgrew the
    server's 8 KiB request line, and the split processes of a large cluster could not start."""
    nodes = [f"worker-{i:05d}" for i in range(5000)] + ["node1", "node2"]
    driver = await RemoteCsiDriver.connect(session, served_cluster.url, DISK, nodes)
    local = served_cluster.drivers[DISK]
    assert {n for n in nodes if driver.serves_node(n)} == {n for n in nodes if local.serves_node(n)} != set()
    base = f"{served_cluster.url}/csi/v1/{DISK}"
    async with session.get(base, params=[("node", "node1"), ("node", "nope")]) as resp:
        assert (await resp.json())["servesNodes"] == [n for n in ["node1"] if local.serves_node(n)]
    async with session.post(base, data=b"{not json") as resp:
        assert resp.status == 400 and (await resp.json())["code"] == "INVALID_ARGUMENT"


async def test_driver_errors_arrive_with_their_grpc_code_and_text(served_cluster: Cluster,
                                                                 session: aiohttp.ClientSession) -> None:
    driver = await RemoteCsiDriver.connect(session, served_cluster.url, DISK, [])
    local = served_cluster.drivers[DISK]
    with pytest.raises(CsiError) as remote_err:
        await driver.create_volume(volume_request("pvc-x", regionId="cn-beijing"))
    with pytest.raises(CsiError) as local_err:
        await local.create_volume(volume_request("pvc-x", regionId="cn-beijing"))
    assert remote_err.value.code is Code.INVALID_ARGUMENT
    assert str(remote_err.value) == str(local_err.value)


async def test_unknown_drivers_calls_and_bodies_are_refused(served_cluster: Cluster,
                                                           session: aiohttp.ClientSession) -> None:
    with pytest.raises(CsiError) as err:
        await RemoteCsiDriver.connect(session, served_cluster.url, "no.such.driver", [])
    assert err.value.code is Code.NOT_FOUND
    base = f"{served_cluster.url}/csi/v1/{HOSTPATH}"
    async with session.post(f"{base}/no_such_call", data=b"{}") as resp:
        assert resp.status == 404 and (await resp.json())["code"] == "UNIMPLEMENTED"
    async with session.post(f"{base}/create_volume", data=b"{not json") as resp:
        assert resp.status == 400 and (await resp.json())["code"] == "INVALID_ARGUMENT"
    async with session.post(f"{base}/delete_volume", data=b'{"secrets": {}}') as resp:
        assert resp.status == 400  # volume_id is required


async def test_an_unreachable_plugin_is_unavailable(session: aiohttp.ClientSession) -> None:
    driver = RemoteCsiDriver(session, "http://127.0.0.1:9", DISK)
    with pytest.raises(CsiError) as err:
        await driver.get_plugin_info()
    assert err.value.code is Code.UNAVAILABLE
