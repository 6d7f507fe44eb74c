"""The pvc-protection and pv-protection controllers (storage.md §1.11).

Admission puts ``kubernetes.io/pvc-protection`` / ``kubernetes.io/pv-protection`` on every new
claim and volume; these controllers take the finalizer off a deleting object only once it is
no longer in use, so data cannot vanish under a running pod:

- a claim is in use while any pod *scheduled to a node* references it. For a regular
  ``persistentVolumeClaim`` volume a terminal pod still counts until it is deleted (upstream
  ``podUsesPVC``); a generic ephemeral claim is released once its pod has shut down;
- a volume is in use while its phase is ``Bound``.

Both also add a missing finalizer to live objects, as upstream does for objects created before
the admission plugin was enabled.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from ...client.base import JSON, ApiError, Client
from ...client.runtime import DONE, Controller, Result, get_or_none, split_key
from ...clock import Clock
from ...kube import meta as km
from ...kube import names
from . import volume_util as vu

FIELD_MANAGER = "kube-controller-manager"


def is_deletion_candidate(obj: JSON, finalizer: str) -> bool:
    md = km.metadata_of(obj)
    return bool(md.get("deletionTimestamp")) and finalizer in (md.get("finalizers") or [])


def needs_finalizer(obj: JSON, finalizer: str) -> bool:
    md = km.metadata_of(obj)
    return not md.get("deletionTimestamp") and finalizer not in (md.get("finalizers") or [])


def _pod_is_shut_down(pod: JSON) -> bool:
    return vu.is_pod_terminated(pod) or bool(km.metadata_of(pod).get("deletionTimestamp"))


def pod_uses_claim(pod: JSON, claim: JSON) -> bool:
    """``podUsesPVC``: only scheduled pods count (kubelet refuses a deleting claim to new pods)."""
    if not km.spec_of(pod).get("nodeName"):
        return False
    if km.namespace_of(pod) != km.namespace_of(claim):
        return False
    for name, ephemeral in vu.pod_claim_names(pod):
        if name != km.name_of(claim):
            continue
        if not ephemeral:
            return True
        if not _pod_is_shut_down(pod) and _owned_by(claim, pod):
            return True
    return False


def _owned_by(claim: JSON, pod: JSON) -> bool:
    """``ephemeral.VolumeIsForPod``: the generic ephemeral claim is controlled by this pod."""
    for ref in km.metadata_of(claim).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("uid") == km.uid_of(pod):
            return True
    return False


async def _set_finalizers(client: Client, resource: str, obj: JSON, finalizers: list[str]) -> None:
    new = copy.deepcopy(obj)
    new["metadata"]["finalizers"] = finalizers
    try:
        await client.update(resource, new, km.namespace_of(obj) or None, field_manager=FIELD_MANAGER)
    except ApiError as err:
        if err.code != 404:
            raise


class PVCProtectionController(Controller):
    """Holds a deleting claim while a scheduled pod uses it."""

    name = "pvc-protection-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)

    def setup(self) -> None:
        def claim_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            if event == "DELETED":
                return []
            if needs_finalizer(obj, names.PVC_PROTECTION_FINALIZER) or \
                    is_deletion_candidate(obj, names.PVC_PROTECTION_FINALIZER):
                return [vu.claim_key(obj)]
            return []

        def pod_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            keys = self._pod_claim_keys(obj, event == "DELETED")
            if old is not None and km.uid_of(old) != km.uid_of(obj):
                keys += self._pod_claim_keys(old, True)  # a replaced pod may have held other claims
            return keys

        self.claims = self.informer("persistentvolumeclaims", key_of=claim_keys)
        self.pods = self.informer("pods", key_of=pod_keys)

    @staticmethod
    def _pod_claim_keys(pod: JSON, deleted: bool) -> list[str]:
        """Only a pod that went away, finished or was never scheduled can release a claim."""
        if not deleted and not vu.is_pod_terminated(pod) and km.spec_of(pod).get("nodeName"):
            return []
        return [f"{km.namespace_of(pod)}/{name}" for name, _ in vu.pod_claim_names(pod)]

    async def reconcile(self, key: str) -> Result:
        namespace, name = split_key(key)
        claim = await get_or_none(self.client, "persistentvolumeclaims", name, namespace)
        if claim is None:
            return DONE
        finalizers = list(km.metadata_of(claim).get("finalizers") or [])
        if is_deletion_candidate(claim, names.PVC_PROTECTION_FINALIZER):
            if not await self._is_being_used(claim):
                await _set_finalizers(self.client, "persistentvolumeclaims", claim,
                                      [f for f in finalizers if f != names.PVC_PROTECTION_FINALIZER])
            return DONE
        if needs_finalizer(claim, names.PVC_PROTECTION_FINALIZER):
            await _set_finalizers(self.client, "persistentvolumeclaims", claim,
                                  [*finalizers, names.PVC_PROTECTION_FINALIZER])
        return DONE

    async def _is_being_used(self, claim: JSON) -> bool:
        """The informer first; if it sees no user, a live list, since the cache may lag (upstream too)."""
        namespace = km.namespace_of(claim)
        if any(pod_uses_claim(pod, claim) for pod in self.pods.list(namespace)):
            return True
        listing = await self.client.list("pods", namespace)
        return any(pod_uses_claim(pod, claim) for pod in listing.get("items") or [])


class PVProtectionController(Controller):
    """Holds a deleting volume while it is Bound."""

    name = "pv-protection-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)

    def setup(self) -> None:
        def volume_keys(event: str, obj: JSON, old: JSON | None) -> Iterable[str]:
            if event == "DELETED":
                return []
            if needs_finalizer(obj, names.PV_PROTECTION_FINALIZER) or \
                    is_deletion_candidate(obj, names.PV_PROTECTION_FINALIZER):
                return [km.name_of(obj)]
            return []

        self.volumes = self.informer("persistentvolumes", key_of=volume_keys)

    async def reconcile(self, key: str) -> Result:
        volume = await get_or_none(self.client, "persistentvolumes", key)
        if volume is None:
            return DONE
        finalizers = list(km.metadata_of(volume).get("finalizers") or [])
        if is_deletion_candidate(volume, names.PV_PROTECTION_FINALIZER):
            if km.phase_of(volume) != "Bound":
                await _set_finalizers(self.client, "persistentvolumes", volume,
                                      [f for f in finalizers if f != names.PV_PROTECTION_FINALIZER])
            return DONE
        if needs_finalizer(volume, names.PV_PROTECTION_FINALIZER):
            await _set_finalizers(self.client, "persistentvolumes", volume, [*finalizers, names.PV_PROTECTION_FINALIZER])
        return DONE
