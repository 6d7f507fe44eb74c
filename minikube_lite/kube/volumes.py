"""The PV/PVC rules both the PV controller and the scheduler's VolumeBinding apply (storage.md §1.2, §1.3).

component-helpers ``storage/volume`` (pv_helpers.go) on plain dicts: which class a claim asks for,
whether a PV is bound to a claim, delay binding, ``FindMatchingVolume`` and ``GetBindVolumeToClaim``
(the PV the binder writes, and the PV the scheduler assumes before it writes the same). The binder and the
scheduler must pick the same PV for the same claim, so there is one copy of each rule, here.

Sizes are compared as upstream compares them: ``Quantity.Value()`` of the claim's request and of
the PV's capacity, both rounded *up* to whole bytes, so a fractional request (``1.5`` bytes, or
``0.1Ki``) asks for the next whole byte on both paths.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .meta import (
    annotations_of,
    has_annotation,
    metadata_of,
    name_of,
    namespace_of,
    phase_of,
    set_annotation,
    spec_of,
    uid_of,
)
from .names import ANN_BETA_STORAGE_CLASS, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, HOSTNAME_LABEL
from .quantity import value
from .selectors import match_label_selector, pv_node_affinity_matches

WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"

V = TypeVar("V", bound=Mapping[str, Any])


# --------------------------------------------------------------------------- sizes and modes


def storage_bytes(quantity: Any) -> int:
    """``Quantity.Value()`` of a storage quantity: whole bytes, rounded up; 0 when absent or unreadable."""
    if quantity is None or quantity == "":
        return 0
    return value(quantity)


def claim_request(pvc: Mapping[str, Any]) -> int:
    return storage_bytes(((spec_of(pvc).get("resources") or {}).get("requests") or {}).get("storage"))


def volume_capacity(pv: Mapping[str, Any]) -> int:
    return storage_bytes((spec_of(pv).get("capacity") or {}).get("storage"))


def volume_mode(spec: Mapping[str, Any]) -> str:
    return str(spec.get("volumeMode") or "Filesystem")


def volume_mode_mismatch(pvc: Mapping[str, Any], pv: Mapping[str, Any]) -> bool:
    """``CheckVolumeModeMismatches``: nil counts as Filesystem on both sides."""
    return volume_mode(spec_of(pvc)) != volume_mode(spec_of(pv))


def access_modes_ok(pvc: Mapping[str, Any], pv: Mapping[str, Any]) -> bool:
    """``CheckAccessModes``: the PV offers every mode the claim asks for."""
    have = set(spec_of(pv).get("accessModes") or [])
    return all(m in have for m in spec_of(pvc).get("accessModes") or [])


# --------------------------------------------------------------------------- classes


def claim_has_class(pvc: Mapping[str, Any]) -> bool:
    """``PersistentVolumeClaimHasClass``: an explicit ``""`` counts as a class (the "no class" one)."""
    return has_annotation(pvc, ANN_BETA_STORAGE_CLASS) or spec_of(pvc).get("storageClassName") is not None


def claim_class(pvc: Mapping[str, Any]) -> str:
    """``GetPersistentVolumeClaimClass``: the beta annotation wins over the field (§0.1)."""
    anns = annotations_of(pvc)
    if ANN_BETA_STORAGE_CLASS in anns:
        return str(anns[ANN_BETA_STORAGE_CLASS])
    return str(spec_of(pvc).get("storageClassName") or "")


def volume_class(pv: Mapping[str, Any]) -> str:
    """``GetPersistentVolumeClass``: the beta annotation wins over the field."""
    anns = annotations_of(pv)
    if ANN_BETA_STORAGE_CLASS in anns:
        return str(anns[ANN_BETA_STORAGE_CLASS])
    return str(spec_of(pv).get("storageClassName") or "")


def is_delay_binding_mode(pvc: Mapping[str, Any], classes: Mapping[str, Mapping[str, Any]]) -> bool:
    """§1.2: WaitForFirstConsumer only with a named class that exists; a missing class is Immediate."""
    name = claim_class(pvc)
    if not name:
        return False
    sc = classes.get(name)
    return sc is not None and sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER


# --------------------------------------------------------------------------- binding


def is_volume_bound_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> bool:
    """``IsVolumeBoundToClaim``: the claimRef names this claim (and its UID, when the ref has one)."""
    ref = spec_of(pv).get("claimRef")
    if not ref:
        return False
    if ref.get("name") != name_of(pvc) or (ref.get("namespace") or "") != namespace_of(pvc):
        return False
    uid = ref.get("uid")
    return not uid or uid == uid_of(pvc)


def is_pvc_fully_bound(pvc: Mapping[str, Any]) -> bool:
    """The claim names its volume and the binder has finished (``bind-completed``)."""
    return bool((pvc.get("spec") or {}).get("volumeName")) and ANN_BIND_COMPLETED in annotations_of(pvc)


def local_pv_node_names(pv: Mapping[str, Any] | None) -> set[str] | None:
    """``GetLocalPersistentVolumeNodeNames``: hostnames a PV is pinned to, or None."""
    if pv is None:
        return None
    required = ((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")
    if not required:
        return None
    result: set[str] = set()
    for term in required.get("nodeSelectorTerms") or []:
        nodes: set[str] | None = None
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") == HOSTNAME_LABEL and expr.get("operator") == "In":
                vals = set(expr.get("values") or [])
                nodes = vals if nodes is None else nodes & vals
        if nodes:
            result |= nodes
    return result or None


def claim_reference(pvc: Mapping[str, Any]) -> dict[str, Any]:
    """``reference.GetReference`` for a claim, in the field order client-go writes."""
    return {"kind": "PersistentVolumeClaim", "namespace": namespace_of(pvc), "name": name_of(pvc),
            "uid": uid_of(pvc), "apiVersion": "v1", "resourceVersion": str(metadata_of(pvc).get("resourceVersion") or "")}


def bind_volume_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """``GetBindVolumeToClaim``: a copy with a full claimRef; bound-by-controller unless user
    pre-bound. ``dirty`` says whether anything changed (nothing to write otherwise)."""
    set_bound_by = not is_volume_bound_to_claim(pv, pvc)
    ref = spec_of(pv).get("claimRef") or {}
    new_ref = (not ref or ref.get("name") != name_of(pvc) or (ref.get("namespace") or "") != namespace_of(pvc)
               or (ref.get("uid") or "") != uid_of(pvc))
    new_ann = set_bound_by and not has_annotation(pv, ANN_BOUND_BY_CONTROLLER)
    if not (new_ref or new_ann):
        # Already bound (every resync of a bound claim): no copy of a PV with its managedFields.
        return dict(pv), False
    new: dict[str, Any] = copy.deepcopy(dict(pv))
    if new_ref:
        new.setdefault("spec", {})["claimRef"] = claim_reference(pvc)
    if new_ann:
        set_annotation(new, ANN_BOUND_BY_CONTROLLER, "yes")
    return new, True


def find_matching_volume(pvc: Mapping[str, Any], volumes: Iterable[Mapping[str, Any]], *,
                         node: Mapping[str, Any] | None = None, excluded: set[str] | None = None,
                         delay_binding: bool = False) -> Mapping[str, Any] | None:
    """``FindMatchingVolume``: rules 1-9 of §1.3 over one candidate set; pre-bound wins, else smallest."""
    excluded = excluded or set()
    requested = claim_request(pvc)
    requested_class = claim_class(pvc)
    selector = spec_of(pvc).get("selector")
    vac = spec_of(pvc).get("volumeAttributesClassName") or ""
    smallest: Mapping[str, Any] | None = None
    smallest_size = 0
    for pv in volumes:
        if name_of(pv) in excluded:
            continue
        pv_spec = spec_of(pv)
        if pv_spec.get("claimRef") and not is_volume_bound_to_claim(pv, pvc):
            continue  # rule 1
        size = volume_capacity(pv)
        if size < requested:
            continue  # rule 2
        if volume_mode_mismatch(pvc, pv):
            continue  # rule 3
        if (pv_spec.get("volumeAttributesClassName") or "") != vac:
            continue  # rule 4
        if metadata_of(pv).get("deletionTimestamp"):
            continue  # rule 5
        affinity_ok = node is None or pv_node_affinity_matches(pv, node)
        if is_volume_bound_to_claim(pv, pvc):
            return pv if affinity_ok else None  # rule 6
        if node is None and delay_binding:
            continue  # rule 7
        if phase_of(pv) != "Available":
            continue  # rule 8
        if selector is not None and not match_label_selector(selector, metadata_of(pv).get("labels")):
            continue
        if volume_class(pv) != requested_class:
            continue
        if not affinity_ok:
            continue
        if node is not None and not access_modes_ok(pvc, pv):
            continue
        if smallest is None or size < smallest_size:  # rule 9
            smallest, smallest_size = pv, size
    return smallest


def prepare_matching(pvc: Mapping[str, Any], volumes: Sequence[V]) -> tuple[V | None, list[V]]:
    """:func:`find_matching_volume` with a node, as the scheduler runs it: the checks that do not
    depend on the node, done once per cycle, so each node only tests node affinity.

    Returns the first PV pre-bound to the claim (which, if present, decides alone: it is chosen
    when its node affinity fits, and otherwise nothing is), or the PVs that pass every check but
    node affinity, smallest first (ties in list order), so each node only tests affinity.
    """
    requested = claim_request(pvc)
    requested_class = claim_class(pvc)
    spec = pvc.get("spec") or {}
    selector = spec.get("selector")
    vac = spec.get("volumeAttributesClassName") or ""
    mode = volume_mode(spec)
    candidates: list[tuple[int, int, V]] = []
    for i, pv in enumerate(volumes):
        pv_spec = pv.get("spec") or {}
        bound_here = is_volume_bound_to_claim(pv, pvc)
        if pv_spec.get("claimRef") and not bound_here:
            continue
        qty = volume_capacity(pv)
        if qty < requested or volume_mode(pv_spec) != mode:
            continue
        if (pv_spec.get("volumeAttributesClassName") or "") != vac:
            continue
        if (pv.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if bound_here:
            return pv, []
        if (pv.get("status") or {}).get("phase") != "Available":
            continue
        if selector is not None and not match_label_selector(selector, (pv.get("metadata") or {}).get("labels")):
            continue
        if volume_class(pv) != requested_class or not access_modes_ok(pvc, pv):
            continue
        candidates.append((qty, i, pv))
    candidates.sort(key=lambda t: (t[0], t[1]))
    return None, [pv for _, _, pv in candidates]
