"""VolumeBinding: PVC-aware filtering, assume-on-reserve and API binding in PreBind (storage.md §2.3-2.7).

PreFilter classifies the pod's claims (bound / unbound delay / unbound immediate); Filter asks,
per node, whether bound PVs' node affinity fits, whether a static PV can be matched for each
WaitForFirstConsumer claim, or whether the class can provision there (allowedTopologies and,
when the CSIDriver opts in, CSIStorageCapacity). Reserve assumes the chosen bindings in the
in-memory assume cache; PreBind writes them through the API (PV claimRef, PVC selected-node)
and waits until the PV controller/provisioner has bound every claim.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import ClassVar

from ...client.base import ApiError
from ...kube.meta import annotations_of, name_of
from ...kube.names import (
    ANN_SELECTED_NODE,
    NOT_SUPPORTED_PROVISIONER,
)
from ...kube.quantity import value as qvalue
from ...kube.selectors import (
    match_label_selector,
    match_topology_selector_terms,
    pv_node_affinity_matches,
)
from ...kube.volumes import (
    bind_volume_to_claim,
    claim_class,
    claim_request,
    is_delay_binding_mode,
    is_pvc_fully_bound,
    local_pv_node_names,
    prepare_matching,
)
from ..framework import (
    ClusterEvent,
    Code,
    CycleState,
    EnqueueExtensions,
    FilterPlugin,
    Handle,
    NodeInfo,
    PreBindPlugin,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    ReservePlugin,
    ScorePlugin,
    Status,
)
from ..snapshot import JSON, _rv

NAME = "VolumeBinding"
_STATE_KEY = NAME

ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict"
ERR_REASON_NOT_ENOUGH_SPACE = "node(s) did not have enough free storage"
ERR_REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
ERR_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
# Error texts (Go format verbs turned into str.format fields; %q is rendered with quotes here).
ERR_PVC_NOT_FOUND = 'persistentvolumeclaim "{}" not found'
ERR_PVC_LOST = 'persistentvolumeclaim "{}" bound to non-existent persistentvolume "{}"'
ERR_PVC_DELETING = 'persistentvolumeclaim "{}" is being deleted'
ERR_EPHEMERAL_WAITING = 'waiting for ephemeral volume controller to create the persistentvolumeclaim "{}"'
ERR_EPHEMERAL_NOT_OWNER = "PVC {}/{} was not created for pod {}/{} (pod is not owner)"
ERR_NO_CLASS = 'no class for claim "{}"'
ERR_CLASS_NOT_FOUND = 'failed to find storage class "{}"'
ERR_BINDING_VOLUMES = "binding volumes: {}"
ERR_DEADLINE = "context deadline exceeded"
ERR_CLAIMREF_RESET = 'ClaimRef got reset for pv "{}"'
ERR_PROVISIONING_FAILED = 'provisioning failed for PVC "{}"'
ERR_NODE_NOT_FOUND = 'failed to get node "{0}": node "{0}" not found'
ERR_POD_GONE = 'failed to get pod {}/{} from the pod lister: pod "{}" not found'
ERR_PV_AFFINITY = 'pv "{}" node affinity doesn\'t match node "{}": no matching NodeSelectorTerms'

DEFAULT_BIND_TIMEOUT_SECONDS = 600.0


class BindingError(Exception):
    """An error of the binder; its text becomes the status message unchanged."""


def _md(obj: JSON) -> JSON:
    md: JSON = obj.setdefault("metadata", {})
    return md


def _ns(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _key(obj: JSON) -> str:
    return f"{_ns(obj)}/{name_of(obj)}"


def claim_names(pod: JSON) -> list[tuple[str, bool]]:
    """The claims a pod uses: (name, is_generic_ephemeral)."""
    out = []
    pod_name = name_of(pod)
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        if vol.get("persistentVolumeClaim"):
            out.append((str(vol["persistentVolumeClaim"].get("claimName", "")), False))
        elif vol.get("ephemeral"):
            out.append((f"{pod_name}-{vol.get('name', '')}", True))
    return out


class PodVolumes:
    """The decision for one node: PVs to bind statically (pv, pvc) and claims to provision there."""

    __slots__ = ("static_bindings", "dynamic_provisions")

    def __init__(self) -> None:
        self.static_bindings: list[tuple[JSON, JSON]] = []
        self.dynamic_provisions: list[JSON] = []


@dataclass(slots=True)
class _Claim:
    """A delay-binding claim with what every node's check needs, computed once per cycle."""

    pvc: JSON
    class_name: str
    request: int
    has_request: bool
    selected_node: str | None
    prebound: JSON | None = None
    candidates: list[JSON] = field(default_factory=list)


