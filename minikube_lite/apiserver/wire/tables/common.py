"""Shared pieces of the server-side printers: column definitions and the cell helpers.

These mirror the helpers ``pkg/printers/internalversion/printers.go`` uses
(``labels.FormatLabels``, ``metav1.FormatLabelSelector``, ``layoutContainerCells``,
``translateTimestampSince``) so every type's cells are built from the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minikube_lite.apiserver.wire.duration import age

JSON = dict[str, Any]
Cell = Any
RowFn = Callable[[JSON, float], list[Cell]]

# metav1.ObjectMeta{}.SwaggerDoc() texts the upstream Name and Age columns carry.
NAME_DESCRIPTION = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources "
    "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_DESCRIPTION = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
    "value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for "
    "lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)


def col(name: str, type_: str = "string", description: str = "", *, fmt: str = "", priority: int = 0) -> JSON:
    """One ``TableColumnDefinition`` with every field present, as the server sends it."""
    return {"name": name, "type": type_, "format": fmt, "description": description or name, "priority": priority}


def name_col() -> JSON:
    return col("Name", "string", NAME_DESCRIPTION, fmt="name")


def age_col() -> JSON:
    return col("Age", "string", CREATION_DESCRIPTION)


def d(obj: Any, *keys: str | int) -> Any:
    """Walk nested dicts/lists, None when any step is missing or of the wrong shape."""
    cur = obj
    for key in keys:
        if isinstance(key, int):
            if not isinstance(cur, list) or not -len(cur) <= key < len(cur):
                return None
            cur = cur[key]
        else:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(key)
    return cur


def s(obj: Any, *keys: str | int) -> str:
    """A string field, ``""`` when absent (Go's zero value)."""
    value = d(obj, *keys)
    return value if isinstance(value, str) else ("" if value is None else str(value))


def i(obj: Any, *keys: str | int) -> int:
    """An integer field, 0 when absent (Go's zero value)."""
    value = d(obj, *keys)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def lst(obj: Any, *keys: str | int) -> list[Any]:
    value = d(obj, *keys)
    return value if isinstance(value, list) else []


def dct(obj: Any, *keys: str | int) -> JSON:
    value = d(obj, *keys)
    return value if isinstance(value, dict) else {}


def name_of(obj: JSON) -> str:
    return s(obj, "metadata", "name")


def age_of(obj: JSON, now: float) -> str:
    return age(d(obj, "metadata", "creationTimestamp"), now)


def format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` joined with ``,``, ``<none>`` when empty."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={'' if v is None else v}" for k, v in sorted(labels.items()))


def selector_string(selector: Any) -> str | None:
    """``LabelSelectorAsSelector(sel).String()``; None when the selector is not valid.

    A nil or empty selector renders as ``""``.
    """
    if selector is None:
        return ""
    if not isinstance(selector, dict):
        return None
    reqs: list[tuple[str, str]] = []
    for key, value in sorted(dct(selector, "matchLabels").items()):
        reqs.append((key, f"{key}={'' if value is None else value}"))
    for expr in lst(selector, "matchExpressions"):
        if not isinstance(expr, dict):
            return None
        key, op = s(expr, "key"), s(expr, "operator")
        values = sorted(str(v) for v in lst(expr, "values"))
        if op == "In":
            text = f"{key} in ({','.join(values)})"
        elif op == "NotIn":
            text = f"{key} notin ({','.join(values)})"
        elif op == "Exists":
            text = key
        elif op == "DoesNotExist":
            text = f"!{key}"
        else:
            return None
        if op in ("In", "NotIn") and not values:
            return None
        reqs.append((key, text))
    reqs.sort(key=lambda r: r[0])
    return ",".join(text for _, text in reqs)


def format_label_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` when it renders empty, ``<error>`` if invalid."""
    text = selector_string(selector)
    if text is None:
        return "<error>"
    return text or "<none>"


def container_cells(containers: Any) -> tuple[str, str]:
    """``layoutContainerCells``: names and images joined with ``,`` in the same order."""
    items = [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
    return ",".join(s(c, "name") for c in items), ",".join(s(c, "image") for c in items)


ACCESS_MODE_ABBREVIATIONS = (
    ("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"),
)


def access_modes_string(modes: Any) -> str:
    """``GetAccessModesAsString``: abbreviations in a fixed order, each at most once."""
    present = {m for m in modes if isinstance(m, str)} if isinstance(modes, list) else set()
    return ",".join(abbr for mode, abbr in ACCESS_MODE_ABBREVIATIONS if mode in present)
