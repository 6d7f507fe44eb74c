"""The Backend contract, one table of cases run against both backends (memory and a real etcd).

Revisions are compared relative to each other: on etcd they are global across every prefix
(tests share one etcd), in memory they start at 1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from minikube_lite.apiserver.storage.backend import (
    Backend,
    PreconditionFailed,
    StorageUrlError,
    TooOldResourceVersion,
    open_backend,
    parse_storage_url,
)
from minikube_lite.apiserver.storage.store import Store, Watcher

PODS = ("", "pods")
DEPLOYS = ("apps", "deployments")
NODES = ("", "nodes")


def obj(name: str, ns: str = "default", x: int = 1, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"x": x}}


def fields(o: dict[str, Any]) -> dict[str, str]:
    return {"metadata.name": o["metadata"]["name"], "metadata.namespace": o["metadata"].get("namespace", "")}


def put(store: Backend, key: tuple[str, str], o: dict[str, Any]) -> int:
    return store.create(key, o, fields(o)).rv


async def events(watcher: Watcher, count: int, timeout: float = 5.0) -> list[tuple[str, str, int]]:
    """The next ``count`` events as (type, name, rv)."""
    got: list[tuple[str, str, int]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < count and loop.time() < deadline:
        await watcher.wait(timeout=max(0.01, deadline - loop.time()))
        got.extend((t, s.name, s.rv) for t, s in watcher.drain())
    return got


@pytest.fixture(params=["memory", "etcd"])
def backend_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], Store]]:
    """Opens backends on one fresh store: memory, or a fresh key prefix on the session's etcd."""
    opened: list[Store] = []
    if request.param == "memory":
        shared = Store()

        def factory() -> Store:
            return shared
    else:
        server = request.getfixturevalue("etcd_server")
        url = server.url(f"contract-{uuid.uuid4().hex[:8]}")

        def factory() -> Store:
            store = open_backend(url)
            store.start()
            opened.append(store)
            return store
    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def backend(backend_factory: Callable[[], Store]) -> Store:
    return backend_factory()


async def test_create_then_get_returns_the_object_at_its_revision(backend: Store) -> None:
    before = backend.resource_version
    stored = backend.create(PODS, obj("a"), fields(obj("a")))
    assert stored.rv > before and backend.resource_version >= stored.rv
    got = backend.get(PODS, "default", "a")
    assert got is not None and got.rv == stored.rv
    assert got.object()["metadata"]["resourceVersion"] == str(stored.rv)
    assert got.object()["spec"] == {"x": 1}
    assert backend.get(PODS, "default", "missing") is None
    with pytest.raises(KeyError):
        backend.create(PODS, obj("a"), fields(obj("a")))


async def test_list_is_in_key_order_with_the_revision_it_was_read_at(backend: Store) -> None:
    for ns, name in [("b", "z"), ("a", "y"), ("a", "x")]:
        put(backend, PODS, obj(name, ns))
    node_rv = put(backend, NODES, obj("n1", ns=""))
    put(backend, DEPLOYS, obj("d1", "a"))
    items, rev = backend.list(PODS)
    assert [(s.namespace, s.name) for s in items] == [("a", "x"), ("a", "y"), ("b", "z")]
    assert rev >= max(s.rv for s in items) and rev >= node_rv
    assert [s.name for s in backend.list(PODS, "a")[0]] == ["x", "y"]
    assert [(s.namespace, s.name) for s in backend.list(NODES)[0]] == [("", "n1")]
    assert [s.name for s in backend.list(DEPLOYS, "a")[0]] == ["d1"]


async def test_update_compares_the_revision_and_swaps(backend: Store) -> None:
    first = put(backend, PODS, obj("a"))
    second = backend.update(PODS, obj("a", x=2), fields(obj("a")), expected_rv=first)
    assert second.rv > first
    with pytest.raises(PreconditionFailed):
        backend.update(PODS, obj("a", x=3), fields(obj("a")), expected_rv=first)
    current = backend.get(PODS, "default", "a")
    assert current is not None and current.rv == second.rv and current.object()["spec"] == {"x": 2}
    unconditional = backend.update(PODS, obj("a", x=4), fields(obj("a")))
    assert unconditional.rv > second.rv
    with pytest.raises(KeyError):
        backend.update(PODS, obj("ghost"), fields(obj("ghost")), expected_rv=1)


