"""VolumeBinding: every PreFilter/Filter branch of storage.md §2.3-2.4, Reserve and Unreserve."""

from __future__ import annotations

import pytest
from _sched_builders import HOST, ZONE, node, pod, pv, pvc, sc, schedule, three_nodes

from minikube_lite.clock import VirtualClock
from minikube_lite.kube import names
from minikube_lite.kube.volumes import (
    find_matching_volume,
    local_pv_node_names,
    prepare_matching,
    volume_class,
)
from minikube_lite.scheduler.framework import Code, CycleState, Handle, NodeInfo
from minikube_lite.scheduler.plugins import volumebinding as vb
from minikube_lite.scheduler.snapshot import AssumeCache, Snapshot

UU = Code.UnschedulableAndUnresolvable
PREEMPT_3 = " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."


def _plugin(snap: Snapshot) -> vb.VolumeBinding:
    return vb.VolumeBinding(Handle(VirtualClock(start=0), snap))


def _pre(snap, p):
    state = CycleState()
    res, st = _plugin(snap).pre_filter(state, p)
    return state, res, st


def _filter(snap, p, n):
    plugin = _plugin(snap)
    state = CycleState()
    res, st = plugin.pre_filter(state, p)
    assert st is None, st
    return plugin, state, plugin.filter(state, p, NodeInfo(n))


# -- PreFilter (§2.3) ---------------------------------------------------------------------------

def test_prefilter_skips_pods_without_claims():
    _, _, st = _pre(Snapshot(), pod("p"))
    assert st.code == Code.Skip


@pytest.mark.parametrize("claim,reason", [
    (None, 'persistentvolumeclaim "data" not found'),
    (pvc("data", "std", phase="Lost", volume_name="gone"),
     'persistentvolumeclaim "data" bound to non-existent persistentvolume "gone"'),
    (pvc("data", "std", deleting=True), 'persistentvolumeclaim "data" is being deleted'),
    (pvc("data", "imm"), vb.ERR_UNBOUND_IMMEDIATE),                      # Immediate class, unbound
    (pvc("data", "missing"), vb.ERR_UNBOUND_IMMEDIATE),                  # missing class counts as Immediate
    (pvc("data", "wffc", volume_name="pv1"), vb.ERR_UNBOUND_IMMEDIATE),  # user pre-bound, not complete
    (pvc("data", None), vb.ERR_UNBOUND_IMMEDIATE),                       # no class at all
])
def test_prefilter_rejections(claim, reason):
    snap = Snapshot.from_objects(pvcs=[claim] if claim else [],
                                 storage_classes=[sc("imm", mode="Immediate"), sc("wffc")])
    _, _, st = _pre(snap, pod("p", pvcs=("data",)))
    assert (st.code, st.reasons) == (UU, [reason])


