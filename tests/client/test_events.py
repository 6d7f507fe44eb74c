"""The event recorder: client-go's aggregation, written by the caller in process and in the
background (a bounded queue, one writer per object's events) over a remote client."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import weakref
from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.client.events import (
    NORMAL,
    WARNING,
    EventRecorder,
    EventSink,
    event_sink,
    flush_events,
    stop_events,
)
from minikube_lite.client.http import HttpClient
from minikube_lite.client.runtime import Controller
from minikube_lite.clock import VirtualClock


def obj(name: str, kind: str = "PersistentVolumeClaim") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind,
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": "1"}}


class RemoteStub:
    """A remote client that keeps the events written, each write taking a few loop turns."""

    remote = True

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.calls: list[tuple[str, str, str, int]] = []   # (verb, object, reason, count)
        self.events: dict[str, dict[str, Any]] = {}
        self.gate: asyncio.Event | None = None

    async def _round_trip(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        for _ in range(self.rng.randrange(4)):
            await asyncio.sleep(0)

    async def create(self, resource: str, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        await self._round_trip()
        if body["metadata"]["name"] in self.events:
            raise ApiError(409, "AlreadyExists", "exists")
        self.events[body["metadata"]["name"]] = body
        self.calls.append(("create", body["involvedObject"]["name"], body["reason"], body["count"]))
        return body

    async def patch(self, resource: str, name: str, patch: dict[str, Any], namespace: str | None = None) -> Any:
        await self._round_trip()
        event = self.events[name]
        event.update(patch)
        self.calls.append(("patch", event["involvedObject"]["name"], event["reason"], event["count"]))
        return event


async def test_a_remote_recorder_does_not_wait_for_the_write() -> None:
    client = RemoteStub()
    client.gate = asyncio.Event()   # every write waits until the test opens the gate
    rec = EventRecorder(client, "test", VirtualClock())  # type: ignore[arg-type]
    assert await rec.event(obj("a"), NORMAL, "Provisioning", "started") is None
    assert client.calls == [] and event_sink(client).busy()  # type: ignore[arg-type,union-attr]
    client.gate.set()
    await flush_events(client)  # type: ignore[arg-type]
    assert client.calls == [("create", "a", "Provisioning", 1)]
    assert not event_sink(client).busy()  # type: ignore[arg-type,union-attr]
    await stop_events(client)  # type: ignore[arg-type]


async def test_one_objects_events_are_written_in_the_order_recorded() -> None:
    client = RemoteStub(seed=7)
    rec = EventRecorder(client, "test", VirtualClock())  # type: ignore[arg-type]
    recorded: dict[str, list[str]] = {}
    for i in range(60):
        name = f"pvc-{i % 9}"   # nine objects over four writers: some share a writer
        reason = f"Step{i}"
        recorded.setdefault(name, []).append(reason)
        await rec.event(obj(name), NORMAL, reason, "m")
    await stop_events(client)  # type: ignore[arg-type]
    written: dict[str, list[str]] = {}
    for _, name, reason, _ in client.calls:
        written.setdefault(name, []).append(reason)
    assert written == recorded


async def test_aggregation_is_the_same_queued_or_written_at_once() -> None:
    """Repeats become PATCHes of one Event's count, whether the caller writes or a writer does."""
    async def run(client: Any) -> list[tuple[str, str, str, int]]:
        clock = VirtualClock()
        rec = EventRecorder(client, "test", clock)
        for _ in range(3):
            await rec.event(obj("a"), WARNING, "ProvisioningFailed", "no capacity")
            await rec.event(obj("b"), WARNING, "ProvisioningFailed", "no capacity")
            await clock.advance(1.0)
        await rec.event(obj("a"), WARNING, "ProvisioningFailed", "other message")
        await stop_events(client)
        return list(client.calls)

    class InProcessStub(RemoteStub):
        remote = False

    queued, direct = await run(RemoteStub(seed=3)), await run(InProcessStub(seed=3))
    assert queued == direct
    assert [c for c in queued if c[1] == "a"] == [
        ("create", "a", "ProvisioningFailed", 1), ("patch", "a", "ProvisioningFailed", 2),
        ("patch", "a", "ProvisioningFailed", 3), ("create", "a", "ProvisioningFailed", 1)]


