"""The attach/detach controller and the CSI external-attacher.

Two loops, as in a real cluster:

* :class:`AttachDetachController` (kube-controller-manager's ``attachdetach-controller``) works
  per PersistentVolume: the nodes that *should* have the volume are the nodes of the scheduled,
  not-terminated pods using its claim; for a CSI volume whose CSIDriver requires attach it
  creates a VolumeAttachment ``csi-<sha256(volumeHandle+driver+node)>`` per such node and deletes
  the ones no pod needs any more. A single-node volume (no ReadWriteMany/ReadOnlyMany) already
  attached elsewhere is not attached a second time: the pods get the upstream ``Multi-Attach
  error`` once. Outcomes reported by the attacher become ``SuccessfulAttachVolume`` /
  ``FailedAttachVolume`` events on the pods, with the upstream texts.
* :class:`CSIAttacher` (the ``csi-attacher`` sidecar) works per VolumeAttachment: it adds its
  finalizer (on the VolumeAttachment and on the PV), calls ControllerPublishVolume through the
  CSI driver (which attaches the cloud disk to the node's instance, same zone only) and writes
  ``status.attached`` or ``status.attachError``; on deletion it calls ControllerUnpublishVolume
  and drops its finalizers.

Both talk to the API only through the client and to storage only through the CSI protocol.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Backoff, Controller, Key, Result
from ...clock import Clock, rfc3339
from ...config import ClusterConfig, timings_of
from ...csi import spec
from ...csi.calls import CsiCallError, call_driver
from ...kube.attachments import attach_required, attachment_name, pod_claims
from ...logs import klog

log = logging.getLogger(__name__)

VA_RESOURCE = "volumeattachments"
ADC_COMPONENT = "attachdetach-controller"
NODE_ID_ANNOTATION = "csi.volume.kubernetes.io/nodeid"
VA_NODE_ID_ANNOTATION = "csi.alpha.kubernetes.io/node-id"
FINALIZER_PREFIX = "external-attacher/"

# pkg/controller/volume/attachdetach/reconciler (reportMultiAttachError) and
# pkg/volume/util/operationexecutor (GenerateMsg: "%v for volume %q %v").
EVENT_FAILED_ATTACH = "FailedAttachVolume"
EVENT_SUCCESSFUL_ATTACH = "SuccessfulAttachVolume"
MSG_VOLUME = '{prefix} for volume "{volume}" {suffix}'
PREFIX_MULTI_ATTACH = "Multi-Attach error"
PREFIX_ATTACH_FAILED = "AttachVolume.Attach failed"
PREFIX_ATTACH_SUCCEEDED = "AttachVolume.Attach succeeded"
MSG_EXCLUSIVELY_ATTACHED = "Volume is already exclusively attached to one node and can't be attached to another"
MSG_USED_BY_PODS = "Volume is already used by pod(s) {pods}"
MSG_USED_BY_PODS_AND_OTHERS = "Volume is already used by pod(s) {pods} and {count} pod(s) in different namespaces"
MSG_USED_IN_OTHER_NAMESPACES = "Volume is already used by {count} pod(s) in different namespaces"
# external-attacher csi_handler.go
MSG_NO_NODE_ID = 'node "{node}" has no NodeID annotation'
MSG_PV_NOT_FOUND = 'persistentvolume "{name}" not found'

MULTI_ATTACH_MODES = ("ReadWriteMany", "ReadOnlyMany")
RETRY_START = 1.0
RETRY_MAX = 300.0


# ---------------------------------------------------------------- helpers


def finalizer_name(driver: str) -> str:
    """``external-attacher/<driver with every character outside [a-zA-Z0-9-] as '-'>``."""
    return FINALIZER_PREFIX + re.sub(r"[^a-zA-Z0-9-]", "-", driver)


def pod_terminated(pod: JSON) -> bool:
    """util.IsPodTerminated: a terminal phase, or deleting with no container still running."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return True
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return not any((cs.get("state") or {}).get("running") for cs in status.get("containerStatuses") or [])
    return False