def test_prefilter_ephemeral_volume_waits_for_its_claim():
    p = pod("p")
    p["spec"]["volumes"] = [{"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]
    _, _, st = _pre(Snapshot(), p)
    assert st.reasons == ['waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch"']
    foreign = pvc("p-scratch", "wffc")
    snap = Snapshot.from_objects(pvcs=[foreign], storage_classes=[sc("wffc")])
    _, _, st = _pre(snap, p)
    assert st.reasons == ["PVC default/p-scratch was not created for pod default/p (pod is not owner)"]
    foreign["metadata"]["ownerReferences"] = [{"kind": "Pod", "name": "p", "uid": "uid-p", "controller": True}]
    _, _, st = _pre(Snapshot.from_objects(pvcs=[foreign], storage_classes=[sc("wffc")]), p)
    assert st is None


def test_prefilter_classifies_claims():
    bound = pvc("b", "wffc", volume_name="pv-b", bound=True, phase="Bound")
    delay = pvc("d", "wffc")
    snap = Snapshot.from_objects(pvcs=[bound, delay], pvs=[pv("pv-b", "wffc", claim=bound, phase="Bound"),
                                                           pv("free", "wffc")],
                                 storage_classes=[sc("wffc")])
    state, res, st = _pre(snap, pod("p", pvcs=("b", "d")))
    assert st is None and res is None
    data = state.read(vb.NAME)
    assert [c["metadata"]["name"] for c in data.bound_claims] == ["b"]
    assert [c["metadata"]["name"] for c in data.delay_claims] == ["d"]
    # d's candidates: the free PV of its class; pv-b (bound to b) is not looked at
    assert [p["metadata"]["name"] for p in data.pvs_by_claim["default/d"]] == ["free"]


def test_prefilter_narrows_to_local_pv_hosts_and_reports_other_nodes():
    claim = pvc("data", "local", volume_name="lpv", bound=True, phase="Bound")
    snap = Snapshot.from_objects(
        nodes=three_nodes(), pvcs=[claim],
        pvs=[pv("lpv", "local", hostname="node1", claim=claim, phase="Bound")],
        storage_classes=[sc("local", "kubernetes.io/no-provisioner")])
    state, res, st = _pre(snap, pod("p", pvcs=("data",)))
    assert res is not None and res.node_names == {"node1"}
    assert schedule(snap, pod("p", pvcs=("data",))) == "node1"
    snap.set_node(node("node1", zone="b", unschedulable=True))
    assert schedule(snap, pod("p", pvcs=("data",))) == (
        "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't satisfy plugin(s) "
        "[VolumeBinding]." + PREEMPT_3)


# -- Filter (§2.4) ------------------------------------------------------------------------------

def test_filter_bound_claim_node_affinity_conflict_and_missing_pv():
    claim = pvc("data", "std", volume_name="zpv", bound=True, phase="Bound")
    snap = Snapshot.from_objects(pvcs=[claim], pvs=[pv("zpv", "std", zone="d", claim=claim, phase="Bound")],
                                 storage_classes=[sc("std")])
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n", zone="b"))
    assert (st.code, st.reasons) == (UU, [vb.ERR_REASON_NODE_CONFLICT])
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n", zone="d"))
    assert st is None
    snap.pvs.api_delete("zpv")
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n", zone="b"))
    assert st.reasons == ["node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"]


def test_filter_selected_node_annotation():
    claim = pvc("data", "wffc", selected_node="node1")
    snap = Snapshot.from_objects(pvcs=[claim], storage_classes=[sc("wffc")])
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("node2"))
    assert st.reasons == [vb.ERR_REASON_BIND_CONFLICT]
    plugin, state, st = _filter(snap, pod("p", pvcs=("data",)), node("node1"))
    assert st is None
    assert [c["metadata"]["name"] for c in state.read(vb.NAME).pod_volumes_by_node["node1"].dynamic_provisions] \
        == ["data"]


def test_filter_static_matching_smallest_fit_and_no_double_use():
    small, big = pvc("small", "local", size="1Gi"), pvc("big", "local", size="4Gi")
    pvs = [pv("pv10", "local", size="10Gi", hostname="n"), pv("pv5", "local", size="5Gi", hostname="n"),
           pv("pv2", "local", size="2Gi", hostname="n"), pv("other", "local", size="1Gi", hostname="elsewhere"),
           pv("wrongclass", "fast", size="1Gi", hostname="n"),
           pv("released", "local", size="1Gi", hostname="n", phase="Released"),
           pv("rox", "local", size="1Gi", hostname="n", access=("ReadOnlyMany",))]
    snap = Snapshot.from_objects(pvcs=[small, big], pvs=pvs,
                                 storage_classes=[sc("local", "kubernetes.io/no-provisioner")])
    _, state, st = _filter(snap, pod("p", pvcs=("big", "small")), node("n"))
    assert st is None
    got = {c["metadata"]["name"]: v["metadata"]["name"]
           for v, c in state.read(vb.NAME).pod_volumes_by_node["n"].static_bindings}
    assert got == {"small": "pv2", "big": "pv5"}


def test_filter_prebound_pv_wins_only_if_affinity_fits():
    claim = pvc("data", "local")
    snap = Snapshot.from_objects(
        pvcs=[claim], pvs=[pv("mine", "local", size="100Gi", hostname="n1", claim=claim), pv("small", "local")],
        storage_classes=[sc("local", "kubernetes.io/no-provisioner")])
    _, state, st = _filter(snap, pod("p", pvcs=("data",)), node("n1"))
    assert st is None
    assert state.read(vb.NAME).pod_volumes_by_node["n1"].static_bindings[0][0]["metadata"]["name"] == "mine"
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n2"))
    assert st.reasons == [vb.ERR_REASON_BIND_CONFLICT]


@pytest.mark.parametrize("cls,node_zone,reasons", [
    (sc("np", "kubernetes.io/no-provisioner"), "b", [vb.ERR_REASON_BIND_CONFLICT]),
    (sc("np", ""), "b", [vb.ERR_REASON_BIND_CONFLICT]),
    (sc("np", zones=["d"]), "b", [vb.ERR_REASON_BIND_CONFLICT]),
    (sc("np", zones=["d"]), "d", None),
    (sc("np", zones=["b", "d"]), "b", None),
    (sc("np"), "b", None),
])
def test_filter_provisioning_checks(cls, node_zone, reasons):
    snap = Snapshot.from_objects(pvcs=[pvc("data", "np")], storage_classes=[cls])
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n", zone=node_zone))
    assert (st.reasons if st else None) == reasons


DRV = "disk.csi.example.com"


def _cap(name, size, zone, *, max_size=None):
    obj = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
           "metadata": {"name": name, "namespace": "kube-system"}, "storageClassName": "cap",
           "capacity": size, "nodeTopology": {"matchLabels": {ZONE: zone}}}
    if max_size:
        obj["maximumVolumeSize"] = max_size
    return obj


