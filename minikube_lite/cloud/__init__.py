"""The mock block-storage cloud (regions, zones, instances, disks, snapshots, faults)."""

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
    UnavailableError,
    ZoneError,
    error_for_code,
)
from .faults import Faults
from .models import Content, Disk, Instance, Snapshot
from .service import MockCloud

__all__ = [
    "MockCloud", "Faults", "Content", "Disk", "Instance", "Snapshot", "CloudError", "CloudTimeoutError",
    "ConflictError", "DiskInUseError", "IdempotencyError", "IncorrectStatusError", "InvalidParameterError",
    "NotFoundError", "QuotaExceededError", "UnavailableError", "ZoneError", "error_for_code",
]