async def test_delete_honours_its_precondition(backend: Store) -> None:
    first = put(backend, PODS, obj("a"))
    updated = backend.update(PODS, obj("a", x=2), fields(obj("a")), expected_rv=first).rv
    with pytest.raises(PreconditionFailed):
        backend.delete(PODS, "default", "a", expected_rv=first)
    assert backend.get(PODS, "default", "a") is not None
    tomb = backend.delete(PODS, "default", "a", expected_rv=updated)
    assert tomb.rv > updated and tomb.object()["spec"] == {"x": 2}
    assert backend.get(PODS, "default", "a") is None
    with pytest.raises(KeyError):
        backend.delete(PODS, "default", "a")


async def test_watch_from_a_revision_replays_what_came_after_then_follows(backend: Store) -> None:
    a = put(backend, PODS, obj("a"))
    b = put(backend, PODS, obj("b"))
    a2 = backend.update(PODS, obj("a", x=2), fields(obj("a")), expected_rv=a).rv
    put(backend, DEPLOYS, obj("other"))  # another type: not in this watch
    watcher = backend.watch(PODS, "default", since_rv=a)
    assert await events(watcher, 2) == [("ADDED", "b", b), ("MODIFIED", "a", a2)]
    gone = backend.delete(PODS, "default", "b").rv
    assert await events(watcher, 1) == [("DELETED", "b", gone)]
    watcher.close()


async def test_compacted_revisions_are_gone(backend: Store) -> None:
    first = put(backend, PODS, obj("a"))
    second = backend.update(PODS, obj("a", x=2), fields(obj("a"))).rv
    third = backend.update(PODS, obj("a", x=3), fields(obj("a"))).rv
    backend.compact(third)
    watcher = backend.watch(PODS, "default", since_rv=third - 1)
    assert await events(watcher, 1) == [("MODIFIED", "a", third)]
    watcher.close()
    with pytest.raises(TooOldResourceVersion) as info:
        backend.watch(PODS, "default", since_rv=first)
    assert str(info.value) == f"too old resource version: {first} ({backend.oldest_watchable(PODS) + 1})"
    assert second < third and backend.oldest_watchable(PODS) >= third - 1


async def test_a_second_backend_on_the_same_store_sees_state_history_and_live_writes(
        backend_factory: Callable[[], Store]) -> None:
    one = backend_factory()
    a = put(one, PODS, obj("a"))
    b = put(one, PODS, obj("b"))
    two = backend_factory()  # on etcd: a restart, or a second API server
    got = two.get(PODS, "default", "a")
    assert got is not None and got.rv == a
    assert two.resource_version >= b
    replay = two.watch(PODS, None, since_rv=a)
    assert await events(replay, 1) == [("ADDED", "b", b)]
    c = put(one, PODS, obj("c"))
    assert await events(replay, 1) == [("ADDED", "c", c)]
    with pytest.raises(KeyError):  # the name is taken in the shared store, whoever asks
        two.create(PODS, obj("c"), fields(obj("c")))
    replay.close()


async def test_a_backend_started_after_compaction_has_the_state_and_refuses_older_watches(
        backend_factory: Callable[[], Store]) -> None:
    one = backend_factory()
    a = put(one, PODS, obj("a"))
    put(one, PODS, obj("gone"))
    one.delete(PODS, "default", "gone")
    b = put(one, PODS, obj("b"))
    one.compact(b)
    two = backend_factory()
    assert [(s.name, s.rv) for s in two.list(PODS)[0]] == [("a", a), ("b", b)]
    with pytest.raises(TooOldResourceVersion):
        two.watch(PODS, None, since_rv=a)
    later = two.watch(PODS, None, since_rv=b)
    c = put(one, PODS, obj("c"))
    assert await events(later, 1) == [("ADDED", "c", c)]
    later.close()


