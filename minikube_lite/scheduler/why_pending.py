"""Why is this pod Pending? The scheduler's own filters, run as a dry run, node by node.

``kubectl describe pod`` shows one FailedScheduling line: a histogram of reasons. A learner
wants the other direction: for *this* node, which plugin said no and why; and for each claim of
the pod, where its volume is (or why it is not there yet). This module answers both without
changing anything: it reads the cluster through the API client, builds a fresh scheduler
snapshot from those lists, and runs the real PreFilter, Filter and PostFilter plugins of the
default profile over it. No Reserve, no PreBind, no binding: the framework gets no client, so
a plugin could not write even by mistake. Reason strings are the plugins' own constants, and the
summary is composed by the same function as the FailedScheduling message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..clock import Clock, RealClock
from ..kube.names import ANN_BETA_STORAGE_CLASS, ANN_SELECTED_NODE, REGION_LABELS, ZONE_LABELS
from .algorithm import Diagnosis, FitError
from .defaults import DEFAULT_SCHEDULER_NAME, default_profile, in_tree_registry
from .framework import Code, CycleState, Framework, Handle, NodeStatuses, Status
from .plugins.volumebinding import ERR_PVC_NOT_FOUND, claim_names
from .scheduler import SCHEDULING_GATED_MESSAGE
from .snapshot import JSON, Snapshot

NOT_PENDING = "pod {}/{} is not pending: it is scheduled to node {} (phase {})"
NOT_PENDING_TERMINAL = "pod {}/{} is not pending: it has finished (phase {})"
FITS_NOT_BOUND = ("{}/{} nodes fit the pod; it is waiting for the scheduler (or for its volumes to be "
                  "bound) to be assigned a node")
OTHER_SCHEDULER = 'pod {}/{} is scheduled by "{}", not by "{}": the dry run shows what "{}" would decide'
CLAIM_EVENTS_KEPT = 5

# What the snapshot needs, as the scheduler's informers list it.
_SNAPSHOT_RESOURCES = ("persistentvolumes", "persistentvolumeclaims", "storageclasses", "csinodes",
                       "csidrivers", "csistoragecapacities")


@dataclass
class NodeVerdict:
    """One node: does the pod fit, and if not, which plugin said no and with which reasons."""

    node: str
    fits: bool
    plugin: str = ""
    code: str = ""
    reasons: list[str] = field(default_factory=list)
    zone: str = ""
    region: str = ""


@dataclass
class PersistentVolumeState:
    name: str
    phase: str
    zones: list[str]
    node_affinity: list[JSON]
    driver: str = ""
    volume_handle: str = ""
    capacity: str = ""


@dataclass
class ClaimState:
    """A claim of the pod: where it is in binding and provisioning, with its latest events."""

    name: str
    exists: bool
    phase: str = ""
    storage_class: str = ""
    binding_mode: str = ""
    provisioner: str = ""
    allowed_topologies: list[JSON] = field(default_factory=list)
    selected_node: str = ""
    volume_name: str = ""
    volume: PersistentVolumeState | None = None
    warnings: list[JSON] = field(default_factory=list)
    events: list[JSON] = field(default_factory=list)
    problem: str = ""


@dataclass
class WhyPending:
    namespace: str
    name: str
    pending: bool
    phase: str
    node_name: str
    summary: str
    condition: JSON | None = None
    nodes: list[NodeVerdict] = field(default_factory=list)
    claims: list[ClaimState] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> JSON:
        body = asdict(self)
        body["kind"] = "WhyPending"
        body["apiVersion"] = "minikube-lite/v1"
        return body


def _md(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def _label_of(labels: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((labels[k] for k in keys if labels.get(k)), "")


async def explain(client: Any, namespace: str, name: str, *, clock: Clock | None = None) -> WhyPending:
    """The dry-run verdict for pod ``namespace/name``; a missing pod raises the API's 404."""
    pod = await client.get("pods", name, namespace)
    spec = pod.get("spec") or {}
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    node_name = spec.get("nodeName") or ""
    condition = next((c for c in (pod.get("status") or {}).get("conditions") or []
                      if c.get("type") == "PodScheduled"), None)
    claims = await claim_states(client, pod)
    out = WhyPending(namespace, name, pending=False, phase=phase, node_name=node_name, summary="",
                     condition=condition, claims=claims)
    if phase in ("Succeeded", "Failed"):
        out.summary = NOT_PENDING_TERMINAL.format(namespace, name, phase)
        return out
    if node_name:
        out.summary = NOT_PENDING.format(namespace, name, node_name, phase)
        return out
    out.pending = True
    scheduler_name = spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME
    if scheduler_name != DEFAULT_SCHEDULER_NAME:
        out.notes.append(OTHER_SCHEDULER.format(namespace, name, scheduler_name, DEFAULT_SCHEDULER_NAME,
                                                DEFAULT_SCHEDULER_NAME))
    if spec.get("schedulingGates"):
        out.summary = SCHEDULING_GATED_MESSAGE
        return out
    snapshot = await build_snapshot(client)
    out.nodes, out.summary = dry_run(snapshot, pod, clock or RealClock())
    return out


