"""A zonal cloud-disk CSI driver on the mock cloud, shaped like the Alibaba Cloud disk plugin.

Why these rules (storage.md 5.4): NodeGetInfo reports the instance id, the driver's own zone
key, the region key and ``topology.kubernetes.io/zone``; CreateVolume takes the first zone in
Preferred, then Requisite (under either zone key), narrowed by the ``zoneId`` class parameter;
the returned topology is the driver's zone key, which is what ends up in the PV's node affinity.
Cloud failures become gRPC codes the way cloud drivers map them (quota -> RESOURCE_EXHAUSTED so
the provisioner reschedules, outage/throttling -> UNAVAILABLE so it retries in the background).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable

from ..cloud import CloudError, CloudTimeoutError, MockCloud
from ..cloud import errors as E
from ..cloud.models import ACCOMPLISHED, ATTACHING, AVAILABLE, CREATING, DELETING, DETACHING, IN_USE, Disk
from ..config import CLOUD_DISK_ZONE_KEY, DriverConfig
from ..kube.names import LEGACY_ZONE_LABEL, ZONE_LABEL
from . import spec
from .spec import Code, CsiError

log = logging.getLogger(__name__)

VENDOR_VERSION = "v1.33.0"
INSTANCE_ID_KEY = "alibabacloud.com/ecs-instance-id"
#: ``type: available`` tries these categories in order (the plugin's "DiskHighAvail").
AVAILABLE_CATEGORIES = ("cloud_essd", "cloud_ssd", "cloud_efficiency")
DEFAULT_CATEGORY = "available"
MINIMUM_DISK_SIZE_GIB = 20

MSG_NAME_REQUIRED = "CreateVolume: Volume name must be provided"
MSG_CAPS_REQUIRED = "CreateVolume: Volume capabilities must be provided"
MSG_MULTI_NODE = "CreateVolume: access mode %s is not supported by disk volumes without multiAttach"
MSG_REGION = 'CreateVolume: regionId "%s" does not match the cluster region "%s"'
MSG_LIMIT = "CreateVolume: requested size %d GiB is larger than the limit %d bytes"
MSG_NO_TOPOLOGY = "no available topology found"
MSG_CLONE = "CreateVolume: creating a disk from another disk is not supported; take a snapshot first"
MSG_CONFLICTING_ZONE = "ConflictingZone: zoneId %s does not intersect the requested topology %s; using %s"
MSG_VOLUME_ID_REQUIRED = "Volume ID must be provided"
MSG_NODE_ID_REQUIRED = "Node ID must be provided"
MSG_SNAPSHOT_NAME_REQUIRED = "CreateSnapshot: snapshot name must be provided"
MSG_SOURCE_REQUIRED = "CreateSnapshot: source volume id must be provided"
MSG_SNAPSHOT_ID_REQUIRED = "DeleteSnapshot: snapshot id must be provided"
MSG_ATTACH_LIMIT = "ControllerPublishVolume: node %s already has %d volumes attached (max %d)"
MSG_ATTACHED_ELSEWHERE = "ControllerPublishVolume: disk %s is attached to %s, cannot attach to %s"
MSG_NODE_UNKNOWN = "NodeGetInfo: node %s has no instance in the cloud"
MSG_NOT_ATTACHED = "NodeStageVolume: disk %s is not attached to node %s"
MSG_EXPAND_ID_REQUIRED = "ControllerExpandVolume: Volume ID must be provided"
MSG_EXPAND_RANGE_REQUIRED = "ControllerExpandVolume: Capacity range must be provided"
MSG_EXPAND_LIMIT = "ControllerExpandVolume: requested size %d GiB is larger than the limit %d bytes"
MSG_EXPAND_NOT_FOUND = "ControllerExpandVolume: disk %s not found"
MSG_NODE_EXPAND_ID_REQUIRED = "NodeExpandVolume: Volume ID must be provided"
MSG_NODE_EXPAND_PATH_REQUIRED = "NodeExpandVolume: Volume path must be provided"
MSG_NODE_EXPAND_NOT_FOUND = "NodeExpandVolume: disk %s not found"
MSG_NODE_EXPAND_NOT_ATTACHED = "NodeExpandVolume: disk %s is not attached to node %s"

_NOT_FOUND = (E.DISK_NOT_FOUND, E.SNAPSHOT_NOT_FOUND, E.INSTANCE_NOT_FOUND)


def cloud_error_to_csi(err: CloudError, operation: str = "") -> CsiError:
    """Map a cloud error to the gRPC code a cloud-disk driver would return."""
    code = err.code
    if code in _NOT_FOUND or code.endswith(".NotFound"):
        grpc = Code.NOT_FOUND
    elif code.startswith(("QuotaExceed", "InstanceDiskNumber")):
        grpc = Code.RESOURCE_EXHAUSTED
    elif code.startswith(("OperationFailed.ZoneOutage", "ServiceUnavailable", "Throttling")):
        grpc = Code.UNAVAILABLE
    elif code.startswith(("IncorrectDiskStatus", "IncorrectSnapshotStatus")) or code == E.ZONE_MISMATCH:
        grpc = Code.FAILED_PRECONDITION
    elif code.startswith(("InvalidParameter", "InvalidDiskSize", "InvalidDiskCategory", "InvalidZoneId")):
        grpc = Code.INVALID_ARGUMENT
    elif code == E.IDEMPOTENT_MISMATCH:
        grpc = Code.ALREADY_EXISTS
    elif code.startswith("OperationConflict"):
        grpc = Code.ABORTED
    elif isinstance(err, CloudTimeoutError) or code in (E.TIMEOUT, "Timeout"):
        grpc = Code.DEADLINE_EXCEEDED
    else:
        grpc = Code.INTERNAL
    prefix = f"{operation}: " if operation else ""
    return CsiError(grpc, f"{prefix}{code}: {err.message}")


def choose_zone(requirements: spec.TopologyRequirement | None, zone_keys: Iterable[str],
                zone_param: list[str], fallback: list[str], name: str = "") -> tuple[str, bool]:
    """The zone for a new disk and whether ``zoneId`` conflicted with the topology.

    Preferred first, then Requisite; each term's zone under any of ``zone_keys``; narrowed by the
    ``zoneId`` parameter. Without topology, ``zoneId`` (spread by volume name) or the first zone.
    """
    keys = list(zone_keys)
    seen: set[str] = set()
    if requirements is not None:
        # Stop at the first usable candidate: with a per-instance topology key there is one term
        # per node, so collecting them all first cost O(nodes) per CreateVolume.
        for term in itertools.chain(requirements.preferred, requirements.requisite):
            for key in keys:
                value = term.segments.get(key)
                if value and value not in seen:
                    if not zone_param or value in zone_param:
                        return value, False
                    seen.add(value)
                    break
    if zone_param:
        pick = zone_param[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(zone_param)]
        return pick, bool(seen)
    return fallback[0], False


class CloudDiskDriver:
    """``diskplugin.csi.alibabacloud.com`` on a :class:`MockCloud`."""

    def __init__(self, cloud: MockCloud, config: DriverConfig | None = None,
                 nodes: Iterable[str] | None = None) -> None:
        self.cloud = cloud
        self.config = config or DriverConfig(name="diskplugin.csi.alibabacloud.com", type="cloud-disk")
        self.name = self.config.name
        self.zone_key = self.config.resolved_topology_key()
        self.region_key = self.config.regionKey
        self.max_volumes = self.config.resolved_max_volumes()
        self.timeout = self.config.operationTimeout
        self.nodes = set(nodes) if nodes is not None else None
        #: Warnings a real driver would emit as events (e.g. ConflictingZone); newest last.
        self.warnings: list[str] = []
        self.mounts = spec.Mounts()

    def serves_node(self, node_name: str) -> bool:
        return self.nodes is None or node_name in self.nodes

    def zone_keys(self) -> list[str]:
        keys = [self.zone_key, ZONE_LABEL, LEGACY_ZONE_LABEL, CLOUD_DISK_ZONE_KEY]
        return list(dict.fromkeys(keys))

    # ------------------------------------------------------------ identity

    async def get_plugin_info(self) -> spec.GetPluginInfoResponse:
        return spec.GetPluginInfoResponse(self.name, VENDOR_VERSION)

    async def get_plugin_capabilities(self) -> spec.PluginCapabilities:
        return [spec.PluginCapability.CONTROLLER_SERVICE, spec.PluginCapability.VOLUME_ACCESSIBILITY_CONSTRAINTS,
                spec.VolumeExpansion.ONLINE]

    async def controller_get_capabilities(self) -> list[spec.ControllerCapability]:
        caps = [spec.ControllerCapability.CREATE_DELETE_VOLUME, spec.ControllerCapability.PUBLISH_UNPUBLISH_VOLUME,
                spec.ControllerCapability.GET_CAPACITY, spec.ControllerCapability.EXPAND_VOLUME]
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
        params = dict(req.parameters)
        multi_attach = params.get("multiAttach", "").lower() in ("true", "yes", "1")
        for cap in req.volume_capabilities:
            if cap.access_mode not in spec.SINGLE_NODE_MODES and not multi_attach:
                raise CsiError(Code.INVALID_ARGUMENT, MSG_MULTI_NODE % cap.access_mode.name)
        region = params.get("regionId") or params.get("regionid")
        if region and region != self.cloud.region:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_REGION % (region, self.cloud.region))
        source = req.volume_content_source
        if source is not None and source.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_CLONE)
        snapshot_id = source.snapshot_id if source is not None else None

        rng = req.capacity_range or spec.CapacityRange()
        size_gib: int | None = spec.round_up_gib(rng.required_bytes) or None
        if size_gib is None and snapshot_id is None:
            size_gib = MINIMUM_DISK_SIZE_GIB
        auto = params.get("volumeSizeAutoAvailable", "").lower() in ("true", "yes", "1")
        if size_gib is not None and size_gib < MINIMUM_DISK_SIZE_GIB and auto:
            size_gib = MINIMUM_DISK_SIZE_GIB
        if size_gib is not None and rng.limit_bytes and size_gib * spec.GIB > rng.limit_bytes:
            raise CsiError(Code.OUT_OF_RANGE, MSG_LIMIT % (size_gib, rng.limit_bytes))

        zone_param = [z.strip() for z in (params.get("zoneId") or params.get("zoneid") or "").split(",") if z.strip()]
        zone, conflict = choose_zone(req.accessibility_requirements, self.zone_keys(), zone_param,
                                     self.cloud.zones, req.name)
        if conflict:
            self.warnings.append(MSG_CONFLICTING_ZONE % (zone_param, _zones_of(req), zone))

        raw_types = params.get("type") or params.get("category") or DEFAULT_CATEGORY
        categories: list[str] = []
        for t in raw_types.split(","):
            t = t.strip()
            categories.extend(AVAILABLE_CATEGORIES if t == "available" else [t] if t else [])
        if not categories:
            categories = list(AVAILABLE_CATEGORIES)
        disk: Disk | None = None
        for category in categories:
            try:
                disk = await self.cloud.create_disk(
                    zone=zone, size_gib=size_gib, category=category, name=req.name, client_token=req.name,
                    snapshot_id=snapshot_id, multi_attach=multi_attach,
                    tags={"createdby": "alibabacloud-csi-driver", "csi.storage.k8s.io/pv/name": req.name})
                break
            except CloudError as err:
                if err.code == E.INVALID_CATEGORY and category != categories[-1]:
                    continue
                raise cloud_error_to_csi(err, "CreateVolume") from None
        assert disk is not None
        try:
            disk = await self.cloud.wait_disk(disk.disk_id, (AVAILABLE, ATTACHING, IN_USE, DETACHING), self.timeout)
        except CloudError as err:
            raise cloud_error_to_csi(err, "CreateVolume") from None
        context = {k: v for k, v in params.items() if not k.startswith("csi.storage.k8s.io/")}
        context["type"] = disk.category
        return spec.CreateVolumeResponse(spec.Volume(
            volume_id=disk.disk_id, capacity_bytes=disk.size_bytes, volume_context=context,
            content_source=spec.VolumeContentSource(snapshot_id=snapshot_id) if snapshot_id else None,
            accessible_topology=[spec.Topology({self.zone_key: disk.zone})],
        ))

    async def delete_volume(self, req: spec.DeleteVolumeRequest) -> spec.DeleteVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_VOLUME_ID_REQUIRED)
        disk = self.cloud.disks.get(req.volume_id)
        if disk is None:
            return spec.DeleteVolumeResponse()  # already gone: DeleteVolume is idempotent
        try:
            if disk.status == CREATING:
                await self.cloud.wait_disk(disk.disk_id, AVAILABLE, self.timeout)
            if disk.status != DELETING:
                await self.cloud.delete_disk(disk.disk_id)
            await self.cloud.wait_disk_gone(disk.disk_id, self.timeout)
        except CloudError as err:
            if err.code == E.DISK_NOT_FOUND:
                return spec.DeleteVolumeResponse()
            raise cloud_error_to_csi(err, "DeleteVolume") from None
        return spec.DeleteVolumeResponse()

    async def controller_publish_volume(
            self, req: spec.ControllerPublishVolumeRequest) -> spec.ControllerPublishVolumeResponse:
        """Attach the disk to the node's instance (``node_id`` is the instance id from NodeGetInfo)."""
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_VOLUME_ID_REQUIRED)
        if not req.node_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_NODE_ID_REQUIRED)
        try:
            disk = self.cloud.disks.get(req.volume_id)
            if disk is None:
                raise CsiError(Code.NOT_FOUND, f"ControllerPublishVolume: volume {req.volume_id} not found")
            inst = self.cloud.instances.get(req.node_id)
            if inst is None:
                raise CsiError(Code.NOT_FOUND, f"ControllerPublishVolume: node {req.node_id} not found")
            if disk.status == DETACHING or disk.status == CREATING:
                disk = await self.cloud.wait_disk(disk.disk_id, (AVAILABLE, IN_USE), self.timeout)
            if req.node_id not in disk.instance_ids:
                if disk.instance_ids and not disk.multi_attach:
                    raise CsiError(Code.FAILED_PRECONDITION,
                                   MSG_ATTACHED_ELSEWHERE % (disk.disk_id, disk.instance_id, req.node_id))
                if self.max_volumes and len(inst.disks) >= self.max_volumes:
                    raise CsiError(Code.RESOURCE_EXHAUSTED,
                                   MSG_ATTACH_LIMIT % (req.node_id, len(inst.disks), self.max_volumes))
                await self.cloud.attach_disk(disk.disk_id, req.node_id)
            disk = await self.cloud.wait_disk(disk.disk_id, IN_USE, self.timeout)
        except CloudError as err:
            raise cloud_error_to_csi(err, "ControllerPublishVolume") from None
        return spec.ControllerPublishVolumeResponse({"devicePath": disk.device or ""})

    async def controller_unpublish_volume(
            self, req: spec.ControllerUnpublishVolumeRequest) -> spec.ControllerUnpublishVolumeResponse:
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_VOLUME_ID_REQUIRED)
        disk = self.cloud.disks.get(req.volume_id)
        if disk is None:
            return spec.ControllerUnpublishVolumeResponse()
        targets = [req.node_id] if req.node_id else list(disk.instance_ids)
        try:
            for node_id in targets:
                if node_id not in disk.instance_ids:
                    continue
                if disk.status == ATTACHING:
                    await self.cloud.wait_disk(disk.disk_id, IN_USE, self.timeout)
                if disk.status != DETACHING:
                    await self.cloud.detach_disk(disk.disk_id, node_id)
                await self.cloud.wait_disk(disk.disk_id, (AVAILABLE, IN_USE, ATTACHING), self.timeout)
        except CloudError as err:
            if err.code == E.DISK_NOT_FOUND:
                return spec.ControllerUnpublishVolumeResponse()
            raise cloud_error_to_csi(err, "ControllerUnpublishVolume") from None
        return spec.ControllerUnpublishVolumeResponse()

    async def controller_expand_volume(
            self, req: spec.ControllerExpandVolumeRequest) -> spec.ControllerExpandVolumeResponse:
        """ResizeDisk, then wait until the cloud reports the new size. A disk already as large as
        asked answers at once (the call is idempotent, as the resizer retries it). The file system
        still has to grow on the node, so a mounted volume asks for node expansion."""
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_ID_REQUIRED)
        rng = req.capacity_range
        if rng is None:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_EXPAND_RANGE_REQUIRED)
        size_gib = spec.round_up_gib(rng.required_bytes)
        if rng.limit_bytes and size_gib * spec.GIB > rng.limit_bytes:
            raise CsiError(Code.OUT_OF_RANGE, MSG_EXPAND_LIMIT % (size_gib, rng.limit_bytes))
        disk = self.cloud.disks.get(req.volume_id)
        if disk is None or disk.status == DELETING:
            raise CsiError(Code.NOT_FOUND, MSG_EXPAND_NOT_FOUND % req.volume_id)
        node_expansion = not (req.volume_capability is not None and req.volume_capability.block)
        try:
            if disk.resizing or disk.size_gib < size_gib:
                if disk.resize_target_gib != size_gib and disk.size_gib < size_gib:
                    await self.cloud.resize_disk(disk.disk_id, size_gib)
                disk = await self.cloud.wait_disk_resized(disk.disk_id, self.timeout)
        except CloudError as err:
            raise cloud_error_to_csi(err, "ControllerExpandVolume") from None
        return spec.ControllerExpandVolumeResponse(disk.size_bytes, node_expansion)

    # ------------------------------------------------------------ snapshots

    async def create_snapshot(self, req: spec.CreateSnapshotRequest) -> spec.CreateSnapshotResponse:
        """CreateSnapshot returns at once; ``ready_to_use`` turns true once the cloud finishes, and
        the sidecar calls again (same name = same snapshot) until it does."""
        if not req.name:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SNAPSHOT_NAME_REQUIRED)
        if not req.source_volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SOURCE_REQUIRED)
        try:
            snap = await self.cloud.create_snapshot(req.source_volume_id, name=req.name, client_token=req.name)
        except CloudError as err:
            raise cloud_error_to_csi(err, "CreateSnapshot") from None
        return spec.CreateSnapshotResponse(self._snapshot(snap.snapshot_id))

    async def delete_snapshot(self, req: spec.DeleteSnapshotRequest) -> spec.DeleteSnapshotResponse:
        if not req.snapshot_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_SNAPSHOT_ID_REQUIRED)
        if req.snapshot_id not in self.cloud.snapshots:
            return spec.DeleteSnapshotResponse()
        try:
            await self.cloud.delete_snapshot(req.snapshot_id)
            await self.cloud.wait_snapshot_gone(req.snapshot_id, self.timeout)
        except CloudError as err:
            if err.code == E.SNAPSHOT_NOT_FOUND:
                return spec.DeleteSnapshotResponse()
            raise cloud_error_to_csi(err, "DeleteSnapshot") from None
        return spec.DeleteSnapshotResponse()

    async def list_snapshots(self, req: spec.ListSnapshotsRequest) -> spec.ListSnapshotsResponse:
        if req.snapshot_id:
            ids = [req.snapshot_id] if req.snapshot_id in self.cloud.snapshots else []
            snaps = [s for s in self.cloud.describe_snapshots(snapshot_ids=ids)
                     if not req.source_volume_id or s.source_disk_id == req.source_volume_id]
        else:
            snaps = self.cloud.describe_snapshots(disk_id=req.source_volume_id or None)
        entries = [self._snapshot(s.snapshot_id) for s in sorted(snaps, key=lambda s: (s.created_at, s.snapshot_id))
                   if s.status != "deleting"]
        return spec.paginate(entries, req.max_entries, req.starting_token)

    def _snapshot(self, snapshot_id: str) -> spec.Snapshot:
        s = self.cloud.snapshots[snapshot_id]
        return spec.Snapshot(snapshot_id=s.snapshot_id, source_volume_id=s.source_disk_id,
                             creation_time=int(round(s.created_at * 1_000_000_000)), size_bytes=s.size_bytes,
                             ready_to_use=s.status == ACCOMPLISHED)

    # ------------------------------------------------------------ capacity

    async def get_capacity(self, req: spec.GetCapacityRequest) -> spec.GetCapacityResponse:
        """The account's free quota in the topology's zone (0 when the zone has no disk slots left)."""
        quotas = self.cloud.config.quotas
        zone = None
        if req.accessible_topology is not None:
            for key in self.zone_keys():
                zone = req.accessible_topology.segments.get(key) or zone
                if zone:
                    break
        if zone is not None and (zone not in self.cloud.zones or zone in self.cloud.faults.zone_outages):
            return spec.GetCapacityResponse(0, 0)
        if zone is not None and self.cloud.disk_count(zone) >= quotas.disksPerZone:
            return spec.GetCapacityResponse(0, 0)
        free = max(0, quotas.totalCapacityGiB - self.cloud.used_capacity_gib())
        category = (req.parameters.get("type") or "").split(",")[0]
        limits = self.cloud.config.categories.get(category)
        largest = min(free, limits[1]) if limits else free
        return spec.GetCapacityResponse(free * spec.GIB, largest * spec.GIB)

    # ------------------------------------------------------------ node

    async def node_get_info(self, req: spec.NodeGetInfoRequest) -> spec.NodeGetInfoResponse:
        inst = self.cloud.instance_for_node(req.node_name)
        if inst is None or not self.serves_node(req.node_name):
            raise CsiError(Code.NOT_FOUND, MSG_NODE_UNKNOWN % req.node_name)
        if self.config.maxVolumesPerNode == 0:
            # The plugin reports no segments at all, so provisioning finds no topology.
            return spec.NodeGetInfoResponse(inst.instance_id, 0, None)
        segments = {INSTANCE_ID_KEY: inst.instance_id, self.zone_key: inst.zone, self.region_key: inst.region}
        if not self.config.privateTopologyKey:
            segments[ZONE_LABEL] = inst.zone
        return spec.NodeGetInfoResponse(inst.instance_id, self.max_volumes, spec.Topology(segments))


    async def node_stage_volume(self, req: spec.NodeStageVolumeRequest) -> spec.NodeStageVolumeResponse:
        """Format-and-mount needs the disk attached to this node's instance (a device to mount)."""
        disk = self.cloud.disks.get(req.volume_id) if req.volume_id else None
        if req.volume_id and disk is None:
            raise CsiError(Code.NOT_FOUND, f"NodeStageVolume: volume {req.volume_id} not found")
        inst = self.cloud.instance_for_node(req.node_name)
        if disk is not None and (inst is None or inst.instance_id not in disk.instance_ids
                                 or disk.status != IN_USE):
            raise CsiError(Code.FAILED_PRECONDITION, MSG_NOT_ATTACHED % (req.volume_id, req.node_name))
        return self.mounts.stage(req)

    async def node_unstage_volume(self, req: spec.NodeUnstageVolumeRequest) -> spec.NodeUnstageVolumeResponse:
        return self.mounts.unstage(req)

    async def node_publish_volume(self, req: spec.NodePublishVolumeRequest) -> spec.NodePublishVolumeResponse:
        return self.mounts.publish(req)

    async def node_unpublish_volume(self, req: spec.NodeUnpublishVolumeRequest) -> spec.NodeUnpublishVolumeResponse:
        return self.mounts.unpublish(req)

    async def node_expand_volume(self, req: spec.NodeExpandVolumeRequest) -> spec.NodeExpandVolumeResponse:
        """Grow the file system to the disk's size: the disk must be attached to this node."""
        if not req.volume_id:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_NODE_EXPAND_ID_REQUIRED)
        if not req.volume_path:
            raise CsiError(Code.INVALID_ARGUMENT, MSG_NODE_EXPAND_PATH_REQUIRED)
        disk = self.cloud.disks.get(req.volume_id)
        if disk is None:
            raise CsiError(Code.NOT_FOUND, MSG_NODE_EXPAND_NOT_FOUND % req.volume_id)
        inst = self.cloud.instance_for_node(req.node_name)
        if inst is None or inst.instance_id not in disk.instance_ids or disk.status != IN_USE:
            raise CsiError(Code.FAILED_PRECONDITION, MSG_NODE_EXPAND_NOT_ATTACHED % (req.volume_id, req.node_name))
        return spec.NodeExpandVolumeResponse(disk.size_bytes)


def _zones_of(req: spec.CreateVolumeRequest) -> list[str]:
    reqs = req.accessibility_requirements
    if reqs is None:
        return []
    return sorted({v for t in [*reqs.preferred, *reqs.requisite] for k, v in t.segments.items() if "zone" in k})


__all__ = ["CloudDiskDriver", "cloud_error_to_csi", "choose_zone", "INSTANCE_ID_KEY", "MSG_NO_TOPOLOGY"]
