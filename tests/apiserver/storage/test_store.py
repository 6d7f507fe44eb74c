"""The versioned store: one global resourceVersion, immutable objects, history, slow watchers."""

from __future__ import annotations

import pytest

from minikube_lite.apiserver.storage.store import Store, TooOldResourceVersion

PODS = ("", "pods")
CMS = ("", "configmaps")


def obj(name: str, ns: str = "default", **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {"x": 1}}


def test_every_write_gets_the_next_global_resource_version() -> None:
    store = Store()
    a = store.create(PODS, obj("a"), {})
    b = store.create(CMS, obj("b"), {})
    c = store.update(PODS, {**obj("a"), "spec": {"x": 2}}, {})
    d = store.delete(CMS, "default", "b")
    assert [a.rv, b.rv, c.rv, d.rv] == [1, 2, 3, 4]
    assert store.resource_version == 4
    assert c.object()["metadata"]["resourceVersion"] == "3"


def test_stored_objects_cannot_be_mutated_by_callers() -> None:
    store = Store()
    original = obj("a")
    stored = store.create(PODS, original, {})
    original["spec"]["x"] = 99  # the caller's dict is not the stored one
    read = stored.object()
    read["spec"]["x"] = 42  # nor is what a read returns
    again = store.get(PODS, "default", "a")
    assert again is not None and again.object()["spec"]["x"] == 1
    with pytest.raises(AttributeError):
        stored.rv = 7  # type: ignore[misc]


def test_update_with_stale_resource_version_is_refused() -> None:
    from minikube_lite.apiserver.storage.store import PreconditionFailed

    store = Store()
    first = store.create(PODS, obj("a"), {})
    store.update(PODS, obj("a"), {}, expected_rv=first.rv)
    with pytest.raises(PreconditionFailed):
        store.update(PODS, obj("a"), {}, expected_rv=first.rv)


def test_iteration_is_ordered_by_namespace_then_name_and_resumes_after_a_key() -> None:
    store = Store()
    for ns, name in [("b", "z"), ("a", "y"), ("a", "x"), ("b", "a")]:
        store.create(PODS, obj(name, ns), {})
    assert [(s.namespace, s.name) for s in store.iter(PODS)] == [("a", "x"), ("a", "y"), ("b", "a"), ("b", "z")]
    assert [s.name for s in store.iter(PODS, "b")] == ["a", "z"]
    assert [s.name for s in store.iter(PODS, after=("a", "y"))] == ["a", "z"]
    assert [s.name for s in store.iter(PODS, "a", after=("a", "x"))] == ["y"]


async def test_watch_from_a_resource_version_replays_history_then_goes_live() -> None:
    store = Store()
    a = store.create(PODS, obj("a"), {})
    store.update(PODS, obj("a"), {})
    watcher = store.watch(PODS, None, since_rv=a.rv)
    store.delete(PODS, "default", "a")
    events = watcher.drain()
    assert [(t, s.rv) for t, s in events] == [("MODIFIED", 2), ("DELETED", 3)]


def test_history_is_bounded_and_older_watches_are_too_old() -> None:
    store = Store(history_size=3)
    for i in range(6):
        store.create(PODS, obj(f"p{i}"), {})
    with pytest.raises(TooOldResourceVersion) as info:
        store.watch(PODS, None, since_rv=1)
    assert str(info.value) == "too old resource version: 1 (4)"
    watcher = store.watch(PODS, None, since_rv=3)
    assert [s.name for _, s in watcher.drain()] == ["p3", "p4", "p5"]


def test_selector_changes_become_added_and_deleted_for_a_filtered_watcher() -> None:
    store = Store()
    store.create(PODS, obj("a", app="x"), {})
    watcher = store.watch(PODS, None, predicate=lambda s: s.labels.get("app") == "y", since_rv=store.resource_version)
    store.update(PODS, obj("a", app="y"), {})
    store.update(PODS, obj("a", app="y", more="1"), {})
    store.update(PODS, obj("a", app="z"), {})
    assert [t for t, _ in watcher.drain()] == ["ADDED", "MODIFIED", "DELETED"]


def test_a_slow_watcher_is_closed_and_never_blocks_writers() -> None:
    store = Store(watch_backlog=5)
    slow = store.watch(PODS, None, since_rv=0)
    fast = store.watch(PODS, None, since_rv=0)
    for i in range(20):
        store.create(PODS, obj(f"p{i}"), {})
        fast.drain()
    assert slow.closed and slow.overflowed
    assert not fast.closed
    assert store.watcher_count(PODS) == 1
    assert store.count(PODS) == 20
