"""An event recorder for controllers, with client-go's aggregation and its non-blocking broadcaster.

Repeats of the same event (same object, type, reason, message and source) within the
aggregation window update one Event: ``count`` grows and ``lastTimestamp`` moves, so
``kubectl describe`` prints ``(x2 over 5m)`` exactly as on a real cluster.

Over a remote (HTTP) client an event is not written by the caller: as client-go's broadcaster
(a buffered channel drained by its own goroutine), :class:`EventSink` queues it and a few
background writers write it, so a reconcile never waits for an event's round trip. One object's
events always go to the same writer, in the order recorded (aggregation needs the Event the
previous one created); a full queue drops the event with a log line, as client-go does. The
in-process client writes at once, in the caller: an event written there is visible when the
reconcile ends, which ``Cluster.settle()`` (idle = no controller busy) relies on.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ..apiserver.errors import ApiError
from ..clock import Clock, rfc3339, rfc3339_micro
from ..logs import klog
from .base import JSON, Client, is_remote

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
AGGREGATION_WINDOW = 600.0  # client-go's EventCorrelator keeps a similar-event key for 10 minutes
#: client-go's ``maxQueuedEvents``: a broadcaster drops events beyond this many waiting to be written.
MAX_QUEUED_EVENTS = 1000
#: Background writers of one client's events. client-go has one per broadcaster, and a cluster one
#: broadcaster per kubelet; a process serving every node's kubelet keeps several round trips in
#: flight. One object's events always share one writer.
EVENT_WRITERS = 16
#: How long (real seconds) closing a client waits for its queued events to be written before
#: dropping them; a stopping component waits at most ``STOP_FLUSH_TIMEOUT`` (a controller-manager
#: stops ~30 of them in turn, and an API server that no longer answers must not hold each up).
FLUSH_TIMEOUT = 10.0
STOP_FLUSH_TIMEOUT = 2.0

#: A queued event write.
EventWrite = Callable[[], Awaitable[Any]]


class EventSink:
    """client-go's event broadcasters for one remote client: queues drained by writer tasks that run
    only while their queue holds events (started by the first, ended by the last), so an idle
    process runs none and nothing is left pending when it stops.

    The bound is per source (component and host), as each kubelet and each controller has a
    broadcaster of its own upstream: a process running every node's kubelet queues up to
    ``capacity`` events per node, and one node flooding events drops only its own.
    """

    def __init__(self, writers: int = EVENT_WRITERS, capacity: int = MAX_QUEUED_EVENTS) -> None:
        self.capacity = capacity
        self._queues: list[deque[tuple[EventWrite, str]]] = [deque() for _ in range(max(1, writers))]
        self._tasks: list[asyncio.Task[None] | None] = [None] * len(self._queues)
        self._by_source: dict[str, int] = {}
        self.queued = 0
        self.dropped = 0

    def submit(self, shard: str, write: EventWrite, what: str = "", source: str = "") -> bool:
        """Queue ``write``; writes with the same ``shard`` (the involved object) run in order.
        False (and a log line) when ``source`` already has ``capacity`` events waiting: dropped."""
        waiting = self._by_source.get(source, 0)
        if waiting >= self.capacity:
            self.dropped += 1
            log.error("unable to record event: too many queued events, dropped event %s", what)
            return False
        self._by_source[source] = waiting + 1
        i = zlib.crc32(shard.encode()) % len(self._queues)
        self._queues[i].append((write, source))
        self.queued += 1
        if self._tasks[i] is None:
            self._tasks[i] = asyncio.get_running_loop().create_task(self._drain(i), name="event-writer")
        return True

    def busy(self) -> bool:
        return self.queued > 0

    def _done(self, source: str) -> None:
        self.queued -= 1
        left = self._by_source[source] - 1
        if left:
            self._by_source[source] = left
        else:
            del self._by_source[source]

    async def _drain(self, i: int) -> None:
        queue = self._queues[i]
        try:
            while queue:
                write, source = queue[0]
                try:
                    await write()
                except asyncio.CancelledError:
                    raise
                except Exception:   # noqa: BLE001 - a recorder logs its failures; this is a bug
                    log.warning("event writer: unexpected failure", exc_info=True)
                finally:
                    queue.popleft()
                    self._done(source)
        finally:
            # No await between the queue found empty and this: a submit cannot slip in between.
            self._tasks[i] = None

    async def flush(self, timeout: float | None = FLUSH_TIMEOUT) -> bool:
        """Wait until every queued event is written (those queued meanwhile too); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            tasks = [t for t in self._tasks if t is not None]
            if not tasks:
                return True
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(tasks, timeout=left)

    async def stop(self, timeout: float | None = FLUSH_TIMEOUT) -> None:
        """Flush, then end the writers; what could not be written in ``timeout`` is dropped."""
        if not await self.flush(timeout):
            log.error("unable to record event: dropped %d queued events at shutdown", self.queued)
        tasks = [t for t in self._tasks if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        for queue in self._queues:
            while queue:
                self._done(queue.popleft()[1])


#: The sink of each remote client (one per process, as a component's broadcaster). Weak: a sink
#: holds no reference to its client, so a dropped client takes its sink with it.
_SINKS: weakref.WeakKeyDictionary[Any, EventSink] = weakref.WeakKeyDictionary()


def event_sink(client: Client) -> EventSink | None:
    """The background sink of a remote client (created on first use); None for the in-process
    client, whose events are written by the caller."""
    if not is_remote(client):
        return None
    sink = _SINKS.get(client)
    if sink is None:
        sink = _SINKS[client] = EventSink()
    return sink


async def flush_events(client: Client, timeout: float | None = STOP_FLUSH_TIMEOUT) -> None:
    """Wait until the events recorded through ``client`` so far are written (a component stopping)."""
    sink = _SINKS.get(client) if is_remote(client) else None
    if sink is not None:
        await sink.flush(timeout)


async def stop_events(client: Client, timeout: float | None = FLUSH_TIMEOUT) -> None:
    """Flush and end the event writers of ``client`` (the client closing)."""
    sink = _SINKS.pop(client, None) if is_remote(client) else None
    if sink is not None:
        await sink.stop(timeout)


async def record_event(client: Client, ref: JSON, reason: str, write: EventWrite, source: str = "") -> Any:
    """Write an event now (in-process client: its result) or queue it (remote client: None);
    ``source`` (component and host) is whose queue it counts against."""
    sink = event_sink(client)
    if sink is None:
        return await write()
    shard = f"{ref.get('kind', '')}/{ref.get('namespace', '')}/{ref.get('name', '')}"
    sink.submit(shard, write, f"{reason} on {shard}", source)
    return None


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: str
    last_seen: float


def involved_object(obj: JSON) -> JSON:
    meta = obj.get("metadata") or {}
    ref: JSON = {"kind": obj.get("kind", ""), "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                 "apiVersion": obj.get("apiVersion", ""), "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def log_event(obj: JSON, type_: str, reason: str, message: str) -> None:
    """The event broadcaster's structured log line, in the recording component's log."""
    if not klog.isEnabledFor(logging.INFO):
        return
    meta = obj.get("metadata") or {}
    name = f"{meta['namespace']}/{meta.get('name', '')}" if meta.get("namespace") else str(meta.get("name", ""))
    klog.info('"Event occurred" object="%s" fieldPath="" kind="%s" apiVersion="%s" type="%s" reason="%s" '
              "message=%s", name, obj.get("kind", ""), obj.get("apiVersion", ""), type_, reason,
              orjson.dumps(message).decode())


class EventRecorder:
    """Record core/v1 Events on behalf of one component (``persistentvolume-controller``...).

    ``host`` is the source host of its events; a recorder serving many hosts (every node's
    kubelet in one process) passes ``host`` per event instead, with the same names and
    aggregation as one recorder per host would have.
    """

    def __init__(self, client: Client, component: str, clock: Clock, *, host: str = "",
                 reporting_instance: str = "") -> None:
        self.client = client
        self.component = component
        self.clock = clock
        self.host = host
        # client-go's recorder reports the host as the instance (empty for controllers).
        self._instance = reporting_instance
        self.reporting_instance = reporting_instance or host
        self._seen: dict[tuple[Any, ...], _Seen] = {}
        self._counters: dict[str, int] = {}   # per host: names as one recorder per host makes them

    @property
    def _counter(self) -> int:
        """The name counter of the recorder's own host (a component may seed it)."""
        return self._counters.get(self.host, 0)

    @_counter.setter
    def _counter(self, value: int) -> None:
        self._counters[self.host] = value

    async def event(self, obj: JSON, type_: str, reason: str, message: str, *,
                    action: str | None = None, host: str | None = None) -> JSON | None:
        """Record an event about ``obj``; failures are logged, never raised (as client-go).

        ``action`` is what the reporter was doing (``Scheduling``, ``Binding``), as events.k8s.io has it.
        Returns the Event written, or None when it failed or was queued (remote client).
        """
        log_event(obj, type_, reason, message)
        ref = involved_object(obj)   # now: the caller may change obj before a queued write runs
        now = self.clock.now()
        host = self.host if host is None else host

        async def write() -> JSON | None:
            try:
                return await self._record(ref, type_, reason, message, action, host, now)
            except ApiError as err:
                log.debug("could not record event %s on %s: %s", reason, ref.get("name"), err)
                return None

        result: JSON | None = await record_event(self.client, ref, reason, write, f"{self.component}/{host}")
        return result

    async def _record(self, ref: JSON, type_: str, reason: str, message: str, action: str | None, host: str,
                      now: float) -> JSON:
        namespace = ref.get("namespace") or "default"
        key = (ref["kind"], namespace, ref["name"], ref["uid"], type_, reason, message, host)
        stamp = rfc3339(now)
        seen = self._seen.get(key)
        if seen is not None and now - seen.last_seen < AGGREGATION_WINDOW:
            seen.count += 1
            seen.last_seen = now
            try:
                updated: JSON = await self.client.patch(
                    "events", seen.name, {"count": seen.count, "lastTimestamp": stamp}, seen.namespace)
                return updated
            except ApiError as err:
                if err.code != 404:
                    raise
        event: JSON = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "", "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "type": type_,
            "source": {"component": self.component, **({"host": host} if host else {})},
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
            "eventTime": None, "reportingComponent": self.component,
            "reportingInstance": self._instance or host,
        }
        if action:
            event["action"] = action
        # Names are "<object>.<unix nanoseconds in hex>" as client-go makes them; two recorders
        # writing at the same (virtual) instant would collide, so step to the next free name.
        while True:
            counter = self._counters[host] = self._counters.get(host, 0) + 1
            name = f"{ref['name']}.{int(now * 1e9) + counter:x}"
            event["metadata"]["name"] = name
            try:
                created: JSON = await self.client.create("events", event, namespace)
                break
            except ApiError as err:
                if err.code != 409 or err.reason != "AlreadyExists":
                    raise
        self._seen[key] = _Seen(name, namespace, 1, stamp, now)
        return created

    def micro_now(self) -> str:
        return rfc3339_micro(self.clock.now())
