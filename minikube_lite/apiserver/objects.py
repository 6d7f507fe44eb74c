"""Small helpers for object metadata shared by the request path."""

from __future__ import annotations

import copy
import os
import random
from typing import Any

JSON = dict[str, Any]

# apiserver's names.SimpleNameGenerator alphabet (no vowels, no confusable digits).
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def generate_name(prefix: str, rng: random.Random | None = None) -> str:
    r = rng or random
    base = prefix[: 63 - 5]
    return base + "".join(r.choice(_NAME_ALPHABET) for _ in range(5))


def new_uid() -> str:
    """A random (version 4) UUID in its text form, without building a ``uuid.UUID``."""
    return _format_uid(os.urandom(16).hex())


def seeded_uid(rng: random.Random) -> str:
    """A version 4 UUID from ``rng``: the same sequence of uids for the same seed."""
    return _format_uid(f"{rng.getrandbits(128):032x}")


def _format_uid(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_VARIANT = "89ab"  # RFC 4122 variant bits 10xx


def without(obj: JSON, *keys: str) -> JSON:
    return {k: v for k, v in obj.items() if k not in keys}


def spec_part(obj: JSON) -> JSON:
    """Everything except metadata and status: what a generation bump tracks."""
    return without(obj, "metadata", "status", "kind", "apiVersion")


def deep_copy(obj: Any) -> Any:
    return copy.deepcopy(obj)


def meta(obj: JSON) -> JSON:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def truthy(value: str | None) -> bool:
    """Query booleans as clients send them: true, True, 1, t (Python sends True)."""
    return value is not None and value.strip().lower() in ("true", "1", "t", "yes", "y")
