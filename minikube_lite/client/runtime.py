"""The controller runtime: informers, a rate-limited work queue, and level-based reconcile.

A controller declares what it watches and how a changed object maps to work keys; the runtime
calls ``reconcile(key)`` for each key, one at a time per key. The runtime is the one place that
decides what happens next, so every controller retries the same way:

- an exception: a rate-limited requeue (exponential backoff, 1 s doubling to 5 min as
  external-provisioner, or the controller's configured ``Backoff``), logged as a warning;
- an *expected* failure (one of ``Controller.expected_errors``, or ``Result(rate_limited=True)``
  returned after the failure was already reported in an event or status): the same requeue, quietly;
- a :class:`TerminalError`: no requeue (the key comes back only when its objects change);
- ``Result.requeue_after``: another look after that many seconds; the failure count is forgotten.

All waiting goes through the cluster clock, so ``Cluster.settle()`` can fast-forward a virtual
clock through retries and resyncs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..client.base import JSON, ApiError, Client
from ..client.events import flush_events
from ..client.informer import Handler, Informer, shared_informer
from ..clock import Clock, TimerHandle

log = logging.getLogger(__name__)

Key = str


@dataclass(frozen=True)
class Result:
    """What a reconcile asks for next: nothing, another look after ``requeue_after`` seconds, or a
    rate-limited retry of a failure it has already reported (``rate_limited``), whose backoff
    ``backoff_factor`` stretches (still capped) for failures that retrying rarely fixes."""

    requeue_after: float | None = None
    rate_limited: bool = False
    backoff_factor: float = 1.0


DONE = Result()
#: A failure already reported (event, status): retry after the rate limiter's backoff.
RETRY = Result(rate_limited=True)


class TerminalError(Exception):
    """A failure that retrying cannot fix: the runtime logs it and does not requeue the key."""


@dataclass
class Backoff:
    base: float = 1.0
    cap: float = 300.0

    def delay(self, failures: int, factor: float = 1.0) -> float:
        delay = min(self.cap, self.base * (2 ** max(0, failures - 1)))
        if factor != 1.0:
            delay = min(self.cap, delay * factor)
        return float(delay)


class WorkQueue:
    """client-go's workqueue: a key is queued at most once and never processed concurrently."""

    def __init__(self, clock: Clock, backoff: Backoff | None = None, *, hold_backoff: bool = False) -> None:
        self.clock = clock
        self.backoff = backoff or Backoff()
        #: Whether a failed key sits out its backoff even when an event adds it again sooner.
        self.hold_backoff = hold_backoff
        self._hold_until: dict[Key, float] = {}
        self._ready: deque[Key] = deque()
        self._queued: set[Key] = set()
        self._processing: set[Key] = set()
        self._dirty: set[Key] = set()
        self._failures: dict[Key, int] = {}
        self._timers: dict[Key, TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self.shutting_down = False
        #: Called whenever a key becomes ready (the controller starts a worker if none is free).
        self.on_ready: Callable[[], None] | None = None

    def add(self, key: Key) -> None:
        if self.shutting_down:
            return
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._processing:
            self._dirty.add(key)
            return
        if key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
            self._wakeup.set()
            if self.on_ready is not None:
                self.on_ready()

    def add_after(self, key: Key, delay: float, *, daemon: bool = False) -> None:
        if delay <= 0:
            self.add(key)
            return
        if key in self._timers or key in self._queued:
            return
        self._timers[key] = self.clock.call_later(delay, lambda: self._fire(key), daemon=daemon)

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: Key, factor: float = 1.0) -> float:
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = self.backoff.delay(failures, factor)
        if self.hold_backoff:
            self._hold_until[key] = self.clock.now() + delay
        self.add_after(key, delay)
        return delay

    def forget(self, key: Key) -> None:
        """The key succeeded (or is gone): its next failure starts the backoff again."""
        self._failures.pop(key, None)
        self._hold_until.pop(key, None)

    def expedite(self, key: Key) -> None:
        """News for a failed key (another object changed): let it run as soon as it is added."""
        self._hold_until.pop(key, None)

    def held_for(self, key: Key) -> float:
        """Seconds the key still has to sit out its backoff (``hold_backoff`` queues only)."""
        until = self._hold_until.get(key)
        return 0.0 if until is None else max(0.0, until - self.clock.now())

    async def get(self) -> Key:
        while not self._ready:
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._ready.popleft()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: Key) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def busy(self) -> bool:
        return bool(self._ready or self._processing)

    def __len__(self) -> int:
        return len(self._ready)

    def shutdown(self) -> None:
        self.shutting_down = True
        self.on_ready = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._wakeup.set()


