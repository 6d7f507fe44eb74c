"""Strategic merge patch (``application/strategic-merge-patch+json``), as the apiserver applies it.

``kubectl patch`` (default type), client-side ``kubectl apply`` of built-in kinds, ``cordon``,
``set image`` and ``rollout restart`` all send strategic merge patches, and three-way apply
leans on its directives to remove list items and keep list order. This module applies such a
patch to a JSON object following ``apimachinery/pkg/util/strategicpatch`` (``mergeMap``,
``mergeSlice``, ``mergePatchIntoOriginal``, ``normalizeElementOrder``):

- maps merge recursively and ``null`` deletes a key;
- a list whose schema says ``x-kubernetes-patch-strategy: merge`` merges by its
  ``x-kubernetes-patch-merge-key`` (lists of maps) or as a set (lists of scalars); any other
  list is replaced; a map field with strategy ``replace`` is replaced;
- directives: ``$patch: replace|delete`` on a map, ``$patch: delete|replace`` as a keyed list
  item, ``$retainKeys``, ``$setElementOrder/<list>``, ``$deleteFromPrimitiveList/<list>``;
- resulting order: ``$setElementOrder`` first, then the patch's own order, then the live
  object's order; items the live list does not know are placed before the server-only ones
  they cannot be compared with (upstream's ``mergeSortedSlice``).

Without a schema node (a type we know nothing about) the patch acts as a JSON merge patch that
still honours and strips the directives. Failures raise :class:`StrategicMergeError` carrying the
status upstream answers with (400, 422 or a reason-less 500), e.g.
``map: map[image:httpd] does not contain declared merge key: name``.

Deliberate differences from upstream, which only show with patches kubectl never sends: a
``$patch: replace`` map for a field the object lacks yields the map (upstream drops it), and
``$deleteFromPrimitiveList`` on a list without merge strategy deletes from it (upstream replaces
the list with the deletion list).
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_lite.apiserver.apply.strategic_merge_errors import (
    ERR_BAD_JSON_DOC,
    ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST,
    ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS,
    ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST,
    ERR_MERGING_LISTS_DIRECTIVE,
    ERR_NO_LIST_OF_LISTS,
    StrategicMergeError,
    err_bad_arg_type,
    err_bad_patch_type,
    err_no_merge_key,
    go_value,
)
from minikube_lite.apiserver.schema.nodes import SchemaNode

JSON = dict[str, Any]

DIRECTIVE_MARKER = "$patch"
DELETE_DIRECTIVE = "delete"
REPLACE_DIRECTIVE = "replace"
MERGE_DIRECTIVE = "merge"
RETAIN_KEYS_STRATEGY = "retainKeys"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"

# The lead answers 415 for SMP on custom resources (kubectl-wire.md §5.3); nothing happens here.
SMP_UNSUPPORTED_FOR_CR = "strategic merge patch is not supported for custom resources: answer 415"


# ---------------------------------------------------------------------------------------------
# helpers


def _kind(v: Any) -> str:
    """The reflect.Kind that matters here: map, slice, or a scalar type."""
    if isinstance(v, dict):
        return "map"
    if isinstance(v, list):
        return "slice"
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    return "number"


def _eq(a: Any, b: Any) -> bool:
    """Go's interface ``==``: equal dynamic type and value (so ``true != 1``)."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka in ("map", "slice"):
        return False  # uncomparable in Go; never a merge key in practice
    return bool(a == b)


def _index_of(items: list[Any], v: Any) -> int:
    for i, x in enumerate(items):
        if _eq(x, v):
            return i
    return -1


def _strategy(node: SchemaNode | None) -> tuple[bool, str]:
    """``extractRetainKeysPatchStrategy``: (retainKeys?, the other strategy)."""
    raw = node.patch_strategy if node is not None else None
    if not raw:
        return False, ""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) == 1:
        return (True, "") if parts[0] == RETAIN_KEYS_STRATEGY else (False, parts[0])
    if len(parts) == 2:
        if parts[0] == RETAIN_KEYS_STRATEGY:
            return True, parts[1]
        if parts[1] == RETAIN_KEYS_STRATEGY:
            return True, parts[0]
    raise StrategicMergeError(f"unexpected patch strategy: [{' '.join(parts)}]")


def _prop(node: SchemaNode | None, key: str) -> SchemaNode | None:
    return node.property(key) if node is not None else None


def _items(node: SchemaNode | None) -> SchemaNode | None:
    return node.items() if node is not None else None


def _extract_key(s: str, prefix: str) -> str:
    head, sep, rest = s.partition("/")
    if not sep or head != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise StrategicMergeError(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST)
        raise StrategicMergeError(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST)
    return rest


