"""Informer indexes (per namespace and named) and informers shared between controllers."""

from __future__ import annotations

import asyncio

from minikube_lite import Cluster
from minikube_lite.client.informer import Informer, shared_informer
from minikube_lite.client.runtime import DONE, Controller, Result


def cm(name: str, ns: str = "default", **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels}}


async def until(predicate, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(wait(), timeout)


def by_app(obj: dict) -> list[str]:
    app = (obj["metadata"].get("labels") or {}).get("app")
    return [app] if app else []


async def test_namespace_and_named_indexes_follow_adds_updates_and_deletes(cluster: Cluster) -> None:
    c = cluster.client
    await c.create("configmaps", cm("a", app="web"), "default")
    await c.create("configmaps", cm("b", app="db"), "default")
    await c.create("configmaps", cm("c", "kube-public", app="web"), "kube-public")
    inf = Informer(c, "configmaps", clock=cluster.clock)
    inf.add_index("app", by_app)          # before start: filled by the first list
    await inf.start()
    names = lambda objs: sorted(o["metadata"]["name"] for o in objs)  # noqa: E731
    assert names(inf.by_index("app", "web")) == ["a", "c"]
    assert "a" in names(inf.list("default")) and "c" not in names(inf.list("default"))
    await c.patch("configmaps", "a", {"metadata": {"labels": {"app": "db"}}}, "default")
    await c.delete("configmaps", "c", "kube-public")
    await until(lambda: names(inf.by_index("app", "db")) == ["a", "b"])
    assert inf.by_index("app", "web") == []
    assert "c" not in names(inf.list("kube-public"))
    inf.add_index("app-late", by_app)     # after start: built from the cache
    assert names(inf.by_index("app-late", "db")) == ["a", "b"]
    await inf.stop()


async def test_an_update_keeps_the_objects_place_in_its_bucket(cluster: Cluster) -> None:
    c = cluster.client
    for n in ("x", "y", "z"):
        await c.create("configmaps", cm(n, app="web"), "default")
    inf = Informer(c, "configmaps", clock=cluster.clock)
    inf.add_index("app", by_app)
    await inf.start()
    await c.patch("configmaps", "x", {"data": {"k": "2"}}, "default")
    await until(lambda: (inf.get("x", "default") or {}).get("data") == {"k": "2"})
    assert [o["metadata"]["name"] for o in inf.by_index("app", "web")] == ["x", "y", "z"]
    await inf.stop()


class _Watcher(Controller):
    name = "cm-watcher"

    def __init__(self, client, clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__(client, clock)
        self.seen: list[str] = []

    def setup(self) -> None:
        self.cms = self.informer("configmaps", key_of=lambda ev, obj, old: [obj["metadata"]["name"]])

    async def reconcile(self, key: str) -> Result:
        self.seen.append(key)
        return DONE


async def test_controllers_share_one_informer_and_a_late_one_hears_the_cache(cluster: Cluster) -> None:
    c = cluster.client
    await c.create("configmaps", cm("early"), "default")
    first = _Watcher(c, cluster.clock)
    await first.start()
    await cluster.settle()
    second = _Watcher(c, cluster.clock)
    await second.start()
    assert second.cms is first.cms is shared_informer(c, "configmaps")
    await cluster.settle()
    assert "early" in second.seen            # replayed as ADDED to the late handler
    await first.stop()
    await c.create("configmaps", cm("later"), "default")
    await cluster.settle()
    assert "later" in second.seen            # still watching: the first stop did not end it
    await second.stop()
    assert shared_informer(c, "configmaps") is not first.cms   # stopped by its last user: a fresh one next
