"""One clock for the whole cluster.

Every timestamp, timeout, bookmark interval, controller delay and cloud operation reads a
:class:`Clock`, never ``time`` or ``asyncio.sleep`` directly. With :class:`VirtualClock` a test
can move time forward by hand, so scenarios that take minutes of cluster time (snapshot
progress, backoff, resync) run in milliseconds and deterministically.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What every component needs from time."""

    def now(self) -> float:
        """Wall-clock seconds since the epoch (for timestamps)."""

    def monotonic(self) -> float:
        """Seconds that only ever grow (for timeouts and intervals)."""

    async def sleep(self, seconds: float, *, daemon: bool = False) -> None:
        """Suspend the caller for ``seconds`` of this clock's time.

        ``daemon=True`` marks waits that are not work in progress (resyncs, heartbeats, watch
        timeouts): ``Cluster.settle()`` does not advance time just to reach them.
        """

    def call_later(self, delay: float, callback: Callable[[], object], *, daemon: bool = False) -> TimerHandle:
        """Run ``callback`` after ``delay`` seconds of this clock's time."""

    def next_deadline(self) -> float | None:
        """When the earliest pending non-daemon timer falls due (in ``monotonic()`` terms for
        the real clock, ``now()`` terms for the virtual one), or None."""


class _RealTimer:
    __slots__ = ("deadline", "handle", "clock")

    def __init__(self, clock: RealClock, deadline: float) -> None:
        self.clock = clock
        self.deadline = deadline
        self.handle: asyncio.TimerHandle | None = None

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
        self.clock._work.discard(self)


class RealClock:
    """The real clock: wall time for stamps, the event loop's clock for waiting."""

    is_virtual = False

    def __init__(self) -> None:
        self._work: set[_RealTimer] = set()

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float, *, daemon: bool = False) -> None:
        if daemon:
            await asyncio.sleep(max(0.0, seconds))
            return
        timer = _RealTimer(self, time.monotonic() + max(0.0, seconds))
        self._work.add(timer)
        try:
            await asyncio.sleep(max(0.0, seconds))
        finally:
            self._work.discard(timer)

    def call_later(self, delay: float, callback: Callable[[], object], *, daemon: bool = False) -> TimerHandle:
        loop = asyncio.get_running_loop()
        if daemon:
            return loop.call_later(max(0.0, delay), callback)
        timer = _RealTimer(self, time.monotonic() + max(0.0, delay))

        def fire() -> None:
            self._work.discard(timer)
            callback()

        timer.handle = loop.call_later(max(0.0, delay), fire)
        self._work.add(timer)
        return timer

    def next_deadline(self) -> float | None:
        return min((t.deadline for t in self._work), default=None)


def _noop() -> None:
    """What a fired or cancelled virtual timer holds instead of its callback."""


class _VirtualTimer:
    __slots__ = ("deadline", "seq", "callback", "cancelled", "daemon")

    def __init__(self, deadline: float, seq: int, callback: Callable[[], object], daemon: bool = False) -> None:
        self.deadline = deadline
        self.seq = seq
        self.callback = callback
        self.cancelled = False
        self.daemon = daemon

    def cancel(self) -> None:
        # Drop the callback too: a cancelled timer may wait in the heap until its deadline, and
        # a callback closing over its owner (who holds the timer) would keep both alive in a cycle.
        self.cancelled = True
        self.callback = _noop

    def __lt__(self, other: _VirtualTimer) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


class VirtualClock:
    """A clock that only moves when told to.

    ``advance(seconds)`` fires due timers in deadline order and lets the woken tasks run
    before moving on, so work scheduled by a timer callback at ``t`` sees ``now() == t``.
    """

    is_virtual = True

    def __init__(self, start: float | None = None) -> None:
        # Start at a whole second so timestamps in tests are stable and readable.
        self._now = float(int(start if start is not None else time.time()))
        self._start = self._now
        self._timers: list[_VirtualTimer] = []
        # Non-daemon timers again, so next_deadline() (asked on every settle round) is O(log n)
        # rather than a scan of thousands of daemon timers; fired or cancelled ones drop lazily.
        self._work: list[_VirtualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    def call_later(self, delay: float, callback: Callable[[], object], *, daemon: bool = False) -> TimerHandle:
        timer = _VirtualTimer(self._now + max(0.0, delay), next(self._seq), callback, daemon)
        heapq.heappush(self._timers, timer)
        if not daemon:
            heapq.heappush(self._work, timer)
        return timer

    async def sleep(self, seconds: float, *, daemon: bool = False) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        handle = self.call_later(seconds, wake, daemon=daemon)
        try:
            await future
        finally:
            handle.cancel()

    def next_deadline(self, include_daemon: bool = False) -> float | None:
        """The time of the earliest pending timer, or None when nothing is scheduled.

        Daemon timers (resyncs, heartbeats) count only with ``include_daemon``.
        """
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        if include_daemon:
            return self._timers[0].deadline if self._timers else None
        while self._work and self._work[0].cancelled:
            heapq.heappop(self._work)
        return self._work[0].deadline if self._work else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every timer that falls due on the way."""
        await self.advance_to(self._now + max(0.0, seconds))

    async def advance_to(self, target: float) -> None:
        while True:
            deadline = self.next_deadline(include_daemon=True)
            if deadline is None or deadline > target:
                break
            timer = heapq.heappop(self._timers)
            timer.cancelled = True   # fired: drops out of the non-daemon heap too
            self._now = max(self._now, timer.deadline)
            callback, timer.callback = timer.callback, _noop
            callback()
            await _let_tasks_run()
        self._now = max(self._now, target)
        await _let_tasks_run()


async def _let_tasks_run(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def rfc3339(epoch: float) -> str:
    """Kubernetes ``metav1.Time``: RFC 3339 in UTC with whole seconds."""
    global _last_second
    second = int(epoch)
    if second == _last_second[0]:
        return _last_second[1]  # every write stamps the time; most land in the same second
    text = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_second = (second, text)
    return text


_last_second: tuple[int | None, str] = (None, "")


def rfc3339_micro(epoch: float) -> str:
    """Kubernetes ``metav1.MicroTime``: RFC 3339 in UTC with microseconds."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> float | None:
    """Parse a Kubernetes timestamp (Time or MicroTime); None if it cannot be read."""
    try:
        text = value.replace("Z", "+00:00")
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, AttributeError):
        return None
