"""Leader election over a Lease, on the in-process cluster with a virtual clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from minikube_lite.client.leaderelection import (
    MSG_BECAME_LEADER,
    REASON_LEADER_ELECTION,
    LeaderElectionConfig,
    LeaderElector,
)
from minikube_lite.clock import VirtualClock, parse_time
from minikube_lite.cluster import Cluster

LEASE = "kube-controller-manager"
DURATION, DEADLINE, RETRY = 15.0, 10.0, 2.0


@pytest_asyncio.fixture
async def bare() -> AsyncIterator[Cluster]:
    async with Cluster(clock=VirtualClock(), components=False) as c:
        yield c


class Candidate:
    """One elector running as a task, with a log of its callbacks."""

    def __init__(self, cluster: Cluster, identity: str, *, client: Any = None, release: bool = True) -> None:
        self.log: list[tuple[str, float]] = []
        self.clock = cluster.clock
        config = LeaderElectionConfig(LEASE, identity=identity, lease_duration=DURATION, renew_deadline=DEADLINE,
                                      retry_period=RETRY, release_on_cancel=release)
        self.elector = LeaderElector(client or cluster.client, cluster.clock, config,
                                     on_started_leading=self._started, on_stopped_leading=self._stopped,
                                     component="kube-controller-manager", rng=random.Random(7))
        self.task = asyncio.create_task(self.elector.run())

    async def _started(self) -> None:
        self.log.append(("started", self.clock.now()))

    async def _stopped(self) -> None:
        self.log.append(("stopped", self.clock.now()))

    async def kill(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


class FailingWrites:
    """The real client, but writes fail as if the network to the API server were cut."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cut = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def update(self, *args: Any, **kwargs: Any) -> Any:
        if self.cut:
            raise OSError("connection refused")
        return await self.client.update(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        if self.cut:
            raise OSError("connection refused")
        return await self.client.get(*args, **kwargs)


async def lease(cluster: Cluster) -> dict[str, Any]:
    spec: dict[str, Any] = (await cluster.client.get("leases", LEASE, "kube-system"))["spec"]
    return spec


async def run_for(cluster: Cluster, seconds: float, step: float = 0.1) -> None:
    """Advance the virtual clock in small steps, letting the electors' requests finish between."""
    end = cluster.clock.now() + seconds
    while cluster.clock.now() < end - 1e-9:
        await cluster.clock.advance(min(step, end - cluster.clock.now()))  # type: ignore[attr-defined]


async def advance_until(cluster: Cluster, done: Any, limit: float, step: float = 0.1) -> float:
    """Advance the virtual clock in small steps until ``done()``; the elapsed seconds."""
    start = cluster.clock.now()
    while not done():
        assert cluster.clock.now() - start <= limit, "condition not reached in time"
        await cluster.clock.advance(step)  # type: ignore[attr-defined]
    return cluster.clock.now() - start


async def test_first_candidate_acquires_the_lease_and_records_the_event(bare: Cluster) -> None:
    a = Candidate(bare, "host-a_1")
    await advance_until(bare, lambda: a.elector.leading, 1)
    spec = await lease(bare)
    assert spec["holderIdentity"] == "host-a_1"
    assert spec["leaseDurationSeconds"] == 15
    assert spec["leaseTransitions"] == 0
    assert parse_time(spec["acquireTime"]) <= parse_time(spec["renewTime"])  # type: ignore[operator]
    assert [entry for entry, _ in a.log] == ["started"]
    events = (await bare.client.list("events", "kube-system"))["items"]
    election = [e for e in events if e["reason"] == REASON_LEADER_ELECTION]
    assert len(election) == 1
    assert election[0]["message"] == MSG_BECAME_LEADER % "host-a_1" == "host-a_1 became leader"
    assert election[0]["involvedObject"]["kind"] == "Lease"
    assert election[0]["involvedObject"]["name"] == LEASE
    assert election[0]["source"]["component"] == "kube-controller-manager"
    await a.kill()


async def test_the_leader_renews_and_the_standby_waits(bare: Cluster) -> None:
    a = Candidate(bare, "a")
    await advance_until(bare, lambda: a.elector.leading, 1)
    first = await lease(bare)
    b = Candidate(bare, "b")
    await run_for(bare, 60)
    later = await lease(bare)
    assert later["holderIdentity"] == "a"
    assert not b.elector.leading and b.log == []
    assert b.elector.leader == "a"
    assert later["acquireTime"] == first["acquireTime"]
    assert parse_time(later["renewTime"]) - parse_time(first["renewTime"]) >= 60 - 2 * RETRY  # type: ignore[operator]
    assert later["leaseTransitions"] == 0
    await a.kill()
    await b.kill()


async def test_standby_takes_over_a_dead_leader_within_the_lease_duration(bare: Cluster) -> None:
    a = Candidate(bare, "a", release=False)
    await advance_until(bare, lambda: a.elector.leading, 1)
    b = Candidate(bare, "b")
    await run_for(bare, 7)
    before = await lease(bare)
    await a.kill()  # no release: as a SIGKILLed process, the Lease just stops being renewed
    took = await advance_until(bare, lambda: b.elector.leading, DURATION + RETRY * (1 + 1.2))
    assert took >= DURATION - RETRY  # never while the dead leader's lease could still be valid
    after = await lease(bare)
    assert after["holderIdentity"] == "b"
    assert after["leaseTransitions"] == before["leaseTransitions"] + 1 == 1
    assert after["acquireTime"] != before["acquireTime"]
    assert [entry for entry, _ in b.log] == ["started"]
    messages = [e["message"] for e in (await bare.client.list("events", "kube-system"))["items"]
                if e["reason"] == REASON_LEADER_ELECTION]
    assert messages == ["a became leader", "b became leader"]
    await b.kill()


async def test_a_clean_stop_releases_the_lease_for_a_fast_takeover(bare: Cluster) -> None:
    a = Candidate(bare, "a")
    await advance_until(bare, lambda: a.elector.leading, 1)
    b = Candidate(bare, "b")
    await run_for(bare, 5)
    await a.kill()
    assert [entry for entry, _ in a.log] == ["started", "stopped"]
    released = await lease(bare)
    assert "holderIdentity" not in released and released["leaseDurationSeconds"] == 1
    took = await advance_until(bare, lambda: b.elector.leading, 2 * RETRY * (1 + 1.2))
    assert took < DURATION
    assert (await lease(bare))["leaseTransitions"] == 1
    await b.kill()


async def test_a_leader_that_cannot_renew_stops_before_anyone_else_may_lead(bare: Cluster) -> None:
    cut = FailingWrites(bare.client)
    a = Candidate(bare, "a", client=cut)
    await advance_until(bare, lambda: a.elector.leading, 1)
    b = Candidate(bare, "b")
    await run_for(bare, 3)
    cut.cut = True
    cut_at = bare.clock.now()
    await advance_until(bare, lambda: a.task.done(), DEADLINE + 2 * RETRY)
    await a.task  # run() returns normally: leadership lost
    stopped_at = a.log[-1][1]
    assert [entry for entry, _ in a.log] == ["started", "stopped"]
    assert stopped_at - cut_at <= DEADLINE + RETRY
    await advance_until(bare, lambda: b.elector.leading, DURATION + 2 * RETRY * (1 + 1.2))
    assert b.log[0][1] > stopped_at  # the old leader had stopped its work before the new one started
    assert (await lease(bare))["holderIdentity"] == "b"
    await b.kill()


async def test_a_write_on_a_stale_resource_version_loses_the_race(bare: Cluster) -> None:
    """Two candidates read an expired Lease; the one that writes second gets 409 and does not lead."""
    await bare.client.create("leases", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": LEASE, "namespace": "kube-system"},
        "spec": {"holderIdentity": "", "leaseDurationSeconds": 15, "leaseTransitions": 4}}, "kube-system")

    class WinnerWritesFirst:
        """Between the loser's read and its write, the winner takes the Lease."""

        def __init__(self, client: Any, winner: LeaderElector) -> None:
            self.client, self.winner = client, winner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.client, name)

        async def update(self, *args: Any, **kwargs: Any) -> Any:
            assert await self.winner.try_acquire_or_renew()
            return await self.client.update(*args, **kwargs)

    config = {"lease_duration": DURATION, "renew_deadline": DEADLINE, "retry_period": RETRY}
    winner = LeaderElector(bare.client, bare.clock, LeaderElectionConfig(LEASE, identity="w", **config))
    loser = LeaderElector(WinnerWritesFirst(bare.client, winner), bare.clock,
                          LeaderElectionConfig(LEASE, identity="l", **config))
    assert not await loser.try_acquire_or_renew()
    assert not loser.is_leader()
    spec = await lease(bare)
    assert spec["holderIdentity"] == "w"
    assert spec["leaseTransitions"] == 5
    # The loser's next try sees the winner's fresh record and leaves it alone.
    assert not await loser.try_acquire_or_renew()
    assert loser.leader == "w"


