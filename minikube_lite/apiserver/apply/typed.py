"""Schema-driven walks over plain-dict objects: field sets, merge and removal (compare is in
:mod:`.compare`).

These are the four operations of ``smd:typed`` that server-side apply and managedFields are
built from, with what they share: the shape a schema gives each position. They are separate from :mod:`fieldpath` (pure set algebra) because every one of
them needs the schema to know, at each position, whether a dict is a struct (declared
fields) or a map, and whether a list is atomic, a set of scalars, or keyed by some fields.

Schema positions are :class:`~minikube_lite.apiserver.schema.nodes.SchemaNode` or ``None``. ``None``
means "deduced": dicts are granular maps, lists are atomic, as upstream's deduced type.
Optional attributes a node may carry beyond the protocol, read with ``getattr``:
``preserve_unknown_fields`` (bool), ``properties`` (mapping of declared fields) and
``default`` (a field's schema default, used for missing list-map key fields).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from minikube_lite.apiserver.apply.fieldpath import PE, FieldSet, Path, freeze, key, path_string, value
from minikube_lite.apiserver.schema.nodes import SchemaNode

# Detail strings, as smd's validation errors print them after the path.
FIELD_NOT_DECLARED = "field not declared in schema"
DUPLICATE_ENTRIES = "duplicate entries for key"
KEYS_MISSING = "associative list with keys has an element that omits all key fields"

_PROBE = "\x00minikube-lite-probe\x00"

# Schema defaults of list-map key fields (the 1.35 schema's ``default`` on ContainerPort and
# ServicePort); kubernetes-validate's JSON schemas do not carry them.
_KEY_DEFAULTS: dict[tuple[str, ...], dict[str, Any]] = {
    ("containerPort", "protocol"): {"containerPort": 0, "protocol": "TCP"},
    ("port", "protocol"): {"port": 0, "protocol": "TCP"},
}

MISSING: Any = object()


class TypedError(ValueError):
    """The object does not fit its schema (unknown field, duplicate key, bad list item)."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path_string(path)}: {detail}" if path else detail)
        self.path = path
        self.detail = detail


@dataclass(frozen=True)
class Shape:
    """How one position is treated: ``scalar``, ``atomic``, ``struct``, ``map``, ``set``, ``assoc``."""

    kind: str
    keys: tuple[str, ...] = ()
    # Derived flags, precomputed: the walks ask them at every position.
    leaf: bool = field(init=False, compare=False, repr=False)
    is_list: bool = field(init=False, compare=False, repr=False)
    is_dict: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "leaf", self.kind in ("scalar", "atomic"))
        object.__setattr__(self, "is_list", self.kind in ("set", "assoc"))
        object.__setattr__(self, "is_dict", self.kind in ("struct", "map"))


def _is_map_schema(node: SchemaNode) -> bool:
    """A schema with ``additionalProperties`` answers for any key, even an impossible one."""
    return node.property(_PROBE) is not None


def list_relationship(node: SchemaNode | None) -> Shape:
    """The list's smd relationship from its OpenAPI extensions (``kos:pkg/schemaconv/smd.go``)."""
    if node is None:
        return Shape("atomic")
    lt = node.list_type
    if lt == "atomic":
        return Shape("atomic")
    if lt == "set":
        return Shape("set")
    if lt == "map":
        keys = tuple(node.list_map_keys)
        return Shape("assoc", keys) if keys else Shape("atomic")
    strategy = node.patch_strategy or ""
    if "merge" in strategy.split(","):
        mk = node.patch_merge_key
        return Shape("assoc", (mk,)) if mk else Shape("set")
    return Shape("atomic")


def _preserves_unknown(node: SchemaNode) -> bool:
    return bool(getattr(node, "preserve_unknown_fields", False) or getattr(node, "preserve_unknown", False))


def _declared_fields(node: SchemaNode) -> Any:
    """The node's declared properties if it exposes them (a mapping or a method), else ``MISSING``."""
    props = getattr(node, "properties", MISSING)
    if callable(props):
        props = props()
    return props


SCALAR = Shape("scalar")
ATOMIC = Shape("atomic")
MAP = Shape("map")
STRUCT = Shape("struct")
SET = Shape("set")

# node -> (shape of a dict there, shape of a list there). A shape depends only on the schema
# node and the JSON type of the value, and objects are walked position by position many times
# per write, so it is worked out once per node. Bounded: nodes of CRD schemas and hand-made
# test schemas come and go, built-in nodes stay.
_SHAPES: dict[Any, tuple[Shape, Shape]] = {}
_SHAPES_MAX = 20_000


