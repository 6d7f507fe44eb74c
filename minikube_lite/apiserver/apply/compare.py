"""What changed between two objects of one type (``smd:typed/compare.go``): added, modified and
removed field sets.

This is the hot loop of every write (managedFields of a create diffs a whole object against
nothing), so it has fast paths of its own for plain JSON; the schema positions it walks are
:mod:`.typed`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from minikube_lite.apiserver.apply.fieldpath import PE, FieldSet, Path
from minikube_lite.apiserver.apply.typed import (
    MISSING,
    deep_equal,
    is_empty_container,
    list_items,
    shape_of,
)
from minikube_lite.apiserver.schema.nodes import SchemaNode


@dataclass
class Comparison:
    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    def changed(self) -> FieldSet:
        return self.added.union(self.modified).union(self.removed)

    def empty(self) -> bool:
        return self.added.empty() and self.modified.empty() and self.removed.empty()


def compare(old: Any, new: Any, node: SchemaNode | None, *, skip: FieldSet | None = None) -> Comparison:
    """What changed between two objects of the same type (``smd:typed/compare.go``).

    ``skip`` leaves out whole subtrees (as if ``recursive_difference(skip)`` were applied to each
    result set afterwards) without walking them: managedFields never tracks reset fields or
    server metadata, so there is no point in diffing them.

    The walk builds each result trie level by level (a trie node is created only once
    something lands in it) instead of inserting full paths from the root: a create diffs a
    whole object against an empty one, and this is the hot loop of every write.
    """
    _, a, m, r = _diff(old, new, node, (), skip)
    return Comparison(FieldSet() if a is None else a, FieldSet() if m is None else m,
                      FieldSet() if r is None else r)


_NO_CHANGE: tuple[bool, None, None, None] = (False, None, None, None)
_SELF_MODIFIED: tuple[bool, None, None, None] = (True, None, None, None)


def _leaf_equal(a: Any, b: Any) -> bool:
    """:func:`deep_equal` with fast paths for plain JSON (``True`` still differs from ``1``)."""
    ta = type(a)
    if ta is type(b) and (ta is str or ta is int or ta is bool):
        return bool(a == b)
    try:
        return _plain_equal(a, b)
    except _NotPlain:
        return deep_equal(a, b)


class _NotPlain(Exception):
    """A value :func:`_plain_equal` leaves to :func:`deep_equal` (floats, tuples, odd keys)."""


def _plain_equal(a: Any, b: Any) -> bool:
    """Equality of str/int/bool/None/list/str-keyed dict values, type for type, without freezing.

    For such values this is exactly :func:`deep_equal`; anything else raises :class:`_NotPlain`.
    """
    ta = type(a)
    if ta is not type(b):
        if (ta in _PLAIN_SCALARS or ta is list or ta is dict) and \
                (type(b) in _PLAIN_SCALARS or type(b) is list or type(b) is dict):
            return False  # different JSON kinds (bool vs int included: freeze tags them apart)
        raise _NotPlain
    if ta is dict:
        if len(a) != len(b):
            return False  # frozen maps of different sizes never match either
        for k, v in a.items():
            if type(k) is not str:
                raise _NotPlain
            if k not in b:
                if all(type(x) is str for x in b):
                    return False
                raise _NotPlain  # freeze would compare str(key): {1: x} equals {"1": x}
            if not _plain_equal(v, b[k]):
                return False
        return True
    if ta is list:
        return len(a) == len(b) and all(_plain_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta in _PLAIN_SCALARS:
        return bool(a == b)
    raise _NotPlain


_PLAIN_SCALARS = (str, int, bool, type(None))


def _diff(old: Any, new: Any, node: SchemaNode | None, path: Path, skip: FieldSet | None
          ) -> tuple[bool, FieldSet | None, FieldSet | None, FieldSet | None]:
    """(this position itself modified, added, modified, removed tries rooted at ``path``).

    Tries are None when empty, so unchanged subtrees allocate nothing.
    """
    if is_empty_container(old) and is_empty_container(new):
        # both empty or null: a leaf, so {} against null is a change (smd keeps the distinction)
        return _NO_CHANGE if deep_equal(old, new) else _SELF_MODIFIED
    so, sn = shape_of(node, old), shape_of(node, new)
    if old is None and not sn.leaf:
        old, so = ([] if isinstance(new, list) else {}), sn
    elif new is None and not so.leaf:
        new, sn = ([] if isinstance(old, list) else {}), so
    if so.leaf or sn.leaf or so.kind != sn.kind:
        return _NO_CHANGE if _leaf_equal(old, new) else _SELF_MODIFIED
    added: FieldSet | None = None
    modified: FieldSet | None = None
    removed: FieldSet | None = None
    skip_members = skip.members if skip is not None else _NO_MEMBERS
    skip_children = skip.children if skip is not None else _NO_CHILDREN
    if sn.is_dict:
        for k, cv in new.items():
            pe = ("f", k)
            if pe in skip_members:
                ov = old.get(k, MISSING)
                if (ov and isinstance(ov, dict | list)) or (cv and isinstance(cv, dict | list)):
                    _walk_pair(ov, cv, node.property(k) if node is not None else None, path + (pe,))
                continue
            if k not in old:
                if added is None:
                    added = FieldSet()
                added.members.add(pe)
                if cv and isinstance(cv, dict | list):
                    t = _subtree(cv, node.property(k) if node is not None else None, path + (pe,),
                                 skip_children.get(pe))
                    if t is not None:
                        added.children[pe] = t
                continue
            ov = old[k]
            tv = type(cv)
            if tv is type(ov) and (tv is str or tv is int or tv is bool):
                if ov != cv:
                    if modified is None:
                        modified = FieldSet()
                    modified.members.add(pe)
                continue
            mod, ca, cm, cr = _diff(ov, cv, node.property(k) if node is not None else None, path + (pe,),
                                    skip_children.get(pe))
            if mod:
                if modified is None:
                    modified = FieldSet()
                modified.members.add(pe)
            if ca is not None:
                if added is None:
                    added = FieldSet()
                added.children[pe] = ca
            if cm is not None:
                if modified is None:
                    modified = FieldSet()
                modified.children[pe] = cm
            if cr is not None:
                if removed is None:
                    removed = FieldSet()
                removed.children[pe] = cr
        for k, ov in old.items():
            if k in new:
                continue
            pe = ("f", k)
            if pe in skip_members:
                if ov and isinstance(ov, dict | list):
                    _walk_pair(ov, MISSING, node.property(k) if node is not None else None, path + (pe,))
                continue
            if removed is None:
                removed = FieldSet()
            removed.members.add(pe)
            if ov and isinstance(ov, dict | list):
                t = _subtree(ov, node.property(k) if node is not None else None, path + (pe,),
                             skip_children.get(pe))
                if t is not None:
                    removed.children[pe] = t
        return False, added, modified, removed
    # associative lists and sets (old first, as the error of a malformed list is reported)
    item_node = node.items() if node is not None else None
    oorder, oby, _ = list_items(so, node, old, path, strict=False)
    norder, nby, _ = list_items(sn, node, new, path, strict=False)
    recurse = sn.kind != "set"
    for pe in norder:
        cv = nby[pe]
        if pe in skip_members:
            if recurse:
                _walk_pair(oby.get(pe, MISSING), cv, item_node, path + (pe,))
            continue
        if pe not in oby:
            if added is None:
                added = FieldSet()
            added.members.add(pe)
            if recurse:
                t = _subtree(cv, item_node, path + (pe,), skip_children.get(pe))
                if t is not None:
                    added.children[pe] = t
        elif recurse:
            mod, ca, cm, cr = _diff(oby[pe], cv, item_node, path + (pe,), skip_children.get(pe))
            if mod:
                if modified is None:
                    modified = FieldSet()
                modified.members.add(pe)
            if ca is not None:
                if added is None:
                    added = FieldSet()
                added.children[pe] = ca
            if cm is not None:
                if modified is None:
                    modified = FieldSet()
                modified.children[pe] = cm
            if cr is not None:
                if removed is None:
                    removed = FieldSet()
                removed.children[pe] = cr
    for pe in oorder:
        if pe in nby:
            continue
        if pe in skip_members:
            if so.kind != "set":
                _walk_pair(oby[pe], MISSING, item_node, path + (pe,))
            continue
        if removed is None:
            removed = FieldSet()
        removed.members.add(pe)
        if so.kind != "set":
            t = _subtree(oby[pe], item_node, path + (pe,), skip_children.get(pe))
            if t is not None:
                removed.children[pe] = t
    return False, added, modified, removed


def _walk_pair(old: Any, new: Any, node: SchemaNode | None, path: Path) -> None:
    """Walk a skipped position as the compare would, only to raise the same :class:`TypedError`.

    Skipping must not make an object the schema cannot walk look walkable: managedFields
    drops everything for such an object (``UpdateNoErrors``), skipped parts included.
    ``MISSING`` stands for a side that does not have the position (an added or removed subtree).
    """
    if old is MISSING or new is MISSING or old is new:
        # One side only, or one object on both sides (the engine carries the stored status or
        # spec over as it is): walking it once raises exactly what walking the pair would.
        _walk_one(new if old is MISSING else old, node, path)
        return
    if is_empty_container(old) and is_empty_container(new):
        return
    so, sn = shape_of(node, old), shape_of(node, new)
    if old is None and not sn.leaf:
        old, so = ([] if isinstance(new, list) else {}), sn
    elif new is None and not so.leaf:
        new, sn = ([] if isinstance(old, list) else {}), so
    if so.leaf or sn.leaf or so.kind != sn.kind:
        return
    if sn.is_dict:
        for k, cv in new.items():
            _walk_pair(old.get(k, MISSING), cv, node.property(k) if node is not None else None,
                       path + (("f", k),))
        for k, ov in old.items():
            if k not in new:
                _walk_pair(ov, MISSING, node.property(k) if node is not None else None, path + (("f", k),))
        return
    item_node = node.items() if node is not None else None
    _, oby, _ = list_items(so, node, old, path, strict=False)
    norder, nby, _ = list_items(sn, node, new, path, strict=False)
    if sn.kind == "set":
        return
    for pe in norder:
        _walk_pair(oby.get(pe, MISSING), nby[pe], item_node, path + (pe,))
    for pe, ov in oby.items():
        if pe not in nby:
            _walk_pair(ov, MISSING, item_node, path + (pe,))


def _walk_one(v: Any, node: SchemaNode | None, path: Path) -> None:
    """:func:`_walk_pair` for a position only one side has (what :func:`_subtree` would walk)."""
    if not v or not isinstance(v, dict | list):
        return
    shape = shape_of(node, v)
    if shape.leaf:
        return
    if isinstance(v, dict):
        for k, cv in v.items():
            if cv and isinstance(cv, dict | list):
                _walk_one(cv, node.property(k) if node is not None else None, path + (("f", k),))
        return
    order, by_pe, _ = list_items(shape, node, v, path, strict=False)
    if shape.kind == "set":
        return
    item_node = node.items() if node is not None else None
    for pe in order:
        _walk_one(by_pe[pe], item_node, path + (pe,))


_NO_MEMBERS: frozenset[PE] = frozenset()
_NO_CHILDREN: dict[PE, FieldSet] = {}


def _subtree(v: Any, node: SchemaNode | None, path: Path, skip: FieldSet | None) -> FieldSet | None:
    """Every node below ``path`` (an added or removed subtree) as a trie, None if there is none."""
    shape = shape_of(node, v)
    if shape.leaf:
        return None
    skip_members = skip.members if skip is not None else _NO_MEMBERS
    skip_children = skip.children if skip is not None else _NO_CHILDREN
    out: FieldSet | None = None
    if shape.is_dict:
        for k, cv in v.items():
            pe = ("f", k)
            if pe in skip_members:
                if cv and isinstance(cv, dict | list):
                    _walk_pair(MISSING, cv, node.property(k) if node is not None else None, path + (pe,))
                continue
            if out is None:
                out = FieldSet()
            out.members.add(pe)
            if cv and isinstance(cv, dict | list):
                t = _subtree(cv, node.property(k) if node is not None else None, path + (pe,),
                             skip_children.get(pe))
                if t is not None:
                    out.children[pe] = t
        return out
    order, by_pe, _ = list_items(shape, node, v, path, strict=False)
    item_node = node.items() if node is not None else None
    for pe in order:
        if pe in skip_members:
            if shape.kind != "set":
                _walk_pair(MISSING, by_pe[pe], item_node, path + (pe,))
            continue
        if out is None:
            out = FieldSet()
        out.members.add(pe)
        if shape.kind != "set":
            cv = by_pe[pe]
            if cv and isinstance(cv, dict | list):
                t = _subtree(cv, item_node, path + (pe,), skip_children.get(pe))
                if t is not None:
                    out.children[pe] = t
    return out
