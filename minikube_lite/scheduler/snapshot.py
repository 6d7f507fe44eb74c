"""The scheduler's view of the cluster: NodeInfos, pods, volumes and CSI objects as plain dicts.

Upstream keeps an informer-fed cache and takes a snapshot per cycle. Here the scheduling cycle
(PreFilter..Reserve) is synchronous on the event loop, so informer handlers cannot run in the
middle of it and one live :class:`Snapshot` serves as both cache and snapshot. PVs and PVCs go
through an :class:`AssumeCache` so Reserve can assume a binding before the API has it, as
``volumebinding``'s assume cache does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..clock import Clock
from ..kube import quantity
from ..kube.meta import name_of, namespace_of
from ..kube.names import REGION_LABELS, ZONE_LABELS
from ..kube.volumes import claim_class, volume_class

JSON = dict[str, Any]

DEFAULT_MILLI_CPU_REQUEST = 100          # 0.1 core, for scoring pods with no cpu request
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024  # 200 MiB, for scoring pods with no memory request


def pod_key(pod: JSON) -> str:
    md = pod.get("metadata") or {}
    return f"{md.get('namespace') or 'default'}/{md.get('name', '')}"


def pod_priority(pod: JSON) -> int:
    p = (pod.get("spec") or {}).get("priority")
    return int(p) if isinstance(p, int) else 0


def _container_requests(c: JSON) -> dict[str, int]:
    res = c.get("resources") or {}
    req = dict(res.get("requests") or {})
    # The API server defaults requests to limits; do the same for objects that skipped it.
    for k, v in (res.get("limits") or {}).items():
        req.setdefault(k, v)
    return {k: quantity.resource_units(k, v) for k, v in req.items()}


def _add(into: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0) + v


def _max(into: dict[str, int], other: dict[str, int]) -> None:
    for k, v in other.items():
        if v > into.get(k, 0):
            into[k] = v


def pod_requests(pod: JSON) -> dict[str, int]:
    """``resource.PodRequests``: sum of containers, max with init containers (sidecars add), plus overhead."""
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        _add(total, _container_requests(c))
    sidecars: dict[str, int] = {}
    init_max: dict[str, int] = {}
    for c in spec.get("initContainers") or []:
        r = _container_requests(c)
        if c.get("restartPolicy") == "Always":
            _add(sidecars, r)
            _max(init_max, sidecars)
        else:
            eff = dict(sidecars)
            _add(eff, r)
            _max(init_max, eff)
    _add(total, sidecars)
    _max(total, init_max)
    overhead = spec.get("overhead") or {}
    _add(total, {k: quantity.resource_units(k, v) for k, v in overhead.items()})
    return total


def pod_non_zero_requests(pod: JSON) -> tuple[int, int]:
    """cpu/memory with upstream's non-zero defaults, used only for scoring."""
    cpu = mem = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        r = _container_requests(c)
        cpu += r.get("cpu") or DEFAULT_MILLI_CPU_REQUEST
        mem += r.get("memory") or DEFAULT_MEMORY_REQUEST
    return cpu, mem


def required_anti_affinity_terms(pod: JSON) -> list[JSON]:
    aff = ((pod.get("spec") or {}).get("affinity") or {}).get("podAntiAffinity") or {}
    terms: list[JSON] = aff.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    return terms


@dataclass(slots=True)
class PodInfo:
    pod: JSON
    key: str
    requests: dict[str, int]
    non_zero_cpu: int
    non_zero_mem: int
    priority: int
    anti_affinity: bool = False
    #: PVC and generic ephemeral volumes: an upper bound on the CSI volumes the pod attaches.
    claims: int = 0

    @classmethod
    def of(cls, pod: JSON) -> PodInfo:
        cpu, mem = pod_non_zero_requests(pod)
        claims = sum(1 for v in (pod.get("spec") or {}).get("volumes") or []
                     if v.get("persistentVolumeClaim") or v.get("ephemeral"))
        return cls(pod, pod_key(pod), pod_requests(pod), cpu, mem, pod_priority(pod),
                   bool(required_anti_affinity_terms(pod)), claims)


