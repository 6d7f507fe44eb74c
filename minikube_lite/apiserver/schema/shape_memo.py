"""Memos keyed by the exact JSON of an object part: the write path's answer to replicas.

Controllers create many objects that differ only in their identity: the pods of one
ReplicaSet or StatefulSet, the claims of one ``volumeClaimTemplate``. Work that depends only on
the rest of the object (the fields a create gives its manager, whether a pod spec passes
validation, whether a body fits its schema) then comes out the same every time. The key is the
``orjson`` encoding of that part, which determines the JSON value exactly (``true`` and ``1``,
``1`` and ``1.0`` encode differently), so a memo can only ever return what the full computation
would. A value orjson cannot encode (a non-string key) simply gets no key and is not memoised.

Memos are bounded and cleared when full, as the write path's other memos are. A cluster has
few such shapes at a time (one per controller template), and each entry holds a key of a
kilobyte or more, so the bound is small: 256 shapes cost well under a megabyte per memo.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson

V = TypeVar("V")

#: Keys longer than this are not worth remembering (and would hold a lot of memory).
MAX_KEY_BYTES = 32 * 1024


def json_key(value: Any) -> bytes | None:
    """The exact JSON of ``value``, or None when orjson cannot encode it or it is too large."""
    try:
        data = orjson.dumps(value)
    except TypeError:
        return None
    return data if len(data) <= MAX_KEY_BYTES else None


_SCALARS = (str, int, float, bool, type(None))


def json_key_without(obj: dict[str, Any], root: tuple[str, ...], meta: tuple[str, ...],
                     types: tuple[type, ...] = _SCALARS) -> bytes | None:
    """:func:`json_key` of ``obj`` without the fields ``root`` and ``metadata.<meta>``.

    A field is only left out when its value is of one of ``types``: the caller names the
    identity fields (name, uid, timestamps) whose such values cannot change its answer.
    """
    shape = {k: v for k, v in obj.items() if not (k in root and isinstance(v, types))}
    md = obj.get("metadata")
    if isinstance(md, dict):
        shape["metadata"] = {k: v for k, v in md.items() if not (k in meta and isinstance(v, types))}
    return json_key(shape)


class ShapeMemo(Generic[V]):
    """A bounded dict that forgets everything when it fills up."""

    __slots__ = ("_data", "capacity")

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._data: dict[Any, V] = {}

    def get(self, key: Any) -> V | None:
        return self._data.get(key)

    def put(self, key: Any, value: V) -> None:
        if len(self._data) >= self.capacity:
            self._data.clear()
        self._data[key] = value

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
