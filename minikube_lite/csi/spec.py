"""The CSI controller and node services as Python types (container-storage-interface/spec csi.proto).

Why a protocol and not direct cloud calls: the provisioner, the snapshot sidecar and the kubelet
talk to storage only through these calls, as the real sidecars do over gRPC, so a driver can be
swapped (cloud disk, host path) and every failure arrives as a gRPC-style code the controllers
map exactly as upstream does (storage.md 3.9). Field names follow csi.proto in snake_case.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

MSG_RPC_ERROR = "rpc error: code = {code} desc = {message}"


class Code(enum.Enum):
    """gRPC status codes; ``go_name`` is how Go prints them (``ResourceExhausted``)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @property
    def go_name(self) -> str:
        if self is Code.CANCELLED:
            return "Canceled"
        if self is Code.OK:
            return "OK"
        return "".join(part.capitalize() for part in self.name.split("_"))


# Module-level aliases so callers can write ``spec.RESOURCE_EXHAUSTED``.
INVALID_ARGUMENT = Code.INVALID_ARGUMENT
NOT_FOUND = Code.NOT_FOUND
ALREADY_EXISTS = Code.ALREADY_EXISTS
RESOURCE_EXHAUSTED = Code.RESOURCE_EXHAUSTED
UNAVAILABLE = Code.UNAVAILABLE
FAILED_PRECONDITION = Code.FAILED_PRECONDITION
ABORTED = Code.ABORTED
DEADLINE_EXCEEDED = Code.DEADLINE_EXCEEDED
INTERNAL = Code.INTERNAL
OUT_OF_RANGE = Code.OUT_OF_RANGE
UNIMPLEMENTED = Code.UNIMPLEMENTED