@pytest.mark.parametrize(("url", "parsed"), [
    ("memory", ("memory", "", "")),
    ("etcd://127.0.0.1:2379", ("etcd", "127.0.0.1:2379", "")),
    ("etcd://127.0.0.1:2379/", ("etcd", "127.0.0.1:2379", "")),
    ("etcd://127.0.0.1:2379/team/a/", ("etcd", "127.0.0.1:2379", "/team/a")),
])
def test_storage_urls(url: str, parsed: tuple[str, str, str]) -> None:
    assert parse_storage_url(url) == parsed


@pytest.mark.parametrize("url", ["redis://x:1", "etcd://", "etcd://host", "etcd://host:port", "/tmp/db"])
def test_bad_storage_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageUrlError):
        parse_storage_url(url)


async def test_etcd_history_is_compacted_every_round_keeping_one_round_of_it(etcd_server: Any) -> None:
    """Each compaction round (every ``compaction_interval``) compacts to the previous round's revision."""
    from minikube_lite.apiserver.storage.etcd_store import EtcdStore

    store = EtcdStore(etcd_server.endpoint, prefix=f"/compactor-{uuid.uuid4().hex[:8]}", compaction_interval=None)
    store.start()
    try:
        first = put(store, PODS, obj("a"))
        store.compaction_round()  # notes the revision
        second = put(store, PODS, obj("b"))
        store.compaction_round()  # compacts to the first round's revision
        late = EtcdStore(etcd_server.endpoint, prefix=store.prefix, compaction_interval=None)
        late.start()
        try:
            assert first <= late.oldest_watchable(PODS) < second
            assert [s.name for s in late.list(PODS)[0]] == ["a", "b"]
            with pytest.raises(TooOldResourceVersion):
                late.watch(PODS, None, since_rv=first - 1)
            watcher = late.watch(PODS, None, since_rv=first)
            assert await events(watcher, 1) == [("ADDED", "b", second)]
            watcher.close()
        finally:
            late.close()
    finally:
        store.close()


