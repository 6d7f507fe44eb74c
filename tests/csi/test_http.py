"""CSI over HTTP: the served drivers under /csi/v1 and RemoteCsiDriver, against a real served cluster."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from minikube_lite.cluster import Cluster
from minikube_lite.csi import spec
from minikube_lite.csi.codec import PLAIN, Codec
from minikube_lite.csi.http import CALLS, RemoteCsiDriver, csi_app, decode, encode, field_types
from minikube_lite.csi.spec import Code, CsiDriver, CsiError
from minikube_lite.csi.term_lists import TermListStore, UnknownTermLists

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


def wire(tp: Any, value: Any) -> Any:
    """``value`` through the wire format and back, as the other process sees it."""
    return decode(tp, orjson.loads(orjson.dumps(encode(value))))


def test_every_message_survives_the_wire_format() -> None:
    req = volume_request("pvc-1")
    req.volume_content_source = spec.VolumeContentSource(snapshot_id="s-1")
    assert wire(spec.CreateVolumeRequest, req) == req
    caps = [spec.ControllerCapability.CREATE_DELETE_VOLUME, spec.ControllerCapability.LIST_SNAPSHOTS]
    assert encode(caps) == ["CREATE_DELETE_VOLUME", "LIST_SNAPSHOTS"]
    assert decode(list[spec.ControllerCapability], encode(caps)) == caps
    listed = spec.ListSnapshotsResponse([spec.Snapshot("s-1", "d-1", 5, 10, True)], "2")
    assert wire(spec.ListSnapshotsResponse, listed) == listed
    plugin_caps = [spec.PluginCapability.CONTROLLER_SERVICE, spec.VolumeExpansion.ONLINE]
    assert decode(spec.PluginCapabilities, encode(plugin_caps)) == plugin_caps
    expand = spec.ControllerExpandVolumeRequest(volume_id="d-1", capacity_range=spec.CapacityRange(required_bytes=30))
    assert wire(spec.ControllerExpandVolumeRequest, expand) == expand
    assert set(CALLS) == {name for name in dir(spec.CsiDriver) if not name.startswith("_")} - {"serves_node"}


# ---------------------------------------------------------------- the compiled codec


def reflective_encode(value: Any) -> Any:
    """The codec before it was compiled per type: the reference for the wire format's bytes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: reflective_encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list):
        return [reflective_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: reflective_encode(v) for k, v in value.items()}
    return value


def sample(tp: Any, name: str = "x") -> Any:
    """A value of ``tp`` with every field set to something other than its default."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return sample(inner[-1], name)   # the last member: PluginCapability | VolumeExpansion gives the latter
    if origin is list:
        (item,) = typing.get_args(tp)
        if item == spec.PluginCapability | spec.VolumeExpansion:
            return [spec.PluginCapability.CONTROLLER_SERVICE, spec.VolumeExpansion.OFFLINE]
        return [sample(item, f"{name}-0"), sample(item, f"{name}-1")]
    if origin is dict:
        return {f"{name}-key": f"{name}-value"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return list(tp)[-1]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp(**{field: sample(hint, field) for field, hint in field_types(tp)})
    return {str: name, int: 7, bool: True}[tp]


@pytest.mark.parametrize("call", sorted(CALLS))
def test_every_call_round_trips_through_the_compiled_codec_with_the_old_bytes(call: str) -> None:
    for tp in CALLS[call]:
        if tp is None:
            continue
        full = sample(tp)
        raw = PLAIN.dumps(full)
        assert raw == orjson.dumps(reflective_encode(full))
        assert PLAIN.loads(tp, raw) == full
        if dataclasses.is_dataclass(tp):
            hints = dict(field_types(tp))
            required = {f.name: sample(hints[f.name], f.name) for f in dataclasses.fields(tp)
                        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
            sparse = tp(**required)   # defaults, None for every optional message
            assert PLAIN.dumps(sparse) == orjson.dumps(reflective_encode(sparse))
            assert PLAIN.loads(tp, PLAIN.dumps(sparse)) == sparse


def test_decoding_ignores_unknown_keys_and_fills_defaults() -> None:
    data = {"volume_id": "d-1", "novel_field": 1, "capacity_range": {"required_bytes": 5, "novel": True}}
    assert decode(spec.ControllerExpandVolumeRequest, data) == spec.ControllerExpandVolumeRequest(
        volume_id="d-1", capacity_range=spec.CapacityRange(required_bytes=5))
    assert decode(spec.Topology, {"segments": {"k": "v"}, "extra": 1}) == spec.Topology({"k": "v"})
    with pytest.raises(TypeError):
        decode(spec.DeleteVolumeRequest, {"secrets": {}})   # volume_id is required


def test_each_message_class_is_compiled_once() -> None:
    """A CreateVolumeRequest with a term per node (thousands in a large cluster) resolves the
    Topology class's field types once, not once per term, and decodes with one compiled decoder."""
    terms = [spec.Topology({"topology.kubernetes.io/zone": f"z-{i % 3}", "node": f"n-{i}"}) for i in range(3000)]
    req = volume_request("pvc-many")
    req.accessibility_requirements = spec.TopologyRequirement(requisite=terms, preferred=terms[:10])
    codec = Codec()
    field_types.cache_clear()
    assert codec.loads(spec.CreateVolumeRequest, codec.dumps(req)) == req
    assert field_types.cache_info().misses < 10     # one resolution per class
    assert codec.decoder(spec.CreateVolumeRequest) is codec.decoder(spec.CreateVolumeRequest)
    assert codec.encoder(spec.Topology) is None     # nothing to convert: orjson writes it


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


