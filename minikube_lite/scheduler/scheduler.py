"""The scheduling loop: informers feed the cache and queue; one pod at a time is scheduled.

Each attempt runs the synchronous scheduling cycle (PreFilter..Reserve, see ``algorithm``) on
the event loop, then the binding cycle (PreBind, Bind) as its own task, as kube-scheduler runs
it in a goroutine. Failures produce the ``FailedScheduling`` event and the ``PodScheduled``
condition with the exact composed message (storage.md §2.9); success produces ``Scheduled``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import orjson

from ..client.base import ApiError
from ..clock import Clock, rfc3339
from ..config import timings_of
from ..logs import klog
from .algorithm import Algorithm, FitError, SchedulingError
from .defaults import DEFAULT_SCHEDULER_NAME, default_profile, in_tree_registry
from .framework import Code, CycleState, Framework, Handle, Profile, Registry, Status
from .queue import UNSCHEDULABLE_FLUSH_INTERVAL, QueuedPodInfo, SchedulingQueue
from .snapshot import JSON, Snapshot, pod_key

log = logging.getLogger(__name__)

REASON_FAILED_SCHEDULING = "FailedScheduling"
REASON_SCHEDULED = "Scheduled"
POD_REASON_UNSCHEDULABLE = "Unschedulable"
POD_REASON_SCHEDULER_ERROR = "SchedulerError"
POD_REASON_SCHEDULING_GATED = "SchedulingGated"
SCHEDULING_GATED_MESSAGE = "Scheduling is blocked due to non-empty scheduling gates"
NOTE_LENGTH_LIMIT = 1024

# Resource (as the informer names it) -> the ClusterEvent resource plugins register for.
WATCHED: dict[str, str] = {
    "nodes": "Node", "persistentvolumes": "PersistentVolume",
    "persistentvolumeclaims": "PersistentVolumeClaim", "storageclasses": "StorageClass",
    "csinodes": "CSINode", "csidrivers": "CSIDriver", "csistoragecapacities": "CSIStorageCapacity",
}
_ACTION = {"ADDED": "Add", "MODIFIED": "Update", "DELETED": "Delete"}


def truncate_message(message: str) -> str:
    """``truncateMessage``: Event notes are limited to 1024 characters, cut with `` ...``."""
    if len(message) <= NOTE_LENGTH_LIMIT:
        return message
    suffix = " ..."
    return message[:NOTE_LENGTH_LIMIT - len(suffix)] + suffix


def scheduled_message(pod: JSON, node_name: str) -> str:
    md = pod.get("metadata") or {}
    return f"Successfully assigned {md.get('namespace') or 'default'}/{md.get('name', '')} to {node_name}"


def node_update_actions(old: JSON | None, new: JSON) -> list[str]:
    """The finer node update events (labels, taints/unschedulable, allocatable, conditions)."""
    if old is None:
        return ["Add"]
    out = []
    om, nm = old.get("metadata") or {}, new.get("metadata") or {}
    os_, ns_ = old.get("spec") or {}, new.get("spec") or {}
    ost, nst = old.get("status") or {}, new.get("status") or {}
    if om.get("labels") != nm.get("labels"):
        out.append("UpdateNodeLabel")
    if os_.get("taints") != ns_.get("taints") or bool(os_.get("unschedulable")) != bool(ns_.get("unschedulable")):
        out.append("UpdateNodeTaint")
    if ost.get("allocatable") != nst.get("allocatable"):
        out.append("UpdateNodeAllocatable")
    if [(c.get("type"), c.get("status")) for c in ost.get("conditions") or []] != \
            [(c.get("type"), c.get("status")) for c in nst.get("conditions") or []]:
        out.append("UpdateNodeCondition")
    return out


def assigned_pod_action(old: JSON | None, new: JSON) -> str | None:
    """The event an assigned pod's change is: Add when it lands on a node, Update only when its
    labels or requests changed (a status write from the kubelet helps no pending pod)."""
    if old is None or not (old.get("spec") or {}).get("nodeName"):
        return "Add"
    if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get("labels"):
        return "UpdatePodLabel"
    resources = [c.get("resources") for c in (new.get("spec") or {}).get("containers") or []]
    if [c.get("resources") for c in (old.get("spec") or {}).get("containers") or []] != resources:
        return "UpdatePodScaleDown"
    return None


class Scheduler:
    """``Scheduler(client, clock)``; ``await start()`` then it schedules until ``await stop()``."""

    def __init__(self, client: Any, clock: Clock, *, name: str = DEFAULT_SCHEDULER_NAME,
                 percentage_of_nodes_to_score: int | None = None, registry: Registry | None = None,
                 profile: Profile | None = None, rng: random.Random | None = None,
                 bind_timeout_seconds: float | None = None, initial_backoff_seconds: float | None = None,
                 max_backoff_seconds: float | None = None, max_in_unschedulable_seconds: float | None = None,
                 config: Any = None) -> None:
        # Timings come from the cluster config (``timings.scheduler*``, ``timings.bindTimeout``);
        # explicit arguments win over it, upstream defaults fill the rest.
        timings = timings_of(config)

        def timing(explicit: float | None, configured: float) -> float:
            return explicit if explicit is not None else configured

        bind_timeout = timing(bind_timeout_seconds, timings.bindTimeout)
        initial_backoff = timing(initial_backoff_seconds, timings.schedulerBackoffInitial)
        max_backoff = timing(max_backoff_seconds, timings.schedulerBackoffMax)
        max_unschedulable = timing(max_in_unschedulable_seconds, timings.schedulerUnschedulableFlush)
        self.client = client
        self.clock = clock
        self.name = name
        self.snapshot = Snapshot()
        self.handle = Handle(clock, self.snapshot, client, bind_timeout)
        prof = profile or default_profile(name, percentage_of_nodes_to_score)
        self.framework = Framework(registry or in_tree_registry(), prof, self.handle)
        self.algorithm = Algorithm(self.framework,
                                   percentage_of_nodes_to_score=prof.percentage_of_nodes_to_score,
                                   rng=rng)
        self.queue = SchedulingQueue(clock, self.framework.events_by_plugin(),
                                     hints=self.framework.queueing_hints(),
                                     initial_backoff=initial_backoff,
                                     max_backoff=max_backoff,
                                     max_in_unschedulable=max_unschedulable)
        self.informers: dict[str, Any] = {}
        self._handlers: list[tuple[Any, Callable[[str, JSON, JSON | None], Any]]] = []
        self._recorder: Any = None
        self._loop_task: asyncio.Task[None] | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._binding_tasks: set[asyncio.Task[None]] = set()
        self._api_calls = 0
        self._scheduling = False
        self.scheduled_count = 0
        self.failed_count = 0

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        from ..client.informer import shared_informer

        with contextlib.suppress(ImportError):
            from ..client.events import EventRecorder

            self._recorder = EventRecorder(self.client, self.name, self.clock)
        for resource in ["nodes", "persistentvolumes", "persistentvolumeclaims", "storageclasses",
                         "csinodes", "csidrivers", "csistoragecapacities", "pods"]:
            # Shared informers (client-go's factory): in one process the scheduler reads the same
            # caches the controllers read, one watch per type.
            inf = shared_informer(self.client, resource, self.clock)
            handler: Callable[[str, JSON, JSON | None], Any]
            if resource == "pods":
                handler = self._on_pod
            elif resource == "nodes":
                handler = self._on_node
            else:
                handler = self._make_object_handler(resource)
            inf.add_handler(handler)
            inf.acquire()
            self._handlers.append((inf, handler))
            self.informers[resource] = inf
        for inf, handler in self._handlers:
            already = inf.synced   # started by another component: hear about what it holds
            await inf.start()
            if already:
                inf.replay(handler)
        for inf in self.informers.values():
            await inf.wait_synced()
        self._loop_task = asyncio.create_task(self._run(), name=f"scheduler-{self.name}")
        self._flush_task = asyncio.create_task(self._flush_loop(), name=f"scheduler-flush-{self.name}")

    async def stop(self) -> None:
        self.queue.close()
        for t in [self._loop_task, self._flush_task, *self._binding_tasks]:
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        self._binding_tasks.clear()
        # The handlers are bound to this scheduler: without them a shared informer others still
        # use calls us no more, and a stopped scheduler is freed at once (no cyclic collection).
        handlers, self._handlers = self._handlers, []
        for inf, handler in handlers:
            inf.remove_handler(handler)
            if inf.release():
                with contextlib.suppress(Exception):
                    await inf.stop()
        from ..client.events import flush_events

        await flush_events(self.client)   # over HTTP: the events it recorded are written before it ends

    # -- settle() support ---------------------------------------------------------------------

    def pending_work(self) -> bool:
        """True while there is something to do now (a pod to try, an API call in flight)."""
        return self._scheduling or self._api_calls > 0 or self.queue.has_ready()

    def busy(self) -> bool:
        return self.pending_work()

    def next_due(self) -> float | None:
        """When (clock ``now()``) a backed-off pod becomes ready, or None."""
        return self.queue.next_backoff_expiry()

    # -- informer handlers --------------------------------------------------------------------

    def _responsible(self, pod: JSON) -> bool:
        spec = pod.get("spec") or {}
        return (spec.get("schedulerName") or DEFAULT_SCHEDULER_NAME) == self.name

    def _on_pod(self, event_type: str, pod: JSON, old: JSON | None) -> None:
        key = pod_key(pod)
        if event_type == "DELETED":
            was_assigned = bool(((old or pod).get("spec") or {}).get("nodeName")) or \
                key in self.snapshot.assumed_pods
            self.snapshot.remove_pod(key)
            self.snapshot.notify_volume_change([f"pod:{key}"])   # a PreBind waiting for it gives up
            self.queue.delete(key)
            if was_assigned:
                self.queue.move_on_event("AssignedPod", "Delete")
            return
        spec = pod.get("spec") or {}
        phase = (pod.get("status") or {}).get("phase")
        self.snapshot.set_pod(pod)
        if spec.get("nodeName"):
            self.queue.delete(key)
            action = assigned_pod_action(old, pod)
            if action is not None:
                self.queue.move_on_event("AssignedPod", action, pod, old)
            return
        if not self._responsible(pod) or phase in ("Succeeded", "Failed") or \
                (pod.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.delete(key)
            return
        if event_type == "ADDED":
            self.queue.add(pod)
            if spec.get("schedulingGates"):
                self._spawn(self._mark_gated(pod))
        else:
            self.queue.update(old, pod)

    def _on_node(self, event_type: str, node: JSON, old: JSON | None) -> None:
        name = (node.get("metadata") or {}).get("name", "")
        if event_type == "DELETED":
            self.snapshot.remove_node(name)
            self.queue.move_on_event("Node", "Delete")
            return
        self.snapshot.set_node(node)
        for action in node_update_actions(old if event_type == "MODIFIED" else None, node):
            self.queue.move_on_event("Node", action)

    def _make_object_handler(self, resource: str) -> Any:
        kind = WATCHED[resource]

        def handler(event_type: str, obj: JSON, old: JSON | None) -> None:
            if event_type == "DELETED":
                self.snapshot.delete_object(resource, obj)
            else:
                self.snapshot.set_object(resource, obj)
            self.queue.move_on_event(kind, _ACTION.get(event_type, "Update"), obj, old)

        return handler

    # -- the loop -----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self.queue.closed:
            q = await self.queue.pop()
            if q is None:
                return
            self._scheduling = True
            try:
                await self.schedule_one(q)
            except asyncio.CancelledError:
                raise
            except Exception:   # never let one pod kill the loop
                log.exception("scheduling %s failed", q.key)
                self.queue.requeue_failed(q, self.queue.scheduling_cycle, error=True)
            finally:
                self._scheduling = False
            # One pass of the event loop per cycle. A cycle that succeeds awaits nothing (PreBind and
            # Bind run as their own task), and pop() returns at once while pods are queued, so with a
            # backlog (10,000 pods arriving together) the loop would otherwise keep the event loop
            # to itself: no watch event, binding cycle or Lease renewal would run until the queue
            # is empty. kube-scheduler's cycles do not block its other goroutines either.
            await asyncio.sleep(0)

    async def _flush_loop(self) -> None:
        while not self.queue.closed:
            await self._sleep_daemon(UNSCHEDULABLE_FLUSH_INTERVAL)
            self.queue.flush_unschedulable_leftover()

    async def _sleep_daemon(self, seconds: float) -> None:
        try:
            await self.clock.sleep(seconds, daemon=True)  # type: ignore[call-arg]
        except TypeError:
            await self.clock.sleep(seconds)

    async def schedule_one(self, q: QueuedPodInfo) -> None:
        pod = self.snapshot.pods.get(q.key)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or \
                (pod.get("metadata") or {}).get("deletionTimestamp"):
            self.queue.done(q.key)
            return
        q.pod = pod
        cycle = self.queue.scheduling_cycle
        state = CycleState()
        try:
            result = self.algorithm.schedule_pod(state, pod)
        except FitError as fit:
            nominated = ""
            victims: list[JSON] = []
            r, st = self.framework.run_post_filter(state, pod, fit.diagnosis.statuses)
            if st is not None:
                fit.diagnosis.post_filter_msg = st.message()
            if r is not None and r.nominated_node_name and st is not None and st.is_success():
                nominated, victims = r.nominated_node_name, r.victims
            q.unschedulable_plugins = set(fit.diagnosis.unschedulable_plugins)
            await self._handle_failure(q, cycle, str(fit), unschedulable=True, nominated=nominated)
            for v in victims:
                await self._evict(v, pod)
            return
        except SchedulingError as err:
            q.unschedulable_plugins = set()
            await self._handle_failure(q, cycle, str(err), unschedulable=False)
            return
        host = result.suggested_host
        assumed = _with_node(pod, host)
        self.snapshot.assume_pod(assumed, host)
        st2 = self.framework.run_reserve(state, assumed, host)
        if st2 is not None:
            self.framework.run_unreserve(state, assumed, host)
            self.snapshot.forget_pod(assumed)
            await self._handle_failure(q, cycle, st2.message(), unschedulable=False)
            return
        task = asyncio.create_task(self._binding_cycle(q, cycle, state, assumed, host),
                                   name=f"bind-{q.key}")
        self._binding_tasks.add(task)
        task.add_done_callback(self._binding_tasks.discard)

    async def _binding_cycle(self, q: QueuedPodInfo, cycle: int, state: CycleState, pod: JSON,
                             host: str) -> None:
        try:
            st = await self.framework.run_pre_bind(state, pod, host)
            if st is None:
                self._api_calls += 1
                try:
                    st = await self.framework.run_bind(state, pod, host)
                finally:
                    self._api_calls -= 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:   # a plugin bug: treat as an error status
            log.exception("binding %s failed", q.key)
            st = Status.of(Code.Error, str(exc))
        if st is not None:
            self.framework.run_unreserve(state, pod, host)
            self.snapshot.forget_pod(pod)
            await self._handle_failure(q, cycle, st.message(), unschedulable=st.is_rejected())
            return
        self.queue.done(q.key)
        self.scheduled_count += 1
        md = pod.get("metadata") or {}
        klog.info('"Successfully bound pod to node" pod="%s/%s" node="%s"', md.get("namespace"), md.get("name"), host)
        await self._event(pod, "Normal", REASON_SCHEDULED, scheduled_message(pod, host))

    # -- failure handling ---------------------------------------------------------------------

    async def _handle_failure(self, q: QueuedPodInfo, cycle: int, message: str, *, unschedulable: bool,
                              nominated: str = "") -> None:
        """``handleSchedulingFailure``: requeue, Warning event, PodScheduled=False condition."""
        self.failed_count += 1
        current = self.snapshot.pods.get(q.key)
        if current is None or (current.get("spec") or {}).get("nodeName"):
            self.queue.done(q.key)
            return
        self.queue.requeue_failed(q, cycle, error=not unschedulable)
        cmeta = current.get("metadata") or {}
        klog.info('"Unable to schedule pod; no fit; waiting" pod="%s/%s" err=%s', cmeta.get("namespace"),
                  cmeta.get("name"), orjson.dumps(message).decode())
        await self._event(current, "Warning", REASON_FAILED_SCHEDULING, truncate_message(message))
        reason = POD_REASON_UNSCHEDULABLE if unschedulable else POD_REASON_SCHEDULER_ERROR
        await self._set_condition(current, "False", reason, message, nominated)

    async def _set_condition(self, pod: JSON, status: str, reason: str, message: str,
                             nominated: str = "") -> None:
        pst = pod.get("status") or {}
        old = next((c for c in pst.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        same = old is not None and old.get("status") == status and old.get("reason") == reason and \
            old.get("message") == message
        if same and (not nominated or pst.get("nominatedNodeName") == nominated):
            return
        now = rfc3339(self.clock.now())
        cond = {"type": "PodScheduled", "status": status, "reason": reason, "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": old.get("lastTransitionTime") if old is not None and
                old.get("status") == status else now}
        body: JSON = {"status": {"conditions": [cond]}}
        if nominated:
            body["status"]["nominatedNodeName"] = nominated
        md = pod.get("metadata") or {}
        await self._api(self.client.patch("pods", md.get("name", ""), body, md.get("namespace") or "default",
                                          patch_type="strategic", subresource="status"))

    async def _mark_gated(self, pod: JSON) -> None:
        await self._set_condition(pod, "False", POD_REASON_SCHEDULING_GATED, SCHEDULING_GATED_MESSAGE)

    async def _evict(self, victim: JSON, preemptor: JSON) -> None:
        md = victim.get("metadata") or {}
        pmd = preemptor.get("metadata") or {}
        await self._event(victim, "Normal", "Preempted",
                          f"Preempted by pod {pmd.get('uid', '')} on node "
                          f"{(victim.get('spec') or {}).get('nodeName', '')}")
        await self._api(self.client.delete("pods", md.get("name", ""), md.get("namespace") or "default"))

    async def _event(self, obj: JSON, type_: str, reason: str, message: str) -> None:
        if self._recorder is None:
            return
        ref = dict(obj)
        ref.setdefault("kind", "Pod")
        ref.setdefault("apiVersion", "v1")
        self._api_calls += 1
        try:
            await self._recorder.event(ref, type_, reason, message)
        finally:
            self._api_calls -= 1

    async def _api(self, coro: Any) -> Any:
        self._api_calls += 1
        try:
            return await coro
        except ApiError as err:
            log.debug("scheduler API call failed: %s", err)
            return None
        finally:
            self._api_calls -= 1

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(self._api(coro))
        self._binding_tasks.add(task)
        task.add_done_callback(self._binding_tasks.discard)


def _with_node(pod: JSON, node: str) -> JSON:
    out = dict(pod)
    out["spec"] = dict(pod.get("spec") or {})
    out["spec"]["nodeName"] = node
    return out