@pytest.mark.parametrize("opt_in,caps,ok", [
    (False, [], True),                                   # the driver did not opt in: no check
    (True, [], False),
    (True, [_cap("c1", "10Gi", "b")], True),
    (True, [_cap("c1", "1Gi", "b")], False),             # 5Gi requested
    (True, [_cap("c1", "10Gi", "d")], False),            # capacity reported for another zone
    (True, [_cap("c1", "100Gi", "b", max_size="2Gi")], False),   # maximumVolumeSize wins over capacity
])
def test_filter_storage_capacity(opt_in, caps, ok):
    driver = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": DRV},
              "spec": {"storageCapacity": opt_in}}
    snap = Snapshot.from_objects(pvcs=[pvc("data", "cap", size="5Gi")], storage_classes=[sc("cap", DRV)],
                                 csi_drivers=[driver], csi_storage_capacities=caps)
    _, _, st = _filter(snap, pod("p", pvcs=("data",)), node("n", zone="b"))
    assert (st is None) == ok
    if not ok:
        assert (st.code, st.reasons) == (UU, [vb.ERR_REASON_NOT_ENOUGH_SPACE])


def test_filter_reasons_are_composed_in_upstream_order():
    bound = pvc("b", "std", volume_name="zpv", bound=True, phase="Bound")
    snap = Snapshot.from_objects(pvcs=[bound, pvc("d", "np")],
                                 pvs=[pv("zpv", "std", zone="d", claim=bound, phase="Bound")],
                                 storage_classes=[sc("std"), sc("np", "kubernetes.io/no-provisioner")])
    _, _, st = _filter(snap, pod("p", pvcs=("b", "d")), node("n", zone="b"))
    assert st.reasons == [vb.ERR_REASON_NODE_CONFLICT, vb.ERR_REASON_BIND_CONFLICT]


def test_filter_error_for_class_vanishing_mid_cycle():
    snap = Snapshot.from_objects(pvcs=[pvc("data", "gone")], storage_classes=[sc("gone")])
    plugin = _plugin(snap)
    state = CycleState()
    plugin.pre_filter(state, pod("p", pvcs=("data",)))
    del snap.storage_classes["gone"]
    st = plugin.filter(state, pod("p", pvcs=("data",)), NodeInfo(node("n")))
    assert (st.code, st.reasons) == (Code.Error, ['failed to find storage class "gone"'])


# -- Reserve / Unreserve (§2.6) -----------------------------------------------------------------