async def test_a_lost_create_race_is_not_leadership(bare: Cluster) -> None:
    config = {"lease_duration": DURATION, "renew_deadline": DEADLINE, "retry_period": RETRY}
    first = LeaderElector(bare.client, bare.clock, LeaderElectionConfig(LEASE, identity="1", **config))
    second = LeaderElector(bare.client, bare.clock, LeaderElectionConfig(LEASE, identity="2", **config))
    results = await asyncio.gather(first.try_acquire_or_renew(), second.try_acquire_or_renew())
    assert sorted(results) == [False, True]
    assert (await lease(bare))["holderIdentity"] == ("1" if results[0] else "2")


def test_timings_are_configuration_and_checked_as_client_go_checks_them() -> None:
    from minikube_lite.config import Timings

    default = LeaderElectionConfig.from_timings(LEASE)
    assert (default.lease_duration, default.renew_deadline, default.retry_period) == (15.0, 10.0, 2.0)
    assert default.identity.count("_") >= 1 and default.namespace == "kube-system"
    timings = Timings.model_validate({"leaderElectionLeaseDuration": "4s", "leaderElectionRenewDeadline": "3s",
                                      "leaderElectionRetryPeriod": "1s"})
    short = LeaderElectionConfig.from_timings(LEASE, timings)
    assert (short.lease_duration, short.renew_deadline, short.retry_period) == (4.0, 3.0, 1.0)
    with pytest.raises(ValueError, match="leaseDuration must be greater than renewDeadline"):
        LeaderElectionConfig(LEASE, lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="renewDeadline must be greater than retryPeriod"):
        LeaderElectionConfig(LEASE, renew_deadline=2, retry_period=2)
