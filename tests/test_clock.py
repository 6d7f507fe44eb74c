"""The cluster clock: virtual time moves only when told to, firing timers in order."""

from __future__ import annotations

import asyncio

from minikube_lite.clock import RealClock, VirtualClock, parse_time, rfc3339, rfc3339_micro


async def test_virtual_sleep_wakes_only_when_time_is_advanced() -> None:
    clock = VirtualClock(start=1_000_000)
    woke: list[float] = []

    async def sleeper(delay: float) -> None:
        await clock.sleep(delay)
        woke.append(clock.now())

    tasks = [asyncio.create_task(sleeper(d)) for d in (5, 1, 3)]
    await asyncio.sleep(0)
    await clock.advance(2)
    assert woke == [1_000_001]
    await clock.advance(10)
    assert woke == [1_000_001, 1_000_003, 1_000_005]
    assert clock.now() == 1_000_012
    await asyncio.gather(*tasks)


async def test_daemon_timers_do_not_count_as_pending_work() -> None:
    clock = VirtualClock(start=0)
    fired: list[str] = []
    clock.call_later(10, lambda: fired.append("resync"), daemon=True)
    handle = clock.call_later(3, lambda: fired.append("work"))
    assert clock.next_deadline() == 3
    assert clock.next_deadline(include_daemon=True) == 3
    handle.cancel()
    assert clock.next_deadline() is None
    assert clock.next_deadline(include_daemon=True) == 10
    await clock.advance(10)
    assert fired == ["resync"]


async def test_real_clock_tracks_pending_work_timers() -> None:
    clock = RealClock()
    assert clock.next_deadline() is None
    task = asyncio.create_task(clock.sleep(0.05))
    await asyncio.sleep(0)
    assert clock.next_deadline() is not None
    await task
    assert clock.next_deadline() is None


def test_timestamp_formats() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00Z"
    assert rfc3339_micro(1.5) == "1970-01-01T00:00:01.500000Z"
    assert parse_time("1970-01-01T00:00:10Z") == 10
    assert parse_time("not a time") is None
