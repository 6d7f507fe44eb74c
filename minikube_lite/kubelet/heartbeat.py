"""Node heartbeats: each node's kubelet renews its Lease and re-posts its Node conditions.

As upstream, the Lease in ``kube-node-lease`` is renewed often (``nodeLeaseRenewInterval``,
default ``nodeStatusUpdateInterval`` = 10 s) and an unchanged Node status is re-posted rarely
(``nodeStatusReportInterval``, default 5 min): each write costs, and a 5,000-node cluster renews
500 Leases per second of cluster time. A node marked down (annotation ``minikube-lite.io/down:
"true"``, in the config or through the API) stands for a stopped kubelet: it sends nothing, and
the node lifecycle controller (controllers/node_lifecycle.py) notices. When the mark is removed the
kubelet "restarts": it posts fresh conditions (``KubeletReady``) and records ``NodeReady``.

Heartbeats run on the resync timer (a daemon timer), so an idle cluster can still ``settle()``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..client.base import JSON, ApiError, Client, is_remote
from ..client.events import NORMAL, EventRecorder
from ..client.runtime import DONE, Controller, Key, Result
from ..clock import Clock, parse_time, rfc3339, rfc3339_micro
from ..config import ClusterConfig, timings_of
from ..kube.names import NODE_LEASE_NAMESPACE
from ..kube.nodes import is_down, node_event_ref
from .events import KUBELET
from .node import COND_DISK, COND_MEMORY, COND_NOT_READY, COND_PID, COND_READY, CONDITION_ORDER

#: kubelet's default ``nodeLeaseDurationSeconds``.
LEASE_DURATION_SECONDS = 40
# pkg/kubelet/nodestatus (RecordNodeStatusChange): the kubelet's events about its Node.
EVENT_NODE_READY = "NodeReady"
EVENT_NODE_NOT_READY = "NodeNotReady"
MSG_NODE_STATUS_NOW = "Node {node} status is now: {status}"


class NodeHeartbeat(Controller):
    """Leases and status heartbeats of every live node (component ``node-heartbeat``)."""

    name = "node-heartbeat"

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        self.workers = timings.kubelet_workers(type(self).workers, is_remote(client))
        #: How often each kubelet renews its Lease (upstream: every 10 s, a quarter of the 40 s lease).
        self.lease_interval = timings.lease_renew_interval
        #: How often an unchanged node status is posted again, moving ``lastHeartbeatTime``
        #: (kubelet ``nodeStatusReportFrequency``, 5 min; the Lease is the frequent heartbeat).
        self.interval = timings.nodeStatusReportInterval
        self.resync_period = max(0.001, min(self.interval, self.lease_interval))
        #: Nodes the config says should come up NotReady (KubeletNotReady): kept so, heartbeat or not.
        self.config_not_ready = {n.name for n in config.resolved_nodes() if not n.ready} if config else set()
        self.events = EventRecorder(client, KUBELET, clock)   # every node's (host per event)

    def setup(self) -> None:
        self.nodes = self.informer("nodes", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])
        self.leases = self.informer("leases", namespace=NODE_LEASE_NAMESPACE,
                                    key_of=lambda ev, obj, old: [obj["metadata"]["name"]])

    def resync_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n in self.nodes.list()]

    async def reconcile(self, key: Key) -> Result:
        node = self.nodes.get(key)
        if node is None or is_down(node):
            return DONE
        now = self.clock.now()
        await self._renew_lease(node, now)
        await self._post_status(node, now)
        return DONE

    async def _renew_lease(self, node: JSON, now: float) -> None:
        name = node["metadata"]["name"]
        lease = self.leases.get(name, NODE_LEASE_NAMESPACE)
        spec = {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": rfc3339_micro(now)}
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": NODE_LEASE_NAMESPACE,
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                      "uid": node["metadata"].get("uid", "")}]},
                    "spec": spec}
            try:
                await self.client.create("leases", body, NODE_LEASE_NAMESPACE)
                return
            except ApiError as err:
                if err.code != 409:
                    raise
        renewed = parse_time(str(((lease or {}).get("spec") or {}).get("renewTime") or ""))
        if renewed is not None and now - renewed < self.lease_interval - 1e-6:
            return
        await self.client.patch("leases", name, {"spec": spec}, NODE_LEASE_NAMESPACE)

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
            status = EVENT_NODE_READY if name not in self.config_not_ready else EVENT_NODE_NOT_READY
            await self.events.event(node_event_ref(node), NORMAL, status,
                                    MSG_NODE_STATUS_NOW.format(node=name, status=status), host=name)

    def _fresh_conditions(self, name: str, old: list[JSON], stamp: str) -> list[JSON]:
        ready = COND_READY if name not in self.config_not_ready else COND_NOT_READY
        wanted = {COND_MEMORY[0]: (COND_MEMORY, "False"), COND_DISK[0]: (COND_DISK, "False"),
                  COND_PID[0]: (COND_PID, "False"), "Ready": (ready, "True" if ready is COND_READY else "False")}
        out = [c for c in old if c.get("type") not in wanted]
        for type_ in CONDITION_ORDER:
            (t, reason, message), status = wanted[type_]
            out.append({"type": t, "status": status, "lastHeartbeatTime": stamp, "lastTransitionTime": stamp,
                        "reason": reason, "message": message})
        return out


__all__ = ["NodeHeartbeat"]
