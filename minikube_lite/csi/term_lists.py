"""Large topology term lists over HTTP, sent once: the client refers to a list the server keeps.

Why: a driver that reports a per-node topology key gives a CreateVolume one term per node in
its requisite and again in its preferred list (10,000 terms per call at 5,000 nodes), and the
provisioner sends that for every claim. Between two changes of the cluster the requisite is the
same list for every claim and the preferred list a rotation of it (the selected node's term
first, storage.md §3.4), so the client uploads the list once, with its digest, and then names it
by its digest (and the rotation by its start). The server keeps the decoded lists, bounded, most
recently used last.

In a ``TopologyRequirement``, ``requisite`` and ``preferred`` are each one of:

- ``[{"segments": {...}}, ...]``: the terms, as always (kept nowhere);
- ``{"digest": D, "terms": [...]}``: the terms, to be kept under ``D``, the hex BLAKE2b-128 of
  the terms' compact JSON bytes (as orjson writes them; the server checks it);
- ``{"digest": D}``: the list kept under ``D``;
- ``{"digest": D, "start": k}``: that list rotated to begin at its ``k``-th term.

A request's uploads are kept before its references are resolved, so the preferred list may name
the requisite uploaded next to it. A reference the server does not hold (evicted, or a restarted
server) fails the call with :class:`UnknownTermLists`; the client forgets those digests and sends
the call again, uploading them. Lists shorter than :data:`MIN_TERMS` are always sent inline.

The lists a driver receives are shared with later calls: drivers only read a request (as they
already did in one process, where the provisioner's cached terms reach them directly).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from . import spec
from .codec import PLAIN, Decoder

#: Shorter lists are sent inline: a zone-level requisite (three terms) gains nothing from a digest.
MIN_TERMS = 64
#: The server keeps at most this many terms over all its lists (about 20 MB of decoded terms).
MAX_KEPT_TERMS = 50_000
#: ... and at most this many lists.
MAX_KEPT_LISTS = 64

_FIELDS = ("requisite", "preferred")


def digest(raw: bytes) -> str:
    """The name of a term list: BLAKE2b-128 of its JSON bytes, in hex."""
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


class UnknownTermLists(Exception):
    """A request named term lists the server does not hold; the client sends them again."""

    def __init__(self, digests: list[str]) -> None:
        self.digests = digests
        super().__init__(f"unknown topology term lists: {', '.join(digests)}")


# ---------------------------------------------------------------- client side


@dataclass
class _Known:
    """A list the client has encoded, by identity: its digest without encoding it again."""

    terms: list[spec.Topology]
    length: int
    digest: str
    #: id(term) -> position, built when a preferred list is first matched against this one.
    positions: dict[int, int] | None = field(default=None, repr=False)

    def rotation_of(self, other: list[spec.Topology]) -> int | None:
        """``k`` when ``other`` is these terms rotated to begin at ``k`` (same term objects)."""
        if len(other) != self.length or not other:
            return None
        if self.positions is None:
            self.positions = {id(t): i for i, t in enumerate(self.terms)}
        k = self.positions.get(id(other[0]))
        if k is None:
            return None
        terms = self.terms
        # list == compares identical items without calling __eq__: C speed for shared terms.
        if other[:self.length - k] == terms[k:] and other[self.length - k:] == terms[:k]:
            return k
        return None


class TermListSender:
    """The client half: which lists this server was sent, and the references that replace them.

    Lists are recognised by identity (the provisioner hands every claim the same list object
    while the cluster is unchanged), so a known list costs neither encoding nor hashing; an
    unrecognised large list is encoded once to find its digest. Lists must not change after
    they were sent (the provisioner's are read-only).
    """

    def __init__(self, *, min_terms: int = MIN_TERMS, remember: int = 4 * MAX_KEPT_LISTS, identities: int = 8) -> None:
        self.min_terms = min_terms
        #: Digests this server was sent (or is being sent), most recently used last.
        self.known: OrderedDict[str, None] = OrderedDict()
        self.remember = remember
        self._by_id: OrderedDict[int, _Known] = OrderedDict()
        self.identities = identities

    def forget(self, digests: Iterable[str]) -> None:
        """The server does not hold these: upload them with the next call that uses them."""
        for d in digests:
            self.known.pop(d, None)

    def encode_requirement(self, req: spec.TopologyRequirement) -> dict[str, Any]:
        """``req`` in the wire format, large lists as references (see the module docstring)."""
        requisite = self._recognise(req.requisite)
        out: dict[str, Any] = {"requisite": req.requisite if requisite is None else self._reference(requisite)}
        preferred = req.preferred
        start = requisite.rotation_of(preferred) if requisite is not None and preferred is not None else None
        if requisite is not None and start is not None:
            out["preferred"] = {"digest": requisite.digest, "start": start} if start else {"digest": requisite.digest}
        else:
            known = self._recognise(preferred)
            out["preferred"] = preferred if known is None else self._reference(known)
        return out

    def _recognise(self, terms: list[spec.Topology] | None) -> _Known | None:
        if terms is None or len(terms) < self.min_terms:
            return None
        known = self._by_id.get(id(terms))
        if known is not None and known.terms is terms and known.length == len(terms):
            self._by_id.move_to_end(id(terms))
            return known
        known = _Known(terms, len(terms), digest(orjson.dumps(terms)))
        self._by_id[id(terms)] = known
        while len(self._by_id) > self.identities:
            self._by_id.popitem(last=False)
        return known

    def _reference(self, known: _Known) -> dict[str, Any]:
        if known.digest in self.known:
            self.known.move_to_end(known.digest)
            return {"digest": known.digest}
        # Marked at once: a concurrent call may name it before this one is answered; if the
        # server has not kept it yet, that call is told so and uploads it again.
        self.known[known.digest] = None
        while len(self.known) > self.remember:
            self.known.popitem(last=False)
        return {"digest": known.digest, "terms": known.terms}


# ---------------------------------------------------------------- server side


class TermListStore:
    """The server half: decoded term lists by digest, bounded, least recently used evicted first."""

    def __init__(self, *, max_terms: int = MAX_KEPT_TERMS, max_lists: int = MAX_KEPT_LISTS,
                 decode_terms: Decoder | None = None) -> None:
        self.max_terms = max_terms
        self.max_lists = max_lists
        self.lists: OrderedDict[str, list[spec.Topology]] = OrderedDict()
        self.terms = 0
        self._decode_terms = decode_terms or PLAIN.decoder(list[spec.Topology]) or list

    def decode_requirement(self, data: Any) -> spec.TopologyRequirement | None:
        """A ``TopologyRequirement`` from the wire, references resolved (:class:`UnknownTermLists`)."""
        if data is None:
            return None
        uploaded = {value["digest"]: self._keep(value) for name in _FIELDS
                    if isinstance(value := data.get(name), dict) and "terms" in value}
        resolved: dict[str, Any] = {}
        unknown: list[str] = []
        for name in _FIELDS:
            if name not in data:
                continue
            value = data[name]
            if not isinstance(value, dict):
                resolved[name] = self._decode_terms(value)
                continue
            name_of = value["digest"]
            terms = uploaded.get(name_of)
            if terms is None:
                terms = self.lists.get(name_of)
                if terms is None:
                    unknown.append(name_of)
                    continue
                self.lists.move_to_end(name_of)
            start = value.get("start") or 0
            if not isinstance(start, int) or not 0 <= start < max(len(terms), 1):
                raise ValueError(f"start {start!r} is outside the term list {name_of}")
            resolved[name] = terms[start:] + terms[:start] if start else terms
        if unknown:
            raise UnknownTermLists(unknown)
        return spec.TopologyRequirement(**resolved)

    def _keep(self, upload: dict[str, Any]) -> list[spec.Topology]:
        """The uploaded list, decoded and kept (unless it alone is more than the store holds)."""
        raw_terms, name = upload["terms"], upload["digest"]
        if not isinstance(raw_terms, list) or digest(orjson.dumps(raw_terms)) != name:
            raise ValueError(f"term list {name} does not match its digest")
        kept = self.lists.get(name)
        if kept is not None:
            self.lists.move_to_end(name)
            return kept
        terms: list[spec.Topology] = self._decode_terms(raw_terms)
        if len(terms) > self.max_terms:
            return terms
        self.lists[name] = terms
        self.terms += len(terms)
        while self.terms > self.max_terms or len(self.lists) > self.max_lists:
            _, evicted = self.lists.popitem(last=False)
            self.terms -= len(evicted)
        return terms


__all__ = ["MIN_TERMS", "TermListSender", "TermListStore", "UnknownTermLists", "digest"]