class NodeInfo:
    """A node with the pods assigned (or assumed) to it and their summed requests."""

    __slots__ = ("node", "name", "labels", "taints", "allocatable", "pods", "requested",
                 "non_zero_cpu", "non_zero_mem", "generation", "unschedulable", "anti_affinity_pods",
                 "claim_count")

    def __init__(self, node: JSON | None = None) -> None:
        self.node: JSON | None = None
        self.name = ""
        self.labels: dict[str, str] = {}
        self.taints: list[JSON] = []
        self.unschedulable = False
        self.allocatable: dict[str, int] = {}
        self.pods: dict[str, PodInfo] = {}
        self.anti_affinity_pods = 0   # pods here with required anti-affinity (InterPodAffinity)
        self.claim_count = 0          # sum of PodInfo.claims (NodeVolumeLimits' quick bound)
        self.requested: dict[str, int] = {}
        self.non_zero_cpu = 0
        self.non_zero_mem = 0
        self.generation = 0
        if node is not None:
            self.set_node(node)

    def set_node(self, node: JSON) -> None:
        self.node = node
        md = node.get("metadata") or {}
        self.name = md.get("name", "")
        self.labels = md.get("labels") or {}
        self.taints = (node.get("spec") or {}).get("taints") or []
        self.unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
        status = node.get("status") or {}
        alloc = status.get("allocatable") or status.get("capacity") or {}
        self.allocatable = {k: quantity.resource_units(k, v) for k, v in alloc.items()}
        self.generation += 1

    def add_pod(self, info: PodInfo) -> None:
        if info.key in self.pods:
            self.remove_pod(info.key)
        self.pods[info.key] = info
        self.anti_affinity_pods += info.anti_affinity
        self.claim_count += info.claims
        _add(self.requested, info.requests)
        self.non_zero_cpu += info.non_zero_cpu
        self.non_zero_mem += info.non_zero_mem
        self.generation += 1

    def remove_pod(self, key: str) -> PodInfo | None:
        info = self.pods.pop(key, None)
        if info is None:
            return None
        self.anti_affinity_pods -= info.anti_affinity
        self.claim_count -= info.claims
        for k, v in info.requests.items():
            self.requested[k] = self.requested.get(k, 0) - v
        self.non_zero_cpu -= info.non_zero_cpu
        self.non_zero_mem -= info.non_zero_mem
        self.generation += 1
        return info

    def clone(self) -> NodeInfo:
        c = NodeInfo()
        c.node, c.name, c.labels, c.taints = self.node, self.name, self.labels, self.taints
        c.unschedulable = self.unschedulable
        c.allocatable = self.allocatable
        c.pods = dict(self.pods)
        c.anti_affinity_pods = self.anti_affinity_pods
        c.claim_count = self.claim_count
        c.requested = dict(self.requested)
        c.non_zero_cpu, c.non_zero_mem = self.non_zero_cpu, self.non_zero_mem
        c.generation = self.generation
        return c


def _rv(obj: JSON) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class AssumeCache:
    """Informer objects plus in-memory assumptions that a newer informer version replaces.

    ``assume`` records what the scheduler has decided but the API may not show yet (a PV's
    claimRef, a PVC's selected-node). An informer update with a *newer* resourceVersion than the
    assumed object drops the assumption, like ``assumecache.AssumeCache``.
    """

    def __init__(self, index: Callable[[JSON], Hashable] | None = None) -> None:
        self._api: dict[str, JSON] = {}
        self._assumed: dict[str, JSON] = {}
        self._index_fn = index
        # An object moves to the end of its bucket whenever it changes, so two objects of one
        # bucket keep the same relative order whichever index (coarser or finer) holds them.
        self._by_index: dict[Hashable, dict[str, JSON]] = {}

    def _reindex(self, key: str, old: JSON | None, new: JSON | None) -> None:
        if self._index_fn is None:
            return
        if old is not None:
            value = self._index_fn(old)
            bucket = self._by_index.get(value)
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self._by_index[value]
        if new is not None:
            self._by_index.setdefault(self._index_fn(new), {})[key] = new

    def get(self, key: str) -> JSON | None:
        obj = self._assumed.get(key)
        return obj if obj is not None else self._api.get(key)

    def get_api(self, key: str) -> JSON | None:
        return self._api.get(key)

    def list_all(self) -> list[JSON]:
        out: list[JSON] = []
        for k in self._api:
            obj = self.get(k)
            if obj is not None:
                out.append(obj)
        return out

    def list_index(self, value: Hashable) -> list[JSON]:
        return list((self._by_index.get(value) or {}).values())

    def assume(self, key: str, obj: JSON) -> None:
        old = self.get(key)
        self._assumed[key] = obj
        self._reindex(key, old, obj)

    def restore(self, key: str) -> None:
        if key in self._assumed:
            old = self._assumed.pop(key)
            self._reindex(key, old, self._api.get(key))

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed

    def api_set(self, key: str, obj: JSON) -> None:
        old = self.get(key)
        self._api[key] = obj
        assumed = self._assumed.get(key)
        if assumed is not None and _rv(obj) > _rv(assumed):
            del self._assumed[key]
        self._reindex(key, old, self.get(key))

    def api_delete(self, key: str) -> None:
        old = self.get(key)
        self._api.pop(key, None)
        self._assumed.pop(key, None)
        self._reindex(key, old, None)

    def __len__(self) -> int:
        return len(self._api)


