"""Tables for custom resources from a CRD version's ``additionalPrinterColumns``.

Mirrors apiextensions-apiserver ``tableconvertor.go``: the first column is always Name, the
declared columns follow in order (no automatic Age), and each cell is the *first* match of the
column's JSONPath converted by the declared type (``cellForJSONValue``). A CRD that declares no
columns gets Name and Age.
"""

from __future__ import annotations

import json
import re
from typing import Any

from minikube_lite.apiserver.wire.duration import INVALID, human_duration, parse_timestamp

from .common import JSON, Cell, col, name_col, name_of

DEFAULT_DESCRIPTION = "Custom resource definition column (in JSONPath format): {}"
_AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
               "description": "CreationTimestamp is a timestamp representing the server time when this object "
               "was created. It is not guaranteed to be set in happens-before order across separate "
               "operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\n"
               "Populated by the system. Read-only. Null for lists. More info: "
               "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"}

_MISSING = object()


class JSONPathError(ValueError):
    """A path this evaluator cannot parse (the cell is then null, as upstream on error)."""


# --- a small client-go JSONPath subset: .a, ['a'], [0], [-1], [*], [?(@.k=="v")], [?(@.k)] ------

_TOKEN = re.compile(
    r"""\.\.?(?P<field>[A-Za-z0-9_\-$@/]+|\*)?          # .field or .* (or .. recursive descent)
      | \[\s*'(?P<quoted>(?:[^'\\]|\\.)*)'\s*\]        # ['field.with.dots']
      | \[\s*"(?P<dquoted>(?:[^"\\]|\\.)*)"\s*\]       # ["field"]
      | \[\s*(?P<index>-?\d+)\s*\]                    # [0]
      | \[\s*(?P<slice>-?\d*\s*:\s*-?\d*)\s*\]        # [1:3]
      | \[\s*\*\s*\]                                  # [*]
      | \[\s*\?\((?P<filter>.*?)\)\s*\]               # [?(@.type=="Ready")]
    """,
    re.VERBOSE,
)
_FILTER = re.compile(
    r"""^\s*@(?P<path>(?:\.[A-Za-z0-9_\-]+)+)\s*(?:(?P<op>==|!=|<=|>=|<|>)\s*(?P<value>'[^']*'|"[^"]*"|[^\s]+))?\s*$"""
)


def _parse(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise JSONPathError(f"unrecognized character in action: {text[pos:]!r}")
        token = m.group(0)
        if token.startswith(".."):
            steps.append(("recurse", None))
            if m.group("field"):
                steps.append(("field", m.group("field")))
        elif m.group("field") is not None:
            steps.append(("all", None) if m.group("field") == "*" else ("field", m.group("field")))
        elif token.startswith(".") and m.group("field") is None:
            pass  # a bare "." is the current object
        elif m.group("quoted") is not None:
            steps.append(("field", m.group("quoted")))
        elif m.group("dquoted") is not None:
            steps.append(("field", m.group("dquoted")))
        elif m.group("index") is not None:
            steps.append(("index", int(m.group("index"))))
        elif m.group("slice") is not None:
            lo, _, hi = m.group("slice").partition(":")
            steps.append(("slice", (int(lo) if lo.strip() else None, int(hi) if hi.strip() else None)))
        elif m.group("filter") is not None:
            fm = _FILTER.match(m.group("filter"))
            if fm is None:
                raise JSONPathError(f"unsupported filter {m.group('filter')!r}")
            steps.append(("filter", (fm.group("path")[1:].split("."), fm.group("op"), fm.group("value"))))
        else:
            steps.append(("all", None))
        pos = m.end()
    return steps


def _literal(text: str) -> Any:
    if text[:1] in ("'", '"'):
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


def _filter_ok(item: Any, spec: tuple[list[str], str | None, str | None]) -> bool:
    keys, op, raw = spec
    cur: Any = item
    for key in keys:
        if not isinstance(cur, dict) or key not in cur:
            return False
        cur = cur[key]
    if op is None:
        return True
    want = _literal(raw or "")
    try:
        if op == "==":
            return bool(cur == want)
        if op == "!=":
            return bool(cur != want)
        if op == "<":
            return bool(cur < want)
        if op == ">":
            return bool(cur > want)
        if op == "<=":
            return bool(cur <= want)
        return bool(cur >= want)
    except TypeError:
        return False


def _descend(value: Any) -> list[Any]:
    out = [value]
    if isinstance(value, dict):
        for v in value.values():
            out.extend(_descend(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_descend(v))
    return out


def jsonpath_matches(obj: Any, path: str) -> list[Any]:
    """All matches of a client-go style JSONPath, missing keys allowed (no match -> ``[]``)."""
    current = [obj]
    for kind, arg in _parse(path):
        nxt: list[Any] = []
        for value in current:
            if kind == "field":
                if isinstance(value, dict) and arg in value:
                    nxt.append(value[arg])
            elif kind == "index":
                if isinstance(value, list) and -len(value) <= arg < len(value):
                    nxt.append(value[arg])
            elif kind == "slice":
                if isinstance(value, list):
                    nxt.extend(value[arg[0]:arg[1]])
            elif kind == "all":
                if isinstance(value, list):
                    nxt.extend(value)
                elif isinstance(value, dict):
                    nxt.extend(value.values())
            elif kind == "filter":
                if isinstance(value, list):
                    nxt.extend(v for v in value if _filter_ok(v, arg))
            elif kind == "recurse":
                nxt.extend(_descend(value))
        current = nxt
    return current


def _go_text(value: Any) -> str:
    """What the JSONPath printer writes for one value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def cell_for(value: Any, col_type: str, now: float) -> Cell:
    """``cellForJSONValue``: convert the first match by the column's declared type."""
    if value is _MISSING or value is None:
        return None
    if col_type == "integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return int(value)
    if col_type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)
    if col_type == "boolean":
        return value if isinstance(value, bool) else None
    if col_type == "date":
        if not isinstance(value, str):
            return None
        stamp = parse_timestamp(value)
        return INVALID if stamp is None else human_duration(now - stamp)
    return _go_text(value)


def printer_columns(crd_version: JSON | None) -> list[JSON]:
    declared = (crd_version or {}).get("additionalPrinterColumns") or []
    return [c for c in declared if isinstance(c, dict)] or [dict(_AGE_COLUMN)]


def custom_columns(crd_version: JSON | None) -> list[JSON]:
    out = [name_col()]
    for c in printer_columns(crd_version):
        out.append(col(str(c.get("name") or ""), str(c.get("type") or "string"),
                       str(c.get("description") or DEFAULT_DESCRIPTION.format(c.get("jsonPath") or "")),
                       fmt=str(c.get("format") or ""), priority=int(c.get("priority") or 0)))
    return out


def custom_row(crd_version: JSON | None, obj: JSON, now: float) -> list[Cell]:
    cells: list[Cell] = [name_of(obj)]
    for c in printer_columns(crd_version):
        try:
            matches = jsonpath_matches(obj, str(c.get("jsonPath") or ""))
        except JSONPathError:
            matches = []
        cells.append(cell_for(matches[0] if matches else _MISSING, str(c.get("type") or "string"), now))
    return cells
