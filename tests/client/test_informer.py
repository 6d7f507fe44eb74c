"""The informer: list+watch into a cache, handlers, resume, and a re-list after 410 Expired."""

from __future__ import annotations

import asyncio

from minikube_lite import Cluster, VirtualClock
from minikube_lite.client.informer import Informer, metadata_only, running_shared_informer, shared_informer


def cm(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


async def until(predicate, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(wait(), timeout)


async def test_cache_follows_changes_and_handlers_see_them(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a"), "default")
    seen: list[tuple[str, str]] = []
    inf = Informer(cluster.client, "configmaps", "default", clock=cluster.clock)
    inf.add_handler(lambda ev, obj, old: seen.append((ev, obj["metadata"]["name"])))
    await inf.start()
    assert inf.synced and inf.get("a", "default") is not None
    await cluster.client.create("configmaps", cm("b"), "default")
    await cluster.client.patch("configmaps", "a", {"data": {"k": "w"}}, "default")
    await cluster.client.delete("configmaps", "b", "default")
    await until(lambda: len(seen) == 4)
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
    assert inf.get("a", "default")["data"] == {"k": "w"}
    assert inf.get("b", "default") is None
    await inf.stop()


async def test_relists_after_the_watch_expires() -> None:
    async with Cluster(clock=VirtualClock(), history_size=3, components=False) as c:
        inf = Informer(c.client, "configmaps", "default", clock=c.clock, watch_timeout=5)
        events: list[tuple[str, str]] = []
        inf.add_handler(lambda ev, obj, old: events.append((ev, obj["metadata"]["name"])))
        await inf.start()
        await inf.stop()  # pretend the informer was away while many changes happened
        for i in range(10):
            await c.client.create("configmaps", cm(f"x{i}"), "default")
        inf._stopped = False
        inf._task = asyncio.create_task(inf._run())  # resume from the old resourceVersion: too old
        await until(lambda: len(inf) == 10)
        assert inf.relists == 2
        assert sorted(name for ev, name in events if ev == "ADDED") == sorted(f"x{i}" for i in range(10))
        await inf.stop()


async def test_metadata_only_transform_keeps_the_cache_small(cluster: Cluster) -> None:
    await cluster.client.create("configmaps", cm("a", app="x"), "default")
    inf = Informer(cluster.client, "configmaps", "default", clock=cluster.clock, transform=metadata_only)
    await inf.start()
    cached = inf.get("a", "default")
    assert cached is not None and "data" not in cached and cached["metadata"]["labels"] == {"app": "x"}
    assert "managedFields" not in cached["metadata"]
    await inf.stop()


async def test_one_shared_informer_per_type_however_it_is_spelt() -> None:
    async with Cluster(clock=VirtualClock(), components=False) as c:
        spellings = ["storageclasses", "storageclasses.storage.k8s.io", "storageclasses.v1.storage.k8s.io"]
        informers = {id(shared_informer(c.client, name, c.clock)) for name in spellings}
        assert len(informers) == 1
        assert shared_informer(c.client, "pods", c.clock) is not shared_informer(c.client, "nodes", c.clock)
        assert running_shared_informer(c.client, "storageclasses") is None   # not started yet
        inf = shared_informer(c.client, "storageclasses", c.clock)
        await inf.start()
        assert running_shared_informer(c.client, "storageclasses.v1.storage.k8s.io") is inf
        await inf.stop()
        assert running_shared_informer(c.client, "storageclasses") is None
        assert shared_informer(c.client, "storageclasses", c.clock) is not inf   # a stopped one is not handed out


async def test_a_removed_handler_hears_nothing_more(cluster: Cluster) -> None:
    inf = Informer(cluster.client, "configmaps", "default", clock=cluster.clock)
    kept: list[str] = []
    removed: list[str] = []

    def gone(ev: str, obj: dict, old: dict | None) -> None:
        removed.append(obj["metadata"]["name"])

    inf.add_handler(lambda ev, obj, old: kept.append(obj["metadata"]["name"]))
    inf.add_handler(gone)
    await inf.start()
    await cluster.client.create("configmaps", cm("a"), "default")
    await until(lambda: kept == ["a"])
    inf.remove_handler(gone)
    await cluster.client.create("configmaps", cm("b"), "default")
    await until(lambda: kept == ["a", "b"])
    assert removed == ["a"]
    await inf.stop()
