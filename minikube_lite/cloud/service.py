"""The mock block-storage cloud: regions, zones, instances, disks, snapshots.

Why a separate state from Kubernetes objects: a real cloud does not know about PVs. Keeping the
cloud's own books means a leak (a disk no PV points at), a double create, or a delete that never
reached the cloud can be seen and asserted on, exactly as on a real account.

Every call first spends the API latency (plus any injected latency) on the cluster clock, then
consults the fault injector, then changes state atomically (no awaits in between), then
schedules the asynchronous part (Creating -> Available, Attaching -> In_use, snapshot progress)
as timers on the same clock. A test on a :class:`~minikube_lite.clock.VirtualClock` therefore
fast-forwards through minutes of cloud time with ``await clock.advance(...)``.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ..clock import Clock, RealClock
from . import errors as E
from .config import CloudConfig
from .errors import (
    CloudError,
    CloudTimeoutError,
    ConflictError,
    DiskInUseError,
    IdempotencyError,
    IncorrectStatusError,
    InvalidParameterError,
    NotFoundError,
    QuotaExceededError,
    ZoneError,
)
from .faults import Faults
from .ledger import Ledger
from .models import (
    ACCOMPLISHED,
    ATTACHING,
    AVAILABLE,
    CREATING,
    DELETING,
    DETACHING,
    IN_USE,
    PROGRESSING,
    SNAPSHOT_DELETING,
    Content,
    Disk,
    Instance,
    Snapshot,
    checksum,
)

_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_DEVICES = [f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"]


class NodeShape(Protocol):
    """A node as the cloud sees it: the VM behind it (a ``config.ResolvedNode`` is one)."""

    name: str
    zone: str
    instance_id: str


class ClusterShape(Protocol):
    """What the cloud reads of a cluster's configuration (a ``config.ClusterConfig`` is one):
    its own section and the nodes it runs VMs for. Structural, so the cloud does not depend on
    the cluster's configuration."""

    cloud: CloudConfig

    def resolved_nodes(self) -> Sequence[NodeShape]: ...


def _resolver(fut: asyncio.Future[None]) -> Callable[[], None]:
    def resolve() -> None:
        if not fut.done():
            fut.set_result(None)

    return resolve