def test_reserve_assumes_static_binding_and_unreserve_reverts():
    claim = pvc("data", "local", size="5Gi")
    snap = Snapshot.from_objects(pvcs=[claim], pvs=[pv("lpv", "local", hostname="n")],
                                 storage_classes=[sc("local", "kubernetes.io/no-provisioner")])
    plugin, state, st = _filter(snap, pod("p", pvcs=("data",)), node("n"))
    assert plugin.reserve(state, pod("p", pvcs=("data",)), "n") is None
    assumed = snap.get_pv("lpv")
    assert assumed["spec"]["claimRef"] == {"kind": "PersistentVolumeClaim", "namespace": "default",
                                           "name": "data", "uid": "uid-data", "apiVersion": "v1",
                                           "resourceVersion": "1"}
    assert assumed["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
    assert "claimRef" not in snap.pvs.get_api("lpv")["spec"]
    # another pod's claim can no longer pick the assumed PV
    snap.pvcs.api_set("default/other", pvc("other", "local", size="5Gi"))
    _, _, st2 = _filter(snap, pod("q", pvcs=("other",)), node("n"))
    assert st2.reasons == [vb.ERR_REASON_BIND_CONFLICT]
    plugin.unreserve(state, pod("p", pvcs=("data",)), "n")
    assert "claimRef" not in snap.get_pv("lpv")["spec"]


def test_reserve_assumes_selected_node_for_provisioning():
    snap = Snapshot.from_objects(pvcs=[pvc("data", "zonal")], storage_classes=[sc("zonal", zones=["b"])])
    plugin, state, st = _filter(snap, pod("p", pvcs=("data",)), node("w1", zone="b"))
    plugin.reserve(state, pod("p", pvcs=("data",)), "w1")
    assert snap.get_pvc("default", "data")["metadata"]["annotations"][names.ANN_SELECTED_NODE] == "w1"
    assert names.ANN_SELECTED_NODE not in snap.pvcs.get_api("default/data")["metadata"]["annotations"]
    assert state.read(vb.NAME).all_bound is False
    plugin.unreserve(state, pod("p", pvcs=("data",)), "w1")
    assert names.ANN_SELECTED_NODE not in snap.get_pvc("default", "data")["metadata"]["annotations"]


def test_assumption_dropped_when_informer_brings_newer_object():
    snap = Snapshot.from_objects(pvs=[pv("v", "local", rv="5")])
    snap.pvs.assume("v", {**pv("v", "local", rv="5"), "marker": True})
    snap.pvs.api_set("v", pv("v", "local", rv="5"))
    assert snap.get_pv("v").get("marker")
    snap.pvs.api_set("v", pv("v", "local", rv="6"))
    assert not snap.get_pv("v").get("marker")


# -- whole-pipeline messages for the scenarios (§7b, §7c) ---------------------------------------

def test_scenario_b_local_pv_pulls_pod_to_its_node():
    snap = Snapshot.from_objects(
        nodes=[node("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
               node("worker-1"), node("worker-2")],
        pvcs=[pvc("local-claim", "local-storage", size="5Gi")],
        pvs=[pv("local-pv-1", "local-storage", hostname="worker-1")],
        storage_classes=[sc("local-storage", "kubernetes.io/no-provisioner")])
    for seed in range(5):
        assert schedule(snap, pod("app", pvcs=("local-claim",)), seed=seed) == "worker-1"
    snap.set_node(node("worker-1", unschedulable=True))
    assert schedule(snap, pod("app", pvcs=("local-claim",))) == (
        "0/3 nodes are available: 1 node(s) didn't find available persistent volumes to bind, "
        "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "1 node(s) were unschedulable." + PREEMPT_3)


def test_scenario_c_zone_restricted_class_message_then_fixed():
    snap = Snapshot.from_objects(
        nodes=three_nodes({"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}),
        pvcs=[pvc("data", "zonal")], storage_classes=[sc("zonal", zones=["d"])])
    app = pod("app", pvcs=("data",))
    assert schedule(snap, app) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, "
        "2 node(s) didn't find available persistent volumes to bind." + PREEMPT_3)
    del snap.storage_classes["zonal"]
    assert schedule(snap, app) == \
        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims." + PREEMPT_3
    snap.set_object("storageclasses", sc("zonal", zones=["b"]))
    assert schedule(snap, app) in ("node1", "node2")


def test_local_pv_hostname_helper():
    assert local_pv_node_names(pv("x", "c", hostname="a")) == {"a"}
    assert local_pv_node_names(pv("x", "c", zone="b")) is None
    two = pv("x", "c")
    two["spec"]["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": HOST, "operator": "In", "values": ["a", "b"]}]},
        {"matchExpressions": [{"key": HOST, "operator": "In", "values": ["c"]}]}]}}
    assert local_pv_node_names(two) == {"a", "b", "c"}


# -- the per-cycle precomputation agrees with FindMatchingVolume ----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

_pv_strategy = hs.builds(
    lambda i, size, host, cls, phase, bound, mode: {
        **pv(f"pv{i}", cls, size=f"{size}Gi", hostname=host, phase=phase,
             claim=pvc("data", "local") if bound == "mine" else pvc("other", "local") if bound == "other" else None),
    },
    hs.integers(0, 10**6), hs.integers(1, 8), hs.sampled_from([None, "n1", "n2"]),
    hs.sampled_from(["local", "fast"]), hs.sampled_from(["Available", "Bound", "Released"]),
    hs.sampled_from([None, None, "mine", "other"]), hs.just(None))


@settings(max_examples=200, deadline=None)
@given(hs.lists(_pv_strategy, max_size=8, unique_by=lambda p: p["metadata"]["name"]),
       hs.integers(1, 6), hs.sampled_from(["n1", "n2"]))
