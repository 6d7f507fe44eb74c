"""Topology rules of external-provisioner (storage.md §3.4, EP topology.go), as pure functions.

Why apart from the controller: these are the rules that decide where a volume may live
(AllowedTopologies flattening, the StatefulSet round robin, the PV node affinity); they need no
API and no driver, so they are tested and read on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from ....client.base import JSON

Term = dict[str, str]
T = TypeVar("T")


def term_hash(term: Mapping[str, str]) -> str:
    """``k1#v1,k2#v2`` sorted: equal terms hash equal and hashes order terms naturally."""
    return ",".join(sorted(f"{k}#{v}" for k, v in term.items()))


def format_terms(terms: Iterable[Mapping[str, str]]) -> str:
    """Go's ``%v`` of ``[]topologyTerm``: ``[map[k:v k2:v2] ...]``."""
    return "[" + " ".join(format_map(t) for t in terms) + "]"


def format_map(term: Mapping[str, str]) -> str:
    return "map[" + " ".join(f"{k}:{term[k]}" for k in sorted(term)) + "]"


def flatten_allowed(allowed: list[JSON]) -> list[Term]:
    """AllowedTopologies (OR of ANDs of ORs) -> a flat OR of ``{key: value}`` terms."""
    final: list[Term] = []
    for selector_term in allowed:
        old: list[Term] = []
        for expr in selector_term.get("matchLabelExpressions") or []:
            new: list[Term] = []
            for value in expr.get("values") or []:
                if not old:
                    new.append({expr["key"]: value})
                else:
                    new.extend({**t, expr["key"]: value} for t in old)
            old = new
        final.extend(old)
    return final


def dedupe_sorted(terms: Iterable[Term]) -> list[Term]:
    by_hash = {term_hash(t): t for t in terms}
    return [by_hash[h] for h in sorted(by_hash)]


def pvc_name_hash_and_index(name: str) -> tuple[int, int]:
    """getPVCNameHashAndIndexOffset: spread StatefulSet-like names (``claim-set-3``) round robin."""
    index = 0
    hash_string = name
    last = name.rfind("-")
    if last != -1 and name[last + 1:].isdigit():
        index = int(name[last + 1:]) & 0xFFFFFFFF
        hash_string = name[:last]
        second = hash_string.rfind("-")
        if second != -1:
            hash_string = hash_string[second + 1:]
    h = 0x811C9DC5  # FNV-1 32-bit, as Go's fnv.New32
    for byte in hash_string.encode():
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= byte
    return h, index


def rotate(terms: list[T], start: int) -> list[T]:
    """``terms`` from ``start`` on, then the ones before it (external-provisioner's preferred order)."""
    return terms[start:] + terms[:start]


def is_subset(term: Mapping[str, str], of: Mapping[str, str]) -> bool:
    return all(of.get(k) == v for k, v in term.items())


def node_topology(node: JSON, keys: list[str]) -> Term | None:
    labels = (node.get("metadata") or {}).get("labels") or {}
    out: Term = {}
    for key in keys:
        if key not in labels:
            return None
        out[key] = labels[key]
    return out


def csinode_keys(csinode: JSON | None, driver: str) -> list[str] | None:
    if csinode is None:
        return None
    for d in (csinode.get("spec") or {}).get("drivers") or []:
        if d.get("name") == driver:
            return list(d.get("topologyKeys") or [])
    return None


def volume_node_affinity(accessible: Sequence[Mapping[str, str]]) -> JSON | None:
    """GenerateVolumeNodeAffinity: one term per accessible topology, ``In [value]`` per segment."""
    terms = []
    for topo in accessible:
        if not topo:
            continue
        terms.append({"matchExpressions": [{"key": k, "operator": "In", "values": [topo[k]]} for k in sorted(topo)]})
    if not terms:
        return None
    return {"required": {"nodeSelectorTerms": terms}}


def aggregate_topologies(nodes: Iterable[JSON], csinodes: Iterable[JSON], driver: str,
                         keys: list[str] | None) -> list[Term]:
    """aggregateTopologies: one term per node that has every key (duplicates left to the caller).

    Without ``keys`` (no selected node) the keys come from the first CSINode, by name, that
    registers ``driver`` with topology keys.
    """
    if keys is None:
        for csinode in sorted(csinodes, key=lambda c: c["metadata"]["name"]):
            keys = csinode_keys(csinode, driver)
            if keys:
                break
    if not keys:
        return []
    terms = []
    for node in nodes:
        term = node_topology(node, keys)
        if term is not None:
            terms.append(term)
    return terms