async def wait_cancelled(tasks: list[asyncio.Task[Any]]) -> None:
    """Wait until cancelled tasks have ended, all in one pass of the event loop rather than one
    pass per task; what they raise on the way out is theirs (retrieved, so never logged)."""
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()


async def get_or_none(client: Client, resource: str, name: str, namespace: str | None = None) -> JSON | None:
    """GET an object, or None when it is gone: the first step of most reconciles."""
    try:
        return await client.get(resource, name, namespace)
    except ApiError as err:
        if err.code == 404:
            return None
        raise


def namespaced_key(obj: JSON) -> Key:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


def split_key(key: Key) -> tuple[str | None, str]:
    if "/" in key:
        ns, name = key.split("/", 1)
        return ns, name
    return None, key


class Controller:
    """Base class: subclasses set ``name``, build informers in ``setup`` and implement ``reconcile``."""

    name = "controller"
    workers = 1
    resync_period: float | None = None
    backoff = Backoff()
    #: Failures the controller expects and has already reported (event, status): retried through
    #: the rate limiter like any error, but logged quietly.
    expected_errors: tuple[type[Exception], ...] = ()
    #: Whether a failed key sits out its backoff even when its own status write (or any event)
    #: adds it again sooner, as upstream's per-operation backoff does; ``queue.expedite`` lifts it.
    hold_backoff = False

    def __init__(self, client: Client, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.queue = WorkQueue(clock, self.backoff, hold_backoff=self.hold_backoff)
        self.informers: dict[str, Informer] = {}
        self._tasks: list[asyncio.Task[Any]] = []
        self._reconciling = 0   # workers inside a reconcile (the others wait for a key)
        # Where start() ran (the component's logging context): workers started later, from
        # whichever task added a key, still run and log as this controller.
        self._context: contextvars.Context | None = None
        self._resync_timer: TimerHandle | None = None
        self._handlers: list[tuple[Informer, Handler]] = []
        self._acquired: list[Informer] = []
        self.errors = 0

    def use_backoff(self, backoff: Backoff) -> None:
        """Retry with ``backoff`` (configured timings) instead of the class default."""
        self.queue.backoff = backoff

    def informer(self, resource: str, *, namespace: str | None = None, label_selector: str | None = None,
                 field_selector: str | None = None,
                 key_of: Callable[[str, JSON, JSON | None], Iterable[Key]] | None = None,
                 transform: Callable[[JSON], JSON] | None = None) -> Informer:
        """Create (once) an informer whose changes enqueue ``key_of(...)`` (default: the object's key)."""
        inf = self.informers.get(resource)
        if inf is None:
            if namespace is None and label_selector is None and field_selector is None and transform is None:
                inf = shared_informer(self.client, resource, self.clock)
            else:
                inf = Informer(self.client, resource, namespace, label_selector=label_selector,
                               field_selector=field_selector, clock=self.clock, transform=transform)
            self.informers[resource] = inf
        if key_of is not None:
            mapper = key_of

            def handler(event: str, obj: JSON, old: JSON | None) -> None:
                for key in mapper(event, obj, old):
                    self.queue.add(key)

            self.add_handler(inf, handler)
        return inf

    def add_handler(self, inf: Informer, handler: Handler) -> None:
        """Call ``handler`` on the changes ``inf`` sees, until this controller stops."""
        inf.add_handler(handler)
        self._handlers.append((inf, handler))

    def setup(self) -> None:
        """Declare informers (``self.informer(...)``) here."""

    async def reconcile(self, key: Key) -> Result:
        raise NotImplementedError

    def resync_keys(self) -> Iterable[Key]:
        """Keys to revisit on every periodic resync (default: none)."""
        return ()

    async def start(self) -> None:
        self.setup()
        for inf in self.informers.values():
            already = inf.synced   # shared and started by another controller: replay its cache to us
            inf.acquire()
            self._acquired.append(inf)
            await inf.start()
            if already:
                for owner, handler in self._handlers:
                    if owner is inf:
                        inf.replay(handler)
        # Workers start on demand, up to ``workers``: an idle controller of an idle cluster runs
        # no task at all (a cluster has ~30 controllers, the provisioner alone 100 workers).
        self._context = contextvars.copy_context()
        self.queue.on_ready = self._add_workers
        self._add_workers()
        if self.resync_period:
            self._schedule_resync()

    def _add_workers(self) -> None:
        """Start a worker for each ready key no free worker will take, up to ``workers``."""
        while len(self._tasks) < self.workers and len(self.queue) > len(self._tasks) - self._reconciling:
            context = self._context.copy() if self._context is not None else None
            self._tasks.append(asyncio.create_task(self._worker(), name=f"{self.name}-worker", context=context))

    def _schedule_resync(self) -> None:
        assert self.resync_period is not None

        def fire() -> None:
            for key in self.resync_keys():
                self.queue.add(key)
            self._schedule_resync()

        self._resync_timer = self.clock.call_later(self.resync_period, fire, daemon=True)

    async def stop(self) -> None:
        self.queue.shutdown()
        if self._resync_timer is not None:
            self._resync_timer.cancel()
        # A shared informer others still use calls us no more; and as our handlers close over
        # us, dropping them lets a stopped controller be freed without a cyclic collection.
        handlers, self._handlers = self._handlers, []
        for inf, handler in handlers:
            inf.remove_handler(handler)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        acquired, self._acquired = self._acquired, []
        for inf in acquired:
            if inf.release():
                informer_task = inf.cancel()
                if informer_task is not None:
                    tasks.append(informer_task)
        await wait_cancelled(tasks)
        await flush_events(self.client)   # over HTTP: the events it recorded are written before it ends

    def busy(self) -> bool:
        return self.queue.busy()

    async def _worker(self) -> None:
        while not self.queue.shutting_down:
            key = await self.queue.get()
            if self.queue.shutting_down:
                break
            self._reconciling += 1
            try:
                held = self.queue.held_for(key)
                if held > 0:
                    self.queue.add_after(key, held)  # still backing off: an event does not cut it short
                    continue
                result = await self.reconcile(key)
            except asyncio.CancelledError:
                raise
            except TerminalError as exc:
                self.queue.forget(key)
                log.info("%s: %s: %s; not retried", self.name, key, exc)
            except self.expected_errors as exc:
                delay = self.queue.add_rate_limited(key)
                log.info("%s: %s: %s; retry in %.0fs", self.name, key, exc, delay)
            except Exception as exc:
                self.errors += 1
                delay = self.queue.add_rate_limited(key)
                if isinstance(exc, ApiError) and exc.code == 409:
                    log.debug("%s: conflict on %s, retry in %.0fs", self.name, key, delay)
                else:
                    log.warning("%s: reconcile %s failed (%s); retry in %.0fs", self.name, key, exc, delay,
                                exc_info=not isinstance(exc, ApiError))
            else:
                if result is not None and result.rate_limited:
                    self.queue.add_rate_limited(key, result.backoff_factor)
                else:
                    self.queue.forget(key)
                    if result is not None and result.requeue_after is not None:
                        self.queue.add_after(key, result.requeue_after)
            finally:
                self._reconciling -= 1
                self.queue.done(key)


C = TypeVar("C", bound="Controller")


class PerDriverControllers(Generic[C]):
    """What the cluster starts for a CSI sidecar: one controller per driver that needs it, run,
    stopped and reported on together (``busy``, ``errors``), as one sidecar container per driver."""

    def __init__(self) -> None:
        self.instances: dict[str, C] = {}

    async def stop(self) -> None:
        for inst in self.instances.values():
            with contextlib.suppress(Exception):
                await inst.stop()
        self.instances.clear()

    def busy(self) -> bool:
        return any(inst.busy() for inst in self.instances.values())

    @property
    def errors(self) -> int:
        return sum(inst.errors for inst in self.instances.values())
