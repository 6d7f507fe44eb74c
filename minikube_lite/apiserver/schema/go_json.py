"""Go's texts for JSON values that do not decode: the messages ``encoding/json`` and apimachinery
give for a wrong JSON type, a malformed quantity, an RFC 3339 time or base64 data, and the
strict decoder's unknown and duplicate fields.

A real kube-apiserver answers with these (400 BadRequest) before anything else runs; the decode
walk of :mod:`.upstream` words its errors with them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

STRICT_DECODING_PREFIX = "strict decoding error: "
UNKNOWN_FIELD_FMT = 'unknown field "{}"'
DUPLICATE_FIELD_FMT = 'duplicate field "{}"'
# apiserver handlers/rest.go transformDecodeError.
DECODE_ERROR_FMT = '{kind} in version "{version}" cannot be handled as a {kind}: {error}'
# sigs.k8s.io/json stops collecting strict errors after this many.
MAX_STRICT_ERRORS = 100
# apimachinery resource.ErrFormatWrong / ErrSuffix / ErrNumeric.
QUANTITY_FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
QUANTITY_SUFFIX_WRONG = "unable to parse quantity's suffix"
QUANTITY_NUMERIC_WRONG = "unable to parse numeric part of quantity"
# Go's UnmarshalTypeError.Error().
GO_STRUCT_FIELD_FMT = "json: cannot unmarshal {value} into Go struct field {struct}.{field} of type {type}"
GO_VALUE_FMT = "json: cannot unmarshal {value} into Go value of type {type}"

_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_QUANTITY_SUFFIXES = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"}
_EXP_SUFFIX_RE = re.compile(r"^[eE][-+]?[0-9]+$")
_B64_ALPHABET = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def json_kind(value: Any) -> str:
    """The JSON type of a decoded value as Go's errors name it (``number``, ``object``...)."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def number_literal(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)  # "1.0", as written
    return repr(value)


def quantity_error(text: str) -> str | None:
    """The apimachinery ParseQuantity error for ``text``, None when it parses."""
    text = text.strip()
    m = _QUANTITY_RE.match(text)
    if not m:
        return QUANTITY_FORMAT_WRONG
    number, suffix = m.group(1), m.group(2)
    if suffix not in _QUANTITY_SUFFIXES and not _EXP_SUFFIX_RE.match(suffix):
        return QUANTITY_SUFFIX_WRONG
    try:
        float(number)
    except ValueError:
        return QUANTITY_NUMERIC_WRONG
    return None


RFC3339_LAYOUT = "2006-01-02T15:04:05Z07:00"
# (layout element, digits, range-error name, low, high); "" digits = literal separator.
_RFC3339_ELEMENTS: tuple[tuple[str, int, str, int, int], ...] = (
    ("2006", 4, "", 0, 9999), ("-", 0, "", 0, 0), ("01", 2, "month", 1, 12), ("-", 0, "", 0, 0),
    ("02", 2, "day", 1, 31), ("T", 0, "", 0, 0), ("15", 2, "hour", 0, 23), (":", 0, "", 0, 0),
    ("04", 2, "minute", 0, 59), (":", 0, "", 0, 0), ("05", 2, "second", 0, 59),
)


def _go_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def rfc3339_error(value: str) -> str | None:
    """Go's ``time.Parse(time.RFC3339, value)`` error text (what metav1.Time decoding reports), or None."""
    rest = value
    fields: dict[str, int] = {}

    def cannot(elem: str) -> str:
        return (f"parsing time {_go_quote(value)} as {_go_quote(RFC3339_LAYOUT)}: cannot parse "
                f"{_go_quote(rest)} as {_go_quote(elem)}")

    for elem, digits, name, low, high in _RFC3339_ELEMENTS:
        if not digits:
            if not rest.startswith(elem):
                return cannot(elem)
            rest = rest[len(elem):]
            continue
        chunk = rest[:digits]
        if len(chunk) < digits or not chunk.isdigit() or not chunk.isascii():
            return cannot(elem)
        number = int(chunk)
        if name and not low <= number <= high:
            return f"parsing time {_go_quote(value)}: {name} out of range"
        fields[elem] = number
        rest = rest[digits:]
        if elem == "05" and rest.startswith((".", ",")) and rest[1:2].isdigit():
            i = 1
            while i < len(rest) and rest[i].isdigit():
                i += 1
            rest = rest[i:]
    if rest.startswith("Z"):
        rest = rest[1:]
    elif (len(rest) >= 6 and rest[0] in "+-" and rest[3] == ":" and rest[1:3].isdigit()
          and rest[4:6].isdigit()):
        rest = rest[6:]
    else:
        return cannot("Z07:00")
    if rest:
        return f"parsing time {_go_quote(value)}: extra text: {_go_quote(rest)}"
    if fields["02"] > _days_in(fields["01"], fields["2006"]):
        return f"parsing time {_go_quote(value)}: day out of range"
    return None


def base64_error(text: str) -> str | None:
    """Go's base64.StdEncoding error for ``text`` (``illegal base64 data at input byte N``)."""
    data = text.encode("utf-8", "surrogatepass")
    stripped = data.replace(b"\r", b"").replace(b"\n", b"")
    try:
        base64.b64decode(stripped, validate=True)
        if len(stripped) % 4 == 0:
            return None
    except (binascii.Error, ValueError):
        pass
    for i, ch in enumerate(stripped):
        if ch == ord("="):
            # Padding is only valid in the last two positions of a complete quantum.
            if len(stripped) % 4 == 0 and i >= len(stripped) - 2:
                continue
            return f"illegal base64 data at input byte {i}"
        if ch not in _B64_ALPHABET:
            return f"illegal base64 data at input byte {i}"
    return f"illegal base64 data at input byte {len(stripped) - len(stripped) % 4}"


def strict_message(strict_errors: list[str]) -> str:
    """``strict decoding error: unknown field "spec.foo", duplicate field "spec.bar"``."""
    return STRICT_DECODING_PREFIX + ", ".join(strict_errors)