def test_a_resource_version_from_another_etcd_backend_is_waited_for(etcd_server: Any) -> None:
    """No event loop here, so nothing drains the watch by itself: only ``wait_fresh`` brings the cache up."""
    from minikube_lite.apiserver.storage.etcd_store import EtcdStore

    prefix = f"/fresh-{uuid.uuid4().hex[:8]}"
    one, two = EtcdStore(etcd_server.endpoint, prefix=prefix), EtcdStore(etcd_server.endpoint, prefix=prefix)
    one.start()
    two.start()
    try:
        written = put(one, PODS, obj("a"))
        two.wait_fresh(written)
        got = two.get(PODS, "default", "a")
        assert got is not None and got.rv == written and two.resource_version >= written
        two.wait_fresh(written + 10_000)  # beyond etcd's revision: returns, the caller says "too large"
        assert two.resource_version < written + 10_000
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize(("key", "namespace", "name", "expected"), [
    (("", "pods"), "default", "web", "/registry/pods/default/web"),
    (("", "nodes"), "", "node1", "/registry/minions/node1"),
    (("", "services"), "default", "kubernetes", "/registry/services/specs/default/kubernetes"),
    (("", "endpoints"), "default", "kubernetes", "/registry/services/endpoints/default/kubernetes"),
    (("", "replicationcontrollers"), "default", "rc", "/registry/controllers/default/rc"),
    (("apps", "deployments"), "default", "web", "/registry/deployments/default/web"),
    (("storage.k8s.io", "storageclasses"), "", "fast", "/registry/storageclasses/fast"),
    (("coordination.k8s.io", "leases"), "kube-node-lease", "node1", "/registry/leases/kube-node-lease/node1"),
    (("networking.k8s.io", "ingresses"), "default", "web", "/registry/ingress/default/web"),
    (("apiextensions.k8s.io", "customresourcedefinitions"), "", "backups.example.com",
     "/registry/apiextensions.k8s.io/customresourcedefinitions/backups.example.com"),
    (("snapshot.storage.k8s.io", "volumesnapshots"), "default", "snap",
     "/registry/snapshot.storage.k8s.io/volumesnapshots/default/snap"),
])
def test_etcd_keys_are_laid_out_as_kube_apiserver_does(etcd_server: Any, key: tuple[str, str], namespace: str,
                                                       name: str, expected: str) -> None:
    import base64
    import urllib.request

    import orjson

    from minikube_lite.apiserver.storage.etcd_store import EtcdStore

    prefix = f"/layout-{uuid.uuid4().hex[:8]}"
    store = EtcdStore(etcd_server.endpoint, prefix=prefix, compaction_interval=None)
    store.start()
    try:
        stored = store.create(key, obj(name, namespace), fields(obj(name, namespace)))
        assert store.key_for(key, namespace, name) == (prefix + expected).encode()
        assert store.parse_key((prefix + expected).encode()) == (key, namespace, name)
        request = urllib.request.Request(
            f"http://{etcd_server.endpoint}/v3/kv/range", method="POST",
            data=orjson.dumps({"key": base64.b64encode((prefix + expected).encode()).decode()}))
        with urllib.request.urlopen(request, timeout=10) as response:
            kvs = orjson.loads(response.read())["kvs"]
        assert int(kvs[0]["mod_revision"]) == stored.rv
        value = orjson.loads(base64.b64decode(kvs[0]["value"]))
        assert value["metadata"]["name"] == name and "resourceVersion" not in value["metadata"]
    finally:
        store.close()


def test_an_object_over_etcds_request_limit_is_refused_with_etcds_message(etcd_server: Any) -> None:
    from minikube_lite.apiserver.errors import ApiError
    from minikube_lite.apiserver.storage.etcd_store import EtcdStore

    store = EtcdStore(etcd_server.endpoint, prefix=f"/big-{uuid.uuid4().hex[:8]}", compaction_interval=None)
    store.start()
    try:
        big = obj("big")
        big["spec"]["blob"] = "a" * 2_000_000  # etcd's default --max-request-bytes is 1.5 MiB
        with pytest.raises(ApiError) as info:
            store.create(PODS, big, fields(big))
        assert (info.value.code, info.value.message) == (500, "etcdserver: request is too large")
        assert store.get(PODS, "default", "big") is None
        assert put(store, PODS, obj("small")) > 0  # the connection is still good
    finally:
        store.close()


async def test_the_etcd_cache_follows_again_after_etcd_restarts() -> None:
    """etcd goes away and comes back: writes fail meanwhile (500), then the watch resumes where
    it stopped, and a watcher of the cache misses nothing."""
    from minikube_lite.apiserver.errors import ApiError
    from minikube_lite.apiserver.storage.etcd_store import EtcdStore
    from minikube_lite.testing.etcd import etcd_binary, run_etcd

    if etcd_binary() is None:
        pytest.skip("etcd is not installed: run scripts/install_etcd (Debian's etcd-server)")
    with run_etcd() as server:
        one = EtcdStore(server.endpoint, compaction_interval=None)
        two = EtcdStore(server.endpoint, compaction_interval=None)
        one.start()
        two.start()
        try:
            first = put(one, PODS, obj("before"))
            watcher = two.watch(PODS, None, since_rv=first)
            server.stop()
            with pytest.raises(ApiError):
                put(one, PODS, obj("while-down"))
            server.start()
            after = put(one, PODS, obj("after"))
            assert await events(watcher, 1, timeout=15) == [("ADDED", "after", after)]
            got = two.get(PODS, "default", "after")
            assert got is not None and got.rv == after
            watcher.close()
        finally:
            one.close()
            two.close()