def _node_shapes(node: SchemaNode) -> tuple[Shape, Shape]:
    hit = _SHAPES.get(node)
    if hit is None:
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        hit = _SHAPES[node] = (_dict_shape(node), _list_shape(node))
    return hit


def _dict_shape(node: SchemaNode) -> Shape:
    if node.map_type == "atomic":
        return ATOMIC
    if node.type not in (None, "object"):
        return ATOMIC
    if _is_map_schema(node):
        return MAP
    props = _declared_fields(node)
    if props is MISSING:
        return MAP if _preserves_unknown(node) else STRUCT
    return STRUCT if props else MAP  # no declared fields: deduced


def _list_shape(node: SchemaNode) -> Shape:
    if node.type not in (None, "array"):
        return ATOMIC
    return _intern(list_relationship(node))


def _intern(shape: Shape) -> Shape:
    for known in (ATOMIC, SET):
        if shape == known:
            return known
    return shape


def shape_of(node: SchemaNode | None, v: Any) -> Shape:
    """The shape of value ``v`` at schema position ``node``."""
    if isinstance(v, dict):
        return MAP if node is None else _node_shapes(node)[0]
    if isinstance(v, list):
        return ATOMIC if node is None else _node_shapes(node)[1]
    return SCALAR


_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


def _unknown_field_error(node: SchemaNode | None, shape: Shape, sub: SchemaNode | None, path: Path,
                         name: str) -> bool:
    """An undeclared field of a struct; a CRD schema need not declare apiVersion/kind/metadata."""
    if not path and name in _ROOT_FIELDS:
        return False
    return shape.kind == "struct" and sub is None and node is not None and not _preserves_unknown(node)


def child_schema(node: SchemaNode | None, shape: Shape, name: str) -> tuple[SchemaNode | None, bool]:
    """(schema of field ``name``, whether it is a declared struct field)."""
    if node is None:
        return None, False
    sub = node.property(name)
    if shape.kind == "struct":
        return sub, sub is not None
    return sub, False


def _item_schema(node: SchemaNode | None) -> SchemaNode | None:
    return node.items() if node is not None else None


def _key_default(item_node: SchemaNode | None, keys: tuple[str, ...], name: str) -> Any:
    if item_node is not None:
        sub = item_node.property(name)
        d = getattr(sub, "default", None) if sub is not None else None
        if d is not None:
            return d
    return _KEY_DEFAULTS.get(keys, {}).get(name, MISSING)


def item_pe(shape: Shape, item_node: SchemaNode | None, item: Any, path: Path) -> PE:
    """The element that names ``item`` in an associative list (``k:`` with key defaults, or ``v:``)."""
    if shape.kind == "set":
        if isinstance(item, dict | list):
            raise TypedError(path, "expected scalar, got non-scalar set item")
        return value(item)
    if not isinstance(item, dict):
        raise TypedError(path, "associative list with keys may not have non-map elements")
    fields: dict[str, Any] = {}
    for k in shape.keys:
        if k in item:
            fields[k] = item[k]
        else:
            d = _key_default(item_node, shape.keys, k)
            if d is not MISSING:
                fields[k] = d
    if not fields:
        raise TypedError(path, f"{KEYS_MISSING} {list(shape.keys)!r} (and doesn't have default values "
                               "for any key fields)")
    return key(fields)


def list_items(shape: Shape, node: SchemaNode | None, items: list[Any], path: Path,
               *, strict: bool) -> tuple[list[PE], dict[PE, Any], set[PE]]:
    """(order, element -> item, duplicated elements); duplicates are an error when ``strict``."""
    item_node = _item_schema(node)
    order: list[PE] = []
    by_pe: dict[PE, Any] = {}
    dups: set[PE] = set()
    for item in items:
        pe = item_pe(shape, item_node, item, path)
        if pe in by_pe:
            if strict:
                raise TypedError(path, DUPLICATE_ENTRIES + " " + path_string((pe,)))
            dups.add(pe)
            continue
        by_pe[pe] = item
        order.append(pe)
    return order, by_pe, dups


def is_empty_container(v: Any) -> bool:
    return v is None or v == {} or v == []


def deep_equal(a: Any, b: Any) -> bool:
    """JSON equality where ``True`` differs from ``1``."""
    return freeze(a) == freeze(b)


def children_of(v: Any, node: SchemaNode | None, path: Path, *, strict: bool = False,
                check_fields: bool = False) -> tuple[Shape, list[tuple[PE, Any, SchemaNode | None, bool]]]:
    """(shape, [(element, child value, child schema, is declared struct field)]) of a container."""
    shape = shape_of(node, v)
    out: list[tuple[PE, Any, SchemaNode | None, bool]] = []
    if shape.kind in ("struct", "map"):
        for k, cv in v.items():
            sub, declared = child_schema(node, shape, k)
            if check_fields and _unknown_field_error(node, shape, sub, path, k):
                raise TypedError(path + (("f", k),), FIELD_NOT_DECLARED)
            out.append((("f", k), cv, sub, declared))
    elif shape.is_list:
        order, by_pe, _ = list_items(shape, node, v, path, strict=strict)
        item_node = _item_schema(node)
        for pe in order:
            out.append((pe, by_pe[pe], item_node, False))
    return shape, out


