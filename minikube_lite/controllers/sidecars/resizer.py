"""The csi-resizer sidecar (kubernetes-csi/external-resizer), one per expansion-capable driver.

Why a sidecar per driver: upstream runs one next to each CSI driver; it watches bound claims
whose request exceeds their capacity, and only for volumes of its own driver it calls
``ControllerExpandVolume``, grows the PV's ``spec.capacity`` and records on the claim where the
expansion stands (``status.allocatedResources``, ``allocatedResourceStatuses``, the ``Resizing``
/ ``FileSystemResizePending`` conditions). The kubelet finishes the node side
(:mod:`minikube_lite.kubelet.volume_expansion`). The decisions follow upstream's
``expandAndRecover`` (RecoverVolumeExpansionFailure): which size to expand to depends on the
claim's resource status, so a claim whose expansion failed can be lowered and retried.

It talks only through the API client and the CSI protocol. A failed expansion is retried by the
runtime's one rule (a rate-limited requeue that sits out its backoff, as upstream's
``AddRateLimited``; a new request from the user cuts it short). Timings are configuration:
``timings.resizerRetryInitial`` / ``resizerRetryMax``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...client.base import JSON, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import (
    DONE,
    RETRY,
    Backoff,
    Controller,
    Key,
    PerDriverControllers,
    Result,
    get_or_none,
    namespaced_key,
    split_key,
)
from ...clock import Clock, rfc3339
from ...config import timings_of
from ...csi import spec
from ...csi.calls import CsiCallError, call_driver
from ...kube import resize_status as rs
from ...kube.quantity import canonical

log = logging.getLogger(__name__)

COMPONENT_PREFIX = "external-resizer"

REASON_RESIZING = "Resizing"
MSG_RESIZING = "External resizer is resizing volume {pv}"
REASON_FS_RESIZE_REQUIRED = "FileSystemResizeRequired"
MSG_FS_RESIZE_REQUIRED = "Require file system resize of volume on node"
REASON_RESIZE_SUCCESSFUL = "VolumeResizeSuccessful"
MSG_RESIZE_SUCCESSFUL = "Resize volume succeeded"
REASON_RESIZE_FAILED = "VolumeResizeFailed"
MSG_RESIZE_FAILED = 'resize volume "{pv}" by resizer "{driver}" failed: {err}'

#: gRPC codes (as Go prints them, ``CsiCallError.code``) after which the driver may still be
#: working: retried, the claim is not marked failed.
NON_FINAL = frozenset(c.go_name for c in (spec.Code.CANCELLED, spec.Code.DEADLINE_EXCEEDED, spec.Code.UNAVAILABLE,
                                          spec.Code.RESOURCE_EXHAUSTED, spec.Code.ABORTED))
#: Final errors that say the size can never be reached: ``ControllerResizeInfeasible``.
INFEASIBLE = frozenset(c.go_name for c in (spec.Code.INVALID_ARGUMENT, spec.Code.OUT_OF_RANGE, spec.Code.NOT_FOUND))


@dataclass
class _Size:
    value: Decimal
    text: str


def _size(value: Decimal | None, raw: Any) -> _Size | None:
    if value is None:
        return None
    return _Size(value, canonical(raw) if raw is not None else rs.quantity(value))


def needs_resize(pvc: JSON) -> bool:
    """``pvcNeedResize``: a bound claim with a volume whose request exceeds its capacity."""
    if (pvc.get("status") or {}).get("phase") != "Bound" or not (pvc.get("spec") or {}).get("volumeName"):
        return False
    req = rs.requested(pvc)
    return req is not None and req > rs.capacity(pvc)


class ExternalResizer(Controller):
    """csi-resizer for one driver (event source ``external-resizer <driver>``)."""

    workers = 4
    #: A failed claim sits out its backoff even when our own status write brings it back.
    hold_backoff = True

    def __init__(self, client: Client, clock: Clock, driver_name: str, driver: spec.CsiDriver, *,
                 controller_expansion: bool = True, config: Any = None) -> None:
        super().__init__(client, clock)
        self.name = f"{COMPONENT_PREFIX}-{driver_name}"
        self.driver_name = driver_name
        self.driver = driver
        #: False: the driver has only node expansion; the controller step is a no-op that asks
        #: the node to grow the volume (upstream's trivial resizer).
        self.controller_expansion = controller_expansion
        timings = timings_of(config)
        self.use_backoff(Backoff(timings.resizerRetryInitial, timings.resizerRetryMax))
        self.recorder = EventRecorder(client, f"{COMPONENT_PREFIX} {driver_name}", clock)
        #: Claims whose last expansion failed with a final error (upstream's ``finalErrorPVCs``):
        #: for them the user's new, possibly lower, request wins over the size under way.
        self._final_errors: set[Key] = set()
        #: The resourceVersion of our last status write per claim: a cache older than that is
        #: stale (the informer has not seen our write yet) and must not be acted on again.
        self._written: dict[Key, int] = {}
        self._pv_written: dict[str, int] = {}

    def setup(self) -> None:
        self.pvcs = self.informer("persistentvolumeclaims", key_of=self._claim_keys)
        self.pvs = self.informer("persistentvolumes", key_of=self._volume_keys)

    def _claim_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        key = namespaced_key(obj)
        if event == "DELETED":
            self._final_errors.discard(key)
            self._written.pop(key, None)
            return []
        if not needs_resize(obj):
            return []
        if old is not None and rs.requested(old) != rs.requested(obj):
            self.queue.expedite(key)  # a new request is news: no need to sit out the old one's backoff
        return [key]

    def _volume_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        ref = (obj.get("spec") or {}).get("claimRef") or {}
        if event == "DELETED":
            self._pv_written.pop(str(obj["metadata"]["name"]), None)
            return []
        if not ref.get("name"):
            return []
        pvc = self.pvcs.get(str(ref["name"]), str(ref.get("namespace") or ""))
        return [f"{ref.get('namespace')}/{ref['name']}"] if pvc is not None and needs_resize(pvc) else []

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        pvc = self.pvcs.get(name, ns)
        if pvc is not None and int(pvc["metadata"].get("resourceVersion") or 0) < self._written.get(key, 0):
            return DONE  # our own newer write is on its way to the cache; its event brings us back
        if pvc is None or not needs_resize(pvc):
            self._final_errors.discard(key)
            return DONE
        pv_name = str(pvc["spec"]["volumeName"])
        pv = self.pvs.get(pv_name)
        if pv is None or int(pv["metadata"].get("resourceVersion") or 0) < self._pv_written.get(pv_name, 0):
            pv = await get_or_none(self.client, "persistentvolumes", pv_name)
        if pv is None or not self._can_expand(pv, pvc):
            return DONE
        return await self._expand_and_recover(key, pvc, pv)

    def _can_expand(self, pv: JSON, pvc: JSON) -> bool:
        """The volume is this driver's and is bound to exactly this claim."""
        pv_spec = pv.get("spec") or {}
        if (pv_spec.get("csi") or {}).get("driver") != self.driver_name:
            return False
        ref = pv_spec.get("claimRef") or {}
        meta = pvc.get("metadata") or {}
        return bool(ref) and ref.get("namespace") == meta.get("namespace") and ref.get("uid") == meta.get("uid")

    def _target_size(self, key: Key, pvc: JSON, pv: JSON) -> _Size | None:
        """The size to expand to, or None when there is nothing to do now (``expandAndRecover``)."""
        raw_request = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get(rs.STORAGE)
        request = _size(rs.requested(pvc), raw_request)
        assert request is not None
        raw_alloc = ((pvc.get("status") or {}).get("allocatedResources") or {}).get(rs.STORAGE)
        alloc = _size(rs.allocated(pvc), raw_alloc)
        status = rs.resize_status(pvc)
        pv_size = rs.pv_capacity(pv)
        if pv_size < request.value:
            if status == rs.NODE_RESIZE_INFEASIBLE:
                return alloc or request
            if status in (rs.NODE_RESIZE_PENDING, rs.NODE_RESIZE_IN_PROGRESS):
                target = alloc or request
                return None if pv_size >= target.value else target
            if status == rs.CONTROLLER_RESIZE_IN_PROGRESS:
                # A final error lets the user's new (possibly lower) request win; otherwise the
                # operation under way must finish at its size first.
                return request if key in self._final_errors else (alloc or request)
            return request
        if status in (rs.NODE_RESIZE_IN_PROGRESS, rs.NODE_RESIZE_PENDING):
            return None  # the controller part is done; the kubelet finishes
        if status in (rs.NODE_RESIZE_INFEASIBLE, rs.CONTROLLER_RESIZE_IN_PROGRESS, rs.CONTROLLER_RESIZE_INFEASIBLE):
            return alloc or request
        if status == "" and alloc is not None:
            return alloc
        if rs.has_condition(pvc, rs.COND_FS_RESIZE_PENDING):
            return None
        return request

    async def _expand_and_recover(self, key: Key, pvc: JSON, pv: JSON) -> Result:
        target = self._target_size(key, pvc, pv)
        if target is None:
            return DONE
        alloc = rs.allocated(pvc)
        update_status = alloc is None or alloc != target.value
        pvc = await self._mark_in_progress(pvc, target, update_status)
        pv_name = str(pv["metadata"]["name"])
        await self.recorder.event(pvc, NORMAL, REASON_RESIZING, MSG_RESIZING.format(pv=pv_name))
        try:
            new_bytes, node_required = await self._resize(pv, target)
        except CsiCallError as err:
            return await self._failed(key, pvc, pv_name, err)
        self._final_errors.discard(key)
        await self._update_pv_capacity(pv, new_bytes)
        if node_required:
            await self._mark_node_expansion_pending(pvc)
        else:
            await self._mark_finished(pvc, new_bytes)
        return DONE

    async def _resize(self, pv: JSON, target: _Size) -> tuple[Decimal, bool]:
        """ControllerExpandVolume (or, for a node-only driver, nothing: the node grows it)."""
        if not self.controller_expansion:
            return target.value, True
        csi = (pv.get("spec") or {}).get("csi") or {}
        block = (pv.get("spec") or {}).get("volumeMode") == "Block"
        req = spec.ControllerExpandVolumeRequest(
            volume_id=str(csi.get("volumeHandle") or ""),
            # Quantity.Value(): a fraction of a byte asks for the next whole byte.
            capacity_range=spec.CapacityRange(required_bytes=math.ceil(target.value)),
            volume_capability=spec.VolumeCapability(block=block, mount=None if block else spec.MountVolume(
                fs_type=str(csi.get("fsType") or ""))))
        resp = await call_driver(self.driver.controller_expand_volume, req)
        size = Decimal(int(resp.capacity_bytes or 0)) or target.value
        return size, bool(resp.node_expansion_required)

    async def _failed(self, key: Key, pvc: JSON, pv_name: str, err: CsiCallError) -> Result:
        """Record the failure (condition, resource status, event) and retry through the rate limiter."""
        final = err.code not in NON_FINAL
        if final:
            self._final_errors.add(key)
            status = dict(pvc.get("status") or {})
            now = rfc3339(self.clock.now())
            status["conditions"] = rs.merge_resize_conditions(
                status.get("conditions") or [],
                [rs.condition(rs.COND_CONTROLLER_RESIZE_ERROR, now, rs.MSG_RESIZE_ERROR_CONDITION.format(err=err))],
                keep_old=True)
            if err.code in INFEASIBLE:
                rs.set_resource_status(status, rs.CONTROLLER_RESIZE_INFEASIBLE)
            pvc = await self._write_status(pvc, status, check_version=False)
        else:
            self._final_errors.discard(key)
        message = MSG_RESIZE_FAILED.format(pv=pv_name, driver=self.driver_name, err=err)
        await self.recorder.event(pvc, WARNING, REASON_RESIZE_FAILED, message)
        log.info("%s: %s", self.name, message)
        return RETRY

    # ------------------------------------------------------------------ writes

    async def _write_status(self, pvc: JSON, status: JSON, *, check_version: bool = True) -> JSON:
        if status == (pvc.get("status") or {}):
            return pvc
        body = {**pvc, "status": status}
        if not check_version:
            body["metadata"] = {k: v for k, v in (pvc.get("metadata") or {}).items() if k != "resourceVersion"}
        ns = (pvc.get("metadata") or {}).get("namespace")
        updated: JSON = await self.client.update("persistentvolumeclaims", body, ns, subresource="status")
        self._written[namespaced_key(updated)] = int(updated["metadata"]["resourceVersion"])
        return updated

    async def _mark_in_progress(self, pvc: JSON, target: _Size, update_status: bool) -> JSON:
        """``markControllerResizeInProgress``: condition Resizing, status ControllerResizeInProgress,
        allocatedResources = the size being expanded to."""
        status = dict(pvc.get("status") or {})
        now = rfc3339(self.clock.now())
        status["conditions"] = rs.merge_resize_conditions(
            status.get("conditions") or [], [rs.condition(rs.COND_RESIZING, now)], keep_old=not update_status)
        if update_status:
            rs.set_resource_status(status, rs.CONTROLLER_RESIZE_IN_PROGRESS)
        status["allocatedResources"] = {**(status.get("allocatedResources") or {}), rs.STORAGE: target.text}
        return await self._write_status(pvc, status)

    async def _mark_node_expansion_pending(self, pvc: JSON) -> JSON:
        status = dict(pvc.get("status") or {})
        now = rfc3339(self.clock.now())
        status["conditions"] = rs.merge_resize_conditions(
            status.get("conditions") or [],
            [rs.condition(rs.COND_FS_RESIZE_PENDING, now, rs.MSG_FS_RESIZE_PENDING)], keep_old=True)
        rs.set_resource_status(status, rs.NODE_RESIZE_PENDING)
        updated = await self._write_status(pvc, status)
        await self.recorder.event(updated, NORMAL, REASON_FS_RESIZE_REQUIRED, MSG_FS_RESIZE_REQUIRED)
        return updated

    async def _mark_finished(self, pvc: JSON, new_size: Decimal) -> JSON:
        updated = await self._write_status(pvc, rs.mark_fs_resize_finished(pvc, new_size))
        await self.recorder.event(updated, NORMAL, REASON_RESIZE_SUCCESSFUL, MSG_RESIZE_SUCCESSFUL)
        return updated

    async def _update_pv_capacity(self, pv: JSON, new_size: Decimal) -> None:
        """``updatePVCapacity``: the PV shows the new size. (The ``pre-resize-capacity`` annotation
        is behind the resizer's AnnotateFsResize gate, off by default, so it is not written.)"""
        patch: JSON = {"spec": {"capacity": {rs.STORAGE: rs.quantity(new_size)}}}
        if rs.pv_capacity(pv) == new_size:
            return
        name = str(pv["metadata"]["name"])
        updated = await self.client.patch("persistentvolumes", name, patch)
        self._pv_written[name] = int(updated["metadata"]["resourceVersion"])