class MockCloud:
    """One cloud account. State is public for inspection: ``disks``, ``snapshots``, ``instances``."""

    def __init__(self, config: CloudConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or CloudConfig()
        self.clock: Clock = clock or RealClock()
        self.region = self.config.region
        self.regions: dict[str, list[str]] = {self.config.region: list(self.config.zones)}
        for region, zones in self.config.otherRegions.items():
            self.regions.setdefault(region, list(zones))
        self.instances: dict[str, Instance] = {}
        self.disks: dict[str, Disk] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self._token_index: dict[str, str] = {}  # client token -> the newest disk created with it
        self._node_index: dict[str, str] = {}   # node name -> instance id
        #: What the quotas count, kept as the books change (``ledger.py``).
        self.ledger = Ledger()
        self.faults = Faults(self.config.faults)
        #: The last operations (time, operation, target, result), newest last.
        self.log: deque[dict[str, Any]] = deque(maxlen=2000)
        self._ids = random.Random(self.config.idSeed)
        self._waiters: list[asyncio.Future[None]] = []
        self._timers: dict[int, Any] = {}
        self._timer_seq = 0

    @classmethod
    def for_cluster(cls, config: ClusterShape, clock: Clock | None = None) -> MockCloud:
        """The cloud of a cluster (a ``ClusterConfig``), with one instance per node in its zone."""
        cloud = cls(config.cloud, clock)
        for node in config.resolved_nodes():
            cloud.add_instance(node.name, node.zone, node.instance_id)
        return cloud

    # ------------------------------------------------------------------ zones and instances

    @property
    def zones(self) -> list[str]:
        return list(self.regions[self.region])

    def region_of(self, zone: str) -> str | None:
        return next((r for r, zs in self.regions.items() if zone in zs), None)

    def add_instance(self, node_name: str, zone: str, instance_id: str | None = None) -> Instance:
        """Register the VM behind a node; idempotent per node name."""
        existing = self.instance_for_node(node_name)
        if existing is not None:
            return existing
        region = self.region_of(zone)
        if region is None:
            raise ZoneError(E.MSG_ZONE_NOT_SUPPORTED.format(zone=zone, region=self.region))
        iid = instance_id or self._new_id("i-bp", self.instances)
        inst = Instance(iid, node_name, region, zone)
        self.instances[iid] = inst
        self._node_index[node_name] = iid
        return inst

    def instance_for_node(self, node_name: str) -> Instance | None:
        inst = self.instances.get(self._node_index.get(node_name, ""))
        return inst if inst is not None and inst.node_name == node_name else None

    # ------------------------------------------------------------------ disks

    async def create_disk(self, *, zone: str, size_gib: int | None, category: str = "cloud_efficiency",
                          name: str | None = None, client_token: str | None = None,
                          snapshot_id: str | None = None, multi_attach: bool = False,
                          tags: dict[str, str] | None = None, region: str | None = None) -> Disk:
        """CreateDisk: returns at once with the disk ``Creating``; it becomes ``Available`` after
        the configured duration. A repeated ``client_token`` returns the same disk (idempotent)."""
        await self._call("CreateDisk", (zone,))
        if client_token:
            for disk in self._disks_with_token(client_token):
                if disk.status != DELETING:
                    same = (disk.zone, disk.category, disk.source_snapshot_id) == (zone, category, snapshot_id)
                    if not same or (size_gib is not None and disk.size_gib != size_gib):
                        self._record("CreateDisk", client_token, E.IDEMPOTENT_MISMATCH)
                        raise IdempotencyError(E.MSG_IDEMPOTENT_MISMATCH.format(token=client_token))
                    self._record("CreateDisk", disk.disk_id, "OK (idempotent)")
                    return disk
        disk_region = self.region_of(zone)
        if disk_region is None or (region is not None and disk_region != region):
            raise self._fail("CreateDisk", zone, ZoneError(
                E.MSG_ZONE_NOT_SUPPORTED.format(zone=zone, region=region or self.region)))
        content = Content()
        if snapshot_id is not None:
            snap = self.snapshots.get(snapshot_id)
            if snap is None or snap.status == SNAPSHOT_DELETING:
                raise self._fail("CreateDisk", snapshot_id, NotFoundError(E.MSG_SNAPSHOT_NOT_FOUND,
                                                                         E.SNAPSHOT_NOT_FOUND))
            if snap.region != disk_region:
                raise self._fail("CreateDisk", snapshot_id, NotFoundError(
                    E.MSG_SNAPSHOT_OTHER_REGION.format(region=disk_region), E.SNAPSHOT_NOT_FOUND))
            if snap.status != ACCOMPLISHED:
                raise self._fail("CreateDisk", snapshot_id, IncorrectStatusError(
                    E.MSG_SNAPSHOT_NOT_READY.format(snapshot=snapshot_id, status=snap.status),
                    E.INCORRECT_SNAPSHOT_STATUS))
            if size_gib is None:
                size_gib = snap.source_disk_size_gib
            if size_gib < snap.source_disk_size_gib:
                raise self._fail("CreateDisk", snapshot_id, InvalidParameterError(
                    E.MSG_SIZE_TOO_SMALL.format(size=size_gib, snapshot=snapshot_id,
                                                snap_size=snap.source_disk_size_gib), E.SIZE_TOO_SMALL))
            content = snap.content.copy()
        limits = self.config.categories.get(category)
        if limits is None:
            raise self._fail("CreateDisk", category, InvalidParameterError(E.MSG_INVALID_CATEGORY.format(
                category=category, supported=", ".join(sorted(self.config.categories))), E.INVALID_CATEGORY))
        if size_gib is None or not limits[0] <= size_gib <= limits[1]:
            raise self._fail("CreateDisk", str(size_gib), InvalidParameterError(E.MSG_INVALID_SIZE.format(
                size=size_gib, min=limits[0], max=limits[1], category=category), E.INVALID_SIZE))
        quotas = self.config.quotas
        if self.disk_count(zone) >= quotas.disksPerZone:
            raise self._fail("CreateDisk", zone, QuotaExceededError(
                E.MSG_QUOTA_DISK.format(zone=zone, quota=quotas.disksPerZone), E.QUOTA_DISK))
        if self.used_capacity_gib() + size_gib > quotas.totalCapacityGiB:
            raise self._fail("CreateDisk", zone, QuotaExceededError(
                E.MSG_QUOTA_CAPACITY.format(quota=quotas.totalCapacityGiB), E.QUOTA_CAPACITY))
        disk_id = self._new_id("d-bp", self.disks)
        disk = Disk(disk_id=disk_id, name=name or disk_id, region=disk_region, zone=zone, size_gib=size_gib,
                    category=category, status=CREATING, created_at=self.clock.now(),
                    client_token=client_token, source_snapshot_id=snapshot_id, multi_attach=multi_attach,
                    tags=dict(tags or {}), content=content, now=self.clock.now)
        self.disks[disk_id] = disk
        self.ledger.disk_added(disk)
        if client_token:
            self._token_index[client_token] = disk_id
        self._record("CreateDisk", disk_id, "OK")
        duration = self.config.durations.createDisk
        if snapshot_id is not None:
            duration += self.config.durations.restoreDisk
        self._later(duration, lambda: self._finish_create(disk_id))
        return disk

    def _finish_create(self, disk_id: str) -> None:
        disk = self.disks.get(disk_id)
        if disk is not None and disk.status == CREATING:
            disk.status = AVAILABLE

    async def delete_disk(self, disk_id: str) -> None:
        """DeleteDisk: refused while the disk is attached (or attaching/detaching)."""
        disk = self._disk(self.disks.get(disk_id), disk_id, "DeleteDisk")
        await self._call("DeleteDisk", (disk.zone,))
        disk = self._disk(self.disks.get(disk_id), disk_id, "DeleteDisk")
        if disk.status == DELETING:
            return
        if disk.instance_ids or disk.status in (ATTACHING, IN_USE, DETACHING):
            raise self._fail("DeleteDisk", disk_id, DiskInUseError(
                E.MSG_DISK_IN_USE.format(disk=disk_id, instance=disk.instance_id or "")))
        if disk.status != AVAILABLE:
            raise self._fail("DeleteDisk", disk_id, IncorrectStatusError(
                E.MSG_INCORRECT_DISK_STATUS.format(status=disk.status)))
        disk.status = DELETING
        self._record("DeleteDisk", disk_id, "OK")
        self._later(self.config.durations.deleteDisk, lambda: self._finish_delete_disk(disk_id))

    def _finish_delete_disk(self, disk_id: str) -> None:
        disk = self.disks.get(disk_id)
        if disk is not None and disk.status == DELETING:
            del self.disks[disk_id]
            self.ledger.disk_removed(disk)

    async def resize_disk(self, disk_id: str, new_size_gib: int) -> Disk:
        """ResizeDisk (online): grow only, within the category's limits and the capacity quota.

        The new size is reserved against the quota at once; ``size_gib`` changes when the
        configured ``resizeDisk`` duration has passed. Asking again for the size already being
        grown to returns the disk (idempotent); asking for another size meanwhile conflicts.
        """
        disk = self._disk(self.disks.get(disk_id), disk_id, "ResizeDisk")
        await self._call("ResizeDisk", (disk.zone,))
        disk = self._disk(self.disks.get(disk_id), disk_id, "ResizeDisk")
        if disk.resize_target_gib is not None:
            if disk.resize_target_gib == new_size_gib:
                self._record("ResizeDisk", disk_id, "OK (in progress)")
                return disk
            raise self._fail("ResizeDisk", disk_id, ConflictError(E.MSG_RESIZE_IN_PROGRESS.format(
                disk=disk_id, target=disk.resize_target_gib)))
        if disk.status not in (AVAILABLE, IN_USE):
            raise self._fail("ResizeDisk", disk_id, IncorrectStatusError(
                E.MSG_INCORRECT_DISK_STATUS.format(status=disk.status)))
        if new_size_gib <= disk.size_gib:
            raise self._fail("ResizeDisk", disk_id, InvalidParameterError(E.MSG_RESIZE_NOT_LARGER.format(
                size=new_size_gib, disk=disk_id, current=disk.size_gib), E.INVALID_SIZE))
        limits = self.config.categories.get(disk.category)
        if limits is not None and new_size_gib > limits[1]:
            raise self._fail("ResizeDisk", disk_id, InvalidParameterError(E.MSG_INVALID_SIZE.format(
                size=new_size_gib, min=limits[0], max=limits[1], category=disk.category), E.INVALID_SIZE))
        quota = self.config.quotas.totalCapacityGiB
        if self.used_capacity_gib() + new_size_gib - disk.size_gib > quota:
            raise self._fail("ResizeDisk", disk_id, QuotaExceededError(
                E.MSG_QUOTA_CAPACITY.format(quota=quota), E.QUOTA_CAPACITY))
        self.ledger.disk_growing(disk, new_size_gib)
        disk.resize_target_gib = new_size_gib
        disk.resize_started = self.clock.now()
        disk.resize_duration = self.config.durations.resizeDisk
        self._record("ResizeDisk", disk_id, f"OK {disk.size_gib} -> {new_size_gib} GiB")
        self._later(disk.resize_duration, lambda: self._finish_resize(disk_id))
        return disk

    def _finish_resize(self, disk_id: str) -> None:
        disk = self.disks.get(disk_id)
        if disk is not None and disk.resize_target_gib is not None:
            disk.size_gib, disk.resize_target_gib = disk.resize_target_gib, None

    async def attach_disk(self, disk_id: str, instance_id: str) -> Disk:
        """AttachDisk: same zone only; a single-attach disk may be on one instance at a time."""
        disk = self._disk(self.disks.get(disk_id), disk_id, "AttachDisk")
        await self._call("AttachDisk", (disk.zone,))
        disk = self._disk(self.disks.get(disk_id), disk_id, "AttachDisk")
        inst = self.instances.get(instance_id)
        if inst is None:
            raise self._fail("AttachDisk", instance_id, NotFoundError(E.MSG_INSTANCE_NOT_FOUND,
                                                                      E.INSTANCE_NOT_FOUND))
        if inst.zone != disk.zone:
            raise self._fail("AttachDisk", disk_id, ZoneError(E.MSG_ZONE_MISMATCH.format(
                disk=disk_id, disk_zone=disk.zone, instance=instance_id, zone=inst.zone), E.ZONE_MISMATCH))
        if instance_id in disk.instance_ids and disk.status in (ATTACHING, IN_USE):
            self._record("AttachDisk", disk_id, "OK (already attached)")
            return disk
        if disk.status not in (AVAILABLE, IN_USE) or (disk.status == IN_USE and not disk.multi_attach):
            if disk.instance_ids and instance_id not in disk.instance_ids:
                raise self._fail("AttachDisk", disk_id, DiskInUseError(E.MSG_DISK_ATTACHED_ELSEWHERE.format(
                    disk=disk_id, instance=disk.instance_id), E.INCORRECT_DISK_STATUS))
            raise self._fail("AttachDisk", disk_id, IncorrectStatusError(
                E.MSG_INCORRECT_DISK_STATUS.format(status=disk.status)))
        limit = self.config.quotas.disksPerInstance
        if len(inst.disks) >= limit:
            raise self._fail("AttachDisk", instance_id, QuotaExceededError(E.MSG_INSTANCE_DISK_LIMIT.format(
                instance=instance_id, count=len(inst.disks), limit=limit), E.INSTANCE_DISK_LIMIT))
        device = next(d for d in _DEVICES if d not in inst.disks.values())
        inst.disks[disk_id] = device
        disk.instance_ids.append(instance_id)
        disk.device = device
        disk.status = ATTACHING
        self._record("AttachDisk", disk_id, f"OK -> {instance_id}")
        self._later(self.config.durations.attachDisk, lambda: self._finish_attach(disk_id))
        return disk

    def _finish_attach(self, disk_id: str) -> None:
        disk = self.disks.get(disk_id)
        if disk is not None and disk.status == ATTACHING:
            disk.status = IN_USE

    async def detach_disk(self, disk_id: str, instance_id: str) -> Disk:
        """DetachDisk: Detaching, then Available after the configured duration."""
        disk = self._disk(self.disks.get(disk_id), disk_id, "DetachDisk")
        await self._call("DetachDisk", (disk.zone,))
        disk = self._disk(self.disks.get(disk_id), disk_id, "DetachDisk")
        if instance_id not in self.instances:
            raise self._fail("DetachDisk", instance_id, NotFoundError(E.MSG_INSTANCE_NOT_FOUND,
                                                                      E.INSTANCE_NOT_FOUND))
        if instance_id not in disk.instance_ids:
            raise self._fail("DetachDisk", disk_id, IncorrectStatusError(
                E.MSG_DISK_NOT_ATTACHED.format(disk=disk_id, instance=instance_id)))
        if disk.status == DETACHING:
            return disk
        if disk.status != IN_USE:
            raise self._fail("DetachDisk", disk_id, IncorrectStatusError(
                E.MSG_INCORRECT_DISK_STATUS.format(status=disk.status)))
        disk.status = DETACHING
        self._record("DetachDisk", disk_id, f"OK <- {instance_id}")
        self._later(self.config.durations.detachDisk, lambda: self._finish_detach(disk_id, instance_id))
        return disk

    def _finish_detach(self, disk_id: str, instance_id: str) -> None:
        disk = self.disks.get(disk_id)
        if disk is None or disk.status != DETACHING:
            return
        if instance_id in disk.instance_ids:
            disk.instance_ids.remove(instance_id)
        inst = self.instances.get(instance_id)
        if inst is not None:
            inst.disks.pop(disk_id, None)
        disk.status = IN_USE if disk.instance_ids else AVAILABLE
        if not disk.instance_ids:
            disk.device = None

    # ------------------------------------------------------------------ snapshots

    async def create_snapshot(self, disk_id: str, *, name: str | None = None, client_token: str | None = None,
                              tags: dict[str, str] | None = None) -> Snapshot:
        """CreateSnapshot: copies the disk's content now; progress runs 0 -> 100 % over the
        configured duration, then the snapshot is ``accomplished``."""
        disk = self._disk(self.disks.get(disk_id), disk_id, "CreateSnapshot")
        await self._call("CreateSnapshot", (disk.zone,))
        if client_token:
            for snap in self.snapshots.values():
                if snap.client_token == client_token and snap.status != SNAPSHOT_DELETING:
                    if snap.source_disk_id != disk_id:
                        self._record("CreateSnapshot", client_token, E.IDEMPOTENT_MISMATCH)
                        raise IdempotencyError(E.MSG_IDEMPOTENT_MISMATCH.format(token=client_token))
                    self._record("CreateSnapshot", snap.snapshot_id, "OK (idempotent)")
                    return snap
        disk = self._disk(self.disks.get(disk_id), disk_id, "CreateSnapshot")
        if disk.status not in (AVAILABLE, IN_USE, ATTACHING, DETACHING):
            raise self._fail("CreateSnapshot", disk_id, IncorrectStatusError(
                E.MSG_INCORRECT_DISK_STATUS.format(status=disk.status)))
        if self.ledger.live_snapshots >= self.config.quotas.snapshots:
            raise self._fail("CreateSnapshot", disk_id, QuotaExceededError(
                E.MSG_QUOTA_SNAPSHOT.format(quota=self.config.quotas.snapshots), E.QUOTA_SNAPSHOT))
        d = self.config.durations
        duration = d.createSnapshot + d.snapshotSecondsPerGiB * disk.size_gib
        snap_id = self._new_id("s-bp", self.snapshots)
        snap = Snapshot(snapshot_id=snap_id, name=name or snap_id, region=disk.region, source_disk_id=disk_id,
                        source_disk_size_gib=disk.size_gib, source_disk_category=disk.category,
                        created_at=self.clock.now(), duration=duration, client_token=client_token,
                        content=disk.content.copy(), tags=dict(tags or {}), now=self.clock.now)
        self.snapshots[snap_id] = snap
        self.ledger.live_snapshots += 1
        self._record("CreateSnapshot", snap_id, f"OK <- {disk_id}")
        self._later(duration, lambda: self._finish_snapshot(snap_id))
        return snap

    def _finish_snapshot(self, snap_id: str) -> None:
        snap = self.snapshots.get(snap_id)
        if snap is not None and snap.status == PROGRESSING:
            snap.status = ACCOMPLISHED

    async def delete_snapshot(self, snapshot_id: str) -> None:
        snap = self.snapshots.get(snapshot_id)
        if snap is None:
            raise self._fail("DeleteSnapshot", snapshot_id, NotFoundError(E.MSG_SNAPSHOT_NOT_FOUND,
                                                                          E.SNAPSHOT_NOT_FOUND))
        await self._call("DeleteSnapshot", ())
        snap = self.snapshots.get(snapshot_id)
        if snap is None:
            raise self._fail("DeleteSnapshot", snapshot_id, NotFoundError(E.MSG_SNAPSHOT_NOT_FOUND,
                                                                          E.SNAPSHOT_NOT_FOUND))
        if snap.status == SNAPSHOT_DELETING:
            return
        snap.status = SNAPSHOT_DELETING
        self.ledger.live_snapshots -= 1
        self._record("DeleteSnapshot", snapshot_id, "OK")
        self._later(self.config.durations.deleteSnapshot, lambda: self.snapshots.pop(snapshot_id, None))

    # ------------------------------------------------------------------ data

    def write_disk(self, disk_id: str, data: bytes | str) -> Content:
        """Write (replace) the data on a disk, as a pod would; bumps the generation."""
        disk = self._disk(self.disks.get(disk_id), disk_id, "WriteDisk")
        raw = data.encode() if isinstance(data, str) else bytes(data)
        disk.content = Content(disk.content.generation + 1, checksum(raw), raw)
        return disk.content

    def read_disk(self, disk_id: str) -> Content:
        return self._disk(self.disks.get(disk_id), disk_id, "ReadDisk").content

    # ------------------------------------------------------------------ queries

    def describe_disks(self, *, disk_ids: Iterable[str] | None = None, zone: str | None = None,
                       instance_id: str | None = None, status: str | None = None,
                       name: str | None = None) -> list[Disk]:
        wanted = set(disk_ids) if disk_ids is not None else None
        return [d for d in self.disks.values()
                if (wanted is None or d.disk_id in wanted) and (zone is None or d.zone == zone)
                and (instance_id is None or instance_id in d.instance_ids)
                and (status is None or d.status == status) and (name is None or d.name == name)]

    def describe_snapshots(self, *, snapshot_ids: Iterable[str] | None = None, disk_id: str | None = None,
                           status: str | None = None, name: str | None = None) -> list[Snapshot]:
        wanted = set(snapshot_ids) if snapshot_ids is not None else None
        return [s for s in self.snapshots.values()
                if (wanted is None or s.snapshot_id in wanted)
                and (disk_id is None or s.source_disk_id == disk_id)
                and (status is None or s.status == status) and (name is None or s.name == name)]

    def _disks_with_token(self, client_token: str) -> list[Disk]:
        """The disk made last with ``client_token``, from the index (O(1)).

        No scan on a miss: every disk enters ``self.disks`` through ``create_disk``, which indexes
        its token, so a token the index lacks (every first create) has no disk. An older disk with
        the same token can only be one already Deleting, which the caller skips anyway; a scan here
        made each new CreateDisk O(disks), a tenth of the API process's time at 10,000 disks."""
        disk = self.disks.get(self._token_index.get(client_token, ""))
        if disk is not None and disk.client_token == client_token:
            return [disk]
        return []

    def disk_count(self, zone: str) -> int:
        return self.ledger.disk_count(zone)

    def used_capacity_gib(self) -> int:
        return self.ledger.reserved_gib

    # ------------------------------------------------------------------ waiting

    async def wait_disk(self, disk_id: str, statuses: str | Iterable[str], timeout: float = 300.0) -> Disk:
        """Wait (on the cluster clock) until the disk is in one of ``statuses``."""
        want = {statuses} if isinstance(statuses, str) else set(statuses)

        def check() -> bool:
            disk = self.disks.get(disk_id)
            if disk is None:
                raise NotFoundError(E.MSG_DISK_NOT_FOUND, E.DISK_NOT_FOUND)
            return disk.status in want

        await self._wait(check, timeout, f"disk {disk_id} to be {'/'.join(sorted(want))}")
        return self.disks[disk_id]

    async def wait_disk_gone(self, disk_id: str, timeout: float = 300.0) -> None:
        await self._wait(lambda: disk_id not in self.disks, timeout, f"disk {disk_id} to be deleted")

    async def wait_disk_resized(self, disk_id: str, timeout: float = 300.0) -> Disk:
        """Wait (on the cluster clock) until no resize of the disk is under way."""
        def check() -> bool:
            disk = self.disks.get(disk_id)
            if disk is None:
                raise NotFoundError(E.MSG_DISK_NOT_FOUND, E.DISK_NOT_FOUND)
            return not disk.resizing

        await self._wait(check, timeout, f"disk {disk_id} to finish resizing")
        return self.disks[disk_id]

    async def wait_snapshot(self, snapshot_id: str, timeout: float = 300.0) -> Snapshot:
        def check() -> bool:
            snap = self.snapshots.get(snapshot_id)
            if snap is None:
                raise NotFoundError(E.MSG_SNAPSHOT_NOT_FOUND, E.SNAPSHOT_NOT_FOUND)
            return snap.status == ACCOMPLISHED

        await self._wait(check, timeout, f"snapshot {snapshot_id} to be accomplished")
        return self.snapshots[snapshot_id]

    async def wait_snapshot_gone(self, snapshot_id: str, timeout: float = 300.0) -> None:
        await self._wait(lambda: snapshot_id not in self.snapshots, timeout,
                         f"snapshot {snapshot_id} to be deleted")

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = self.clock.monotonic() + timeout
        while not predicate():
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                raise CloudTimeoutError(E.MSG_TIMEOUT.format(timeout=timeout, what=what))
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            handle = self.clock.call_later(remaining, _resolver(fut))
            try:
                await fut
            finally:
                handle.cancel()
                if fut in self._waiters:
                    self._waiters.remove(fut)

    def close(self) -> None:
        """Cancel pending transitions (cluster shutdown)."""
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._notify()

    # ------------------------------------------------------------------ inspection

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "regions": {r: list(zs) for r, zs in self.regions.items()},
            "instances": [i.to_dict() for i in self.instances.values()],
            "disks": [d.to_dict() for d in self.disks.values()],
            "snapshots": [s.to_dict() for s in self.snapshots.values()],
            "usage": {"capacityGiB": self.used_capacity_gib(),
                      "disksPerZone": {z: self.disk_count(z) for z in self.zones}},
            "faults": self.faults.to_dict(),
        }

    # ------------------------------------------------------------------ internals

    async def _call(self, operation: str, zones: tuple[str, ...]) -> None:
        delay = self.config.durations.apiLatency + self.faults.latency_for(operation)
        if delay > 0:
            await self.clock.sleep(delay)
        try:
            self.faults.check(operation, zones)
        except CloudError as exc:
            self._record(operation, ",".join(zones), exc.code)
            raise

    def _later(self, delay: float, action: Callable[[], object]) -> None:
        self._timer_seq += 1
        key = self._timer_seq

        def fire() -> None:
            self._timers.pop(key, None)
            action()
            self._notify()

        if delay <= 0:
            fire()
            return
        self._timers[key] = self.clock.call_later(delay, fire)

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def _disk(self, disk: Disk | None, disk_id: str, operation: str) -> Disk:
        if disk is None:
            raise self._fail(operation, disk_id, NotFoundError(E.MSG_DISK_NOT_FOUND, E.DISK_NOT_FOUND))
        return disk

    def _fail(self, operation: str, target: str, exc: CloudError) -> CloudError:
        self._record(operation, target, exc.code)
        return exc

    def _record(self, operation: str, target: str, result: str) -> None:
        self.log.append({"time": self.clock.now(), "operation": operation, "target": target, "result": result})

    def _new_id(self, prefix: str, taken: dict[str, Any]) -> str:
        while True:
            new = prefix + "".join(self._ids.choice(_ID_ALPHABET) for _ in range(18))
            if new not in taken:
                return new
