"""Storage admission (storage.md §0): default StorageClass, protection finalizers, PV status
strategy and StorageClass update rules. Run through the real API path, no controllers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig

JSON = dict[str, Any]
BARE = {"nodes": [{"name": "node1", "zone": "cn-hangzhou-b"}],
        "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b"]}}


@pytest_asyncio.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async with Cluster(ClusterConfig.from_dict(BARE), clock=VirtualClock(), components=False) as c:
        yield c


def sc(name: str, *, default: str | None = None, beta_default: str | None = None, **extra: Any) -> JSON:
    anns = {}
    if default is not None:
        anns["storageclass.kubernetes.io/is-default-class"] = default
    if beta_default is not None:
        anns["storageclass.beta.kubernetes.io/is-default-class"] = beta_default
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, **({"annotations": anns} if anns else {})},
            "provisioner": extra.pop("provisioner", "example.com/csi"), **extra}


def claim(name: str, **spec: Any) -> JSON:
    annotations = spec.pop("annotations", None)
    body: JSON = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
                  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec}}
    if annotations:
        body["metadata"]["annotations"] = annotations
    return body


def volume(name: str, **extra: Any) -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": "/tmp/x"}}, **extra}


# ---------------------------------------------------------------- §0.5 default StorageClass


async def test_0_5_default_class_is_set_on_create(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("fast"))
    await cluster.client.create("storageclasses", sc("std", default="true"))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["spec"]["storageClassName"] == "std"


async def test_0_5_beta_default_annotation_counts(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("beta", beta_default="true"))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["spec"]["storageClassName"] == "beta"


@pytest.mark.parametrize("value", ["True", "yes", "1", ""])
async def test_0_1_default_annotation_must_be_exactly_true(cluster: Cluster, value: str) -> None:
    await cluster.client.create("storageclasses", sc("std", default=value))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert "storageClassName" not in created["spec"]


async def test_0_5_explicit_empty_class_is_never_defaulted(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("std", default="true"))
    created = await cluster.client.create("pvc", claim("c", storageClassName=""), "default")
    assert created["spec"]["storageClassName"] == ""


async def test_0_5_beta_class_annotation_is_not_defaulted(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("std", default="true"))
    created = await cluster.client.create(
        "pvc", claim("c", annotations={"volume.beta.kubernetes.io/storage-class": "old"}), "default")
    assert "storageClassName" not in created["spec"]


async def test_0_5_explicit_class_is_kept(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("std", default="true"))
    created = await cluster.client.create("pvc", claim("c", storageClassName="other"), "default")
    assert created["spec"]["storageClassName"] == "other"


async def test_0_5_no_default_class_leaves_claim_classless(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("std"))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert "storageClassName" not in created["spec"]


async def test_0_5_several_defaults_newest_wins(cluster: Cluster) -> None:
    assert isinstance(cluster.clock, VirtualClock)
    await cluster.client.create("storageclasses", sc("aaa-old", default="true"))
    await cluster.clock.advance(5)
    await cluster.client.create("storageclasses", sc("zzz-new", default="true"))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["spec"]["storageClassName"] == "zzz-new"


async def test_0_5_several_defaults_same_age_lowest_name_wins(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("b-class", default="true"))
    await cluster.client.create("storageclasses", sc("a-class", default="true"))
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["spec"]["storageClassName"] == "a-class"


async def test_0_5_default_applies_only_on_create(cluster: Cluster) -> None:
    created = await cluster.client.create("pvc", claim("c"), "default")
    await cluster.client.create("storageclasses", sc("std", default="true"))
    created["metadata"]["labels"] = {"x": "y"}
    updated = await cluster.client.update("pvc", created, "default")
    assert "storageClassName" not in updated["spec"]


# ---------------------------------------------------------------- §0.2 protection finalizers


async def test_0_2_pvc_protection_finalizer_on_create(cluster: Cluster) -> None:
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


async def test_0_2_pv_protection_finalizer_on_create(cluster: Cluster) -> None:
    created = await cluster.client.create("persistentvolumes", volume("v"))
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]


async def test_0_2_finalizer_kept_once_and_others_preserved(cluster: Cluster) -> None:
    body = volume("v")
    body["metadata"]["finalizers"] = ["example.com/keep", "kubernetes.io/pv-protection"]
    created = await cluster.client.create("persistentvolumes", body)
    assert created["metadata"]["finalizers"] == ["example.com/keep", "kubernetes.io/pv-protection"]
    body = claim("c")
    body["metadata"]["finalizers"] = ["example.com/keep"]
    created = await cluster.client.create("pvc", body, "default")
    assert created["metadata"]["finalizers"] == ["example.com/keep", "kubernetes.io/pvc-protection"]


async def test_0_2_finalizer_added_only_on_create(cluster: Cluster) -> None:
    created = await cluster.client.create("pvc", claim("c"), "default")
    created["metadata"]["finalizers"] = []
    updated = await cluster.client.update("pvc", created, "default")
    assert not updated["metadata"].get("finalizers")


async def test_0_2_dry_run_create_shows_finalizer(cluster: Cluster) -> None:
    created = await cluster.client.create("pvc", claim("c"), "default", dry_run=True)
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]


# ---------------------------------------------------------------- §0.3 defaulting and PV status


async def test_0_3_pv_create_discards_status_and_stamps_transition_time(cluster: Cluster) -> None:
    created = await cluster.client.create("persistentvolumes", volume("v", status={"phase": "Bound"}))
    assert created["status"]["phase"] == "Pending"
    assert created["status"]["lastPhaseTransitionTime"] == cluster.engine.now()
    assert created["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert created["spec"]["volumeMode"] == "Filesystem"


async def test_0_3_pv_phase_change_stamps_transition_time(cluster: Cluster) -> None:
    assert isinstance(cluster.clock, VirtualClock)
    created = await cluster.client.create("persistentvolumes", volume("v"))
    first = created["status"]["lastPhaseTransitionTime"]
    await cluster.clock.advance(30)
    created["status"] = {"phase": "Available"}
    updated = await cluster.client.update("persistentvolumes", created, subresource="status")
    assert updated["status"]["lastPhaseTransitionTime"] == cluster.engine.now() != first
    await cluster.clock.advance(30)
    updated["status"] = {"phase": "Available", "message": "same phase"}
    again = await cluster.client.update("persistentvolumes", updated, subresource="status")
    assert again["status"]["lastPhaseTransitionTime"] != cluster.engine.now()


async def test_0_3_pvc_and_class_defaults(cluster: Cluster) -> None:
    created = await cluster.client.create("pvc", claim("c"), "default")
    assert created["spec"]["volumeMode"] == "Filesystem"
    assert created["status"]["phase"] == "Pending"
    made = await cluster.client.create("storageclasses", sc("std"))
    assert made["reclaimPolicy"] == "Delete" and made["volumeBindingMode"] == "Immediate"


# ---------------------------------------------------------------- §0.4 StorageClass updates


@pytest.mark.parametrize(("field", "value", "message"), [
    ("parameters", {"type": "b"}, 'parameters: Forbidden: updates to parameters are forbidden.'),
    ("provisioner", "other.example.com", 'provisioner: Forbidden: updates to provisioner are forbidden.'),
    ("reclaimPolicy", "Retain", 'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.'),
    ("volumeBindingMode", "WaitForFirstConsumer",
     'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable'),
])
async def test_0_4_storageclass_immutable_fields(cluster: Cluster, field: str, value: Any, message: str) -> None:
    made = await cluster.client.create("storageclasses", sc("std", parameters={"type": "a"}))
    made[field] = value
    with pytest.raises(ApiError) as err:
        await cluster.client.update("storageclasses", made)
    assert err.value.code == 422
    assert err.value.message == f'StorageClass.storage.k8s.io "std" is invalid: {message}'


async def test_0_4_allowed_topologies_mount_options_expansion_are_mutable(cluster: Cluster) -> None:
    made = await cluster.client.create("storageclasses", sc("std", allowedTopologies=[
        {"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["d"]}]}]))
    made["allowedTopologies"] = [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone",
                                                            "values": ["b"]}]}]
    made["mountOptions"] = ["debug"]
    made["allowVolumeExpansion"] = True
    updated = await cluster.client.update("storageclasses", made)
    assert updated["allowedTopologies"][0]["matchLabelExpressions"][0]["values"] == ["b"]
    assert updated["mountOptions"] == ["debug"] and updated["allowVolumeExpansion"] is True


# ---------------------------------------------------------------- PersistentVolumeClaimResize

RESIZE_FORBIDDEN = ('persistentvolumeclaims "c" is forbidden: only dynamically provisioned pvc can be resized '
                    'and the storageclass that provisions the pvc must support resize')


async def _bound_claim(cluster: Cluster, class_name: str | None, size: str = "1Gi") -> JSON:
    spec: JSON = {"volumeName": "pv-c"}
    if class_name is not None:
        spec["storageClassName"] = class_name
    await cluster.client.create("pvc", claim("c", **spec), "default")
    return await cluster.client.patch("pvc", "c", {"status": {"phase": "Bound", "capacity": {"storage": size}}},
                                      "default", subresource="status")


async def _resize(cluster: Cluster, size: str) -> JSON:
    return await cluster.client.patch("pvc", "c", {"spec": {"resources": {"requests": {"storage": size}}}},
                                      "default")


@pytest.mark.parametrize(("class_body", "class_name"), [
    ({}, "plain"),                                   # allowVolumeExpansion unset
    ({"allowVolumeExpansion": False}, "plain"),      # explicitly off
    (None, "missing"),                               # the class does not exist
    (None, ""),                                      # a claim without class (pre-bound to a PV)
])
async def test_resize_forbidden_without_expandable_class(cluster: Cluster, class_body: JSON | None,
                                                         class_name: str) -> None:
    if class_body is not None:
        await cluster.client.create("storageclasses", sc(class_name, **class_body))
    await _bound_claim(cluster, class_name)
    with pytest.raises(ApiError) as err:
        await _resize(cluster, "2Gi")
    assert (err.value.code, err.value.reason, err.value.message) == (403, "Forbidden", RESIZE_FORBIDDEN)
    stored = await cluster.client.get("pvc", "c", "default")
    assert stored["spec"]["resources"]["requests"]["storage"] == "1Gi"


async def test_resize_allowed_on_expandable_class(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("fast", allowVolumeExpansion=True))
    await _bound_claim(cluster, "fast")
    grown = await _resize(cluster, "2Gi")
    assert grown["spec"]["resources"]["requests"]["storage"] == "2Gi"
    # The same size again, or a smaller one still above status.capacity, is no expansion.
    assert (await _resize(cluster, "2Gi"))["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert (await _resize(cluster, "1536Mi"))["spec"]["resources"]["requests"]["storage"] == "1536Mi"


async def test_shrink_to_status_capacity_is_invalid(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("fast", allowVolumeExpansion=True))
    await _bound_claim(cluster, "fast", size="2Gi")
    await _resize(cluster, "4Gi")
    for size in ("2Gi", "1Gi"):
        with pytest.raises(ApiError) as err:
            await _resize(cluster, size)
        assert err.value.code == 422
        assert err.value.message == ('PersistentVolumeClaim "c" is invalid: spec.resources.requests.storage: '
                                     'Forbidden: field can not be less than status.capacity')


async def test_shrink_after_failed_expansion_is_allowed_above_capacity(cluster: Cluster) -> None:
    """RecoverVolumeExpansionFailure (GA): a too-large request may be lowered, but not to capacity."""
    await cluster.client.create("storageclasses", sc("fast", allowVolumeExpansion=True))
    await _bound_claim(cluster, "fast", size="1Gi")
    await _resize(cluster, "100Ti")
    await cluster.client.patch("pvc", "c", {"status": {
        "allocatedResources": {"storage": "100Ti"},
        "allocatedResourceStatuses": {"storage": "ControllerResizeInfeasible"}}}, "default", subresource="status")
    assert (await _resize(cluster, "2Gi"))["spec"]["resources"]["requests"]["storage"] == "2Gi"


async def test_unbound_claim_growth_is_the_immutable_spec_error(cluster: Cluster) -> None:
    """Field validation runs before validating admission: an unbound claim's spec is immutable."""
    await cluster.client.create("storageclasses", sc("fast", allowVolumeExpansion=True))
    await cluster.client.create("pvc", claim("c", storageClassName="fast"), "default")
    with pytest.raises(ApiError) as err:
        await _resize(cluster, "2Gi")
    assert err.value.code == 422
    assert err.value.message.startswith(
        'PersistentVolumeClaim "c" is invalid: spec: Forbidden: spec is immutable after creation except '
        'resources.requests and volumeAttributesClassName for bound claims')


async def test_bound_claim_other_spec_fields_stay_immutable(cluster: Cluster) -> None:
    await cluster.client.create("storageclasses", sc("fast", allowVolumeExpansion=True))
    await _bound_claim(cluster, "fast")
    with pytest.raises(ApiError) as err:
        await cluster.client.patch("pvc", "c", {"spec": {"accessModes": ["ReadWriteMany"],
                                                         "resources": {"requests": {"storage": "2Gi"}}}}, "default")
    assert err.value.code == 422 and "spec is immutable after creation" in err.value.message
