"""The csi-snapshotter sidecar: the only place snapshot CSI calls are made.

Why one controller for every driver: upstream runs one sidecar next to each CSI driver, each
watching the VolumeSnapshotContents whose ``spec.driver`` is its own. Here one loop serves all
snapshot-capable drivers of the cluster (keyed by content name, dispatched on ``spec.driver``),
with one event source per driver (``csi-snapshotter <driver>``), which is what a user can see.

Rules follow ``shared/spec/storage.md`` §4.6 and §4.8.3-4 [ES sidecar-controller/snapshot_controller.go].
Timings are configuration: ``timings.snapshotReadyPollInterval`` (how often an unready snapshot is
polled), ``timings.snapshotRetryInitial``/``snapshotRetryMax`` (backoff after a failed call).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ...client.base import JSON, ApiError, Client
from ...client.events import WARNING, EventRecorder
from ...client.runtime import DONE, Backoff, Controller, Result
from ...clock import Clock, rfc3339
from ...config import timings_of
from ...csi import spec
from ...csi.calls import CsiCallError, call_driver
from ...logs import klog
from ..snapshot.objects import (
    ANN_BEING_CREATED,
    ANN_BEING_DELETED,
    FINALIZER_VSC_BOUND,
    RESERVED_PARAM_PREFIX,
    VSC,
    VSCLASS,
    class_not_found,
    go_quote,
    strip_reserved_parameters,
)

log = logging.getLogger(__name__)

COMPONENT_PREFIX = "csi-snapshotter"
SNAPSHOT_NAME_PREFIX = "snapshot"
CONFLICT_RETRIES = 3

REASON_CREATION_FAILED = "SnapshotCreationFailed"
MSG_CREATION_FAILED = "Failed to create snapshot: {err}"
REASON_CHECK_FAILED = "SnapshotContentCheckandUpdateFailed"
MSG_CHECK_FAILED = "Failed to check and update snapshot content: {err}"
REASON_DELETE_ERROR = "SnapshotDeleteError"
MSG_DELETE_FAILED = "Failed to delete snapshot"
MSG_CLEAR_STATUS_FAILED = "Failed to clear content status"

ERR_TAKE_SNAPSHOT = 'failed to take snapshot of the volume {handle}: {err}'
ERR_NO_CLASS = "failed to take snapshot {content} without a snapshot class"
ERR_GET_CLASS = 'failed to get input parameters to create snapshot for content {content}: {err}'
ERR_PREFIXED_PARAMS = "failed to remove CSI Parameters of prefixed keys: {err}"
ERR_UNKNOWN_PARAM = 'found unknown parameter key "{key}" with reserved namespace csi.storage.k8s.io/'
ERR_LIST = 'failed to list snapshot for content {content}: {err}'
ERR_NOT_FOUND = "snapshot {handle} not found"
ERR_UID_MISSING = "Corrupted snapshot object, it is missing UID"

#: Reserved class parameter keys the sidecar understands (secrets); any other one is an error.
KNOWN_RESERVED = frozenset({
    "csi.storage.k8s.io/snapshotter-secret-name", "csi.storage.k8s.io/snapshotter-secret-namespace",
    "csi.storage.k8s.io/snapshotter-list-secret-name", "csi.storage.k8s.io/snapshotter-list-secret-namespace",
})

#: gRPC codes after which the driver may still be working (createSnapshot keeps being-created).
NON_FINAL = frozenset({"Canceled", "DeadlineExceeded", "Unavailable", "ResourceExhausted", "Aborted"})



def remove_prefixed_parameters(params: Mapping[str, str] | None) -> dict[str, str]:
    """utils.RemovePrefixedParameters: drop the known ``csi.storage.k8s.io/`` keys, refuse unknown ones."""
    for key in params or {}:
        if key.startswith(RESERVED_PARAM_PREFIX) and key not in KNOWN_RESERVED:
            raise ValueError(ERR_UNKNOWN_PARAM.format(key=key))
    return strip_reserved_parameters(dict(params or {}))


def _field(obj: Any, *names: str) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _nanos(value: Any) -> int | None:
    """CSI creation_time as Unix nanoseconds (accepts ns ints, float seconds or a datetime)."""
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return int(value.timestamp() * 1e9)
    if isinstance(value, float) or (isinstance(value, int) and abs(value) < 10**12):
        return int(value * 1e9)
    return int(value)


class SnapshotInfo:
    """The fields of a CSI ``Snapshot`` message the sidecar needs."""

    def __init__(self, raw: Any) -> None:
        snap = _field(raw, "snapshot")
        if snap is None:
            snap = raw
        self.snapshot_id = str(_field(snap, "snapshot_id", "snapshotId") or "")
        self.creation_time = _nanos(_field(snap, "creation_time", "creationTime"))
        self.size_bytes = int(_field(snap, "size_bytes", "sizeBytes") or 0)
        self.ready_to_use = bool(_field(snap, "ready_to_use", "readyToUse"))


def _csi_spec() -> Any:
    from ...csi import spec

    return spec


def _request(cls_name: str, **kwargs: Any) -> Any:
    """A ``csi.spec`` request object, or the keyword dict when the spec module lacks that class."""
    try:
        cls = getattr(_csi_spec(), cls_name)
    except (ImportError, AttributeError):
        return kwargs
    return cls(**kwargs)


async def driver_supports_snapshots(driver: spec.CsiDriver) -> bool:
    """ControllerGetCapabilities lists CREATE_DELETE_SNAPSHOT (drivers without the call: assume yes)."""
    get_caps = getattr(driver, "controller_get_capabilities", None)
    if get_caps is None:
        return hasattr(driver, "create_snapshot")
    caps = await call_driver(get_caps)
    for cap in _field(caps, "capabilities") or caps or ():
        for cand in (cap, _field(cap, "type"), _field(cap, "rpc")):
            if cand is not None and (getattr(cand, "name", None) or str(cand)).rsplit(".", 1)[-1].upper() \
                    == "CREATE_DELETE_SNAPSHOT":
                return True
    return False


class SnapshotSidecar(Controller):
    """csi-snapshotter for every snapshot-capable driver in ``cluster.drivers``."""

    name = COMPONENT_PREFIX
    #: Like upstream's --worker-threads: a slow DeleteSnapshot (the driver waits for the cloud)
    #: must not hold up every other content. The queue never runs one key twice at once.
    workers = 4
    #: Failed CSI calls and bad parameters, already in the content's status and events: retried
    #: quietly with backoff.
    expected_errors = (CsiCallError, ValueError)
    #: Our own status writes re-queue a failed key at once; it still waits out its backoff.
    hold_backoff = True

    def __init__(self, client: Client, clock: Clock, drivers: Mapping[str, spec.CsiDriver] | None = None,
                 config: Any = None) -> None:
        super().__init__(client, clock)
        self.all_drivers = dict(drivers or {})
        self.drivers: dict[str, spec.CsiDriver] = {}
        timings = timings_of(config)
        self.use_backoff(Backoff(timings.snapshotRetryInitial, timings.snapshotRetryMax))
        self.poll_interval = timings.snapshotReadyPollInterval
        self.config = config
        self.recorders: dict[str, EventRecorder] = {}
        self._next_poll: dict[str, float] = {}

    async def start(self) -> None:
        for name, driver in self.all_drivers.items():
            cfg = self.config.driver(name) if self.config is not None and hasattr(self.config, "driver") else None
            if cfg is not None and not getattr(cfg, "snapshots", True):
                continue
            try:
                supported = await driver_supports_snapshots(driver)
            except Exception as err:  # a broken driver must not stop the cluster
                log.warning("csi-snapshotter: capabilities of %s: %s", name, err)
                continue
            if supported:
                self.drivers[name] = driver
                self.recorders[name] = EventRecorder(self.client, f"{COMPONENT_PREFIX} {name}", self.clock)
        await super().start()

    def setup(self) -> None:
        def keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            if event == "DELETED" or (obj.get("spec") or {}).get("driver") not in self.drivers:
                return []
            name = obj["metadata"]["name"]
            if obj["metadata"].get("deletionTimestamp") and not ((old or {}).get("metadata") or {}).get(
                    "deletionTimestamp"):
                self.queue.expedite(name)  # a deletion is news: do not sit out a create backoff
            return [name]

        self.contents = self.informer(VSC, key_of=keys)

    # ------------------------------------------------------------------ helpers

    async def _get(self, resource: str, name: str) -> JSON | None:
        try:
            return await self.client.get(resource, name)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def _patch_meta(self, content: JSON, meta: JSON) -> JSON:
        """A metadata merge patch guarded by resourceVersion; annotation-only patches are retried
        on a conflict (they cannot undo anyone else's change)."""
        for attempt in range(CONFLICT_RETRIES + 1):
            body = {"metadata": {**meta, "resourceVersion": content["metadata"].get("resourceVersion")}}
            try:
                result: JSON = await self.client.patch(VSC, content["metadata"]["name"], body)
                return result
            except ApiError as err:
                if err.code != 409 or "finalizers" in meta or attempt == CONFLICT_RETRIES:
                    raise
                fresh = await self._get(VSC, content["metadata"]["name"])
                if fresh is None:
                    raise
                content = fresh
        raise AssertionError("unreachable")

    async def _write_status(self, content: JSON, status: JSON) -> JSON:
        body = dict(content)
        body["status"] = status
        result: JSON = await self.client.update(VSC, body, subresource="status")
        return result

    async def error_status(self, content: JSON, reason: str, message: str) -> JSON:
        """updateContentErrorStatusWithEvent: the same message is written (and announced) once."""
        status = dict(content.get("status") or {})
        if (status.get("error") or {}).get("message") == message:
            return content
        status["error"] = {"time": rfc3339(self.clock.now()), "message": message}
        status["readyToUse"] = False
        try:
            content = await self._write_status(content, status)
        except ApiError as err:
            log.debug("csi-snapshotter: error status of %s not written: %s", content["metadata"]["name"], err)
        # Emitted even when the status write fails, so that the user sees the error.
        await self.recorders[content["spec"]["driver"]].event(content, WARNING, reason, message)
        return content

    # ------------------------------------------------------------------ reconcile

    def should_delete(self, content: JSON) -> bool:
        meta = content.get("metadata") or {}
        if not meta.get("deletionTimestamp"):
            return False
        spec = content.get("spec") or {}
        if (spec.get("source") or {}).get("snapshotHandle") and not (spec.get("volumeSnapshotRef") or {}).get("uid"):
            return True  # an unbound pre-provisioned content
        annotations = meta.get("annotations") or {}
        if ANN_BEING_CREATED in annotations:
            return False  # CreateSnapshot may still be running: wait for its answer, never leak
        return ANN_BEING_DELETED in annotations

    async def reconcile(self, key: str) -> Result:
        content = await self._get(VSC, key)
        if content is None:
            self._next_poll.pop(key, None)
            return DONE
        driver_name = (content.get("spec") or {}).get("driver")
        if driver_name not in self.drivers:
            return DONE
        status = content.get("status") or {}
        if self.should_delete(content):
            if content["spec"].get("deletionPolicy") == "Delete" and status.get("snapshotHandle"):
                await self.delete_snapshot(content)
                return DONE
            finalizers = list(content["metadata"].get("finalizers") or [])
            if FINALIZER_VSC_BOUND in finalizers:
                try:
                    await self._patch_meta(content, {"finalizers": [f for f in finalizers if f != FINALIZER_VSC_BOUND]})
                except ApiError as err:
                    if err.code != 404:
                        raise
            return DONE
        if status.get("readyToUse") is True:
            # A ready snapshot is never polled again; a being-created left behind is cleared.
            if ANN_BEING_CREATED in (content["metadata"].get("annotations") or {}):
                await self._patch_meta(content, {"annotations": {ANN_BEING_CREATED: None}})
            return DONE
        source = content["spec"].get("source") or {}
        handle = source.get("snapshotHandle") or status.get("snapshotHandle")
        if not handle:
            created = await self.create_snapshot(content)
            if created.requeue_after is not None:
                self._next_poll[key] = self.clock.now() + created.requeue_after
            return created
        due = self._next_poll.get(key)
        if due is not None and self.clock.now() < due:
            # Our own status write re-queued the key: keep to the poll interval.
            return Result(requeue_after=due - self.clock.now())
        result = await self.check_status(content, handle)
        if result.requeue_after is None:
            self._next_poll.pop(key, None)
        else:
            self._next_poll[key] = self.clock.now() + result.requeue_after
        return result

    async def create_snapshot(self, content: JSON) -> Result:
        """createSnapshotWrapper: class, being-created annotation, parameters, CreateSnapshot, status,
        annotation removed. Every failure is reported as ``SnapshotCreationFailed`` and retried."""
        name = content["metadata"]["name"]
        driver_name = content["spec"]["driver"]
        handle = content["spec"]["source"].get("volumeHandle") or ""
        try:
            snap_class = await self.snapshot_class(content)
        except ValueError as err:
            await self.fail_creation(content, ERR_GET_CLASS.format(content=name, err=go_quote(err)))
            raise
        if (content["metadata"].get("annotations") or {}).get(ANN_BEING_CREATED) != "yes":
            content = await self._patch_meta(content, {"annotations": {ANN_BEING_CREATED: "yes"}})
        try:
            params = remove_prefixed_parameters(snap_class.get("parameters"))
        except ValueError as err:
            await self.fail_creation(content, ERR_PREFIXED_PARAMS.format(err=err))
            raise
        uid = (content["spec"].get("volumeSnapshotRef") or {}).get("uid") or ""
        try:
            if not uid:  # makeSnapshotName; not a gRPC error, so being-created stays (the safe side)
                raise CsiCallError("", ERR_UID_MISSING)
            request = _request("CreateSnapshotRequest", source_volume_id=handle,
                               name=f"{SNAPSHOT_NAME_PREFIX}-{uid}", parameters=params)
            klog.info("createSnapshotWrapper: Creating snapshot for content %s through the plugin ...",
                      content["metadata"]["name"])
            info = SnapshotInfo(await call_driver(self.drivers[driver_name].create_snapshot, request))
        except CsiCallError as err:
            klog.info('"CreateSnapshot failed" content="%s" err=%s', content["metadata"]["name"], str(err))
            if err.code and err.code not in NON_FINAL:
                content = await self._patch_meta(content, {"annotations": {ANN_BEING_CREATED: None}})
            text = str(err) if err.code else err.message
            await self.fail_creation(content, ERR_TAKE_SNAPSHOT.format(handle=handle, err=go_quote(text)))
            raise
        klog.info('"Created snapshot" content="%s" driver="%s" snapshotHandle="%s" readyToUse=%s size=%d',
                  content["metadata"]["name"], driver_name, info.snapshot_id, str(info.ready_to_use).lower(),
                  info.size_bytes)
        content = await self.update_status(content, info)
        await self._patch_meta(content, {"annotations": {ANN_BEING_CREATED: None}})
        return DONE if info.ready_to_use else Result(requeue_after=self.poll_interval)

    async def fail_creation(self, content: JSON, err: str) -> None:
        await self.error_status(content, REASON_CREATION_FAILED, MSG_CREATION_FAILED.format(err=err))

    async def snapshot_class(self, content: JSON) -> JSON:
        """getCSISnapshotInput: a dynamic content needs its class (errors as the lister gives them)."""
        class_name = content["spec"].get("volumeSnapshotClassName")
        if not class_name:
            raise ValueError(ERR_NO_CLASS.format(content=content["metadata"]["name"]))
        snap_class = await self._get(VSCLASS, class_name)
        if snap_class is None:
            raise ValueError(class_not_found(class_name))
        return snap_class

    async def check_status(self, content: JSON, handle: str) -> Result:
        """GetSnapshotStatus through ListSnapshots(snapshot_id); poll again until ready."""
        driver = self.drivers[content["spec"]["driver"]]
        name = content["metadata"]["name"]
        try:
            response = await call_driver(driver.list_snapshots, _request("ListSnapshotsRequest", snapshot_id=handle))
            entries = _field(response, "entries")
            if entries is None:
                entries = response if isinstance(response, list) else []
            found = [SnapshotInfo(e) for e in entries]
            found = [s for s in found if s.snapshot_id == handle]
            if not found:
                raise CsiCallError("NotFound", ERR_NOT_FOUND.format(handle=handle))
        except CsiCallError as err:
            await self.error_status(content, REASON_CHECK_FAILED,
                                    MSG_CHECK_FAILED.format(err=ERR_LIST.format(content=name, err=go_quote(err))))
            raise
        info = found[0]
        info.snapshot_id = handle
        await self.update_status(content, info)
        return DONE if info.ready_to_use else Result(requeue_after=self.poll_interval)

    async def update_status(self, content: JSON, info: SnapshotInfo) -> JSON:
        """updateSnapshotContentStatus, retried on a conflict against a fresh copy: what the driver
        just answered must not be lost to a concurrent annotation or deletion."""
        for _ in range(CONFLICT_RETRIES):
            try:
                return await self._update_status_once(content, info)
            except ApiError as err:
                if err.code != 409:
                    raise
                fresh = await self._get(VSC, content["metadata"]["name"])
                if fresh is None:
                    raise
                content = fresh
        return await self._update_status_once(content, info)

    async def _update_status_once(self, content: JSON, info: SnapshotInfo) -> JSON:
        old = dict(content.get("status") or {})
        status = dict(old)
        status.setdefault("snapshotHandle", info.snapshot_id)
        if status.get("readyToUse") is not info.ready_to_use:
            status["readyToUse"] = info.ready_to_use
            if info.ready_to_use:
                status.pop("error", None)
        if status.get("creationTime") is None:
            status["creationTime"] = info.creation_time or int(self.clock.now() * 1e9)
        if status.get("restoreSize") is None and info.size_bytes > 0:
            status["restoreSize"] = info.size_bytes
        if status == old:
            return content
        return await self._write_status(content, status)

    async def delete_snapshot(self, content: JSON) -> None:
        """deleteCSISnapshotOperation: DeleteSnapshot, then clear the status (the next pass drops the finalizer)."""
        driver_name = content["spec"]["driver"]
        handle = content["status"]["snapshotHandle"]
        klog.info('"DeleteSnapshot" content="%s" snapshotHandle="%s"', content["metadata"]["name"], handle)
        try:
            await call_driver(self.drivers[driver_name].delete_snapshot, _request("DeleteSnapshotRequest", snapshot_id=handle))
        except CsiCallError as err:
            if err.code != "NotFound":
                await self.recorders[driver_name].event(content, WARNING, REASON_DELETE_ERROR, MSG_DELETE_FAILED)
                raise
        status = {k: v for k, v in (content.get("status") or {}).items()
                  if k not in ("snapshotHandle", "readyToUse", "creationTime", "restoreSize")}
        try:
            await self._write_status(content, status)
        except ApiError:
            await self.recorders[driver_name].event(content, WARNING, REASON_DELETE_ERROR, MSG_CLEAR_STATUS_FAILED)
            raise