def _is_directive_key(k: str) -> bool:
    return (k == DIRECTIVE_MARKER or k == RETAIN_KEYS_DIRECTIVE or k.startswith(SET_ELEMENT_ORDER_PREFIX)
            or k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX))


def _strip(v: Any) -> tuple[Any, bool]:
    """A patch value for a field the object lacks: nulls and directives removed.

    Upstream's ``discardNullValuesFromPatch`` + ``removeDirectives``; returns (value, keep).
    """
    if isinstance(v, dict):
        if DIRECTIVE_MARKER in v:
            d = v[DIRECTIVE_MARKER]
            if d == DELETE_DIRECTIVE:
                return None, False
            if d not in (REPLACE_DIRECTIVE, MERGE_DIRECTIVE):
                raise err_bad_patch_type(d, v)
        out: JSON = {}
        for k, x in v.items():
            if x is None or _is_directive_key(k):
                continue
            val, keep = _strip(x)
            if keep:
                out[k] = val
        return out, True
    if isinstance(v, list):
        res = []
        for x in v:
            if isinstance(x, dict) and DIRECTIVE_MARKER in x:
                if x[DIRECTIVE_MARKER] not in (DELETE_DIRECTIVE, REPLACE_DIRECTIVE, MERGE_DIRECTIVE):
                    raise err_bad_patch_type(x[DIRECTIVE_MARKER], x)
                continue
            val, keep = _strip(x)
            if keep:
                res.append(val)
        return res, True
    return v, True


def _slice_element_kind(*slices: list[Any]) -> str | None:
    prev: str | None = None
    for s in slices:
        for v in s:
            k = _kind(v)
            if prev is None:
                prev = k
                if k == "slice":
                    raise StrategicMergeError(ERR_NO_LIST_OF_LISTS)
            elif prev != k:
                raise StrategicMergeError(
                    "list element types are not identical: [" + " ".join(go_value(x) for x in slices) + "]")
    return prev


# ---------------------------------------------------------------------------------------------
# the merge


def strategic_merge(original: JSON, patch: JSON, schema: SchemaNode | None) -> JSON:
    """Apply ``patch`` to ``original`` (neither is modified) and return the new object.

    ``schema`` is the node of the object's type (None: merge-patch semantics plus directives).
    Raises :class:`StrategicMergeError`.
    """
    if not isinstance(patch, dict) or not isinstance(original, dict):
        raise StrategicMergeError(ERR_BAD_JSON_DOC)
    try:
        return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), schema)
    except RecursionError:
        raise StrategicMergeError("patch is nested too deeply") from None


def _merge_map(original: JSON, patch: JSON, schema: SchemaNode | None) -> JSON:
    if DIRECTIVE_MARKER in patch:
        directive = patch[DIRECTIVE_MARKER]
        if directive == REPLACE_DIRECTIVE:
            del patch[DIRECTIVE_MARKER]
            return _strip(patch)[0]  # type: ignore[no-any-return]
        if directive == DELETE_DIRECTIVE:
            return {}
        raise err_bad_patch_type(directive, patch)

    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, schema)

    delete_lists = [k for k in patch if k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)]
    for k in [k for k in patch if not k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)] + delete_lists:
        pv = patch[k]
        is_delete_list = k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        if is_delete_list:
            k = _extract_key(k, DELETE_FROM_PRIMITIVE_LIST_PREFIX)
        if pv is None:
            original.pop(k, None)
            continue
        if k not in original or _kind(original[k]) != _kind(pv):
            if not is_delete_list:
                val, keep = _strip(pv)
                if keep:
                    original[k] = val
                else:
                    original.pop(k, None)
            continue
        ov = original[k]
        node = _prop(schema, k)
        if isinstance(ov, dict):
            _, strategy = _strategy(node)
            if strategy == REPLACE_DIRECTIVE:
                original[k] = _strip(pv)[0]
            else:
                original[k] = _merge_map(ov, pv, node)
        elif isinstance(ov, list):
            _, strategy = _strategy(node)
            original[k] = _merge_slice_handler(ov, pv, node, strategy, is_delete_list)
        else:
            original[k] = pv
    return original