# --- fieldset (§4.1) ----------------------------------------------------------------------------

def to_fieldset(obj: Any, node: SchemaNode | None, *, strict: bool = False) -> FieldSet:
    """The fields an object sets (``smd:typed/tofieldset.go``).

    ``strict`` is for applied configurations: undeclared fields and duplicate list keys raise
    :class:`TypedError`; live objects are walked leniently (duplicates recorded as bare items).
    """
    out = FieldSet()
    _fieldset(obj, node, (), out, strict)
    return out


def _fieldset(v: Any, node: SchemaNode | None, path: Path, out: FieldSet, strict: bool) -> None:
    shape = shape_of(node, v)
    if shape.kind in ("struct", "map"):
        for k, cv in v.items():
            sub, declared = child_schema(node, shape, k)
            p = path + (("f", k),)
            if strict and _unknown_field_error(node, shape, sub, path, k):
                raise TypedError(p, FIELD_NOT_DECLARED)
            cshape = shape_of(sub, cv)
            if cshape.leaf or cv is None or cv == {} or not declared:
                if not (cshape.is_list and cv == [] and declared):
                    out.insert(p)
            if not cshape.leaf:
                _fieldset(cv, sub, p, out, strict)
    elif shape.is_list:
        item_node = _item_schema(node)
        order, by_pe, dups = list_items(shape, node, v, path, strict=strict)
        for pe in order:
            p = path + (pe,)
            out.insert(p)
            if pe in dups or shape.kind == "set":
                continue
            item = by_pe[pe]
            if not shape_of(item_node, item).leaf:
                _fieldset(item, item_node, p, out, strict)


# --- merge (§4.3) ---------------------------------------------------------------------------------

def merge(live: Any, config: Any, node: SchemaNode | None) -> Any:
    """Merge an applied configuration into the live object (``smd:typed/merge.go``)."""
    if live is MISSING or live is None and not isinstance(config, dict | list):
        return copy.deepcopy(config)
    return _merge(live, config, node, ())


def _merge(lhs: Any, rhs: Any, node: SchemaNode | None, path: Path) -> Any:
    if lhs is MISSING:
        return copy.deepcopy(rhs)
    sl, sr = shape_of(node, lhs), shape_of(node, rhs)
    if sr.leaf or sl.kind != sr.kind or (is_empty_container(rhs) and is_empty_container(lhs)):
        return copy.deepcopy(rhs)
    if sr.kind in ("struct", "map"):
        out = dict(lhs)
        for k, cv in rhs.items():
            sub, _ = child_schema(node, sr, k)
            out[k] = _merge(lhs.get(k, MISSING), cv, sub, path + (("f", k),))
        return out
    # associative list
    item_node = _item_schema(node)
    lorder, lby, _ = list_items(sl, node, lhs, path, strict=False)
    rorder, rby, _ = list_items(sr, node, rhs, path, strict=True)
    result = []
    for pe in merge_order(lorder, rorder):
        if pe in rby:
            if sr.kind == "set":
                result.append(copy.deepcopy(rby[pe]))
            else:
                result.append(_merge(lby.get(pe, MISSING), rby[pe], item_node, path + (pe,)))
        else:
            result.append(lby[pe])
    return result


def merge_order(lhs: list[PE], rhs: list[PE]) -> list[PE]:
    """Output order of a merged associative list (``visitListItems``).

    Config items come in config order; live-only items keep their place relative to the
    items both sides share.
    """
    rset, lset = set(rhs), set(lhs)
    shared = [pe for pe in rhs if pe in lset]
    nxt = shared.pop(0) if shared else None
    out: list[PE] = []
    done: set[PE] = set()
    li = ri = 0
    while li < len(lhs) or ri < len(rhs):
        if li < len(lhs) and ri < len(rhs):
            if lhs[li] == rhs[ri]:
                out.append(lhs[li])
                done.add(lhs[li])
                li += 1
                ri += 1
                nxt = shared.pop(0) if shared else None
                continue
            if lhs[li] in rset and nxt is not None and nxt != lhs[li]:
                li += 1
                continue
        if li < len(lhs):
            if lhs[li] not in rset:
                out.append(lhs[li])
                li += 1
                continue
            if lhs[li] in done:
                li += 1
        if ri < len(rhs):
            out.append(rhs[ri])
            done.add(rhs[ri])
            ri += 1
            if nxt == out[-1]:
                nxt = shared.pop(0) if shared else None
    seen: set[PE] = set()
    return [pe for pe in out if not (pe in seen or seen.add(pe))]  # type: ignore[func-returns-value]


