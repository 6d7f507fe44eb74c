"""Node heartbeats: each node's kubelet renews its Lease and re-posts its Node conditions.

As upstream, the Lease in ``kube-node-lease`` is renewed often (``nodeLeaseRenewInterval``,
default ``nodeStatusUpdateInterval`` = 10 s) and an unchanged Node status is re-posted rarely
(``nodeStatusReportInterval``, default 5 min): each write costs, and a 5,000-node cluster renews
500 Leases per second of cluster time. A node marked down (annotation ``minikube-lite.io/down:
"true"``, in the config or through the API) stands for a stopped kubelet: it sends nothing, and
the node lifecycle controller (controllers/node_lifecycle.py) notices. When the mark is removed the
kubelet "restarts": it posts fresh conditions (``KubeletReady``) and records ``NodeReady``.

Heartbeats run on the resync timer (a daemon timer), so an idle cluster can still ``settle()``.

Like upstream's lease controller (component-helpers ``lease/controller.go``) a kubelet does not
watch Leases: it keeps the Lease its last write returned (``latestLease``) and only reads the
API when it has none or a write finds the Lease gone. Watching them instead cost, at 5,000 nodes
against a remote API server, a watch event per renewal (500 a second) sent, decoded and
reconciled for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..client.base import JSON, ApiError, Client, is_remote
from ..client.events import NORMAL, EventRecorder
from ..client.runtime import DONE, Controller, Key, Result, get_or_none
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


#: How much earlier than a full interval a renewal is still due. The resync that drives renewals
#: fires every interval, but each reconcile stamps the time it ran, a little after its tick; a
#: strict "a full interval since the last renewal" test then skips about every other tick on a
#: real clock and renews every 20 s instead of upstream's 10 (``JitterUntil`` with 4% jitter).
#: A tenth of the interval absorbs that lag; renewals brought early by Node events stay rarer
#: than one per 0.9 intervals.
RENEW_SLACK = 0.1


def lease_due(renewed: float | None, now: float, interval: float) -> bool:
    """Whether a Lease last renewed at ``renewed`` (None: never, or unreadable) is due at ``now``."""
    return renewed is None or now - renewed >= interval * (1 - RENEW_SLACK) - 1e-6


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
        #: node name -> the Lease our last create/renewal returned (upstream's ``latestLease``).
        self.latest_leases: dict[str, JSON] = {}

    def setup(self) -> None:
        self.nodes = self.informer("nodes", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])

    def resync_keys(self) -> Iterable[Key]:
        return [n["metadata"]["name"] for n in self.nodes.list()]

    async def reconcile(self, key: Key) -> Result:
        node = self.nodes.get(key)
        if node is None:
            self.latest_leases.pop(str(key), None)
            return DONE
        if is_down(node):
            return DONE
        now = self.clock.now()
        await self._renew_lease(node, now)
        await self._post_status(node, now)
        return DONE

    async def _renew_lease(self, node: JSON, now: float) -> None:
        """Renew the node's Lease from the copy our last write returned; read or create it only
        when there is no copy or the Lease is gone (upstream's ``ensureLease``)."""
        name = node["metadata"]["name"]
        lease = self.latest_leases.get(name)
        if lease is None:
            lease = await self._ensure_lease(node, now)
            if lease is None:
                return   # just created, with this renewTime
        renewed = parse_time(str((lease.get("spec") or {}).get("renewTime") or ""))
        if not lease_due(renewed, now, self.lease_interval):
            return
        try:
            self.latest_leases[name] = await self.client.patch(
                "leases", name, {"spec": self._lease_spec(name, now)}, NODE_LEASE_NAMESPACE)
        except ApiError as err:
            self.latest_leases.pop(name, None)
            if err.code != 404:
                raise
            await self._ensure_lease(node, now)   # deleted under us: make it again now

    async def _ensure_lease(self, node: JSON, now: float) -> JSON | None:
        """The stored Lease of ``node``, or None after creating it (then remembered as created)."""
        name = node["metadata"]["name"]
        lease = await get_or_none(self.client, "leases", name, NODE_LEASE_NAMESPACE)
        if lease is None:
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": NODE_LEASE_NAMESPACE,
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                      "uid": node["metadata"].get("uid", "")}]},
                    "spec": self._lease_spec(name, now)}
            try:
                self.latest_leases[name] = await self.client.create("leases", body, NODE_LEASE_NAMESPACE)
                return None
            except ApiError as err:
                if err.code != 409:
                    raise
            lease = await get_or_none(self.client, "leases", name, NODE_LEASE_NAMESPACE)   # made meanwhile
        if lease is not None:
            self.latest_leases[name] = lease
        return lease

    @staticmethod
    def _lease_spec(name: str, now: float) -> JSON:
        return {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": rfc3339_micro(now)}

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
