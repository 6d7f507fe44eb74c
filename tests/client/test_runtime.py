"""The controller runtime is the one retry rule: errors back off, expected failures back off quietly,
terminal errors stop, ``requeue_after`` comes back once, and a held key sits out its backoff."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from minikube_lite.client.runtime import RETRY, Backoff, Controller, Result, TerminalError
from minikube_lite.clock import VirtualClock


class Expected(Exception):
    pass


class Recorder(Controller):
    """Runs ``script`` one outcome per reconcile and records when each reconcile ran."""

    name = "recorder"
    backoff = Backoff(1.0, 8.0)
    expected_errors = (Expected,)

    def __init__(self, clock: VirtualClock, script: list[object]) -> None:
        super().__init__(None, clock)  # type: ignore[arg-type]  # no informers: the client is never used
        self.script = script
        self.runs: list[float] = []

    async def reconcile(self, key: str) -> Result:
        self.runs.append(self.clock.now())
        outcome = self.script.pop(0) if self.script else Result()
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, Result)
        return outcome


class Held(Recorder):
    hold_backoff = True


async def run(controller: Recorder, clock: VirtualClock, seconds: float) -> None:
    await controller.start()
    controller.queue.add("k")
    for _ in range(int(seconds * 2)):
        await asyncio.sleep(0)
        await clock.advance(0.5)
    await asyncio.sleep(0)
    await controller.stop()


@pytest.mark.parametrize("failure", [RuntimeError("boom"), Expected("reported"), RETRY])
async def test_failures_retry_with_doubling_backoff_up_to_the_cap(failure: object) -> None:
    clock = VirtualClock(start=0)
    c = Recorder(clock, [failure] * 5)
    await run(c, clock, 30)
    assert c.runs == [0.0, 1.0, 3.0, 7.0, 15.0, 23.0]  # 1, 2, 4, 8, then capped at 8; the 6th succeeds
    assert c.errors == (5 if isinstance(failure, RuntimeError) else 0)  # expected failures are quiet


async def test_a_backoff_factor_stretches_the_delay_within_the_cap() -> None:
    clock = VirtualClock(start=0)
    c = Recorder(clock, [Result(rate_limited=True, backoff_factor=3), Result(rate_limited=True, backoff_factor=3)])
    await run(c, clock, 12)
    assert c.runs == [0.0, 3.0, 9.0]  # 1*3, then min(8, 2*3)


async def test_a_terminal_error_is_not_retried() -> None:
    clock = VirtualClock(start=0)
    c = Recorder(clock, [TerminalError("not ours")])
    await run(c, clock, 20)
    assert c.runs == [0.0] and c.errors == 0


async def test_requeue_after_comes_back_once_and_forgets_the_failures() -> None:
    clock = VirtualClock(start=0)
    c = Recorder(clock, [Expected("x"), Expected("y"), Result(requeue_after=5), Expected("z")])
    await run(c, clock, 20)
    # 0 fails (1 s), 1 fails (2 s), 3 asks for 5 s, 8 fails: the backoff starts again at 1 s.
    assert c.runs == [0.0, 1.0, 3.0, 8.0, 9.0]


async def test_a_held_key_sits_out_its_backoff_unless_expedited() -> None:
    clock = VirtualClock(start=0)
    held = Held(clock, [Expected("x")])
    await held.start()
    held.queue.add("k")
    await asyncio.sleep(0)
    await clock.advance(0.25)
    held.queue.add("k")          # our own status write, say: not news
    for _ in range(8):
        await asyncio.sleep(0)
        await clock.advance(0.25)
    await held.stop()
    assert held.runs == [0.0, 1.0]

    clock = VirtualClock(start=0)
    news = Held(clock, [Expected("x")])
    await news.start()
    news.queue.add("k")
    await asyncio.sleep(0)
    await clock.advance(0.25)
    news.queue.expedite("k")     # another object changed: run now
    news.queue.add("k")
    for _ in range(2):
        await asyncio.sleep(0)
        await clock.advance(0.25)
    await news.stop()
    assert news.runs[:2] == [0.0, 0.25]


class Gate(Controller):
    """Every reconcile waits at a gate; records how many run at once."""

    name = "gate"
    workers = 3

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(None, clock)  # type: ignore[arg-type]  # no informers: the client is never used
        self.gate = asyncio.Event()
        self.running = 0
        self.most = 0
        self.done: list[str] = []

    async def reconcile(self, key: str) -> Result:
        self.running += 1
        self.most = max(self.most, self.running)
        await self.gate.wait()
        self.running -= 1
        self.done.append(key)
        return Result()


async def settle_tasks() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_workers_start_on_demand_up_to_the_worker_count() -> None:
    c = Gate(VirtualClock(start=0))
    await c.start()
    assert c._tasks == []   # an idle controller runs no task
    c.queue.add("a")
    await settle_tasks()
    assert len(c._tasks) == 1 and c.running == 1
    for key in "bcde":
        c.queue.add(key)
    await settle_tasks()
    assert len(c._tasks) == 3 and c.most == 3   # never more than ``workers`` at once
    c.gate.set()
    await settle_tasks()
    assert sorted(c.done) == ["a", "b", "c", "d", "e"] and c.most == 3
    c.queue.add("f")   # a free worker takes it: no new task
    await settle_tasks()
    assert len(c._tasks) == 3 and c.done[-1] == "f"
    await c.stop()
    assert all(t.done() for t in c._tasks)


async def test_a_key_is_never_on_two_workers_at_once() -> None:
    """Added again while a worker has it, a key waits and runs once more after (client-go's workqueue)."""
    c = Gate(VirtualClock(start=0))
    await c.start()
    c.queue.add("a")
    await settle_tasks()
    c.queue.add("a")
    c.queue.add("a")
    c.queue.add("b")
    await settle_tasks()
    assert c.running == 2 and len(c._tasks) == 2   # "b" got a worker; the second "a" did not
    c.gate.set()
    await settle_tasks()
    assert sorted(c.done) == ["a", "a", "b"] and c.most == 2
    await c.stop()


async def test_keys_queued_before_start_wait_for_it() -> None:
    """Workers start only once the informers have synced, as they always did."""
    c = Gate(VirtualClock(start=0))
    c.gate.set()
    c.queue.add("early")
    await settle_tasks()
    assert c.done == [] and c._tasks == []
    await c.start()
    await settle_tasks()
    assert c.done == ["early"]
    await c.stop()


WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


class Whoami(Controller):
    name = "whoami"

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(None, clock)  # type: ignore[arg-type]  # no informers: the client is never used
        self.seen: list[str] = []

    async def reconcile(self, key: str) -> Result:
        self.seen.append(WHO.get())
        return Result()


async def test_a_worker_started_on_demand_runs_in_the_context_the_controller_started_in() -> None:
    """The cluster starts each controller in its component's logging context: workers started
    later by another task (an informer's, a timer's) still log as that component."""
    c = Whoami(VirtualClock(start=0))
    started = contextvars.copy_context()
    started.run(WHO.set, "kube-scheduler")
    await asyncio.create_task(c.start(), context=started)
    WHO.set("someone else")
    c.queue.add("k")
    await settle_tasks()
    assert c.seen == ["kube-scheduler"]
    await c.stop()