# --- removal and named-field expansion (§4.4) ---------------------------------------------------

def remove_items(obj: Any, to_remove: FieldSet, node: SchemaNode | None) -> Any:
    """``obj`` without the subtrees rooted at members of ``to_remove``.

    A map or list that removal empties disappears (returned as ``MISSING`` internally, so the
    parent drops the key), as upstream's typed round-trip drops empty-after-prune containers.
    """
    out = _remove(obj, to_remove, node, ())
    return {} if out is MISSING else out


def _remove(v: Any, rm: FieldSet, node: SchemaNode | None, path: Path) -> Any:
    if rm.empty():
        return v
    shape, kids = children_of(v, node, path)
    if shape.leaf:
        return v
    if shape.kind in ("struct", "map"):
        out: dict[str, Any] = {}
        for pe, cv, sub, _ in kids:
            if pe in rm.members:
                continue
            if pe in rm.children:
                nv = _remove(cv, rm.children[pe], sub, path + (pe,))
                if nv is MISSING:
                    continue
                out[pe[1]] = nv
            else:
                out[pe[1]] = cv
        return out if out or not v else MISSING
    items = []
    item_node = _item_schema(node)
    for item in v:
        try:
            pe = item_pe(shape, item_node, item, path)
        except TypedError:
            items.append(item)
            continue
        if pe in rm.members:
            continue
        if pe in rm.children and shape.kind != "set":
            nv = _remove(item, rm.children[pe], item_node, path + (pe,))
            if nv is MISSING:
                nv = {}
            items.append(nv)
        else:
            items.append(item)
    return items if items or not v else MISSING


def ensure_named_fields_are_members(fs: FieldSet, obj: Any, node: SchemaNode | None) -> FieldSet:
    """``fs`` plus every declared struct field that is an ancestor of one of its members.

    Map keys and list items are not added (``fieldpath/set.go EnsureNamedFieldsAreMembers``).
    The object is walked only to learn each position's schema.
    """
    out = fs.copy()
    _ensure(out, obj, node, ())
    return out


def _ensure(fs: FieldSet, v: Any, node: SchemaNode | None, path: Path) -> None:
    if not fs.children:
        return
    shape = shape_of(node, v) if v is not MISSING else _shape_from_schema(node)
    for pe, child in list(fs.children.items()):
        sub: SchemaNode | None
        cv: Any = MISSING
        if shape.kind in ("struct", "map") and pe[0] == "f":
            sub, declared = child_schema(node, shape, pe[1])
            if declared and not child.empty():
                fs.members.add(pe)
            if isinstance(v, dict):
                cv = v.get(pe[1], MISSING)
        elif shape.kind == "assoc":
            sub = _item_schema(node)
        else:
            continue
        _ensure(child, cv, sub, path + (pe,))


def _shape_from_schema(node: SchemaNode | None) -> Shape:
    if node is None:
        return Shape("map")
    if node.type == "array":
        return list_relationship(node)
    if node.type == "object" or node.type is None:
        return shape_of(node, {})
    return Shape("scalar")


def path_exists(obj: Any, path: Path, node: SchemaNode | None) -> bool:
    """Whether ``path`` names a node present in ``obj``."""
    v, n = obj, node
    for pe in path:
        shape, kids = children_of(v, n, ())
        for kpe, cv, sub, _ in kids:
            if kpe == pe:
                v, n = cv, sub
                break
        else:
            return False
    return True


def schema_at(node: SchemaNode | None, path: Path) -> SchemaNode | None:
    """The schema of ``path`` (``None`` when unknown)."""
    for pe in path:
        if node is None:
            return None
        node = node.property(pe[1]) if pe[0] == "f" else node.items()
    return node


def field_path(*names: str) -> Path:
    """A path of field names, e.g. ``field_path("metadata", "labels")``."""
    return tuple(("f", n) for n in names)


def dotted(path: str) -> Path:
    """``"metadata.labels"`` -> a path of field names (reset-field tables are written this way)."""
    return field_path(*[p for p in path.split(".") if p])


__all__ = [
    "MISSING", "Shape", "TypedError", "FIELD_NOT_DECLARED", "deep_equal", "is_empty_container", "list_items",
    "dotted", "ensure_named_fields_are_members", "field_path", "item_pe", "list_relationship",
    "merge", "merge_order", "path_exists", "remove_items", "schema_at", "shape_of", "to_fieldset",
]