async def build_snapshot(client: Any) -> Snapshot:
    """A scheduler snapshot from plain LISTs: what the scheduler's informers would hold."""
    nodes = (await client.list("nodes")).get("items") or []
    pods = (await client.list("pods")).get("items") or []
    lists: dict[str, list[JSON]] = {}
    for resource in _SNAPSHOT_RESOURCES:
        lists[resource] = (await client.list(resource)).get("items") or []
    return Snapshot.from_objects(
        nodes=nodes, pods=[p for p in pods if (p.get("spec") or {}).get("nodeName")],
        pvs=lists["persistentvolumes"], pvcs=lists["persistentvolumeclaims"],
        storage_classes=lists["storageclasses"], csi_nodes=lists["csinodes"], csi_drivers=lists["csidrivers"],
        csi_storage_capacities=lists["csistoragecapacities"])


def dry_run(snapshot: Snapshot, pod: JSON, clock: Clock) -> tuple[list[NodeVerdict], str]:
    """PreFilter, then every Filter on every node, then PostFilter when nothing fits.

    Mirrors ``Algorithm._find_nodes_that_fit`` but examines every node (a verdict per node is
    the point), and composes the summary with :class:`FitError`, so it is the FailedScheduling
    message the scheduler writes for the same cluster state.
    """
    framework = Framework(in_tree_registry(), default_profile(), Handle(clock, snapshot, client=None))
    all_nodes = snapshot.node_list()
    if not all_nodes:
        from .algorithm import ERR_NO_NODES_AVAILABLE

        return [], ERR_NO_NODES_AVAILABLE
    state = CycleState()
    diagnosis = Diagnosis()
    verdicts: dict[str, NodeVerdict] = {}

    def verdict(node: str, status: Status | None) -> NodeVerdict:
        info = snapshot.get_node(node)
        labels = info.labels if info is not None else {}
        zone, region = _label_of(labels, ZONE_LABELS), _label_of(labels, REGION_LABELS)
        if status is None:
            return NodeVerdict(node, True, zone=zone, region=region)
        return NodeVerdict(node, False, status.plugin, status.code.name, list(status.reasons), zone, region)

    result, status, narrowing = framework.run_pre_filter(state, pod)
    if status is not None and status.code != Code.Success:
        for info in all_nodes:
            verdicts[info.name] = verdict(info.name, status)
        if not status.is_rejected():
            return _sorted(verdicts), status.message()
        diagnosis.statuses = NodeStatuses({}, status)
        diagnosis.pre_filter_msg = status.message()
        return _sorted(verdicts), _fit_error(framework, state, pod, len(all_nodes), diagnosis)
    allowed = result.node_names if result is not None else None
    if allowed is not None:
        diagnosis.statuses.absent = Status(
            Code.UnschedulableAndUnresolvable,
            [f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowing))}]"], " ".join(sorted(narrowing)))
    filters = framework.active_filters(state)
    feasible = 0
    error = ""
    for info in all_nodes:
        if allowed is not None and info.name not in allowed:
            verdicts[info.name] = verdict(info.name, diagnosis.statuses.absent)
            continue
        st = framework.run_filter(state, pod, info, filters)
        verdicts[info.name] = verdict(info.name, st)
        if st is None:
            feasible += 1
        elif st.code == Code.Error:
            error = error or st.message()
        else:
            diagnosis.statuses.statuses[info.name] = st
    if error:
        return _sorted(verdicts), error
    if feasible:
        return _sorted(verdicts), FITS_NOT_BOUND.format(feasible, len(all_nodes))
    return _sorted(verdicts), _fit_error(framework, state, pod, len(all_nodes), diagnosis)


def _fit_error(framework: Framework, state: CycleState, pod: JSON, num_nodes: int, diagnosis: Diagnosis) -> str:
    _, post = framework.run_post_filter(state, pod, diagnosis.statuses)
    if post is not None:
        diagnosis.post_filter_msg = post.message()
    return str(FitError(pod, num_nodes, diagnosis))


