"""external-provisioner (storage.md §3): claim selection, request building, topology, PV fields,
restore/clone checks, deletion, reschedule, faults and restart idempotence.

Tests are named after the rule they check (``test_3_4_...`` is storage.md §3.4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import (
    ExternalProvisioner,
    ExternalProvisioners,
)
from minikube_lite.controllers.sidecars.provisioning.driver import Capabilities
from minikube_lite.controllers.sidecars.provisioning.errors import ProvisioningError
from minikube_lite.controllers.sidecars.provisioning.fields import limit_bytes, request_bytes
from minikube_lite.controllers.sidecars.provisioning.messages import (
    ANN_DELETION_SECRET_NAME,
    ANN_DELETION_SECRET_NAMESPACE,
    CLONE_FINALIZER,
    PROVISIONER_ID_KEY,
    PV_FINALIZER,
    SNAPSHOT_SOURCE_FINALIZER,
    VS_RESOURCE,
    VSC_RESOURCE,
)
from minikube_lite.controllers.sidecars.provisioning.requests import split_parameters
from minikube_lite.controllers.sidecars.provisioning.topology import (
    flatten_allowed,
    pvc_name_hash_and_index,
    volume_node_affinity,
)
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.kube.names import ANN_PROVISIONED_BY, ANN_SELECTED_NODE
from minikube_lite.scheduler.scheduler import Scheduler

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
    # Go's fnv.New32 (FNV-1, 32 bit) test vectors.
    assert pvc_name_hash_and_index("a")[0] == 0x050C5D7E
    assert pvc_name_hash_and_index("foobar")[0] == 0x31F0B262


def test_3_5_node_affinity_from_accessible_topology() -> None:
    assert volume_node_affinity([]) is None
    assert volume_node_affinity([{ZONE: "b"}, {ZONE: "d"}]) == {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]},
        {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["d"]}]}]}}


# ---------------------------------------------------------------- topology against a live API


def csinode(node: str, keys: list[str], driver: str = DRIVER) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": node},
            "spec": {"drivers": [{"name": driver, "nodeID": node, "topologyKeys": keys}]}}


async def register(c: Cluster, node: str, keys: list[str], driver: str = DRIVER) -> None:
    """Add ``driver`` to the node's CSINode (kubelet registration may already have created it)."""
    try:
        obj = await c.client.get("csinodes", node)
    except ApiError as err:
        assert err.code == 404
        await c.client.create("csinodes", csinode(node, keys, driver))
        return
    drivers = [d for d in obj["spec"].get("drivers") or [] if d["name"] != driver]
    obj["spec"]["drivers"] = [*drivers, {"name": driver, "nodeID": node, "topologyKeys": keys}]
    await c.client.update("csinodes", obj)


async def unregister(c: Cluster, node: str, driver: str = DRIVER) -> None:
    obj = await c.client.get("csinodes", node)
    obj["spec"]["drivers"] = [d for d in obj["spec"].get("drivers") or [] if d["name"] != driver]
    await c.client.update("csinodes", obj)


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
async def topo(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Cluster, ExternalProvisioner]]:
    """A three-zone cluster with a topology-aware test driver registered on every node, and no
    storage controller but the provisioner under test (objects stay as the test writes them)."""
    import minikube_lite.cluster as cluster_mod

    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [NamespaceController])
    config = ClusterConfig.from_dict(THREE_ZONES)
    async with Cluster(config, clock=VirtualClock()) as c:
        for node in ("master", "node1", "node2", "node3"):
            await register(c, node, [ZONE])
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
    pvc = claim("data", annotations={ANN_SELECTED_NODE: "node2"})
    requisite, preferred = await prov.accessibility.generate(pvc, sc, node)
    assert requisite == [{ZONE: "cn-hangzhou-b"}, {ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}]
    assert preferred == [{ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}, {ZONE: "cn-hangzhou-b"}]


