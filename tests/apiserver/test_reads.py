"""The list path over a real store: pages, continue tokens, selectors and ListOptions checks."""

from __future__ import annotations

import pytest

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.apiserver.reads import (
    check_list_options,
    decode_continue,
    encode_continue,
    list_objects,
    selector_predicate,
)
from minikube_lite.apiserver.registry import Registry, builtin_types
from minikube_lite.apiserver.storage.store import Store


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
