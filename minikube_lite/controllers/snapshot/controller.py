"""The common snapshot controller (external-snapshotter's ``snapshot-controller``).

Why a separate controller from the per-driver sidecar: as upstream, this loop never talks to a
storage system. It binds VolumeSnapshots to VolumeSnapshotContents (creating ``snapcontent-<uid>``
for dynamic snapshots, binding admin-made contents for pre-provisioned ones), mirrors the
content's status onto the snapshot, and owns the finalizers that keep a source PVC, a bound
snapshot and its content from disappearing underneath each other. The sidecar
(``snapshot_sidecar.py``) does the CSI calls.

Rules follow ``shared/spec/storage.md`` §4.3-4.5, §4.7 and §4.8; reasons and messages are the
module constants below, passed unchanged to events and ``status.error``.
"""
# size: one loop syncs snapshots, contents and source-claim finalizers as upstream's snapshot_controller.go does, with its upstream messages; the shared vocabulary is snapshot_objects.py

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Backoff, Controller, Result, split_key
from ...clock import Clock, rfc3339
from ...config import timings_of
from ...kube.names import ANN_SNAPSHOT_DEFAULT_CLASS
from ...kube.quantity import format_quantity
from ...logs import klog
from .objects import (
    ANN_BEING_DELETED,
    FINALIZER_PVC_AS_SOURCE,
    FINALIZER_VS_AS_SOURCE,
    FINALIZER_VS_BOUND,
    FINALIZER_VSC_BOUND,
    GROUP,
    VS,
    VSC,
    VSCLASS,
    bound_content_name,
    class_not_found,
    dynamic_content_name,
    go_quote,
    is_ready,
    new_content,
    ref_points_to,
    snapshot_key,
)

log = logging.getLogger(__name__)

COMPONENT = "snapshot-controller"
# Events: reasons and messages (Go format verbs rendered with str.format).
REASON_VALIDATION_ERROR = "SnapshotValidationError"
MSG_VALIDATION_ERROR = "Exactly one of PersistentVolumeClaimName and VolumeSnapshotContentName should be specified"
REASON_FINALIZER_ERROR = "SnapshotFinalizerError"
MSG_FINALIZER_ERROR = "Failed to check and update snapshot: {err}"
REASON_SET_DEFAULT_CLASS_FAILED = "SetDefaultSnapshotClassFailed"
MSG_SET_DEFAULT_CLASS_FAILED = "Failed to set default snapshot class with error {err}"
ERR_NO_DEFAULT_CLASS = "cannot find default snapshot class"
ERR_MANY_DEFAULT_CLASSES = "{count} default snapshot classes were found"
REASON_GET_CLASS_FAILED = "GetSnapshotClassFailed"
MSG_GET_CLASS_FAILED = "Failed to get snapshot class with error {err}"
REASON_CREATING = "CreatingSnapshot"
MSG_CREATING = "Waiting for a snapshot {ns}/{name} to be created by the CSI driver."
REASON_CONTENT_CREATION_FAILED = "SnapshotContentCreationFailed"
MSG_CONTENT_CREATION_FAILED = "Failed to create snapshot content with error {err}"
REASON_CREATED = "SnapshotCreated"
MSG_CREATED = "Snapshot {ns}/{name} was successfully created by the CSI driver."
REASON_READY = "SnapshotReady"
MSG_READY = "Snapshot {ns}/{name} is ready to use."
REASON_STATUS_UPDATE_FAILED = "SnapshotStatusUpdateFailed"
MSG_STATUS_UPDATE_FAILED = "Snapshot status update failed, {err}"
REASON_CONTENT_MISSING = "SnapshotContentMissing"
MSG_CONTENT_MISSING = "VolumeSnapshotContent is missing"
REASON_CONTENT_MISMATCH = "SnapshotContentMismatch"
MSG_CONTENT_MISMATCH = "VolumeSnapshotContent is dynamically provisioned while expecting a pre-provisioned one"
REASON_CONTENT_MISBOUND = "SnapshotContentMisbound"
MSG_CONTENT_MISBOUND = "VolumeSnapshotContent [{content}] is bound to a different snapshot"
REASON_MISBOUND = "SnapshotMisbound"
MSG_MISBOUND = "VolumeSnapshotContent is not bound to the VolumeSnapshot correctly"
REASON_BIND_FAILED = "SnapshotBindFailed"
MSG_BIND_FAILED = "Snapshot failed to bind VolumeSnapshotContent, {err}"
MSG_DYNAMIC_MISMATCH = "VolumeSnapshotContent {content} is pre-provisioned while expecting a dynamically provisioned one"
REASON_CREATE_CONTENT_FAILED = "CreateSnapshotContentFailed"
MSG_CREATE_CONTENT_FAILED = "Error creating volume snapshot content object for snapshot {key}: {err}."
REASON_CONTENT_DELETE_ERROR = "SnapshotContentObjectDeleteError"
MSG_CONTENT_DELETE_ERROR = "Failed to delete snapshot content API object"
REASON_PVC_SOURCE_MISSING = "SnapshotPVCSourceMissing"
MSG_PVC_SOURCE_MISSING = "PVC source for snapshot {ns}/{name} is missing"
REASON_DELETE_PENDING = "SnapshotDeletePending"
MSG_DELETE_PENDING = "Snapshot is being used to restore a PVC"

