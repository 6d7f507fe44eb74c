"""PV/PVC helpers shared by the PV controller and the protection controllers (storage.md §0.1, §1.2, §1.3).

These are component-helpers' ``storage/volume`` rules on plain dicts: which class a claim asks
for, whether a PV is bound to a claim, delay binding, and ``FindMatchingVolume`` with the PV
controller's access-mode index walk. They live apart from the controllers so every caller agrees
on them to the letter.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from ..api import selectors
from ..kube.names import (
    ANN_BETA_IS_DEFAULT_CLASS,
    ANN_BETA_STORAGE_CLASS,
    ANN_BOUND_BY_CONTROLLER,
    ANN_IS_DEFAULT_CLASS,
    ANN_SELECTED_NODE,
)
from ..kube.quantity import parse_quantity

JSON = dict[str, Any]

# storage.md §0.1 annotations.

# storage.md §0.2 finalizers.

WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"


def meta(obj: Mapping[str, Any]) -> JSON:
    return obj.get("metadata") or {}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return meta(obj).get("annotations") or {}


def has_annotation(obj: Mapping[str, Any], key: str) -> bool:
    return key in annotations_of(obj)


def name_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name") or "")


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("namespace") or "")


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("uid") or "")


def spec_of(obj: Mapping[str, Any]) -> JSON:
    return obj.get("spec") or {}


def phase_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")


def set_annotation(obj: JSON, key: str, value: str) -> None:
    md = obj.setdefault("metadata", {})
    anns = md.get("annotations")
    if not isinstance(anns, dict):
        anns = {}
        md["annotations"] = anns
    anns[key] = value


def claim_key(pvc: Mapping[str, Any]) -> str:
    return f"{namespace_of(pvc)}/{name_of(pvc)}"


def claimref_key(ref: Mapping[str, Any]) -> str:
    return f"{ref.get('namespace') or ''}/{ref.get('name') or ''}"


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
    """``GetPersistentVolumeClass``."""
    anns = annotations_of(pv)
    if ANN_BETA_STORAGE_CLASS in anns:
        return str(anns[ANN_BETA_STORAGE_CLASS])
    return str(spec_of(pv).get("storageClassName") or "")


def is_default_class(sc: Mapping[str, Any]) -> bool:
    """``IsDefaultAnnotation``: the value must be exactly "true"."""
    anns = annotations_of(sc)
    return anns.get(ANN_IS_DEFAULT_CLASS) == "true" or anns.get(ANN_BETA_IS_DEFAULT_CLASS) == "true"


def default_class(classes: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """``GetDefaultClass`` (§0.5): with several defaults the newest wins, ties to the lowest name."""
    defaults = [sc for sc in classes if is_default_class(sc)]
    if not defaults:
        return None
    defaults.sort(key=lambda sc: name_of(sc))
    defaults.sort(key=lambda sc: str(meta(sc).get("creationTimestamp") or ""), reverse=True)
    return defaults[0]


def is_delay_binding_mode(pvc: Mapping[str, Any], classes: Mapping[str, Mapping[str, Any]]) -> bool:
    """§1.2: WaitForFirstConsumer only with a named class that exists; a missing class is Immediate."""
    name = claim_class(pvc)
    if not name:
        return False
    sc = classes.get(name)
    return sc is not None and sc.get("volumeBindingMode") == WAIT_FOR_FIRST_CONSUMER


def is_delay_binding_provisioning(pvc: Mapping[str, Any]) -> bool:
    """The scheduler has picked a node (``selected-node``), so provisioning may start."""
    return has_annotation(pvc, ANN_SELECTED_NODE)


# --------------------------------------------------------------------------- quantities and modes


def storage_bytes(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(parse_quantity(str(value)))
    except (ValueError, ArithmeticError):
        return 0


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


# --------------------------------------------------------------------------- binding predicates


def is_volume_bound_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> bool:
    """``IsVolumeBoundToClaim``: the claimRef names this claim (and its UID, when the ref has one)."""
    ref = spec_of(pv).get("claimRef")
    if not ref:
        return False
    if ref.get("name") != name_of(pvc) or (ref.get("namespace") or "") != namespace_of(pvc):
        return False
    uid = ref.get("uid")
    return not uid or uid == uid_of(pvc)


def claim_reference(pvc: Mapping[str, Any]) -> JSON:
    """``reference.GetReference`` for a claim, in the field order client-go writes."""
    return {"kind": "PersistentVolumeClaim", "namespace": namespace_of(pvc), "name": name_of(pvc),
            "uid": uid_of(pvc), "apiVersion": "v1", "resourceVersion": str(meta(pvc).get("resourceVersion") or "")}


def bind_volume_to_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> tuple[JSON, bool]:
    """``GetBindVolumeToClaim``: a copy with a full claimRef; bound-by-controller unless user pre-bound."""
    set_bound_by = not is_volume_bound_to_claim(pv, pvc)
    ref = spec_of(pv).get("claimRef") or {}
    new_ref = (not ref or ref.get("name") != name_of(pvc) or (ref.get("namespace") or "") != namespace_of(pvc)
               or (ref.get("uid") or "") != uid_of(pvc))
    new_ann = set_bound_by and not has_annotation(pv, ANN_BOUND_BY_CONTROLLER)
    if not (new_ref or new_ann):
        # Already bound (every resync of a bound claim): no copy of a PV with its managedFields.
        return dict(pv), False
    new: JSON = copy.deepcopy(dict(pv))
    if new_ref:
        new.setdefault("spec", {})["claimRef"] = claim_reference(pvc)
    if new_ann:
        set_annotation(new, ANN_BOUND_BY_CONTROLLER, "yes")
    return new, True


# --------------------------------------------------------------------------- selectors


def match_label_selector(selector: Mapping[str, Any], labels: Mapping[str, str] | None) -> bool:
    """metav1.LabelSelector: matchLabels and matchExpressions ANDed; ``{}`` matches everything."""
    return selectors.match_label_selector(selector, labels)


def match_node_affinity(pv: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``CheckNodeAffinity``: required node-selector terms ORed, expressions/fields ANDed."""
    return selectors.pv_node_affinity_matches(pv, node)


