"""The PVC status bookkeeping of volume expansion, shared by the resizer sidecar and the kubelet.

Why one module: the external-resizer and the kubelet write the same status fields
(``allocatedResources``, ``allocatedResourceStatuses``, the resize conditions, ``capacity``) and
must agree on the names and on how conditions are merged (external-resizer
``pkg/util``: ``MergeResizeConditionOnPVC``; kubelet ``MarkFSResizeFinished``). With
RecoverVolumeExpansionFailure (GA in 1.34) the per-resource status drives every decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .quantity import format_quantity, parse_quantity

JSON = dict[str, Any]

# allocatedResourceStatuses values (core/v1 ClaimResourceStatus).
CONTROLLER_RESIZE_IN_PROGRESS = "ControllerResizeInProgress"
CONTROLLER_RESIZE_INFEASIBLE = "ControllerResizeInfeasible"
NODE_RESIZE_PENDING = "NodeResizePending"
NODE_RESIZE_IN_PROGRESS = "NodeResizeInProgress"
NODE_RESIZE_INFEASIBLE = "NodeResizeInfeasible"

# PVC condition types.
COND_RESIZING = "Resizing"
COND_FS_RESIZE_PENDING = "FileSystemResizePending"
COND_CONTROLLER_RESIZE_ERROR = "ControllerResizeError"
COND_NODE_RESIZE_ERROR = "NodeResizeError"
RESIZE_CONDITIONS = frozenset({COND_RESIZING, COND_FS_RESIZE_PENDING, COND_CONTROLLER_RESIZE_ERROR,
                               COND_NODE_RESIZE_ERROR})

MSG_FS_RESIZE_PENDING = "Waiting for user to (re-)start a pod to finish file system resize of volume on node."
MSG_RESIZE_ERROR_CONDITION = "failed to expand pvc with {err}"

STORAGE = "storage"


def storage_of(resources: Any) -> Decimal | None:
    """The ``storage`` quantity of a resource map, or None when absent or unparsable."""
    raw = (resources or {}).get(STORAGE) if isinstance(resources, dict) else None
    if raw is None:
        return None
    try:
        return parse_quantity(str(raw))
    except ValueError:
        return None


def requested(pvc: JSON) -> Decimal | None:
    return storage_of(((pvc.get("spec") or {}).get("resources") or {}).get("requests"))


def capacity(pvc: JSON) -> Decimal:
    return storage_of((pvc.get("status") or {}).get("capacity")) or Decimal(0)


def allocated(pvc: JSON) -> Decimal | None:
    return storage_of((pvc.get("status") or {}).get("allocatedResources"))


def resize_status(pvc: JSON) -> str:
    return str(((pvc.get("status") or {}).get("allocatedResourceStatuses") or {}).get(STORAGE) or "")


def pv_capacity(pv: JSON) -> Decimal:
    return storage_of((pv.get("spec") or {}).get("capacity")) or Decimal(0)


def quantity(value: Decimal | int) -> str:
    """A size as the API prints it (``2Gi``; bytes that are no whole binary unit stay decimal)."""
    return format_quantity(Decimal(value), "BinarySI")


def has_condition(pvc: JSON, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True"
               for c in (pvc.get("status") or {}).get("conditions") or [])


def condition(type_: str, now: str, message: str = "") -> JSON:
    cond: JSON = {"type": type_, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
    if message:
        cond["message"] = message
    return cond


def merge_resize_conditions(conditions: Iterable[JSON], new: Iterable[JSON], keep_old: bool) -> list[JSON]:
    """``MergeResizeConditionOnPVC``: other conditions stay; a resize condition of a type in ``new``
    is replaced (keeping its transition time when the status did not change); other resize
    conditions stay only with ``keep_old``; new types are appended."""
    pending = {c["type"]: c for c in new}
    out: list[JSON] = []
    for cond in conditions:
        type_ = cond.get("type")
        if type_ not in RESIZE_CONDITIONS:
            out.append(cond)
            continue
        replacement = pending.pop(str(type_), None)
        if replacement is not None:
            same = replacement.get("status") == cond.get("status") and \
                replacement.get("message", "") == cond.get("message", "")
            out.append(cond if same else replacement)
        elif keep_old:
            out.append(cond)
    out.extend(pending.values())
    return out


def set_resource_status(status: JSON, value: str | None) -> None:
    """Set (or, with None, drop) ``allocatedResourceStatuses.storage``; an empty map goes away."""
    statuses = dict(status.get("allocatedResourceStatuses") or {})
    if value is None:
        statuses.pop(STORAGE, None)
    else:
        statuses[STORAGE] = value
    if statuses:
        status["allocatedResourceStatuses"] = statuses
    else:
        status.pop("allocatedResourceStatuses", None)


def mark_fs_resize_finished(pvc: JSON, new_size: Decimal) -> JSON:
    """kubelet's ``MarkFSResizeFinished``: capacity is the new size, resize conditions and the
    storage resource status are gone. Returns the new status."""
    status = dict(pvc.get("status") or {})
    status["capacity"] = {**(status.get("capacity") or {}), STORAGE: quantity(new_size)}
    conditions = merge_resize_conditions(status.get("conditions") or [], [], keep_old=False)
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)
    set_resource_status(status, None)
    return status
