"""The DaemonSet controller: one pod on every node the template may run on.

As ``pkg/controller/daemon`` (1.35): a node is eligible when it matches the template's
nodeSelector and required node affinity and its NoSchedule/NoExecute taints are tolerated (the
template gets the usual daemon tolerations first). Each pod is pinned with a required node
affinity term on ``metadata.name`` and left to the scheduler to bind. Extra pods on a node (the
oldest is kept), pods on nodes no longer eligible and failed pods are deleted. RollingUpdate
replaces outdated pods within ``maxUnavailable``. Each template is a ControllerRevision
``<set>-<hash>`` whose hash the pods carry in ``controller-revision-hash`` (see ``history``), so
``kubectl rollout history``/``undo`` work; unused revisions beyond ``revisionHistoryLimit`` go.
"""

from __future__ import annotations

import logging

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from ...clock import Clock, parse_time
from ...kube.selectors import match_node_selector_terms, tolerates_taint
from .common import (
    CONTROLLER_INDEX,
    FAILED_CREATE,
    FAILED_DELETE,
    SUCCESSFUL_CREATE,
    SUCCESSFUL_DELETE,
    PodExpectations,
    available_in,
    claim_children,
    controller_index,
    is_active,
    is_ready,
    meta,
    name_of,
    pod_from_template,
    pod_phase,
    pods_by_owner_key,
    resolve_int_or_percent,
    status_differs,
    template_hash,
    uid_of,
    write_status,
)
from .history import RevisionHistory, revision_name

log = logging.getLogger(__name__)

COMPONENT = "daemonset-controller"
KIND = "DaemonSet"
REVISION_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"
REASON_FAILED_DAEMON_POD = "FailedDaemonPod"
MSG_FAILED_DAEMON_POD = "Found failed daemon pod {ns}/{pod} on node {node}, will try to kill it"

# util.AddOrUpdateDaemonPodTolerations: daemons ride out node conditions that evict other pods.
DAEMON_TOLERATIONS: list[JSON] = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
HOST_NETWORK_TOLERATION: JSON = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                                 "effect": "NoSchedule"}


def daemon_tolerations(pod_spec: JSON) -> list[JSON]:
    """The template's tolerations plus the daemon ones it does not already carry."""
    tolerations = list(pod_spec.get("tolerations") or [])
    extra = list(DAEMON_TOLERATIONS)
    if pod_spec.get("hostNetwork"):
        extra.append(HOST_NETWORK_TOLERATION)
    for tol in extra:
        if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
            tolerations.append(tol)
    return tolerations


def node_should_run(pod_spec: JSON, node: JSON) -> bool:
    """NodeShouldRunDaemonPod: node name, nodeSelector, required node affinity, NoSchedule/NoExecute taints."""
    node_name = name_of(node)
    if pod_spec.get("nodeName") and pod_spec["nodeName"] != node_name:
        return False
    labels = meta(node).get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if terms and not match_node_selector_terms(terms, node):
        return False
    tolerations = daemon_tolerations(pod_spec)
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates_taint(tolerations, taint):
            return False
    return True


def pin_to_node(pod_spec: JSON, node_name: str) -> None:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become one metadata.name term."""
    affinity = pod_spec.setdefault("affinity", {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [{
        "matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}


def target_node(pod: JSON) -> str | None:
    """The node a daemon pod is for: where it runs, or where its metadata.name affinity pins it."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and field.get("values"):
                return str(field["values"][0])
    return None


def _created(pod: JSON) -> tuple[float, str]:
    return (parse_time(meta(pod).get("creationTimestamp") or "") or 0.0, name_of(pod))


