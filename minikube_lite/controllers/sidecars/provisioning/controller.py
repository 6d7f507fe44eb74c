"""The CSI external-provisioner controller: one instance per CSI driver (storage.md §3).

Why one instance per driver, as upstream runs one ``csi-provisioner`` sidecar next to each
driver's controller plugin: each instance only answers for claims whose
``volume.kubernetes.io/storage-provisioner`` names its driver, and its events carry its own
``<driver>_<host>_<uuid>`` source, exactly as ``kubectl describe pvc`` shows on a real cluster.

Everything goes through the API client and the CSI protocol; the cloud is never touched. The
operation is idempotent by construction: the volume name is ``pvc-<claim uid>`` and CreateVolume
is idempotent by name in every driver, so a provisioner that dies half-way through and a new one
that starts over still end up with exactly one disk.

This module keeps the control loop (claims, data-source finalizers, deletion); the rules it
applies live next to it: ``requests``, ``topology`` and ``accessibility`` (the requisite and
preferred topologies, with the aggregated-topology cache) build the CSI request, ``restore``
checks data sources, ``persistent_volume`` builds the PV, ``driver`` makes the CSI calls.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import random
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ....client.base import JSON, ApiError, Client
from ....client.events import NORMAL, WARNING, EventRecorder
from ....client.informer import Informer
from ....client.runtime import (
    DONE,
    RETRY,
    Backoff,
    Controller,
    Key,
    PerDriverControllers,
    Result,
    get_or_none,
    split_key,
)
from ....clock import Clock
from ....config import timings_of
from ....csi import spec
from ....csi.calls import CsiCallError
from ....kube.meta import annotations_of
from ....kube.names import ANN_PROVISIONED_BY, ANN_SELECTED_NODE
from ....kube.volumes import claim_class
from ....logs import klog
from . import restore
from .accessibility import AccessibilityRequirements
from .driver import Capabilities, create_volume, delete_volume, get_capabilities
from .errors import IgnoredClaim, ProvisioningError
from .fields import (
    claim_provisioner,
    data_source,
    deleting,
    has_finalizer,
    is_block,
    json_pointer,
    limit_bytes,
    nskey,
    pv_name_for,
    request_bytes,
)
from .messages import (
    CLONE_FINALIZER,
    MSG_CAPACITY_TOO_SMALL,
    MSG_DATASOURCE_HANDLE,
    MSG_EXTERNAL_POPULATOR,
    MSG_INFEASIBLE,
    MSG_NODE_NOT_FOUND,
    MSG_PROVISION_FAILED,
    MSG_PROVISIONING,
    MSG_PROVISIONING_SUCCEEDED,
    MSG_SAVE_PV_FAILED,
    MSG_SELECTOR_UNSUPPORTED,
    MSG_STILL_ATTACHED,
    PV_FINALIZER,
    PVC_KIND,
    REASON_PROVISIONING,
    REASON_PROVISIONING_FAILED,
    REASON_PROVISIONING_SUCCEEDED,
    REASON_VOLUME_FAILED_DELETE,
    SNAPSHOT_KIND,
    SNAPSHOT_SOURCE_FINALIZER,
    VS_RESOURCE,
)
from .persistent_volume import build_pv
from .requests import VolumeRequest, split_parameters

log = logging.getLogger(__name__)

#: How much slower an infeasible (InvalidArgument) claim is retried than an ordinary failure:
#: retrying a request the driver has called invalid rarely helps until someone edits something.
INFEASIBLE_BACKOFF_FACTOR = 10


def default_host(driver: str) -> str:
    """A stable, pod-like host name for the provisioner of ``driver`` (``csi-provisioner-<rs>-<pod>``)."""
    digest = hashlib.sha256(driver.encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    pod = "".join(alphabet[int(digest[i:i + 2], 16) % len(alphabet)] for i in range(10, 20, 2))
    return f"csi-provisioner-{digest[:10]}-{pod}"


class ExternalProvisioner(Controller):
    """external-provisioner + sig-storage-lib-external-provisioner for one CSI driver."""

    #: external-provisioner --worker-threads (default 100: that many CreateVolume calls in flight).
    workers = 100

    def __init__(self, client: Client, clock: Clock, driver_name: str, driver: spec.CsiDriver, *,
                 config: Any = None, host: str | None = None, strict_topology: bool = False,
                 immediate_topology: bool = True, shared_informers: dict[str, Informer] | None = None,
                 rng: random.Random | None = None) -> None:
        super().__init__(client, clock)
        rng = rng or random.Random()
        #: Informers shared with the other drivers' provisioners (one watch per resource, not per driver).
        self.shared_informers = shared_informers if shared_informers is not None else {}
        self.name = f"csi-provisioner-{driver_name}"
        self.driver_name = driver_name
        self.driver = driver
        self.strict_topology = strict_topology
        self.immediate_topology = immediate_topology
        timings = timings_of(config)
        self.use_backoff(Backoff(timings.provisionerRetryInitial, timings.provisionerRetryMax))
        self.host = host or default_host(driver_name)
        #: ``<driver>_<host>_<uuid>``, the event source external-provisioner uses.
        self.component = f"{driver_name}_{self.host}_{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        self.identity = f"{int(clock.now() * 1000)}-{rng.randrange(10000)}-{driver_name}"
        self.recorder = EventRecorder(client, self.component, clock)
        # Event names are ``<object>.<nanoseconds + counter>``: on a virtual clock two recorders
        # writing about one claim at the same instant would pick the same name and the second
        # event would be lost. Start this recorder's counter far from the others'.
        self.recorder._counter = rng.randrange(1 << 20, 1 << 30)
        self._caps: Capabilities | None = None

    # ------------------------------------------------------------ wiring

    def informer(self, resource: str, *, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None,
                 key_of: Callable[[str, JSON, JSON | None], Iterable[Key]] | None = None,
                 transform: Callable[[JSON], JSON] | None = None) -> Informer:
        """As the base class, but reusing a cache another provisioner instance already keeps."""
        plain = not (namespace or label_selector or field_selector or transform)
        shared = self.shared_informers.get(resource)
        if plain and shared is not None and resource not in self.informers:
            self.informers[resource] = shared
        inf = super().informer(resource, namespace=namespace, label_selector=label_selector,
                               field_selector=field_selector, key_of=key_of, transform=transform)
        if plain:
            self.shared_informers.setdefault(resource, inf)
        return inf

    async def start(self) -> None:
        await super().start()
        # A shared informer another instance started first has already announced what it holds;
        # look at every cached claim and volume once (keys deduplicate in the queue).
        for claim in self.claims.list():
            for key in self._claim_keys("ADDED", claim, None):
                self.queue.add(key)
        for volume in self.volumes.list():
            for key in self._volume_keys("ADDED", volume, None):
                self.queue.add(key)

    def setup(self) -> None:
        self.claims = self.informer("persistentvolumeclaims", key_of=self._claim_keys)
        self.volumes = self.informer("persistentvolumes", key_of=self._volume_keys)
        self.classes = self.informer("storageclasses", key_of=self._class_keys)
        self.nodes = self.informer("nodes", key_of=self._node_changed)
        self.csinodes = self.informer("csinodes", key_of=self._csinode_changed)
        self.attachments = self.informer("volumeattachments")
        self.accessibility = AccessibilityRequirements(
            self.client, self.driver_name, self.nodes, self.csinodes, strict_topology=self.strict_topology,
            immediate_topology=self.immediate_topology)

    def _node_changed(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        """Only a node's arrival, departure or labels change the aggregated topology."""
        if event != "MODIFIED" or old is None or \
                (obj.get("metadata") or {}).get("labels") != (old.get("metadata") or {}).get("labels"):
            self.accessibility.invalidate()
        return ()

    def _csinode_changed(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        self.accessibility.invalidate()
        return ()

    def _claim_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        keys: list[Key] = []
        source = data_source(obj)
        if source is not None and source.get("kind") in (SNAPSHOT_KIND, PVC_KIND) and (
                event == "DELETED" or (obj.get("spec") or {}).get("volumeName")):
            # The claim no longer needs its source: maybe release the source's protection finalizer.
            kind = "snapshot" if source.get("kind") == SNAPSHOT_KIND else "clonesource"
            keys.append(f"{kind}:{(obj.get('metadata') or {}).get('namespace')}/{source.get('name')}")
        if event == "DELETED":
            self.queue.forget("claim:" + nskey(obj))
        else:
            keys.append("claim:" + nskey(obj))
        return keys

    def _volume_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED":
            return ()
        return ("volume:" + str((obj.get("metadata") or {}).get("name")),)

    def _class_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        """A class that appears or changes may unblock claims waiting for it."""
        name = (obj.get("metadata") or {}).get("name")
        return tuple("claim:" + nskey(c) for c in self.claims.list()
                     if claim_class(c) == name and not (c.get("spec") or {}).get("volumeName")
                     and claim_provisioner(c) == self.driver_name)

    async def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = await get_capabilities(self.driver)
        return self._caps

    # ------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        kind, _, rest = key.partition(":")
        if kind == "claim":
            return await self._sync_claim(key, rest)
        if kind == "volume":
            return await self._sync_volume(rest)
        if kind in ("snapshot", "clonesource"):
            return await self._sync_source_finalizer(kind, rest)
        return DONE

    async def _sync_source_finalizer(self, kind: str, nskey: str) -> Result:
        """EP's snapshot-finalizer and clone controllers: a source VolumeSnapshot (or PVC) keeps its
        provisioner finalizer only while some claim of this driver still waits to be provisioned
        from it."""
        ns, name = split_key(nskey)
        source_kind = SNAPSHOT_KIND if kind == "snapshot" else PVC_KIND
        for c in self.claims.list(ns or ""):
            source = data_source(c)
            if (source is not None and source.get("kind") == source_kind and source.get("name") == name
                    and not (c.get("spec") or {}).get("volumeName") and not deleting(c)
                    and claim_provisioner(c) == self.driver_name):
                return DONE
        if kind == "snapshot":
            await self._remove_finalizer(VS_RESOURCE, ns or "", name, SNAPSHOT_SOURCE_FINALIZER)
        else:
            await self._remove_finalizer("persistentvolumeclaims", ns or "", name, CLONE_FINALIZER)
        return DONE

    # ------------------------------------------------------------ claims (§3.1, §3.2)

    def should_provision(self, claim: JSON) -> bool:
        """LIB shouldProvision + EP ShouldProvision; a missing class raises (retried, no event)."""
        spec = claim.get("spec") or {}
        if spec.get("volumeName") or deleting(claim):
            return False
        if claim_provisioner(claim) != self.driver_name:
            return False
        cls = self.classes.get(claim_class(claim))
        if cls is None:
            raise LookupError(f'storageclass.storage.k8s.io "{claim_class(claim)}" not found')
        if cls.get("volumeBindingMode") == "WaitForFirstConsumer":
            return bool(annotations_of(claim).get(ANN_SELECTED_NODE))
        return True

    async def _sync_claim(self, key: Key, nskey: str) -> Result:
        ns, name = split_key(nskey)
        claim = self.claims.get(name, ns)
        if claim is None:
            return DONE
        try:
            if not self.should_provision(claim):
                return DONE
        except LookupError as err:
            log.debug("%s: claim %s: %s", self.name, nskey, err)
            return RETRY
        pv_name = pv_name_for(claim)
        if self.volumes.get(pv_name) is not None or await self._exists("persistentvolumes", pv_name):
            return DONE
        try:
            await self.provision(claim)
        except ProvisioningError as err:
            return await self._provision_failed(claim, err)
        return DONE

    async def _provision_failed(self, claim: JSON, err: ProvisioningError) -> Result:
        """provisionVolumeErrorHandling: event, then reschedule or retry with backoff."""
        message = MSG_INFEASIBLE.format(err=err.message) if err.infeasible else err.message
        await self.recorder.event(claim, WARNING, REASON_PROVISIONING_FAILED, message)
        if err.reschedule and ANN_SELECTED_NODE in annotations_of(claim):
            try:
                await self._reschedule(claim)
            except ApiError as api_err:
                log.info("%s: could not remove selected node from %s: %s", self.name, nskey(claim), api_err)
                return RETRY
            return DONE
        return Result(rate_limited=True, backoff_factor=INFEASIBLE_BACKOFF_FACTOR if err.infeasible else 1.0)

    async def _reschedule(self, claim: JSON) -> None:
        """rescheduleProvisioning: drop ``selected-node`` so the scheduler picks again."""
        meta = claim.get("metadata") or {}
        patch = [{"op": "test", "path": "/metadata/uid", "value": meta.get("uid")},
                 {"op": "remove", "path": "/metadata/annotations/" + json_pointer(ANN_SELECTED_NODE)}]
        await self.client.patch("persistentvolumeclaims", meta["name"], patch, meta.get("namespace"),
                                patch_type="json")

    async def _exists(self, resource: str, name: str, namespace: str | None = None) -> bool:
        try:
            await self.client.get(resource, name, namespace)
        except ApiError as err:
            if err.code == 404:
                return False
            raise
        return True

    async def provision(self, claim: JSON) -> None:
        """provisionClaimOperation + EP Provision: one attempt, raising ProvisioningError on failure."""
        meta = claim["metadata"]
        sc_name = claim_class(claim)
        cls = self.classes.get(sc_name)
        if cls is None:
            raise IgnoredClaim(sc_name)
        if cls.get("provisioner") != self.driver_name:
            raise IgnoredClaim(cls.get("provisioner"))
        selected = annotations_of(claim).get(ANN_SELECTED_NODE) or ""
        selected_node: JSON | None = None
        if selected:
            selected_node = self.nodes.get(selected)
            if selected_node is None:
                try:
                    selected_node = await self.client.get("nodes", selected)
                except ApiError as err:
                    if err.code == 404:
                        raise ProvisioningError(MSG_NODE_NOT_FOUND.format(node=selected), reschedule=True) from None
                    raise ProvisioningError(f"failed to get target node: {err.message}") from None
        claim_key = f"{meta.get('namespace')}/{meta.get('name')}"
        klog.info('provision "%s" class "%s": started', claim_key, sc_name)
        await self.recorder.event(claim, NORMAL, REASON_PROVISIONING,
                                  MSG_PROVISIONING.format(ns=meta.get("namespace"), name=meta.get("name")))
        try:
            pv = await self._provision_volume(claim, cls, selected_node)
        except ProvisioningError as err:
            err.message = MSG_PROVISION_FAILED.format(sc=sc_name, err=err.message)
            klog.info('provision "%s" class "%s": failed: %s', claim_key, sc_name, err.message)
            raise
        klog.info('provision "%s" class "%s": volume "%s" provisioned', claim_key, sc_name, pv["metadata"]["name"])
        # Set by the library after Provision returns (§3.2).
        pv["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "namespace": meta.get("namespace"),
                                  "name": meta.get("name"), "uid": meta.get("uid"), "apiVersion": "v1",
                                  "resourceVersion": meta.get("resourceVersion")}
        pv["metadata"].setdefault("finalizers", []).append(PV_FINALIZER)
        pv["metadata"]["annotations"][ANN_PROVISIONED_BY] = cls.get("provisioner")
        pv["spec"]["storageClassName"] = sc_name
        klog.info('Trying to save persistentvolume "%s"', pv["metadata"]["name"])
        try:
            await self.client.create("persistentvolumes", pv)
        except ApiError as err:
            if err.code in (400, 403, 422):
                # The API will never take this PV: give the volume back rather than leak it
                # (LIB volume_store: "Deleting the volume").
                with contextlib.suppress(CsiCallError):
                    await delete_volume(self.driver, pv["spec"]["csi"]["volumeHandle"])
                raise ProvisioningError(MSG_SAVE_PV_FAILED.format(ns=meta.get("namespace"), name=meta.get("name"),
                                                                  err=err.message)) from None
            if err.code != 409:
                raise
        klog.info('persistentvolume "%s" saved', pv["metadata"]["name"])
        klog.info('provision "%s" class "%s": succeeded', claim_key, sc_name)
        await self.recorder.event(claim, NORMAL, REASON_PROVISIONING_SUCCEEDED,
                                  MSG_PROVISIONING_SUCCEEDED.format(pv=pv["metadata"]["name"]))

    async def _provision_volume(self, claim: JSON, cls: JSON, node: JSON | None) -> JSON:
        caps = await self.capabilities()
        req, snapshot_source = await self.prepare(claim, cls, node, caps)
        klog.info('"CreateVolume" driver="%s" name="%s" requiredBytes=%d', self.driver_name, req.name,
                  req.required_bytes)
        try:
            vol = await create_volume(self.driver, req)
        except CsiCallError as err:
            klog.info('"CreateVolume failed" name="%s" code="%s" err=%s', req.name, err.code, err.text)
            may_reschedule = caps.topology and node is not None
            raise ProvisioningError(err.text, reschedule=may_reschedule and err.code == "ResourceExhausted",
                                    infeasible=err.code == "InvalidArgument") from None
        capacity = vol.capacity_bytes or req.required_bytes
        if capacity < req.required_bytes:
            with contextlib.suppress(CsiCallError):
                await delete_volume(self.driver, vol.volume_id)
            raise ProvisioningError(MSG_CAPACITY_TOO_SMALL.format(got=capacity, want=req.required_bytes))
        pv = build_pv(claim, cls, req, vol, capacity, caps, driver_name=self.driver_name,
                      identity=self.identity)
        klog.info("successfully created PV %s for PVC %s and csi volume name %s", pv["metadata"]["name"],
                  (claim.get("metadata") or {}).get("name"), vol.volume_id)
        if snapshot_source is not None:
            await self._remove_snapshot_finalizer(*snapshot_source)
        return pv

    # ------------------------------------------------------------ request building (§3.3, §3.4)

    async def prepare(self, claim: JSON, cls: JSON, node: JSON | None,
                      caps: Capabilities) -> tuple[VolumeRequest, tuple[str, str] | None]:
        spec = claim.get("spec") or {}
        ns = claim["metadata"].get("namespace") or ""
        source = data_source(claim)
        snapshot_source: tuple[str, str] | None = None
        if source is not None and not restore.provisioner_handles(claim, source, caps):
            await self.recorder.event(claim, NORMAL, REASON_PROVISIONING, MSG_EXTERNAL_POPULATOR)
            raise IgnoredClaim(f"data source ({source.get('kind')}) is not handled by the provisioner")
        if spec.get("selector") is not None:
            raise ProvisioningError(MSG_SELECTOR_UNSUPPORTED)
        params, fs_type = split_parameters(cls.get("parameters") or {})
        req = VolumeRequest(
            name=pv_name_for(claim), required_bytes=request_bytes(claim), limit_bytes=limit_bytes(claim),
            access_modes=list(spec.get("accessModes") or []), block=is_block(claim), fs_type=fs_type,
            mount_flags=list(cls.get("mountOptions") or []), parameters=params)
        if source is not None:
            kind, name = source["kind"], source["name"]
            try:
                if kind == SNAPSHOT_KIND:
                    req.snapshot_id = await self.snapshot_handle(claim, cls, ns, name)
                else:
                    req.source_volume_id = await self.clone_handle(claim, cls, ns, name)
            except ProvisioningError as err:
                raise ProvisioningError(MSG_DATASOURCE_HANDLE.format(kind=kind, name=name, err=err.message)) \
                    from None
            if kind == PVC_KIND:
                await self._add_finalizer("persistentvolumeclaims", name, ns, CLONE_FINALIZER)
            else:
                await self._add_finalizer(VS_RESOURCE, name, ns, SNAPSHOT_SOURCE_FINALIZER)
                snapshot_source = (ns, name)
        if caps.topology:
            found = await self.accessibility.requirements(claim, cls, node)
            req.requisite, req.preferred, req.topology = found.requisite, found.preferred, found.topology
        return req, snapshot_source

    # ------------------------------------------------------------ data sources (§3.6, §3.7)

    async def snapshot_handle(self, claim: JSON, cls: JSON, ns: str, name: str) -> str:
        """getSnapshotSource (§3.6), see :func:`restore.snapshot_handle`."""
        return await restore.snapshot_handle(self.client, claim, cls, ns, name)

    async def clone_handle(self, claim: JSON, cls: JSON, ns: str, name: str) -> str:
        """getPVCSource (§3.7), see :func:`restore.clone_handle`; the source claim is read from the cache."""
        return await restore.clone_handle(self.client, self.claims, claim, cls, ns, name)

    async def _add_finalizer(self, resource: str, name: str, ns: str, finalizer: str) -> None:
        obj = await self.client.get(resource, name, ns)
        if has_finalizer(obj, finalizer):
            return
        obj["metadata"].setdefault("finalizers", []).append(finalizer)
        try:
            await self.client.update(resource, obj, ns)
        except ApiError as err:
            raise ProvisioningError(err.message) from None

    async def _remove_snapshot_finalizer(self, ns: str, name: str) -> None:
        """removeSnapshotFinalizer: best effort, a failure never fails provisioning."""
        await self._remove_finalizer(VS_RESOURCE, ns, name, SNAPSHOT_SOURCE_FINALIZER)

    async def _remove_finalizer(self, resource: str, ns: str, name: str, finalizer: str) -> None:
        try:
            obj = await self.client.get(resource, name, ns)
            if not has_finalizer(obj, finalizer):
                return
            obj["metadata"]["finalizers"] = [f for f in obj["metadata"]["finalizers"] if f != finalizer]
            await self.client.update(resource, obj, ns)
        except ApiError as err:
            log.info("%s: failed to remove %s from %s/%s: %s", self.name, finalizer, ns, name, err)

    # ------------------------------------------------------------ volumes (§3.8)

    def owns(self, pv: JSON) -> bool:
        ann = annotations_of(pv)
        if ANN_PROVISIONED_BY in ann:
            return ann[ANN_PROVISIONED_BY] == self.driver_name
        return ((pv.get("spec") or {}).get("csi") or {}).get("driver") == self.driver_name

    async def _sync_volume(self, name: str) -> Result:
        pv = self.volumes.get(name)
        if pv is None or not self.owns(pv):
            return DONE
        phase = (pv.get("status") or {}).get("phase")
        policy = (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy")
        if (not has_finalizer(pv, PV_FINALIZER) and not deleting(pv) and policy == "Delete"
                and phase == "Bound"):
            await self._patch_finalizers(pv, [*(pv["metadata"].get("finalizers") or []), PV_FINALIZER])
            return DONE
        if has_finalizer(pv, PV_FINALIZER) and policy == "Retain":
            await self._patch_finalizers(pv, [f for f in pv["metadata"]["finalizers"] if f != PV_FINALIZER])
            return DONE
        if phase != "Released" or policy != "Delete":
            return DONE
        # The cache may lag our own last write: confirm with a live read before a CSI call.
        pv = await get_or_none(self.client, "persistentvolumes", name)
        if pv is None:
            return DONE
        if (pv.get("status") or {}).get("phase") != "Released" or not self.owns(pv) \
                or (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") != "Delete":
            return DONE
        if deleting(pv) and not has_finalizer(pv, PV_FINALIZER):
            return DONE
        for va in self.attachments.list():
            va_spec = va.get("spec") or {}
            if (va_spec.get("source") or {}).get("persistentVolumeName") == name:
                msg = MSG_STILL_ATTACHED.format(pv=name, node=va_spec.get("nodeName", ""))
                await self.recorder.event(pv, WARNING, REASON_VOLUME_FAILED_DELETE, msg)
                return RETRY
        handle = ((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle")
        if handle:
            klog.info('delete "%s": started', name)
            klog.info('"DeleteVolume" driver="%s" volumeID="%s"', self.driver_name, handle)
            try:
                await delete_volume(self.driver, handle)
            except CsiCallError as err:
                if err.code != "NotFound":
                    await self.recorder.event(pv, WARNING, REASON_VOLUME_FAILED_DELETE, err.text)
                    return RETRY
        if not deleting(pv):
            try:
                await self.client.delete("persistentvolumes", name)
            except ApiError as err:
                if err.code != 404:
                    raise
        current = await get_or_none(self.client, "persistentvolumes", name)
        if current is None:
            return DONE
        if has_finalizer(current, PV_FINALIZER):
            await self._patch_finalizers(current, [f for f in current["metadata"]["finalizers"] if f != PV_FINALIZER])
        return DONE

    async def _patch_finalizers(self, pv: JSON, finalizers: list[str]) -> None:
        meta = pv["metadata"]
        patch = {"metadata": {"finalizers": finalizers, "resourceVersion": meta.get("resourceVersion")}}
        try:
            await self.client.patch("persistentvolumes", meta["name"], patch)
        except ApiError as err:
            if err.code != 404:
                raise


class ExternalProvisioners(PerDriverControllers["ExternalProvisioner"]):
    """What the cluster starts: one :class:`ExternalProvisioner` per driver that can create volumes."""

    name = "csi-provisioners"

    def __init__(self, client: Client, clock: Clock, *, config: Any = None,
                 drivers: Mapping[str, spec.CsiDriver] | None = None, rng: random.Random | None = None) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.config = config
        self.rng = rng or random.Random()
        self.drivers = dict(drivers or {})
        self.shared_informers: dict[str, Informer] = {}

    async def start(self) -> None:
        for name, driver in self.drivers.items():
            caps = await get_capabilities(driver)
            if not caps.create_delete:
                continue
            inst = ExternalProvisioner(self.client, self.clock, name, driver, config=self.config,
                                       shared_informers=self.shared_informers,
                                       rng=random.Random(self.rng.getrandbits(64)))
            inst._caps = caps
            await inst.start()
            self.instances[name] = inst

    async def stop(self) -> None:
        await super().stop()
        self.shared_informers.clear()
