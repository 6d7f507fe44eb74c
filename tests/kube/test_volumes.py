"""The PV/PVC matching rules: one copy, so the PV binder and the scheduler choose the same volume."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.controllers.volume import volume_util
from minikube_lite.kube.volumes import (
    bind_volume_to_claim,
    claim_request,
    find_matching_volume,
    prepare_matching,
    volume_capacity,
)
from minikube_lite.scheduler.plugins import volumebinding


def pv(name: str, capacity: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"capacity": {"storage": capacity}, "accessModes": ["ReadWriteOnce"],
                                                 "storageClassName": "local"},
            "status": {"phase": "Available"}}


def pvc(request: str) -> dict[str, Any]:
    return {"metadata": {"name": "data", "namespace": "default", "uid": "u1"},
            "spec": {"resources": {"requests": {"storage": request}}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": "local"}}


@pytest.mark.parametrize(("request_", "want_bytes"), [("1500m", 2), ("1.5", 2), ("2", 2), ("1Ki", 1024), ("0.1Ki", 103)])
def test_request_rounds_up_to_whole_bytes_as_quantity_value(request_: str, want_bytes: int) -> None:
    """``FindMatchingVolume`` compares ``Quantity.Value()`` of request and capacity: rounded up."""
    assert claim_request(pvc(request_)) == want_bytes
    assert volume_capacity(pv("v", request_)) == want_bytes


@pytest.mark.parametrize("request_", ["1500m", "1.5", "102.4"])
def test_binder_and_scheduler_agree_on_a_fractional_request(request_: str) -> None:
    """A request of 1.5 bytes needs 2: a 1-byte PV fits neither the binder nor the scheduler."""
    claim = pvc(request_)
    volumes = [pv("too-small", str(int(float(request_.rstrip("m")) / (1000 if request_.endswith("m") else 1)))),
               pv("fits", "1Ki")]
    binder = volume_util.find_best_match_for_claim(claim, volumes, delay_binding=False)
    prebound, candidates = prepare_matching(claim, volumes)
    assert prebound is None
    scheduler = candidates[0] if candidates else None
    assert binder is not None and scheduler is not None
    assert binder["metadata"]["name"] == scheduler["metadata"]["name"] == "fits"
    assert find_matching_volume(claim, volumes)["metadata"]["name"] == "fits"  # type: ignore[index]


def test_bind_volume_to_claim_sets_a_full_claim_ref_and_bound_by_controller() -> None:
    volume, claim = pv("v", "1Gi"), pvc("1Gi")
    claim["metadata"]["resourceVersion"] = "42"
    bound, dirty = bind_volume_to_claim(volume, claim)
    assert dirty
    assert bound["spec"]["claimRef"] == {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data",
                                         "uid": "u1", "apiVersion": "v1", "resourceVersion": "42"}
    assert bound["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert "claimRef" not in volume["spec"] and "annotations" not in volume["metadata"]  # a copy
    assert bind_volume_to_claim(bound, claim) == (bound, False)  # bound already: nothing to write


def test_a_volume_pre_bound_by_the_user_gets_the_uid_but_no_bound_by_controller() -> None:
    volume, claim = pv("v", "1Gi"), pvc("1Gi")
    volume["spec"]["claimRef"] = {"namespace": "default", "name": "data"}
    bound, dirty = bind_volume_to_claim(volume, claim)
    assert dirty and bound["spec"]["claimRef"]["uid"] == "u1"
    assert "annotations" not in bound["metadata"]
    # HasAnnotation semantics: any value of bound-by-controller counts as set.
    volume = pv("w", "1Gi")
    volume["metadata"]["annotations"] = {"pv.kubernetes.io/bound-by-controller": "no"}
    bound, _ = bind_volume_to_claim(volume, claim)
    assert bound["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "no"}


def test_the_scheduler_assumes_the_pv_the_binder_would_write() -> None:
    """VolumeBinding's Reserve and the PV controller build the bound PV with the one rule."""
    assert volumebinding.bind_volume_to_claim is bind_volume_to_claim
    assert not hasattr(volume_util, "bind_volume_to_claim")
    assert volumebinding.prepare_matching is prepare_matching