async def test_3_4_allowed_topologies_give_the_requisite(topo: Any) -> None:
    c, prov = topo
    allowed = [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-h", "cn-hangzhou-d"]}]}]
    sc = await c.client.create("storageclasses", storage_class("zonal", allowed=allowed))
    node = await c.client.get("nodes", "node3")
    requisite, preferred = await prov.accessibility.generate(claim("data"), sc, node)
    assert requisite == [{ZONE: "cn-hangzhou-d"}, {ZONE: "cn-hangzhou-h"}]
    assert preferred == [{ZONE: "cn-hangzhou-h"}, {ZONE: "cn-hangzhou-d"}]


async def test_3_4_selected_node_outside_allowed_topologies_is_an_error(topo: Any) -> None:
    c, prov = topo
    allowed = [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-d"]}]}]
    sc = await c.client.create("storageclasses", storage_class("zonal", allowed=allowed))
    node = await c.client.get("nodes", "node1")
    with pytest.raises(ProvisioningError) as err:
        await prov.accessibility.generate(claim("data"), sc, node)
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
        await prov.accessibility.generate(claim("data"), sc, node)
    assert err.value.reschedule
    assert err.value.message == 'csinode.storage.k8s.io "node3" not found'


async def test_3_4_csinode_without_the_driver_is_an_error(topo: Any) -> None:
    c, prov = topo
    await unregister(c, "node3")
    await c.settle()
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node = await c.client.get("nodes", "node3")
    with pytest.raises(ProvisioningError) as err:
        await prov.accessibility.generate(claim("data"), sc, node)
    assert err.value.message == "error generating accessibility requirements: no topology key found on CSINode node3"
    assert not err.value.reschedule


async def test_3_4_immediate_claim_preferred_is_rotated_by_name_hash(topo: Any) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal", mode="Immediate"))
    first = [(await prov.accessibility.generate(claim(f"data-web-{i}"), sc, None))[1][0] for i in range(3)]
    assert sorted(t[ZONE] for t in first) == ["cn-hangzhou-b", "cn-hangzhou-d", "cn-hangzhou-h"]


async def test_3_4_missing_topology_label_on_selected_node_is_an_error(topo: Any) -> None:
    c, prov = topo
    await register(c, "node1", [ZONE, "example.com/rack"])
    await c.settle()
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    node = await c.client.get("nodes", "node1")
    with pytest.raises(ProvisioningError, match="does not match topology keys from CSINode"):
        await prov.accessibility.generate(claim("data"), sc, node)


# ---------------------------------------------------------------- restore checks (§3.6)


def snapshot(name: str = "snap1", content: str | None = "snapcontent-1") -> dict[str, Any]:
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"source": {"persistentVolumeClaimName": "src"}}}


async def make_snapshot(c: Cluster, *, ready: bool = True, restore: str | None = "1Gi", driver: str = DRIVER,
                        handle: str | None = "s-123", bound: bool = True, ref_uid: str | None = None) -> None:
    vs = await c.client.create(VS_RESOURCE, snapshot(), "default")
    content = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
               "metadata": {"name": "snapcontent-1"},
               "spec": {"deletionPolicy": "Delete", "driver": driver, "source": {"volumeHandle": "vol-1"},
                        "volumeSnapshotRef": {"name": "snap1", "namespace": "default",
                                              "uid": ref_uid or vs["metadata"]["uid"]}}}
    vsc = await c.client.create(VSC_RESOURCE, content)
    if handle:
        vsc["status"] = {"snapshotHandle": handle, "readyToUse": ready}
        await c.client.update(VSC_RESOURCE, vsc, subresource="status")
    status: dict[str, Any] = {"readyToUse": ready}
    if bound:
        status["boundVolumeSnapshotContentName"] = "snapcontent-1"
    if restore:
        status["restoreSize"] = restore
    vs = await c.client.get(VS_RESOURCE, "snap1", "default")
    vs["status"] = status
    await c.client.update(VS_RESOURCE, vs, "default", subresource="status")


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


# ---------------------------------------------------------------- end to end through the real drivers