def _sorted(verdicts: dict[str, NodeVerdict]) -> list[NodeVerdict]:
    return [verdicts[k] for k in sorted(verdicts)]


# ------------------------------------------------------------------------------------- claims


async def claim_states(client: Any, pod: JSON) -> list[ClaimState]:
    namespace = _md(pod).get("namespace") or "default"
    out = []
    for claim_name, _ephemeral in claim_names(pod):
        out.append(await claim_state(client, namespace, claim_name))
    return out


async def claim_state(client: Any, namespace: str, claim_name: str) -> ClaimState:
    from ..client.base import ApiError

    try:
        pvc = await client.get("persistentvolumeclaims", claim_name, namespace)
    except ApiError as err:
        if err.code != 404:
            raise
        return ClaimState(claim_name, exists=False, problem=ERR_PVC_NOT_FOUND.format(claim_name))
    spec = pvc.get("spec") or {}
    annotations = _md(pvc).get("annotations") or {}
    state = ClaimState(claim_name, exists=True, phase=(pvc.get("status") or {}).get("phase") or "Pending",
                       storage_class=spec.get("storageClassName") or annotations.get(ANN_BETA_STORAGE_CLASS) or "",
                       selected_node=annotations.get(ANN_SELECTED_NODE, ""),
                       volume_name=spec.get("volumeName") or "")
    if state.storage_class:
        try:
            sc = await client.get("storageclasses", state.storage_class)
        except ApiError as err:
            if err.code != 404:
                raise
            state.problem = f'storageclass.storage.k8s.io "{state.storage_class}" not found'
        else:
            state.binding_mode = sc.get("volumeBindingMode") or "Immediate"
            state.provisioner = sc.get("provisioner") or ""
            state.allowed_topologies = sc.get("allowedTopologies") or []
    if state.volume_name:
        state.volume = await _volume_state(client, state.volume_name)
    events = await _events_of(client, namespace, "PersistentVolumeClaim", pvc)
    state.events = events[:CLAIM_EVENTS_KEPT]
    latest_warning: dict[str, JSON] = {}
    for ev in events:
        if ev.get("type") == "Warning":
            latest_warning.setdefault(ev.get("reason") or "", ev)
    state.warnings = list(latest_warning.values())
    return state


async def _volume_state(client: Any, name: str) -> PersistentVolumeState | None:
    from ..client.base import ApiError

    try:
        pv = await client.get("persistentvolumes", name)
    except ApiError as err:
        if err.code != 404:
            raise
        return None
    spec = pv.get("spec") or {}
    terms = (((spec.get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms")) or []
    zones: list[str] = []
    labels = _md(pv).get("labels") or {}
    zone_label = _label_of(labels, ZONE_LABELS)
    if zone_label:
        zones.append(zone_label)
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("operator") == "In" and (expr.get("key") in ZONE_LABELS or
                                                 str(expr.get("key", "")).endswith("/zone")):
                zones.extend(v for v in expr.get("values") or [] if v not in zones)
    csi = spec.get("csi") or {}
    return PersistentVolumeState(name, (pv.get("status") or {}).get("phase") or "", zones, terms,
                                 csi.get("driver") or "", csi.get("volumeHandle") or "",
                                 str((spec.get("capacity") or {}).get("storage") or ""))


def _event_time(ev: JSON) -> str:
    return str(ev.get("lastTimestamp") or ev.get("eventTime") or (ev.get("series") or {}).get("lastObservedTime")
               or ev.get("firstTimestamp") or _md(ev).get("creationTimestamp") or "")


async def _events_of(client: Any, namespace: str, kind: str, obj: JSON) -> list[JSON]:
    """The object's events (matched by uid, so an older object of the same name does not show), newest first."""
    md = _md(obj)
    listed = await client.list("events", namespace, field_selector=(
        f"involvedObject.kind={kind},involvedObject.name={md.get('name', '')}"))
    uid = md.get("uid")
    items = [e for e in listed.get("items") or [] if not uid or (e.get("involvedObject") or {}).get("uid") in (uid, None)]
    items.sort(key=lambda e: (_event_time(e), int(_md(e).get("resourceVersion") or 0)), reverse=True)
    return [{"type": e.get("type", ""), "reason": e.get("reason", ""), "message": e.get("message", ""),
             "count": e.get("count") or 1, "time": _event_time(e),
             "source": (e.get("source") or {}).get("component") or e.get("reportingComponent") or ""}
            for e in items]
