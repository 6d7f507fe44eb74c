"""Leader election over a coordination.k8s.io/v1 Lease, as client-go's ``tools/leaderelection``.

Why: two copies of a component (two controller-managers, two schedulers) may run against one
API server; only the holder of the Lease may act, or both would provision the same claim. The
rules are client-go's, so a real ``kubectl get lease -n kube-system`` reads the same fields:

- a candidate tries every ``retry_period`` (with client-go's 1.2 jitter) to create or take the
  Lease; it may take it only when the holder is empty or the record has not changed for
  ``leaseDurationSeconds`` of the candidate's *own* clock since it last saw it change (clocks
  of different machines are never compared);
- the leader renews every ``retry_period``; when no renewal succeeds within ``renew_deadline``
  it stops leading (its controllers stop) before another candidate may take over;
- every write carries the read ``resourceVersion``, so two candidates racing for one Lease
  cannot both win: the loser gets 409 Conflict and tries again later;
- ``acquireTime`` and ``leaseTransitions`` change only when the holder changes; taking a Lease
  records the event ``LeaderElection`` "<identity> became leader" on it, losing one
  "<identity> stopped leading".
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..apiserver.errors import ApiError
from ..clock import Clock, rfc3339_micro
from ..config.timings import DEFAULT_TIMINGS, Timings
from .base import JSON, Client
from .events import NORMAL, EventRecorder

log = logging.getLogger(__name__)

LEASES = "leases"
LEASE_NAMESPACE = "kube-system"
#: The Lease names of upstream's components (``--leader-elect-resource-name`` defaults).
CONTROLLER_MANAGER_LEASE = "kube-controller-manager"
SCHEDULER_LEASE = "kube-scheduler"
#: wait.JitterUntil's factor in client-go's acquire loop: each wait is period * (1 + rand * 1.2).
JITTER_FACTOR = 1.2

REASON_LEADER_ELECTION = "LeaderElection"
MSG_BECAME_LEADER = "%s became leader"
MSG_STOPPED_LEADING = "%s stopped leading"


def default_identity() -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager and kube-scheduler name themselves."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True)
class LeaderElectionConfig:
    name: str
    namespace: str = LEASE_NAMESPACE
    identity: str = field(default_factory=default_identity)
    #: client-go's defaults, declared once as the ``leaderElection*`` Timings.
    lease_duration: float = DEFAULT_TIMINGS.leaderElectionLeaseDuration
    renew_deadline: float = DEFAULT_TIMINGS.leaderElectionRenewDeadline
    retry_period: float = DEFAULT_TIMINGS.leaderElectionRetryPeriod
    #: Give the Lease up on a clean stop, so a standby need not wait out the lease duration.
    release_on_cancel: bool = True

    def __post_init__(self) -> None:
        # client-go's NewLeaderElector checks, with its messages.
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("leaseDuration must be greater than renewDeadline")
        if self.renew_deadline <= JITTER_FACTOR * self.retry_period:
            raise ValueError("renewDeadline must be greater than retryPeriod*JitterFactor")
        if self.retry_period < 0.001 or self.lease_duration < 0.001:
            raise ValueError("retryPeriod and leaseDuration must be positive")

    @classmethod
    def from_timings(cls, name: str, timings: Timings = DEFAULT_TIMINGS, **overrides: Any) -> LeaderElectionConfig:
        """The config of Lease ``name``, with the ``leaderElection*`` timings of a ClusterConfig."""
        values: dict[str, Any] = {
            "lease_duration": timings.leaderElectionLeaseDuration,
            "renew_deadline": timings.leaderElectionRenewDeadline,
            "retry_period": timings.leaderElectionRetryPeriod,
        }
        values.update(overrides)
        return cls(name=name, **values)


Callback = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class LeaderElector:
    """Run ``on_started_leading`` while this process holds the Lease; ``on_stopped_leading`` after.

    ``await run()`` returns when leadership is lost (the caller decides: upstream components
    exit); cancelling it while leading stops the callbacks' work and releases the Lease.
    """

    def __init__(self, client: Client, clock: Clock, config: LeaderElectionConfig, *,
                 on_started_leading: Callback = _nothing, on_stopped_leading: Callback = _nothing,
                 component: str = "", rng: random.Random | None = None) -> None:
        self.client = client
        self.clock = clock
        self.config = config
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.recorder = EventRecorder(client, component or config.name, clock)
        self._rng = rng or random.Random()
        #: The last Lease spec seen, and when (this clock's monotonic time) it last changed.
        self.observed: JSON = {}
        self.observed_time = 0.0
        self._lease: JSON | None = None
        self.leading = False

    # ------------------------------------------------------------------ public

    def is_leader(self) -> bool:
        return self.observed.get("holderIdentity") == self.config.identity

    @property
    def leader(self) -> str:
        """Who holds the Lease, as last observed ("" when nobody does)."""
        return str(self.observed.get("holderIdentity") or "")

    async def run(self) -> None:
        lost = False
        try:
            await self._acquire()
            self.leading = True
            log.info("successfully acquired lease %s/%s", self.config.namespace, self.config.name)
            await self._event(MSG_BECAME_LEADER)
            await self.on_started_leading()
            await self._renew()
            lost = True
        finally:
            if self.leading:
                self.leading = False
                try:
                    await self.on_stopped_leading()
                finally:
                    if lost:
                        await self._event(MSG_STOPPED_LEADING)
                    elif self.config.release_on_cancel:
                        await self.release()

    async def try_acquire_or_renew(self) -> bool:
        """One attempt, as client-go's ``tryAcquireOrRenew``: True when this process holds the Lease."""
        cfg = self.config
        now = rfc3339_micro(self.clock.now())
        desired: JSON = {"holderIdentity": cfg.identity, "leaseDurationSeconds": _seconds(cfg.lease_duration),
                         "acquireTime": now, "renewTime": now, "leaseTransitions": 0}
        try:
            lease = await self.client.get(LEASES, cfg.name, cfg.namespace)
        except ApiError as err:
            if err.code != 404:
                log.error("error retrieving resource lock %s/%s: %s", cfg.namespace, cfg.name, err)
                return False
            return await self._create(desired)
        current: JSON = dict(lease.get("spec") or {})
        if current != self.observed:
            self.observed = current
            self.observed_time = self.clock.monotonic()
        if current.get("holderIdentity") and self._lease_valid() and not self.is_leader():
            log.debug("lock is held by %s and has not yet expired", current.get("holderIdentity"))
            return False
        if self.is_leader():
            desired["acquireTime"] = current.get("acquireTime") or now
            desired["leaseTransitions"] = int(current.get("leaseTransitions") or 0)
        else:
            desired["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
        lease["spec"] = {**current, **desired}
        try:
            updated = await self.client.update(LEASES, lease, cfg.namespace)
        except ApiError as err:
            log.error("Failed to update lock: %s", err)
            return False
        self._observe(updated)
        return True

    async def release(self) -> bool:
        """Give the Lease up (client-go's ``release``): empty holder, a one-second duration."""
        if not self.is_leader() or self._lease is None:
            return True
        now = rfc3339_micro(self.clock.now())
        lease = dict(self._lease)
        lease["spec"] = {"leaseDurationSeconds": 1, "acquireTime": now, "renewTime": now,
                         "leaseTransitions": int(self.observed.get("leaseTransitions") or 0)}
        try:
            updated = await self.client.update(LEASES, lease, self.config.namespace)
        except (ApiError, OSError) as err:
            log.error("Failed to release lock: %s", err)
            return False
        self._observe(updated)
        return True

    # ------------------------------------------------------------------ loops

    async def _acquire(self) -> None:
        cfg = self.config
        log.info("attempting to acquire leader lease %s/%s...", cfg.namespace, cfg.name)
        reported = ""
        while not await self._attempt():
            if self.leader and self.leader != reported:
                reported = self.leader
                log.info("new leader elected: %s", reported)
            await self.clock.sleep(cfg.retry_period * (1 + self._rng.random() * JITTER_FACTOR), daemon=True)

    async def _renew(self) -> None:
        cfg = self.config
        while True:
            deadline = self.clock.monotonic() + cfg.renew_deadline
            while not await self._attempt():
                if self.clock.monotonic() + cfg.retry_period > deadline:
                    log.error("failed to renew lease %s/%s: timed out waiting for the condition",
                              cfg.namespace, cfg.name)
                    return
                await self.clock.sleep(cfg.retry_period, daemon=True)
            await self.clock.sleep(cfg.retry_period, daemon=True)

    async def _attempt(self) -> bool:
        """One try, bounded by the renew deadline as client-go bounds its request context."""
        try:
            # asyncio.timeout, not wait_for: wait_for may swallow a cancellation that arrives as
            # the attempt completes, and a cancelled leader must never go on renewing.
            async with asyncio.timeout(self.config.renew_deadline):
                return await self.try_acquire_or_renew()
        except (TimeoutError, OSError) as err:
            log.error("error retrieving resource lock %s/%s: %s", self.config.namespace, self.config.name,
                      err or type(err).__name__)
            return False
        except Exception as err:  # an HTTP client's connection errors (aiohttp.ClientError)
            if type(err).__module__.startswith("aiohttp"):
                log.error("error retrieving resource lock %s/%s: %s", self.config.namespace,
                          self.config.name, err)
                return False
            raise

    # ------------------------------------------------------------------ helpers

    async def _create(self, desired: JSON) -> bool:
        cfg = self.config
        body: JSON = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                      "metadata": {"name": cfg.name, "namespace": cfg.namespace}, "spec": desired}
        try:
            created = await self.client.create(LEASES, body, cfg.namespace)
        except ApiError as err:
            log.error("error initially creating leader election record: %s", err)
            return False
        self._observe(created)
        return True

    def _observe(self, lease: JSON) -> None:
        self._lease = lease
        self.observed = dict(lease.get("spec") or {})
        self.observed_time = self.clock.monotonic()

    def _lease_valid(self) -> bool:
        duration = float(self.observed.get("leaseDurationSeconds") or 0)
        return self.observed_time + duration > self.clock.monotonic()

    async def _event(self, message: str) -> None:
        if self._lease is None:
            return
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": self._lease["metadata"]}
        await self.recorder.event(lease, NORMAL, REASON_LEADER_ELECTION, message % self.config.identity)


def _seconds(value: float) -> int:
    """``leaseDurationSeconds`` is an int32; sub-second test timings round up to one second."""
    return max(1, round(value))


__all__ = ["LeaderElector", "LeaderElectionConfig", "default_identity", "CONTROLLER_MANAGER_LEASE",
           "SCHEDULER_LEASE", "REASON_LEADER_ELECTION", "MSG_BECAME_LEADER", "MSG_STOPPED_LEADING"]
