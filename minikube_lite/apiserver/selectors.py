"""Label and field selectors, parsed as kube-apiserver parses them.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``, ``k notin (a,b)``;
commas join requirements with AND (commas inside parentheses belong to the set).
Field selectors: ``f=v``, ``f==v``, ``f!=v`` only, over a type's selectable fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import ApiError, bad_request

Matcher = Callable[[Mapping[str, str]], bool]

_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # =, !=, in, notin, exists, !
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        if self.op in ("!=", "notin"):
            return not present or labels[self.key] not in self.values
        return False


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _check_key(key: str, selector: str) -> None:
    if not key or len(key.split("/")[-1]) > 63 or not _LABEL_KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key \"{key}\": "
                          "name part must consist of alphanumeric characters, '-', '_' or '.', "
                          "and must start and end with an alphanumeric character")


def _check_value(value: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise bad_request(f"unable to parse requirement: values[0][{value}]: Invalid value: \"{value}\": "
                          "a valid label must be an empty string or consist of alphanumeric characters, "
                          "'-', '_' or '.', and must start and end with an alphanumeric character")


_SET_RE = re.compile(r"^\s*(\S+?)\s+(in|notin)\s*\((.*)\)\s*$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse a label selector; raises a 400 ApiError on bad syntax."""
    if text is None or not text.strip():
        return []
    reqs: list[Requirement] = []
    for raw in _split_top_level(text):
        part = raw.strip()
        if not part:
            raise bad_request(f"unable to parse requirement: found '', expected: identifier (selector {text!r})")
        m = _SET_RE.match(part)
        if m:
            key, op, inner = m.group(1), m.group(2), m.group(3)
            values = tuple(v.strip() for v in inner.split(",") if v.strip())
            _check_key(key, text)
            for v in values:
                _check_value(v)
            reqs.append(Requirement(key, op, values))
            continue
        for op in ("!=", "==", "="):
            if op in part:
                key, _, value = part.partition(op)
                key, value = key.strip(), value.strip()
                _check_key(key, text)
                _check_value(value)
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
                break
        else:
            if part.startswith("!"):
                key = part[1:].strip()
                _check_key(key, text)
                reqs.append(Requirement(key, "!"))
            else:
                if " " in part or "(" in part or ")" in part:
                    raise bad_request(f"unable to parse requirement: found '{part}', expected: in, notin, =, ==, !=, gt, lt")
                _check_key(part, text)
                reqs.append(Requirement(part, "exists"))
    return reqs


def label_matcher(text: str | None) -> Matcher | None:
    reqs = parse_label_selector(text)
    if not reqs:
        return None
    return lambda labels: all(r.matches(labels) for r in reqs)


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # = or !=
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        actual = fields.get(self.field, "")
        return actual == self.value if self.op == "=" else actual != self.value


def _unescape_field_value(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_field_terms(text: str) -> list[str]:
    parts, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def parse_field_selector(text: str | None, supported: set[str] | None = None,
                         kind_for_error: str = "") -> list[FieldRequirement]:
    """Parse a field selector. A field the type does not support gives the upstream 400."""
    if text is None or not text.strip():
        return []
    reqs: list[FieldRequirement] = []
    for raw in _split_field_terms(text):
        part = raw.strip()
        if not part:
            continue
        for op in ("!=", "==", "="):
            idx = part.find(op)
            if idx > 0:
                field = part[:idx].strip()
                value = _unescape_field_value(part[idx + len(op):].strip())
                reqs.append(FieldRequirement(field, "!=" if op == "!=" else "=", value))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
    if supported is not None:
        for r in reqs:
            if r.field not in supported:
                raise ApiError(400, "BadRequest", f'field label not supported: {r.field}')
    return reqs


def field_matcher(reqs: list[FieldRequirement]) -> Matcher | None:
    if not reqs:
        return None
    return lambda fields: all(r.matches(fields) for r in reqs)
