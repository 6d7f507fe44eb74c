"""The list and watch paths over a real store: pages, continue tokens, selectors, ListOptions
checks, and one encoding of each event shared by every watcher."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.reads import (
    check_list_options,
    decode_continue,
    encode_continue,
    list_objects,
    open_watch,
    selector_predicate,
    served_version,
)
from minikube_lite.apiserver.registry import Registry, builtin_types
from minikube_lite.apiserver.results import WatchItem
from minikube_lite.apiserver.storage.store import Store
from minikube_lite.clock import VirtualClock


def config_maps(store: Store, count: int, namespace: str = "default") -> None:
    rt = Registry(builtin_types()).resolve("configmaps")
    for i in range(count):
        obj = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": f"cm-{i:02d}", "namespace": namespace, "labels": {"parity": "ab"[i % 2]}}}
        store.create(rt.key, obj, rt.selectable_fields(obj))


def test_continue_tokens_round_trip_and_bad_ones_are_400() -> None:
    assert decode_continue(encode_continue(17, "default", "web")) == (17, ("default", "web"))
    with pytest.raises(ApiError) as err:
        decode_continue("not-a-token")
    assert err.value.code == 400
    assert err.value.message.startswith("continue key is not valid")


def test_pages_cover_the_list_once_at_one_resource_version() -> None:
    store = Store()
    config_maps(store, 7)
    rt = Registry(builtin_types()).resolve("configmaps")
    names: list[str] = []
    token = ""
    versions = set()
    while True:
        page = list_objects(store, rt, "default", {"limit": "3", **({"continue": token} if token else {})})
        names.extend(s.name for s in page.items)
        versions.add(page.resource_version)
        token = page.continue_token
        if not token:
            break
        assert page.remaining == 7 - len(names)
    assert names == [f"cm-{i:02d}" for i in range(7)]
    assert versions == {store.resource_version}


def test_selectors_filter_and_no_selector_means_no_predicate() -> None:
    store = Store()
    config_maps(store, 4)
    config_maps(store, 1, namespace="other")
    rt = Registry(builtin_types()).resolve("configmaps")
    assert selector_predicate(rt, {}) is None
    even = list_objects(store, rt, None, {"labelSelector": "parity=a"})
    assert [(s.namespace, s.name) for s in even.items] == [("default", "cm-00"), ("default", "cm-02"), ("other", "cm-00")]
    named = list_objects(store, rt, "default", {"fieldSelector": "metadata.name=cm-03"})
    assert [s.name for s in named.items] == ["cm-03"]


def test_list_options_checks_are_one_422() -> None:
    with pytest.raises(ApiError) as err:
        check_list_options({"resourceVersionMatch": "Exact"}, watch=False)
    assert err.value.code == 422
    assert err.value.message == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                                 "resourceVersionMatch is forbidden unless resourceVersion is provided")
    check_list_options({"resourceVersion": "0", "resourceVersionMatch": "NotOlderThan"}, watch=False)


async def test_every_watcher_sends_the_bytes_stored_once_and_filters_for_itself() -> None:
    """An event is encoded once, when written: each watcher of the kind frames that same payload
    (no encoding per watcher), while each applies its own selectors (ADDED/DELETED on entering
    or leaving its selection)."""
    store = Store()
    config_maps(store, 1, namespace="other")
    rt = Registry(builtin_types()).resolve("configmaps")
    since = {"resourceVersion": str(store.resource_version)}   # the changes after this one
    everything = open_watch(store, VirtualClock(), rt, "default", since)
    labelled = open_watch(store, VirtualClock(), rt, "default", {**since, "labelSelector": "app=x"})
    named = open_watch(store, VirtualClock(), rt, "default", {**since, "fieldSelector": "metadata.name=b"})
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}}
    store.create(rt.key, obj, rt.selectable_fields(obj))
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "b", "namespace": "default", "labels": {"app": "x"}}}
    store.create(rt.key, obj, rt.selectable_fields(obj))
    obj = {**obj, "metadata": {**obj["metadata"], "labels": {"app": "y"}}}
    store.update(rt.key, obj, rt.selectable_fields(obj))

    async def take(stream: Any, n: int) -> list[WatchItem]:
        return [await anext(stream) for _ in range(n)]

    all_items, x_items, b_items = await take(everything, 3), await take(labelled, 2), await take(named, 2)
    assert [(i.type, i.stored.name) for i in all_items if i.stored] == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "b")]
    assert [(i.type, i.stored.name) for i in x_items if i.stored] == [("ADDED", "b"), ("DELETED", "b")]
    assert [(i.type, i.stored.name) for i in b_items if i.stored] == [("ADDED", "b"), ("MODIFIED", "b")]
    # The same stored version (one payload object) for every watcher that sends it.
    assert all_items[1].stored is x_items[0].stored is b_items[0].stored
    assert all_items[2].stored is x_items[1].stored is b_items[1].stored
    assert all_items[1].to_bytes() == x_items[0].to_bytes() == b_items[0].to_bytes()
    assert all_items[2].to_bytes() == b_items[1].to_bytes()
    assert x_items[1].to_bytes() == all_items[2].to_bytes().replace(b'"MODIFIED"', b'"DELETED"', 1)
    for stream in (everything, labelled, named):
        await stream.aclose()


def test_a_custom_resource_stored_at_the_version_served_is_not_decoded_per_watcher(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rt = replace(Registry(builtin_types()).resolve("configmaps"), group="example.com", version="v1", custom=True)
    store = Store()
    stored = store.create(rt.key, {"apiVersion": "example.com/v1", "kind": "ConfigMap",
                                   "metadata": {"name": "a", "namespace": "default"}}, {})
    kind_first = store.create(rt.key, {"kind": "ConfigMap", "apiVersion": "example.com/v1",
                                       "metadata": {"name": "b", "namespace": "default"}}, {})

    def no_decoding(self: Any) -> Any:
        raise AssertionError("decoded")

    monkeypatch.setattr(type(stored), "object", no_decoding)
    assert served_version(rt, stored) is stored
    assert served_version(rt, kind_first) is kind_first
    monkeypatch.undo()
    older = served_version(replace(rt, version="v1beta1"), stored)   # another version: converted
    assert older.object()["apiVersion"] == "example.com/v1beta1"
    # apiVersion elsewhere in the bytes: decoded to tell, and served as is when it matches.
    late = store.create(rt.key, {"metadata": {"name": "c", "namespace": "default"},
                                 "apiVersion": "example.com/v1", "kind": "ConfigMap"}, {})
    assert served_version(rt, late) is late


async def test_a_batch_of_ready_changes_is_marked_so_a_writer_can_send_it_at_once() -> None:
    """Changes already waiting when the stream runs come out flagged ``more`` but the last, so
    the HTTP watch sends them in one write; a change arriving alone is not held back."""
    store = Store()
    rt = Registry(builtin_types()).resolve("configmaps")
    stream = open_watch(store, VirtualClock(), rt, "default", {"resourceVersion": str(store.resource_version)})
    config_maps(store, 3)
    batch = [await anext(stream) for _ in range(3)]
    assert [(i.type, i.stored.name if i.stored else "", i.more) for i in batch] == [
        ("ADDED", "cm-00", True), ("ADDED", "cm-01", True), ("ADDED", "cm-02", False)]
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": "default"}}
    store.create(rt.key, obj, rt.selectable_fields(obj))
    alone = await anext(stream)
    assert (alone.type, alone.stored.name if alone.stored else "", alone.more) == ("ADDED", "late", False)