class DaemonSetController(Controller):
    name = "daemonset-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)
        self.history = RevisionHistory(client, KIND)

    def setup(self) -> None:
        self.ds_informer = self.informer("daemonsets.apps", key_of=lambda e, o, old: [_key(o)])
        self.expectations = PodExpectations(self.clock)
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)
        self.node_informer = self.informer("nodes", key_of=self._node_keys)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        self.expectations.observe(event, obj)
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        return keys

    def _node_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        if old is not None and event == "MODIFIED":
            same = (meta(obj).get("labels") == meta(old).get("labels")
                    and (obj.get("spec") or {}).get("taints") == (old.get("spec") or {}).get("taints"))
            if same:
                return []
        return [_key(ds) for ds in self.ds_informer.list()]

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        ds = await get_or_none(self.client, "daemonsets.apps", name, ns)
        if ds is None:
            self.expectations.forget(key)
            return DONE
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        history = await self.history.sync(ds, lambda data, collisions: template_hash(template, collisions))
        revision = str((meta(history.update).get("labels") or {}).get(REVISION_LABEL))
        pods = self.pods.by_index(CONTROLLER_INDEX, uid_of(ds))
        owned, _adopt, _release = claim_children(pods, ds, spec.get("selector"))
        nodes = self.node_informer.list()
        by_node: dict[str, list[JSON]] = {}
        for pod in owned:
            node = target_node(pod)
            if node is not None:
                by_node.setdefault(node, []).append(pod)
        eligible = {name_of(n) for n in nodes if node_should_run(template.get("spec") or {}, n)}
        if not meta(ds).get("deletionTimestamp") and self.expectations.satisfied(key):
            await self._manage(key, ds, by_node, eligible, revision)
        result = await self._update_status(ds, by_node, eligible, revision, history.collision_count)
        in_use = {revision_name(name, str((meta(p).get("labels") or {}).get(REVISION_LABEL)))
                  for p in owned if is_active(p)}
        await self.history.truncate(ds, history.revisions, in_use | {name_of(history.update)})
        return result

    async def _manage(self, key: str, ds: JSON, by_node: dict[str, list[JSON]], eligible: set[str],
                      revision: str) -> None:
        ns = meta(ds).get("namespace") or "default"
        to_delete: list[JSON] = []
        to_create: list[str] = []
        for node in sorted(eligible | set(by_node)):
            pods = [p for p in by_node.get(node, []) if not meta(p).get("deletionTimestamp")]
            if node in eligible:
                failed = [p for p in pods if pod_phase(p) == "Failed"]
                for pod in failed:
                    await self.recorder.event(ds, WARNING, REASON_FAILED_DAEMON_POD, MSG_FAILED_DAEMON_POD.format(
                        ns=ns, pod=name_of(pod), node=node))
                to_delete.extend(failed)
                running = sorted((p for p in pods if is_active(p)), key=_created)
                if not running and not any(meta(p).get("deletionTimestamp") for p in by_node.get(node, [])):
                    to_create.append(node)
                to_delete.extend(running[1:])  # keep the oldest
            else:
                to_delete.extend(pods)
        for node in to_create:
            await self._create(key, ds, node, revision)
        for pod in to_delete:
            await self._delete(key, ds, pod)
        if not to_create and not to_delete:
            await self._rolling_update(key, ds, by_node, eligible, revision)

    async def _rolling_update(self, key: str, ds: JSON, by_node: dict[str, list[JSON]], eligible: set[str],
                              revision: str) -> None:
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        max_unavailable = resolve_int_or_percent((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1),
                                                 len(eligible), True) or 1
        live = [p for node in eligible for p in by_node.get(node, []) if is_active(p)]
        unavailable = len(eligible) - sum(1 for p in live if is_ready(p))
        budget = max_unavailable - unavailable
        outdated = sorted((p for p in live if (meta(p).get("labels") or {}).get(REVISION_LABEL) != revision
                           and is_ready(p)), key=_created)
        for pod in outdated[:max(budget, 0)]:
            await self._delete(key, ds, pod)

    async def _create(self, key: str, ds: JSON, node: str, revision: str) -> None:
        ns = meta(ds).get("namespace") or "default"
        body = pod_from_template((ds.get("spec") or {}).get("template") or {}, ds, KIND, ns)
        body["metadata"]["labels"].update({REVISION_LABEL: revision,
                                           GENERATION_LABEL: str(meta(ds).get("generation", 1))})
        spec = body["spec"]
        spec["tolerations"] = daemon_tolerations(spec)
        pin_to_node(spec, node)
        try:
            pod = await self.client.create("pods", body, ns)
        except ApiError as err:
            await self.recorder.event(ds, WARNING, FAILED_CREATE, f"Error creating: {err.message}")
            raise
        self.expectations.expect_create(key, pod, self.pods.get(name_of(pod), ns))
        await self.recorder.event(ds, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name_of(pod)}")

    async def _delete(self, key: str, ds: JSON, pod: JSON) -> None:
        try:
            await self.client.delete("pods", name_of(pod), meta(pod).get("namespace"))
            self.expectations.expect_delete(key, pod, self.pods.get(name_of(pod), meta(pod).get("namespace")))
        except ApiError as err:
            if err.code == 404:
                return
            await self.recorder.event(ds, WARNING, FAILED_DELETE, f"Error deleting: {err.message}")
            raise
        await self.recorder.event(ds, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name_of(pod)}")

    async def _update_status(self, ds: JSON, by_node: dict[str, list[JSON]], eligible: set[str],
                             revision: str, collisions: int) -> Result:
        spec = ds.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        current = misscheduled = ready = available = updated = 0
        requeue: float | None = None
        for node, pods in by_node.items():
            live = [p for p in pods if is_active(p)]
            if not live:
                continue
            if node not in eligible:
                misscheduled += 1
                continue
            current += 1
            pod = sorted(live, key=_created)[0]
            if (meta(pod).get("labels") or {}).get(REVISION_LABEL) == revision:
                updated += 1
            if is_ready(pod):
                ready += 1
                wait = available_in(pod, min_ready, now)
                if wait == 0:
                    available += 1
                elif wait is not None:
                    requeue = wait if requeue is None else min(requeue, wait)
        old = ds.get("status") or {}
        status: JSON = {"currentNumberScheduled": current, "numberMisscheduled": misscheduled,
                        "desiredNumberScheduled": len(eligible), "numberReady": ready,
                        "observedGeneration": meta(ds).get("generation", 1),
                        "updatedNumberScheduled": updated, "numberAvailable": available,
                        "numberUnavailable": max(len(eligible) - available, 0), "collisionCount": collisions}
        if status_differs(old, status):
            await write_status(self.client, "daemonsets.apps", ds, status)
        return Result(requeue_after=requeue) if requeue else DONE


def _key(obj: JSON) -> str:
    return f"{meta(obj).get('namespace')}/{name_of(obj)}"


