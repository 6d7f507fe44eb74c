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

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for ``seconds`` of this clock's time."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        """Run ``callback`` after ``delay`` seconds of this clock's time."""


class RealClock:
    """The real clock: wall time for stamps, the event loop's clock for waiting."""

    is_virtual = False

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


class _VirtualTimer:
    __slots__ = ("deadline", "seq", "callback", "cancelled")

    def __init__(self, deadline: float, seq: int, callback: Callable[[], object]) -> None:
        self.deadline = deadline
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

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
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        timer = _VirtualTimer(self._now + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        handle = self.call_later(seconds, wake)
        try:
            await future
        finally:
            handle.cancel()

    def next_deadline(self) -> float | None:
        """The time of the earliest pending timer, or None when nothing is scheduled."""
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].deadline if self._timers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every timer that falls due on the way."""
        await self.advance_to(self._now + max(0.0, seconds))

    async def advance_to(self, target: float) -> None:
        while True:
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.deadline)
            timer.callback()
            await _let_tasks_run()
        self._now = max(self._now, target)
        await _let_tasks_run()


async def _let_tasks_run(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def rfc3339(epoch: float) -> str:
    """Kubernetes ``metav1.Time``: RFC 3339 in UTC with whole seconds."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