async def _capabilities(driver: spec.CsiDriver) -> tuple[bool, bool]:
    """(controller expansion, node expansion) from the driver's capabilities."""
    ctrl = {getattr(c, "name", str(c)) for c in await call_driver(driver.controller_get_capabilities)}
    node_caps = getattr(driver, "node_get_capabilities", None)
    node = {getattr(c, "name", str(c)) for c in (await call_driver(node_caps) if node_caps is not None else [])}
    return "EXPAND_VOLUME" in ctrl, "EXPAND_VOLUME" in node


class ExternalResizers(PerDriverControllers["ExternalResizer"]):
    """What the cluster starts: one :class:`ExternalResizer` per driver that can expand volumes
    (upstream's csi-resizer refuses to run for a driver with neither controller nor node expansion)."""

    name = "csi-resizers"

    def __init__(self, client: Client, clock: Clock, *, config: Any = None,
                 drivers: Mapping[str, spec.CsiDriver] | None = None) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.config = config
        self.drivers = dict(drivers or {})

    async def start(self) -> None:
        for name, driver in self.drivers.items():
            if not hasattr(driver, "controller_get_capabilities"):
                continue
            controller, node = await _capabilities(driver)
            if not controller and not node:
                continue
            inst = ExternalResizer(self.client, self.clock, name, driver, controller_expansion=controller,
                                   config=self.config)
            await inst.start()
            self.instances[name] = inst



__all__ = ["ExternalResizer", "ExternalResizers", "needs_resize"]
