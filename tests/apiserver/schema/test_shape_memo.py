"""The shape memos of the create path answer exactly what the full computation answers.

Creates of objects that differ only in name, uid and timestamps (a ReplicaSet's pods) reuse
the managedFields, schema-check and pod-validation results of the first one; bodies that
cannot repeat a key skip the second parse. Each shortcut is checked against the long way.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikube_lite.apiserver.apply.managed_fields import (
    create_managed_fields,
    default_reset_fields,
    update_managed_fields,
)
from minikube_lite.apiserver.schema.duplicate_keys import find_duplicate_fields, free_of_duplicate_keys
from minikube_lite.apiserver.schema.shape_memo import ShapeMemo, json_key, json_key_without
from minikube_lite.apiserver.schema.upstream import SchemaSet
from minikube_lite.apiserver.schema.validation.pods import validate_pod

JSON = dict[str, Any]
T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:07Z"


# --- json_key and ShapeMemo ------------------------------------------------------------------------

def test_json_key_tells_apart_values_python_calls_equal() -> None:
    assert json_key({"a": True}) != json_key({"a": 1})
    assert json_key({"a": 1}) != json_key({"a": 1.0})
    assert json_key({"a": [1, 2]}) != json_key({"a": [2, 1]})


def test_json_key_refuses_what_orjson_cannot_encode_or_what_is_too_large() -> None:
    assert json_key({1: "non-string key"}) is None
    assert json_key({"a": "x" * 40_000}) is None


def test_json_key_without_drops_only_named_fields_of_the_given_types() -> None:
    obj = {"kind": "Pod", "metadata": {"name": "a", "uid": {"not": "a string"}, "labels": {"x": "1"}}}
    shape = json.loads(json_key_without(obj, ("kind",), ("name", "uid"), (str,)) or b"null")
    assert shape == {"metadata": {"uid": {"not": "a string"}, "labels": {"x": "1"}}}
    assert obj["metadata"]["name"] == "a"  # the object itself is untouched


def test_shape_memo_forgets_everything_when_full() -> None:
    memo: ShapeMemo[int] = ShapeMemo(3)
    for i in range(3):
        memo.put(i, i)
    assert memo.get(2) == 2 and len(memo) == 3
    memo.put(3, 3)
    assert len(memo) == 1 and memo.get(0) is None and memo.get(3) == 3


# --- free_of_duplicate_keys ------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "name", 'q"uote', "c:olon", '":', "sp ace", "\u00e9"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                    st.sampled_from(["", '":', 'x\\":y', ":", '"', "a\":b", " : ", "\u0022:"]))
TREES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.lists(st.tuples(KEYS, inner), max_size=4)),  # pairs: keys may repeat
    max_leaves=25)


def render(tree: Any, sep: str) -> str:
    """JSON text of a tree whose objects are lists of (key, value) pairs, repeats kept."""
    if isinstance(tree, list) and all(isinstance(p, tuple) for p in tree) and tree:
        return "{" + ",".join(json.dumps(k) + sep + render(v, sep) for k, v in tree) + "}"
    if isinstance(tree, list):
        return "[" + ",".join(render(v, sep) for v in tree) + "]"
    return json.dumps(tree)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.lists(st.tuples(KEYS, TREES), max_size=5), sep=st.sampled_from([":", ": ", " :", "\n:\t", ":\n"]))
def test_free_of_duplicate_keys_never_vouches_for_a_body_that_repeats_a_key(tree: Any, sep: str) -> None:
    raw = render(tree, sep) if tree else "{}"
    parsed = json.loads(raw)
    if find_duplicate_fields(raw):
        assert not free_of_duplicate_keys(raw.encode(), parsed)
    elif sep in (":", ": ") and not re.search(r'"[ \t\r\n]+:', raw) and \
            all('":' not in json.dumps(x)[:-1] for x in _strings(parsed)):
        # No key repeats and no string looks like the end of a key: the fast answer is given.
        assert free_of_duplicate_keys(raw.encode(), parsed)


def _strings(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        return [s for k, v in tree.items() for s in [k, *_strings(v)]]
    if isinstance(tree, list):
        return [s for v in tree for s in _strings(v)]
    return [tree] if isinstance(tree, str) else []


def test_free_of_duplicate_keys_on_what_clients_send() -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    assert free_of_duplicate_keys(json.dumps(body).encode(), body)  # Python clients: ": "
    assert free_of_duplicate_keys(json.dumps(body, separators=(",", ":")).encode(), body)  # kubectl
    repeated = b'{"metadata":{"name":"p","name":"q"},"kind":"Pod"}'
    assert not free_of_duplicate_keys(repeated, json.loads(repeated))
    # A repeated key hidden by an annotation that looks like a key: still not vouched for.
    tricky = b'{"metadata":{"name":"p","name":"q","annotations":{"x":"\\":"}}}'
    assert not free_of_duplicate_keys(tricky, json.loads(tricky))
    assert not free_of_duplicate_keys(b'"just a string"', "just a string")


# --- managedFields of a create ---------------------------------------------------------------------

def _pod(name: str, labels: dict[str, str], image: str, ports: list[int], status: bool) -> JSON:
    obj: JSON = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": name, "namespace": "d", "uid": f"uid-{name}", "creationTimestamp": T0,
                              "labels": labels},
                 "spec": {"containers": [{"name": "c", "image": image,
                                          "ports": [{"containerPort": p} for p in ports]}]}}
    if status:
        obj["status"] = {"phase": "Pending"}
    return obj


def _full(obj: JSON, manager: str, now: str) -> JSON:
    return update_managed_fields(None, copy.deepcopy(obj), manager=manager, api_version="v1", subresource=None,
                                 now=now, schema=SchemaSet.load().node("v1", "Pod"),
                                 reset_fields=default_reset_fields("Pod", None, True))


def _memoised(obj: JSON, manager: str, now: str) -> JSON:
    return create_managed_fields(copy.deepcopy(obj), manager=manager, api_version="v1", subresource=None, now=now,
                                 schema_key=("test", "Pod"),
                                 schema=lambda: (SchemaSet.load().node("v1", "Pod"),
                                                 default_reset_fields("Pod", None, True)))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(labels=st.dictionaries(st.sampled_from(["app", "tier", "x/y"]), st.sampled_from(["a", "b"]), max_size=3),
       image=st.sampled_from(["nginx", "busybox"]), ports=st.lists(st.integers(1, 3), max_size=3),
       status=st.booleans(), manager=st.sampled_from(["kubectl", "kube-controller-manager"]))
def test_a_memoised_create_records_what_the_full_compare_records(labels: dict[str, str], image: str,
                                                                  ports: list[int], status: bool,
                                                                  manager: str) -> None:
    first = _pod("first", labels, image, ports, status)
    second = _pod("second", labels, image, ports, status)
    assert _memoised(first, manager, T0) == _full(first, manager, T0)
    # The second object has the first one's shape: a memo hit, with its own time.
    assert _memoised(second, manager, T1) == _full(second, manager, T1)


def test_a_create_sending_managed_fields_takes_the_long_way() -> None:
    obj = _pod("p", {"app": "a"}, "nginx", [], False)
    _memoised(obj, "m", T0)
    sent = copy.deepcopy(obj)
    sent["metadata"]["managedFields"] = [{"manager": "other", "operation": "Apply", "apiVersion": "v1",
                                          "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]
    assert _memoised(sent, "m", T1) == _full(sent, "m", T1)


# --- the schema check ------------------------------------------------------------------------------

def _check(obj: JSON, mode: str = "Warn") -> Any:
    return SchemaSet.load().check("v1", "Pod", copy.deepcopy(obj), mode, memo=True)


def test_a_clean_shape_is_not_walked_again_and_gives_the_same_answer() -> None:
    a = _pod("memo-a", {"memo": "clean"}, "nginx", [80], True)
    first = _check(a)
    assert first.error is None and not first.warnings and first.pruned == a
    b = _pod("memo-b", {"memo": "clean"}, "nginx", [80], True)
    again = _check(b)
    assert again.error is None and not again.warnings and again.pruned == b


def test_a_shape_with_unknown_fields_keeps_warning_every_time() -> None:
    for name in ("warn-a", "warn-b"):
        obj = _pod(name, {"memo": "warn"}, "nginx", [], False)
        obj["spec"]["bogus"] = 1
        result = _check(obj)
        assert result.warnings == ['unknown field "spec.bogus"']
        assert "bogus" not in result.pruned["spec"]
        strict = _check(obj, "Strict")
        assert strict.error is not None and "spec.bogus" in strict.error.message


def test_identity_fields_of_the_wrong_type_are_not_left_out_of_the_shape() -> None:
    good = _pod("typed-a", {"memo": "typed"}, "nginx", [], False)
    assert _check(good).error is None
    bad = _pod("typed-b", {"memo": "typed"}, "nginx", [], False)
    bad["metadata"]["name"] = 7  # type: ignore[assignment]
    result = _check(bad)
    assert result.error is not None and result.error.code == 400
    assert "ObjectMeta.metadata.name of type string" in result.error.message


# --- pod validation --------------------------------------------------------------------------------

def test_pod_validation_remembers_only_valid_specs() -> None:
    good = _pod("v", {}, "nginx", [80], False)
    assert validate_pod(good) == [] and validate_pod(copy.deepcopy(good)) == []
    bad = _pod("v", {}, "", [80], False)
    first = [e.cause() for e in validate_pod(bad)]
    assert first and [e.cause() for e in validate_pod(copy.deepcopy(bad))] == first