async def test_a_full_queue_drops_the_event_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    client = RemoteStub()
    client.gate = asyncio.Event()
    sink = event_sink(client)  # type: ignore[arg-type]
    assert sink is not None
    sink.capacity = 3
    rec = EventRecorder(client, "test", VirtualClock())  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="minikube_lite.client.events"):
        for i in range(5):
            await rec.event(obj(f"p{i}"), NORMAL, "Scheduled", "m")
    assert sink.dropped == 2
    assert [r.getMessage() for r in caplog.records] == [
        "unable to record event: too many queued events, dropped event Scheduled on PersistentVolumeClaim/default/p3",
        "unable to record event: too many queued events, dropped event Scheduled on PersistentVolumeClaim/default/p4"]
    # The bound is per source (one broadcaster per component and host upstream): another still queues.
    other = EventRecorder(client, "kubelet", VirtualClock(), host="node1")  # type: ignore[arg-type]
    await other.event(obj("p5"), NORMAL, "Pulled", "m")
    assert sink.dropped == 2 and sink.queued == 4
    client.gate.set()
    await stop_events(client)  # type: ignore[arg-type]
    assert sorted(c[1] for c in client.calls) == ["p0", "p1", "p2", "p5"]


async def test_stopping_flushes_and_leaves_no_task_nor_reference_behind() -> None:
    client = RemoteStub(seed=1)
    rec = EventRecorder(client, "test", VirtualClock())  # type: ignore[arg-type]
    for i in range(20):
        await rec.event(obj(f"p{i}"), NORMAL, "Scheduled", "m")
    await stop_events(client)  # type: ignore[arg-type]
    assert len(client.calls) == 20
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "event-writer"]
    ref = weakref.ref(client)
    gc.disable()   # freed by reference counting alone: no cycle through the sink or its writers
    try:
        del rec, client
        assert ref() is None
    finally:
        gc.enable()


async def test_a_sink_that_cannot_write_in_time_drops_the_rest_when_stopped() -> None:
    sink = EventSink(writers=1)
    never = asyncio.Event()
    written: list[int] = []

    async def stuck() -> None:
        await never.wait()

    async def fine() -> None:
        written.append(1)

    sink.submit("a", stuck)
    sink.submit("a", fine)
    await sink.stop(timeout=0.01)
    assert written == [] and sink.queued == 0 and not sink.busy()


async def test_the_in_process_client_writes_the_event_before_returning() -> None:
    async with Cluster(clock=VirtualClock(), components=False) as cluster:
        assert event_sink(cluster.client) is None
        rec = EventRecorder(cluster.client, "test", cluster.clock)
        made = await rec.event(obj("a"), NORMAL, "Provisioning", "started")
        assert made is not None and made["count"] == 1
        again = await rec.event(obj("a"), NORMAL, "Provisioning", "started")
        assert again is not None and again["metadata"]["name"] == made["metadata"]["name"] and again["count"] == 2


async def test_events_recorded_over_http_are_written_by_close(served_cluster: Cluster) -> None:
    http = HttpClient(served_cluster.url)
    rec = EventRecorder(http, "test", served_cluster.clock)
    for _ in range(3):
        assert await rec.event(obj("over-http"), NORMAL, "Provisioning", "started") is None
    await http.close()
    events = [e for e in (await served_cluster.client.list("events", "default"))["items"]
              if e["involvedObject"]["name"] == "over-http"]
    assert [(e["reason"], e["count"], e["source"]) for e in events] == [("Provisioning", 3, {"component": "test"})]


async def test_one_recorder_for_many_hosts_names_and_aggregates_per_host() -> None:
    """A recorder given the host per event (every node's kubelet in one process) writes what one
    recorder per host would: the same names, aggregation only within a host."""
    async def shared() -> list[tuple[str, str, int]]:
        client = RemoteStub()
        client.remote = False  # type: ignore[misc]
        rec = EventRecorder(client, "kubelet", VirtualClock())  # type: ignore[arg-type]
        for host in ("n1", "n2", "n1"):
            await rec.event(obj("p", "Pod"), NORMAL, "Started", "m", host=host)
        return [(n, e["source"]["host"], e["count"]) for n, e in client.events.items()]

    async def per_host() -> list[tuple[str, str, int]]:
        client = RemoteStub()
        client.remote = False  # type: ignore[misc]
        clock = VirtualClock()
        recs = {h: EventRecorder(client, "kubelet", clock, host=h) for h in ("n1", "n2")}  # type: ignore[arg-type]
        for host in ("n1", "n2", "n1"):
            await recs[host].event(obj("p", "Pod"), NORMAL, "Started", "m")
        return [(n, e["source"]["host"], e["count"]) for n, e in client.events.items()]

    assert await shared() == await per_host()
    assert [h for _, h, _ in await shared()] == ["n1", "n2"]


async def test_a_stopping_controller_waits_for_the_events_it_queued() -> None:
    client = RemoteStub()
    client.gate = asyncio.Event()
    clock = VirtualClock()
    controller = Controller(client, clock)  # type: ignore[arg-type]
    await controller.start()
    await EventRecorder(client, "test", clock).event(obj("a"), NORMAL, "Provisioning", "started")  # type: ignore[arg-type]
    stopping = asyncio.create_task(controller.stop())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not stopping.done()   # the event is still being written
    client.gate.set()
    await stopping
    assert client.calls == [("create", "a", "Provisioning", 1)]
