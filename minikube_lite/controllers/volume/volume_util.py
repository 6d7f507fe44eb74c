"""PV/PVC helpers of the PV controller and the protection controllers (storage.md §0.1, §1.2, §1.5).

The rules the scheduler shares (classes, bound-to-claim, ``FindMatchingVolume``,
``GetBindVolumeToClaim``) live in :mod:`minikube_lite.kube.volumes`; what is here is the
controller's own: the access-mode index walk of ``findByClaim``, ``checkVolumeSatisfyClaim``,
default classes and the claims a pod uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...kube.meta import (
    annotations_of,
    has_annotation,
    metadata_of,
    name_of,
    namespace_of,
    phase_of,
    spec_of,
)
from ...kube.names import (
    ANN_BETA_IS_DEFAULT_CLASS,
    ANN_IS_DEFAULT_CLASS,
    ANN_SELECTED_NODE,
)
from ...kube.volumes import (
    access_modes_ok,
    claim_class,
    claim_request,
    find_matching_volume,
    volume_capacity,
    volume_class,
    volume_mode_mismatch,
)

JSON = dict[str, Any]


def claim_key(pvc: Mapping[str, Any]) -> str:
    return f"{namespace_of(pvc)}/{name_of(pvc)}"


def claimref_key(ref: Mapping[str, Any]) -> str:
    return f"{ref.get('namespace') or ''}/{ref.get('name') or ''}"


# --------------------------------------------------------------------------- classes


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
    defaults.sort(key=lambda sc: str(metadata_of(sc).get("creationTimestamp") or ""), reverse=True)
    return defaults[0]


def is_delay_binding_provisioning(pvc: Mapping[str, Any]) -> bool:
    """The scheduler has picked a node (``selected-node``), so provisioning may start."""
    return has_annotation(pvc, ANN_SELECTED_NODE)


# --------------------------------------------------------------------------- binding predicates


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
    if metadata_of(pv).get("deletionTimestamp"):
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