# ---------------------------------------------------------------- term lists over HTTP


class RecordingDriver:
    """Answers CreateVolume and keeps every request it was given."""

    name = "rec.csi.example.com"

    def __init__(self) -> None:
        self.requests: list[spec.CreateVolumeRequest] = []

    async def create_volume(self, req: spec.CreateVolumeRequest) -> spec.CreateVolumeResponse:
        self.requests.append(req)
        return spec.CreateVolumeResponse(spec.Volume(volume_id=f"d-{len(self.requests)}"))


class CountingStore(TermListStore):
    """A TermListStore that counts the requests it had to refuse."""

    refused = 0

    def decode_requirement(self, data: Any) -> spec.TopologyRequirement | None:
        try:
            return super().decode_requirement(data)
        except UnknownTermLists:
            self.refused += 1
            raise


def per_node_terms(n: int) -> list[spec.Topology]:
    return [spec.Topology({"topology.kubernetes.io/zone": f"z-{i % 3}", "node": f"n-{i:05d}"}) for i in range(n)]


@pytest_asyncio.fixture
async def recording() -> AsyncIterator[tuple[str, RecordingDriver, CountingStore]]:
    driver, store = RecordingDriver(), CountingStore()
    app = web.Application()
    app.add_subapp("/csi/v1", csi_app({driver.name: typing.cast(CsiDriver, driver)}, store))   # as the cluster does
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), driver, store
    finally:
        await server.close()


async def test_a_large_requisite_crosses_once_and_is_named_afterwards(
        recording: tuple[str, RecordingDriver, CountingStore], session: aiohttp.ClientSession) -> None:
    url, local, store = recording
    remote = RemoteCsiDriver(session, url, local.name)
    shared = per_node_terms(1000)
    for start in (0, 10, 999):
        req = volume_request(f"pvc-{start}")
        req.accessibility_requirements = spec.TopologyRequirement(requisite=shared,
                                                                  preferred=shared[start:] + shared[:start])
        assert (await remote.create_volume(req)).volume.volume_id == f"d-{len(local.requests)}"
        got = local.requests[-1].accessibility_requirements
        assert got == req.accessibility_requirements
    assert len(store.lists) == 1 and store.refused == 0
    first, *rest = (r.accessibility_requirements for r in local.requests)
    assert all(r is not None and first is not None and r.requisite is first.requisite for r in rest)  # decoded once

    store.lists.clear()   # as a restarted server: the next call is refused once, then uploads
    req = volume_request("pvc-again")
    req.accessibility_requirements = spec.TopologyRequirement(requisite=shared, preferred=shared[5:] + shared[:5])
    await remote.create_volume(req)
    assert store.refused == 1 and len(store.lists) == 1
    assert local.requests[-1].accessibility_requirements == req.accessibility_requirements


async def test_a_server_that_keeps_too_little_still_answers(
        recording: tuple[str, RecordingDriver, CountingStore], session: aiohttp.ClientSession) -> None:
    url, local, store = recording
    store.max_terms = 10                  # keeps nothing: each upload is used once, then forgotten
    remote = RemoteCsiDriver(session, url, local.name)
    shared = per_node_terms(200)
    for name in ("pvc-a", "pvc-b"):
        req = volume_request(name)
        req.accessibility_requirements = spec.TopologyRequirement(requisite=shared, preferred=shared[1:] + shared[:1])
        await remote.create_volume(req)
        assert local.requests[-1].accessibility_requirements == req.accessibility_requirements
    assert store.refused == 1 and not store.lists


async def test_the_old_wire_format_is_still_served(recording: tuple[str, RecordingDriver, CountingStore],
                                                   session: aiohttp.ClientSession) -> None:
    url, local, store = recording
    shared = per_node_terms(300)
    req = volume_request("pvc-old")
    req.accessibility_requirements = spec.TopologyRequirement(requisite=shared, preferred=shared[::-1])
    async with session.post(f"{url}/csi/v1/{local.name}/create_volume",
                            data=orjson.dumps(reflective_encode(req))) as resp:
        assert resp.status == 200 and (await resp.json())["volume"]["volume_id"] == "d-1"
    assert local.requests[-1] == req and not store.lists
    async with session.post(f"{url}/csi/v1/{local.name}/create_volume", data=orjson.dumps(
            {"name": "x", "accessibility_requirements": {"requisite": {"digest": "ab" * 16}}})) as resp:
        body = await resp.json()
        assert resp.status == 412 and body["reason"] == "UnknownTermLists" and body["digests"] == ["ab" * 16]
        assert body["code"] == "FAILED_PRECONDITION"