def pv_binding_key(pv: JSON) -> tuple[str, str | None, str | None]:
    """The scheduler's PV index: (class, claimRef namespace, claimRef name), or (class, None, None)
    for a PV with no claimRef.

    Why: VolumeBinding matches a claim only against PVs of its class that are free or pre-bound to
    it (``prepare_matching`` rule 1 drops every PV whose claimRef names another claim). With every
    PV of a dynamically provisioned class bound, one bucket per class made each pod's PreFilter walk
    all of them (10,000 at full size); this index hands it only the candidates.
    """
    ref = (pv.get("spec") or {}).get("claimRef")
    if not ref:
        return volume_class(pv), None, None
    ns, name = ref.get("namespace") or "", ref.get("name")
    if not isinstance(ns, str) or not isinstance(name, str):
        return volume_class(pv), "", None    # names no claim: no lookup asks for a None name
    return volume_class(pv), ns, name


def obj_key(obj: JSON) -> str:
    md = obj.get("metadata") or {}
    ns = md.get("namespace")
    return f"{ns}/{md.get('name', '')}" if ns else str(md.get("name", ""))


def zone_key(labels: dict[str, str]) -> str:
    """``utilnode.GetZoneKey``: region and zone, so nodes can be interleaved across zones."""
    region = next((labels[k] for k in REGION_LABELS if k in labels), "")
    zone = next((labels[k] for k in ZONE_LABELS if k in labels), "")
    return f"{region}:\x00:{zone}" if region or zone else ""


def _is_terminal(pod: JSON) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


