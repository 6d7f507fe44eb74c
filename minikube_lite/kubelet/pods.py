"""The fake kubelet: one reconcile loop that runs the pods of every node by walking the stage table.

For each pod bound to a live node the kubelet looks up the pod's stage in
:data:`~minikube_lite.kubelet.stages.STAGES`, waits out the stage's delay (a timing of the cluster
config, on the cluster clock), runs the stage's step (a method below: what changes in the runtime,
the events the table lists) and enters the next stage. Waiting for something other than time
(volumes attached, a claim bound) ends the reconcile; the informer event of what it waited for
brings the pod back, so reconcile stays level-based. A pod whose node is gone is removed.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable

from ..client.base import JSON, ApiError, Client, is_remote
from ..client.runtime import DONE, Controller, Key, Result, namespaced_key, split_key
from ..clock import Clock, parse_time, rfc3339
from ..config import ClusterConfig, timings_of
from ..kube.attachments import pod_claims
from ..kube.nodes import is_down, node_condition
from . import containers, stages
from .containerd import ContainerRuntime, PodRuntime, container_id, image_digest, image_size, normalize_image
from .events import (
    EVENT_CREATED,
    EVENT_FAILED_MOUNT,
    EVENT_KILLING,
    EVENT_NETWORK_NOT_READY,
    EVENT_PULLED,
    EVENT_PULLING,
    EVENT_STARTED,
    KubeletEvent,
    KubeletRecorder,
    go_duration,
)
from .node import COND_NOT_READY
from .status import node_internal_ip, pod_status, spec_container, status_key
from .volumes import VolumeManager

log = logging.getLogger(__name__)

#: What a stage's step returns: the next stage to enter (with the table's delay, or with the delay
#: given), or a Result that ends this reconcile.
Outcome = str | tuple[str, float] | Result
#: A stage's step: (key, pod, runtime, node, now) -> outcome.
Step = Callable[["Kubelet", Key, JSON, PodRuntime, JSON, float], Awaitable[Outcome]]


def _ready_state(node: JSON | None) -> tuple[str, str]:
    cond = node_condition(node, "Ready") or {}
    return str(cond.get("status") or ""), str(cond.get("reason") or "")


class Kubelet(Controller):
    """Every node's kubelet, as one controller (component ``kubelet``, event host = node name)."""

    name = "kubelet"
    workers = 4

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        self.timings = timings_of(config)
        self.workers = self.timings.kubelet_workers(type(self).workers, is_remote(client))
        self.run_duration = self.timings.containerRunDuration
        self.sync_retry = self.timings.kubeletSyncRetry
        self._runtimes: dict[str, PodRuntime] = {}
        self.events = KubeletRecorder(client, clock)   # every node's: one recorder, not one per node
        self._images: dict[str, set[str]] = {}
        self._ips: dict[str, dict[str, str]] = {}  # node -> ip -> pod key
        self._node_pods: dict[str, set[str]] = {}
        self._claim_pods: dict[tuple[str, str], set[str]] = {}

    # ------------------------------------------------------------------ wiring

    def setup(self) -> None:
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.nodes = self.informer("nodes", key_of=self._node_keys)
        self.pvcs = self.informer("persistentvolumeclaims", key_of=self._pvc_keys)
        self.pvs = self.informer("persistentvolumes", key_of=self._pv_keys)
        self.vas = self.informer("volumeattachments", key_of=self._va_keys)
        self.csidrivers = self.informer("csidrivers")
        self.volumes = VolumeManager(self.client, self.pvcs, self.pvs, self.vas, self.csidrivers)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        key = namespaced_key(obj)
        ns = str(obj["metadata"].get("namespace") or "")
        for o in (old, obj):
            node = ((o or {}).get("spec") or {}).get("nodeName")
            if node:
                members = self._node_pods.setdefault(node, set())
                (members.discard if event == "DELETED" else members.add)(key)
            for _, claim in pod_claims(o or {}):
                members = self._claim_pods.setdefault((ns, claim), set())
                (members.discard if event == "DELETED" else members.add)(key)
        return [key]

    def _node_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "MODIFIED" and is_down(obj) == is_down(old) and _ready_state(obj) == _ready_state(old):
            return []  # a heartbeat (lastHeartbeatTime only): nothing changes for the pods
        return sorted(self._node_pods.get(obj["metadata"]["name"], ()))

    def _pvc_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        ns = str(obj["metadata"].get("namespace") or "")
        return sorted(self._claim_pods.get((ns, obj["metadata"]["name"]), ()))

    def _pv_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        ref = (obj.get("spec") or {}).get("claimRef") or {}
        if not ref.get("name"):
            return []
        return sorted(self._claim_pods.get((str(ref.get("namespace") or ""), str(ref["name"])), ()))

    def _va_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        pv = self.pvs.get(str((((obj.get("spec") or {}).get("source") or {}).get("persistentVolumeName")) or ""))
        node = (obj.get("spec") or {}).get("nodeName")
        if pv is None or not node:
            return []
        on_node = self._node_pods.get(str(node), set())
        return [k for k in self._pv_keys(event, pv, None) if k in on_node]

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        pod = self.pods.get(name, ns)
        if pod is None:
            self._forget(key)
            return DONE
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return DONE
        node = self.nodes.get(node_name)
        if node is None:
            await self._delete_pod(pod)  # the pod garbage collector's orphan cleanup
            return DONE
        if is_down(node) or (node_condition(node, "Ready") or {}).get("status") == "Unknown":
            return DONE  # a stopped kubelet does nothing; the pod waits (or stays Terminating)
        rt = self._runtime(key, pod, node_name)
        if pod["metadata"].get("deletionTimestamp"):
            if rt.stage not in (stages.KILLING, stages.STOPPING, stages.KILLED):
                self._enter(rt, stages.KILLING, self.clock.now())  # from any stage
        elif rt.stage == stages.DONE:
            return DONE
        return await self._walk(key, pod, rt, node)

    def _forget(self, key: Key) -> None:
        rt = self._runtimes.pop(key, None)
        if rt is not None:
            self.release_ip(key, rt)

    def _runtime(self, key: Key, pod: JSON, node: str) -> PodRuntime:
        uid = str(pod["metadata"].get("uid") or "")
        rt = self._runtimes.get(key)
        if rt is not None and rt.uid == uid:
            return rt
        self._forget(key)
        rt = self._adopt(pod, node) or PodRuntime(uid=uid, node=node, containers=self._containers(pod))
        self._runtimes[key] = rt
        if rt.pod_ip:
            self._ips.setdefault(node, {})[rt.pod_ip] = key
        return rt

    @staticmethod
    def _containers(pod: JSON) -> list[ContainerRuntime]:
        spec = pod.get("spec") or {}
        return ([ContainerRuntime(str(c.get("name")), str(c.get("image") or ""), True)
                 for c in spec.get("initContainers") or []]
                + [ContainerRuntime(str(c.get("name")), str(c.get("image") or ""), False)
                   for c in spec.get("containers") or []])

    def _adopt(self, pod: JSON, node: str) -> PodRuntime | None:
        """After a (kubelet) restart: a pod the API shows Running or finished keeps its containers."""
        status = pod.get("status") or {}
        phase = status.get("phase")
        if phase not in ("Running", "Succeeded", "Failed"):
            return None
        rt = PodRuntime(uid=str(pod["metadata"].get("uid") or ""), node=node, containers=self._containers(pod),
                        stage=stages.RUNNING if phase == "Running" else stages.DONE,
                        start_time=str(status.get("startTime") or ""), pod_ip=str(status.get("podIP") or ""),
                        sandbox=True)
        rt.index = len(rt.containers)
        by_name = {s.get("name"): s for s in [*(status.get("initContainerStatuses") or []),
                                              *(status.get("containerStatuses") or [])]}
        for c in rt.containers:
            s = by_name.get(c.name) or {}
            state = s.get("state") or {}
            c.image_ref, c.image_id, c.container_id = str(s.get("image") or ""), str(s.get("imageID") or ""), \
                str(s.get("containerID") or "")
            c.restart_count, c.last_state = int(s.get("restartCount") or 0), dict(s.get("lastState") or {})
            if state.get("running"):
                c.state, c.reason, c.started_at = "running", "", str(state["running"].get("startedAt") or "")
                c.started_epoch = parse_time(c.started_at) or 0.0
            elif (state.get("waiting") or {}).get("reason") == containers.REASON_CRASH_LOOP:
                c.state, c.reason, c.restart_due = "terminated", containers.REASON_CRASH_LOOP, 0.0
                c.message = str(state["waiting"].get("message") or "")
            elif state.get("terminated"):
                t = state["terminated"]
                c.state, c.reason, c.exit_code = "terminated", str(t.get("reason") or ""), int(t.get("exitCode") or 0)
                c.started_at, c.finished_at = str(t.get("startedAt") or ""), str(t.get("finishedAt") or "")
            if c.image_ref:
                self._images.setdefault(node, set()).add(c.image_ref)
        return rt

    # ------------------------------------------------------------------ walking the stage table

    def _enter(self, rt: PodRuntime, name: str, now: float, delay: float | None = None) -> None:
        """Enter a stage; its delay (from the table, unless given) counts from now."""
        rt.stage = name
        rt.due = now + (stages.stage(name).delay_seconds(self.timings) if delay is None else delay)

    async def _walk(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON) -> Result:
        now = self.clock.now()
        if not rt.start_time and rt.stage not in (stages.KILLING, stages.STOPPING, stages.KILLED):
            rt.start_time = rfc3339(now)
        if stages.stage(rt.stage).shows_status:
            await self.write_status(pod, rt, node)
        while True:
            stage = stages.stage(rt.stage)
            if stage.delay and now < rt.due:
                return Result(requeue_after=rt.due - now)
            outcome = await _STEPS[stage.name](self, key, pod, rt, node, now)
            if isinstance(outcome, Result):
                return outcome
            target, delay = outcome if isinstance(outcome, tuple) else (outcome, None)
            if target not in stage.next:
                raise RuntimeError(f"stage {stage.name} may not lead to {target}: the table says {stage.next}")
            self._enter(rt, target, now, delay=delay)

    # ------------------------------------------------------------------ the steps of starting a pod

    async def _volumes_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        stage = stages.stage(stages.VOLUMES)
        ready = node_condition(node, "Ready") or {}
        if ready.get("status") == "False" and ready.get("reason") == COND_NOT_READY[1] \
                and not (pod.get("spec") or {}).get("hostNetwork"):
            return await self._retry(key, pod, rt, stage.event(EVENT_NETWORK_NOT_READY), error=COND_NOT_READY[2])
        report = await self.volumes.report(pod, rt.node)
        if report.errors:
            return await self._retry(key, pod, rt, stage.event(EVENT_FAILED_MOUNT), error=report.mount_error())
        if report.unattached:
            return DONE  # the VolumeAttachment's status change brings the pod back
        return stages.MOUNTING

    async def _mounting_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        return stages.SANDBOX

    async def _sandbox_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        rt.sandbox = True
        if (pod.get("spec") or {}).get("hostNetwork"):
            rt.pod_ip = node_internal_ip(node)
        else:
            rt.pod_ip = rt.pod_ip or self._allocate_ip(key, node)
        rt.index = 0
        if stages.stage(stages.PULLING).delay_seconds(self.timings) > 0 and self._needs_pull(pod, rt):
            await self.write_status(pod, rt, node)  # the pod shows its IP while images are pulled
        return stages.PULL if rt.containers else stages.RUNNING

    async def _pull_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        stage = stages.stage(stages.PULL)
        c = rt.containers[rt.index]
        repo, full = normalize_image(c.image)
        c.image_ref, c.image_id = full, f"{repo}@{image_digest(full)}"
        policy = spec_container(pod, c).get("imagePullPolicy") or "IfNotPresent"
        present = full in self._images.get(rt.node, set())
        if policy == "Never" or (present and policy != "Always"):
            await self.events.record(rt.node, pod, c, stage.event(EVENT_PULLED), image=c.image)
            return stages.CREATE
        await self.events.record(rt.node, pod, c, stage.event(EVENT_PULLING), image=c.image)
        rt.pull_started = now
        return stages.PULLING

    async def _pulling_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        c = rt.containers[rt.index]
        took = go_duration(now - rt.pull_started)
        await self.events.record(rt.node, pod, c, stages.stage(stages.PULLING).event(EVENT_PULLED),
                                 image=c.image, pull=took, total=took, size=image_size(c.image_ref))
        self._images.setdefault(rt.node, set()).add(c.image_ref)
        return stages.CREATE

    async def _create_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        stage = stages.stage(stages.CREATE)
        c = rt.containers[rt.index]
        c.container_id = container_id(rt.uid, c.name)
        await self.events.record(rt.node, pod, c, stage.event(EVENT_CREATED))
        await self.events.record(rt.node, pod, c, stage.event(EVENT_STARTED))
        c.state, c.reason, c.started_at, c.started_epoch = "running", "", rfc3339(now), now
        if c.init:
            c.state, c.reason, c.finished_at, c.exit_code = "terminated", "Completed", rfc3339(now), 0
        rt.index += 1
        return stages.PULL if rt.index < len(rt.containers) else stages.RUNNING

    async def _running_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        return await containers.advance(self, key, pod, rt, node)

    async def _retry(self, key: Key, pod: JSON, rt: PodRuntime, event: KubeletEvent, **fields: object) -> Result:
        """A failed sync: a Warning event now, another attempt after kubelet's back-off
        (``kubeletSyncRetry``; a daemon timer: a pod that cannot start must not keep ``settle()`` busy)."""
        now = self.clock.now()
        if now + 1e-6 >= rt.retry_at:
            await self.events.record(rt.node, pod, None, event, **fields)
            rt.retry_at = now + self.sync_retry
        # (Re)arm the retry: any other event for the pod cancels the queue's timer for the key.
        self.queue.add_after(key, max(0.001, rt.retry_at - now), daemon=True)
        return DONE

    def _needs_pull(self, pod: JSON, rt: PodRuntime) -> bool:
        present = self._images.get(rt.node, set())
        for c in rt.containers:
            policy = spec_container(pod, c).get("imagePullPolicy") or "IfNotPresent"
            if policy == "Always" or (policy != "Never" and normalize_image(c.image)[1] not in present):
                return True
        return False

    # ------------------------------------------------------------------ the steps of stopping a pod

    async def _killing_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        running = [c for c in rt.containers if c.state == "running"]
        event = stages.stage(stages.KILLING).event(EVENT_KILLING)
        for c in running:
            await self.events.record(rt.node, pod, c, event, name=c.name)
        delay = stages.stage(stages.STOPPING).delay_seconds(self.timings) if running else 0.0
        grace = pod["metadata"].get("deletionGracePeriodSeconds")
        if grace is not None:
            delay = min(delay, float(grace))
        return stages.STOPPING, delay

    async def _stopping_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        stamp = rfc3339(now)
        for c in rt.containers:
            c.restart_due = None
            if c.state == "running":
                c.state, c.reason, c.exit_code, c.finished_at = "terminated", "Completed", 0, stamp
        rt.stage = stages.KILLED
        if rt.start_time:
            await self.write_status(pod, rt, node, terminal=True)
        return stages.KILLED

    async def _killed_step(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON, now: float) -> Outcome:
        self.release_ip(key, rt)
        await self._delete_pod(pod)
        return DONE

    async def _delete_pod(self, pod: JSON) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete("pods", meta["name"], meta.get("namespace"), grace_period_seconds=0,
                                     preconditions={"uid": meta.get("uid")})
        except ApiError as err:
            if err.code not in (404, 409):
                raise

    # ------------------------------------------------------------------ pod IPs

    def _allocate_ip(self, key: Key, node: JSON) -> str:
        node_name = node["metadata"]["name"]
        used = self._ips.setdefault(node_name, {})
        if not used:
            for other_key in self._node_pods.get(node_name, ()):
                ns, name = split_key(other_key)
                other = self.pods.get(name, ns)
                ip = ((other or {}).get("status") or {}).get("podIP")
                if ip and other_key != key:
                    used[str(ip)] = other_key
        cidr = (node.get("spec") or {}).get("podCIDR")
        if not cidr:
            return ""
        network = ipaddress.ip_network(str(cidr), strict=False)
        for i, host in enumerate(network.hosts()):
            if i == 0:
                continue  # .1 is the bridge (cni0)
            ip = str(host)
            if ip not in used:
                used[ip] = key
                return ip
        return ""

    def release_ip(self, key: Key, rt: PodRuntime) -> None:
        if rt.pod_ip and self._ips.get(rt.node, {}).get(rt.pod_ip) == key:
            del self._ips[rt.node][rt.pod_ip]

    # ------------------------------------------------------------------ status

    async def write_status(self, pod: JSON, rt: PodRuntime, node: JSON, *, terminal: bool = False) -> None:
        """Patch pods/status when the generated status differs from what the API holds (level-based:
        someone else, e.g. the node controller marking the pod not Ready, may have changed it)."""
        status = pod_status(pod, rt, node, rfc3339(self.clock.now()), terminal=terminal)
        wanted = status_key(status)
        meta = pod["metadata"]
        cached_rv = int(meta.get("resourceVersion") or 0)
        current = rt.last_status if cached_rv < rt.written_rv else status_key(pod.get("status") or {})
        if wanted == current:
            return
        try:
            written = await self.client.patch("pods", meta["name"], {"status": status}, meta.get("namespace"),
                                              subresource="status")
        except ApiError as err:
            if err.code != 404:
                raise
            return
        rt.last_status = wanted
        rt.written_rv = int((written.get("metadata") or {}).get("resourceVersion") or 0)


__all__ = ["Kubelet"]


#: The step method of each stage. Held by the class, not the instance: bound methods kept on the
#: kubelet would tie it in a reference cycle, and a stopped cluster would wait for the cyclic
#: garbage collector.
_STEPS: dict[str, Step] = {
    stages.VOLUMES: Kubelet._volumes_step, stages.MOUNTING: Kubelet._mounting_step,
    stages.SANDBOX: Kubelet._sandbox_step, stages.PULL: Kubelet._pull_step, stages.PULLING: Kubelet._pulling_step,
    stages.CREATE: Kubelet._create_step, stages.RUNNING: Kubelet._running_step,
    stages.KILLING: Kubelet._killing_step, stages.STOPPING: Kubelet._stopping_step,
    stages.KILLED: Kubelet._killed_step,
}
