"""Per-plugin filter and score tables, with upstream reason strings and status codes."""

from __future__ import annotations

import pytest
from _sched_builders import CP_TAINT, ZONE, node, pod, pv, pvc, sc

from minikube_lite.clock import VirtualClock
from minikube_lite.scheduler.framework import Code, CycleState, Handle, NodeInfo, default_normalize_score
from minikube_lite.scheduler.plugins import (
    nodeaffinity,
    nodename,
    nodeports,
    noderesources,
    nodeunschedulable,
    nodevolumelimits,
    podtopologyspread,
    tainttoleration,
    volumezone,
)
from minikube_lite.scheduler.snapshot import PodInfo, Snapshot


def _run_filter(plugin, p, info: NodeInfo):
    state = CycleState()
    if hasattr(plugin, "pre_filter"):
        _, st = plugin.pre_filter(state, p)
        if st is not None and st.code == Code.Skip:
            return None
        if st is not None:
            return st
    return plugin.filter(state, p, info)


def _check(status, want_code, want_reasons):
    if want_code is None:
        assert status is None or status.code == Code.Success, status
    else:
        assert status is not None
        assert (status.code, status.reasons) == (want_code, want_reasons)


U = Code.Unschedulable
UU = Code.UnschedulableAndUnresolvable


@pytest.mark.parametrize("n,p,code,reasons", [
    (node("a"), pod("p"), None, None),
    (node("a", unschedulable=True), pod("p"), UU, ["node(s) were unschedulable"]),
    (node("a", unschedulable=True),
     pod("p", tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                            "effect": "NoSchedule"}]), None, None),
])
def test_node_unschedulable(n, p, code, reasons):
    _check(_run_filter(nodeunschedulable.NodeUnschedulable(), p, NodeInfo(n)), code, reasons)


@pytest.mark.parametrize("want,code", [(None, None), ("a", None), ("b", UU)])
def test_node_name(want, code):
    st = _run_filter(nodename.NodeName(), pod("p", node_name=want), NodeInfo(node("a")))
    _check(st, code, ["node(s) didn't match the requested node name"] if code else None)