def multi_attach_allowed(pv: JSON) -> bool:
    """util.IsMultiAttachAllowed for a PV: no access modes, or any of RWX/ROX."""
    modes = (pv.get("spec") or {}).get("accessModes") or []
    return not modes or any(m in MULTI_ATTACH_MODES for m in modes)


def volume_message(prefix: str, volume: str, suffix: str) -> str:
    return MSG_VOLUME.format(prefix=prefix, volume=volume, suffix=suffix)


def multi_attach_suffix(namespace: str, users: list[tuple[str, str]]) -> str:
    """reportMultiAttachError: name the pods on other nodes that use the volume, but only those in
    the waiting pod's namespace (others are counted); no such pod means "exclusively attached"."""
    if not users:
        return MSG_EXCLUSIVELY_ATTACHED
    local = [name for ns, name in users if ns == namespace]
    foreign = len(users) - len(local)
    if local and foreign:
        return MSG_USED_BY_PODS_AND_OTHERS.format(pods=", ".join(local), count=foreign)
    if local:
        return MSG_USED_BY_PODS.format(pods=", ".join(local))
    return MSG_USED_IN_OTHER_NAMESPACES.format(count=foreign)


def _va_pv(va: JSON | None) -> str:
    return str((((va or {}).get("spec") or {}).get("source") or {}).get("persistentVolumeName") or "")


VA_PV_INDEX = "attach-detach:pv"
VA_NODE_INDEX = "attach-detach:node"


def _va_pv_index(va: JSON) -> list[str]:
    """VolumeAttachments by the PV they attach, so a PV sync does not walk every attachment."""
    pv = _va_pv(va)
    return [pv] if pv else []


def _va_node_index(va: JSON) -> list[str]:
    node = (va.get("spec") or {}).get("nodeName")
    return [str(node)] if node else []


# ---------------------------------------------------------------- attach/detach controller


