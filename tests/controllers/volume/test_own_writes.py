"""A controller's own write results over its informer cache, until the informer catches up."""

from __future__ import annotations

from typing import Any

from minikube_lite.client.informer import Informer
from minikube_lite.controllers.volume.own_writes import OwnWrites, newer_or_same

JSON = dict[str, Any]


def pv(name: str, rv: str, claim: str | None = None) -> JSON:
    spec: JSON = {"capacity": {"storage": "1Gi"}}
    if claim is not None:
        spec["claimRef"] = {"namespace": "default", "name": claim}
    return {"kind": "PersistentVolume", "apiVersion": "v1",
            "metadata": {"name": name, "resourceVersion": rv}, "spec": spec}


def by_claim(obj: JSON) -> list[str]:
    ref = obj["spec"].get("claimRef")
    return [f"{ref['namespace']}/{ref['name']}"] if ref else [""]


def store() -> tuple[Informer, OwnWrites]:
    """An informer fed by hand through its watch-event path (never started: no client needed)."""
    inf = Informer(None, "persistentvolumes")  # type: ignore[arg-type]
    own = OwnWrites(inf, {"claim": by_claim})
    inf.add_handler(own.observe)
    return inf, own


def names(objs: list[JSON]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_a_write_is_read_back_until_the_informer_delivers_it() -> None:
    inf, own = store()
    inf._apply("ADDED", pv("a", "5"))
    written = own.record(pv("a", "7", claim="c"))
    assert own.get("a") is written and len(own) == 1
    inf._apply("MODIFIED", pv("a", "6"))            # an older event still in flight: ours stays
    assert own.get("a") is written
    inf._apply("MODIFIED", pv("a", "7", claim="c"))  # the informer caught up: its copy again
    assert len(own) == 0 and own.get("a") is inf.get("a")


def test_a_newer_version_from_someone_else_wins_over_ours() -> None:
    inf, own = store()
    inf._apply("ADDED", pv("a", "5"))
    own.record(pv("a", "7", claim="c"))
    inf._apply("MODIFIED", pv("a", "9"))
    assert own.get("a")["metadata"]["resourceVersion"] == "9" and len(own) == 0


def test_a_result_the_informer_already_has_is_not_kept() -> None:
    inf, own = store()
    inf._apply("ADDED", pv("a", "7"))
    own.record(pv("a", "7"))
    inf._apply("MODIFIED", pv("a", "8"))
    own.record(pv("a", "8"))
    assert len(own) == 0


def test_a_later_write_replaces_an_earlier_one_and_never_the_reverse() -> None:
    inf, own = store()
    inf._apply("ADDED", pv("a", "5"))
    own.record(pv("a", "6"))
    own.record(pv("a", "8"))
    own.record(pv("a", "7"))   # cannot happen with ordered writes; kept out all the same
    assert own.get("a")["metadata"]["resourceVersion"] == "8"


def test_a_deletion_ends_the_entry() -> None:
    inf, own = store()
    inf._apply("ADDED", pv("a", "5"))
    own.record(pv("a", "6"))
    inf._apply("DELETED", pv("a", "5"))
    assert own.get("a") is None and len(own) == 0
    inf._apply("ADDED", pv("b", "5"))
    own.record(pv("b", "6"))
    inf._remove(("", "b"))     # gone from the cache before any event reached us (a relist)
    assert own.get("b") is None and len(own) == 0


def test_indexes_follow_our_writes() -> None:
    inf, own = store()
    for name in ("a", "b", "c"):
        inf._apply("ADDED", pv(name, "5"))
    own.record(pv("b", "6", claim="c1"))               # bound b
    assert names(own.by_index("claim", "")) == ["a", "c"]
    assert names(own.by_index("claim", "default/c1")) == ["b"]
    inf._apply("ADDED", pv("d", "7", claim="c2"))
    own.record(pv("d", "8"))                           # unbound d
    assert names(own.by_index("claim", "")) == ["a", "c", "d"]
    assert own.by_index("claim", "default/c2") == []
    assert names(own.list()) == ["a", "b", "c", "d"]
    assert own.list()[1]["spec"]["claimRef"]["name"] == "c1"


def test_resource_versions_that_are_not_integers() -> None:
    assert newer_or_same(pv("a", "x"), pv("a", "x"))
    assert not newer_or_same(pv("a", "y"), pv("a", "x"))
    assert newer_or_same(pv("a", "10"), pv("a", "9"))   # as integers, not as strings
    inf, own = store()
    inf._apply("ADDED", pv("a", "x"))
    own.record(pv("a", "y", claim="c"))
    assert own.get("a")["metadata"]["resourceVersion"] == "y"
    inf._apply("MODIFIED", pv("a", "z"))   # no order to compare: the informer's word is taken
    assert own.get("a")["metadata"]["resourceVersion"] == "z" and len(own) == 0
