"""Field sets: the fast set algebra agrees with the plain definitions over paths, and the
FieldsV1 parse knows when a stored document can be reused as it is."""

from __future__ import annotations

import json
import random
from functools import cmp_to_key
from typing import Any

import pytest

from minikube_lite.apiserver.apply.fieldpath import (
    PE,
    FieldSet,
    Path,
    compare_pe,
    field,
    index,
    key,
    pe_sort_key,
    pe_to_string,
    value,
)
from minikube_lite.apiserver.apply.fieldpath import _sorted_elements as sorted_elements

NAMES = ["a", "b", "aa", "Z", "é", "日本", "_"]
VALUES: list[Any] = ["a", "b", 1, 2, 1.5, True, None, "é"]


def random_pe(rnd: random.Random) -> PE:
    r = rnd.random()
    if r < 0.6:
        return field(rnd.choice(NAMES))
    if r < 0.75:
        return key({rnd.choice(["name", "type"]): rnd.choice(VALUES)})
    if r < 0.9:
        return value(rnd.choice(VALUES))
    return index(rnd.randint(0, 3))


def random_set(rnd: random.Random) -> FieldSet:
    fs = FieldSet()
    for _ in range(rnd.randint(0, 10)):
        fs.insert(tuple(random_pe(rnd) for _ in range(rnd.randint(1, 4))))
    return fs


def paths(fs: FieldSet) -> set[Path]:
    return set(fs.paths())


def has_empty_child(fs: FieldSet) -> bool:
    return any(c.empty() or has_empty_child(c) for c in fs.children.values())


@pytest.mark.parametrize("seed", range(20))
def test_set_algebra_matches_path_definitions(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(50):
        a, b = random_set(rnd), random_set(rnd)
        pa, pb = paths(a), paths(b)
        assert paths(a.union(b)) == pa | pb
        assert paths(a.intersection(b)) == pa & pb
        assert paths(a.difference(b)) == pa - pb
        under_b = {p for p in pa if any(p[:i] in pb for i in range(1, len(p) + 1))}
        assert paths(a.recursive_difference(b)) == pa - under_b
        for result in (a.union(b), a.intersection(b), a.difference(b), a.recursive_difference(b)):
            assert not has_empty_child(result)
        assert a.overlaps(b) == bool(pa & pb)
        assert a.touches_subtrees(b) == bool(under_b)
        assert bool(a) == (not a.empty()) == bool(pa)


def test_operations_do_not_touch_their_operands() -> None:
    rnd = random.Random(7)
    for _ in range(100):
        a, b = random_set(rnd), random_set(rnd)
        before = (json.dumps(a.to_fieldsv1()), json.dumps(b.to_fieldsv1()))
        for op in (a.union, a.intersection, a.difference, a.recursive_difference):
            op(b).insert((field("new"), field("x")))
        assert (json.dumps(a.to_fieldsv1()), json.dumps(b.to_fieldsv1())) == before


@pytest.mark.parametrize("seed", range(10))
def test_sort_key_orders_like_compare_pe(seed: int) -> None:
    rnd = random.Random(seed)
    elements = list({random_pe(rnd) for _ in range(30)})
    expected = sorted(elements, key=cmp_to_key(compare_pe))
    assert sorted(elements, key=pe_sort_key) == expected
    assert sorted_elements(set(elements)) == expected


def test_encoded_documents_are_canonical_and_round_trip() -> None:
    rnd = random.Random(3)
    for _ in range(200):
        fs = random_set(rnd)
        doc = fs.to_fieldsv1()
        parsed, canonical = FieldSet.from_fieldsv1_canonical(doc)
        assert canonical
        assert json.dumps(parsed.to_fieldsv1()) == json.dumps(doc)


@pytest.mark.parametrize("doc", [
    {"f:b": {}, "f:a": {}},                                  # keys out of order
    {"f:a": {".": {}}},                                      # "." alone is written {}
    {"f:a": {"f:x": {}, ".": {}}},                           # "." not first
    {"f:a": {".": {"x": 1}, "f:x": {}}},                     # "." with content
    {".": {}, "f:a": {}},                                    # "." at the root
    {"f:c": {'k:{"type": "A"}': {}}},                        # key text not as the encoder writes it
    {"f:c": {"i:01": {}}},
])
def test_non_canonical_documents_are_detected_and_parse_the_same(doc: dict[str, Any]) -> None:
    parsed, canonical = FieldSet.from_fieldsv1_canonical(doc)
    assert not canonical
    assert parsed.to_fieldsv1() == FieldSet.from_fieldsv1(doc).to_fieldsv1()
    assert json.dumps(parsed.to_fieldsv1()) != json.dumps(doc)


@pytest.mark.parametrize("order", [(10**21, 1e21), (1e21, 10**21)])
def test_memoised_element_text_never_mixes_ints_and_floats(order: tuple[Any, Any]) -> None:
    # 10**21 and 1e21 freeze to equal tuples, but Go prints them differently.
    for number in order:
        expected = "1000000000000000000000" if isinstance(number, int) else "1e+21"
        assert pe_to_string(value(number)) == "v:" + expected
        assert pe_to_string(key({"port": number})) == 'k:{"port":' + expected + "}"
