"""The fake kubelet: one reconcile loop that runs the pods of every node.

For each pod bound to a node it walks kubelet's sequence on the cluster clock: the first status
(``ContainerCreating``, ``hostIP``, ``startTime``), volumes (claims resolved as the volume
manager does, CSI volumes waited on until their VolumeAttachment is attached, then mounted), the
sandbox (``PodReadyToStartContainers``, a pod IP from the node's podCIDR), then per container
image pull, create and start with kubelet's events, and finally phase ``Running`` with every
condition True. When containers exit, and whether they restart (CrashLoopBackOff), is the rule
of ``container_lifecycle`` (batch pods finish after ``containerRunDuration``; annotations override).
Deleting a pod stops its containers, lets the volumes go (the attach/detach controller then
detaches them) and removes the pod with grace period 0; pods whose node is gone are removed.

Why an in-memory runtime per pod and not only the API status: a real kubelet also keeps the
truth about containers in the runtime (containerd) and *derives* the API status from it. The
runtime here is rebuilt from the API status after a restart, so reconcile stays level-based.
Every delay is a timing in ``config.timings`` (kwok-style stages), every reason and message an
upstream constant below.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..client.base import JSON, ApiError, Client
from ..client.events import AGGREGATION_WINDOW, NORMAL, WARNING, EventRecorder, involved_object
from ..clock import Clock, parse_time, rfc3339
from ..config import ClusterConfig, timings_of
from ..kube.names import PVC_PROTECTION_FINALIZER
from . import container_lifecycle
from .attach_detach import attach_required, attachment_name, pod_claims
from .container_lifecycle import EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION, REASON_CRASH_LOOP
from .node_lifecycle import is_down, node_condition
from .node_registration import COND_NOT_READY
from .runtime import DONE, Controller, Key, Result, namespaced_key, split_key

log = logging.getLogger(__name__)

KUBELET = "kubelet"

# pkg/kubelet/events/event.go reasons, and the messages kubelet writes with them.
EVENT_PULLING = "Pulling"
EVENT_PULLED = "Pulled"
EVENT_CREATED = "Created"
EVENT_STARTED = "Started"
EVENT_KILLING = "Killing"
EVENT_FAILED_MOUNT = "FailedMount"
EVENT_NETWORK_NOT_READY = "NetworkNotReady"
MSG_PULLING = 'Pulling image "{image}"'
MSG_PULLED = ('Successfully pulled image "{image}" in {pull} ({total} including waiting). '
              "Image size: {size} bytes.")
MSG_ALREADY_PRESENT = 'Container image "{image}" already present on machine and can be accessed by the pod'
# 1.35 (kubernetes#134043) dropped the container name from these two: the event's fieldPath carries
# it and kubectl 1.35 prints "spec.containers{c}: Container created". 1.32-1.34 said
# "Created container: c" / "Started container c".
MSG_CREATED = "Container created"
MSG_STARTED = "Container started"
MSG_KILLING = "Stopping container {name}"
MSG_NETWORK_NOT_READY = "network is not ready: {error}"
# kubelet.go SyncPod / volume_manager.go WaitForAttachAndMount / desired_state_of_world_populator.go
MSG_FAILED_MOUNT = "Unable to attach or mount volumes: {error}"
MSG_MOUNT_WAIT = "unmounted volumes={unmounted}, unattached volumes={unattached}, failed to process volumes={failed}: {error}"
MSG_PVC_ERROR = "error processing PVC {namespace}/{claim}: {error}"
MSG_PVC_FETCH = "failed to fetch PVC from API server: {error}"
MSG_PVC_DELETING = "PVC is being deleted"
MSG_PVC_NOT_BOUND = "PVC is not bound"
MSG_PVC_NO_VOLUME = "PVC has empty pvc.Spec.VolumeName"
MSG_PV_FETCH = "failed to fetch PV {pv} from API server: {error}"
MSG_PV_NO_CLAIM_REF = ("found PV object {pv} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound "
                       "to the claim")
MSG_NOT_FOUND = '{resource} "{name}" not found'
# pkg/kubelet/status/generate.go
REASON_CONTAINERS_NOT_READY = "ContainersNotReady"
MSG_CONTAINERS_NOT_READY = "containers with unready status: [{names}]"
REASON_CONTAINERS_NOT_INITIALIZED = "ContainersNotInitialized"
MSG_CONTAINERS_NOT_INITIALIZED = "containers with incomplete status: [{names}]"
REASON_POD_COMPLETED = "PodCompleted"
REASON_CONTAINER_CREATING = "ContainerCreating"
REASON_POD_INITIALIZING = "PodInitializing"

CONDITION_ORDER = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")

#: How often kubelet retries a pod whose sync failed (pod_workers backOffPeriod).


# ---------------------------------------------------------------- small pure helpers


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` after ``Truncate(time.Millisecond)``: ``0s``, ``313ms``,
    ``1.2s``, ``1m2.5s``."""
    ms = int(round(max(0.0, seconds) * 1000.0, 6))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs


