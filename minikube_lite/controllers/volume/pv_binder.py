"""The PV controller ("persistentvolume-controller"): binds claims to volumes (storage.md §1).

It is kube-controller-manager's ``PersistentVolumeController`` as a level-based reconciler:
``syncClaim`` / ``syncVolume`` on every add, update and periodic resync (15 s by default,
``timings.pvControllerResync``), each step one API write so other controllers see the
intermediate states (§6.1). Provisioning itself is left to external provisioners: this
controller only marks claims with the ``storage-provisioner`` annotations and says so in an
``ExternalProvisioning`` event, exactly as it does on a cluster where every driver is CSI.

One work queue carries both kinds of keys: ``claim:<ns>/<name>`` and ``volume:<name>``, synced by
``timings.pv_controller_workers`` workers (one in process, several over HTTP, where each write
waits a round trip); the runtime never gives one key to two workers at once, and picking a free
PV for a claim is done one claim at a time (see ``_sync_unbound_claim``).

Reads come from the informers, as upstream's come from its listers and its own claim and volume
stores: the claim or volume a sync works on, the PV a claim names, the claim a PV names, the
candidate PVs of a claim. Each write's result is laid over the informer cache until the informer
delivers it (:mod:`.own_writes`, upstream's ``storeObjectUpdate``), so a sync never acts on the
version before its own write. A stale read still only costs a 409 and a retry, as the writes
carry the version they read. Live GETs are left where upstream makes them: the claim of a PV
that the cache does not have yet (§1.8), the volume before the reclaim's delete step.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterable
from typing import Any

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Result
from ...clock import Clock
from ...config import timings_of
from ...kube import meta as km
from ...kube import names
from ...kube import volumes as kv
from . import pv_events as ev
from . import volume_util as vu
from .own_writes import OwnWrites

log = logging.getLogger(__name__)

COMPONENT = "persistentvolume-controller"
FIELD_MANAGER = "kube-controller-manager"

CLAIM_PREFIX = "claim:"
VOLUME_PREFIX = "volume:"

IN_TREE_PREFIX = "kubernetes.io/"


def claim_work_key(namespace: str, name: str) -> str:
    return f"{CLAIM_PREFIX}{namespace}/{name}"


def volume_work_key(name: str) -> str:
    return f"{VOLUME_PREFIX}{name}"


CLAIM_REF_INDEX = "pv-binder:claimRef"
POD_CLAIM_INDEX = "pv-binder:claims"


def _claim_ref_index(pv: JSON) -> list[str]:
    """PVs by the claim they name (``namespace/name``); ``""`` for a PV with no claimRef."""
    ref = km.spec_of(pv).get("claimRef")
    if not ref:
        return [""]
    return [f"{ref.get('namespace') or ''}/{ref.get('name') or ''}"]


def _pod_claims_index(pod: JSON) -> list[str]:
    """Pods by the claims they use (``namespace/claim``), generic ephemeral ones included."""
    ns = km.namespace_of(pod)
    return [f"{ns}/{claim}" for claim, _ in vu.pod_claim_names(pod)]


def _with_kind(obj: JSON, kind: str) -> JSON:
    if not obj.get("kind"):
        obj = {**obj, "kind": kind, "apiVersion": "v1"}
    return obj


class PersistentVolumeController(Controller):
    """syncClaim/syncVolume over one queue; every write goes through the API client."""

    name = COMPONENT

    def __init__(self, client: Client, clock: Clock, config: Any = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        self.resync_period = timings.pvControllerResync
        self.workers = timings.pv_controller_workers(remote=bool(getattr(client, "remote", False)))
        self.recorder = EventRecorder(client, COMPONENT, clock)
        self._matching = asyncio.Lock()

    # ------------------------------------------------------------------ wiring

    def setup(self) -> None:
        def claim_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            if event == "DELETED":
                # A deleted claim releases its volume: sync the volume now, not at the next resync.
                volume = km.spec_of(obj).get("volumeName")
                return [volume_work_key(volume)] if volume else []
            return [claim_work_key(km.namespace_of(obj), km.name_of(obj))]

        def volume_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            if event == "DELETED":
                # The claim of a deleted volume becomes Lost: sync it now.
                ref = km.spec_of(obj).get("claimRef")
                if ref and ref.get("name"):
                    return [claim_work_key(ref.get("namespace") or "", ref["name"])]
                return []
            return [volume_work_key(km.name_of(obj))]

        self.claims = self.informer("persistentvolumeclaims", key_of=claim_keys)
        self.volumes = self.informer("persistentvolumes", key_of=volume_keys)
        # upstream's ctrl.claims and ctrl.volumes.store: the informers plus our own writes.
        self.claim_store = OwnWrites(self.claims)
        self.volume_store = OwnWrites(self.volumes, {CLAIM_REF_INDEX: _claim_ref_index})
        self.add_handler(self.claims, self.claim_store.observe)
        self.add_handler(self.volumes, self.volume_store.observe)
        self.classes = self.informer("storageclasses.storage.k8s.io")
        self.pods = self.informer("pods")
        self.pods.add_index(POD_CLAIM_INDEX, _pod_claims_index)

    def resync_keys(self) -> Iterable[str]:
        """Every claim and volume, except pairs the cache shows fully bound to each other.

        For such a pair ``syncClaim``/``syncVolume`` write nothing (every step checks first), so
        re-reading them live every 15 s only cost API reads: 20,000 GETs per resync at 10,000
        claims. Any change to either object still enqueues it through the informer.
        """
        keys = [claim_work_key(km.namespace_of(c), km.name_of(c)) for c in self.claim_store.list()
                if not self._claim_settled(c)]
        keys += [volume_work_key(km.name_of(v)) for v in self.volume_store.list() if not self._volume_settled(v)]
        return keys

    def _claim_settled(self, claim: JSON) -> bool:
        name = km.spec_of(claim).get("volumeName") or ""
        if not name or km.phase_of(claim) != "Bound" or not km.has_annotation(claim, names.ANN_BIND_COMPLETED):
            return False
        volume = self.volume_store.get(name)
        if volume is None or not self._volume_settled(volume):
            return False
        ref = km.spec_of(volume).get("claimRef") or {}
        status = claim.get("status") or {}
        return (ref.get("uid") == km.uid_of(claim) and ref.get("name") == km.name_of(claim)
                and (ref.get("namespace") or "") == km.namespace_of(claim)
                and status.get("accessModes") == km.spec_of(volume).get("accessModes")
                and "storage" in (status.get("capacity") or {}))

    def _volume_settled(self, volume: JSON) -> bool:
        ref = km.spec_of(volume).get("claimRef") or {}
        if not ref.get("uid") or km.phase_of(volume) != "Bound":
            return False
        claim = self.claim_store.get(str(ref.get("name") or ""), ref.get("namespace") or "")
        return claim is not None and km.uid_of(claim) == ref.get("uid") and \
            km.spec_of(claim).get("volumeName") == km.name_of(volume)

    async def reconcile(self, key: str) -> Result:
        if key.startswith(CLAIM_PREFIX):
            namespace, _, name = key[len(CLAIM_PREFIX):].partition("/")
            claim = self.claim_store.get(name, namespace)
            if claim is not None:
                await self.sync_claim(_with_kind(claim, "PersistentVolumeClaim"))
        elif key.startswith(VOLUME_PREFIX):
            volume = self.volume_store.get(key[len(VOLUME_PREFIX):])
            if volume is not None:
                await self.sync_volume(_with_kind(volume, "PersistentVolume"))
        return DONE

    # ------------------------------------------------------------------ reads

    async def _get(self, resource: str, name: str, namespace: str | None = None) -> JSON | None:
        """A live GET (None when gone): only where upstream makes one (see the module docstring)."""
        try:
            return await self.client.get(resource, name, namespace)
        except ApiError as err:
            if err.code == 404:
                return None
            raise

    async def _storage_class(self, name: str) -> JSON | None:
        """The class from the cache, confirmed with a live GET before concluding it is missing."""
        if not name:
            return None
        cached = self.classes.get(name)
        if cached is not None:
            return cached
        return await self._get("storageclasses.storage.k8s.io", name)

    async def _is_delay_binding(self, claim: JSON) -> bool:
        """§1.2: WaitForFirstConsumer needs a named class that exists."""
        name = kv.claim_class(claim)
        sc = await self._storage_class(name)
        return sc is not None and sc.get("volumeBindingMode") == kv.WAIT_FOR_FIRST_CONSUMER

    def _non_scheduled_pods(self, claim: JSON) -> list[str]:
        """``findNonScheduledPodsByPVC``: live pods that use the claim and have no node yet."""
        namespace, name = km.namespace_of(claim), km.name_of(claim)
        out = []
        for pod in self.pods.by_index(POD_CLAIM_INDEX, f"{namespace}/{name}"):
            if vu.is_pod_terminated(pod) or km.spec_of(pod).get("nodeName"):
                continue
            out.append(km.name_of(pod))
        return sorted(out)

    def _volume_candidates(self, claim: JSON) -> list[JSON]:
        """The only PVs ``findByClaim`` can pick: unbound ones and those whose claimRef names this claim.

        Every other PV fails rule 1, so skipping them changes no answer, and a claim sync no
        longer walks all 10,000 PVs of a large cluster.
        """
        key = f"{km.namespace_of(claim)}/{km.name_of(claim)}"
        return self.volume_store.by_index(CLAIM_REF_INDEX, "") + self.volume_store.by_index(CLAIM_REF_INDEX, key)

    # ------------------------------------------------------------------ writes

    async def _write_claim(self, new: JSON, subresource: str | None = None) -> JSON:
        """One PUT of a claim (or its status); the result is what the next sync reads."""
        updated = await self.client.update("persistentvolumeclaims", new, km.namespace_of(new),
                                           subresource=subresource, field_manager=FIELD_MANAGER)
        return _with_kind(self.claim_store.record(updated), "PersistentVolumeClaim")

    async def _write_volume(self, new: JSON, subresource: str | None = None) -> JSON:
        """One PUT of a volume (or its status); the result is what the next sync reads."""
        updated = await self.client.update("persistentvolumes", new, subresource=subresource,
                                           field_manager=FIELD_MANAGER)
        return _with_kind(self.volume_store.record(updated), "PersistentVolume")

    # ------------------------------------------------------------------ claims (§1.4-§1.6)

    async def sync_claim(self, claim: JSON) -> None:
        if not km.has_annotation(claim, names.ANN_BIND_COMPLETED):
            await self._sync_unbound_claim(claim)
        else:
            await self._sync_bound_claim(claim)

    async def _sync_unbound_claim(self, claim: JSON) -> None:
        volume_name = km.spec_of(claim).get("volumeName") or ""
        if not volume_name:
            delay = await self._is_delay_binding(claim)
            # One claim at a time picks a PV and writes its claimRef (the first step of bind), as
            # upstream's single claim worker does: workers matching at once would all pick the
            # same smallest free PV, and all but one would conflict and back off.
            async with self._matching:
                found = vu.find_best_match_for_claim(claim, self._volume_candidates(claim), delay)
                if found is not None:
                    # Bind the cached object: if the cache is stale the PUT conflicts and the claim
                    # is retried, so a volume another claim just took is never taken over.
                    picked = await self._bind_volume_to_claim(
                        _with_kind(copy.deepcopy(dict(found)), "PersistentVolume"), claim)
            if found is not None:
                await self._finish_bind(picked, claim)
                return
            if await self._assign_default_class(claim):
                return
            if delay and not vu.is_delay_binding_provisioning(claim):
                await self._emit_unbound_delay_binding_event(claim)
            elif kv.claim_class(claim):
                await self._provision_claim(claim)
                return
            else:
                await self.recorder.event(claim, NORMAL, ev.REASON_FAILED_BINDING, ev.MSG_NO_CLASS)
            await self._update_claim_status(claim, "Pending", None)
            return

        volume = self.volume_store.get(volume_name)
        if volume is None:
            await self._update_claim_status(claim, "Pending", None)
            return
        volume = _with_kind(volume, "PersistentVolume")
        if not km.spec_of(volume).get("claimRef"):
            problem = vu.check_volume_satisfy_claim(volume, claim)
            if problem is not None:
                await self.recorder.event(claim, WARNING, ev.REASON_VOLUME_MISMATCH,
                                          ev.MSG_CANNOT_BIND_REQUESTED.format(volume_name, problem))
                await self._update_claim_status(claim, "Pending", None)
                return
            await self.bind(volume, claim)
            return
        if kv.is_volume_bound_to_claim(volume, claim):
            await self.bind(volume, claim)
            return
        await self.recorder.event(claim, WARNING, ev.REASON_FAILED_BINDING,
                                  ev.MSG_ALREADY_BOUND.format(volume_name))
        if km.has_annotation(claim, names.ANN_BOUND_BY_CONTROLLER):
            raise RuntimeError(f'invalid binding of claim "{vu.claim_key(claim)}" to volume "{volume_name}": '
                               f'volume already claimed by "{vu.claimref_key(km.spec_of(volume)["claimRef"])}"')
        await self._update_claim_status(claim, "Pending", None)

    async def _sync_bound_claim(self, claim: JSON) -> None:
        volume_name = km.spec_of(claim).get("volumeName") or ""
        if not volume_name:
            await self._update_claim_status_with_event(claim, "Lost", WARNING, ev.REASON_CLAIM_LOST,
                                                       ev.MSG_LOST_REFERENCE)
            return
        volume = self.volume_store.get(volume_name)
        if volume is None:
            await self._update_claim_status_with_event(claim, "Lost", WARNING, ev.REASON_CLAIM_LOST,
                                                       ev.MSG_LOST_VOLUME)
            return
        volume = _with_kind(volume, "PersistentVolume")
        ref = km.spec_of(volume).get("claimRef")
        if not ref or (ref.get("uid") or "") == km.uid_of(claim):
            await self.bind(volume, claim)
            return
        await self._update_claim_status_with_event(claim, "Lost", WARNING, ev.REASON_CLAIM_MISBOUND,
                                                   ev.MSG_MISBOUND)

    async def _assign_default_class(self, claim: JSON) -> bool:
        """Retroactive default StorageClass: a class-less claim gets today's default (then re-syncs)."""
        if kv.claim_has_class(claim):
            return False
        default = vu.default_class(self.classes.list())
        if default is None:
            return False
        new = copy.deepcopy(claim)
        new.setdefault("spec", {})["storageClassName"] = km.name_of(default)
        await self._write_claim(new)
        return True

    async def _emit_unbound_delay_binding_event(self, claim: JSON) -> None:
        pods = self._non_scheduled_pods(claim)
        if not pods:
            await self.recorder.event(claim, NORMAL, ev.REASON_WAIT_FOR_FIRST_CONSUMER,
                                      ev.MSG_WAIT_FOR_FIRST_CONSUMER)
        elif len(pods) == 1:
            await self.recorder.event(claim, NORMAL, ev.REASON_WAIT_FOR_POD_SCHEDULED,
                                      ev.MSG_WAIT_FOR_POD.format(pods[0]))
        else:
            await self.recorder.event(claim, NORMAL, ev.REASON_WAIT_FOR_POD_SCHEDULED,
                                      ev.MSG_WAIT_FOR_PODS.format(",".join(pods)))

    async def _provision_claim(self, claim: JSON) -> None:
        """§1.9: no in-tree provisioners here, so every non-``kubernetes.io/`` class is external."""
        class_name = kv.claim_class(claim)
        sc = await self._storage_class(class_name)
        if sc is None:
            await self.recorder.event(claim, WARNING, ev.REASON_PROVISIONING_FAILED,
                                      ev.MSG_CLASS_NOT_FOUND.format(class_name))
            return
        provisioner = str(sc.get("provisioner") or "")
        if provisioner.startswith(IN_TREE_PREFIX):
            await self.recorder.event(claim, WARNING, ev.REASON_PROVISIONING_FAILED,
                                      ev.MSG_NO_PLUGIN.format(provisioner))
            return
        try:
            claim = await self._set_claim_provisioner(claim, provisioner)
        except ApiError as err:
            await self.recorder.event(claim, WARNING, ev.REASON_PROVISIONING_FAILED,
                                      ev.MSG_SAVE_CLAIM_FAILED.format(err.message))
            raise
        await self.recorder.event(claim, NORMAL, ev.REASON_EXTERNAL_PROVISIONING,
                                  ev.MSG_EXTERNAL_PROVISIONING.format(provisioner))

    async def _set_claim_provisioner(self, claim: JSON, provisioner: str) -> JSON:
        """Both storage-provisioner annotations, written together, skipped when the GA one is already right."""
        if km.annotations_of(claim).get(names.ANN_STORAGE_PROVISIONER) == provisioner:
            return claim
        new = copy.deepcopy(claim)
        km.set_annotation(new, names.ANN_BETA_STORAGE_PROVISIONER, provisioner)
        km.set_annotation(new, names.ANN_STORAGE_PROVISIONER, provisioner)
        return await self._write_claim(new)

    async def _update_claim_status(self, claim: JSON, phase: str, volume: JSON | None) -> JSON:
        """``updateClaimStatus``: phase, access modes and (only when becoming Bound) capacity."""
        status = dict(claim.get("status") or {})
        old_phase = status.get("phase")
        dirty = False
        if old_phase != phase:
            status["phase"] = phase
            dirty = True
        if volume is None:
            for field in ("accessModes", "capacity"):
                if status.get(field) is not None:
                    status.pop(field)
                    dirty = True
        else:
            modes = km.spec_of(volume).get("accessModes")
            if status.get("accessModes") != modes:
                if modes is None:
                    status.pop("accessModes", None)
                else:
                    status["accessModes"] = list(modes)
                dirty = True
            if old_phase != phase:
                capacity = km.spec_of(volume).get("capacity") or {}
                if "storage" not in capacity:
                    raise RuntimeError(f'PersistentVolume "{km.name_of(volume)}" is without a storage capacity')
                have = (status.get("capacity") or {}).get("storage")
                if have is None or kv.storage_bytes(have) != kv.storage_bytes(capacity["storage"]):
                    status["capacity"] = dict(capacity)
                    dirty = True
        if not dirty:
            return claim
        return await self._write_claim({**claim, "status": status}, "status")

    async def _update_claim_status_with_event(self, claim: JSON, phase: str, type_: str, reason: str,
                                              message: str) -> JSON:
        """The event goes out only when the phase actually changes (§1.6)."""
        if km.phase_of(claim) == phase:
            return claim
        updated = await self._update_claim_status(claim, phase, None)
        await self.recorder.event(updated, type_, reason, message)
        return updated

    # ------------------------------------------------------------------ bind (§1.7)

    async def bind(self, volume: JSON, claim: JSON) -> None:
        """The four writes, in order: PV spec, PV status, PVC spec, PVC status."""
        volume = await self._bind_volume_to_claim(volume, claim)
        await self._finish_bind(volume, claim)

    async def _finish_bind(self, volume: JSON, claim: JSON) -> None:
        """The last three writes of ``bind``, once the PV names the claim."""
        volume = await self._update_volume_phase(volume, "Bound", "")
        claim = await self._bind_claim_to_volume(claim, volume)
        await self._update_claim_status(claim, "Bound", volume)

    async def _bind_volume_to_claim(self, volume: JSON, claim: JSON) -> JSON:
        new, dirty = kv.bind_volume_to_claim(volume, claim)
        if not dirty:
            return volume
        return await self._write_volume(new)

    async def _bind_claim_to_volume(self, claim: JSON, volume: JSON) -> JSON:
        if km.spec_of(claim).get("volumeName") == km.name_of(volume) and \
                km.has_annotation(claim, names.ANN_BIND_COMPLETED):
            return claim   # already bound: skip copying the claim on every resync
        new = copy.deepcopy(claim)
        dirty = False
        if km.spec_of(claim).get("volumeName") != km.name_of(volume):
            new.setdefault("spec", {})["volumeName"] = km.name_of(volume)
            dirty = True
            if not km.has_annotation(new, names.ANN_BOUND_BY_CONTROLLER):
                km.set_annotation(new, names.ANN_BOUND_BY_CONTROLLER, "yes")
        if not km.has_annotation(new, names.ANN_BIND_COMPLETED):
            km.set_annotation(new, names.ANN_BIND_COMPLETED, "yes")
            dirty = True
        if not dirty:
            return claim
        return await self._write_claim(new)

    # ------------------------------------------------------------------ volumes (§1.8)

    async def _update_volume_phase(self, volume: JSON, phase: str, message: str) -> JSON:
        if km.phase_of(volume) == phase:
            return volume
        status = dict(volume.get("status") or {})
        status["phase"] = phase
        if message:
            status["message"] = message
        else:
            status.pop("message", None)
        return await self._write_volume({**volume, "status": status}, "status")

    async def _update_volume_phase_with_event(self, volume: JSON, phase: str, type_: str, reason: str,
                                              message: str) -> JSON:
        if km.phase_of(volume) == phase:
            return volume
        updated = await self._update_volume_phase(volume, phase, message)
        await self.recorder.event(updated, type_, reason, message)
        return updated

    async def sync_volume(self, volume: JSON) -> None:
        ref = km.spec_of(volume).get("claimRef")
        if not ref:
            await self._update_volume_phase(volume, "Available", "")
            return
        if not ref.get("uid"):
            # Pre-bound by a user: the claim sync finishes the binding.
            await self._update_volume_phase(volume, "Available", "")
            return
        claim_name, claim_ns = str(ref.get("name") or ""), ref.get("namespace") or ""
        claim = self.claim_store.get(claim_name, claim_ns)
        if claim is None and km.phase_of(volume) not in ("Released", "Failed"):
            # A PV bound by someone else (a provisioner, the scheduler) under load may name a claim
            # the cache does not have yet: ask the API before releasing the volume (upstream too).
            claim = await self._get("persistentvolumeclaims", claim_name, claim_ns)
        if claim is not None and km.uid_of(claim) != ref.get("uid"):
            claim = None  # the claim was deleted and another one with the same name created
        if claim is None:
            if km.phase_of(volume) not in ("Released", "Failed"):
                volume = await self._update_volume_phase(volume, "Released", "")
            await self._reclaim_volume(volume)
            return
        claim = _with_kind(claim, "PersistentVolumeClaim")
        claim_volume = km.spec_of(claim).get("volumeName") or ""
        if not claim_volume:
            if kv.volume_mode_mismatch(claim, volume):
                await self.recorder.event(volume, WARNING, ev.REASON_VOLUME_MISMATCH,
                                          ev.MSG_VOLUME_MODE_MISMATCH_PV.format(km.name_of(claim)))
                await self.recorder.event(claim, WARNING, ev.REASON_VOLUME_MISMATCH,
                                          ev.MSG_VOLUME_MODE_MISMATCH_PVC.format(km.name_of(volume)))
                return
            # Provisioned or scheduler-pre-bound PV: let the claim sync finish the binding now.
            self.queue.add(claim_work_key(km.namespace_of(claim), km.name_of(claim)))
            return
        if claim_volume == km.name_of(volume):
            await self._update_volume_phase(volume, "Bound", "")
            if not km.has_annotation(claim, names.ANN_BIND_COMPLETED) or km.phase_of(claim) != "Bound":
                # A claim pre-bound to this PV, synced before the PV reached the cache: finish it
                # now rather than at the next resync (upstream waits; live reads used to hide this).
                self.queue.add(claim_work_key(km.namespace_of(claim), km.name_of(claim)))
            return
        # The claim is bound to another volume.
        if km.has_annotation(volume, names.ANN_PROVISIONED_BY) and \
                km.spec_of(volume).get("persistentVolumeReclaimPolicy") == "Delete":
            if km.phase_of(volume) not in ("Released", "Failed"):
                volume = await self._update_volume_phase(volume, "Released", "")
            await self._reclaim_volume(volume)
            return
        await self._unbind_volume(volume)

    async def _unbind_volume(self, volume: JSON) -> None:
        """Undo a controller binding; for a user pre-bind clear only the claimRef UID."""
        new = copy.deepcopy(volume)
        if km.has_annotation(volume, names.ANN_BOUND_BY_CONTROLLER):
            new["spec"].pop("claimRef", None)
            anns = new["metadata"].get("annotations") or {}
            anns.pop(names.ANN_BOUND_BY_CONTROLLER, None)
            if anns:
                new["metadata"]["annotations"] = anns
            else:
                new["metadata"].pop("annotations", None)
        else:
            new["spec"]["claimRef"] = {k: v for k, v in new["spec"]["claimRef"].items() if k != "uid"}
        updated = await self._write_volume(new)
        await self._update_volume_phase(updated, "Available", "")

    # ------------------------------------------------------------------ reclaim (§1.10)

    async def _reclaim_volume(self, volume: JSON) -> None:
        if km.annotations_of(volume).get(names.ANN_MIGRATED_TO):
            return  # the external provisioner owns a migrated volume
        policy = km.spec_of(volume).get("persistentVolumeReclaimPolicy")
        if policy == "Retain":
            return
        if policy == "Delete":
            await self._delete_volume_operation(volume)
            return
        if policy == "Recycle":
            # Deprecated; there is no recycler plugin in this cluster.
            await self._update_volume_phase_with_event(volume, "Failed", WARNING, ev.REASON_VOLUME_FAILED_RECYCLE,
                                                       ev.MSG_NO_RECYCLER)
            return
        await self._update_volume_phase_with_event(volume, "Failed", WARNING, ev.REASON_UNKNOWN_RECLAIM_POLICY,
                                                   ev.MSG_UNKNOWN_RECLAIM_POLICY)

    def _is_external_deleter(self, volume: JSON) -> bool:
        provisioned_by = km.annotations_of(volume).get(names.ANN_PROVISIONED_BY) or ""
        if provisioned_by and not provisioned_by.startswith(IN_TREE_PREFIX):
            return True
        return km.spec_of(volume).get("csi") is not None

    async def _delete_volume_operation(self, volume: JSON) -> None:
        """Delete policy: CSI and external volumes are left to their provisioner; others fail."""
        if self._is_external_deleter(volume):
            return
        # As upstream's deleteVolumeOperation: read the volume now, an earlier operation may
        # have just saved a newer version of it.
        current = await self._get("persistentvolumes", km.name_of(volume))
        if current is None or not self._is_volume_released(current):
            return
        volume = _with_kind(current, "PersistentVolume")
        await self._update_volume_phase_with_event(volume, "Failed", WARNING, ev.REASON_VOLUME_FAILED_DELETE,
                                                   ev.MSG_NO_DELETER.format(km.name_of(volume)))

    def _is_volume_released(self, volume: JSON) -> bool:
        ref = km.spec_of(volume).get("claimRef")
        if not ref or not ref.get("uid"):
            return False
        claim = self.claim_store.get(str(ref.get("name") or ""), ref.get("namespace") or "")
        if claim is not None and km.uid_of(claim) == ref.get("uid"):
            bound_to = km.spec_of(claim).get("volumeName") or ""
            return bool(bound_to) and bound_to != km.name_of(volume)
        return True
