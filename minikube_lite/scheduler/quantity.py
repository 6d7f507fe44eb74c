"""Kubernetes resource quantities as the scheduler needs them.

The scheduler compares requests with allocatable in integer units (millicores for CPU, bytes
for everything else), exactly as ``resource.Quantity.MilliValue()``/``Value()`` do, so a
``500m`` request against a ``1`` CPU node behaves as upstream. Parsing is cached because the
same few strings ("100m", "1Gi") are read millions of times in a large cluster.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}


@lru_cache(maxsize=4096)
def _parse(text: str) -> Decimal:
    s = text.strip()
    if not s:
        raise ValueError("empty quantity")
    for suffix, mult in _BINARY.items():
        if s.endswith(suffix):
            return Decimal(s[: -len(suffix)]) * mult
    last = s[-1]
    if last in _DECIMAL and not s[-2:-1].isalpha():
        # "1e3" is an exponent, "1E" is exa: only a trailing letter after a digit is a suffix.
        try:
            return Decimal(s[:-1]) * _DECIMAL[last]
        except InvalidOperation:
            pass
    try:
        return Decimal(s)
    except InvalidOperation as exc:
        raise ValueError(f"quantities must match the regular expression: {text!r}") from exc


def parse_quantity(value: Any) -> Decimal:
    """A quantity (string or number) as an exact decimal; ValueError if it cannot be read."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    return _parse(str(value))


def value(q: Any) -> int:
    """``Quantity.Value()``: the integer value rounded up (bytes, counts)."""
    try:
        return math.ceil(parse_quantity(q))
    except ValueError:
        return 0


def milli_value(q: Any) -> int:
    """``Quantity.MilliValue()``: thousandths rounded up (CPU millicores)."""
    try:
        return math.ceil(parse_quantity(q) * 1000)
    except ValueError:
        return 0


def resource_units(name: str, q: Any) -> int:
    """The unit the scheduler compares a resource in: millicores for cpu, plain value otherwise."""
    return milli_value(q) if name == "cpu" else value(q)
