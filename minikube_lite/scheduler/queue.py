"""The scheduling queue: activeQ (priority, then time), backoffQ and the unschedulable pool.

As upstream's ``PriorityQueue``: a pod that failed waits in the unschedulable pool until a
cluster event its rejecting plugins registered for (storage.md §2.8) moves it back; a pod that
errored, or whose cycle overlapped such an event, waits out its backoff (1 s doubling to 10 s).
A pod moved by an event may be popped from backoffQ when activeQ is empty
(``SchedulerPopFromBackoffQ``, on by default since 1.33), so a fix re-tries it at once.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ..clock import Clock, TimerHandle
from ..config.timings import DEFAULT_TIMINGS
from .framework import ClusterEvent
from .snapshot import JSON, pod_key, pod_priority

# (pod, resource, action, obj, old) -> may this event make the pod schedulable?
QueueingHint = Callable[[JSON, str, str, JSON, "JSON | None"], bool]

# The defaults of a queue built without a cluster config: the scheduler Timings' defaults.
DEFAULT_INITIAL_BACKOFF = DEFAULT_TIMINGS.schedulerBackoffInitial
DEFAULT_MAX_BACKOFF = DEFAULT_TIMINGS.schedulerBackoffMax
DEFAULT_MAX_IN_UNSCHEDULABLE = DEFAULT_TIMINGS.schedulerUnschedulableFlush   # podMaxInUnschedulablePodsDuration
#: How often upstream's flushUnschedulablePodsLeftover runs (fixed, not a flag).
UNSCHEDULABLE_FLUSH_INTERVAL = 30.0


@dataclass
class QueuedPodInfo:
    key: str
    pod: JSON
    timestamp: float                      # when it (re-)entered the queue
    initial_attempt_timestamp: float | None = None
    attempts: int = 0
    unschedulable_plugins: set[str] = field(default_factory=set)
    backoff_expiry: float = 0.0
    moved_by_event: bool = False
    error: bool = False


class SchedulingQueue:
    def __init__(self, clock: Clock, events_by_plugin: dict[str, list[ClusterEvent]], *,
                 initial_backoff: float = DEFAULT_INITIAL_BACKOFF, max_backoff: float = DEFAULT_MAX_BACKOFF,
                 max_in_unschedulable: float = DEFAULT_MAX_IN_UNSCHEDULABLE,
                 hints: dict[str, QueueingHint] | None = None) -> None:
        self.clock = clock
        self.events_by_plugin = events_by_plugin
        self.hints = hints or {}
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_in_unschedulable = max_in_unschedulable
        self._active: list[tuple[int, float, int, str]] = []
        self._active_keys: dict[str, QueuedPodInfo] = {}
        self._backoff: dict[str, QueuedPodInfo] = {}
        self._unschedulable: dict[str, QueuedPodInfo] = {}
        self._gated: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, QueuedPodInfo] = {}
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._timers: dict[str, TimerHandle] = {}
        self.scheduling_cycle = 0
        self.move_request_cycle = -1
        self.closed = False

    # -- introspection ------------------------------------------------------------------------

    def has_ready(self) -> bool:
        return bool(self._active_keys) or any(q.moved_by_event for q in self._backoff.values())

    def next_backoff_expiry(self) -> float | None:
        return min((q.backoff_expiry for q in self._backoff.values()), default=None)

    def pending(self) -> dict[str, list[str]]:
        return {"active": sorted(self._active_keys), "backoff": sorted(self._backoff),
                "unschedulable": sorted(self._unschedulable), "gated": sorted(self._gated),
                "inFlight": sorted(self._in_flight)}

    def __contains__(self, key: str) -> bool:
        return any(key in d for d in (self._active_keys, self._backoff, self._unschedulable,
                                      self._gated, self._in_flight))

    # -- adding and removing ------------------------------------------------------------------

    def add(self, pod: JSON) -> None:
        """A new pending pod (or one we have not seen): straight to activeQ unless gated."""
        key = pod_key(pod)
        if key in self._in_flight:
            self._in_flight[key].pod = pod
            return
        q = self._take(key) or QueuedPodInfo(key, pod, self.clock.now())
        q.pod = pod
        if (pod.get("spec") or {}).get("schedulingGates"):
            self._gated[key] = q
            return
        self._push_active(q)

    def update(self, old: JSON | None, pod: JSON) -> None:
        """A pending pod changed: a real spec/label change re-tries it, a status write does not."""
        key = pod_key(pod)
        if key in self._in_flight:
            self._in_flight[key].pod = pod
            return
        if key in self._gated:
            self._gated[key].pod = pod
            if not (pod.get("spec") or {}).get("schedulingGates"):
                self._push_active(self._gated.pop(key))
            return
        for pool in (self._unschedulable, self._backoff):
            if key in pool:
                q = pool[key]
                q.pod = pod
                if old is not None and _is_pod_updated(old, pod):
                    pool.pop(key)
                    self._cancel_timer(key)
                    if self._backing_off(q):
                        self._push_backoff(q, moved=True)
                    else:
                        self._push_active(q)
                return
        if key in self._active_keys:
            self._active_keys[key].pod = pod
            return
        self.add(pod)

    def delete(self, key: str) -> None:
        self._take(key)
        self._in_flight.pop(key, None)

    def _take(self, key: str) -> QueuedPodInfo | None:
        self._cancel_timer(key)
        for pool in (self._active_keys, self._backoff, self._unschedulable, self._gated):
            q = pool.pop(key, None)
            if q is not None:
                return q
        return None

    def _push_active(self, q: QueuedPodInfo) -> None:
        q.moved_by_event = False
        self._active_keys[q.key] = q
        heapq.heappush(self._active, (-pod_priority(q.pod), q.timestamp, next(self._seq), q.key))
        self._wake.set()

    def _backoff_duration(self, q: QueuedPodInfo) -> float:
        d = self.initial_backoff
        for _ in range(1, q.attempts):
            d *= 2
            if d > self.max_backoff:
                return self.max_backoff
        return d

    def _backing_off(self, q: QueuedPodInfo) -> bool:
        return q.attempts > 0 and q.timestamp + self._backoff_duration(q) > self.clock.now()

    def _push_backoff(self, q: QueuedPodInfo, moved: bool) -> None:
        q.backoff_expiry = q.timestamp + self._backoff_duration(q)
        q.moved_by_event = moved
        self._backoff[q.key] = q
        delay = max(0.0, q.backoff_expiry - self.clock.now())
        self._cancel_timer(q.key)
        self._timers[q.key] = self.clock.call_later(delay, functools.partial(self._backoff_done, q.key))
        if moved:
            self._wake.set()

    def _backoff_done(self, key: str) -> None:
        self._timers.pop(key, None)
        q = self._backoff.pop(key, None)
        if q is not None:
            self._push_active(q)

    def _cancel_timer(self, key: str) -> None:
        t = self._timers.pop(key, None)
        if t is not None:
            t.cancel()

    # -- the scheduling loop's side -----------------------------------------------------------

    async def pop(self) -> QueuedPodInfo | None:
        """The next pod to try; waits while there is none. None once closed."""
        while not self.closed:
            q = self._pop_now()
            if q is not None:
                return q
            self._wake.clear()
            await self._wake.wait()
        return None

    def _pop_now(self) -> QueuedPodInfo | None:
        while self._active:
            _, _, _, key = heapq.heappop(self._active)
            q = self._active_keys.pop(key, None)
            if q is not None:
                return self._start(q)
        movable = [q for q in self._backoff.values() if q.moved_by_event]
        if movable:
            q = min(movable, key=lambda x: (x.backoff_expiry, -pod_priority(x.pod)))
            self._backoff.pop(q.key)
            self._cancel_timer(q.key)
            return self._start(q)
        return None

    def _start(self, q: QueuedPodInfo) -> QueuedPodInfo:
        self.scheduling_cycle += 1
        q.attempts += 1
        if q.initial_attempt_timestamp is None:
            q.initial_attempt_timestamp = self.clock.now()
        q.moved_by_event = False
        self._in_flight[q.key] = q
        return q

    def done(self, key: str) -> None:
        """The attempt ended (bound or given up): the pod leaves the in-flight set."""
        self._in_flight.pop(key, None)

    def requeue_failed(self, q: QueuedPodInfo, cycle: int, *, error: bool) -> None:
        """``AddUnschedulableIfNotPresent``: unschedulable pool, or backoffQ after errors/moves."""
        self._in_flight.pop(q.key, None)
        if q.key in self:
            return
        q.timestamp = self.clock.now()
        q.error = error
        if error or self.move_request_cycle >= cycle:
            self._push_backoff(q, moved=False)
        else:
            self._unschedulable[q.key] = q

    def move_on_event(self, resource: str, action: str, obj: JSON | None = None,
                      old: JSON | None = None) -> int:
        """Move unschedulable pods whose rejecting plugins care about this event; returns how many.

        A plugin's queueing hint (when it has one) may say the event cannot help a given pod,
        as upstream's QueueingHint does (a PVC change only helps pods that use that PVC).
        """
        self.move_request_cycle = self.scheduling_cycle
        interested = {name for name, evs in self.events_by_plugin.items()
                      if any(e.matches(resource, action) for e in evs)}
        moved = 0
        for key, q in list(self._unschedulable.items()):
            if q.unschedulable_plugins:
                relevant = q.unschedulable_plugins & interested
                if not relevant:
                    continue
                if obj is not None and not any(
                        name not in self.hints or self.hints[name](q.pod, resource, action, obj, old)
                        for name in relevant):
                    continue
            del self._unschedulable[key]
            if self._backing_off(q):
                self._push_backoff(q, moved=True)
            else:
                self._push_active(q)
            moved += 1
        return moved

    def flush_unschedulable_leftover(self) -> None:
        """Pods stuck longer than ``max_in_unschedulable`` are retried anyway."""
        now = self.clock.now()
        for key, q in list(self._unschedulable.items()):
            if now - q.timestamp >= self.max_in_unschedulable:
                del self._unschedulable[key]
                if self._backing_off(q):
                    self._push_backoff(q, moved=False)
                else:
                    self._push_active(q)

    def close(self) -> None:
        self.closed = True
        for t in self._timers.values():
            t.cancel()
        self._timers.clear()
        self._wake.set()


def _strip(pod: JSON) -> tuple[object, object, object]:
    md = pod.get("metadata") or {}
    return (pod.get("spec"), md.get("labels"), md.get("annotations"))


def _is_pod_updated(old: JSON, new: JSON) -> bool:
    """``isPodUpdated``: anything but status and bookkeeping metadata changed."""
    return _strip(old) != _strip(new)


OnEvent = Callable[[str, str], None]