# --------------------------------------------------------------------------- matching (§1.3)


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
        if meta(pv).get("deletionTimestamp"):
            continue  # rule 5
        affinity_ok = node is None or match_node_affinity(pv, node)
        if is_volume_bound_to_claim(pv, pvc):
            return pv if affinity_ok else None  # rule 6
        if node is None and delay_binding:
            continue  # rule 7
        if phase_of(pv) != "Available":
            continue  # rule 8
        if selector is not None and not match_label_selector(selector, meta(pv).get("labels")):
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


def find_best_match_for_claim(pvc: Mapping[str, Any], volumes: Iterable[Mapping[str, Any]],
                              delay_binding: bool) -> Mapping[str, Any] | None:
    """The PV controller's ``findByClaim``: walk the access-mode index, fewest modes first.

    PVs are grouped by their exact access-mode set; every set that contains all the requested
    modes is tried in order of size, and the first set with a match decides. So an RWO claim
    prefers a larger RWO-only PV over a smaller RWO+RWX one, as upstream does.
    """
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for pv in volumes:
        modes = tuple(sorted(set(spec_of(pv).get("accessModes") or [])))
        groups.setdefault(modes, []).append(pv)
    wanted = set(spec_of(pvc).get("accessModes") or [])
    candidates = [modes for modes in groups if wanted.issubset(modes)]
    candidates.sort(key=lambda modes: (len(modes), modes))
    for modes in candidates:
        found = find_matching_volume(pvc, groups[modes], delay_binding=delay_binding)
        if found is not None:
            return found
    return None


def check_volume_satisfy_claim(pv: Mapping[str, Any], pvc: Mapping[str, Any]) -> str | None:
    """``checkVolumeSatisfyClaim`` (§1.5): why a pre-bound PV cannot serve the claim, or None."""
    if meta(pv).get("deletionTimestamp"):
        return f'the volume is marked for deletion "{name_of(pv)}"'
    if volume_capacity(pv) < claim_request(pvc):
        return "requested PV is too small"
    if volume_class(pv) != claim_class(pvc):
        return "storageClassName does not match"
    if volume_mode_mismatch(pvc, pv):
        return "incompatible volumeMode"
    if not access_modes_ok(pvc, pv):
        return "incompatible accessMode"
    return None


# --------------------------------------------------------------------------- pods


def is_pod_terminated(pod: Mapping[str, Any]) -> bool:
    """``IsPodTerminated`` (simplified): a pod in a terminal phase."""
    return phase_of(pod) in ("Succeeded", "Failed")


def pod_claim_names(pod: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """The claims a pod references: (claim name, is generic ephemeral). Ephemeral ones are ``<pod>-<vol>``."""
    out: list[tuple[str, bool]] = []
    for vol in spec_of(pod).get("volumes") or []:
        if not isinstance(vol, dict):
            continue
        if isinstance(vol.get("persistentVolumeClaim"), dict):
            out.append((str(vol["persistentVolumeClaim"].get("claimName") or ""), False))
        elif vol.get("ephemeral") is not None:
            out.append((f"{name_of(pod)}-{vol.get('name', '')}", True))
    return out
