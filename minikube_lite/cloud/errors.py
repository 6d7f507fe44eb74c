"""Cloud API errors with ECS-style codes.

Why typed exceptions with string codes: the CSI drivers map them to gRPC codes the way real
drivers do (quota -> RESOURCE_EXHAUSTED, outage -> UNAVAILABLE), and a scripted fault
(``fail_next("CreateDisk", code="QuotaExceed.Disk")``) must raise exactly what the real failure
would, so :func:`error_for_code` builds the right class from a code alone.
"""

from __future__ import annotations

# Codes (Alibaba Cloud ECS spelling).
DISK_NOT_FOUND = "InvalidDiskId.NotFound"
SNAPSHOT_NOT_FOUND = "InvalidSnapshotId.NotFound"
INSTANCE_NOT_FOUND = "InvalidInstanceId.NotFound"
INCORRECT_DISK_STATUS = "IncorrectDiskStatus"
DISK_IN_USE = "IncorrectDiskStatus.InUse"
INCORRECT_SNAPSHOT_STATUS = "IncorrectSnapshotStatus"
ZONE_NOT_SUPPORTED = "InvalidZoneId.NotSupported"
ZONE_MISMATCH = "InvalidZoneId.Mismatch"
QUOTA_DISK = "QuotaExceed.Disk"
QUOTA_CAPACITY = "QuotaExceed.DiskCapacity"
QUOTA_SNAPSHOT = "QuotaExceed.Snapshot"
INSTANCE_DISK_LIMIT = "InstanceDiskNumber.LimitExceed"
INVALID_SIZE = "InvalidDiskSize.ValueNotSupported"
SIZE_TOO_SMALL = "InvalidDiskSize.TooSmall"
INVALID_CATEGORY = "InvalidDiskCategory.ValueNotSupported"
INVALID_PARAMETER = "InvalidParameter"
IDEMPOTENT_MISMATCH = "IdempotentParameterMismatch"
ZONE_OUTAGE = "OperationFailed.ZoneOutage"
SERVICE_UNAVAILABLE = "ServiceUnavailable"
THROTTLING = "Throttling"
INTERNAL_ERROR = "InternalError"
OPERATION_CONFLICT = "OperationConflict"
TIMEOUT = "RequestTimeout"

# Messages.
MSG_DISK_NOT_FOUND = "The specified disk does not exist."
MSG_SNAPSHOT_NOT_FOUND = "The specified snapshot does not exist."
MSG_SNAPSHOT_OTHER_REGION = "The specified snapshot does not exist in region {region}."
MSG_INSTANCE_NOT_FOUND = "The specified instance does not exist."
MSG_INCORRECT_DISK_STATUS = "The current disk status {status} does not support this operation."
MSG_DISK_IN_USE = "The disk {disk} is attached to instance {instance} and cannot be deleted."
MSG_DISK_ATTACHED_ELSEWHERE = "The disk {disk} is already attached to instance {instance}."
MSG_DISK_NOT_ATTACHED = "The disk {disk} is not attached to instance {instance}."
MSG_SNAPSHOT_NOT_READY = "The snapshot {snapshot} is not accomplished (status {status})."
MSG_ZONE_NOT_SUPPORTED = "The specified zone {zone} is not available in region {region}."
MSG_ZONE_MISMATCH = "The disk {disk} in zone {disk_zone} cannot be attached to instance {instance} in zone {zone}."
MSG_QUOTA_DISK = "The number of disks in zone {zone} has reached the quota ({quota})."
MSG_QUOTA_CAPACITY = "The total disk capacity would exceed the quota ({quota} GiB)."
MSG_QUOTA_SNAPSHOT = "The number of snapshots has reached the quota ({quota})."
MSG_INSTANCE_DISK_LIMIT = "The instance {instance} already has {count} disks attached (limit {limit})."
MSG_INVALID_SIZE = "The disk size {size} GiB is out of the range [{min}, {max}] for category {category}."
MSG_SIZE_TOO_SMALL = "The disk size {size} GiB is smaller than the snapshot {snapshot} ({snap_size} GiB)."
MSG_RESIZE_NOT_LARGER = ("The new size {size} GiB of disk {disk} must be larger than its current size "
                         "{current} GiB.")
MSG_RESIZE_IN_PROGRESS = "The disk {disk} is already being resized to {target} GiB."
MSG_INVALID_CATEGORY = "The disk category {category} is not supported; supported: {supported}."
MSG_IDEMPOTENT_MISMATCH = ("The request uses the same client token {token} as a previous, "
                           "but non-identical request.")
MSG_ZONE_OUTAGE = "The zone {zone} is currently unavailable."
MSG_INJECTED = "Injected fault for {operation}."
MSG_TIMEOUT = "Timed out after {timeout}s waiting for {what}."


class CloudError(Exception):
    """A failed cloud API call: ``code`` is the ECS error code, ``message`` its text."""

    code = INTERNAL_ERROR
    http_status = 500

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(f"{code or self.code}: {message}")
        if code is not None:
            self.code = code
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {"Code": self.code, "Message": self.message, "HttpStatus": self.http_status}


class NotFoundError(CloudError):
    code = DISK_NOT_FOUND
    http_status = 404


class IncorrectStatusError(CloudError):
    code = INCORRECT_DISK_STATUS
    http_status = 403


class DiskInUseError(IncorrectStatusError):
    code = DISK_IN_USE


class ZoneError(CloudError):
    code = ZONE_NOT_SUPPORTED
    http_status = 400


class QuotaExceededError(CloudError):
    code = QUOTA_DISK
    http_status = 403


class InvalidParameterError(CloudError):
    code = INVALID_PARAMETER
    http_status = 400


class IdempotencyError(CloudError):
    code = IDEMPOTENT_MISMATCH
    http_status = 400


class UnavailableError(CloudError):
    code = SERVICE_UNAVAILABLE
    http_status = 503


class ConflictError(CloudError):
    code = OPERATION_CONFLICT
    http_status = 409


class CloudTimeoutError(CloudError):
    code = TIMEOUT
    http_status = 504


def error_for_code(code: str, message: str) -> CloudError:
    """The exception class a real failure with this code would have."""
    if code.endswith(".NotFound"):
        return NotFoundError(message, code)
    if code.startswith(("QuotaExceed", "InstanceDiskNumber")):
        return QuotaExceededError(message, code)
    if code == DISK_IN_USE:
        return DiskInUseError(message, code)
    if code.startswith(("IncorrectDiskStatus", "IncorrectSnapshotStatus")):
        return IncorrectStatusError(message, code)
    if code.startswith("InvalidZoneId"):
        return ZoneError(message, code)
    if code.startswith(("InvalidParameter", "InvalidDiskSize", "InvalidDiskCategory")):
        return InvalidParameterError(message, code)
    if code == IDEMPOTENT_MISMATCH:
        return IdempotencyError(message, code)
    if code.startswith(("OperationFailed.ZoneOutage", "ServiceUnavailable", "Throttling")):
        return UnavailableError(message, code)
    if code.startswith("OperationConflict"):
        return ConflictError(message, code)
    if code in (TIMEOUT, "Timeout"):
        return CloudTimeoutError(message, code)
    return CloudError(message, code)