@pytest.mark.parametrize("taints,tolerations,code,reasons", [
    ([CP_TAINT], None, UU, ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"]),
    ([{"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}], None, UU,
     ["node(s) had untolerated taint {node-role.kubernetes.io/master: }"]),
    ([{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}], None, UU,
     ["node(s) had untolerated taint {dedicated: gpu}"]),
    ([{"key": "soft", "value": "x", "effect": "PreferNoSchedule"}], None, None, None),
    ([CP_TAINT], [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                   "effect": "NoSchedule"}], None, None),
    ([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
     [{"key": "dedicated", "operator": "Equal", "value": "cpu"}], UU,
     ["node(s) had untolerated taint {dedicated: gpu}"]),
    ([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}],
     [{"key": "dedicated", "value": "gpu"}], None, None),
    ([{"key": "a", "value": "1", "effect": "NoSchedule"}], [{"operator": "Exists"}], None, None),
    # the first untolerated taint, in node order, is the one reported
    ([{"key": "a", "value": "1", "effect": "NoSchedule"}, {"key": "b", "value": "2", "effect": "NoSchedule"}],
     [{"key": "a", "operator": "Exists"}], UU, ["node(s) had untolerated taint {b: 2}"]),
])
def test_taint_toleration_filter(taints, tolerations, code, reasons):
    st = _run_filter(tainttoleration.TaintToleration(), pod("p", tolerations=tolerations),
                     NodeInfo(node("a", taints=taints)))
    _check(st, code, reasons)


def test_taint_toleration_score_prefers_fewer_intolerable_soft_taints():
    plugin = tainttoleration.TaintToleration()
    soft = {"key": "s", "value": "1", "effect": "PreferNoSchedule"}
    soft2 = {"key": "t", "value": "1", "effect": "PreferNoSchedule"}
    infos = [NodeInfo(node("none")), NodeInfo(node("one", taints=[soft])),
             NodeInfo(node("two", taints=[soft, soft2]))]
    p = pod("p", tolerations=[{"key": "t", "operator": "Exists", "effect": "PreferNoSchedule"}])
    state = CycleState()
    plugin.pre_score(state, p, infos)
    scores = {i.name: plugin.score(state, p, i) for i in infos}
    assert scores == {"none": 0, "one": 1, "two": 1}
    plugin.normalize_score(state, p, scores)
    assert scores == {"none": 100, "one": 0, "two": 0}


AFF_ERR = ["node(s) didn't match Pod's node affinity/selector"]


def _required(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


@pytest.mark.parametrize("p,code", [
    (pod("p"), None),
    (pod("p", node_selector={"disk": "ssd"}), None),
    (pod("p", node_selector={"disk": "hdd"}), UU),
    (pod("p", affinity=_required({"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]})), None),
    (pod("p", affinity=_required({"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["d"]}]})), UU),
    (pod("p", affinity=_required({"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["d"]}]},
                                 {"matchExpressions": [{"key": "disk", "operator": "Exists"}]})), None),
    (pod("p", affinity=_required({"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["8"]}]})),
     None),
    (pod("p", affinity=_required({"matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["8"]}]})),
     UU),
    (pod("p", affinity=_required({"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]})), UU),
    (pod("p", affinity=_required({"matchFields": [{"key": "metadata.name", "operator": "In",
                                                   "values": ["a"]}]})), None),
    (pod("p", affinity=_required({})), UU),   # an empty term matches nothing
    (pod("p", node_selector={"disk": "ssd"},
         affinity=_required({"matchExpressions": [{"key": ZONE, "operator": "NotIn", "values": ["b"]}]})), UU),
])
def test_node_affinity_filter(p, code):
    info = NodeInfo(node("a", zone="b", labels={"disk": "ssd", "cores": "16"}))
    _check(_run_filter(nodeaffinity.NodeAffinity(), p, info), code, AFF_ERR if code else None)


def test_node_affinity_preferred_score():
    plugin = nodeaffinity.NodeAffinity()
    aff = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
        {"weight": 30, "preference": {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]}},
    ]}}
    p = pod("p", affinity=aff)
    infos = [NodeInfo(node("both", zone="b", labels={"disk": "ssd"})), NodeInfo(node("zone", zone="b")),
             NodeInfo(node("none", zone="d"))]
    state = CycleState()
    assert plugin.pre_score(state, p, infos) is None
    scores = {i.name: plugin.score(state, p, i) for i in infos}
    assert scores == {"both": 40, "zone": 30, "none": 0}
    plugin.normalize_score(state, p, scores)
    assert scores == {"both": 100, "zone": 75, "none": 0}
    assert plugin.pre_score(CycleState(), pod("q"), infos).code == Code.Skip


def _info_with(n, *pods):
    info = NodeInfo(n)
    for p in pods:
        info.add_pod(PodInfo.of(p))
    return info


@pytest.mark.parametrize("info,p,code,reasons", [
    (_info_with(node("a", cpu="2", memory="4Gi")), pod("p", cpu="1", memory="1Gi"), None, None),
    (_info_with(node("a", cpu="2"), pod("x", cpu="1500m")), pod("p", cpu="1"), U, ["Insufficient cpu"]),
    (_info_with(node("a", memory="2Gi"), pod("x", memory="1536Mi")), pod("p", memory="1Gi"), U,
     ["Insufficient memory"]),
    (_info_with(node("a", cpu="1", memory="1Gi"), pod("x", cpu="500m", memory="512Mi")),
     pod("p", cpu="600m", memory="600Mi"), U, ["Insufficient cpu", "Insufficient memory"]),
    (_info_with(node("a", cpu="2"), pod("x")), pod("p", cpu="3"), UU, ["Insufficient cpu"]),
    (_info_with(node("a", pods="1"), pod("x")), pod("p"), U, ["Too many pods"]),
    (_info_with(node("a", pods="1", cpu="1"), pod("x", cpu="1")), pod("p", cpu="1"), U,
     ["Too many pods", "Insufficient cpu"]),
    (_info_with(node("a")), pod("p", cpu="0"), None, None),
])
def test_node_resources_fit(info, p, code, reasons):
    _check(_run_filter(noderesources.NodeResourcesFit(), p, info), code, reasons)


def test_node_resources_fit_scalar_resource():
    p = pod("p")
    p["spec"]["containers"][0]["resources"] = {"requests": {"nvidia.com/gpu": "1"}}
    _check(_run_filter(noderesources.NodeResourcesFit(), p, NodeInfo(node("a"))), UU, ["Insufficient nvidia.com/gpu"])


def test_node_resources_init_containers_and_overhead_count():
    p = pod("p", cpu="500m")
    p["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": "1500m"}}}]
    p["spec"]["overhead"] = {"cpu": "250m"}
    # 1500m init + 250m overhead > 1700m allocatable: no eviction could help, so unresolvable
    _check(_run_filter(noderesources.NodeResourcesFit(), p, NodeInfo(node("a", cpu="1700m"))), UU,
           ["Insufficient cpu"])
    _check(_run_filter(noderesources.NodeResourcesFit(), p, NodeInfo(node("a", cpu="1750m"))), None, None)


def test_least_allocated_score():
    plugin = noderesources.NodeResourcesFit()
    p = pod("p", cpu="1", memory="1Gi")
    state = CycleState()
    plugin.pre_filter(state, p)
    empty = NodeInfo(node("empty", cpu="4", memory="4Gi"))
    busy = _info_with(node("busy", cpu="4", memory="4Gi"), pod("x", cpu="2", memory="2Gi"))
    # (4-1)/4 -> 75 for both resources; (4-3)/4 -> 25
    assert plugin.score(state, p, empty) == 75
    assert plugin.score(state, p, busy) == 25


def test_node_ports():
    info = _info_with(node("a"), pod("x", host_port=8080))
    _check(_run_filter(nodeports.NodePorts(), pod("p", host_port=8080), info), U,
           ["node(s) didn't have free ports for the requested pod ports"])
    _check(_run_filter(nodeports.NodePorts(), pod("p", host_port=9090), info), None, None)


def test_default_normalize_score_reverse_and_zero():
    s = {"a": 0, "b": 0}
    default_normalize_score(100, True, s)
    assert s == {"a": 100, "b": 100}
    s = {"a": 2, "b": 1, "c": 0}
    default_normalize_score(100, False, s)
    assert s == {"a": 100, "b": 50, "c": 0}


def _handle(snapshot):
    return Handle(VirtualClock(start=0), snapshot)


@pytest.mark.parametrize("pv_labels,node_zone,code", [
    ({ZONE: "b"}, "b", None),
    ({ZONE: "d"}, "b", UU),
    ({ZONE: "b__d"}, "d", None),
    ({"failure-domain.beta.kubernetes.io/zone": "b"}, "b", None),   # beta PV label vs GA node label
    ({}, "b", None),
    ({ZONE: "d"}, None, None),   # a node without zone labels has no zone constraint
])
def test_volume_zone(pv_labels, node_zone, code):
    claim = pvc("c", "std", volume_name="v", bound=True, phase="Bound")
    snap = Snapshot.from_objects(pvcs=[claim], pvs=[pv("v", "std", labels=pv_labels, claim=claim, phase="Bound")],
                                 storage_classes=[sc("std", mode="Immediate")])
    n = node("a", zone=node_zone)
    if node_zone is None:
        n["metadata"]["labels"].pop(ZONE, None)
    st = _run_filter(volumezone.VolumeZone(_handle(snap)), pod("p", pvcs=("c",)), NodeInfo(n))
    _check(st, code, ["node(s) had no available volume zone"] if code else None)


def test_volume_zone_skips_unbound_wait_for_first_consumer_claims():
    snap = Snapshot.from_objects(pvcs=[pvc("c", "wffc")], storage_classes=[sc("wffc")])
    plugin = volumezone.VolumeZone(_handle(snap))
    _, st = plugin.pre_filter(CycleState(), pod("p", pvcs=("c",)))
    assert st is not None and st.code == Code.Skip
    snap2 = Snapshot.from_objects(pvcs=[pvc("c", "imm")], storage_classes=[sc("imm", mode="Immediate")])
    _, st2 = volumezone.VolumeZone(_handle(snap2)).pre_filter(CycleState(), pod("p", pvcs=("c",)))
    assert (st2.code, st2.reasons) == (UU, ["PersistentVolume had no name"])


def _csinode(name, driver, count):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": name},
            "spec": {"drivers": [{"name": driver, "nodeID": name, "allocatable": {"count": count}}]}}


@pytest.mark.parametrize("limit,existing,code", [(2, 1, None), (1, 1, U), (None, 5, None)])
def test_node_volume_limits(limit, existing, code):
    drv = "disk.csi.example.com"
    claims = [pvc(f"e{i}", "std", volume_name=f"pv{i}", bound=True, phase="Bound") for i in range(existing)]
    pvs = [pv(f"pv{i}", "std", csi_driver=drv, claim=claims[i], phase="Bound") for i in range(existing)]
    new = pvc("new", "std")
    snap = Snapshot.from_objects(pvcs=[*claims, new], pvs=pvs, storage_classes=[sc("std", drv)],
                                 csi_nodes=[_csinode("a", drv, limit)] if limit is not None else [])
    info = _info_with(node("a"), *[pod(f"x{i}", pvcs=(f"e{i}",)) for i in range(existing)])
    st = _run_filter(nodevolumelimits.NodeVolumeLimits(_handle(snap)), pod("p", pvcs=("new",)), info)
    _check(st, code, ["node(s) exceed max volume count"] if code else None)


@pytest.mark.parametrize("limit,code", [(3, None), (2, U)])
def test_node_volume_limits_counts_a_pods_new_volumes_per_driver(limit, code):
    """Two new claims on a limited driver and one on a driver the CSINode does not limit: only the
    limited driver's count (1 attached + 2 new) is held against its limit."""
    drv, other = "disk.csi.example.com", "nfs.csi.example.com"
    old = pvc("e0", "std", volume_name="pv0", bound=True, phase="Bound")
    snap = Snapshot.from_objects(
        pvcs=[old, pvc("n1", "std"), pvc("n2", "std"), pvc("n3", "nfs")],
        pvs=[pv("pv0", "std", csi_driver=drv, claim=old, phase="Bound")],
        storage_classes=[sc("std", drv), sc("nfs", other)], csi_nodes=[_csinode("a", drv, limit)])
    info = _info_with(node("a"), pod("x0", pvcs=("e0",)))
    st = _run_filter(nodevolumelimits.NodeVolumeLimits(_handle(snap)), pod("p", pvcs=("n1", "n2", "n3")), info)
    _check(st, code, ["node(s) exceed max volume count"] if code else None)


SPREAD = [{"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule",
           "labelSelector": {"matchLabels": {"app": "web"}}}]


def test_pod_topology_spread_hard_constraint():
    web = {"app": "web"}
    snap = Snapshot.from_objects(
        nodes=[node("b1", zone="b"), node("d1", zone="d"), node("nolabel")],
        pods=[pod("w1", labels=web, node_name="b1"), pod("w2", labels=web, node_name="b1"),
              pod("w3", labels=web, node_name="d1")])
    snap.node_infos["nolabel"].labels.pop(ZONE, None)
    plugin = podtopologyspread.PodTopologySpread(_handle(snap))
    p = pod("p", labels=web, spread=SPREAD)
    state = CycleState()
    assert plugin.pre_filter(state, p)[1] is None
    _check(plugin.filter(state, p, snap.node_infos["b1"]), U, ["node(s) didn't match pod topology spread constraints"])
    _check(plugin.filter(state, p, snap.node_infos["d1"]), None, None)
    _check(plugin.filter(state, p, snap.node_infos["nolabel"]), UU,
           ["node(s) didn't match pod topology spread constraints (missing required label)"])
    assert plugin.pre_filter(CycleState(), pod("q"))[1].code == Code.Skip


def _pod_aff(kind, labels, key=ZONE):
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": labels}, "topologyKey": key}]}}


def _ipa_snapshot(*pods):
    return Snapshot.from_objects(nodes=[node("b1", zone="b"), node("b2", zone="b"), node("d1", zone="d")],
                                 pods=list(pods))


@pytest.mark.parametrize("existing,p,expect", [
    # required affinity: only the zone that already runs a "db" pod
    ([pod("db", labels={"app": "db"}, node_name="d1")],
     pod("p", affinity=_pod_aff("podAffinity", {"app": "db"})),
     {"b1": (UU, "node(s) didn't match pod affinity rules"), "b2": (UU, "node(s) didn't match pod affinity rules"),
      "d1": None}),
    # the first pod of a self-affine group may go anywhere
    ([], pod("p", labels={"app": "web"}, affinity=_pod_aff("podAffinity", {"app": "web"})),
     {"b1": None, "b2": None, "d1": None}),
    # required anti-affinity per hostname
    ([pod("w", labels={"app": "web"}, node_name="b1")],
     pod("p", affinity=_pod_aff("podAntiAffinity", {"app": "web"}, "kubernetes.io/hostname")),
     {"b1": (U, "node(s) didn't match pod anti-affinity rules"), "b2": None, "d1": None}),
    # an existing pod's anti-affinity keeps matching pods out of its zone
    ([pod("lonely", node_name="b2", affinity=_pod_aff("podAntiAffinity", {"app": "web"}))],
     pod("p", labels={"app": "web"}),
     {"b1": (U, "node(s) didn't satisfy existing pods anti-affinity rules"),
      "b2": (U, "node(s) didn't satisfy existing pods anti-affinity rules"), "d1": None}),
    # other namespaces do not count unless the term names them
    ([pod("db", ns="other", labels={"app": "db"}, node_name="d1")],
     pod("p", affinity=_pod_aff("podAntiAffinity", {"app": "db"})),
     {"b1": None, "b2": None, "d1": None}),
])
def test_inter_pod_affinity(existing, p, expect):
    from minikube_lite.scheduler.plugins import interpodaffinity

    snap = _ipa_snapshot(*existing)
    plugin = interpodaffinity.InterPodAffinity(_handle(snap))
    got = {}
    for name in ("b1", "b2", "d1"):
        st = _run_filter(plugin, p, snap.node_infos[name])
        got[name] = None if st is None else (st.code, st.reasons[0])
    assert got == expect


def test_inter_pod_affinity_skips_when_nothing_applies():
    from minikube_lite.scheduler.plugins import interpodaffinity

    plugin = interpodaffinity.InterPodAffinity(_handle(_ipa_snapshot(pod("x", node_name="b1"))))
    assert plugin.pre_filter(CycleState(), pod("p"))[1].code == Code.Skip


def test_volume_restrictions_read_write_once_pod_and_inline_disks():
    from minikube_lite.scheduler.plugins import volumerestrictions

    rwop = pvc("solo", "std", access=("ReadWriteOncePod",), volume_name="v", bound=True, phase="Bound")
    snap = Snapshot.from_objects(nodes=[node("a"), node("b")], pvcs=[rwop, pvc("shared", "std")],
                                 pods=[pod("holder", pvcs=("solo",), node_name="a")])
    plugin = volumerestrictions.VolumeRestrictions(_handle(snap))
    for name in ("a", "b"):
        _check(_run_filter(plugin, pod("p", pvcs=("solo",)), snap.node_infos[name]), U,
               ["node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"])
    assert plugin.pre_filter(CycleState(), pod("p", pvcs=("shared",)))[1].code == Code.Skip
    _, st = plugin.pre_filter(CycleState(), pod("p", pvcs=("nope",)))
    assert (st.code, st.reasons) == (UU, ['persistentvolumeclaim "nope" not found'])

    def gce(name, ro=False):
        p = pod(name)
        p["spec"]["volumes"] = [{"name": "d", "gcePersistentDisk": {"pdName": "disk-1", "readOnly": ro}}]
        return p

    snap2 = Snapshot.from_objects(nodes=[node("a")])
    snap2.assume_pod(gce("user", ro=True), "a")
    plugin2 = volumerestrictions.VolumeRestrictions(_handle(snap2))
    _check(_run_filter(plugin2, gce("p", ro=True), snap2.node_infos["a"]), None, None)
    _check(_run_filter(plugin2, gce("p"), snap2.node_infos["a"]), U, ["node(s) had no available disk"])


def test_pod_topology_spread_soft_constraint_scores_emptier_domains_higher():
    web = {"app": "web"}
    snap = Snapshot.from_objects(
        nodes=[node("b1", zone="b"), node("b2", zone="b"), node("d1", zone="d"), node("nolabel")],
        pods=[pod("w1", labels=web, node_name="b1"), pod("w2", labels=web, node_name="b2")])
    snap.set_node({**node("nolabel"), "metadata": {"name": "nolabel", "labels": {}}})
    soft = [{**SPREAD[0], "whenUnsatisfiable": "ScheduleAnyway"}]
    plugin = podtopologyspread.PodTopologySpread(_handle(snap))
    p = pod("p", labels=web, spread=soft)
    infos = [snap.node_infos[n] for n in ("b1", "b2", "d1", "nolabel")]
    state = CycleState()
    assert plugin.pre_score(state, p, infos) is None
    scores = {i.name: plugin.score(state, p, i) for i in infos}
    # zone b holds 2 matching pods, zone d none; weight log(2 domains + 2)
    assert scores == {"b1": 3, "b2": 3, "d1": 0, "nolabel": 0}
    plugin.normalize_score(state, p, scores)
    assert scores == {"b1": 0, "b2": 0, "d1": 100, "nolabel": 0}
    assert plugin.pre_score(CycleState(), pod("q", labels=web, spread=SPREAD), infos).code == Code.Skip