class AttachDetachController(Controller):
    """Desired attachments from scheduled pods; VolumeAttachments created and deleted to match."""

    name = ADC_COMPONENT

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, ADC_COMPONENT, clock)
        self._claim_pods: dict[tuple[str, str], set[tuple[str, str]]] = {}
        self._pv_vas: dict[str, set[str]] = {}
        self._multi_reported: set[tuple[str, str]] = set()
        self._success_reported: set[str] = set()
        self._error_reported: dict[str, str] = {}

    def setup(self) -> None:
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pvcs = self.informer("persistentvolumeclaims", key_of=self._pvc_keys)
        self.pvs = self.informer("persistentvolumes", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])
        self.vas = self.informer(VA_RESOURCE, key_of=self._va_keys)
        self.vas.add_index(VA_NODE_INDEX, _va_node_index)
        self.nodes = self.informer("nodes", key_of=self._node_keys)
        self.csidrivers = self.informer("csidrivers")

    # ---- event mapping (and the small indexes the reconcile needs)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        meta = obj.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        claims = {c for _, c in pod_claims(obj)} | {c for _, c in pod_claims(old or {})}
        for claim in claims:
            members = self._claim_pods.setdefault((ns, claim), set())
            if event == "DELETED":
                members.discard((ns, name))
            else:
                members.add((ns, name))
        return [pv for claim in claims if (pv := self._claim_volume(ns, claim))]

    def _pvc_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        names = {((o or {}).get("spec") or {}).get("volumeName") for o in (obj, old)}
        return [str(n) for n in names if n]

    def _va_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        pv, name = _va_pv(obj), obj["metadata"]["name"]
        if pv:
            if event == "DELETED":
                self._pv_vas.get(pv, set()).discard(name)
                self._success_reported.discard(str(obj["metadata"].get("uid")))
                self._error_reported.pop(name, None)
            else:
                self._pv_vas.setdefault(pv, set()).add(name)
            return [pv]
        return []

    def _node_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "MODIFIED":
            return []
        node = obj["metadata"]["name"]
        return sorted({pv for va in self.vas.by_index(VA_NODE_INDEX, node) if (pv := _va_pv(va))})

    def _claim_volume(self, ns: str, claim: str) -> str | None:
        pvc = self.pvcs.get(claim, ns)
        name = ((pvc or {}).get("spec") or {}).get("volumeName")
        return str(name) if name else None

    # ---- desired state

    def desired_nodes(self, pv: JSON) -> dict[str, list[JSON]]:
        """node -> pods that need ``pv`` attached there (scheduled, not terminated)."""
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        ns, claim = str(ref.get("namespace") or ""), str(ref.get("name") or "")
        pvc = self.pvcs.get(claim, ns) if claim else None
        if pvc is None or (pvc.get("spec") or {}).get("volumeName") != pv["metadata"]["name"] \
                or (pvc.get("status") or {}).get("phase") != "Bound":
            return {}
        out: dict[str, list[JSON]] = {}
        for pns, pname in sorted(self._claim_pods.get((ns, claim), ())):
            pod = self.pods.get(pname, pns)
            if pod is None or pod_terminated(pod):
                continue
            node = (pod.get("spec") or {}).get("nodeName")
            if node and self.nodes.get(node) is not None:
                out.setdefault(node, []).append(pod)
        for pods in out.values():
            pods.sort(key=lambda p: (p["metadata"].get("creationTimestamp") or "", p["metadata"]["name"]))
        return out

    def _needs_attach(self, pv: JSON | None) -> bool:
        csi = ((pv or {}).get("spec") or {}).get("csi")
        if not csi or not csi.get("driver") or not csi.get("volumeHandle"):
            return False
        return attach_required(self.csidrivers.get(str(csi["driver"])))

    # ---- reconcile

    async def reconcile(self, key: Key) -> Result:
        pv = self.pvs.get(key)
        vas = [va for n in sorted(self._pv_vas.get(key, ())) if (va := self.vas.get(n)) is not None]
        desired = self.desired_nodes(pv) if pv is not None and self._needs_attach(pv) else {}
        existing: dict[str, JSON] = {str((va.get("spec") or {}).get("nodeName")): va for va in vas}
        for node, va in existing.items():
            if node not in desired and not va["metadata"].get("deletionTimestamp"):
                await self._delete(va)
        if pv is None or not desired:
            self._multi_reported = {k for k in self._multi_reported if k[0] != key}
            return DONE
        csi = pv["spec"]["csi"]
        order = sorted(desired, key=lambda n: (desired[n][0]["metadata"].get("creationTimestamp") or "", n))
        single = not multi_attach_allowed(pv)
        for node in order:
            va = existing.get(node)
            if va is not None:
                self._multi_reported.discard((key, node))
                await self._report(key, va, desired[node])
                continue
            others = [n for n in existing if n != node]
            if single and others:
                if (key, node) not in self._multi_reported:
                    await self._report_multi_attach(key, desired[node], others, desired)
                    self._multi_reported.add((key, node))
                continue
            existing[node] = await self._create(key, str(csi["driver"]), str(csi["volumeHandle"]), node)
        self._multi_reported = {k for k in self._multi_reported if k[0] != key or k[1] in desired}
        return DONE

    async def _create(self, pv: str, driver: str, handle: str, node: str) -> JSON:
        name = attachment_name(handle, driver, node)
        body = {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": {"name": name},
                "spec": {"attacher": driver, "nodeName": node, "source": {"persistentVolumeName": pv}}}
        try:
            created: JSON = await self.client.create(VA_RESOURCE, body)
            return created
        except ApiError as err:
            if err.code != 409:
                raise
            current: JSON = await self.client.get(VA_RESOURCE, name)
            return current

    async def _delete(self, va: JSON) -> None:
        try:
            await self.client.delete(VA_RESOURCE, va["metadata"]["name"])
        except ApiError as err:
            if err.code != 404:
                raise

    async def _report(self, pv: str, va: JSON, pods: list[JSON]) -> None:
        """Turn what the attacher wrote into the operation's events on the pods (once each)."""
        if va["metadata"].get("deletionTimestamp"):
            return
        status = va.get("status") or {}
        uid = str(va["metadata"].get("uid"))
        if status.get("attached"):
            if uid not in self._success_reported:
                self._success_reported.add(uid)
                msg = volume_message(PREFIX_ATTACH_SUCCEEDED, pv, "")
                for pod in pods:
                    await self.recorder.event(pod, NORMAL, EVENT_SUCCESSFUL_ATTACH, msg)
            return
        error = status.get("attachError") or {}
        if error.get("message"):
            seen = f"{error.get('time')}|{error['message']}"
            if self._error_reported.get(va["metadata"]["name"]) != seen:
                self._error_reported[va["metadata"]["name"]] = seen
                msg = volume_message(PREFIX_ATTACH_FAILED, pv, f": {error['message']}")
                for pod in pods:
                    await self.recorder.event(pod, WARNING, EVENT_FAILED_ATTACH, msg)

    async def _report_multi_attach(self, pv: str, pods: list[JSON], other_nodes: list[str],
                                   desired: Mapping[str, list[JSON]]) -> None:
        users = [(str(p["metadata"].get("namespace") or ""), str(p["metadata"]["name"]))
                 for n in other_nodes for p in desired.get(n, ())]
        for pod in pods:
            suffix = multi_attach_suffix(str(pod["metadata"].get("namespace") or ""), users)
            await self.recorder.event(pod, WARNING, EVENT_FAILED_ATTACH,
                                      volume_message(PREFIX_MULTI_ATTACH, pv, suffix))


