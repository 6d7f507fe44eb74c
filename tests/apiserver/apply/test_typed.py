"""Schema-driven compare: skipping subtrees is the same as subtracting them afterwards, skipped
parts still refuse objects the schema cannot walk, and the fast leaf equality is deep_equal."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from minikube_lite.apiserver.apply.compare import _leaf_equal, compare
from minikube_lite.apiserver.apply.fieldpath import FieldSet
from minikube_lite.apiserver.apply.typed import TypedError, deep_equal, dotted
from minikube_lite.apiserver.schema.nodes import SchemaNode
from minikube_lite.apiserver.schema.upstream import SchemaSet

JSON = dict[str, Any]


def pod_schema() -> SchemaNode:
    node = SchemaSet.load().node("v1", "Pod")
    assert node is not None
    return node


def sample_pod() -> JSON:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "d", "uid": "u", "labels": {"app": "a"}, "finalizers": ["x"]},
        "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80}],
                                 "env": [{"name": "A", "value": "1"}],
                                 "resources": {"requests": {"cpu": "1"}}}],
                 "tolerations": [{"key": "k", "operator": "Exists"}], "nodeSelector": {"z": "1"}},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                   "containerStatuses": [{"name": "c", "ready": True, "restartCount": 0}]},
    }


SCALARS: list[Any] = ["x", "", 0, 1, True, None, 1.5, {}, [], {"q": 1}, ["a"]]


def spots_of(v: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) position below ``v``."""
    if isinstance(v, dict):
        for k in v:
            out.append((v, k))
            spots_of(v[k], out)
    elif isinstance(v, list):
        for i in range(len(v)):
            out.append((v, i))
            spots_of(v[i], out)
    return out


def mutate(obj: JSON, rnd: random.Random) -> JSON:
    out = copy.deepcopy(obj)
    for _ in range(rnd.randint(1, 3)):
        parent, k = rnd.choice(spots_of(out, []))
        r = rnd.random()
        if r < 0.3:
            del parent[k]
        elif r < 0.7:
            parent[k] = copy.deepcopy(rnd.choice(SCALARS))
        elif isinstance(parent, dict):
            parent["added" + str(rnd.randint(0, 2))] = copy.deepcopy(rnd.choice(SCALARS))
        else:
            parent.append(copy.deepcopy(parent[k]))
    return out


SKIPS = [
    FieldSet.of(dotted("status")),
    FieldSet.of(dotted("spec"), dotted("metadata.labels")),
    FieldSet.of(dotted("metadata.name"), dotted("metadata.uid"), dotted("apiVersion")),
    FieldSet.of(dotted("spec.containers"), dotted("status.phase")),
]


@pytest.mark.parametrize("seed", range(8))
def test_skip_equals_recursive_difference_afterwards(seed: int) -> None:
    rnd = random.Random(seed)
    schema = pod_schema()
    for _ in range(60):
        old = mutate(sample_pod(), rnd) if rnd.random() < 0.7 else sample_pod()
        new = mutate(old, rnd)
        skip = rnd.choice(SKIPS)
        try:
            full = compare(old, new, schema)
        except TypedError as exc:
            with pytest.raises(TypedError) as info:
                compare(old, new, schema, skip=skip)
            assert str(info.value) == str(exc)
            continue
        fast = compare(old, new, schema, skip=skip)
        for a, b in ((full.added, fast.added), (full.modified, fast.modified), (full.removed, fast.removed)):
            assert a.recursive_difference(skip).to_fieldsv1() == b.to_fieldsv1()


def test_a_skipped_subtree_the_schema_cannot_walk_still_raises() -> None:
    # UpdateNoErrors drops managedFields for such an object, skipped (reset) parts included.
    new = sample_pod()
    new["status"]["conditions"].append({"status": "False"})  # no "type": no key, no default
    with pytest.raises(TypedError):
        compare(None, new, pod_schema(), skip=FieldSet.of(dotted("status")))
    with pytest.raises(TypedError):
        compare(sample_pod(), new, pod_schema(), skip=FieldSet.of(dotted("status")))


def test_compare_of_a_whole_object_against_nothing_adds_every_field() -> None:
    cmp = compare({}, sample_pod(), pod_schema())
    assert cmp.modified.empty() and cmp.removed.empty()
    added = {".".join(str(pe[1]) for pe in p) for p in cmp.added.paths()}
    assert "spec.containers" in added and "metadata.labels.app" in added


ATOMS: list[Any] = [0, 1, True, False, None, "1", "", 1.0, 2, "a"]


def random_value(rnd: random.Random, depth: int = 0) -> Any:
    r = rnd.random()
    if depth > 3 or r < 0.5:
        return rnd.choice(ATOMS)
    if r < 0.7:
        return [random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    if r < 0.8:
        return tuple(random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 2)))
    return {rnd.choice(["a", "b", "1", 1]): random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def test_leaf_equality_is_deep_equal() -> None:
    rnd = random.Random(5)
    for _ in range(20_000):
        a = random_value(rnd)
        b = copy.deepcopy(a) if rnd.random() < 0.4 else random_value(rnd)
        assert _leaf_equal(a, b) == deep_equal(a, b), (a, b)
    assert not _leaf_equal([True], [1]) and _leaf_equal([1], [1.0]) and _leaf_equal({1: "x"}, {"1": "x"})
