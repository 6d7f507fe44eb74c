"""Keys repeated inside one JSON object of a request body (``duplicate field "metadata.name"``).

Go's strict decoder reports them; ``json.loads`` keeps the last one silently. A cheap count
rules them out for nearly every body (:func:`free_of_duplicate_keys`), and a second parse that
keeps every key occurrence finds them when it cannot.
"""

from __future__ import annotations

import json
import re
from typing import Any


class PairsDict(dict[str, Any]):
    """A JSON object parsed from raw bytes that remembers every key occurrence, in order."""

    __slots__ = ("pairs",)
    pairs: list[tuple[str, Any]]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> PairsDict:
    d = PairsDict(pairs)
    d.pairs = pairs
    return d


def parse_pairs(raw: bytes | str) -> Any:
    """``raw`` parsed with every object a :class:`PairsDict` (None when it is not JSON)."""
    try:
        return json.loads(raw, object_pairs_hook=_pairs_hook)
    except (ValueError, TypeError):
        return None


def join_path(path: list[str]) -> str:
    """``["spec", "containers", "[0]", "name"]`` -> ``spec.containers[0].name``."""
    out = ""
    for seg in path:
        if seg.startswith("["):
            out += seg
        elif out:
            out += "." + seg
        else:
            out = seg
    return out


_SPACE_BEFORE_COLON = re.compile(rb'"[ \t\r\n]+:')


def _count_keys(value: Any) -> int:
    """Object keys in a decoded JSON tree, nested ones included."""
    n = 0
    if type(value) is dict:
        n = len(value)
        value = value.values()
    for sub in value:
        t = type(sub)
        if t is dict or t is list:
            n += _count_keys(sub)
    return n


def free_of_duplicate_keys(raw: bytes | str, parsed: Any) -> bool:
    """True only if the JSON text ``raw``, which decoded (last key wins) to ``parsed``, repeats no key.

    Without whitespace between a string and a colon, every key of ``raw`` ends in one ``":``
    and anything else that contains ``":`` is inside a string, so counting ``":`` gives at
    least the number of keys of ``raw``, which is at least the number of keys of ``parsed``
    (a repeated key, and whatever it held the first time, is gone from ``parsed``). The counts
    are equal only when nothing repeats. False means "maybe": parse again to find out. This
    spares the second, pure-Python parse for nearly every body clients send.
    """
    if not isinstance(parsed, dict | list):
        return False
    data = raw.encode() if isinstance(raw, str) else raw
    if _SPACE_BEFORE_COLON.search(data):
        return False
    return data.count(b'":') == _count_keys(parsed)


def find_duplicate_fields(raw: bytes | str) -> list[str]:
    """Paths of keys repeated inside one JSON object of ``raw``, in document order.

    Schema-agnostic (map keys count too); returns [] for bodies that are not valid JSON.
    """
    tree = parse_pairs(raw)
    found: list[str] = []

    def visit(value: Any, path: list[str]) -> None:
        if isinstance(value, PairsDict):
            seen: set[str] = set()
            for key, sub in value.pairs:
                if key in seen:
                    text = join_path([*path, key])
                    if text not in found:
                        found.append(text)
                seen.add(key)
                visit(sub, [*path, key])
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                visit(sub, [*path, f"[{i}]"])

    visit(tree, [])
    return found
