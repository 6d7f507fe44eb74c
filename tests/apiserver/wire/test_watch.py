"""Watch: start points, 410 Expired, timeouts, bookmarks, WatchList, slow watchers."""

from __future__ import annotations

import asyncio

import pytest

from minikube_lite import Cluster, VirtualClock
from minikube_lite.apiserver.errors import ApiError


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
    async with Cluster(clock=VirtualClock(), history_size=5, components=False) as c:
        for i in range(10):
            await c.client.create("configmaps", cm(f"c{i}"), "default")
        events = await collect(c.client.watch("configmaps", resource_version="2"), 1)
        assert events[0].type == "ERROR"
        status = events[0].object
        assert (status["code"], status["reason"]) == (410, "Expired")
        assert status["message"].startswith("too old resource version: 2 (")


async def test_timeout_seconds_ends_the_stream_on_the_cluster_clock() -> None:
    clock = VirtualClock()
    async with Cluster(clock=clock, components=False) as c:
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
    async with Cluster(clock=clock, components=False) as c:
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


async def test_a_bookmark_comes_after_every_change_committed_before_it() -> None:
    """Changes committed while earlier events were going out are sent before the bookmark."""
    clock = VirtualClock()
    async with Cluster(clock=clock, components=False) as c:
        c.engine.bookmark_interval = 10
        stream = c.client.watch("configmaps", "default", resource_version=str(c.engine.store.resource_version),
                                allow_bookmarks=True)
        reader = stream.__aiter__()
        first = asyncio.create_task(reader.__anext__())
        await asyncio.sleep(0.01)
        await c.client.create("configmaps", cm("a"), "default")
        assert (await asyncio.wait_for(first, 1)).type == "ADDED"
        # The stream is parked right after "a": commit "b" and let the bookmark timer fire.
        await c.client.create("configmaps", cm("b"), "default")
        await clock.advance(11)
        rest = [await asyncio.wait_for(reader.__anext__(), 1) for _ in range(2)]
        assert [(e.type, e.object["metadata"].get("name")) for e in rest] == [("ADDED", "b"), ("BOOKMARK", None)]
        assert int(rest[1].object["metadata"]["resourceVersion"]) >= int(rest[0].object["metadata"]["resourceVersion"])
        await reader.aclose()


async def test_watch_list_end_bookmark_follows_changes_made_during_the_initial_events(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    reader = cluster.client.watch("configmaps", "default", send_initial_events=True, allow_bookmarks=True).__aiter__()
    first = await asyncio.wait_for(reader.__anext__(), 1)
    await cluster.client.create("configmaps", cm("b"), "default")
    rest = [await asyncio.wait_for(reader.__anext__(), 1) for _ in range(2)]
    events = [first, *rest]
    assert [(e.type, e.object["metadata"].get("name")) for e in events] == [
        ("ADDED", "a"), ("ADDED", "b"), ("BOOKMARK", None)]
    assert events[2].object["metadata"]["resourceVersion"] == str(cluster.engine.store.resource_version)
    await reader.aclose()


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


def ready(obj: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


async def test_a_pod_watched_by_name_from_its_create_rv_is_seen_becoming_ready(cluster: Cluster) -> None:
    """The "create, then wait for Ready on my own watch" flow: every change after the create
    arrives as MODIFIED through the name field selector, up to the Ready one."""
    await cluster.client.create("pods", pod("other"), "default")
    created = await cluster.client.create("pods", pod("mine"), "default")
    stream = cluster.client.watch("pods", "default", field_selector="metadata.name=mine",
                                  resource_version=created["metadata"]["resourceVersion"])
    await cluster.settle()
    seen: list = []
    async for event in stream:
        seen.append(event)
        if ready(event.object):
            break
    assert {e.type for e in seen} == {"MODIFIED"}
    assert {e.object["metadata"]["name"] for e in seen} == {"mine"}
    rvs = [int(e.object["metadata"]["resourceVersion"]) for e in seen]
    assert rvs == sorted(rvs) and rvs[0] > int(created["metadata"]["resourceVersion"])
    assert ready(seen[-1].object) and seen[-1].object["status"]["phase"] == "Running"


async def test_two_http_watchers_get_the_same_bytes_each_filtered_for_itself(served_cluster: Cluster) -> None:
    """Over the wire: the line of an event is the same bytes for every watcher that gets it, and a
    field selector still applies per watcher."""
    import aiohttp
    import orjson

    rv = (await served_cluster.client.list("configmaps", "default"))["metadata"]["resourceVersion"]
    url = f"{served_cluster.url}/api/v1/namespaces/default/configmaps"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"watch": "true", "resourceVersion": rv}) as every, \
                session.get(url, params={"watch": "true", "resourceVersion": rv,
                                         "fieldSelector": "metadata.name=b"}) as only_b:
            await served_cluster.client.create("configmaps", cm("a"), "default")
            await served_cluster.client.create("configmaps", cm("b"), "default")
            await served_cluster.client.patch("configmaps", "b", {"data": {"k": "v"}}, "default")

            async def lines(resp: aiohttp.ClientResponse, n: int) -> list[bytes]:
                return [await asyncio.wait_for(resp.content.readline(), 5) for _ in range(n)]

            all_lines, b_lines = await lines(every, 3), await lines(only_b, 2)
    assert [(orjson.loads(x)["type"], orjson.loads(x)["object"]["metadata"]["name"]) for x in all_lines] == [
        ("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "b")]
    assert b_lines == all_lines[1:]


async def test_changes_made_together_reach_an_http_watcher_in_order_in_fewer_writes(served_cluster: Cluster) -> None:
    """Frames of changes committed together go out as one chunk (one socket write), each still
    its own line, in resourceVersion order."""
    import aiohttp
    import orjson

    rv = (await served_cluster.client.list("configmaps", "default"))["metadata"]["resourceVersion"]
    url = f"{served_cluster.url}/api/v1/namespaces/default/configmaps"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params={"watch": "true", "resourceVersion": rv}) as resp:
            await asyncio.gather(*(served_cluster.client.create("configmaps", cm(f"c{i:02d}"), "default")
                                   for i in range(20)))
            chunks: list[bytes] = []
            received = b""
            while received.count(b"\n") < 20:
                data, _ = await asyncio.wait_for(resp.content.readchunk(), 5)
                chunks.append(data)
                received += data
    frames = [orjson.loads(line) for line in received.splitlines()]
    assert [(f["type"], f["object"]["metadata"]["name"]) for f in frames] == [("ADDED", f"c{i:02d}") for i in range(20)]
    rvs = [int(f["object"]["metadata"]["resourceVersion"]) for f in frames]
    assert rvs == sorted(rvs)
    assert len(chunks) < 20