# Errors that end up inside the messages above; ``{err}`` is Go's %q of an error (see go_quote).
ERR_PVC_LOOKUP = 'failed to retrieve PVC {pvc} from the lister: {err}'
ERR_PVC_NOT_BOUND = "the PVC {pvc} is not yet bound to a PV, will not attempt to take a snapshot"
ERR_BINDING_BROKEN = "claim in dataSource not bound or invalid"
ERR_NO_CLAIM = "cannot get claim from snapshot"
ERR_DELETE_CONTENT = "failed to delete VolumeSnapshotContent {content} from API server: {err}"
ERR_CREATE_INPUT = "failed to get input parameters to create snapshot {name}: {err}"
ERR_NON_CSI_SNAPSHOT = "snapshotting non-CSI volumes is not supported, snapshot:{key}"
CONTROLLER_UPDATE_FAILED = "snapshot controller failed to update {name} on API server: {message}"
ERR_PV_LOOKUP = 'failed to retrieve PV {pv} from the API server: {err}'
ERR_NOT_CSI = "cannot find CSI PersistentVolumeSource for volume {pv}"
ERR_PVC_DELETING = "cannot add finalizer on claim because it is being deleted"
ERR_NO_CLASS = "failed to take snapshot {name} without a snapshot class"
ERR_REF_MISMATCH = "Could not bind snapshot {snapshot} and content {content}, the VolumeSnapshotRef does not match"


def controller_update_error(name: str, message: str) -> str:
    """newControllerUpdateError's text."""
    return CONTROLLER_UPDATE_FAILED.format(name=name, message=message)


class SnapshotError(Exception):
    """A sync failure whose text is the upstream error; the runtime retries it with backoff."""


def _meta(obj: JSON) -> JSON:
    meta: JSON = obj.setdefault("metadata", {})
    return meta


def _status(obj: JSON) -> JSON:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


