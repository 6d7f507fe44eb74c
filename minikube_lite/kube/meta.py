"""ObjectMeta readers and writers on plain dicts (``metav1.Object`` getters, nil-safe).

Objects arrive as decoded JSON with any field possibly absent; these return the empty value
upstream's getters return instead of raising, so a rule reads ``name_of(pv)`` and not a chain of
``.get(...) or {}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = dict[str, Any]


def metadata_of(obj: Mapping[str, Any]) -> JSON:
    return obj.get("metadata") or {}


def spec_of(obj: Mapping[str, Any]) -> JSON:
    return obj.get("spec") or {}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return metadata_of(obj).get("annotations") or {}


def has_annotation(obj: Mapping[str, Any], key: str) -> bool:
    return key in annotations_of(obj)


def set_annotation(obj: JSON, key: str, value: str) -> None:
    md = obj.setdefault("metadata", {})
    anns = md.get("annotations")
    if not isinstance(anns, dict):
        anns = {}
        md["annotations"] = anns
    anns[key] = value


def name_of(obj: Mapping[str, Any]) -> str:
    return str(metadata_of(obj).get("name") or "")


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(metadata_of(obj).get("namespace") or "")


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(metadata_of(obj).get("uid") or "")


def phase_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("status") or {}).get("phase") or "")
