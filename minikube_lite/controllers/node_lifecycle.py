"""The node lifecycle controller: nodes whose kubelet stopped posting go Unknown, tainted.

In a real cluster each kubelet renews its Lease in ``kube-node-lease`` and refreshes its Node
conditions (here: kubelet/heartbeat.py), and kube-controller-manager's node lifecycle controller
notices when a node stops doing so. A fake kubelet stops when its node is marked down (annotation
``minikube-lite.io/down: "true"``, set in the config or through the API); this controller then
sees the Lease go stale and, after the monitor grace period (``nodeMonitorGracePeriod``), marks
the node exactly as upstream does: every condition ``Unknown`` with ``NodeStatusUnknown`` /
``Kubelet stopped posting node status.``, the ``node.kubernetes.io/unreachable`` taints, pods on
the node no longer Ready. When the kubelet posts again (the mark removed), the taints go.

The down-detection waits on a normal timer so that ``settle()`` reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..client.base import JSON, ApiError, Client
from ..client.events import NORMAL, WARNING, EventRecorder
from ..client.runtime import DONE, Controller, Key, Result, namespaced_key, split_key
from ..clock import Clock, parse_time, rfc3339
from ..config import ClusterConfig, timings_of
from ..kube.names import NODE_LEASE_NAMESPACE, TAINT_UNREACHABLE
from ..kube.nodes import is_down, node_condition, node_event_ref

log = logging.getLogger(__name__)

# pkg/controller/nodelifecycle/node_lifecycle_controller.go (tryUpdateNodeHealth)
REASON_NODE_STATUS_UNKNOWN = "NodeStatusUnknown"
MSG_NODE_STATUS_UNKNOWN = "Kubelet stopped posting node status."
# pkg/controller/util/node (RecordNodeStatusChange, MarkPodsNotReady)
EVENT_NODE_NOT_READY = "NodeNotReady"
MSG_NODE_STATUS_NOW = "Node {node} status is now: {status}"
MSG_POD_NODE_NOT_READY = "Node is not ready"

NODE_CONTROLLER = "node-controller"

_CONDITION_ORDER = ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")


class NodeLifecycleController(Controller):
    """Nodes whose kubelet stopped: Unknown after the grace period, unreachable taints, pods not Ready."""

    name = "node-lifecycle"

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        #: kube-controller-manager ``--node-monitor-grace-period`` (50 s since v1.32).
        self.grace = timings_of(config).nodeMonitorGracePeriod
        self.controller_events = EventRecorder(client, NODE_CONTROLLER, clock)
        self._node_pods: dict[str, set[Key]] = {}

    # ------------------------------------------------------------------ wiring

    def setup(self) -> None:
        self.nodes = self.informer("nodes", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])
        self.leases = self.informer("leases", namespace=NODE_LEASE_NAMESPACE)
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

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        node = self.nodes.get(key)
        if node is None:
            return DONE
        now = self.clock.now()
        if not is_down(node):
            if (node_condition(node, "Ready") or {}).get("status") not in (None, "Unknown"):
                await self._remove_unreachable_taints(node)  # its kubelet posts again
            return DONE
        last = self._last_heartbeat(node)
        if last is not None and now < last + self.grace:
            return Result(requeue_after=last + self.grace - now)
        await self._mark_unknown(node, now)
        return DONE

    def _last_heartbeat(self, node: JSON) -> float | None:
        lease = self.leases.get(node["metadata"]["name"], NODE_LEASE_NAMESPACE)
        renew = parse_time(str(((lease or {}).get("spec") or {}).get("renewTime") or ""))
        ready = node_condition(node, "Ready") or {}
        beat = parse_time(str(ready.get("lastHeartbeatTime") or ""))
        stamps = [t for t in (renew, beat) if t is not None]
        return max(stamps) if stamps else None

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
            await self.controller_events.event(node_event_ref(node), NORMAL, EVENT_NODE_NOT_READY,
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