@dataclass
class _State:
    bound_claims: list[JSON]
    delay_claims: list[JSON]
    # claim key (namespace/name) -> the PVs it may match: pre-bound to it or unbound, of its class
    pvs_by_claim: dict[str, list[JSON]]
    pod_volumes_by_node: dict[str, PodVolumes] = field(default_factory=dict)
    all_bound: bool = False
    claims: list[_Claim] = field(default_factory=list)          # delay claims, pod order
    to_match_sorted: list[_Claim] = field(default_factory=list)  # without selected-node, by request
    any_selected: bool = False
    any_pvs: bool = False
    # class name -> (class, provisioner, allowedTopologies, capacity check needed), filled at first use
    classes: dict[str, tuple[JSON, str, list[JSON] | None, bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for pvc in self.delay_claims:
            requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
            self.claims.append(_Claim(pvc, claim_class(pvc), claim_request(pvc), "storage" in requests,
                                      annotations_of(pvc).get(ANN_SELECTED_NODE)))
        self.to_match_sorted = sorted((c for c in self.claims if c.selected_node is None),
                                      key=lambda c: c.request)
        self.any_selected = any(c.selected_node is not None for c in self.claims)
        for c in self.to_match_sorted:
            c.prebound, c.candidates = prepare_matching(c.pvc, self.pvs_by_claim.get(_key(c.pvc)) or [])
        self.any_pvs = any(c.prebound is not None or c.candidates for c in self.to_match_sorted)


class VolumeBinding(
        PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions,
):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle
        self.snapshot = handle.snapshot

    def events_to_register(self) -> list[ClusterEvent]:
        return [ClusterEvent("StorageClass", "Add"), ClusterEvent("StorageClass", "Update"),
                ClusterEvent("PersistentVolumeClaim", "Add"), ClusterEvent("PersistentVolumeClaim", "Update"),
                ClusterEvent("PersistentVolume", "Add"), ClusterEvent("PersistentVolume", "Update"),
                ClusterEvent("Node", "Add"), ClusterEvent("Node", "UpdateNodeLabel"),
                ClusterEvent("Node", "UpdateNodeTaint"),
                ClusterEvent("CSINode", "Add"), ClusterEvent("CSINode", "Update"),
                ClusterEvent("CSIDriver", "Add"), ClusterEvent("CSIDriver", "Update"),
                ClusterEvent("CSIStorageCapacity", "Add"), ClusterEvent("CSIStorageCapacity", "Update")]

    def queueing_hint(self, pod: JSON, resource: str, action: str, obj: JSON, old: JSON | None) -> bool:
        """A PVC change can only help the pods that use that PVC (``isSchedulableAfterPVCChange``)."""
        if resource != "PersistentVolumeClaim":
            return True
        if _ns(obj) != _ns(pod):
            return False
        return any(name == name_of(obj) for name, _ in claim_names(pod))

    # -- PreFilter ----------------------------------------------------------------------------

    def _pod_has_pvcs(self, pod: JSON) -> tuple[bool, str | None]:
        """``podHasPVCs``: the first problem with a claim as an error text (lister wording)."""
        names = claim_names(pod)
        ns = _ns(pod)
        for name, ephemeral in names:
            pvc = self.snapshot.pvcs.get_api(f"{ns}/{name}")
            if pvc is None:
                if ephemeral:
                    return True, ERR_EPHEMERAL_WAITING.format(name)
                return True, ERR_PVC_NOT_FOUND.format(name)
            if (pvc.get("status") or {}).get("phase") == "Lost":
                vn = (pvc.get("spec") or {}).get("volumeName", "")
                return True, ERR_PVC_LOST.format(name, vn)
            if (pvc.get("metadata") or {}).get("deletionTimestamp"):
                return True, ERR_PVC_DELETING.format(name)
            if ephemeral:
                uid = (pod.get("metadata") or {}).get("uid")
                owners = (pvc.get("metadata") or {}).get("ownerReferences") or []
                if not any(o.get("controller") and o.get("uid") == uid for o in owners):
                    return True, ERR_EPHEMERAL_NOT_OWNER.format(ns, name, ns, name_of(pod))
        return bool(names), None

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]:
        has, err = self._pod_has_pvcs(pod)
        if err is not None:
            return None, Status(Code.UnschedulableAndUnresolvable, [err])
        if not has:
            state.write(_STATE_KEY, _State([], [], {}, all_bound=True))
            return None, Status(Code.Skip)
        bound: list[JSON] = []
        delay: list[JSON] = []
        immediate: list[JSON] = []
        ns = _ns(pod)
        for name, _ in claim_names(pod):
            pvc = self.snapshot.pvcs.get(f"{ns}/{name}")
            if pvc is None:
                return None, Status(Code.Error, [ERR_PVC_NOT_FOUND.format(name)])
            if is_pvc_fully_bound(pvc):
                bound.append(pvc)
            elif is_delay_binding_mode(pvc, self.snapshot.storage_classes) and \
                    not (pvc.get("spec") or {}).get("volumeName"):
                delay.append(pvc)
            else:
                immediate.append(pvc)
        if immediate:
            return None, Status(Code.UnschedulableAndUnresolvable, [ERR_UNBOUND_IMMEDIATE])
        pvs_by_claim = {_key(c): self.snapshot.pvs_for_claim(c) for c in delay}
        state.write(_STATE_KEY, _State(bound, delay, pvs_by_claim))
        eligible: set[str] | None = None
        for pvc in bound:
            names = local_pv_node_names(self.snapshot.get_pv((pvc.get("spec") or {}).get("volumeName", "")))
            if names:
                eligible = set(names) if eligible is None else eligible & names
        return (PreFilterResult(eligible) if eligible is not None else None), None

    # -- Filter -------------------------------------------------------------------------------

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        st: _State = state.data[_STATE_KEY]
        node = node_info.node or {}
        try:
            pod_volumes, reasons = self.find_pod_volumes(st, node, node_info.name, node_info.labels)
        except BindingError as exc:
            return Status(Code.Error, [str(exc)])
        if reasons:
            return Status(Code.UnschedulableAndUnresolvable, reasons)
        st.pod_volumes_by_node[node_info.name] = pod_volumes
        return None

    def find_pod_volumes(self, st: _State, node: JSON, node_name: str | None = None,
                         labels: dict[str, str] | None = None) -> tuple[PodVolumes, list[str]]:
        """``FindPodVolumes``: the node's bindings/provisions, or the reasons it cannot have them."""
        result = PodVolumes()
        if node_name is None:
            node_name = name_of(node)
        if labels is None:
            labels = (node.get("metadata") or {}).get("labels") or {}
        bound_ok = True
        pvs_found = True
        unbound_ok = True
        storage_ok = True
        if st.bound_claims:
            bound_ok, pvs_found = self._check_bound_claims(st.bound_claims, node)
        if st.claims:
            to_provision: list[_Claim] = []
            if st.any_selected:
                for c in st.claims:
                    if c.selected_node is not None:
                        if c.selected_node != node_name:
                            return result, _reasons(bound_ok, False, storage_ok, pvs_found)
                        to_provision.append(c)
            if st.to_match_sorted:
                if st.any_pvs:
                    unbound_ok, unmatched = self._find_matching_volumes(st, node, result)
                    to_provision.extend(unmatched)
                else:
                    unbound_ok = False
                    to_provision.extend(st.to_match_sorted)
            if to_provision:
                unbound_ok, storage_ok = self._check_volume_provisions(st, to_provision, node, labels, result)
        if bound_ok and unbound_ok and storage_ok and pvs_found:
            return result, []
        return result, _reasons(bound_ok, unbound_ok, storage_ok, pvs_found)

    def _check_bound_claims(self, claims: list[JSON], node: JSON) -> tuple[bool, bool]:
        for pvc in claims:
            pv = self.snapshot.get_pv((pvc.get("spec") or {}).get("volumeName", ""))
            if pv is None:
                return True, False
            if not pv_node_affinity_matches(pv, node):
                return False, True
        return True, True

    def _find_matching_volumes(self, st: _State, node: JSON, result: PodVolumes) -> tuple[bool, list[_Claim]]:
        chosen: set[str] = set()
        unmatched: list[_Claim] = []
        for c in st.to_match_sorted:
            pv: JSON | None = None
            if c.prebound is not None:
                if pv_node_affinity_matches(c.prebound, node):
                    pv = c.prebound
            else:
                for cand in c.candidates:
                    if name_of(cand) not in chosen and pv_node_affinity_matches(cand, node):
                        pv = cand
                        break
            if pv is None:
                unmatched.append(c)
                continue
            chosen.add(name_of(pv))
            result.static_bindings.append((pv, c.pvc))
        return not unmatched, unmatched

    def _check_volume_provisions(self, st: _State, claims: list[_Claim], node: JSON, labels: dict[str, str],
                                 result: PodVolumes) -> tuple[bool, bool]:
        for c in claims:
            claim = c.pvc
            info = st.classes.get(c.class_name)
            if info is None:
                if not c.class_name:
                    raise BindingError(ERR_NO_CLASS.format(f"{_ns(claim)}/{name_of(claim)}"))
                sc = self.snapshot.storage_classes.get(c.class_name)
                if sc is None:
                    raise BindingError(ERR_CLASS_NOT_FOUND.format(c.class_name))
                provisioner = sc.get("provisioner") or ""
                driver = self.snapshot.csi_drivers.get(provisioner)
                needs_capacity = driver is not None and bool((driver.get("spec") or {}).get("storageCapacity"))
                info = st.classes[c.class_name] = (sc, provisioner, sc.get("allowedTopologies"), needs_capacity)
            sc, provisioner, topologies, needs_capacity = info
            if not provisioner or provisioner == NOT_SUPPORTED_PROVISIONER:
                return False, True
            if topologies and not match_topology_selector_terms(topologies, labels):
                return False, True
            if needs_capacity and c.has_request and not self._has_enough_capacity(provisioner, claim, sc, node):
                return True, False
            result.dynamic_provisions.append(claim)
        return True, True

    def _has_enough_capacity(self, provisioner: str, claim: JSON, sc: JSON, node: JSON) -> bool:
        requests = ((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}
        if "storage" not in requests:
            return True
        driver = self.snapshot.csi_drivers.get(provisioner)
        if driver is None or not (driver.get("spec") or {}).get("storageCapacity"):
            return True
        size = qvalue(requests["storage"])
        labels = (node.get("metadata") or {}).get("labels") or {}
        class_name = name_of(sc)
        for cap in self.snapshot.csi_storage_capacities.values():
            if cap.get("storageClassName") != class_name:
                continue
            limit = cap.get("maximumVolumeSize")
            if limit is None:
                limit = cap.get("capacity")
            if limit is None or qvalue(limit) < size:
                continue
            if cap.get("nodeTopology") is None:
                continue
            if match_label_selector(cap["nodeTopology"], labels):
                return True
        return False

    # -- Score (the StorageCapacityScoring gate is off: skip, as upstream does by default) ---

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        return Status(Code.Skip)

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        return 0

    # -- Reserve / Unreserve ------------------------------------------------------------------

    def reserve(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        st: _State | None = state.get(_STATE_KEY)
        if st is None:
            return None
        pv_ = st.pod_volumes_by_node.get(node_name)
        if pv_ is None:
            st.all_bound = True
            return None
        st.all_bound = self._assume_pod_volumes(pod, node_name, pv_)
        return None

    def _all_claims_bound(self, pod: JSON) -> bool:
        ns = _ns(pod)
        for name, _ in claim_names(pod):
            pvc = self.snapshot.pvcs.get(f"{ns}/{name}")
            if pvc is None or not is_pvc_fully_bound(pvc):
                return False
        return True

    def _assume_pod_volumes(self, pod: JSON, node_name: str, pv_: PodVolumes) -> bool:
        """``AssumePodVolumes``: claimRefs and selected-node go into the assume cache only."""
        if self._all_claims_bound(pod):
            return True
        bindings: list[tuple[JSON, JSON]] = []
        for pv, pvc in pv_.static_bindings:
            new_pv, dirty = bind_volume_to_claim(pv, pvc)
            if dirty:
                self.snapshot.pvs.assume(name_of(new_pv), new_pv)
            bindings.append((new_pv, pvc))
        claims: list[JSON] = []
        for claim in pv_.dynamic_provisions:
            clone = copy.deepcopy(claim)
            _md(clone).setdefault("annotations", {})[ANN_SELECTED_NODE] = node_name
            self.snapshot.pvcs.assume(f"{_ns(clone)}/{name_of(clone)}", clone)
            claims.append(clone)
        pv_.static_bindings = bindings
        pv_.dynamic_provisions = claims
        return False

    def unreserve(self, state: CycleState, pod: JSON, node_name: str) -> None:
        st: _State | None = state.get(_STATE_KEY)
        if st is None:
            return
        pv_ = st.pod_volumes_by_node.get(node_name)
        if pv_ is None:
            return
        for pv, _ in pv_.static_bindings:
            self.snapshot.pvs.restore(name_of(pv))
        for claim in pv_.dynamic_provisions:
            self.snapshot.pvcs.restore(f"{_ns(claim)}/{name_of(claim)}")

    # -- PreBind ------------------------------------------------------------------------------

    async def pre_bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        st: _State | None = state.get(_STATE_KEY)
        if st is None or st.all_bound:
            return None
        pv_ = st.pod_volumes_by_node.get(node_name)
        if pv_ is None:
            return Status(Code.Error, [f"no pod volumes found for node {node_name!r}"])
        try:
            await self._bind_pod_volumes(pod, node_name, pv_)
        except (BindingError, ApiError) as exc:
            return Status(Code.Error, [str(exc.message if isinstance(exc, ApiError) else exc)])
        return None

    async def _bind_pod_volumes(self, pod: JSON, node_name: str, pv_: PodVolumes) -> None:
        """``BindPodVolumes``: PV updates, then PVC updates, then wait for the controllers."""
        client = self.handle.client
        bindings: list[tuple[JSON, JSON]] = []
        for pv, pvc in pv_.static_bindings:
            new_pv = await client.update("persistentvolumes", pv)
            self.snapshot.pvs.assume(name_of(new_pv), new_pv)
            bindings.append((new_pv, pvc))
        claims: list[JSON] = []
        for claim in pv_.dynamic_provisions:
            new_claim = await client.update("persistentvolumeclaims", claim, _ns(claim))
            self.snapshot.pvcs.assume(f"{_ns(new_claim)}/{name_of(new_claim)}", new_claim)
            claims.append(new_claim)
        pv_.static_bindings = bindings
        pv_.dynamic_provisions = claims
        clock = self.handle.clock
        keys = {f"pv:{name_of(pv)}" for pv, _ in bindings}
        keys |= {f"pvc:{_ns(c)}/{name_of(c)}" for _, c in bindings}
        keys |= {f"pvc:{_ns(c)}/{name_of(c)}" for c in claims}
        keys.add(f"pod:{_ns(pod)}/{name_of(pod)}")
        keys.add(f"node:{node_name}")
        deadline = clock.monotonic() + self.handle.bind_timeout_seconds
        while True:
            try:
                if self._check_bindings(pod, node_name, bindings, claims):
                    return
            except BindingError as exc:
                raise BindingError(ERR_BINDING_VOLUMES.format(exc)) from exc
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise BindingError(ERR_BINDING_VOLUMES.format(ERR_DEADLINE))
            # A claim's PV may arrive after the claim names it (or a statically bound claim may name another).
            for c in [*claims, *(c for _, c in bindings)]:
                vn = ((self.snapshot.pvcs.get_api(f"{_ns(c)}/{name_of(c)}") or {}).get("spec") or {}).get("volumeName")
                if vn:
                    keys.add(f"pv:{vn}")
            # Upstream polls checkBindings every second. Here every object the check reads (the pod,
            # the node, these PVCs and PVs) wakes this wait when its informer changes it, so the check
            # runs after every change that could alter its answer, and a tick with no change could only
            # repeat the last "not yet": so no poll, only the deadline. With thousands of pods waiting
            # here at once (all assumed while the provisioner catches up), the 1 s poll was the
            # scheduler process's largest cost.
            await self.snapshot.wait_volume_change(clock, remaining, keys)

    def _check_bindings(self, pod: JSON, node_name: str, bindings: list[tuple[JSON, JSON]],
                        claims: list[JSON]) -> bool:
        """``checkBindings``: True when all done, False to keep waiting, BindingError to give up."""
        snap = self.snapshot
        node_info = snap.get_node(node_name)
        if node_info is None or node_info.node is None:
            raise BindingError(ERR_NODE_NOT_FOUND.format(node_name))
        node = node_info.node
        key = f"{_ns(pod)}/{name_of(pod)}"
        if key not in snap.pods:
            raise BindingError(ERR_POD_GONE.format(_ns(pod), name_of(pod), name_of(pod)))
        for pv, pvc in bindings:
            api_pv = snap.pvs.get_api(name_of(pv))
            api_pvc = snap.pvcs.get_api(f"{_ns(pvc)}/{name_of(pvc)}")
            if api_pv is None:
                raise BindingError(f'failed to check binding: PersistentVolume "{name_of(pv)}" not found')
            if api_pvc is None:
                raise BindingError("failed to check binding: PersistentVolumeClaim "
                                   f'"{_ns(pvc)}/{name_of(pvc)}" not found')
            if _rv(pv) > _rv(api_pv):
                return False
            ref = (api_pv.get("spec") or {}).get("claimRef")
            if not ref or not ref.get("uid"):
                raise BindingError(ERR_CLAIMREF_RESET.format(name_of(api_pv)))
            if not self._is_pvc_bound_check(api_pvc, node):
                return False
        for claim in claims:
            api = snap.pvcs.get_api(f"{_ns(claim)}/{name_of(claim)}")
            if api is None:
                raise BindingError("failed to check provisioning pvc: PersistentVolumeClaim "
                                   f'"{_ns(claim)}/{name_of(claim)}" not found')
            if _rv(claim) > _rv(api):
                return False
            if annotations_of(api).get(ANN_SELECTED_NODE) != node_name:
                raise BindingError(ERR_PROVISIONING_FAILED.format(name_of(api)))
            vn = (api.get("spec") or {}).get("volumeName")
            if vn:
                bound_pv = snap.pvs.get_api(vn)
                if bound_pv is None:
                    return False
                if not pv_node_affinity_matches(bound_pv, node):
                    raise BindingError(ERR_PV_AFFINITY.format(vn, node_name))
            if not is_pvc_fully_bound(api):
                return False
        return True

    def _is_pvc_bound_check(self, pvc: JSON, node: JSON) -> bool:
        if not is_pvc_fully_bound(pvc):
            return False
        pv = self.snapshot.pvs.get_api((pvc.get("spec") or {}).get("volumeName", ""))
        if pv is None:
            return False
        if not pv_node_affinity_matches(pv, node):
            raise BindingError(ERR_PV_AFFINITY.format(name_of(pv), name_of(node)))
        return True


def _reasons(bound_ok: bool, unbound_ok: bool, storage_ok: bool, pvs_found: bool) -> list[str]:
    """The fixed order of ``FindPodVolumes``'s deferred reason list."""
    out: list[str] = []
    if not bound_ok:
        out.append(ERR_REASON_NODE_CONFLICT)
    if not unbound_ok:
        out.append(ERR_REASON_BIND_CONFLICT)
    if not storage_ok:
        out.append(ERR_REASON_NOT_ENOUGH_SPACE)
    if not pvs_found:
        out.append(ERR_REASON_PV_NOT_EXIST)
    return out