class CsiError(Exception):
    """A failed CSI call. ``str()`` is the Go error text a sidecar puts into events."""

    def __init__(self, code: Code, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(MSG_RPC_ERROR.format(code=code.go_name, message=message))


class AccessMode(enum.Enum):
    UNKNOWN = 0
    SINGLE_NODE_WRITER = 1
    SINGLE_NODE_READER_ONLY = 2
    MULTI_NODE_READER_ONLY = 3
    MULTI_NODE_SINGLE_WRITER = 4
    MULTI_NODE_MULTI_WRITER = 5
    SINGLE_NODE_SINGLE_WRITER = 6
    SINGLE_NODE_MULTI_WRITER = 7


SINGLE_NODE_MODES = frozenset({AccessMode.SINGLE_NODE_WRITER, AccessMode.SINGLE_NODE_READER_ONLY,
                               AccessMode.SINGLE_NODE_SINGLE_WRITER, AccessMode.SINGLE_NODE_MULTI_WRITER})


class PluginCapability(enum.Enum):
    CONTROLLER_SERVICE = 1
    VOLUME_ACCESSIBILITY_CONSTRAINTS = 2
    GROUP_CONTROLLER_SERVICE = 3


class VolumeExpansion(enum.Enum):
    """``PluginCapability.VolumeExpansion.Type``: a plugin reports one of these next to its service
    capabilities (ONLINE: a volume can grow while published to a node; OFFLINE: only while not)."""

    ONLINE = 1
    OFFLINE = 2


#: What GetPluginCapabilities answers: service capabilities and at most one VolumeExpansion.
PluginCapabilities = list[PluginCapability | VolumeExpansion]


class ControllerCapability(enum.Enum):
    CREATE_DELETE_VOLUME = 1
    PUBLISH_UNPUBLISH_VOLUME = 2
    LIST_VOLUMES = 3
    GET_CAPACITY = 4
    CREATE_DELETE_SNAPSHOT = 5
    LIST_SNAPSHOTS = 6
    CLONE_VOLUME = 7
    PUBLISH_READONLY = 8
    EXPAND_VOLUME = 9
    LIST_VOLUMES_PUBLISHED_NODES = 10
    VOLUME_CONDITION = 11
    GET_VOLUME = 12
    SINGLE_NODE_MULTI_WRITER = 13
    MODIFY_VOLUME = 14


class NodeCapability(enum.Enum):
    STAGE_UNSTAGE_VOLUME = 1
    GET_VOLUME_STATS = 2
    EXPAND_VOLUME = 3
    VOLUME_CONDITION = 4
    SINGLE_NODE_MULTI_WRITER = 5
    VOLUME_MOUNT_GROUP = 6


# ---------------------------------------------------------------- shared messages


@dataclass
class Topology:
    segments: dict[str, str] = field(default_factory=dict)


@dataclass
class TopologyRequirement:
    requisite: list[Topology] = field(default_factory=list)
    preferred: list[Topology] = field(default_factory=list)


@dataclass
class CapacityRange:
    required_bytes: int = 0
    limit_bytes: int = 0


@dataclass
class MountVolume:
    fs_type: str = ""
    mount_flags: list[str] = field(default_factory=list)


@dataclass
class VolumeCapability:
    access_mode: AccessMode = AccessMode.SINGLE_NODE_WRITER
    mount: MountVolume | None = None
    block: bool = False


@dataclass
class VolumeContentSource:
    """Exactly one of ``snapshot_id`` / ``volume_id``."""

    snapshot_id: str | None = None
    volume_id: str | None = None


@dataclass
class Volume:
    volume_id: str
    capacity_bytes: int = 0
    volume_context: dict[str, str] = field(default_factory=dict)
    content_source: VolumeContentSource | None = None
    accessible_topology: list[Topology] = field(default_factory=list)


@dataclass
class Snapshot:
    snapshot_id: str
    source_volume_id: str
    creation_time: int  # nanoseconds since the epoch
    size_bytes: int = 0
    ready_to_use: bool = False
    group_snapshot_id: str = ""


# ---------------------------------------------------------------- identity


@dataclass
class GetPluginInfoResponse:
    name: str
    vendor_version: str
    manifest: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- controller


@dataclass
class CreateVolumeRequest:
    name: str
    capacity_range: CapacityRange | None = None
    volume_capabilities: list[VolumeCapability] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    volume_content_source: VolumeContentSource | None = None
    accessibility_requirements: TopologyRequirement | None = None
    mutable_parameters: dict[str, str] = field(default_factory=dict)


@dataclass
class CreateVolumeResponse:
    volume: Volume


@dataclass
class DeleteVolumeRequest:
    volume_id: str
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class DeleteVolumeResponse:
    pass


@dataclass
class ControllerPublishVolumeRequest:
    volume_id: str
    node_id: str
    volume_capability: VolumeCapability | None = None
    readonly: bool = False
    secrets: dict[str, str] = field(default_factory=dict)
    volume_context: dict[str, str] = field(default_factory=dict)


@dataclass
class ControllerPublishVolumeResponse:
    publish_context: dict[str, str] = field(default_factory=dict)


@dataclass
class ControllerUnpublishVolumeRequest:
    volume_id: str
    node_id: str = ""
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class ControllerUnpublishVolumeResponse:
    pass


@dataclass
class ControllerExpandVolumeRequest:
    volume_id: str
    capacity_range: CapacityRange | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    volume_capability: VolumeCapability | None = None


@dataclass
class ControllerExpandVolumeResponse:
    capacity_bytes: int
    node_expansion_required: bool = False


@dataclass
class CreateSnapshotRequest:
    source_volume_id: str
    name: str
    parameters: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class CreateSnapshotResponse:
    snapshot: Snapshot


@dataclass
class DeleteSnapshotRequest:
    snapshot_id: str
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class DeleteSnapshotResponse:
    pass


@dataclass
class ListSnapshotsRequest:
    max_entries: int = 0
    starting_token: str = ""
    source_volume_id: str = ""
    snapshot_id: str = ""


@dataclass
class ListSnapshotsResponse:
    entries: list[Snapshot] = field(default_factory=list)
    next_token: str = ""


@dataclass
class GetCapacityRequest:
    volume_capabilities: list[VolumeCapability] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    accessible_topology: Topology | None = None


@dataclass
class GetCapacityResponse:
    available_capacity: int
    maximum_volume_size: int | None = None
    minimum_volume_size: int | None = None


# ---------------------------------------------------------------- node


@dataclass
class NodeGetInfoRequest:
    """CSI's NodeGetInfo has no fields: the node is implicit in which plugin answers. One Python
    driver object serves every node, so the request names the node whose plugin is asked."""

    node_name: str


@dataclass
class NodeGetInfoResponse:
    node_id: str
    max_volumes_per_node: int = 0
    accessible_topology: Topology | None = None


@dataclass
class NodeStageVolumeRequest:
    """As csi.proto, plus ``node_name``: the node whose plugin is asked (see NodeGetInfoRequest)."""

    volume_id: str
    node_name: str
    staging_target_path: str = ""
    volume_capability: VolumeCapability | None = None
    publish_context: dict[str, str] = field(default_factory=dict)
    volume_context: dict[str, str] = field(default_factory=dict)


@dataclass
class NodeStageVolumeResponse:
    pass


@dataclass
class NodeUnstageVolumeRequest:
    volume_id: str
    node_name: str
    staging_target_path: str = ""


@dataclass
class NodeUnstageVolumeResponse:
    pass


@dataclass
class NodePublishVolumeRequest:
    volume_id: str
    node_name: str
    target_path: str
    staging_target_path: str = ""
    volume_capability: VolumeCapability | None = None
    readonly: bool = False
    publish_context: dict[str, str] = field(default_factory=dict)
    volume_context: dict[str, str] = field(default_factory=dict)


@dataclass
class NodePublishVolumeResponse:
    pass


@dataclass
class NodeUnpublishVolumeRequest:
    volume_id: str
    node_name: str
    target_path: str


@dataclass
class NodeUnpublishVolumeResponse:
    pass


@dataclass
class NodeExpandVolumeRequest:
    """As csi.proto, plus ``node_name``: the node whose plugin is asked (see NodeGetInfoRequest)."""

    volume_id: str
    node_name: str
    volume_path: str
    capacity_range: CapacityRange | None = None
    staging_target_path: str = ""
    volume_capability: VolumeCapability | None = None
    secrets: dict[str, str] = field(default_factory=dict)


@dataclass
class NodeExpandVolumeResponse:
    capacity_bytes: int = 0


class CsiDriver(Protocol):
    """What controllers may call. Every call may raise :class:`CsiError`."""

    name: str

    async def get_plugin_info(self) -> GetPluginInfoResponse: ...

    async def get_plugin_capabilities(self) -> PluginCapabilities: ...

    async def controller_get_capabilities(self) -> list[ControllerCapability]: ...

    async def node_get_capabilities(self) -> list[NodeCapability]: ...

    async def create_volume(self, req: CreateVolumeRequest) -> CreateVolumeResponse: ...

    async def delete_volume(self, req: DeleteVolumeRequest) -> DeleteVolumeResponse: ...

    async def controller_publish_volume(
        self, req: ControllerPublishVolumeRequest) -> ControllerPublishVolumeResponse: ...

    async def controller_unpublish_volume(
        self, req: ControllerUnpublishVolumeRequest) -> ControllerUnpublishVolumeResponse: ...

    async def controller_expand_volume(
        self, req: ControllerExpandVolumeRequest) -> ControllerExpandVolumeResponse: ...

    async def create_snapshot(self, req: CreateSnapshotRequest) -> CreateSnapshotResponse: ...

    async def delete_snapshot(self, req: DeleteSnapshotRequest) -> DeleteSnapshotResponse: ...

    async def list_snapshots(self, req: ListSnapshotsRequest) -> ListSnapshotsResponse: ...

    async def get_capacity(self, req: GetCapacityRequest) -> GetCapacityResponse: ...

    async def node_get_info(self, req: NodeGetInfoRequest) -> NodeGetInfoResponse: ...

    async def node_stage_volume(self, req: NodeStageVolumeRequest) -> NodeStageVolumeResponse: ...

    async def node_unstage_volume(self, req: NodeUnstageVolumeRequest) -> NodeUnstageVolumeResponse: ...

    async def node_publish_volume(self, req: NodePublishVolumeRequest) -> NodePublishVolumeResponse: ...

    async def node_unpublish_volume(self, req: NodeUnpublishVolumeRequest) -> NodeUnpublishVolumeResponse: ...

    async def node_expand_volume(self, req: NodeExpandVolumeRequest) -> NodeExpandVolumeResponse: ...

    def serves_node(self, node_name: str) -> bool:
        """Whether this driver's node plugin runs on ``node_name`` (registration asks)."""
        ...


# ---------------------------------------------------------------- helpers shared by drivers


class Mounts:
    """Node-side bookkeeping shared by the drivers: which volume is staged / published where.

    Why: a fake kubelet should be refused exactly when a real one would be (publishing a volume
    that was never staged, staging a disk that is not attached), and tests can see the mounts.
    """

    def __init__(self) -> None:
        #: (volume_id, node) -> staging path
        self.staged: dict[tuple[str, str], str] = {}
        #: (volume_id, node) -> target paths
        self.published: dict[tuple[str, str], set[str]] = {}

    def stage(self, req: NodeStageVolumeRequest) -> NodeStageVolumeResponse:
        if not req.volume_id:
            raise CsiError(INVALID_ARGUMENT, "NodeStageVolume: Volume ID must be provided")
        if not req.staging_target_path:
            raise CsiError(INVALID_ARGUMENT, "NodeStageVolume: Staging Target Path must be provided")
        key = (req.volume_id, req.node_name)
        current = self.staged.get(key)
        if current is not None and current != req.staging_target_path:
            raise CsiError(ALREADY_EXISTS, f"NodeStageVolume: volume {req.volume_id} is already staged at {current}")
        self.staged[key] = req.staging_target_path
        return NodeStageVolumeResponse()

    def unstage(self, req: NodeUnstageVolumeRequest) -> NodeUnstageVolumeResponse:
        if not req.volume_id:
            raise CsiError(INVALID_ARGUMENT, "NodeUnstageVolume: Volume ID must be provided")
        key = (req.volume_id, req.node_name)
        if self.published.get(key):
            raise CsiError(FAILED_PRECONDITION,
                           f"NodeUnstageVolume: volume {req.volume_id} is still published on {req.node_name}")
        self.staged.pop(key, None)
        return NodeUnstageVolumeResponse()

    def publish(self, req: NodePublishVolumeRequest, needs_stage: bool = True) -> NodePublishVolumeResponse:
        if not req.volume_id:
            raise CsiError(INVALID_ARGUMENT, "NodePublishVolume: Volume ID must be provided")
        if not req.target_path:
            raise CsiError(INVALID_ARGUMENT, "NodePublishVolume: Target Path must be provided")
        key = (req.volume_id, req.node_name)
        if needs_stage and key not in self.staged:
            raise CsiError(FAILED_PRECONDITION,
                           f"NodePublishVolume: volume {req.volume_id} is not staged on {req.node_name}")
        self.published.setdefault(key, set()).add(req.target_path)
        return NodePublishVolumeResponse()

    def unpublish(self, req: NodeUnpublishVolumeRequest) -> NodeUnpublishVolumeResponse:
        if not req.volume_id:
            raise CsiError(INVALID_ARGUMENT, "NodeUnpublishVolume: Volume ID must be provided")
        key = (req.volume_id, req.node_name)
        targets = self.published.get(key)
        if targets is not None:
            targets.discard(req.target_path)
            if not targets:
                del self.published[key]
        return NodeUnpublishVolumeResponse()

    def in_use(self, volume_id: str) -> list[str]:
        """Nodes where the volume is staged or published."""
        return sorted({n for (v, n) in [*self.staged, *self.published] if v == volume_id})


GIB = 1024**3


def round_up_gib(n_bytes: int) -> int:
    return (max(0, n_bytes) + GIB - 1) // GIB


def paginate(entries: list[Snapshot], max_entries: int, starting_token: str) -> ListSnapshotsResponse:
    """ListSnapshots paging; a token that is not a position gives ABORTED, as the spec says."""
    start = 0
    if starting_token:
        try:
            start = int(starting_token)
        except ValueError:
            raise CsiError(ABORTED, f"invalid starting token {starting_token!r}") from None
        if start < 0 or start > len(entries):
            raise CsiError(ABORTED, f"invalid starting token {starting_token!r}")
    if max_entries and max_entries > 0:
        page = entries[start:start + max_entries]
        nxt = start + max_entries
        return ListSnapshotsResponse(page, str(nxt) if nxt < len(entries) else "")
    return ListSnapshotsResponse(entries[start:], "")