CLOUD_DRIVER = "diskplugin.csi.alibabacloud.com"
PROVISIONER = ExternalProvisioners
CLOUD_CONFIG: dict[str, Any] = {
    "nodes": [
        {"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
        {"name": "node1", "zone": "cn-hangzhou-b"},
        {"name": "node2", "zone": "cn-hangzhou-d"},
    ],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"]},
    "drivers": [{"name": CLOUD_DRIVER, "type": "cloud-disk"}],
}


def disk_class(name: str = "disk", *, mode: str = "Immediate", reclaim: str = "Delete",
               **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
            "provisioner": CLOUD_DRIVER, "parameters": {"type": "cloud_ssd"}, "reclaimPolicy": reclaim,
            "volumeBindingMode": mode, **extra}


@pytest.fixture
def prov_cluster(storage_cluster: Any) -> Any:
    """``async with prov_cluster() as c``: PV controller, protection and the provisioners."""

    def make(config: dict[str, Any] | None = None) -> Any:
        return storage_cluster(config or CLOUD_CONFIG, extra=[PROVISIONER])

    return make


async def claim_events(c: Cluster, name: str) -> list[tuple[str, str, str]]:
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"])))
    return [(e["type"], e["reason"], e["message"]) for e in items]


async def provisioner_events(c: Cluster, name: str) -> list[dict[str, Any]]:
    items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={name}"))["items"]
    return [e for e in items if e["source"]["component"].startswith(CLOUD_DRIVER + "_")]


async def test_3_2_immediate_claim_is_provisioned_with_upstream_events_and_pv_fields(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk", mountOptions=["noatime"]))
        pvc = await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        uid = pvc["metadata"]["uid"]
        pv = await c.client.get("persistentvolumes", f"pvc-{uid}")
        got = await c.client.get("pvc", "data", "default")
        assert got["status"]["phase"] == "Bound" and got["spec"]["volumeName"] == f"pvc-{uid}"
        evs = await claim_events(c, "data")
        assert ("Normal", "Provisioning", 'External provisioner is provisioning volume for claim "default/data"') in evs
        assert ("Normal", "ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid}") in evs
        comps = {e["source"]["component"] for e in await provisioner_events(c, "data")}
        assert len(comps) == 1 and next(iter(comps)).startswith(CLOUD_DRIVER + "_csi-provisioner-")
        spec = pv["spec"]
        disk_id = spec["csi"]["volumeHandle"]
        assert disk_id in c.cloud.disks and c.cloud.disks[disk_id].size_gib == 20
        assert spec["csi"]["driver"] == CLOUD_DRIVER
        assert PROVISIONER_ID_KEY in spec["csi"]["volumeAttributes"]
        assert spec["capacity"] == {"storage": "20Gi"}
        assert spec["accessModes"] == ["ReadWriteOnce"]
        assert spec["persistentVolumeReclaimPolicy"] == "Delete"
        assert spec["storageClassName"] == "disk" and spec["mountOptions"] == ["noatime"]
        assert spec["claimRef"]["uid"] == uid and spec["claimRef"]["name"] == "data"
        ann = pv["metadata"]["annotations"]
        assert ann[ANN_PROVISIONED_BY] == CLOUD_DRIVER
        assert ann[ANN_DELETION_SECRET_NAME] == "" and ann[ANN_DELETION_SECRET_NAMESPACE] == ""
        assert "pv.kubernetes.io/bound-by-controller" not in ann
        assert set(pv["metadata"]["finalizers"]) >= {"kubernetes.io/pv-protection", PV_FINALIZER}
        terms = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
        zone = c.cloud.disks[disk_id].zone
        assert any(zone in expr["values"] for t in terms for expr in t["matchExpressions"])
        await assert_no_leaks(c)


async def test_3_1_wait_for_first_consumer_waits_for_the_selected_node(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="topo"), "default")
        await c.settle()
        assert not c.cloud.disks
        assert not [e for e in await claim_events(c, "data") if e[1] == "Provisioning"]
        await c.client.patch("pvc", "data", {"metadata": {"annotations": {ANN_SELECTED_NODE: "node2"}}},
                             "default")
        await c.settle()
        got = await c.client.get("pvc", "data", "default")
        assert got["status"]["phase"] == "Bound"
        disk = next(iter(c.cloud.disks.values()))
        assert disk.zone == "cn-hangzhou-d"


async def test_3_1_claim_of_another_provisioner_is_ignored(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", storage_class("other", "other.csi.example.com", mode="Immediate"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="other"), "default")
        await c.settle()
        assert not c.cloud.disks
        assert [e for e in await claim_events(c, "data") if e[1] in ("Provisioning", "ProvisioningFailed")] == []


async def test_3_3_claim_selector_is_not_supported(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="disk",
                                           selector={"matchLabels": {"a": "b"}}), "default")
        await c.settle(timeout=5)
        assert ("Warning", "ProvisioningFailed",
                'failed to provision volume with StorageClass "disk": claim Selector is not supported') \
            in await claim_events(c, "data")
        assert not c.cloud.disks


async def test_3_9_resource_exhausted_removes_the_selected_node(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("topo", mode="WaitForFirstConsumer"))
        c.cloud.faults.fail_next("CreateDisk", code="QuotaExceed.Disk")
        await c.client.create("pvc", claim("data", size="20Gi", sc="topo",
                                           annotations={ANN_SELECTED_NODE: "node1"}), "default")
        await c.settle()
        got = await c.client.get("pvc", "data", "default")
        assert ANN_SELECTED_NODE not in got["metadata"]["annotations"]
        assert got["status"]["phase"] == "Pending" and not c.cloud.disks
        failed = [e for e in await claim_events(c, "data") if e[1] == "ProvisioningFailed"]
        assert len(failed) == 1
        assert failed[0][2].startswith('failed to provision volume with StorageClass "topo": '
                                       "rpc error: code = ResourceExhausted desc = ")


async def test_7_injected_create_disk_failure_retries_with_backoff_then_succeeds(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        c.cloud.faults.fail_next("CreateDisk", code="InternalError", times=3)
        start = c.clock.now()
        await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        items = (await c.client.list("events", "default", field_selector="involvedObject.name=data"))["items"]
        failed = [e for e in items if e["reason"] == "ProvisioningFailed"]
        assert len(failed) == 1 and failed[0]["count"] == 3 and failed[0]["type"] == "Warning"
        assert failed[0]["message"].startswith('failed to provision volume with StorageClass "disk": rpc error: code = ')
        assert (await c.client.get("pvc", "data", "default"))["status"]["phase"] == "Bound"
        # 1 s, then 2 s, then 4 s between attempts (exponential backoff from 1 s).
        assert c.clock.now() - start >= 7
        await assert_no_leaks(c)


async def test_7_restart_mid_create_volume_leaves_exactly_one_disk(prov_cluster: Any) -> None:
    import asyncio

    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        for _ in range(2000):
            if c.cloud.disks:
                break
            await asyncio.sleep(0)
        assert len(c.cloud.disks) == 1, "CreateVolume should be in flight"
        old = next(ctl for ctl in c.controllers if isinstance(ctl, ExternalProvisioners))
        await old.stop()
        c.controllers.remove(old)
        new = ExternalProvisioners(c.client, c.clock, config=c.config, drivers=c.drivers)
        await new.start()
        c.controllers.append(new)
        await c.settle()
        assert len(c.cloud.disks) == 1
        assert (await c.client.get("pvc", "data", "default"))["status"]["phase"] == "Bound"
        await assert_no_leaks(c)


async def test_3_8_released_delete_pv_is_deleted_with_its_disk(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        pvc = await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        pv_name = f"pvc-{pvc['metadata']['uid']}"
        await c.client.delete("pvc", "data", "default")
        await c.settle()
        with pytest.raises(Exception) as err:
            await c.client.get("persistentvolumes", pv_name)
        assert getattr(err.value, "code", None) == 404
        assert not [d for d in c.cloud.disks.values() if d.status != "Deleting"]
        await assert_no_leaks(c)


async def test_3_8_attached_volume_is_not_deleted(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        pvc = await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        pv_name = f"pvc-{pvc['metadata']['uid']}"
        await c.client.create("volumeattachments", {
            "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": {"name": "csi-va"},
            "spec": {"attacher": CLOUD_DRIVER, "nodeName": "node1", "source": {"persistentVolumeName": pv_name}}})
        await c.client.delete("pvc", "data", "default")
        await c.settle(timeout=5)
        pv = await c.client.get("persistentvolumes", pv_name)
        assert pv["status"]["phase"] == "Released"
        items = (await c.client.list("events", "default", field_selector=f"involvedObject.name={pv_name}"))["items"]
        assert any(e["reason"] == "VolumeFailedDelete"
                   and e["message"] == f"persistentvolume {pv_name} is still attached to node node1" for e in items)
        await c.client.delete("volumeattachments", "csi-va")
        await c.settle()
        assert not [d for d in c.cloud.disks.values() if d.status != "Deleting"]


async def test_3_8_retain_keeps_the_disk_and_drops_the_finalizer(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("keep", reclaim="Retain"))
        pvc = await c.client.create("pvc", claim("data", size="20Gi", sc="keep"), "default")
        await c.settle()
        pv_name = f"pvc-{pvc['metadata']['uid']}"
        pv = await c.client.get("persistentvolumes", pv_name)
        assert PV_FINALIZER not in pv["metadata"]["finalizers"]
        await c.client.delete("pvc", "data", "default")
        await c.settle()
        pv = await c.client.get("persistentvolumes", pv_name)
        assert pv["status"]["phase"] == "Released"
        assert pv["spec"]["csi"]["volumeHandle"] in c.cloud.disks
        await assert_no_leaks(c)


async def test_3_6_restore_from_a_snapshot_end_to_end(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        src = await c.client.create("pvc", claim("src", size="20Gi", sc="disk"), "default")
        await c.settle()
        pv = await c.client.get("persistentvolumes", f"pvc-{src['metadata']['uid']}")
        disk_id = pv["spec"]["csi"]["volumeHandle"]
        c.cloud.write_disk(disk_id, b"hello")
        snap = await c.cloud.create_snapshot(disk_id)
        await c.settle()
        assert c.cloud.snapshots[snap.snapshot_id].status == "accomplished"
        await make_snapshot(c, driver=CLOUD_DRIVER, handle=snap.snapshot_id, restore="20Gi")
        # Too small first: the exact §3.6 message, and the claim stays Pending.
        small = claim("small", size="10Gi", sc="disk",
                      dataSource={"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap1"})
        await c.client.create("pvc", small, "default")
        restored = claim("restored", size="20Gi", sc="disk",
                         dataSource={"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap1"})
        await c.client.create("pvc", restored, "default")
        await c.settle(timeout=5)
        assert ("Warning", "ProvisioningFailed",
                'failed to provision volume with StorageClass "disk": error getting handle for DataSource Type '
                "VolumeSnapshot by Name snap1: requested volume size 10737418240 is less than the size "
                "21474836480 for the source snapshot snap1") \
            in await claim_events(c, "small")
        got = await c.client.get("pvc", "restored", "default")
        assert got["status"]["phase"] == "Bound"
        new_pv = await c.client.get("persistentvolumes", got["spec"]["volumeName"])
        new_disk = c.cloud.disks[new_pv["spec"]["csi"]["volumeHandle"]]
        assert new_disk.source_snapshot_id == snap.snapshot_id
        assert c.cloud.read_disk(new_disk.disk_id).data == b"hello"
        vs = await c.client.get(VS_RESOURCE, "snap1", "default")
        assert SNAPSHOT_SOURCE_FINALIZER not in (vs["metadata"].get("finalizers") or [])
        await c.client.delete("pvc", "small", "default")
        await assert_no_leaks(c)


async def test_3_3_other_data_source_is_left_to_a_populator(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        body = claim("data", size="20Gi", sc="disk",
                     dataSourceRef={"apiGroup": "example.com", "kind": "Dataset", "name": "d1"})
        await c.client.create("pvc", body, "default")
        await c.settle(timeout=5)
        evs = await claim_events(c, "data")
        assert ("Normal", "Provisioning", "Assuming an external populator will provision the volume") in evs
        assert not c.cloud.disks


async def test_3_2_invalid_argument_is_infeasible_and_retried_slowly(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        bad = disk_class("bad")
        bad["parameters"] = {"type": "no_such_category"}
        await c.client.create("storageclasses", bad)
        await c.client.create("pvc", claim("data", size="20Gi", sc="bad"), "default")
        await c.settle(timeout=25)
        items = (await c.client.list("events", "default", field_selector="involvedObject.name=data"))["items"]
        failed = [e for e in items if e["reason"] == "ProvisioningFailed"]
        assert len(failed) == 1
        assert failed[0]["message"].startswith(
            "Volume provisioning failed with infeasible error. Retries will be delayed. "
            'failed to provision volume with StorageClass "bad": rpc error: code = InvalidArgument desc = ')
        # Ordinary errors retry after 1 s, 2 s, 4 s, 8 s ... (5 attempts in 25 s); infeasible ones
        # ten times slower: attempts at 0 s and 10 s, the next only at 30 s.
        assert failed[0]["count"] == 2


async def test_3_9_unavailable_zone_is_retried_until_it_recovers(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("topo", mode="WaitForFirstConsumer"))
        c.cloud.faults.zone_outage("cn-hangzhou-d")
        await c.client.create("pvc", claim("data", size="20Gi", sc="topo",
                                           annotations={ANN_SELECTED_NODE: "node2"}), "default")
        await c.settle(timeout=20)
        got = await c.client.get("pvc", "data", "default")
        assert got["metadata"]["annotations"][ANN_SELECTED_NODE] == "node2"
        assert got["status"]["phase"] == "Pending"
        failed = [e for e in await claim_events(c, "data") if e[1] == "ProvisioningFailed"]
        assert failed and "rpc error: code = Unavailable desc = " in failed[0][2]
        c.cloud.faults.zone_outage("cn-hangzhou-d", down=False)
        await c.settle()
        assert (await c.client.get("pvc", "data", "default"))["status"]["phase"] == "Bound"
        assert [d.zone for d in c.cloud.disks.values()] == ["cn-hangzhou-d"]


HOSTPATH_CONFIG: dict[str, Any] = {
    **CLOUD_CONFIG,
    "drivers": [{"name": "hostpath.csi.k8s.io", "type": "local"}],
}


async def test_3_7_clone_from_a_pvc_end_to_end(prov_cluster: Any) -> None:
    async with prov_cluster(HOSTPATH_CONFIG) as c:
        await c.client.create("storageclasses", storage_class("hp", "hostpath.csi.k8s.io", mode="Immediate"))
        src = await c.client.create("pvc", claim("src", size="1Gi", sc="hp"), "default")
        await c.settle()
        src_pv = await c.client.get("persistentvolumes", f"pvc-{src['metadata']['uid']}")
        clone = claim("copy", size="1Gi", sc="hp", dataSource={"kind": "PersistentVolumeClaim", "name": "src"})
        await c.client.create("pvc", clone, "default")
        await c.settle()
        got = await c.client.get("pvc", "copy", "default")
        assert got["status"]["phase"] == "Bound"
        new_pv = await c.client.get("persistentvolumes", got["spec"]["volumeName"])
        assert new_pv["spec"]["csi"]["volumeHandle"] != src_pv["spec"]["csi"]["volumeHandle"]
        # The cloning-protection finalizer is gone once no clone waits for the source.
        src_now = await c.client.get("pvc", "src", "default")
        assert CLONE_FINALIZER not in src_now["metadata"]["finalizers"]


async def test_3_7_clone_is_refused_by_a_driver_without_clone_volume(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        await c.client.create("pvc", claim("src", size="20Gi", sc="disk"), "default")
        await c.settle()
        clone = claim("copy", size="20Gi", sc="disk", dataSource={"kind": "PersistentVolumeClaim", "name": "src"})
        await c.client.create("pvc", clone, "default")
        await c.settle(timeout=5)
        assert ("Warning", "ProvisioningFailed",
                'failed to provision volume with StorageClass "disk": CSI driver does not support clone '
                "operations: controller CLONE_VOLUME capability is not reported") in await claim_events(c, "copy")
        assert len(c.cloud.disks) == 1


async def _bound_source(c: Cluster, *, driver: str = DRIVER, volume_mode: str | None = None,
                        phase: str = "Bound") -> None:
    src = await c.client.create("pvc", claim("src", size="2Gi"), "default")
    await c.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "src-pv"},
        "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "zonal",
                 **({"volumeMode": volume_mode} if volume_mode else {}),
                 "csi": {"driver": driver, "volumeHandle": "vol-src"},
                 "claimRef": {"namespace": "default", "name": "src", "uid": src["metadata"]["uid"]}}})
    pv = await c.client.get("persistentvolumes", "src-pv")
    pv["status"] = {"phase": "Bound"}
    await c.client.update("persistentvolumes", pv, subresource="status")
    src = await c.client.get("pvc", "src", "default")
    src["spec"]["volumeName"] = "src-pv"
    src = await c.client.update("pvc", src, "default")
    src["status"] = {"phase": phase}
    await c.client.update("pvc", src, "default", subresource="status")
    await c.settle()


CLONE_CASES = [
    ("ok", {}, "2Gi", None, None),
    ("too_small", {}, "1Gi", None, "error, new PVC request must be greater than or equal in size to the specified "
                                   "PVC data source, requested 1073741824 but source is 2147483648"),
    ("not_bound", {"phase": "Pending"}, "2Gi", None, "the PVC DataSource src must have a status of Bound.  Got {Pending}"),
    ("other_driver", {"driver": "other.csi.example.com"}, "2Gi", None, "claim in dataSource not bound or invalid"),
    ("block_to_fs", {"volume_mode": "Block"}, "2Gi", None,
     "the source PVC and destination PVCs must have the same volume mode for cloning.  "
     "Source is Block, but new PVC requested Filesystem"),
    ("fs_to_block", {}, "2Gi", "Block",
     "the source PVC and destination PVCs must have the same volume mode for cloning.  "
     "Source is Filesystem, but new PVC requested Block"),
]


@pytest.mark.parametrize(("case", "kwargs", "size", "mode", "message"), CLONE_CASES, ids=[c[0] for c in CLONE_CASES])
async def test_3_7_clone_checks(topo: Any, case: str, kwargs: dict[str, Any], size: str, mode: str | None,
                                message: str | None) -> None:
    c, prov = topo
    sc = await c.client.create("storageclasses", storage_class("zonal"))
    await _bound_source(c, **kwargs)
    new = claim("copy", size=size, **({"volumeMode": mode} if mode else {}))
    if message is None:
        assert await prov.clone_handle(new, sc, "default", "src") == "vol-src"
        return
    with pytest.raises(ProvisioningError) as err:
        await prov.clone_handle(new, sc, "default", "src")
    assert err.value.message == message


@pytest.mark.allow_disk_leaks  # fills the zone with hand-made disks that have no PV
async def test_3_9_resource_exhausted_reschedules_the_pod_to_another_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without capacity tracking the scheduler may pick the full zone; CreateVolume's
    ResourceExhausted removes ``selected-node`` and the pod lands in the zone with room."""
    from leakcheck import assert_no_leaks

    import minikube_lite.cluster as cluster_mod
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [
        PersistentVolumeController,
        PVCProtectionController,
        PVProtectionController,
        ExternalProvisioners,
        Scheduler,
    ])
    config = {**CLOUD_CONFIG, "cloud": {**CLOUD_CONFIG["cloud"], "quotas": {"disksPerZone": 1}}}
    async with Cluster(ClusterConfig.from_dict(config), clock=VirtualClock()) as c:
        blocker = await c.cloud.create_disk(zone="cn-hangzhou-b", size_gib=20, category="cloud_ssd", name="blocker")
        await c.client.create("storageclasses", disk_class("topo", mode="WaitForFirstConsumer"))
        for i in range(4):
            await c.client.create("pvc", claim(f"data{i}", size="20Gi", sc="topo"), "default")
            await c.client.create("pods", {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"app{i}", "namespace": "default"},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}],
                         "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": f"data{i}"}}]}},
                "default")
            await c.settle(timeout=120)
            pod = await c.client.get("pods", f"app{i}", "default")
            if i == 0:
                assert pod["spec"].get("nodeName") == "node2"
                assert (await c.client.get("pvc", "data0", "default"))["status"]["phase"] == "Bound"
            else:
                assert not pod["spec"].get("nodeName")
        # Every attempt that hit the full zone left a ResourceExhausted event and no disk.
        exhausted = [e for i in range(4) for e in await claim_events(c, f"data{i}")
                     if e[1] == "ProvisioningFailed" and "ResourceExhausted" in e[2]]
        assert exhausted
        await assert_no_leaks(c, allowed=[blocker.disk_id])


async def test_3_8_finalizer_follows_the_reclaim_policy(prov_cluster: Any) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        pvc = await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        pv_name = f"pvc-{pvc['metadata']['uid']}"
        await c.client.patch("persistentvolumes", pv_name, {"spec": {"persistentVolumeReclaimPolicy": "Retain"}})
        await c.settle()
        assert PV_FINALIZER not in (await c.client.get("persistentvolumes", pv_name))["metadata"]["finalizers"]
        await c.client.patch("persistentvolumes", pv_name, {"spec": {"persistentVolumeReclaimPolicy": "Delete"}})
        await c.settle()
        assert PV_FINALIZER in (await c.client.get("persistentvolumes", pv_name))["metadata"]["finalizers"]
        await c.client.delete("pvc", "data", "default")
        await c.settle()
        assert not [d for d in c.cloud.disks.values() if d.status != "Deleting"]
        await assert_no_leaks(c)


async def test_3_2_event_source_is_driver_host_uuid(prov_cluster: Any) -> None:
    import re

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        [comp] = {e["source"]["component"] for e in await provisioner_events(c, "data")}
        assert re.fullmatch(re.escape(CLOUD_DRIVER) + r"_csi-provisioner-[0-9a-f]{10}-[a-z0-9]{5}_"
                            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", comp), comp


async def test_3_1_claims_waiting_before_start_are_provisioned_by_every_driver(storage_cluster: Any) -> None:
    """Provisioners share their informers; each still sees the claims that were there first."""
    config = {**CLOUD_CONFIG, "drivers": [{"name": CLOUD_DRIVER, "type": "cloud-disk"},
                                          {"name": "hostpath.csi.k8s.io", "type": "local"}]}
    async with storage_cluster(config) as c:
        await c.client.create("storageclasses", disk_class("disk"))
        await c.client.create("storageclasses", storage_class("hp", "hostpath.csi.k8s.io", mode="Immediate"))
        await c.client.create("pvc", claim("a", size="20Gi", sc="disk"), "default")
        await c.client.create("pvc", claim("b", size="1Gi", sc="hp"), "default")
        await c.settle()
        provs = ExternalProvisioners(c.client, c.clock, config=c.config, drivers=c.drivers)
        await provs.start()
        c.controllers.append(provs)
        await c.settle()
        assert set(provs.instances) == {CLOUD_DRIVER, "hostpath.csi.k8s.io"}
        a, b = provs.instances[CLOUD_DRIVER], provs.instances["hostpath.csi.k8s.io"]
        assert a.claims is b.claims and a.volumes is b.volumes
        for name in ("a", "b"):
            assert (await c.client.get("pvc", name, "default"))["status"]["phase"] == "Bound"


async def test_3_5_a_pv_the_api_refuses_gives_the_volume_back(prov_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from leakcheck import assert_no_leaks

    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("disk"))
        original = c.client.create
        refused: list[str] = []

        async def create(resource: str, body: Any, namespace: str | None = None, **kw: Any) -> Any:
            if resource == "persistentvolumes" and not refused:
                refused.append(body["metadata"]["name"])
                raise ApiError(422, "Invalid", 'PersistentVolume "x" is invalid: spec: Required value')
            return await original(resource, body, namespace, **kw)

        monkeypatch.setattr(c.client, "create", create)
        await c.client.create("pvc", claim("data", size="20Gi", sc="disk"), "default")
        await c.settle()
        failed = [e for e in await claim_events(c, "data") if e[1] == "ProvisioningFailed"]
        assert failed == [("Warning", "ProvisioningFailed",
                           "Error creating provisioned PV object for claim default/data: "
                           'PersistentVolume "x" is invalid: spec: Required value. Deleting the volume.')]
        assert (await c.client.get("pvc", "data", "default"))["status"]["phase"] == "Bound"
        await assert_no_leaks(c)


async def test_3_2_a_selected_node_that_is_gone_is_rescheduled(prov_cluster: Any) -> None:
    async with prov_cluster() as c:
        await c.client.create("storageclasses", disk_class("topo", mode="WaitForFirstConsumer"))
        await c.client.create("pvc", claim("data", size="20Gi", sc="topo",
                                           annotations={ANN_SELECTED_NODE: "ghost"}), "default")
        await c.settle()
        got = await c.client.get("pvc", "data", "default")
        assert ANN_SELECTED_NODE not in got["metadata"]["annotations"]
        assert ("Warning", "ProvisioningFailed", 'node "ghost" not found') in await claim_events(c, "data")
        assert not c.cloud.disks


def sized_claim(request: str, limit: str | None = None) -> dict[str, Any]:
    resources: dict[str, Any] = {"requests": {"storage": request}}
    if limit is not None:
        resources["limits"] = {"storage": limit}
    return {"metadata": {"name": "data", "namespace": "default"}, "spec": {"resources": resources}}


@pytest.mark.parametrize(("request_", "want"), [("1.5Ki", 1536), ("100m", 1), ("1.5", 2), ("1Gi", 2**30),
                                                ("0.1Ki", 103)])
def test_3_2_required_bytes_are_the_quantity_value_rounded_up(request_: str, want: int) -> None:
    """external-provisioner sends ``Quantity.Value()`` of the request: a fraction of a byte asks
    for the next whole byte (the binder sizes the claim the same way, so the PV satisfies it)."""
    assert request_bytes(sized_claim(request_)) == want
    assert limit_bytes(sized_claim("1Gi", limit=request_)) == want
    assert limit_bytes(sized_claim("1Gi")) == 0


@pytest.mark.parametrize(("request_", "capacity"), [("1.5Ki", "1536"), ("100m", "1")])
async def test_3_2_a_fractional_request_is_provisioned_and_bound(request_: str, capacity: str) -> None:
    async with Cluster(clock=VirtualClock(), components=[NamespaceController, PersistentVolumeController,
                                                         ExternalProvisioners]) as c:
        await c.client.create("pvc", claim("data", size=request_, sc="csi-hostpath-sc"), "default")
        await c.settle()
        got = await c.client.get("pvc", "data", "default")
        assert got["status"]["phase"] == "Bound"
        assert got["status"]["capacity"] == {"storage": capacity}
        pv = await c.client.get("persistentvolumes", got["spec"]["volumeName"])
        assert pv["spec"]["capacity"] == {"storage": capacity}