class SnapshotController(Controller):
    """external-snapshotter's common controller: one queue for snapshots, contents and source PVCs.

    Keys are ``vs:<ns>/<name>``, ``vsc:<name>`` and ``pvc:<ns>/<name>`` so one worker serialises
    all writes of this controller, as the upstream controller's per-object queues do per object.
    """

    name = COMPONENT
    #: Upstream errors, already in the objects' status and events: retried quietly with backoff.
    expected_errors = (SnapshotError,)
    #: Our own status writes re-queue a failed key at once; it still waits out its backoff.
    hold_backoff = True

    def __init__(self, client: Client, clock: Clock, config: Any = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        self.use_backoff(Backoff(timings.snapshotRetryInitial, timings.snapshotRetryMax))
        self.recorder = EventRecorder(client, COMPONENT, clock)

    # ------------------------------------------------------------------ wiring

    def setup(self) -> None:
        def vs_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            keys = [f"vs:{snapshot_key(obj)}"]
            pvc = ((obj.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")
            if pvc:
                keys.append(f"pvc:{obj['metadata'].get('namespace')}/{pvc}")
            return keys

        def vsc_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            keys = [f"vsc:{obj['metadata']['name']}"]
            ref = (obj.get("spec") or {}).get("volumeSnapshotRef") or {}
            if ref.get("name") and ref.get("namespace"):
                keys.append(f"vs:{ref['namespace']}/{ref['name']}")
            return keys

        def pvc_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            meta = obj.get("metadata") or {}
            ns = meta.get("namespace")
            keys = []
            # A source PVC that becomes Bound lets a waiting snapshot proceed.
            for vs in self.snapshots.list(ns):
                if ((vs.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName") == meta.get("name"):
                    keys.append(f"vs:{snapshot_key(vs)}")
            # A restore that finishes (or goes away) may unblock a pending snapshot deletion.
            source = (obj.get("spec") or {}).get("dataSource") or {}
            if source.get("kind") == "VolumeSnapshot" and source.get("name"):
                keys.append(f"vs:{ns}/{source['name']}")
            if FINALIZER_PVC_AS_SOURCE in (meta.get("finalizers") or []):
                keys.append(f"pvc:{ns}/{meta.get('name')}")
            return keys

        def class_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            # A new (default) class may unblock snapshots that failed to find one.
            name = obj["metadata"]["name"]
            return [f"vs:{snapshot_key(vs)}" for vs in self.snapshots.list()
                    if not bound_content_name(vs) or (vs.get("spec") or {}).get("volumeSnapshotClassName") == name]

        def fresh(mapper: Any) -> Any:
            """A change of another object (claim, class, content) is news: skip the backoff wait."""
            def keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
                out = list(mapper(event, obj, old))
                for key in out:
                    self.queue.expedite(key)
                return out
            return keys

        self.snapshots = self.informer(VS, key_of=vs_keys)
        self.contents = self.informer(VSC, key_of=fresh(vsc_keys))
        self.classes = self.informer(VSCLASS, key_of=fresh(class_keys))
        self.claims = self.informer("persistentvolumeclaims", key_of=fresh(pvc_keys))

    async def reconcile(self, key: str) -> Result:
        kind, _, rest = key.partition(":")
        if kind == "vs":
            ns, name = split_key(rest)
            return await self.sync_snapshot(ns or "default", name)
        if kind == "vsc":
            return await self.sync_content(rest)
        if kind == "pvc":
            ns, name = split_key(rest)
            return await self.sync_source_pvc(ns or "default", name)
        return DONE

    # ------------------------------------------------------------------ API helpers

    async def _get(self, resource: str, name: str, namespace: str | None = None) -> JSON | None:
        try:
            return await self.client.get(resource, name, namespace)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def _set_finalizers(self, resource: str, obj: JSON, finalizers: list[str]) -> JSON:
        """Write the finalizer list with the object's resourceVersion: a concurrent change conflicts."""
        meta = obj["metadata"]
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": meta.get("resourceVersion")}}
        result: JSON = await self.client.patch(resource, meta["name"], body, meta.get("namespace"))
        return result

    async def _annotate(self, resource: str, obj: JSON, key: str, value: str | None) -> JSON:
        meta = obj["metadata"]
        body = {"metadata": {"annotations": {key: value}, "resourceVersion": meta.get("resourceVersion")}}
        result: JSON = await self.client.patch(resource, meta["name"], body, meta.get("namespace"))
        return result

    async def _update_vs_status(self, vs: JSON, status: JSON) -> JSON:
        body = dict(vs)
        body["status"] = status
        result: JSON = await self.client.update(VS, body, vs["metadata"]["namespace"], subresource="status")
        return result

    async def error_status(self, vs: JSON, set_not_ready: bool, type_: str, reason: str, message: str) -> JSON:
        """updateSnapshotErrorStatusWithEvent: record the error once (same message: no new write or
        event); the event is emitted even when the status write fails, so the user sees it."""
        status = dict(_status(vs))
        if (status.get("error") or {}).get("message") == message:
            return vs
        status["error"] = {"time": rfc3339(self.clock.now()), "message": message}
        if set_not_ready:
            status["readyToUse"] = False
        try:
            vs = await self._update_vs_status(vs, status)
        except ApiError as err:
            log.debug("snapshot-controller: error status of %s not written: %s", snapshot_key(vs), err)
        await self.recorder.event(vs, type_, reason, message)
        return vs

    # ------------------------------------------------------------------ snapshots

    async def sync_snapshot(self, namespace: str, name: str) -> Result:
        vs = await self._get(VS, name, namespace)
        if vs is None:
            return DONE
        if _meta(vs).get("deletionTimestamp"):
            return await self.process_deletion(vs)
        source = (vs.get("spec") or {}).get("source") or {}
        pvc_name, content_name = source.get("persistentVolumeClaimName"), source.get("volumeSnapshotContentName")
        if bool(pvc_name) == bool(content_name):
            await self.error_status(vs, True, WARNING, REASON_VALIDATION_ERROR, MSG_VALIDATION_ERROR)
            raise SnapshotError(MSG_VALIDATION_ERROR)
        class_name = (vs.get("spec") or {}).get("volumeSnapshotClassName")
        if class_name:
            await self.check_class(vs, class_name)
        elif pvc_name:
            vs = await self.set_default_class(vs)
        # checkandAddSnapshotFinalizers looks the content up (with its error statuses) first.
        content = await (self.preprovisioned_content(vs) if content_name else self.dynamic_content(vs))
        try:
            vs = await self.add_snapshot_finalizers(vs, content)
        except ApiError as err:
            if err.code != 409:  # a conflict is just a retry with a fresh copy
                await self.recorder.event(vs, WARNING, REASON_FINALIZER_ERROR, MSG_FINALIZER_ERROR.format(
                    err=controller_update_error(snapshot_key(vs), err.message)))
            raise
        if not is_ready(vs) or not bound_content_name(vs):
            await self.sync_unready(vs)
        else:
            await self.sync_ready(vs)
        return DONE

    async def dynamic_content(self, vs: JSON) -> JSON | None:
        """getDynamicallyProvisionedContentFromStore: ``snapcontent-<uid>``, if it is ours."""
        name = dynamic_content_name(vs)
        content = await self._get(VSC, name)
        if content is None:
            return None
        if not ((content.get("spec") or {}).get("source") or {}).get("volumeHandle"):
            msg = MSG_DYNAMIC_MISMATCH.format(content=name)
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISMATCH, msg)
            raise SnapshotError(msg)
        if not ref_points_to(content, vs):
            msg = MSG_CONTENT_MISBOUND.format(content=name)
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISBOUND, msg)
            raise SnapshotError(msg)
        return content

    async def preprovisioned_content(self, vs: JSON) -> JSON | None:
        """getPreprovisionedContentFromStore: the named content, if pre-provisioned and pointing back."""
        name = ((vs.get("spec") or {}).get("source") or {}).get("volumeSnapshotContentName") or ""
        content = await self._get(VSC, name)
        if content is None:
            return None
        if not ((content.get("spec") or {}).get("source") or {}).get("snapshotHandle"):
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISMATCH, MSG_CONTENT_MISMATCH)
            raise SnapshotError(MSG_CONTENT_MISMATCH)
        if not ref_points_to(content, vs, allow_empty_uid=True):
            msg = MSG_CONTENT_MISBOUND.format(content=name)
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISBOUND, msg)
            raise SnapshotError(msg)
        return content

    async def add_snapshot_finalizers(self, vs: JSON, content: JSON | None) -> JSON:
        """Source protection on every live snapshot; bound protection once bound to a Delete content."""
        finalizers = list(_meta(vs).get("finalizers") or [])
        wanted = list(finalizers)
        if FINALIZER_VS_AS_SOURCE not in wanted:
            wanted.append(FINALIZER_VS_AS_SOURCE)
        if (content is not None and (content.get("spec") or {}).get("deletionPolicy") == "Delete"
                and bound_content_name(vs) and FINALIZER_VS_BOUND not in wanted):
            wanted.append(FINALIZER_VS_BOUND)
        if wanted == finalizers:
            return vs
        return await self._set_finalizers(VS, vs, wanted)

    async def check_class(self, vs: JSON, class_name: str) -> None:
        """checkAndUpdateSnapshotClass: a named class must exist."""
        if await self.snapshot_class(class_name) is not None:
            return
        msg = MSG_GET_CLASS_FAILED.format(err=class_not_found(class_name))
        await self.error_status(vs, False, WARNING, REASON_GET_CLASS_FAILED, msg)
        raise SnapshotError(msg)

    async def snapshot_class(self, name: str) -> JSON | None:
        return self.classes.get(name) or await self._get(VSCLASS, name)

    async def set_default_class(self, vs: JSON) -> JSON:
        """SetDefaultSnapshotClass: the one default class whose driver is the source PV's driver."""
        try:
            pv = await self.source_volume(vs)
            driver = ((pv.get("spec") or {}).get("csi") or {}).get("driver")
            if not driver:
                raise SnapshotError(ERR_NON_CSI_SNAPSHOT.format(key=snapshot_key(vs)))
            candidates = [c for c in self.classes.list()
                          if (_meta(c).get("annotations") or {}).get(ANN_SNAPSHOT_DEFAULT_CLASS) == "true"
                          and c.get("driver") == driver]
            if not candidates:
                raise SnapshotError(ERR_NO_DEFAULT_CLASS)
            if len(candidates) > 1:
                raise SnapshotError(ERR_MANY_DEFAULT_CLASSES.format(count=len(candidates)))
        except SnapshotError as err:
            await self.error_status(vs, False, WARNING, REASON_SET_DEFAULT_CLASS_FAILED,
                                    MSG_SET_DEFAULT_CLASS_FAILED.format(err=err))
            raise
        body = {"metadata": {"resourceVersion": _meta(vs).get("resourceVersion")},
                "spec": {"volumeSnapshotClassName": candidates[0]["metadata"]["name"]}}
        result: JSON = await self.client.patch(VS, vs["metadata"]["name"], body, vs["metadata"]["namespace"])
        return result

    async def source_claim(self, vs: JSON) -> JSON:
        """getClaimFromVolumeSnapshot."""
        pvc_name = ((vs.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName") or ""
        try:
            return await self.client.get("persistentvolumeclaims", pvc_name, vs["metadata"]["namespace"])
        except ApiError as err:
            # The lister's NotFound names the resource in the singular.
            text = f'persistentvolumeclaim "{pvc_name}" not found' if err.code == 404 else err.message
            raise SnapshotError(ERR_PVC_LOOKUP.format(pvc=pvc_name, err=go_quote(text))) from None

    async def source_volume(self, vs: JSON) -> JSON:
        """getVolumeFromVolumeSnapshot: the PV bound to the source claim (bound both ways)."""
        pvc = await self.source_claim(vs)
        pvc_name = pvc["metadata"]["name"]
        if (pvc.get("status") or {}).get("phase") != "Bound":
            raise SnapshotError(ERR_PVC_NOT_BOUND.format(pvc=pvc_name))
        pv_name = (pvc.get("spec") or {}).get("volumeName") or ""
        try:
            pv: JSON = await self.client.get("persistentvolumes", pv_name)
        except ApiError as err:
            raise SnapshotError(ERR_PV_LOOKUP.format(pv=pv_name, err=go_quote(err.message))) from None
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if (ref.get("name") != pvc_name or ref.get("namespace") != pvc["metadata"]["namespace"]
                or (ref.get("uid") and ref.get("uid") != pvc["metadata"].get("uid"))):
            raise SnapshotError(ERR_BINDING_BROKEN)
        return pv

    async def sync_unready(self, vs: JSON) -> None:
        source = (vs.get("spec") or {}).get("source") or {}
        if source.get("volumeSnapshotContentName"):
            await self.sync_preprovisioned(vs)
            return
        content = await self.dynamic_content(vs)
        if content is not None:
            await self.update_status(vs, content)
            return
        if not source.get("persistentVolumeClaimName"):
            msg = MSG_PVC_SOURCE_MISSING.format(ns=vs["metadata"]["namespace"], name=vs["metadata"]["name"])
            await self.error_status(vs, True, WARNING, REASON_PVC_SOURCE_MISSING, msg)
            raise SnapshotError(msg)
        try:
            content = await self.create_content(vs)
        except SnapshotError as err:
            await self.error_status(vs, True, WARNING, REASON_CONTENT_CREATION_FAILED,
                                    MSG_CONTENT_CREATION_FAILED.format(err=err))
            raise
        await self.update_status(vs, content)

    async def create_content(self, vs: JSON) -> JSON:
        """createSnapshotContent: protect the source PVC, gather the input, create ``snapcontent-<uid>``."""
        meta = vs["metadata"]
        await self.ensure_pvc_finalizer(vs)
        try:
            class_name = (vs.get("spec") or {}).get("volumeSnapshotClassName")
            if not class_name:
                raise SnapshotError(ERR_NO_CLASS.format(name=meta["name"]))
            snap_class = await self.snapshot_class(class_name)
            if snap_class is None:
                raise SnapshotError(class_not_found(class_name))
            pv = await self.source_volume(vs)
        except SnapshotError as err:
            raise SnapshotError(ERR_CREATE_INPUT.format(name=meta["name"], err=go_quote(err))) from None
        csi = (pv.get("spec") or {}).get("csi")
        if not csi:
            raise SnapshotError(ERR_NOT_CSI.format(pv=pv["metadata"]["name"]))
        name = dynamic_content_name(vs)
        content = new_content(vs, class_name, snap_class, pv)
        klog.info("createSnapshotContent: Creating content for snapshot %s through the plugin ...", snapshot_key(vs))
        try:
            created: JSON = await self.client.create(VSC, content)
        except ApiError as err:
            if err.code != 409:
                msg = MSG_CREATE_CONTENT_FAILED.format(key=snapshot_key(vs), err=err.message)
                await self.recorder.event(vs, WARNING, REASON_CREATE_CONTENT_FAILED, msg)
                raise SnapshotError(controller_update_error(snapshot_key(vs), err.message)) from None
            created = content  # already exists: reuse it, as upstream
        klog.info('"Created VolumeSnapshotContent" content="%s" snapshot="%s" volumeHandle="%s"', name,
                  snapshot_key(vs), csi.get("volumeHandle"))
        await self.recorder.event(vs, NORMAL, REASON_CREATING,
                                  MSG_CREATING.format(ns=meta["namespace"], name=meta["name"]))
        return created

    async def ensure_pvc_finalizer(self, vs: JSON) -> None:
        """ensurePVCFinalizer: keep the source claim while the snapshot is being cut."""
        try:
            pvc = await self.source_claim(vs)
        except SnapshotError:
            raise SnapshotError(controller_update_error(vs["metadata"]["name"], ERR_NO_CLAIM)) from None
        finalizers = list(_meta(pvc).get("finalizers") or [])
        if FINALIZER_PVC_AS_SOURCE in finalizers:
            return
        if _meta(pvc).get("deletionTimestamp"):
            raise SnapshotError(controller_update_error(pvc["metadata"]["name"], ERR_PVC_DELETING))
        try:
            await self._set_finalizers("persistentvolumeclaims", pvc, [*finalizers, FINALIZER_PVC_AS_SOURCE])
        except ApiError as err:
            raise SnapshotError(controller_update_error(pvc["metadata"]["name"], err.message)) from None

    async def sync_preprovisioned(self, vs: JSON) -> None:
        content = await self.preprovisioned_content(vs)
        if content is None:
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISSING, MSG_CONTENT_MISSING)
            raise SnapshotError(MSG_CONTENT_MISSING)
        try:
            content = await self.bind_content(vs, content)
        except (SnapshotError, ApiError) as err:
            text = err.message if isinstance(err, ApiError) else str(err)
            await self.error_status(vs, True, WARNING, REASON_BIND_FAILED, MSG_BIND_FAILED.format(err=text))
            raise SnapshotError(text) from None
        await self.update_status(vs, content)

    async def bind_content(self, vs: JSON, content: JSON) -> JSON:
        """checkandBindSnapshotContent: write the snapshot's uid (and class) into the content's ref."""
        spec = content.get("spec") or {}
        ref = spec.get("volumeSnapshotRef") or {}
        if ref.get("name") != vs["metadata"]["name"] or (ref.get("uid") and ref["uid"] != vs["metadata"]["uid"]):
            raise SnapshotError(ERR_REF_MISMATCH.format(snapshot=vs["metadata"]["name"],
                                                        content=content["metadata"]["name"]))
        class_name = (vs.get("spec") or {}).get("volumeSnapshotClassName")
        if ref.get("uid") and (spec.get("volumeSnapshotClassName") or not class_name):
            return content
        patch: JSON = {"metadata": {"resourceVersion": content["metadata"].get("resourceVersion")},
                       "spec": {"volumeSnapshotRef": {"uid": vs["metadata"]["uid"]}}}
        if class_name:
            patch["spec"]["volumeSnapshotClassName"] = class_name
        result: JSON = await self.client.patch(VSC, content["metadata"]["name"], patch)
        return result

    async def update_status(self, vs: JSON, content: JSON) -> JSON:
        """updateSnapshotStatus: mirror the content's status; SnapshotCreated/Ready on first sight."""
        cstatus = _status(content)
        created_ns = cstatus.get("creationTime")
        size = cstatus.get("restoreSize")
        ready = cstatus.get("readyToUse") is True
        error = cstatus.get("error")
        old = _status(vs)
        status = dict(old)
        if not status.get("boundVolumeSnapshotContentName"):
            status["boundVolumeSnapshotContentName"] = content["metadata"]["name"]
        if not status.get("creationTime") and isinstance(created_ns, int):
            status["creationTime"] = rfc3339(created_ns / 1e9)
        if status.get("readyToUse") is not ready:
            status["readyToUse"] = ready
            if ready:
                status.pop("error", None)
        if isinstance(size, int) and (not status.get("restoreSize") or (status["restoreSize"] == "0" and size > 0)):
            status["restoreSize"] = format_quantity(Decimal(size), "BinarySI")
        if error and status.get("error") != error:
            status["error"] = dict(error)
        elif not error:
            status.pop("error", None)
        if status == old:
            return vs
        try:
            updated = await self._update_vs_status(vs, status)
        except ApiError as err:
            if err.code != 409:
                await self.error_status(vs, False, WARNING, REASON_STATUS_UPDATE_FAILED,
                                        MSG_STATUS_UPDATE_FAILED.format(
                                            err=controller_update_error(snapshot_key(vs), err.message)))
            raise
        meta = vs["metadata"]
        if status.get("creationTime") and not old.get("creationTime"):
            await self.recorder.event(updated, NORMAL, REASON_CREATED,
                                      MSG_CREATED.format(ns=meta["namespace"], name=meta["name"]))
        if ready and old.get("readyToUse") is not True:
            await self.recorder.event(updated, NORMAL, REASON_READY,
                                      MSG_READY.format(ns=meta["namespace"], name=meta["name"]))
        return updated

    async def sync_ready(self, vs: JSON) -> None:
        content = await self._get(VSC, bound_content_name(vs) or "")
        if content is None:
            await self.error_status(vs, True, WARNING, REASON_CONTENT_MISSING, MSG_CONTENT_MISSING)
            return
        if not ref_points_to(content, vs):
            await self.error_status(vs, True, WARNING, REASON_MISBOUND, MSG_MISBOUND)

    # ------------------------------------------------------------------ deletion

    def restore_pending(self, vs: JSON) -> bool:
        """isVolumeBeingCreatedFromSnapshot: a Pending PVC in the namespace restores from it."""
        ns, name = vs["metadata"]["namespace"], vs["metadata"]["name"]
        for pvc in self.claims.list(ns):
            source = (pvc.get("spec") or {}).get("dataSource") or {}
            if (source.get("kind") == "VolumeSnapshot" and source.get("name") == name
                    and source.get("apiGroup") == GROUP and (pvc.get("status") or {}).get("phase") == "Pending"):
                return True
        return False

    async def process_deletion(self, vs: JSON) -> Result:
        """processSnapshotWithDeletionTimestamp + checkandRemoveSnapshotFinalizersAndCheckandDeleteContent:
        wait for restores, mark the content being-deleted, delete it (Delete), drop our finalizers
        (the bound one only once a Delete content is gone)."""
        meta = _meta(vs)
        finalizers = list(meta.get("finalizers") or [])
        if FINALIZER_VS_AS_SOURCE not in finalizers and FINALIZER_VS_BOUND not in finalizers:
            return DONE  # not a deletion candidate (anything left is someone else's)
        source = (vs.get("spec") or {}).get("source") or {}
        name = bound_content_name(vs) or (dynamic_content_name(vs) if source.get("persistentVolumeClaimName") else "")
        content = await self._get(VSC, name) if name else None
        if content is not None and not ref_points_to(content, vs):
            content = None  # not bound both ways: never touch it
        delete_content = content is not None and content["spec"].get("deletionPolicy") == "Delete"
        if content is not None and self.restore_pending(vs):
            await self.recorder.event(vs, WARNING, REASON_DELETE_PENDING, MSG_DELETE_PENDING)
            raise SnapshotError(MSG_DELETE_PENDING)
        if content is not None:
            if (_meta(content).get("annotations") or {}).get(ANN_BEING_DELETED) != "yes":
                content = await self._annotate(VSC, content, ANN_BEING_DELETED, "yes")
            if delete_content and not _meta(content).get("deletionTimestamp"):
                try:
                    await self.client.delete(VSC, content["metadata"]["name"])
                except ApiError as err:
                    if err.code != 404:
                        await self.recorder.event(vs, WARNING, REASON_CONTENT_DELETE_ERROR, MSG_CONTENT_DELETE_ERROR)
                        raise SnapshotError(ERR_DELETE_CONTENT.format(
                            content=content["metadata"]["name"], err=go_quote(err.message))) from None
        # The source claim no longer needs protecting on this snapshot's account.
        pvc = source.get("persistentVolumeClaimName")
        if pvc:
            await self.sync_source_pvc(meta["namespace"], pvc, skip=meta["name"])
        drop = {FINALIZER_VS_AS_SOURCE} | (set() if delete_content else {FINALIZER_VS_BOUND})
        kept = [f for f in finalizers if f not in drop]
        if kept != finalizers:
            try:
                await self._set_finalizers(VS, vs, kept)
            except ApiError as err:
                if err.code != 404:
                    raise
        return DONE  # a deleted content's DELETED event brings us back for the bound finalizer

    # ------------------------------------------------------------------ contents

    async def sync_content(self, name: str) -> Result:
        """syncContent: the bound finalizer once the ref has a uid; being-deleted once its snapshot is
        going. A content whose snapshot is gone is left alone (upstream: never risk the data)."""
        content = await self._get(VSC, name)
        if content is None:
            return DONE
        ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
        if not ref.get("uid"):
            return DONE  # pre-bound to a snapshot that has not claimed it yet
        meta = _meta(content)
        if not meta.get("deletionTimestamp") and FINALIZER_VSC_BOUND not in (meta.get("finalizers") or []):
            await self._set_finalizers(VSC, content, [*(meta.get("finalizers") or []), FINALIZER_VSC_BOUND])
            return DONE
        vs = self.snapshots.get(ref.get("name", ""), ref.get("namespace"))
        if vs is None or vs["metadata"].get("uid") != ref.get("uid"):
            return DONE
        vs_meta = _meta(vs)
        candidate = vs_meta.get("deletionTimestamp") and (
            FINALIZER_VS_AS_SOURCE in (vs_meta.get("finalizers") or [])
            or FINALIZER_VS_BOUND in (vs_meta.get("finalizers") or []))
        if candidate and (meta.get("annotations") or {}).get(ANN_BEING_DELETED) != "yes":
            await self._annotate(VSC, content, ANN_BEING_DELETED, "yes")
        return DONE

    # ------------------------------------------------------------------ source PVCs

    async def sync_source_pvc(self, namespace: str, name: str, skip: str | None = None) -> Result:
        """checkandRemovePVCFinalizer: drop the protection once no snapshot of it is still in flight
        (``skip``: the snapshot being deleted, which no longer counts)."""
        pvc = await self._get("persistentvolumeclaims", name, namespace)
        if pvc is None:
            return DONE
        finalizers = list(_meta(pvc).get("finalizers") or [])
        if FINALIZER_PVC_AS_SOURCE not in finalizers:
            return DONE
        for vs in self.snapshots.list(namespace):
            source = (vs.get("spec") or {}).get("source") or {}
            if vs["metadata"]["name"] == skip:
                continue
            if source.get("persistentVolumeClaimName") == name and not is_ready(vs):
                return DONE
        await self._set_finalizers("persistentvolumeclaims", pvc,
                                   [f for f in finalizers if f != FINALIZER_PVC_AS_SOURCE])
        return DONE