@dataclass
class Snapshot:
    """Everything the plugins read. Mutated only by informer handlers and the Reserve/Unreserve path."""

    node_infos: dict[str, NodeInfo] = field(default_factory=dict)
    pods: dict[str, JSON] = field(default_factory=dict)
    pvs: AssumeCache = field(default_factory=lambda: AssumeCache(pv_binding_key))
    pvcs: AssumeCache = field(default_factory=AssumeCache)
    storage_classes: dict[str, JSON] = field(default_factory=dict)
    csi_nodes: dict[str, JSON] = field(default_factory=dict)
    csi_drivers: dict[str, JSON] = field(default_factory=dict)
    csi_storage_capacities: dict[str, JSON] = field(default_factory=dict)
    assumed_pods: dict[str, str] = field(default_factory=dict)   # pod key -> node name
    _pod_node: dict[str, str] = field(default_factory=dict)
    anti_affinity_pods: int = 0    # accounted pods with required anti-affinity, cluster-wide
    _node_list: list[NodeInfo] | None = None
    _waiters: dict[str, list[asyncio.Future[None]]] = field(default_factory=dict)

    @classmethod
    def from_objects(cls, *, nodes: Iterable[JSON] = (), pods: Iterable[JSON] = (),
                     pvs: Iterable[JSON] = (), pvcs: Iterable[JSON] = (),
                     storage_classes: Iterable[JSON] = (), csi_nodes: Iterable[JSON] = (),
                     csi_drivers: Iterable[JSON] = (), csi_storage_capacities: Iterable[JSON] = ()
                     ) -> Snapshot:
        s = cls()
        for n in nodes:
            s.set_node(n)
        for p in pods:
            s.set_pod(p)
        for kind, objs in (("persistentvolumes", pvs), ("persistentvolumeclaims", pvcs),
                           ("storageclasses", storage_classes), ("csinodes", csi_nodes),
                           ("csidrivers", csi_drivers), ("csistoragecapacities", csi_storage_capacities)):
            for o in objs:
                s.set_object(kind, o)
        return s

    # -- nodes ------------------------------------------------------------------------------

    def set_node(self, node: JSON) -> None:
        name = (node.get("metadata") or {}).get("name", "")
        self.notify_volume_change([f"node:{name}"])   # a PreBind checks its PV's affinity anew
        info = self.node_infos.get(name)
        if info is None:
            self.node_infos[name] = NodeInfo(node)
            self._node_list = None
        else:
            old_zone = zone_key(info.labels) if info.node is not None else None
            had_node = info.node is not None
            info.set_node(node)
            if not had_node or old_zone != zone_key(info.labels):
                self._node_list = None

    def remove_node(self, name: str) -> None:
        self.notify_volume_change([f"node:{name}"])   # a PreBind waiting on this node gives up
        info = self.node_infos.get(name)
        if info is None:
            return
        if info.pods:
            info.node = None   # keep the pods' accounting until they go, as upstream does
        else:
            del self.node_infos[name]
        self._node_list = None

    def node_list(self) -> list[NodeInfo]:
        """Nodes interleaved across zones (upstream's node tree) so a partial scan spans zones."""
        if self._node_list is None:
            zones: dict[str, list[NodeInfo]] = {}
            for info in self.node_infos.values():
                if info.node is not None:
                    zones.setdefault(zone_key(info.labels), []).append(info)
            out: list[NodeInfo] = []
            lists = list(zones.values())
            i = 0
            while lists:
                nxt = []
                for lst in lists:
                    if i < len(lst):
                        out.append(lst[i])
                    if i + 1 < len(lst):
                        nxt.append(lst)
                lists = nxt
                i += 1
            self._node_list = out
        return self._node_list

    def get_node(self, name: str) -> NodeInfo | None:
        info = self.node_infos.get(name)
        return info if info is not None and info.node is not None else None

    # -- pods -------------------------------------------------------------------------------

    def set_pod(self, pod: JSON) -> None:
        key = pod_key(pod)
        self.pods[key] = pod
        node = (pod.get("spec") or {}).get("nodeName") or ""
        if node and not _is_terminal(pod):
            self.assumed_pods.pop(key, None)
            self._account(key, pod, node)
        elif key not in self.assumed_pods:
            self._unaccount(key)

    def remove_pod(self, key: str) -> None:
        self.pods.pop(key, None)
        self.assumed_pods.pop(key, None)
        self._unaccount(key)

    def assume_pod(self, pod: JSON, node_name: str) -> None:
        """Count the pod on its chosen node before the binding is visible (``cache.AssumePod``)."""
        key = pod_key(pod)
        self.assumed_pods[key] = node_name
        self._account(key, pod, node_name)

    def forget_pod(self, pod: JSON) -> None:
        key = pod_key(pod)
        if self.assumed_pods.pop(key, None) is not None:
            self._unaccount(key)

    def _account(self, key: str, pod: JSON, node_name: str) -> None:
        prev = self._pod_node.get(key)
        if prev is not None and prev != node_name:
            self._unaccount(key)
        info = self.node_infos.get(node_name)
        if info is None:
            info = self.node_infos[node_name] = NodeInfo()
            info.name = node_name
        pi = PodInfo.of(pod)
        info.add_pod(pi)
        self.anti_affinity_pods += pi.anti_affinity
        self._pod_node[key] = node_name

    def _unaccount(self, key: str) -> None:
        prev = self._pod_node.pop(key, None)
        if prev is None:
            return
        info = self.node_infos.get(prev)
        if info is not None:
            removed = info.remove_pod(key)
            if removed is not None:
                self.anti_affinity_pods -= removed.anti_affinity
            if info.node is None and not info.pods:
                del self.node_infos[prev]

    # -- storage objects --------------------------------------------------------------------

    def set_object(self, resource: str, obj: JSON) -> None:
        key = obj_key(obj)
        if resource == "persistentvolumes":
            self.pvs.api_set(key, obj)
            self.notify_volume_change(_volume_keys(resource, obj))
        elif resource == "persistentvolumeclaims":
            self.pvcs.api_set(key, obj)
            self.notify_volume_change(_volume_keys(resource, obj))
        elif resource == "storageclasses":
            self.storage_classes[key] = obj
        elif resource == "csinodes":
            self.csi_nodes[key] = obj
        elif resource == "csidrivers":
            self.csi_drivers[key] = obj
        elif resource == "csistoragecapacities":
            self.csi_storage_capacities[key] = obj
        else:
            raise ValueError(f"snapshot does not track {resource}")

    def delete_object(self, resource: str, obj: JSON) -> None:
        key = obj_key(obj)
        if resource == "persistentvolumes":
            self.pvs.api_delete(key)
            self.notify_volume_change(_volume_keys(resource, obj))
        elif resource == "persistentvolumeclaims":
            self.pvcs.api_delete(key)
            self.notify_volume_change(_volume_keys(resource, obj))
        else:
            table = {"storageclasses": self.storage_classes, "csinodes": self.csi_nodes,
                     "csidrivers": self.csi_drivers,
                     "csistoragecapacities": self.csi_storage_capacities}.get(resource)
            if table is not None:
                table.pop(key, None)

    def get_pvc(self, namespace: str, name: str) -> JSON | None:
        return self.pvcs.get(f"{namespace}/{name}")

    def get_pv(self, name: str) -> JSON | None:
        return self.pvs.get(name)

    def pvs_for_claim(self, pvc: JSON) -> list[JSON]:
        """PVs (assumed or from the API) that ``prepare_matching`` can match to ``pvc``, in cache order:
        those of its class whose claimRef names it, then those of its class with no claimRef.

        Every other PV fails its rule 1 (or is of another class), so the answer is the one a scan of
        the whole class gives: the first pre-bound PV and the smallest-first candidates (ties in
        cache order) are the same, since each bucket keeps the class's relative order.
        """
        cls = claim_class(pvc)
        return self.pvs.list_index((cls, namespace_of(pvc), name_of(pvc))) + self.pvs.list_index((cls, None, None))

    # -- waiting for PV/PVC changes (VolumeBinding PreBind) ---------------------------------

    def notify_volume_change(self, keys: Iterable[str] | None = None) -> None:
        """Wake waiters on these keys (``pvc:ns/name``, ``pv:name``, ``pod:ns/name``, ``node:name``), or every
        waiter when None."""
        if keys is None:
            groups = list(self._waiters.values())
            self._waiters = {}
        else:
            groups = [self._waiters.pop(k) for k in keys if k in self._waiters]
        for waiters in groups:
            for f in waiters:
                if not f.done():
                    f.set_result(None)

    async def wait_volume_change(self, clock: Clock, timeout: float, keys: Iterable[str] | None = None) -> None:
        """Return after a change to one of ``keys`` (any PV/PVC when None) or ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        for k in keys if keys is not None else ["*"]:
            self._waiters.setdefault(k, []).append(fut)

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        # Changes wake us directly; the timeout (PreBind's deadline) is a daemon timer: settle()
        # does not move a virtual clock forward just to reach it.
        try:
            handle = clock.call_later(timeout, wake, daemon=True)  # type: ignore[call-arg]
        except TypeError:
            handle = clock.call_later(timeout, wake)
        try:
            await fut
        finally:
            handle.cancel()
            for k in keys if keys is not None else ["*"]:
                lst = self._waiters.get(k)
                if lst is not None:
                    if fut in lst:
                        lst.remove(fut)
                    if not lst:
                        del self._waiters[k]


def _volume_keys(resource: str, obj: JSON) -> list[str]:
    """Waiter keys a PV/PVC change concerns: itself, its claim (for a PV), and the wildcard."""
    md = obj.get("metadata") or {}
    if resource == "persistentvolumeclaims":
        return ["*", f"pvc:{md.get('namespace') or 'default'}/{md.get('name', '')}"]
    keys = ["*", f"pv:{md.get('name', '')}"]
    ref = (obj.get("spec") or {}).get("claimRef") or {}
    if ref.get("name"):
        keys.append(f"pvc:{ref.get('namespace') or 'default'}/{ref['name']}")
    return keys
