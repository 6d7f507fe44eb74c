"""Large topology term lists sent once: the client's references and the server's bounded store."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from minikube_lite.csi import spec
from minikube_lite.csi.term_lists import TermListSender, TermListStore, UnknownTermLists, digest

KEY = "topology.diskplugin.csi.alibabacloud.com/instance"


def terms(n: int, prefix: str = "i") -> list[spec.Topology]:
    return [spec.Topology({"topology.kubernetes.io/zone": f"z-{i % 3}", KEY: f"{prefix}-{i:05d}"}) for i in range(n)]


def requirement(requisite: list[spec.Topology], start: int) -> spec.TopologyRequirement:
    return spec.TopologyRequirement(requisite=requisite, preferred=requisite[start:] + requisite[:start])


def over_the_wire(sender: TermListSender, store: TermListStore, req: spec.TopologyRequirement) -> tuple[
        dict[str, Any], spec.TopologyRequirement | None]:
    data = orjson.loads(orjson.dumps(sender.encode_requirement(req)))
    return data, store.decode_requirement(data)


def test_a_list_is_uploaded_once_then_named_and_rotations_name_it_with_a_start() -> None:
    sender, store = TermListSender(), TermListStore()
    shared = terms(500)
    first, decoded = over_the_wire(sender, store, requirement(shared, 7))
    name = digest(orjson.dumps(shared))
    assert first["requisite"]["digest"] == name and len(first["requisite"]["terms"]) == 500
    assert first["preferred"] == {"digest": name, "start": 7}       # the requisite uploaded next to it
    assert decoded == requirement(shared, 7)
    second, decoded = over_the_wire(sender, store, requirement(shared, 42))
    assert second == {"requisite": {"digest": name}, "preferred": {"digest": name, "start": 42}}
    assert decoded == requirement(shared, 42)
    assert decoded is not None and decoded.requisite is store.lists[name]   # decoded once, shared
    unrotated, decoded = over_the_wire(sender, store, requirement(shared, 0))
    assert unrotated["preferred"] == {"digest": name} and decoded == requirement(shared, 0)


def test_an_equal_list_in_new_objects_is_named_by_its_digest_too() -> None:
    sender, store = TermListSender(), TermListStore()
    over_the_wire(sender, store, requirement(terms(200), 0))
    again, decoded = over_the_wire(sender, store, spec.TopologyRequirement(requisite=terms(200), preferred=terms(200)))
    assert again == {"requisite": {"digest": digest(orjson.dumps(terms(200)))},
                     "preferred": {"digest": digest(orjson.dumps(terms(200)))}}
    assert decoded == spec.TopologyRequirement(requisite=terms(200), preferred=terms(200))


def test_short_lists_and_old_clients_send_terms_inline() -> None:
    sender, store = TermListSender(), TermListStore()
    zones = [spec.Topology({"topology.kubernetes.io/zone": z}) for z in ("b", "d", "h")]
    data, decoded = over_the_wire(sender, store, requirement(zones, 1))
    assert data["requisite"] == [{"segments": t.segments} for t in zones]
    assert decoded == requirement(zones, 1)
    old = {"requisite": [{"segments": t.segments} for t in terms(100)], "preferred": []}
    assert store.decode_requirement(old) == spec.TopologyRequirement(requisite=terms(100), preferred=[])
    assert not store.lists     # plain lists are kept nowhere
    assert store.decode_requirement(None) is None
    assert store.decode_requirement({}) == spec.TopologyRequirement()


def test_an_unknown_digest_is_refused_and_the_forgetful_client_uploads_it_again() -> None:
    sender = TermListSender()
    shared = terms(300)
    over_the_wire(sender, TermListStore(), requirement(shared, 3))
    restarted = TermListStore()                                  # a new server process
    with pytest.raises(UnknownTermLists) as err:
        over_the_wire(sender, restarted, requirement(shared, 4))
    name = digest(orjson.dumps(shared))
    assert err.value.digests == [name, name]
    sender.forget(err.value.digests)
    data, decoded = over_the_wire(sender, restarted, requirement(shared, 4))
    assert "terms" in data["requisite"] and decoded == requirement(shared, 4)
    assert name in restarted.lists


def test_the_store_is_bounded_by_terms_and_lists_least_recently_used_first() -> None:
    store = TermListStore(max_terms=1000, max_lists=3)
    sender = TermListSender()
    lists = [terms(300, prefix=f"l{n}") for n in range(4)]
    names = [digest(orjson.dumps(t)) for t in lists]
    for t in lists[:3]:
        over_the_wire(sender, store, requirement(t, 0))
    over_the_wire(sender, store, requirement(lists[0], 1))        # l0 used again: l1 is now the oldest
    over_the_wire(sender, store, requirement(lists[3], 0))        # 1,200 terms: l1 goes
    assert list(store.lists) == [names[2], names[0], names[3]] and store.terms == 900
    few = TermListStore(max_terms=10_000, max_lists=2)
    for t in lists[:3]:
        over_the_wire(TermListSender(), few, requirement(t, 0))
    assert list(few.lists) == names[1:3]
    huge = TermListStore(max_terms=100)
    _, decoded = over_the_wire(TermListSender(), huge, requirement(lists[0], 5))
    assert decoded == requirement(lists[0], 5) and not huge.lists  # used, too large to keep


def test_the_sender_remembers_a_bounded_number_of_lists() -> None:
    sender = TermListSender(remember=2, identities=2)
    for n in range(3):
        sender.encode_requirement(requirement(terms(100, prefix=f"l{n}"), 0))
    assert len(sender.known) == 2 and len(sender._by_id) == 2


def test_a_digest_that_does_not_match_its_terms_or_a_bad_start_is_malformed() -> None:
    store = TermListStore()
    raw = [{"segments": t.segments} for t in terms(100)]
    with pytest.raises(ValueError, match="does not match its digest"):
        store.decode_requirement({"requisite": {"digest": "00" * 16, "terms": raw}})
    name = digest(orjson.dumps(raw))
    with pytest.raises(ValueError, match="outside the term list"):
        store.decode_requirement({"requisite": {"digest": name, "terms": raw}, "preferred": {"digest": name,
                                                                                           "start": 100}})
