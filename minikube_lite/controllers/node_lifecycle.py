"""Node heartbeats and the node lifecycle controller, for every node of the cluster.

Why one controller for both sides: in a real cluster each kubelet renews its Lease in
``kube-node-lease`` and refreshes its Node conditions, and kube-controller-manager's node
lifecycle controller notices when a node stops doing so. Here every kubelet is fake, so the
"kubelet side" simply keeps doing its job unless the node is marked down (the annotation
``minikube-lite.io/down: "true"``, set in the config or through the API); the "controller side"
then sees the Lease go stale and, after the monitor grace period, marks the node exactly as
upstream does: every condition ``Unknown`` with ``NodeStatusUnknown`` /
``Kubelet stopped posting node status.``, the ``node.kubernetes.io/unreachable`` taints, pods on
the node no longer Ready. Removing the annotation brings the node back.

Heartbeats run on the resync timer (a daemon timer), so an idle cluster can still ``settle()``;
the down-detection waits on a normal timer so that ``settle()`` reaches it. As upstream, the Lease
is renewed often (``nodeLeaseRenewInterval``, default ``nodeStatusUpdateInterval`` = 10 s) and an
unchanged Node status is re-posted rarely (``nodeStatusReportInterval``, default 5 min): each
write costs, and a 5,000-node cluster renews 500 Leases per second of cluster time.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

from ..client.base import JSON, ApiError, Client
from ..client.events import NORMAL, WARNING, EventRecorder
from ..clock import Clock, parse_time, rfc3339, rfc3339_micro
from ..config import ClusterConfig, timings_of
from ..kube.names import TAINT_UNREACHABLE
from .node_registration import COND_DISK, COND_MEMORY, COND_NOT_READY, COND_PID, COND_READY
from .runtime import DONE, Controller, Key, Result, namespaced_key, split_key

log = logging.getLogger(__name__)

#: A node whose kubelet is "stopped": no heartbeats, no pod starts.
DOWN_ANNOTATION = "minikube-lite.io/down"
LEASE_NAMESPACE = "kube-node-lease"
#: kubelet's default ``nodeLeaseDurationSeconds``.
LEASE_DURATION_SECONDS = 40
#: kubelet ``nodeStatusReportFrequency``.
#: kube-controller-manager ``--node-monitor-grace-period`` (50 s since v1.32).

# pkg/controller/nodelifecycle/node_lifecycle_controller.go (tryUpdateNodeHealth)
REASON_NODE_STATUS_UNKNOWN = "NodeStatusUnknown"
MSG_NODE_STATUS_UNKNOWN = "Kubelet stopped posting node status."
# pkg/controller/util/node (RecordNodeStatusChange, MarkPodsNotReady)
EVENT_NODE_NOT_READY = "NodeNotReady"
EVENT_NODE_READY = "NodeReady"
MSG_NODE_STATUS_NOW = "Node {node} status is now: {status}"
MSG_POD_NODE_NOT_READY = "Node is not ready"
# k8s.io/api core/v1 well_known_taints.go

NODE_CONTROLLER = "node-controller"
KUBELET = "kubelet"

_CONDITION_ORDER = ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")


def is_down(node: JSON | None) -> bool:
    """Whether the node's kubelet is stopped (annotation ``minikube-lite.io/down: "true"``)."""
    if node is None:
        return False
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(DOWN_ANNOTATION, "")).lower() == "true"


