"""Field paths, field sets and their FieldsV1 encoding, as structured-merge-diff defines them.

managedFields record *which fields* each manager owns as a trie of path elements serialised
to ``FieldsV1`` JSON. Ownership transfer, conflicts and pruning are all set algebra on these
tries, and clients (kubectl's client-side-to-server-side upgrade, ``kubectl get -o yaml``)
read and write the encoding byte for byte, so the element order and escaping follow
``smd:fieldpath/serialize.go`` and ``element.go`` exactly rather than Python's defaults.

Values inside ``k:``/``v:`` elements are kept *frozen* (hashable tagged tuples, see
:func:`freeze`) so that ``True`` and ``1`` stay distinct and numbers sort numerically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Iterator
from functools import cmp_to_key
from typing import Any

# A frozen JSON value: ("n", number) | ("s", str) | ("b", bool) | ("l", tuple) | ("m", tuple) | ("z",)
Frozen = tuple[Any, ...]
# A path element: ("f", name) | ("k", ((field, Frozen), ...)) | ("v", Frozen) | ("i", int)
PE = tuple[str, Any]
Path = tuple[PE, ...]

_KIND_RANK = {"n": 0, "s": 1, "b": 2, "l": 3, "m": 4, "z": 5}
_PE_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


class FieldPathError(ValueError):
    """A FieldsV1 document or path element that cannot be parsed."""


def freeze(value: Any) -> Frozen:
    """A hashable, order-comparable form of a JSON value (bool is not a number here)."""
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list | tuple):
        return ("l", tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("m", tuple(sorted((str(k), freeze(v)) for k, v in value.items())))
    raise FieldPathError(f"unsupported value type {type(value).__name__}")


def thaw(frozen: Frozen) -> Any:
    """The JSON value a :func:`freeze` result stands for."""
    tag = frozen[0]
    if tag == "z":
        return None
    if tag in ("n", "s", "b"):
        return frozen[1]
    if tag == "l":
        return [thaw(v) for v in frozen[1]]
    return {k: thaw(v) for k, v in frozen[1]}


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def compare_values(a: Frozen, b: Frozen) -> int:
    """smd ``value.Compare``: numbers < strings < booleans < lists < maps < null."""
    ra, rb = _KIND_RANK[a[0]], _KIND_RANK[b[0]]
    if ra != rb:
        return _cmp(ra, rb)
    tag = a[0]
    if tag == "z":
        return 0
    if tag in ("n", "s", "b"):
        return _cmp(a[1], b[1])
    if tag == "l":
        for x, y in zip(a[1], b[1], strict=False):
            c = compare_values(x, y)
            if c:
                return c
        return _cmp(len(a[1]), len(b[1]))
    for (ka, va), (kb, vb) in zip(a[1], b[1], strict=False):
        c = _cmp(ka, kb) or compare_values(va, vb)
        if c:
            return c
    return _cmp(len(a[1]), len(b[1]))


def compare_pe(a: PE, b: PE) -> int:
    """smd ``PathElement.Compare``: field names, then keys, then values, then indexes."""
    if a[0] != b[0]:
        return _cmp(_PE_RANK[a[0]], _PE_RANK[b[0]])
    if a[0] == "f":
        return _cmp(a[1].encode(), b[1].encode())
    if a[0] == "i":
        return _cmp(a[1], b[1])
    if a[0] == "v":
        return compare_values(a[1], b[1])
    for (na, va), (nb, vb) in zip(a[1], b[1], strict=False):
        c = _cmp(na, nb) or compare_values(va, vb)
        if c:
            return c
    return _cmp(len(a[1]), len(b[1]))


_pe_cmp_key = cmp_to_key(compare_pe)


def _sorted_elements(elements: Collection[PE]) -> list[PE]:
    """``sorted(elements, key=pe_sort_key)``, without a Python key call for field names.

    Field names come first and compare as UTF-8 bytes, and UTF-8 preserves code point
    order, so plain tuple comparison of ``("f", name)`` already gives the right order.
    """
    names = [pe for pe in elements if pe[0] == "f"]
    names.sort()
    if len(names) == len(elements):
        return names
    rest = [pe for pe in elements if pe[0] != "f"]
    if rest:
        rest.sort(key=pe_sort_key)
        names.extend(rest)
    return names


def pe_sort_key(pe: PE) -> tuple[int, Any]:
    """A sort key ordering elements as :func:`compare_pe` does.

    Field names (nearly every element) and indexes get plain keys; only ``k:``/``v:``
    elements fall back to the comparison function, so sorting a trie level is cheap.
    """
    kind = pe[0]
    if kind == "f":
        return (0, pe[1].encode())
    if kind == "i":
        return (3, pe[1])
    return (_PE_RANK[kind], _pe_cmp_key(pe))


def field(name: str) -> PE:
    return ("f", name)


def key(fields: dict[str, Any]) -> PE:
    """A ``k:`` element; fields are sorted by name as smd does when it builds a key."""
    return ("k", tuple(sorted((n, freeze(v)) for n, v in fields.items())))


def value(v: Any) -> PE:
    return ("v", freeze(v))


def index(i: int) -> PE:
    return ("i", i)


# --- JSON text in Go's encoding/json style ---------------------------------------------------

def _go_number(n: Any) -> str:
    if isinstance(n, float):
        if math.isfinite(n) and n == int(n) and abs(n) < 1e21:
            return str(int(n))
        return repr(n)
    return str(n)


def go_json(value_: Any) -> str:
    """Compact JSON as Go's ``json.Marshal`` writes it: sorted map keys, HTML-escaped."""
    if isinstance(value_, dict):
        inner = ",".join(go_json(str(k)) + ":" + go_json(v) for k, v in sorted(value_.items()))
        return "{" + inner + "}"
    if isinstance(value_, list | tuple):
        return "[" + ",".join(go_json(v) for v in value_) + "]"
    if isinstance(value_, bool) or value_ is None:
        return json.dumps(value_)
    if isinstance(value_, int | float):
        return _go_number(value_)
    text = json.dumps(value_, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def pe_to_string(pe: PE) -> str:
    """The FieldsV1 key of one element: ``f:name``, ``k:{...}``, ``v:...``, ``i:n``."""
    kind, payload = pe
    if kind == "f":
        return "f:" + payload
    if kind == "i":
        return f"i:{payload}"
    memoisable = _memoisable(pe)
    if memoisable:
        hit = _PE_TEXT.get(pe)
        if hit is not None:
            return hit
    if kind == "v":
        text = "v:" + go_json(thaw(payload))
    else:
        # k: fields in the stored (sorted) order, which go_json's key sort reproduces.
        text = "k:" + go_json({n: thaw(v) for n, v in payload})
    if memoisable:
        if len(_PE_TEXT) >= _PE_CACHE_MAX:
            _PE_TEXT.clear()
        _PE_TEXT[pe] = text
    return text


# Element <-> FieldsV1 key text, memoised (bounded): the same list keys (container names,
# condition types, ports) are encoded and parsed on every write of an object.
_PE_TEXT: dict[PE, str] = {}
_PE_FROM_TEXT: dict[str, PE] = {}
_PE_CACHE_MAX = 8192


def _memoisable(pe: PE) -> bool:
    """Only elements whose values are strings, bools, null or ints: ``10**21`` and ``1e21``
    freeze to equal tuples but print differently, so a float must never look up or answer
    for another number."""
    if pe[0] == "v":
        values: Iterable[Frozen] = (pe[1],)
    else:
        values = (v for _, v in pe[1])
    for v in values:
        tag = v[0]
        if tag in ("l", "m") or (tag == "n" and type(v[1]) is not int):
            return False
    return True


def pe_from_string(text: str) -> PE:
    """Parse one FieldsV1 key (``DeserializePathElement``)."""
    if len(text) < 2 or text[1] != ":":
        raise FieldPathError(f"unknown path element type: {text!r}")
    kind, rest = text[0], text[2:]
    if kind == "f":
        return ("f", rest)
    hit = _PE_FROM_TEXT.get(text)
    if hit is not None:
        return hit
    pe = _parse_pe(text, kind, rest)
    if len(_PE_FROM_TEXT) >= _PE_CACHE_MAX:
        _PE_FROM_TEXT.clear()
    _PE_FROM_TEXT[text] = pe
    return pe


def _parse_pe(text: str, kind: str, rest: str) -> PE:
    try:
        if kind == "k":
            obj = json.loads(rest)
            if not isinstance(obj, dict) or not obj:
                raise FieldPathError(f"key element must be a non-empty object: {text!r}")
            return key(obj)
        if kind == "v":
            return ("v", freeze(json.loads(rest)))
        if kind == "i":
            n = int(rest)
            return ("i", n)
    except (ValueError, TypeError) as e:
        if isinstance(e, FieldPathError):
            raise
        raise FieldPathError(f"bad path element {text!r}: {e}") from e
    raise FieldPathError(f"unknown path element type: {text!r}")


def _go_quote(s: str) -> str:
    # Go's %q for plain strings; good enough for field values in paths.
    return json.dumps(s, ensure_ascii=False)


def _value_string(v: Frozen) -> str:
    if v[0] == "s":
        return _go_quote(v[1])
    return go_json(thaw(v))


def path_string(path: Iterable[PE]) -> str:
    """The path as errors print it: ``.spec.containers[name="nginx"].ports[containerPort=80]``."""
    out = []
    for kind, payload in path:
        if kind == "f":
            out.append("." + payload)
        elif kind == "k":
            out.append("[" + ",".join(f"{n}={_value_string(v)}" for n, v in payload) + "]")
        elif kind == "v":
            out.append("[=" + _value_string(payload) + "]")
        else:
            out.append(f"[{payload}]")
    return "".join(out)


# --- the set --------------------------------------------------------------------------------

class FieldSet:
    """A set of paths stored as a trie; operations return new sets with empty children pruned."""

    __slots__ = ("members", "children")

    def __init__(self, members: Iterable[PE] = (), children: dict[PE, FieldSet] | None = None) -> None:
        self.members: set[PE] = set(members)
        self.children: dict[PE, FieldSet] = children if children is not None else {}

    # construction
    @classmethod
    def of(cls, *paths: Iterable[PE]) -> FieldSet:
        s = cls()
        for p in paths:
            s.insert(tuple(p))
        return s

    def insert(self, path: Path) -> None:
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        node.members.add(path[-1])

    def child(self, pe: PE) -> FieldSet:
        """The subtree under ``pe`` (empty if none); the caller must not mutate it."""
        return self.children.get(pe) or _EMPTY

    def with_prefix(self, path: Path) -> FieldSet:
        """Paths that start with ``path``, re-rooted below it."""
        node: FieldSet = self
        for pe in path:
            node = node.children.get(pe) or _EMPTY
        return node

    def copy(self) -> FieldSet:
        return FieldSet(self.members, {pe: c.copy() for pe, c in self.children.items()})

    # queries
    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def has(self, path: Path) -> bool:
        if not path:
            return False
        node: FieldSet | None = self
        for pe in path[:-1]:
            assert node is not None
            node = node.children.get(pe)
            if node is None:
                return False
        assert node is not None
        return path[-1] in node.members

    def __contains__(self, path: object) -> bool:
        return isinstance(path, tuple) and self.has(path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self.to_fieldsv1() == other.to_fieldsv1()

    def __hash__(self) -> int:  # pragma: no cover - sets are mutable; identity hash is fine
        return id(self)

    def __bool__(self) -> bool:
        # Without this, truthiness would count every path through __len__.
        return not self.empty()

    def __len__(self) -> int:
        return sum(1 for _ in self.paths())

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.paths()]})"

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path in smd's ``Set.Iterate`` order: this level's members, then each child."""
        for pe in sorted(self.members, key=pe_sort_key):
            yield prefix + (pe,)
        for pe in sorted(self.children, key=pe_sort_key):
            yield from self.children[pe].paths(prefix + (pe,))

    def leaves(self) -> FieldSet:
        """Members that have no children below them."""
        out = FieldSet()
        for p in self.paths():
            if self.with_prefix(p).empty():
                out.insert(p)
        return out

    # algebra
    #
    # Each operation returns a new set whose own level is pruned of empty children, exactly as
    # "build, then drop children that are empty()" would, but without re-walking subtrees: a
    # child computed by a recursive call is already pruned, so it is empty iff it has neither
    # members nor children; only children copied as they are need the full empty() check.

    @classmethod
    def _make(cls, members: set[PE], children: dict[PE, FieldSet]) -> FieldSet:
        """A set taking ownership of ``members`` and ``children`` (no copies)."""
        out = cls.__new__(cls)
        out.members = members
        out.children = children
        return out

    def union(self, other: FieldSet) -> FieldSet:
        children: dict[PE, FieldSet] = {}
        oc = other.children
        for pe, c in self.children.items():
            o = oc.get(pe)
            if o is not None:
                u = c.union(o)
                if u.members or u.children:
                    children[pe] = u
            elif not c.empty():
                children[pe] = c.copy()
        mine = self.children
        for pe, c in oc.items():
            if pe not in mine and not c.empty():
                children[pe] = c.copy()
        return FieldSet._make(self.members | other.members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        children: dict[PE, FieldSet] = {}
        oc = other.children
        for pe, c in self.children.items():
            o = oc.get(pe)
            if o is not None:
                i = c.intersection(o)
                if i.members or i.children:
                    children[pe] = i
        return FieldSet._make(self.members & other.members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """Path-exact difference: a parent in ``other`` does not remove this set's children."""
        children: dict[PE, FieldSet] = {}
        oc = other.children
        for pe, c in self.children.items():
            o = oc.get(pe)
            if o is not None:
                d = c.difference(o)
                if d.members or d.children:
                    children[pe] = d
            elif not c.empty():
                children[pe] = c.copy()
        return FieldSet._make(self.members - other.members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Difference that also drops whole subtrees rooted at members of ``other``."""
        children: dict[PE, FieldSet] = {}
        om, oc = other.members, other.children
        for pe, c in self.children.items():
            if pe in om:
                continue
            o = oc.get(pe)
            if o is not None:
                d = c.recursive_difference(o)
                if d.members or d.children:
                    children[pe] = d
            elif not c.empty():
                children[pe] = c.copy()
        return FieldSet._make(self.members - om, children)

    def overlaps(self, other: FieldSet) -> bool:
        """Whether some path is a member of both sets (then ``difference`` would remove it)."""
        if not self.members.isdisjoint(other.members):
            return True
        oc = other.children
        if len(oc) < len(self.children):
            return any(pe in self.children and self.children[pe].overlaps(c) for pe, c in oc.items())
        return any(pe in oc and c.overlaps(oc[pe]) for pe, c in self.children.items())

    def touches_subtrees(self, other: FieldSet) -> bool:
        """Whether some path of this set lies at or under a member of ``other``
        (then ``recursive_difference`` would remove it)."""
        mine = self.children
        for pe in other.members:
            if pe in self.members or pe in mine:
                return True
        return any(pe in mine and mine[pe].touches_subtrees(c) for pe, c in other.children.items())

    def _pruned(self) -> FieldSet:
        self.children = {pe: c for pe, c in self.children.items() if not c.empty()}
        return self

    # encoding
    def to_fieldsv1(self) -> dict[str, Any]:
        """The FieldsV1 JSON object, keys in smd order, ``"."`` first where a node is both."""
        out: dict[str, Any] = {}
        children = self.children
        elements = self.members.union(children) if children else self.members
        for pe in _sorted_elements(elements):
            c = children.get(pe)
            if c is None or c.empty():
                out["f:" + pe[1] if pe[0] == "f" else pe_to_string(pe)] = {}
                continue
            inner: dict[str, Any] = {}
            if pe in self.members:
                inner["."] = {}
            inner.update(c.to_fieldsv1())
            out[pe_to_string(pe)] = inner
        return out

    @classmethod
    def from_fieldsv1(cls, doc: Any) -> FieldSet:
        """Parse a FieldsV1 object; raises :class:`FieldPathError` if it is malformed."""
        return cls.from_fieldsv1_canonical(doc)[0]

    @classmethod
    def from_fieldsv1_canonical(cls, doc: Any) -> tuple[FieldSet, bool]:
        """(the set, whether :meth:`to_fieldsv1` of it gives back ``doc`` exactly, key order included).

        A stored managedFields entry that no write touches can then keep its FieldsV1 as it is
        instead of being encoded again; the check costs next to nothing during the parse.
        """
        if isinstance(doc, str | bytes):
            try:
                doc = json.loads(doc)
            except ValueError as e:
                raise FieldPathError(f"FieldsV1 is not JSON: {e}") from e
        if not isinstance(doc, dict):
            raise FieldPathError("FieldsV1 must be a JSON object")
        return _parse_level(doc, True)


def _parse_level(doc: dict[str, Any], root: bool) -> tuple[FieldSet, bool]:
    """One level of a FieldsV1 document (``"."`` entries already taken out by the caller or not)."""
    members: set[PE] = set()
    children: dict[PE, FieldSet] = {}
    canonical = True
    prev: tuple[int, Any] | None = None
    first = True
    for k, v in doc.items():
        if k == ".":
            # Only a non-root level's leading "." with an empty value is what the encoder writes.
            canonical = canonical and not root and first and v == {}
            first = False
            continue
        first = False
        if not isinstance(v, dict):
            raise FieldPathError(f"FieldsV1 value of {k!r} must be an object")
        pe = pe_from_string(k)
        if canonical:
            sk = pe_sort_key(pe)
            if (prev is not None and not prev < sk) or (k[0] != "f" and pe_to_string(pe) != k):
                canonical = False
            prev = sk
        dot = "." in v
        if not v or (dot and len(v) == 1):
            members.add(pe)
            if dot:
                canonical = False  # {".": {}} alone is written as {}
            continue
        if dot:
            members.add(pe)
        child, ok = _parse_level(v, False)
        canonical = canonical and ok
        if child.members or child.children:
            children[pe] = child
    return FieldSet._make(members, children), canonical


_EMPTY = FieldSet()


def encode_fieldsv1(fs: FieldSet) -> str:
    """FieldsV1 as the compact, Go-escaped JSON text upstream stores."""
    return go_json_ordered(fs.to_fieldsv1())


def go_json_ordered(doc: dict[str, Any]) -> str:
    """Compact Go-style JSON keeping the dict's own key order (FieldsV1 is not sorted by text)."""
    return "{" + ",".join(go_json(k) + ":" + go_json_ordered(v) for k, v in doc.items()) + "}"
