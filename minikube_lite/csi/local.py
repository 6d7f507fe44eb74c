"""A host-path/local CSI driver: volumes live on one node, like csi-driver-host-path.

Why pinned volumes: local storage is the other half of topology-aware scheduling (storage.md
5.3). The only topology key is ``topology.hostpath.csi/node`` with the node name as value; every
volume is returned with that one segment, so its PV gets node affinity to exactly that node.
Upstream's single controller pins to its own node; here one controller serves every node, so it
honours the first preferred term (the scheduler's selected node under WaitForFirstConsumer),
else the first requisite node with room. Snapshots are ready at once, sized like their source.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..clock import Clock, RealClock
from ..cloud.models import Content, checksum
from ..config import DriverConfig
from ..kube.quantity import parse_quantity
from . import spec
from .spec import Code, CsiError

VENDOR_VERSION = "v1.17.0"
MAX_VOLUME_SIZE = 1024**4  # hostpath's default --max-volume-size (1 TiB)

MSG_NAME_REQUIRED = "Name missing in request"
MSG_CAPS_REQUIRED = "Volume Capabilities missing in request"
MSG_ID_REQUIRED = "Volume ID missing in request"
MSG_NODE_REQUIRED = "Node ID missing in request"
MSG_SNAPSHOT_NAME_REQUIRED = "Name missing in request"
MSG_SNAPSHOT_SOURCE_REQUIRED = "SourceVolumeId missing in request"
MSG_SNAPSHOT_ID_REQUIRED = "Snapshot ID missing in request"
MSG_TOO_BIG = "Requested capacity %d exceeds maximum allowed %d"
MSG_SAME_NAME = "Volume with the same name: %s but with different size already exist"
MSG_SAME_SNAPSHOT = "snapshot with the same name: %s but with different SourceVolumeId already exist"
MSG_NO_SPACE = "not enough space on node %s: requested %d, available %d"
MSG_NO_NODE = "no node of the requested topology runs the driver"
MSG_VOLUME_NOT_FOUND = "volume id %s does not exist in the volumes list"
MSG_SNAPSHOT_NOT_FOUND = "cannot find snapshot %s"
MSG_SOURCE_TOO_BIG = "source size %d is larger than requested capacity %d"
MSG_WRONG_NODE = "volume %s lives on node %s and cannot be published to node %s"
MSG_STILL_ATTACHED = "volume %s is still attached to node %s"
MSG_NODE_UNKNOWN = "node %s does not run %s"
MSG_EXPAND_ID_REQUIRED = "Volume ID not provided"
MSG_EXPAND_RANGE_REQUIRED = "Capacity range not provided"
MSG_EXPAND_PATH_REQUIRED = "Volume path not provided"
MSG_EXPAND_NOT_FOUND = "Could not get volume %s: volume id %s does not exist in the volumes list"


@dataclass
class LocalVolume:
    volume_id: str
    name: str
    node: str
    size_bytes: int
    content: Content = field(default_factory=Content)
    source_snapshot_id: str | None = None
    source_volume_id: str | None = None
    published_to: set[str] = field(default_factory=set)


@dataclass
class LocalSnapshot:
    snapshot_id: str
    name: str
    source_volume_id: str
    size_bytes: int
    created_at: float
    content: Content = field(default_factory=Content)


class LocalDriver:
    """``hostpath.csi.k8s.io``-style driver over a per-node capacity pool."""

    def __init__(self, config: DriverConfig | None = None, nodes: Iterable[str] = (),
                 clock: Clock | None = None, seed: int = 0) -> None:
        self.config = config or DriverConfig(name="hostpath.csi.k8s.io", type="local")
        self.name = self.config.name
        self.topology_key = self.config.resolved_topology_key()
        self.nodes: list[str] = list(nodes)
        self.capacity_per_node = int(parse_quantity(self.config.capacityPerNode))
        self.max_volumes = self.config.resolved_max_volumes()
        self.clock: Clock = clock or RealClock()
        self.volumes: dict[str, LocalVolume] = {}
        self.snapshots: dict[str, LocalSnapshot] = {}
        self._rng = random.Random(seed)
        self.mounts = spec.Mounts()

    def serves_node(self, node_name: str) -> bool:
        return node_name in self.nodes

    def used_bytes(self, node: str) -> int:
        return sum(v.size_bytes for v in self.volumes.values() if v.node == node)

    def free_bytes(self, node: str) -> int:
        return max(0, self.capacity_per_node - self.used_bytes(node))

    # ------------------------------------------------------------ data

    def write_volume(self, volume_id: str, data: bytes | str) -> Content:
        vol = self._volume(volume_id)
        raw = data.encode() if isinstance(data, str) else bytes(data)
        vol.content = Content(vol.content.generation + 1, checksum(raw), raw)
        return vol.content

    def read_volume(self, volume_id: str) -> Content:
        return self._volume(volume_id).content

    # ------------------------------------------------------------ identity

    async def get_plugin_info(self) -> spec.GetPluginInfoResponse:
        return spec.GetPluginInfoResponse(self.name, VENDOR_VERSION)

    async def get_plugin_capabilities(self) -> spec.PluginCapabilities:
        return [spec.PluginCapability.CONTROLLER_SERVICE, spec.PluginCapability.VOLUME_ACCESSIBILITY_CONSTRAINTS,
                spec.VolumeExpansion.ONLINE]

    async def controller_get_capabilities(self) -> list[spec.ControllerCapability]:
        caps = [spec.ControllerCapability.CREATE_DELETE_VOLUME, spec.ControllerCapability.PUBLISH_UNPUBLISH_VOLUME,
                spec.ControllerCapability.GET_CAPACITY, spec.ControllerCapability.CLONE_VOLUME,
                spec.ControllerCapability.LIST_VOLUMES, spec.ControllerCapability.EXPAND_VOLUME]
        if self.config.snapshots:
            caps += [spec.ControllerCapability.CREATE_DELETE_SNAPSHOT, spec.ControllerCapability.LIST_SNAPSHOTS]
        return caps

    async def node_get_capabilities(self) -> list[spec.NodeCapability]:
        return [spec.NodeCapability.STAGE_UNSTAGE_VOLUME, spec.NodeCapability.GET_VOLUME_STATS,
                spec.NodeCapability.EXPAND_VOLUME]

    # ------------------------------------------------------------ volumes

    async def create_volume(self, req: spec.CreateVolumeRequest) -> spec.CreateVolumeResponse:
        if not req.name:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_NAME_REQUIRED)
        if not req.volume_capabilities:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_CAPS_REQUIRED)
        rng = req.capacity_range or spec.CapacityRange()
        size = rng.required_bytes
        if size > MAX_VOLUME_SIZE:
            raise CsiError(Code.OUT_OF_RANGE, MSG_TOO_BIG % (size, MAX_VOLUME_SIZE))
        for vol in self.volumes.values():
            if vol.name == req.name:
                if vol.size_bytes < size:
                    raise CsiError(Code.ALREADY_EXISTS, MSG_SAME_NAME % req.name)
                return spec.CreateVolumeResponse(self._volume_message(vol, req))
        content = Content()
        src = req.volume_content_source
        if src is not None and src.snapshot_id:
            snap = self.snapshots.get(src.snapshot_id)
            if snap is None:
                raise CsiError(Code.NOT_FOUND, MSG_SNAPSHOT_NOT_FOUND % src.snapshot_id)
            if snap.size_bytes > size:
                if size:
                    raise CsiError(Code.OUT_OF_RANGE, MSG_SOURCE_TOO_BIG % (snap.size_bytes, size))
                size = snap.size_bytes
            content = snap.content.copy()
        elif src is not None and src.volume_id:
            source = self.volumes.get(src.volume_id)
            if source is None:
                raise CsiError(Code.NOT_FOUND, MSG_VOLUME_NOT_FOUND % src.volume_id)
            if source.size_bytes > size:
                if size:
                    raise CsiError(Code.OUT_OF_RANGE, MSG_SOURCE_TOO_BIG % (source.size_bytes, size))
                size = source.size_bytes
            content = source.content.copy()
        node = self._choose_node(req.accessibility_requirements, size)
        vol = LocalVolume(volume_id=self._new_id(), name=req.name, node=node, size_bytes=size, content=content,
                          source_snapshot_id=src.snapshot_id if src else None,
                          source_volume_id=src.volume_id if src else None)
        self.volumes[vol.volume_id] = vol
        return spec.CreateVolumeResponse(self._volume_message(vol, req))

    def _choose_node(self, reqs: spec.TopologyRequirement | None, size: int) -> str:
        def node_of(term: spec.Topology) -> str | None:
            value = term.segments.get(self.topology_key)
            return value if value in self.nodes else None

        if reqs is not None and reqs.preferred:
            # The scheduler's selected node comes first: use it or fail (ResourceExhausted reschedules).
            first = node_of(reqs.preferred[0])
            if first is not None:
                return self._check_space(first, size)
        if reqs is not None and (reqs.requisite or reqs.preferred):
            candidates = [n for t in [*reqs.preferred, *reqs.requisite] if (n := node_of(t)) is not None]
        else:
            candidates = list(self.nodes)
        if not candidates:
            raise CsiError(Code.INVALID_ARGUMENT if reqs is not None else Code.RESOURCE_EXHAUSTED, MSG_NO_NODE)
        for node in candidates:
            if self.free_bytes(node) >= size:
                return node
        return self._check_space(candidates[0], size)

    def _check_space(self, node: str, size: int) -> str:
        free = self.free_bytes(node)
        if free < size:
            raise CsiError(Code.RESOURCE_EXHAUSTED, MSG_NO_SPACE % (node, size, free))
        return node

    def _volume_message(self, vol: LocalVolume, req: spec.CreateVolumeRequest) -> spec.Volume:
        source = None
        if vol.source_snapshot_id:
            source = spec.VolumeContentSource(snapshot_id=vol.source_snapshot_id)
        elif vol.source_volume_id:
            source = spec.VolumeContentSource(volume_id=vol.source_volume_id)
        return spec.Volume(volume_id=vol.volume_id, capacity_bytes=vol.size_bytes,
                           volume_context=dict(req.parameters), content_source=source,
                           accessible_topology=[spec.Topology({self.topology_key: vol.node})])

    async def delete_volume(self, req: spec.DeleteVolumeRequest) -> spec.DeleteVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_ID_REQUIRED)
        vol = self.volumes.get(req.volume_id)
        if vol is None:
            return spec.DeleteVolumeResponse()
        if vol.published_to:
            raise CsiError(Code.FAILED_PRECONDITION, MSG_STILL_ATTACHED % (vol.volume_id, sorted(vol.published_to)[0]))
        del self.volumes[req.volume_id]
        return spec.DeleteVolumeResponse()

    async def controller_expand_volume(
            self, req: spec.ControllerExpandVolumeRequest) -> spec.ControllerExpandVolumeResponse:
        """As csi-driver-host-path: grow the volume's size (never shrink) within the maximum
        volume size and, here, the free space of its node; the node side is then asked too."""
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_ID_REQUIRED)
        if req.capacity_range is None:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_RANGE_REQUIRED)
        capacity = req.capacity_range.required_bytes
        if capacity > MAX_VOLUME_SIZE:
            raise CsiError(Code.OUT_OF_RANGE, MSG_TOO_BIG % (capacity, MAX_VOLUME_SIZE))
        vol = self.volumes.get(req.volume_id)
        if vol is None:
            raise CsiError(Code.NOT_FOUND, MSG_EXPAND_NOT_FOUND % (req.volume_id, req.volume_id))
        if vol.size_bytes < capacity:
            growth = capacity - vol.size_bytes
            free = self.free_bytes(vol.node)
            if free < growth:
                raise CsiError(Code.RESOURCE_EXHAUSTED, MSG_NO_SPACE % (vol.node, growth, free))
            vol.size_bytes = capacity
        return spec.ControllerExpandVolumeResponse(vol.size_bytes, True)

    async def controller_publish_volume(
            self, req: spec.ControllerPublishVolumeRequest) -> spec.ControllerPublishVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_ID_REQUIRED)
        if not req.node_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_NODE_REQUIRED)
        vol = self.volumes.get(req.volume_id)
        if vol is None:
            raise CsiError(Code.NOT_FOUND, MSG_VOLUME_NOT_FOUND % req.volume_id)
        if req.node_id not in self.nodes:
            raise CsiError(Code.NOT_FOUND, MSG_NODE_UNKNOWN % (req.node_id, self.name))
        if req.node_id != vol.node:
            raise CsiError(Code.FAILED_PRECONDITION, MSG_WRONG_NODE % (vol.volume_id, vol.node, req.node_id))
        vol.published_to.add(req.node_id)
        return spec.ControllerPublishVolumeResponse({})

    async def controller_unpublish_volume(
            self, req: spec.ControllerUnpublishVolumeRequest) -> spec.ControllerUnpublishVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_ID_REQUIRED)
        vol = self.volumes.get(req.volume_id)
        if vol is not None:
            if req.node_id:
                vol.published_to.discard(req.node_id)
            else:
                vol.published_to.clear()
        return spec.ControllerUnpublishVolumeResponse()

    # ------------------------------------------------------------ snapshots

    async def create_snapshot(self, req: spec.CreateSnapshotRequest) -> spec.CreateSnapshotResponse:
        if not req.name:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SNAPSHOT_NAME_REQUIRED)
        if not req.source_volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SNAPSHOT_SOURCE_REQUIRED)
        for snap in self.snapshots.values():
            if snap.name == req.name:
                if snap.source_volume_id != req.source_volume_id:
                    raise CsiError(Code.ALREADY_EXISTS, MSG_SAME_SNAPSHOT % req.name)
                return spec.CreateSnapshotResponse(self._snapshot_message(snap))
        vol = self.volumes.get(req.source_volume_id)
        if vol is None:
            raise CsiError(Code.NOT_FOUND, MSG_VOLUME_NOT_FOUND % req.source_volume_id)
        snap = LocalSnapshot(snapshot_id=self._new_id(), name=req.name, source_volume_id=vol.volume_id,
                             size_bytes=vol.size_bytes, created_at=self.clock.now(), content=vol.content.copy())
        self.snapshots[snap.snapshot_id] = snap
        return spec.CreateSnapshotResponse(self._snapshot_message(snap))

    async def delete_snapshot(self, req: spec.DeleteSnapshotRequest) -> spec.DeleteSnapshotResponse:
        if not req.snapshot_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SNAPSHOT_ID_REQUIRED)
        self.snapshots.pop(req.snapshot_id, None)
        return spec.DeleteSnapshotResponse()

    async def list_snapshots(self, req: spec.ListSnapshotsRequest) -> spec.ListSnapshotsResponse:
        snaps = sorted(self.snapshots.values(), key=lambda s: (s.created_at, s.snapshot_id))
        if req.snapshot_id:
            snaps = [s for s in snaps if s.snapshot_id == req.snapshot_id]
        if req.source_volume_id:
            snaps = [s for s in snaps if s.source_volume_id == req.source_volume_id]
        return spec.paginate([self._snapshot_message(s) for s in snaps], req.max_entries, req.starting_token)

    def _snapshot_message(self, snap: LocalSnapshot) -> spec.Snapshot:
        return spec.Snapshot(snapshot_id=snap.snapshot_id, source_volume_id=snap.source_volume_id,
                             creation_time=int(round(snap.created_at * 1_000_000_000)),
                             size_bytes=snap.size_bytes, ready_to_use=True)

    # ------------------------------------------------------------ capacity and node

    async def get_capacity(self, req: spec.GetCapacityRequest) -> spec.GetCapacityResponse:
        nodes = self.nodes
        if req.accessible_topology is not None:
            node = req.accessible_topology.segments.get(self.topology_key)
            nodes = [node] if node in self.nodes else []
        free = max((self.free_bytes(n) for n in nodes), default=0)
        total = sum(self.free_bytes(n) for n in nodes)
        return spec.GetCapacityResponse(total, min(free, MAX_VOLUME_SIZE))

    async def node_get_info(self, req: spec.NodeGetInfoRequest) -> spec.NodeGetInfoResponse:
        if not self.serves_node(req.node_name):
            raise CsiError(Code.NOT_FOUND, MSG_NODE_UNKNOWN % (req.node_name, self.name))
        return spec.NodeGetInfoResponse(req.node_name, self.max_volumes,
                                        spec.Topology({self.topology_key: req.node_name}))

    async def node_stage_volume(self, req: spec.NodeStageVolumeRequest) -> spec.NodeStageVolumeResponse:
        self._on_node(req.volume_id, req.node_name, "NodeStageVolume")
        return self.mounts.stage(req)

    async def node_unstage_volume(self, req: spec.NodeUnstageVolumeRequest) -> spec.NodeUnstageVolumeResponse:
        return self.mounts.unstage(req)

    async def node_publish_volume(self, req: spec.NodePublishVolumeRequest) -> spec.NodePublishVolumeResponse:
        self._on_node(req.volume_id, req.node_name, "NodePublishVolume")
        return self.mounts.publish(req)

    async def node_unpublish_volume(self, req: spec.NodeUnpublishVolumeRequest) -> spec.NodeUnpublishVolumeResponse:
        return self.mounts.unpublish(req)

    async def node_expand_volume(self, req: spec.NodeExpandVolumeRequest) -> spec.NodeExpandVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_ID_REQUIRED)
        if not req.volume_path:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_PATH_REQUIRED)
        vol = self.volumes.get(req.volume_id)
        if vol is None:
            raise CsiError(Code.NOT_FOUND, MSG_EXPAND_NOT_FOUND % (req.volume_id, req.volume_id))
        return spec.NodeExpandVolumeResponse(vol.size_bytes)

    def _on_node(self, volume_id: str, node: str, op: str) -> None:
        """A local volume can only be mounted on the node that holds it."""
        vol = self.volumes.get(volume_id) if volume_id else None
        if volume_id and (vol is None or vol.node != node):
            raise CsiError(Code.NOT_FOUND, f"{op}: " + MSG_VOLUME_NOT_FOUND % volume_id + f" on node {node}")

    # ------------------------------------------------------------ internals

    def _volume(self, volume_id: str) -> LocalVolume:
        vol = self.volumes.get(volume_id)
        if vol is None:
            raise CsiError(Code.NOT_FOUND, MSG_VOLUME_NOT_FOUND % volume_id)
        return vol

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


__all__ = ["LocalDriver", "LocalVolume", "LocalSnapshot"]
