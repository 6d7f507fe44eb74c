"""``cluster.wait_for``: wait until an object reaches a condition, a phase or any predicate.

On a virtual clock the controllers run until idle, then time jumps to the next due timer and
the object is checked again at every step (``kubectl wait`` in cluster seconds, in
milliseconds of wall time); on the real clock the object is polled. A wait that runs out
raises :class:`WaitTimeout`, whose message carries what the object looks like (its
``status``) and its most recent events, so a failing test says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import yaml

from .apiserver.errors import ApiError
from .client.base import JSON, Client
from .clock import Clock, VirtualClock

#: How many of the object's events a timeout message shows (newest last).
EVENTS_SHOWN = 10
#: Polling interval on the real clock, in seconds.
POLL_INTERVAL = 0.05


class WaitTimeout(TimeoutError):
    """The condition did not hold in time. ``obj`` is the last object seen (None: it never existed)."""

    def __init__(self, message: str, obj: JSON | None, events: list[JSON]) -> None:
        super().__init__(message)
        self.obj = obj
        self.events = events


@dataclass(frozen=True)
class Expectation:
    """What ``wait_for`` waits for; every part given must hold (none given: the object exists)."""

    condition: str | None = None
    phase: str | None = None
    predicate: Callable[[JSON], bool] | None = None

    def holds(self, obj: JSON) -> bool:
        status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
        if self.phase is not None and (status or {}).get("phase") != self.phase:
            return False
        if self.condition is not None and not condition_holds(obj, self.condition):
            return False
        if self.predicate is None:
            return True
        try:
            return bool(self.predicate(obj))
        except (KeyError, IndexError, TypeError, AttributeError):
            return False    # a field the predicate reads is not there yet: not yet, as kubectl's jsonpath waits

    def describe(self) -> str:
        parts = []
        if self.condition is not None:
            parts.append(f"condition={self.condition}")
        if self.phase is not None:
            parts.append(f"phase={self.phase}")
        if self.predicate is not None:
            parts.append(f"predicate {getattr(self.predicate, '__name__', repr(self.predicate))}")
        return ", ".join(parts) or "existence"


def condition_holds(obj: JSON, condition: str) -> bool:
    """``Type`` (status True) or ``Type=Value`` as ``kubectl wait --for=condition=...`` reads it."""
    wanted_type, _, wanted_status = condition.partition("=")
    wanted_status = wanted_status or "True"
    for cond in ((obj.get("status") or {}).get("conditions") or []):
        if isinstance(cond, dict) and str(cond.get("type", "")).lower() == wanted_type.lower():
            return str(cond.get("status", "")).lower() == wanted_status.lower()
    return False


async def wait_for(client: Client, clock: Clock, settle_step: Callable[[], Awaitable[None]], resource: str,
                   name: str, expectation: Expectation, namespace: str | None, timeout: float) -> JSON:
    """The object once ``expectation`` holds; :class:`WaitTimeout` after ``timeout`` (cluster) seconds."""
    virtual = isinstance(clock, VirtualClock)
    loop = asyncio.get_running_loop()
    deadline = clock.now() + timeout if virtual else loop.time() + timeout
    last: JSON | None = None
    idle = False
    while True:
        if virtual:
            await settle_step()
        last = await _get(client, resource, name, namespace)
        if last is not None and expectation.holds(last):
            return last
        if virtual:
            assert isinstance(clock, VirtualClock)
            due = clock.next_deadline()
            if due is None or due > deadline:
                idle = due is None
                break
            await clock.advance_to(due)
        else:
            if loop.time() >= deadline:
                break
            await asyncio.sleep(POLL_INTERVAL)
    events = await recent_events(client, last, resource, name, namespace)
    raise WaitTimeout(timeout_message(resource, name, namespace, expectation, timeout, virtual, idle, last,
                                      events), last, events)


async def _get(client: Client, resource: str, name: str, namespace: str | None) -> JSON | None:
    try:
        return await client.get(resource, name, namespace)
    except ApiError as err:
        if err.code == 404:
            return None
        raise


async def recent_events(client: Client, obj: JSON | None, resource: str, name: str,
                        namespace: str | None) -> list[JSON]:
    """The object's events (core/v1), oldest first, at most :data:`EVENTS_SHOWN`."""
    kind = obj.get("kind") if obj else None
    selector = f"involvedObject.name={name}" + (f",involvedObject.kind={kind}" if kind else "")
    ns = (obj or {}).get("metadata", {}).get("namespace") or namespace
    try:
        items = (await client.list("events", ns, field_selector=selector)).get("items") or []
    except ApiError:
        return []
    items.sort(key=_event_time)
    return items[-EVENTS_SHOWN:]


def _event_time(event: JSON) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or
               (event.get("metadata") or {}).get("creationTimestamp") or "")


def timeout_message(resource: str, name: str, namespace: str | None, expectation: Expectation, timeout: float,
                    virtual: bool, idle: bool, obj: JSON | None, events: list[JSON]) -> str:
    where = f"{resource}/{name}" + (f" in namespace {namespace}" if namespace else "")
    if idle:    # on a virtual clock with nothing left to run, waiting longer cannot change anything
        head = f"gave up waiting for {expectation.describe()} on {where}: the cluster is idle"
    else:
        seconds = "cluster seconds" if virtual else "seconds"
        head = f"timed out after {timeout:g} {seconds} waiting for {expectation.describe()} on {where}"
    lines = [head]
    if obj is None:
        lines.append("  the object does not exist")
    else:
        status = obj.get("status")
        dumped = yaml.safe_dump(status, sort_keys=False, default_flow_style=False).rstrip() if status else "{}"
        lines.append("  status:")
        lines.extend(f"    {line}" for line in dumped.splitlines())
    if events:
        lines.append("  events (oldest first):")
        for event in events:
            count = event.get("count") or 1
            times = f" (x{count})" if count > 1 else ""
            lines.append(f"    {event.get('type', '')} {event.get('reason', '')}{times}: {event.get('message', '')}")
    else:
        lines.append("  events: none")
    return "\n".join(lines)