def node_condition(node: JSON | None, type_: str) -> JSON | None:
    for cond in ((node or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def node_ready_status(node: JSON | None) -> str:
    """``True``/``False``/``Unknown`` of the Ready condition (``Unknown`` when absent)."""
    cond = node_condition(node, "Ready")
    return str(cond.get("status")) if cond else "Unknown"


class NodeLifecycleController(Controller):
    """Leases and Ready heartbeats for live nodes; NotReady (Unknown) for nodes marked down."""

    name = "node-lifecycle"

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        #: How often each kubelet renews its Lease (upstream: every 10 s, a quarter of the 40 s lease).
        self.lease_interval = timings.lease_renew_interval
        #: How often an unchanged node status is posted again, moving ``lastHeartbeatTime``
        #: (kubelet ``nodeStatusReportFrequency``, 5 min; the Lease is the frequent heartbeat).
        self.interval = timings.nodeStatusReportInterval
        self.grace = timings.nodeMonitorGracePeriod
        self.resync_period = max(0.001, min(self.interval, self.lease_interval))
        #: Nodes the config says should come up NotReady (KubeletNotReady): kept so, heartbeat or not.
        self.config_not_ready = {n.name for n in config.resolved_nodes() if not n.ready} if config else set()
        self.controller_events = EventRecorder(client, NODE_CONTROLLER, clock)
        self._kubelet_events: dict[str, EventRecorder] = {}
        self._node_pods: dict[str, set[Key]] = {}

    # ------------------------------------------------------------------ wiring

    def setup(self) -> None:
        self.nodes = self.informer("nodes", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])
        self.leases = self.informer("leases", namespace=LEASE_NAMESPACE,
                                    key_of=lambda ev, obj, old: [obj["metadata"]["name"]])
        self.pods = self.informer("pods", key_of=self._pod_keys)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        # A pod landing on a node that is already down must be marked too.
        node = (obj.get("spec") or {}).get("nodeName")
        before = ((old or {}).get("spec") or {}).get("nodeName")
        key = namespaced_key(obj)
        if before and before != node:
            self._node_pods.get(before, set()).discard(key)
        if node:
            members = self._node_pods.setdefault(node, set())
            (members.discard if event == "DELETED" else members.add)(key)
        if node and node != before and event != "DELETED":
            return [node]
        return []

    def resync_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n in self.nodes.list()]

    def kubelet_events(self, node: str) -> EventRecorder:
        rec = self._kubelet_events.get(node)
        if rec is None:
            rec = self._kubelet_events[node] = EventRecorder(self.client, KUBELET, self.clock, host=node)
        return rec

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        node = self.nodes.get(key)
        if node is None:
            return DONE
        now = self.clock.now()
        if not is_down(node):
            await self._renew_lease(node, now)
            await self._post_status(node, now)
            return DONE
        last = self._last_heartbeat(node)
        if last is not None and now < last + self.grace:
            return Result(requeue_after=last + self.grace - now)
        await self._mark_unknown(node, now)
        return DONE

    def _last_heartbeat(self, node: JSON) -> float | None:
        lease = self.leases.get(node["metadata"]["name"], LEASE_NAMESPACE)
        renew = parse_time(str(((lease or {}).get("spec") or {}).get("renewTime") or ""))
        ready = node_condition(node, "Ready") or {}
        beat = parse_time(str(ready.get("lastHeartbeatTime") or ""))
        stamps = [t for t in (renew, beat) if t is not None]
        return max(stamps) if stamps else None

    # ------------------------------------------------------------------ the kubelet side

    async def _renew_lease(self, node: JSON, now: float) -> None:
        name = node["metadata"]["name"]
        lease = self.leases.get(name, LEASE_NAMESPACE)
        spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": rfc3339_micro(now)}
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": LEASE_NAMESPACE,
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                      "uid": node["metadata"].get("uid", "")}]},
                    "spec": spec}
            try:
                await self.client.create("leases", body, LEASE_NAMESPACE)
                return
            except ApiError as err:
                if err.code != 409:
                    raise
        renewed = parse_time(str(((lease or {}).get("spec") or {}).get("renewTime") or ""))
        if renewed is not None and now - renewed < self.lease_interval - 1e-6:
            return
        await self.client.patch("leases", name, {"spec": spec}, LEASE_NAMESPACE)

    async def _post_status(self, node: JSON, now: float) -> None:
        """Refresh every condition's heartbeat; bring a node that was Unknown back (kubelet restart)."""
        name = node["metadata"]["name"]
        conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
        ready = next((c for c in conditions if c.get("type") == "Ready"), None)
        recovering = ready is None or ready.get("status") == "Unknown"
        beat = parse_time(str((ready or {}).get("lastHeartbeatTime") or ""))
        if not recovering and beat is not None and now - beat < self.interval - 1e-6:
            return
        stamp = rfc3339(now)
        if recovering:
            conditions = self._fresh_conditions(name, conditions, stamp)
        else:
            for cond in conditions:
                cond["lastHeartbeatTime"] = stamp
        await self.client.patch("nodes", name, {"status": {"conditions": conditions}}, subresource="status")
        if recovering:
            await self._remove_unreachable_taints(node)
            status = "NodeReady" if name not in self.config_not_ready else "NodeNotReady"
            await self.kubelet_events(name).event(_node_ref(node), NORMAL, status,
                                                  MSG_NODE_STATUS_NOW.format(node=name, status=status))

    def _fresh_conditions(self, name: str, old: list[JSON], stamp: str) -> list[JSON]:
        ready = COND_READY if name not in self.config_not_ready else COND_NOT_READY
        wanted = {COND_MEMORY[0]: (COND_MEMORY, "False"), COND_DISK[0]: (COND_DISK, "False"),
                  COND_PID[0]: (COND_PID, "False"), "Ready": (ready, "True" if ready is COND_READY else "False")}
        out = [c for c in old if c.get("type") not in wanted]
        for type_ in _CONDITION_ORDER:
            (t, reason, message), status = wanted[type_]
            out.append({"type": t, "status": status, "lastHeartbeatTime": stamp, "lastTransitionTime": stamp,
                        "reason": reason, "message": message})
        return out

    async def _remove_unreachable_taints(self, node: JSON) -> None:
        taints = list((node.get("spec") or {}).get("taints") or [])
        kept = [t for t in taints if t.get("key") != TAINT_UNREACHABLE]
        if len(kept) != len(taints):
            await self.client.patch("nodes", node["metadata"]["name"], {"spec": {"taints": kept or None}})

    # ------------------------------------------------------------------ the node controller side

    async def _mark_unknown(self, node: JSON, now: float) -> None:
        name = node["metadata"]["name"]
        stamp = rfc3339(now)
        conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or []]
        changed = False
        for type_ in _CONDITION_ORDER:
            cond = next((c for c in conditions if c.get("type") == type_), None)
            if cond is None:
                cond = {"type": type_, "lastHeartbeatTime": stamp}
                conditions.append(cond)
            if cond.get("status") != "Unknown":
                cond.update(status="Unknown", reason=REASON_NODE_STATUS_UNKNOWN,
                            message=MSG_NODE_STATUS_UNKNOWN, lastTransitionTime=stamp)
                changed = True
        if changed:
            await self.client.patch("nodes", name, {"status": {"conditions": conditions}}, subresource="status")
            await self.controller_events.event(_node_ref(node), NORMAL, EVENT_NODE_NOT_READY,
                                               MSG_NODE_STATUS_NOW.format(node=name, status=EVENT_NODE_NOT_READY))
        await self._add_unreachable_taints(node, stamp)
        await self._mark_pods_not_ready(name, now)

    async def _add_unreachable_taints(self, node: JSON, stamp: str) -> None:
        taints = [dict(t) for t in (node.get("spec") or {}).get("taints") or []]
        have = {(t.get("key"), t.get("effect")) for t in taints}
        added = False
        for effect in ("NoSchedule", "NoExecute"):
            if (TAINT_UNREACHABLE, effect) not in have:
                taint: JSON = {"key": TAINT_UNREACHABLE, "effect": effect}
                if effect == "NoExecute":
                    taint["timeAdded"] = stamp
                taints.append(taint)
                added = True
        if added:
            await self.client.patch("nodes", node["metadata"]["name"], {"spec": {"taints": taints}})

    async def _mark_pods_not_ready(self, node_name: str, now: float) -> None:
        """MarkPodsNotReady: the Ready condition of every pod on the node goes False."""
        for key in sorted(self._node_pods.get(node_name, ())):
            ns, name = split_key(key)
            pod = self.pods.get(name, ns)
            if pod is None or (pod.get("spec") or {}).get("nodeName") != node_name:
                continue
            conditions = [dict(c) for c in (pod.get("status") or {}).get("conditions") or []]
            ready = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready is None or ready.get("status") == "False":
                continue
            ready.update(status="False", lastTransitionTime=rfc3339(now))
            meta = pod["metadata"]
            try:
                await self.client.patch("pods", meta["name"], {"status": {"conditions": conditions}},
                                        meta.get("namespace"), subresource="status")
            except ApiError as err:
                if err.code == 404:
                    continue
                raise
            await self.controller_events.event(pod, WARNING, EVENT_NODE_NOT_READY, MSG_POD_NODE_NOT_READY)
            log.debug("marked pod %s not ready (node %s down)", namespaced_key(pod), node_name)


def _node_ref(node: JSON) -> JSON:
    """Node events name the node by its name as UID, as kubelet and the node controller do
    (``kubectl describe node`` therefore also queries events with ``involvedObject.uid=<name>``)."""
    ref: dict[str, Any] = copy.copy(node)
    ref["kind"] = "Node"
    ref["apiVersion"] = "v1"
    meta = dict(node.get("metadata") or {})
    meta["uid"] = meta.get("name", "")
    meta.pop("namespace", None)
    ref["metadata"] = meta
    return ref