def _apply_retain_keys(original: JSON, patch: JSON) -> None:
    """``$retainKeys``: drop every key of ``original`` the list does not name."""
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retain, list):
        raise StrategicMergeError(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for k, v in patch.items():
        if v is None or k.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) or k.startswith(SET_ELEMENT_ORDER_PREFIX):
            continue
        if _index_of(retain, k) < 0:
            raise StrategicMergeError(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for k in list(original):
        if _index_of(retain, k) < 0:
            del original[k]


def _merge_ordered_lists(original: JSON, patch: JSON, schema: SchemaNode | None) -> None:
    """``mergePatchIntoOriginal``: merge each list named by ``$setElementOrder/<list>`` in that order."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise err_bad_arg_type("[]interface {}", order)
        list_key = _extract_key(key, SET_ELEMENT_ORDER_PREFIX)
        found_original = list_key in original
        found_patch = list_key in patch
        original_list: list[Any] = []
        patch_list: list[Any] = []
        if found_original:
            if not isinstance(original[list_key], list):
                raise err_bad_arg_type("[]interface {}", original[list_key])
            original_list = original[list_key]
        if found_patch:
            if not isinstance(patch[list_key], list):
                raise err_bad_arg_type("[]interface {}", patch[list_key])
            patch_list = patch[list_key]
        node = _prop(schema, list_key)
        _, strategy = _strategy(node)
        if strategy != MERGE_DIRECTIVE:
            # Only merge lists have an order to keep; other lists are replaced in the main loop.
            continue
        merge_key = (node.patch_merge_key if node is not None else None) or ""
        _validate_set_order(patch_list, order, merge_key)

        if found_original and not found_patch:
            merged = list(original_list)
        elif not found_original and found_patch:
            merged = _strip(patch_list)[0]
        elif found_original and found_patch:
            merged = _merge_slice_handler(original_list, patch_list, node, strategy, False)
        else:
            continue

        if not merge_key:
            patch_items, server_only = _partition_primitives(merged, order)
        else:
            patch_items, server_only = _partition_maps(merged, order, merge_key)
        kind = _slice_element_kind(original_list, patch_list)
        original[list_key] = _normalize_element_order(patch_items, server_only, order, original_list,
                                                      merge_key, kind)
        patch.pop(list_key, None)


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _eq(left, right)
    if not isinstance(left, dict):
        raise err_bad_arg_type("map[string]interface {}", left)
    if not isinstance(right, dict):
        raise err_bad_arg_type("map[string]interface {}", right)
    if merge_key not in left:
        raise err_no_merge_key(left, merge_key)
    if merge_key not in right:
        raise err_no_merge_key(right, merge_key)
    return _eq(left[merge_key], right[merge_key])


def _validate_set_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """Every (non-deleting) patch item must appear in ``$setElementOrder``, in the same order."""
    if not order or not patch_list:
        return
    non_delete = _split_deletes(patch_list)[0] if merge_key else patch_list
    pi = si = 0
    while pi < len(non_delete) and si < len(order):
        item = non_delete[pi]
        if isinstance(item, dict) and DIRECTIVE_MARKER in item:
            pi += 1
            continue
        if _merge_key_equal(item, order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(non_delete) and si >= len(order):
        raise StrategicMergeError(
            f"the order in patch list:\n{go_value(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{go_value(order)}")


def _split_deletes(items: list[Any]) -> tuple[list[Any], list[Any]]:
    keep, delete = [], []
    for v in items:
        if not isinstance(v, dict):
            raise err_bad_arg_type("map[string]interface {}", v)
        if v.get(DIRECTIVE_MARKER) == DELETE_DIRECTIVE:
            delete.append(v)
        else:
            keep.append(v)
    return keep, delete


def _merge_slice_handler(original: list[Any], patch: Any, node: SchemaNode | None, strategy: str,
                         is_delete_list: bool) -> list[Any]:
    if not isinstance(patch, list):
        raise err_bad_arg_type("[]interface {}", patch)
    merge_key = (node.patch_merge_key if node is not None else None) or ""
    if strategy == MERGE_DIRECTIVE:
        return _merge_slice(original, patch, _items(node), merge_key, is_delete_list)
    if is_delete_list:
        if _slice_element_kind(original, patch) in ("map", "slice"):
            return original
        return _delete_from_slice(original, patch)
    return _strip(patch)[0]  # type: ignore[no-any-return]


def _merge_slice(original: list[Any], patch: list[Any], elem: SchemaNode | None, merge_key: str,
                 is_delete_list: bool) -> list[Any]:
    if not original and not patch:
        return original
    kind = _slice_element_kind(original, patch)
    if kind != "map":
        if is_delete_list:
            return _delete_from_slice(original, patch)
        merged: list[Any] = []
        for v in original + patch:
            if _index_of(merged, v) < 0:
                merged.append(v)
    else:
        if not merge_key:
            raise StrategicMergeError("cannot merge lists without merge key for type map")
        original, patch = _merge_special_elements(original, patch, merge_key)
        merged = _merge_keyed(original, patch, merge_key, elem)

    if not merge_key:
        patch_items, server_only = _partition_primitives(merged, patch)
    else:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)


def _merge_special_elements(original: list[Any], patch: list[Any],
                            merge_key: str) -> tuple[list[Any], list[Any]]:
    """Keyed-list items carrying ``$patch``: delete matching entries, or replace the whole list."""
    plain: list[Any] = []
    replace = False
    for v in patch:
        if DIRECTIVE_MARKER not in v:
            plain.append(v)
            continue
        directive = v[DIRECTIVE_MARKER]
        if directive == DELETE_DIRECTIVE:
            if merge_key not in v:
                raise err_no_merge_key(v, merge_key)
            original = _delete_matching(original, merge_key, v[merge_key])
        elif directive == REPLACE_DIRECTIVE:
            replace = True
        elif directive == MERGE_DIRECTIVE:
            raise StrategicMergeError(ERR_MERGING_LISTS_DIRECTIVE)
        else:
            raise err_bad_patch_type(directive, v)
    if replace:
        return [_strip(v)[0] for v in plain], []
    return original, plain


def _find_by_key(items: list[Any], key: str, value: Any) -> int:
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise StrategicMergeError(f"value for key {i} is not a map.")
        if key in v and _eq(v[key], value):
            return i
    return -1


def _delete_matching(original: list[Any], key: str, value: Any) -> list[Any]:
    out = list(original)
    while (i := _find_by_key(out, key, value)) >= 0:
        del out[i]
    return out


def _merge_keyed(original: list[Any], patch: list[Any], merge_key: str, elem: SchemaNode | None) -> list[Any]:
    merged = list(original)
    for v in patch:
        if merge_key not in v:
            raise err_no_merge_key(v, merge_key)
        i = _find_by_key(merged, merge_key, v[merge_key])
        if i >= 0:
            merged[i] = _merge_map(merged[i], v, elem)
        else:
            merged.append(_strip(v)[0])
    return merged


def _delete_from_slice(current: list[Any], to_delete: list[Any]) -> list[Any]:
    return [v for v in current if _index_of(to_delete, v) < 0]


def _partition_primitives(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    in_patch: list[Any] = []
    server_only: list[Any] = []
    for v in items:
        (in_patch if _index_of(by, v) >= 0 else server_only).append(v)
    return in_patch, server_only


def _partition_maps(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    in_patch: list[Any] = []
    server_only: list[Any] = []
    for v in items:
        if not isinstance(v, dict):
            raise err_bad_arg_type("map[string]interface {}", v)
        if merge_key not in v:
            raise err_no_merge_key(v, merge_key)
        (in_patch if _find_by_key(by, merge_key, v[merge_key]) >= 0 else server_only).append(v)
    return in_patch, server_only


def _position(order: list[Any], item: Any, merge_key: str, kind: str | None) -> int:
    """``index``: where ``item`` sits in ``order`` (by merge key for maps), -1 if absent."""
    if kind == "map":
        val = item.get(merge_key) if isinstance(item, dict) else None
        for i, x in enumerate(order):
            if isinstance(x, dict) and _eq(x.get(merge_key), val):
                return i
        return -1
    return _index_of(order, item)


def _normalize_slice_order(to_sort: list[Any], order: list[Any], merge_key: str,
                           kind: str | None) -> list[Any]:
    to_delete: list[Any] = []
    if kind == "map":
        for lst in (to_sort, order):
            for item in lst:
                if not isinstance(item, dict):
                    raise err_bad_arg_type("map[string]interface {}", item)
                if merge_key not in item:
                    raise err_no_merge_key(item, merge_key)
        to_sort, to_delete = _split_deletes(to_sort)
    # Items absent from ``order`` go first, as upstream's always-true comparison moves them.
    ranked = sorted(to_sort, key=lambda x: _position(order, x, merge_key, kind))
    return ranked + to_delete


def _normalize_element_order(patch: list[Any], server_only: list[Any], patch_order: list[Any],
                             server_order: list[Any], merge_key: str, kind: str | None) -> list[Any]:
    """Patch items in patch order, server-only items in live order, interleaved by live order."""
    patch = _normalize_slice_order(patch, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    out: list[Any] = []
    i = j = 0
    while i < len(server_only) or j < len(patch):
        if j >= len(patch):
            out.append(server_only[i])
            i += 1
        elif i >= len(server_only):
            out.append(patch[j])
            j += 1
        else:
            li = _position(server_order, server_only[i], merge_key, kind)
            ri = _position(server_order, patch[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(server_only[i])
                i += 1
            else:
                out.append(patch[j])
                j += 1
    return out
