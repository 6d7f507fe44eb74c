"""Watch: start points, 410 Expired, timeouts, bookmarks, WatchList, slow watchers."""

from __future__ import annotations

import asyncio

import pytest

from minikube_lite import Cluster, VirtualClock
from minikube_lite.api.errors import ApiError


def cm(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


async def collect(agen, n: int, timeout: float = 2.0) -> list:
    out = []

    async def run() -> None:
        async for ev in agen:
            out.append(ev)
            if len(out) >= n:
                break

    await asyncio.wait_for(run(), timeout)
    return out


async def test_resource_version_zero_sends_synthetic_added_then_live(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    stream = cluster.client.watch("configmaps", "default", resource_version="0")
    first = await collect(stream, 1)
    assert (first[0].type, first[0].object["metadata"]["name"]) == ("ADDED", "a")
    await cluster.client.create("configmaps", cm("b"), "default")
    second = await collect(stream, 1)
    assert (second[0].type, second[0].object["metadata"]["name"]) == ("ADDED", "b")
    assert second[0].object["kind"] == "ConfigMap" and second[0].object["apiVersion"] == "v1"


async def test_watch_from_n_sends_changes_after_n_in_order(cluster: Cluster) -> None:
    a = await cluster.client.create("configmaps", cm("a"), "default")
    await cluster.client.patch("configmaps", "a", {"data": {"k": "v"}}, "default")
    await cluster.client.delete("configmaps", "a", "default")
    events = await collect(cluster.client.watch("configmaps", "default",
                                                resource_version=a["metadata"]["resourceVersion"]), 2)
    assert [e.type for e in events] == ["MODIFIED", "DELETED"]
    rvs = [int(e.object["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs)


async def test_too_old_resource_version_is_an_expired_error_event() -> None:
    async with Cluster(clock=VirtualClock(), history_size=5, controllers=False) as c:
        for i in range(10):
            await c.client.create("configmaps", cm(f"c{i}"), "default")
        events = await collect(c.client.watch("configmaps", resource_version="2"), 1)
        assert events[0].type == "ERROR"
        status = events[0].object
        assert (status["code"], status["reason"]) == (410, "Expired")
        assert status["message"].startswith("too old resource version: 2 (")


async def test_timeout_seconds_ends_the_stream_on_the_cluster_clock() -> None:
    clock = VirtualClock()
    async with Cluster(clock=clock, controllers=False) as c:
        got: list = []

        async def watch() -> None:
            async for ev in c.client.watch("configmaps", "default", resource_version=str(
                    c.engine.store.resource_version), timeout_seconds=30):
                got.append(ev)

        task = asyncio.create_task(watch())
        await asyncio.sleep(0.01)
        assert not task.done()
        await clock.advance(31)
        await asyncio.wait_for(task, 1)
        assert got == []


async def test_bookmarks_are_sent_periodically_when_allowed() -> None:
    clock = VirtualClock()
    async with Cluster(clock=clock, controllers=False) as c:
        c.engine.bookmark_interval = 10
        stream = c.client.watch("configmaps", "default", resource_version=str(c.engine.store.resource_version),
                                allow_bookmarks=True)
        task = asyncio.create_task(collect(stream, 1, timeout=5))
        await asyncio.sleep(0.01)
        await clock.advance(11)
        events = await task
        assert events[0].type == "BOOKMARK"
        assert events[0].object["metadata"]["resourceVersion"] == str(c.engine.store.resource_version)


async def test_watch_list_sends_initial_events_then_the_end_bookmark(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    await cluster.client.create("configmaps", cm("b"), "default")
    stream = cluster.client.watch("configmaps", "default", send_initial_events=True, allow_bookmarks=True)
    events = await collect(stream, 3)
    assert [e.type for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert events[2].object["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


@pytest.mark.parametrize("query, message", [
    ({"sendInitialEvents": "true", "watch": "true"},
     "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"),
    ({"resourceVersionMatch": "NotOlderThan"}, "resourceVersionMatch is forbidden unless resourceVersion is provided"),
])
async def test_list_option_validation_is_422(cluster: Cluster, query: dict, message: str) -> None:
    rt = cluster.engine.registry.resolve("configmaps")
    with pytest.raises(ApiError) as info:
        if query.get("watch"):
            await cluster.engine.watch(rt, "default", query)
        else:
            cluster.engine.list(rt, "default", query)
    assert info.value.code == 422 and message in info.value.message


async def test_selector_watch_reports_objects_leaving_the_selection(cluster: Cluster) -> None:
    body = {**cm("a"), "metadata": {"name": "a", "labels": {"app": "x"}}}
    await cluster.client.create("configmaps", body, "default")
    stream = cluster.client.watch("configmaps", "default", label_selector="app=x", resource_version="0")
    assert (await collect(stream, 1))[0].type == "ADDED"
    await cluster.client.patch("configmaps", "a", {"metadata": {"labels": {"app": "y"}}}, "default")
    assert (await collect(stream, 1))[0].type == "DELETED"
