"""Storage admission plugins, as kube-apiserver runs them (storage.md §0.2-§0.5).

- ``DefaultStorageClass``: a new PVC with no class gets the default one, so a claim written
  without ``storageClassName`` provisions exactly as on a real cluster.
- ``StorageObjectInUseProtection``: every new PVC and PV carries its protection finalizer, so
  the protection controllers can hold deletion while the object is in use.
- ``PersistentVolumeClaimResize``: a claim may only grow when it is bound, was provisioned by
  its class and the class says ``allowVolumeExpansion: true`` (403 Forbidden otherwise).
- ``PersistentVolumeStatusStrategy``: the PV registry stamps ``status.lastPhaseTransitionTime``
  on create and on every phase change (the strategy's PrepareForCreate/PrepareForUpdate).

The StorageClass update rules of §0.4 are enforced by ``apiserver/schema/validation`` (not duplicated here).

``install(engine)`` is called by ``Cluster`` when this module exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from ...clock import rfc3339
from ...kube.names import (
    ANN_BETA_IS_DEFAULT_CLASS,
    ANN_BETA_STORAGE_CLASS,
    ANN_IS_DEFAULT_CLASS,
    PV_PROTECTION_FINALIZER,
    PVC_PROTECTION_FINALIZER,
)
from ...kube.quantity import parse_quantity
from ..engine_services import EngineServices
from ..errors import forbidden
from ..schema.validation.volumes import validate_pvc_update
from .chain import CREATE, UPDATE, AdmissionContext

JSON = dict[str, Any]


RESIZE_ONLY_BOUND = "Only bound persistent volume claims can be expanded"
RESIZE_NOT_ALLOWED = ("only dynamically provisioned pvc can be resized and "
                      "the storageclass that provisions the pvc must support resize")


def _is_core(ctx: AdmissionContext, plural: str) -> bool:
    return ctx.rt.group == "" and ctx.rt.plural == plural


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def is_default_class(sc: Mapping[str, Any]) -> bool:
    anns = _annotations(sc)
    return anns.get(ANN_IS_DEFAULT_CLASS) == "true" or anns.get(ANN_BETA_IS_DEFAULT_CLASS) == "true"


def default_class_name(classes: Iterable[Mapping[str, Any]]) -> str | None:
    """``GetDefaultClass``: the newest default class wins; equal timestamps go to the lowest name."""
    defaults = [sc for sc in classes if is_default_class(sc)]
    if not defaults:
        return None
    defaults.sort(key=lambda sc: str((sc.get("metadata") or {}).get("name") or ""))
    defaults.sort(key=lambda sc: str((sc.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    return str(defaults[0]["metadata"]["name"])


class DefaultStorageClass:
    """Upstream ``DefaultStorageClass``: on PVC create, fill ``spec.storageClassName`` (§0.5).

    An explicit ``""`` and the beta class annotation both count as "has a class" and are kept.
    """

    name = "DefaultStorageClass"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != CREATE or ctx.subresource or not _is_core(ctx, "persistentvolumeclaims"):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if ANN_BETA_STORAGE_CLASS in _annotations(obj) or spec.get("storageClassName") is not None:
            return
        name = default_class_name(ctx.list("storage.k8s.io", "storageclasses", None))
        if name is not None:
            spec["storageClassName"] = name

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


class StorageObjectInUseProtection:
    """Upstream ``StorageObjectInUseProtection``: add the protection finalizer on create (§0.2)."""

    name = "StorageObjectInUseProtection"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != CREATE or ctx.subresource:
            return
        if _is_core(ctx, "persistentvolumeclaims"):
            finalizer = PVC_PROTECTION_FINALIZER
        elif _is_core(ctx, "persistentvolumes"):
            finalizer = PV_PROTECTION_FINALIZER
        else:
            return
        meta = obj.setdefault("metadata", {})
        finalizers = meta.get("finalizers")
        if not isinstance(finalizers, list):
            finalizers = []
        if finalizer not in finalizers:
            meta["finalizers"] = [*finalizers, finalizer]

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


def claim_class(pvc: Mapping[str, Any]) -> str:
    """``GetPersistentVolumeClaimClass``: the beta annotation wins over ``spec.storageClassName``."""
    ann = _annotations(pvc).get(ANN_BETA_STORAGE_CLASS)
    if ann is not None:
        return str(ann)
    return str((pvc.get("spec") or {}).get("storageClassName") or "")


def _requested_storage(pvc: Mapping[str, Any]) -> Decimal:
    raw = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    if raw is None:
        return Decimal(0)
    try:
        return parse_quantity(str(raw))
    except ValueError:
        return Decimal(0)


class PersistentVolumeClaimResize:
    """Upstream ``PersistentVolumeClaimResize`` (validating): growing a claim needs a bound claim
    whose class (unchanged, non-empty) has ``allowVolumeExpansion: true``.

    kube-apiserver validates the object before validating admission runs, so an update that
    field validation refuses gets that 422 first; this plugin stays silent on such updates.
    """

    name = "PersistentVolumeClaimResize"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != UPDATE or ctx.subresource or old is None or not _is_core(ctx, "persistentvolumeclaims"):
            return
        if _requested_storage(obj) <= _requested_storage(old):
            return
        if validate_pvc_update(obj, old):
            return  # field validation answers with its 422, as upstream's order gives
        name = str((obj.get("metadata") or {}).get("name") or "")
        if (old.get("status") or {}).get("phase") != "Bound":
            raise forbidden("", "persistentvolumeclaims", name, RESIZE_ONLY_BOUND)
        if not self._allow_resize(ctx, obj, old):
            raise forbidden("", "persistentvolumeclaims", name, RESIZE_NOT_ALLOWED)

    @staticmethod
    def _allow_resize(ctx: AdmissionContext, obj: JSON, old: JSON) -> bool:
        cls, old_cls = claim_class(obj), claim_class(old)
        if not cls or not old_cls or cls != old_cls:
            return False
        sc = ctx.lookup("storage.k8s.io", "storageclasses", "", cls)
        return sc is not None and sc.get("allowVolumeExpansion") is True


class PersistentVolumeStatusStrategy:
    """The PV registry's ``lastPhaseTransitionTime`` bookkeeping (§0.3).

    On create the phase is ``Pending`` and the time is now; on a status write that changes the
    phase the server stamps now unless the client set a new value itself.
    """

    name = "PersistentVolumeStatusStrategy"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if not _is_core(ctx, "persistentvolumes"):
            return
        status = obj.get("status")
        if not isinstance(status, dict):
            return
        now = rfc3339(ctx.now)
        if ctx.operation == CREATE:
            status["phase"] = "Pending"
            status["lastPhaseTransitionTime"] = now
            return
        if ctx.operation != UPDATE or old is None:
            return
        old_status = old.get("status") or {}
        new_time = status.get("lastPhaseTransitionTime")
        if old_status.get("phase") == status.get("phase"):
            if new_time is None and old_status.get("lastPhaseTransitionTime") is not None:
                status["lastPhaseTransitionTime"] = old_status["lastPhaseTransitionTime"]
        elif new_time is None or new_time == old_status.get("lastPhaseTransitionTime"):
            status["lastPhaseTransitionTime"] = now

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


def plugins() -> list[Any]:
    return [DefaultStorageClass(), StorageObjectInUseProtection(), PersistentVolumeClaimResize(),
            PersistentVolumeStatusStrategy()]


def install(engine: EngineServices) -> None:
    """Add the storage plugins to the engine's admission chain (after NamespaceLifecycle)."""
    for plugin in plugins():
        engine.admission.add(plugin)
