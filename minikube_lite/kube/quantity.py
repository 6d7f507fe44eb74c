"""``resource.Quantity``: the grammar, exact values and the canonical string.

Quantities are compared (PVC growth, capacity checks) and printed (``kubectl get pv``
CAPACITY) everywhere, so the rules follow apimachinery ``pkg/api/resource/quantity.go``:
a value keeps the *format* of its suffix (binary ``Ki..Ei``, decimal ``n..E`` or an exponent),
is rounded up to nano precision, and ``format_quantity`` gives ``Quantity.String()``
(``1024Mi`` -> ``1Gi``, ``1000m`` -> ``1``, ``1.5Gi`` -> ``1536Mi``).

This is the one parser of the tree: the API server validates with it, the config file reads node
capacities with it, controllers size volumes with it and the scheduler compares requests in the
integer units of ``Value()``/``MilliValue()`` (:func:`value`, :func:`milli_value`), so no two
components can read the same string differently.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from functools import lru_cache
from typing import Any, Literal

Format = Literal["BinarySI", "DecimalSI", "DecimalExponent"]

# Upstream error texts (quantity.go ErrFormatWrong, ErrNumeric, ErrSuffix).
ERR_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

_SPLIT = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_EXPONENT = re.compile(r"^[eE]([+-]?\d+)$")

_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL.items()}
_BINARY_BY_EXP = {v: k for k, v in _BINARY.items()}
_NANO = Decimal("1e-9")


class QuantityError(ValueError):
    """A string that is not a Quantity; ``str()`` is the upstream message."""


@lru_cache(maxsize=4096)
def _parse(text: str) -> tuple[Decimal, Format]:
    # Cached: the same few strings ("100m", "1Gi") are read millions of times in a large cluster.
    if not isinstance(text, str) or not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    m = _SPLIT.match(text)
    if m is None:
        raise QuantityError(ERR_FORMAT_WRONG)
    number, suffix = m.group(1), m.group(2)
    if not _NUMBER.match(number):
        raise QuantityError(ERR_NUMERIC)
    fmt: Format
    if suffix in _BINARY:
        base, exp, fmt = 2, _BINARY[suffix], "BinarySI"
    elif suffix in _DECIMAL:
        base, exp, fmt = 10, _DECIMAL[suffix], "DecimalSI"
    else:
        em = _EXPONENT.match(suffix)
        if em is None:
            raise QuantityError(ERR_SUFFIX)
        base, exp, fmt = 10, int(em.group(1)), "DecimalExponent"
    with localcontext() as ctx:
        ctx.prec = 200
        value = Decimal(number) * (Decimal(base) ** exp)
        # Upstream keeps at most nano precision and rounds away from zero.
        if int(value.normalize().as_tuple().exponent) < -9:
            rounding = ROUND_CEILING if value > 0 else ROUND_FLOOR
            value = value.quantize(_NANO, rounding=rounding)
    return value, fmt


def parse_quantity(text: str) -> Decimal:
    """The exact value of a quantity string (``"1Gi"`` -> ``Decimal(1073741824)``)."""
    return _parse(text)[0]


def quantity_format(text: str) -> Format:
    """The format a quantity keeps when it is printed again (taken from its suffix)."""
    return _parse(text)[1]


def is_quantity(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    try:
        _parse(str(value))
    except QuantityError:
        return False
    return True


def _int_and_exp10(value: Decimal) -> tuple[int, int]:
    """``value == mantissa * 10**exp`` with mantissa free of trailing zeros."""
    sign, digits, exp = value.normalize().as_tuple()
    mantissa = int("".join(map(str, digits)) or "0")
    return (-mantissa if sign else mantissa), int(exp)  # type: ignore[arg-type]


def format_quantity(value: Decimal | int | str, fmt: Format = "DecimalSI") -> str:
    """``Quantity.String()``: the canonical form of ``value`` in ``fmt``.

    A string argument is parsed first and keeps its own format.
    """
    if isinstance(value, str):
        value, fmt = _parse(value)
    value = Decimal(value)
    if value == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < value < 1024 or value != value.to_integral_value():
            fmt = "DecimalSI"
        else:
            n, exp = int(value), 0
            while n % 1024 == 0 and exp < 60:
                n //= 1024
                exp += 10
            # No power of 1024 divides it (``1.5Ki`` is 1536): plain bytes, no suffix.
            return f"{n}{_BINARY_BY_EXP.get(exp, '')}"
    mantissa, exp = _int_and_exp10(value)
    # Lower the exponent to a multiple of three (Go: exponent % 3 keeps the dividend's sign).
    shift = exp % 3
    mantissa *= 10 ** shift
    exp -= shift
    if fmt == "DecimalExponent":
        return f"{mantissa}" if exp == 0 else f"{mantissa}e{exp}"
    suffix = _DECIMAL_BY_EXP.get(exp)
    if suffix is None:
        return f"{mantissa}e{exp}"
    return f"{mantissa}{suffix}"


def canonical(text: object) -> str:
    """Canonical string for a stored quantity (ints and floats as JSON gives them too)."""
    if isinstance(text, bool):
        return str(text)
    if isinstance(text, int | float):
        return format_quantity(Decimal(str(text)))
    try:
        return format_quantity(str(text))
    except QuantityError:
        return str(text)


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as ``Quantity.Cmp``."""
    x, y = parse_quantity(a), parse_quantity(b)
    return (x > y) - (x < y)


def _number(q: Any) -> Decimal:
    """A stored quantity (string, or a number as JSON gives it) as an exact decimal."""
    if isinstance(q, bool):
        raise QuantityError(ERR_FORMAT_WRONG)
    if isinstance(q, int | float):
        return Decimal(str(q))
    return parse_quantity(str(q))


def value(q: Any) -> int:
    """``Quantity.Value()``: the integer value rounded up (bytes, counts); 0 for a non-quantity."""
    try:
        return math.ceil(_number(q))
    except QuantityError:
        return 0


def milli_value(q: Any) -> int:
    """``Quantity.MilliValue()``: thousandths rounded up (CPU millicores); 0 for a non-quantity."""
    try:
        return math.ceil(_number(q) * 1000)
    except QuantityError:
        return 0


def resource_units(name: str, q: Any) -> int:
    """The unit the scheduler compares a resource in: millicores for cpu, plain value otherwise."""
    return milli_value(q) if name == "cpu" else value(q)
