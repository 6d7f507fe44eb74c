"""What the mock cloud keeps: instances, disks, snapshots and the data "inside" a disk.

Why a content record: a snapshot/restore demo is only convincing if a restored disk provably
holds the snapshot's data, so each disk carries a small ``Content`` (generation, checksum, a few
bytes) that a snapshot copies at creation time and a restore copies back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..clock import rfc3339

GIB = 1024**3

# Disk statuses (ECS DescribeDisks spelling).
CREATING = "Creating"
AVAILABLE = "Available"
ATTACHING = "Attaching"
IN_USE = "In_use"
DETACHING = "Detaching"
DELETING = "Deleting"

# Snapshot statuses.
PROGRESSING = "progressing"
ACCOMPLISHED = "accomplished"
FAILED = "failed"
SNAPSHOT_DELETING = "deleting"


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


EMPTY_CHECKSUM = checksum(b"")


@dataclass
class Content:
    """The data on a disk, reduced to what a test needs to compare."""

    generation: int = 0
    checksum: str = EMPTY_CHECKSUM
    data: bytes = b""

    def copy(self) -> Content:
        return Content(self.generation, self.checksum, self.data)

    def to_dict(self) -> dict[str, Any]:
        return {"generation": self.generation, "checksum": self.checksum, "bytes": len(self.data)}


@dataclass
class Instance:
    instance_id: str
    node_name: str
    region: str
    zone: str
    #: disk id -> device path, for disks attaching or attached.
    disks: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"InstanceId": self.instance_id, "InstanceName": self.node_name, "RegionId": self.region,
                "ZoneId": self.zone, "Status": "Running",
                "Disks": [{"DiskId": d, "Device": dev} for d, dev in sorted(self.disks.items())]}


@dataclass
class Disk:
    disk_id: str
    name: str
    region: str
    zone: str
    size_gib: int
    category: str
    status: str
    created_at: float
    client_token: str | None = None
    source_snapshot_id: str | None = None
    multi_attach: bool = False
    instance_ids: list[str] = field(default_factory=list)
    device: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    content: Content = field(default_factory=Content)
    #: A ResizeDisk under way: the size being grown to, when it started and how long it takes.
    resize_target_gib: int | None = None
    resize_started: float = 0.0
    resize_duration: float = 0.0
    now: Callable[[], float] = field(default=lambda: 0.0, repr=False, compare=False)

    @property
    def resizing(self) -> bool:
        return self.resize_target_gib is not None

    @property
    def resize_progress(self) -> int:
        """Percent of the running resize done (100 when none runs), read from the clock."""
        if self.resize_target_gib is None:
            return 100
        if self.resize_duration <= 0:
            return 99
        return max(0, min(99, int((self.now() - self.resize_started) / self.resize_duration * 100)))

    @property
    def reserved_gib(self) -> int:
        """Capacity counted against the quota: a resize reserves its target size at once."""
        return max(self.size_gib, self.resize_target_gib or 0)

    @property
    def instance_id(self) -> str | None:
        return self.instance_ids[0] if self.instance_ids else None

    @property
    def size_bytes(self) -> int:
        return self.size_gib * GIB

    def to_dict(self) -> dict[str, Any]:
        return {
            "DiskId": self.disk_id, "DiskName": self.name, "RegionId": self.region, "ZoneId": self.zone,
            "Size": self.size_gib, "Category": self.category, "Status": self.status,
            "InstanceId": self.instance_id or "", "InstanceIds": list(self.instance_ids),
            "Device": self.device or "", "MultiAttach": "Enabled" if self.multi_attach else "Disabled",
            "SourceSnapshotId": self.source_snapshot_id or "", "ClientToken": self.client_token or "",
            "CreationTime": rfc3339(self.created_at), "Tags": dict(self.tags), "Content": self.content.to_dict(),
            "TargetSize": self.reserved_gib, "ResizeProgress": f"{self.resize_progress}%",
        }


@dataclass
class Snapshot:
    snapshot_id: str
    name: str
    region: str
    source_disk_id: str
    source_disk_size_gib: int
    source_disk_category: str
    created_at: float
    duration: float
    status: str = PROGRESSING
    client_token: str | None = None
    content: Content = field(default_factory=Content)
    tags: dict[str, str] = field(default_factory=dict)
    now: Callable[[], float] = field(default=lambda: 0.0, repr=False, compare=False)

    @property
    def progress(self) -> int:
        """Percent done, 0..100, read from the clock so a virtual clock moves it."""
        if self.status == ACCOMPLISHED:
            return 100
        if self.duration <= 0:
            return 99
        done = (self.now() - self.created_at) / self.duration
        return max(0, min(99, int(done * 100)))

    @property
    def ready(self) -> bool:
        return self.status == ACCOMPLISHED

    @property
    def size_bytes(self) -> int:
        return self.source_disk_size_gib * GIB

    def to_dict(self) -> dict[str, Any]:
        return {
            "SnapshotId": self.snapshot_id, "SnapshotName": self.name, "RegionId": self.region,
            "SourceDiskId": self.source_disk_id, "SourceDiskSize": self.source_disk_size_gib,
            "SourceDiskCategory": self.source_disk_category, "Status": self.status,
            "Progress": f"{self.progress}%", "CreationTime": rfc3339(self.created_at),
            "ClientToken": self.client_token or "", "Tags": dict(self.tags), "Content": self.content.to_dict(),
        }