def normalize_image(image: str) -> tuple[str, str]:
    """(repository, full reference) as containerd reports them: ``nginx`` ->
    (``docker.io/library/nginx``, ``docker.io/library/nginx:latest``)."""
    ref, digest = (image.split("@", 1) + [""])[:2]
    tag = ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        ref = f"docker.io/library/{ref}"
    elif not ("." in first or ":" in first or first == "localhost"):
        ref = f"docker.io/{ref}"
    if digest:
        return ref, f"{ref}@{digest}"
    return ref, f"{ref}:{tag or 'latest'}"


def image_digest(full_ref: str) -> str:
    return "sha256:" + hashlib.sha256(full_ref.encode()).hexdigest()


def image_size(full_ref: str) -> int:
    """A stable, plausible compressed size for an image (5 MB .. 200 MB)."""
    return 5_000_000 + int(hashlib.sha256(("size:" + full_ref).encode()).hexdigest()[:8], 16) % 195_000_000


def container_id(pod_uid: str, name: str, restarts: int = 0) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{restarts}".encode()).hexdigest()


KUBELET_CONDITIONS = frozenset({"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                "PodScheduled"})


def _status_key(status: JSON) -> str:
    """What the kubelet owns in a pod status, without timestamps of conditions."""
    conditions = [(c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
                  for c in status.get("conditions") or []]
    owned = [(k, status.get(k)) for k in ("phase", "hostIP", "podIP", "startTime", "containerStatuses",
                                           "initContainerStatuses")]
    return repr((conditions, owned))


def go_list(items: Iterable[str]) -> str:
    """``fmt.Sprintf("%v", []string{...})``."""
    return "[" + " ".join(items) + "]"


def node_internal_ip(node: JSON) -> str:
    for addr in (node.get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP":
            return str(addr.get("address") or "")
    return ""


def _ready_state(node: JSON | None) -> tuple[str, str]:
    cond = node_condition(node, "Ready") or {}
    return str(cond.get("status") or ""), str(cond.get("reason") or "")


def mounted_volume_names(pod: JSON) -> list[str]:
    """Volumes some container mounts or maps (util.GetPodVolumeNames): only these are waited for."""
    names: set[str] = set()
    spec = pod.get("spec") or {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for m in c.get("volumeMounts") or []:
            names.add(str(m.get("name")))
        for d in c.get("volumeDevices") or []:
            names.add(str(d.get("name")))
    return sorted(names)


# ---------------------------------------------------------------- the runtime (what containerd would know)


@dataclass
class ContainerRuntime:
    name: str
    image: str
    init: bool
    state: str = "waiting"  # waiting | running | terminated
    reason: str = REASON_CONTAINER_CREATING
    image_ref: str = ""
    image_id: str = ""
    container_id: str = ""
    started_at: str = ""
    finished_at: str = ""
    exit_code: int = 0
    started_epoch: float = 0.0
    restart_count: int = 0
    restart_due: float | None = None
    last_state: dict[str, object] = field(default_factory=dict)
    message: str = ""


@dataclass
class PodRuntime:
    uid: str
    node: str
    stage: str = "volumes"  # volumes, mounting, sandbox, containers, running, exiting, done, killing, killed
    due: float = 0.0
    start_time: str = ""
    pod_ip: str = ""
    sandbox: bool = False
    index: int = 0
    sub: str = "pull"  # pull | pulling | create
    pull_started: float = 0.0
    containers: list[ContainerRuntime] = field(default_factory=list)
    last_status: str = ""
    written_rv: int = 0
    retry_at: float = 0.0


class _Recorder:
    """kubelet's events about the pods of one node (source ``kubelet``, host = the node).

    Container events carry ``involvedObject.fieldPath`` (``spec.containers{app}``), which
    ``kubectl describe`` 1.35 prints before the message; the shared EventRecorder has no field
    path, so those are written here, with the same aggregation (count, lastTimestamp) and names.
    Pod-level events (FailedMount, NetworkNotReady) go through the shared recorder.
    """

    def __init__(self, client: Client, clock: Clock, node: str) -> None:
        self.client = client
        self.clock = clock
        self.node = node
        self.plain = EventRecorder(client, KUBELET, clock, host=node, reporting_instance=node)
        self._seen: dict[tuple[str, ...], tuple[str, str, int, float]] = {}
        self._counter = zlib.crc32(f"kubelet-container/{node}".encode()) << 20

    async def container_event(self, pod: JSON, c: ContainerRuntime | None, type_: str, reason: str,
                              message: str) -> None:
        if c is None:
            await self.plain.event(pod, type_, reason, message)
            return
        path = f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"
        try:
            await self._record(pod, path, type_, reason, message)
        except ApiError as err:
            log.debug("could not record event %s on %s: %s", reason, namespaced_key(pod), err)

    async def _record(self, pod: JSON, path: str, type_: str, reason: str, message: str) -> None:
        ref = involved_object(pod)
        ref["fieldPath"] = path
        namespace = str(ref.get("namespace") or "default")
        key = (namespace, str(ref["name"]), str(ref["uid"]), path, type_, reason, message)
        now = self.clock.now()
        stamp = rfc3339(now)
        seen = self._seen.get(key)
        if seen is not None and now - seen[3] < AGGREGATION_WINDOW:
            name, ns, count, _ = seen
            self._seen[key] = (name, ns, count + 1, now)
            try:
                await self.client.patch("events", name, {"count": count + 1, "lastTimestamp": stamp}, ns)
                return
            except ApiError as err:
                if err.code != 404:
                    raise
        event: JSON = {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "", "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "type": type_,
            "source": {"component": KUBELET, "host": self.node},
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "eventTime": None,
            "reportingComponent": KUBELET, "reportingInstance": self.node,
        }
        for _ in range(100):
            self._counter += 1
            name = f"{ref['name']}.{int(now * 1e9) + self._counter:x}"
            event["metadata"]["name"] = name
            try:
                await self.client.create("events", event, namespace)
                break
            except ApiError as err:
                if err.code != 409:
                    raise
        self._seen[key] = (name, namespace, 1, now)


# ---------------------------------------------------------------- the controller


@dataclass
class _VolumeReport:
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unattached: list[str] = field(default_factory=list)


class Kubelet(Controller):
    """Every node's kubelet, as one controller (component ``kubelet``, event host = node name)."""

    name = "kubelet"
    workers = 4

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        self.start_delay = timings.podStartDelay
        self.pull_delay = timings.imagePullDelay
        self.mount_delay = timings.volumeMountDelay
        self.termination_delay = timings.podTerminationDelay
        self.run_duration = timings.containerRunDuration
        self.sync_retry = timings.kubeletSyncRetry
        self._runtimes: dict[str, PodRuntime] = {}
        self._recorders: dict[str, _Recorder] = {}
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

    def recorder(self, node: str) -> _Recorder:
        rec = self._recorders.get(node)
        if rec is None:
            rec = self._recorders[node] = _Recorder(self.client, self.clock, node)
        return rec

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
            return await self._terminate(key, pod, rt, node)
        if rt.stage == "done":
            return DONE
        return await self._sync(key, pod, rt, node)

    def _forget(self, key: Key) -> None:
        rt = self._runtimes.pop(key, None)
        if rt is not None:
            self._release_ip(key, rt)

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
                        stage="running" if phase == "Running" else "done", start_time=str(status.get("startTime") or ""),
                        pod_ip=str(status.get("podIP") or ""), sandbox=True)
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
            elif (state.get("waiting") or {}).get("reason") == REASON_CRASH_LOOP:
                c.state, c.reason, c.restart_due = "terminated", REASON_CRASH_LOOP, 0.0
                c.message = str(state["waiting"].get("message") or "")
            elif state.get("terminated"):
                t = state["terminated"]
                c.state, c.reason, c.exit_code = "terminated", str(t.get("reason") or ""), int(t.get("exitCode") or 0)
                c.started_at, c.finished_at = str(t.get("startedAt") or ""), str(t.get("finishedAt") or "")
            if c.image_ref:
                self._images.setdefault(node, set()).add(c.image_ref)
        return rt

    # ------------------------------------------------------------------ starting a pod

    async def _sync(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON) -> Result:
        now = self.clock.now()
        node_name = rt.node
        if not rt.start_time:
            rt.start_time = rfc3339(now)
        if rt.stage in ("volumes", "mounting", "sandbox"):
            await self._write_status(pod, rt, node)
        if rt.stage == "volumes":
            ready = (node_condition(node, "Ready") or {})
            if ready.get("status") == "False" and ready.get("reason") == COND_NOT_READY[1] \
                    and not (pod.get("spec") or {}).get("hostNetwork"):
                return await self._retry(key, pod, rt, None, EVENT_NETWORK_NOT_READY,
                                         MSG_NETWORK_NOT_READY.format(error=COND_NOT_READY[2]))
            report = await self._volumes(pod, node_name)
            if report.errors:
                unattached = sorted(set(report.unattached))
                error = MSG_MOUNT_WAIT.format(unmounted=go_list(sorted(set(report.failed) | set(unattached))),
                                              unattached=go_list(unattached), failed=go_list(sorted(report.failed)),
                                              error="; ".join(sorted(set(report.errors))))
                return await self._retry(key, pod, rt, None, EVENT_FAILED_MOUNT, MSG_FAILED_MOUNT.format(error=error))
            if report.unattached:
                return DONE  # the VolumeAttachment's status change brings the pod back
            rt.stage, rt.due = "mounting", now + self.mount_delay
        if rt.stage == "mounting":
            if now < rt.due:
                return Result(requeue_after=rt.due - now)
            rt.stage, rt.due = "sandbox", now + self.start_delay
        if rt.stage == "sandbox":
            if now < rt.due:
                return Result(requeue_after=rt.due - now)
            rt.sandbox = True
            if (pod.get("spec") or {}).get("hostNetwork"):
                rt.pod_ip = node_internal_ip(node)
            else:
                rt.pod_ip = rt.pod_ip or self._allocate_ip(key, node)
            rt.stage, rt.index, rt.sub = "containers", 0, "pull"
            if self.pull_delay > 0 and self._needs_pull(pod, rt):
                await self._write_status(pod, rt, node)  # the pod shows its IP while images are pulled
        while rt.stage == "containers":
            if rt.index >= len(rt.containers):
                rt.stage = "running"
                break
            c = rt.containers[rt.index]
            spec_c = self._spec_container(pod, c)
            rec = self.recorder(node_name)
            if rt.sub == "pull":
                repo, full = normalize_image(c.image)
                c.image_ref, c.image_id = full, f"{repo}@{image_digest(full)}"
                policy = spec_c.get("imagePullPolicy") or "IfNotPresent"
                present = full in self._images.get(node_name, set())
                if policy == "Never" or (present and policy != "Always"):
                    await rec.container_event(pod, c, NORMAL, EVENT_PULLED, MSG_ALREADY_PRESENT.format(image=c.image))
                    rt.sub = "create"
                else:
                    await rec.container_event(pod, c, NORMAL, EVENT_PULLING, MSG_PULLING.format(image=c.image))
                    rt.pull_started, rt.due, rt.sub = now, now + self.pull_delay, "pulling"
            if rt.sub == "pulling":
                if now < rt.due:
                    return Result(requeue_after=rt.due - now)
                took = go_duration(now - rt.pull_started)
                await rec.container_event(pod, c, NORMAL, EVENT_PULLED, MSG_PULLED.format(
                    image=c.image, pull=took, total=took, size=image_size(c.image_ref)))
                self._images.setdefault(node_name, set()).add(c.image_ref)
                rt.sub = "create"
            if rt.sub == "create":
                c.container_id = container_id(rt.uid, c.name)
                await rec.container_event(pod, c, NORMAL, EVENT_CREATED, MSG_CREATED)
                await rec.container_event(pod, c, NORMAL, EVENT_STARTED, MSG_STARTED)
                c.state, c.reason, c.started_at, c.started_epoch = "running", "", rfc3339(now), now
                if c.init:
                    c.state, c.reason, c.finished_at, c.exit_code = "terminated", "Completed", rfc3339(now), 0
                rt.index, rt.sub = rt.index + 1, "pull"
        return await container_lifecycle.advance(self, key, pod, rt, node)

    async def _retry(self, key: Key, pod: JSON, rt: PodRuntime, c: ContainerRuntime | None, reason: str,
                     message: str) -> Result:
        """A failed sync: a Warning event now, another attempt after kubelet's back-off (a daemon
        timer: a pod that cannot start must not keep ``settle()`` busy)."""
        now = self.clock.now()
        if now + 1e-6 >= rt.retry_at:
            await self.recorder(rt.node).container_event(pod, c, WARNING, reason, message)
            rt.retry_at = now + self.sync_retry
        # (Re)arm the retry: any other event for the pod cancels the queue's timer for the key.
        self.queue.add_after(key, max(0.001, rt.retry_at - now), daemon=True)
        return DONE

    def _needs_pull(self, pod: JSON, rt: PodRuntime) -> bool:
        present = self._images.get(rt.node, set())
        for c in rt.containers:
            policy = self._spec_container(pod, c).get("imagePullPolicy") or "IfNotPresent"
            if policy == "Always" or (policy != "Never" and normalize_image(c.image)[1] not in present):
                return True
        return False

    @staticmethod
    def _spec_container(pod: JSON, c: ContainerRuntime) -> JSON:
        spec = pod.get("spec") or {}
        for sc in spec.get("initContainers" if c.init else "containers") or []:
            if sc.get("name") == c.name:
                return dict(sc)
        return {}

    # ------------------------------------------------------------------ volumes

    async def _volumes(self, pod: JSON, node: str) -> _VolumeReport:
        """The volume manager's view: claim errors (failed to process) and CSI volumes still waiting
        for their VolumeAttachment (unattached)."""
        report = _VolumeReport()
        ns = str(pod["metadata"].get("namespace") or "")
        wanted = set(mounted_volume_names(pod))
        for vol_name, claim in pod_claims(pod):
            if vol_name not in wanted:
                continue
            pv, error = await self._claim_volume(ns, claim)
            if error is not None:
                report.failed.append(vol_name)
                report.errors.append(MSG_PVC_ERROR.format(namespace=ns, claim=claim, error=error))
                continue
            csi = ((pv or {}).get("spec") or {}).get("csi") or {}
            if not csi.get("driver") or not attach_required(self.csidrivers.get(str(csi["driver"]))):
                continue
            va = self.vas.get(attachment_name(str(csi.get("volumeHandle") or ""), str(csi["driver"]), node))
            if not ((va or {}).get("status") or {}).get("attached"):
                report.unattached.append(vol_name)
        return report

    async def _claim_volume(self, ns: str, claim: str) -> tuple[JSON | None, str | None]:
        pvc = self.pvcs.get(claim, ns)
        if pvc is None:
            try:
                pvc = await self.client.get("persistentvolumeclaims", claim, ns)
            except ApiError as err:
                if err.code != 404:
                    raise
                return None, MSG_PVC_FETCH.format(error=MSG_NOT_FOUND.format(resource="persistentvolumeclaims",
                                                                              name=claim))
        meta = pvc.get("metadata") or {}
        if meta.get("deletionTimestamp") and PVC_PROTECTION_FINALIZER not in (meta.get("finalizers") or []):
            return None, MSG_PVC_DELETING
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return None, MSG_PVC_NOT_BOUND
        pv_name = (pvc.get("spec") or {}).get("volumeName")
        if not pv_name:
            return None, MSG_PVC_NO_VOLUME
        pv = self.pvs.get(str(pv_name))
        if pv is None:
            try:
                pv = await self.client.get("persistentvolumes", str(pv_name))
            except ApiError as err:
                if err.code != 404:
                    raise
                return None, MSG_PV_FETCH.format(pv=pv_name, error=MSG_NOT_FOUND.format(
                    resource="persistentvolumes", name=pv_name))
        if not (pv.get("spec") or {}).get("claimRef"):
            return None, MSG_PV_NO_CLAIM_REF.format(pv=pv_name)
        return pv, None

    # ------------------------------------------------------------------ stopping a pod

    async def _terminate(self, key: Key, pod: JSON, rt: PodRuntime, node: JSON) -> Result:
        now = self.clock.now()
        if rt.stage not in ("killing", "killed"):
            running = [c for c in rt.containers if c.state == "running"]
            for c in running:
                await self.recorder(rt.node).container_event(pod, c, NORMAL, EVENT_KILLING,
                                                            MSG_KILLING.format(name=c.name))
            grace = pod["metadata"].get("deletionGracePeriodSeconds")
            delay = self.termination_delay if running else 0.0
            if grace is not None:
                delay = min(delay, float(grace))
            rt.stage, rt.due = "killing", now + delay
        if rt.stage == "killing":
            if now < rt.due:
                return Result(requeue_after=rt.due - now)
            stamp = rfc3339(now)
            for c in rt.containers:
                c.restart_due = None
                if c.state == "running":
                    c.state, c.reason, c.exit_code, c.finished_at = "terminated", "Completed", 0, stamp
            rt.stage = "killed"
            if rt.start_time:
                await self._write_status(pod, rt, node, terminal=True)
        self._release_ip(key, rt)
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

    def _release_ip(self, key: Key, rt: PodRuntime) -> None:
        if rt.pod_ip and self._ips.get(rt.node, {}).get(rt.pod_ip) == key:
            del self._ips[rt.node][rt.pod_ip]

    # ------------------------------------------------------------------ status

    async def _write_status(self, pod: JSON, rt: PodRuntime, node: JSON, *, terminal: bool = False) -> None:
        """Patch pods/status when the generated status differs from what the API holds (level-based:
        someone else, e.g. the node controller marking the pod not Ready, may have changed it)."""
        status = self.pod_status(pod, rt, node, terminal=terminal)
        wanted = _status_key(status)
        meta = pod["metadata"]
        cached_rv = int(meta.get("resourceVersion") or 0)
        current = rt.last_status if cached_rv < rt.written_rv else _status_key(pod.get("status") or {})
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

    def pod_status(self, pod: JSON, rt: PodRuntime, node: JSON, *, terminal: bool = False) -> JSON:
        """The API status kubelet would generate from the runtime (generateAPIPodStatus)."""
        now = rfc3339(self.clock.now())
        old = pod.get("status") or {}
        old_conditions = {c.get("type"): c for c in old.get("conditions") or []}
        init = [c for c in rt.containers if c.init]
        main = [c for c in rt.containers if not c.init]
        all_done = all(c.state == "terminated" for c in main) and bool(main)
        if terminal or rt.stage == "done":
            phase = "Succeeded" if all(c.exit_code == 0 for c in main) else "Failed"
        elif any(c.state == "running" or c.restart_due is not None for c in main):
            phase = "Running"
        else:
            phase = "Pending"
        not_initialized = [c.name for c in init if not (c.state == "terminated" and c.exit_code == 0)]
        not_ready = [c.name for c in main if c.state != "running"]
        finished = phase in ("Succeeded", "Failed") and all_done

        def cond(type_: str, ok: bool, reason: str = "", message: str = "") -> JSON:
            status = "True" if ok else "False"
            prev = old_conditions.get(type_) or {}
            out: JSON = {"type": type_, "status": status, "lastProbeTime": None,
                         "lastTransitionTime": prev.get("lastTransitionTime") if prev.get("status") == status
                         and prev.get("lastTransitionTime") else now}
            if not ok and reason:
                out["reason"] = reason
            if not ok and message:
                out["message"] = message
            return out

        conditions = [
            cond("PodReadyToStartContainers", rt.sandbox and not finished),
            cond("Initialized", not not_initialized, REASON_CONTAINERS_NOT_INITIALIZED,
                 MSG_CONTAINERS_NOT_INITIALIZED.format(names=" ".join(not_initialized))),
            cond("Ready", not not_ready, REASON_POD_COMPLETED if finished else REASON_CONTAINERS_NOT_READY,
                 "" if finished else MSG_CONTAINERS_NOT_READY.format(names=" ".join(not_ready))),
            cond("ContainersReady", not not_ready, REASON_POD_COMPLETED if finished else REASON_CONTAINERS_NOT_READY,
                 "" if finished else MSG_CONTAINERS_NOT_READY.format(names=" ".join(not_ready))),
        ]
        scheduled = old_conditions.get("PodScheduled")
        conditions.append(dict(scheduled) if scheduled and scheduled.get("status") == "True"
                          else cond("PodScheduled", True))
        # Conditions other components own (DisruptionTarget, readiness gates) are kept, as the
        # kubelet's status manager merges them from the API's copy.
        conditions += [dict(c) for t, c in old_conditions.items() if t not in KUBELET_CONDITIONS]
        host_ip = node_internal_ip(node)
        status: JSON = {
            "phase": phase, "conditions": conditions, "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}] if host_ip else None, "startTime": rt.start_time or now,
            "containerStatuses": [self._container_status(pod, c, rt) for c in main],
        }
        if init:
            status["initContainerStatuses"] = [self._container_status(pod, c, rt) for c in init]
        if rt.pod_ip:
            status["podIP"] = rt.pod_ip
            status["podIPs"] = [{"ip": rt.pod_ip}]
        return status

    def _container_status(self, pod: JSON, c: ContainerRuntime, rt: PodRuntime) -> JSON:
        spec_c = self._spec_container(pod, c)
        out: JSON = {"name": c.name, "image": c.image_ref or c.image, "imageID": c.image_id,
                     "ready": c.state == "running" and not c.init, "restartCount": c.restart_count,
                     "started": c.state == "running", "lastState": c.last_state}
        if c.container_id:
            out["containerID"] = c.container_id
        if c.restart_due is not None and c.reason == REASON_CRASH_LOOP:
            out["state"] = {"waiting": {"reason": c.reason, "message": c.message}}
        elif c.state == "running":
            out["state"] = {"running": {"startedAt": c.started_at}}
        elif c.state == "terminated":
            out["state"] = {"terminated": {"exitCode": c.exit_code, "reason": c.reason, "startedAt": c.started_at,
                                           "finishedAt": c.finished_at, "containerID": c.container_id}}
        else:
            waiting = REASON_POD_INITIALIZING if (not c.init and any(
                i.init and i.state != "terminated" for i in rt.containers)) else REASON_CONTAINER_CREATING
            out["state"] = {"waiting": {"reason": waiting}}
        mounts = [{"name": m.get("name"), "mountPath": m.get("mountPath"),
                   **({"readOnly": True} if m.get("readOnly") else {}), "recursiveReadOnly": "Disabled"}
                  for m in spec_c.get("volumeMounts") or []]
        if mounts:
            out["volumeMounts"] = mounts
        return out


#: The name tests/e2e/kubectl_runner.py expects; either may be listed in ``cluster.CONTROLLERS``.
KubeletController = Kubelet


def kubelet_events_for(events: Iterable[JSON]) -> list[tuple[str, str, str]]:
    """(reason, fieldPath, message) of kubelet events, in order: a helper for tests and demos."""
    return [(e.get("reason", ""), (e.get("involvedObject") or {}).get("fieldPath", ""), e.get("message", ""))
            for e in events if (e.get("source") or {}).get("component") == KUBELET]


__all__ = ["Kubelet", "KubeletController", "PodRuntime", "ContainerRuntime", "go_duration", "normalize_image", "EXIT_CODE_ANNOTATION",
           "EXIT_AFTER_ANNOTATION",
           "kubelet_events_for"]