# ---------------------------------------------------------------- external-attacher


class _Retry(Exception):
    """A CSI call or lookup failed; the attacher retries with exponential backoff (1 s to 5 min)."""


class CSIAttacher(Controller):
    """The csi-attacher sidecar for every CSI driver of the cluster."""

    name = "csi-attacher"
    workers = 10
    backoff = Backoff(RETRY_START, RETRY_MAX)
    #: A failed CSI call or lookup, already saved as attachError/detachError: retried quietly.
    expected_errors = (_Retry,)

    def __init__(self, client: Client, clock: Clock, drivers: Mapping[str, spec.CsiDriver] | None = None,
                 config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        self.drivers: Mapping[str, spec.CsiDriver] = drivers if drivers is not None else {}
        #: Extra time before ControllerPublish (the cloud's own attach time comes on top).
        self.attach_delay = timings_of(config).volumeAttachDelay
        self._attach_due: dict[str, float] = {}

    def setup(self) -> None:
        self.vas = self.informer(VA_RESOURCE, key_of=self._va_keys)
        self.vas.add_index(VA_PV_INDEX, _va_pv_index)
        self.pvs = self.informer("persistentvolumes", key_of=self._pv_keys)
        self.csinodes = self.informer("csinodes")
        self.nodes = self.informer("nodes")

    def _va_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED":
            pv = _va_pv(obj)
            return [f"pv/{pv}"] if pv else []
        if event == "MODIFIED" and old is not None and _without_errors(obj) == _without_errors(old):
            return []  # shouldEnqueueVAChange: our own attachError/detachError writes wait for the backoff
        return [f"va/{obj['metadata']['name']}"]

    def _pv_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        finalizers = (obj.get("metadata") or {}).get("finalizers") or []
        if event != "DELETED" and any(f.startswith(FINALIZER_PREFIX) for f in finalizers):
            return [f"pv/{obj['metadata']['name']}"]
        return []

    async def reconcile(self, key: Key) -> Result:
        kind, _, name = key.partition("/")
        if kind == "pv":
            await self._sync_pv(name)
            return DONE
        va = self.vas.get(name)
        if va is None:
            self._attach_due.pop(name, None)
            return DONE
        driver_name = str((va.get("spec") or {}).get("attacher") or "")
        driver = self.drivers.get(driver_name)
        if driver is None:
            return DONE  # no attacher runs for this driver: the attachment stays pending, as upstream
        try:
            if va["metadata"].get("deletionTimestamp"):
                await self._detach(va, driver_name, driver)
            else:
                await self._attach(va, driver_name, driver)
        except _Wait as wait:
            return Result(requeue_after=wait.seconds)
        self._attach_due.pop(name, None)
        return DONE

    # ---- attach

    async def _attach(self, va: JSON, driver_name: str, driver: spec.CsiDriver) -> None:
        name = va["metadata"]["name"]
        if (va.get("status") or {}).get("attached"):
            return
        fin = finalizer_name(driver_name)
        node = str(va["spec"].get("nodeName") or "")
        pv_name = _va_pv(va)
        pv = await self._pv(pv_name)
        if pv is None:
            await self._save_error(name, "attachError", MSG_PV_NOT_FOUND.format(name=pv_name))
            raise _Retry("pv missing")
        node_id = self._node_id(driver_name, node)
        if node_id is None:
            await self._save_error(name, "attachError", MSG_NO_NODE_ID.format(node=node))
            raise _Retry("no node id")
        await self._ensure_pv_finalizer(pv, fin)
        meta = va["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        annotations = meta.get("annotations") or {}
        if fin not in finalizers or annotations.get(VA_NODE_ID_ANNOTATION) != node_id:
            patch: JSON = {"metadata": {"finalizers": finalizers + ([fin] if fin not in finalizers else []),
                                        "annotations": {VA_NODE_ID_ANNOTATION: node_id}}}
            await self.client.patch(VA_RESOURCE, name, patch)
        if self.attach_delay > 0:
            due = self._attach_due.setdefault(name, self.clock.now() + self.attach_delay)
            if self.clock.now() < due:
                raise _Wait(due - self.clock.now())
        csi = pv["spec"]["csi"]
        request = spec.ControllerPublishVolumeRequest(
            volume_id=str(csi["volumeHandle"]), node_id=node_id, volume_capability=volume_capability(pv),
            readonly=bool(csi.get("readOnly")), volume_context=dict(csi.get("volumeAttributes") or {}))
        klog.info('"Attaching" VolumeAttachment="%s" volumeID="%s" node="%s"', name, request.volume_id, node)
        try:
            response = await call_driver(driver.controller_publish_volume, request)
        except CsiCallError as err:
            klog.info('"Attach failed" VolumeAttachment="%s" err=%s', name, str(err))
            await self._save_error(name, "attachError", str(err))
            raise _Retry(str(err)) from None
        context = dict(getattr(response, "publish_context", None) or {})
        status: JSON = {"attached": True, "attachError": None}
        if context:
            status["attachmentMetadata"] = context
        await self.client.patch(VA_RESOURCE, name, {"status": status}, subresource="status")
        klog.info('"Attached" VolumeAttachment="%s"', name)

    # ---- detach

    async def _detach(self, va: JSON, driver_name: str, driver: spec.CsiDriver) -> None:
        name = va["metadata"]["name"]
        fin = finalizer_name(driver_name)
        finalizers = list(va["metadata"].get("finalizers") or [])
        if fin not in finalizers:
            return
        pv = await self._pv(_va_pv(va))
        node = str(va["spec"].get("nodeName") or "")
        node_id = (va["metadata"].get("annotations") or {}).get(VA_NODE_ID_ANNOTATION) \
            or self._node_id(driver_name, node)
        csi = ((pv or {}).get("spec") or {}).get("csi") or {}
        if csi.get("volumeHandle") and node_id:
            request = spec.ControllerUnpublishVolumeRequest(volume_id=str(csi["volumeHandle"]), node_id=node_id)
            try:
                await call_driver(driver.controller_unpublish_volume, request)
            except CsiCallError as err:
                await self._save_error(name, "detachError", str(err))
                raise _Retry(str(err)) from None
        try:
            await self.client.patch(VA_RESOURCE, name, {"metadata": {"finalizers": [f for f in finalizers if f != fin]}})
        except ApiError as err:
            if err.code != 404:
                raise

    async def _sync_pv(self, pv_name: str) -> None:
        """Drop our PV finalizer once no VolumeAttachment of that driver names the PV."""
        pv = self.pvs.get(pv_name)
        if pv is None:
            return
        finalizers = list(pv["metadata"].get("finalizers") or [])
        in_use = {finalizer_name(str(va["spec"].get("attacher") or ""))
                  for va in self.vas.by_index(VA_PV_INDEX, pv_name)}
        kept = [f for f in finalizers if not f.startswith(FINALIZER_PREFIX) or f in in_use]
        if kept != finalizers:
            try:
                await self.client.patch("persistentvolumes", pv_name, {"metadata": {"finalizers": kept}})
            except ApiError as err:
                if err.code != 404:
                    raise

    # ---- helpers

    async def _pv(self, name: str) -> JSON | None:
        if not name:
            return None
        pv = self.pvs.get(name)
        if pv is not None:
            return pv
        try:
            live: JSON = await self.client.get("persistentvolumes", name)
            return live
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def _ensure_pv_finalizer(self, pv: JSON, fin: str) -> None:
        finalizers = list(pv["metadata"].get("finalizers") or [])
        if fin not in finalizers:
            await self.client.patch("persistentvolumes", pv["metadata"]["name"],
                                    {"metadata": {"finalizers": finalizers + [fin]}})

    def _node_id(self, driver: str, node: str) -> str | None:
        """The driver's node ID: CSINode first, then the Node annotation (external-attacher getNodeID)."""
        csinode = self.csinodes.get(node)
        for entry in ((csinode or {}).get("spec") or {}).get("drivers") or []:
            if entry.get("name") == driver and entry.get("nodeID"):
                return str(entry["nodeID"])
        annotation = (((self.nodes.get(node) or {}).get("metadata") or {}).get("annotations") or {}).get(
            NODE_ID_ANNOTATION)
        if annotation:
            try:
                ids = json.loads(annotation)
            except ValueError:
                ids = {}
            if isinstance(ids, dict) and ids.get(driver):
                return str(ids[driver])
        return None

    async def _save_error(self, name: str, field: str, message: str) -> None:
        status: JSON = {field: {"time": rfc3339(self.clock.now()), "message": message}}
        if field == "attachError":
            status["attached"] = False
        try:
            await self.client.patch(VA_RESOURCE, name, {"status": status}, subresource="status")
        except ApiError as err:
            if err.code != 404:
                raise


def _without_errors(va: JSON) -> JSON:
    meta = {k: v for k, v in (va.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    status = {k: v for k, v in (va.get("status") or {}).items() if k not in ("attachError", "detachError")}
    status["attached"] = bool(status.get("attached"))
    return {**va, "metadata": meta, "status": status}


class _Wait(Exception):
    """Not yet: come back after ``seconds`` (a configured delay)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


_ACCESS_MODES = {"ReadWriteOnce": spec.AccessMode.SINGLE_NODE_WRITER,
                 "ReadOnlyMany": spec.AccessMode.MULTI_NODE_READER_ONLY,
                 "ReadWriteMany": spec.AccessMode.MULTI_NODE_MULTI_WRITER,
                 "ReadWriteOncePod": spec.AccessMode.SINGLE_NODE_SINGLE_WRITER}


def volume_capability(pv: JSON) -> spec.VolumeCapability:
    """The capability external-attacher sends: the PV's first access mode, block or mount + fsType."""
    pv_spec = pv.get("spec") or {}
    modes = pv_spec.get("accessModes") or ["ReadWriteOnce"]
    mode = _ACCESS_MODES.get(str(modes[0]), spec.AccessMode.UNKNOWN)
    if pv_spec.get("volumeMode") == "Block":
        return spec.VolumeCapability(access_mode=mode, block=True)
    fs_type = str(((pv_spec.get("csi") or {}).get("fsType")) or "")
    return spec.VolumeCapability(access_mode=mode, mount=spec.MountVolume(
        fs_type=fs_type, mount_flags=list(pv_spec.get("mountOptions") or [])))