def test_prepare_matching_agrees_with_find_matching_volume(volumes, size, node_name):
    claim = pvc("data", "local", size=f"{size}Gi")
    n = node(node_name)
    want = find_matching_volume(claim, volumes, node=n, excluded=set(), delay_binding=True)
    prebound, cands = prepare_matching(claim, volumes)
    if prebound is not None:
        got = prebound if vb.pv_node_affinity_matches(prebound, n) else None
    else:
        got = next((c for c in cands if vb.pv_node_affinity_matches(c, n)), None)
    assert (got or {}).get("metadata", {}).get("name") == (want or {}).get("metadata", {}).get("name")


# -- the PV index (class, claimRef) gives what a scan of the whole class gives --------------------

_REFS = {"none": None, "mine": ("default", "data", "uid-data"), "mine-no-uid": ("default", "data", None),
         "mine-old-uid": ("default", "data", "uid-old"), "other": ("default", "other", "uid-other"),
         "other-ns": ("team", "data", "uid-data"), "no-ns": (None, "data", "uid-data")}

_pv_change = hs.tuples(
    hs.sampled_from(["api_set", "api_set", "assume", "restore", "api_delete"]),
    hs.integers(0, 7),                                          # which PV
    hs.sampled_from(["a", "a", "b"]),                           # class
    hs.sampled_from(["none", "none", "none", *sorted(_REFS)]),  # claimRef (free ones are the candidates)
    hs.integers(1, 4),                                          # size (Gi): ties are common
    hs.sampled_from([("ReadWriteOnce",), ("ReadWriteMany",), ("ReadWriteOnce", "ReadWriteMany")]),
    hs.sampled_from([None, "n1", "n2"]),                        # node affinity (hostname)
    hs.sampled_from(["Available", "Available", "Available", "Bound", "Released"]))


def _varied_pv(i: int, cls: str, ref: str, size: int, access, host, phase: str, rv: int):
    out = pv(f"pv{i}", cls, size=f"{size}Gi", hostname=host, phase=phase, access=access, rv=str(rv))
    if _REFS[ref] is not None:
        ns, name, uid = _REFS[ref]
        out["spec"]["claimRef"] = {"kind": "PersistentVolumeClaim", "name": name,
                                   **({"namespace": ns} if ns else {}), **({"uid": uid} if uid else {})}
    return out


@settings(max_examples=300, deadline=None)
@given(hs.lists(_pv_change, max_size=25), hs.integers(1, 4),
       hs.sampled_from([("ReadWriteOnce",), ("ReadWriteMany",)]), hs.sampled_from(["a", "b"]))
def test_indexed_pv_lookup_agrees_with_the_class_scan(changes, size, access, cls):
    """The same informer updates, assumptions and deletions go to a class-only index (the former
    lookup) and to the snapshot's (class, claimRef) index; matching a claim against the whole class
    and against the indexed candidates gives the same pre-bound PV and the same ordered candidates."""
    by_class = AssumeCache(volume_class)
    snap = Snapshot()
    for rv, (op, i, pv_cls, ref, gi, modes, host, phase) in enumerate(changes, start=1):
        key = f"pv{i}"
        for cache in (by_class, snap.pvs):
            if op == "api_set":
                cache.api_set(key, _varied_pv(i, pv_cls, ref, gi, modes, host, phase, rv))
            elif op == "assume":
                if cache.get(key) is not None:
                    cache.assume(key, _varied_pv(i, pv_cls, ref, gi, modes, host, phase, rv))
            elif op == "restore":
                cache.restore(key)
            else:
                cache.api_delete(key)
    claim = pvc("data", cls, size=f"{size}Gi", access=access)
    full = prepare_matching(claim, by_class.list_index(cls))
    indexed = prepare_matching(claim, snap.pvs_for_claim(claim))

    def names(result):
        prebound, cands = result
        return (prebound or {}).get("metadata", {}).get("name"), [c["metadata"]["name"] for c in cands]

    assert names(indexed) == names(full)
    for node_name in ("n1", "n2"):   # and the node each would pick, as Filter asks it
        n = node(node_name)
        want = find_matching_volume(claim, by_class.list_index(cls), node=n, delay_binding=True)
        prebound, cands = indexed
        got = (prebound if prebound is not None and vb.pv_node_affinity_matches(prebound, n) else None) \
            if prebound is not None else next((c for c in cands if vb.pv_node_affinity_matches(c, n)), None)
        assert (got or {}).get("metadata", {}).get("name") == (want or {}).get("metadata", {}).get("name")
