"""Decode-time schema checks on write bodies: wrong JSON types and unknown fields.

Built-in types are checked against the upstream 1.35 schemas (``apiserver/schema/upstream.py``); custom
resources against their CRD's structural schema (``apiserver/schema/crd.py``), which also prunes.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..registry import ResourceType
from ..resources.crd import check_custom
from .upstream import SchemaSet

JSON = dict[str, Any]
# With no fieldValidation parameter the server warns (upstream default since 1.27).
MODES = {"": "Warn", "Ignore": "Ignore", "Warn": "Warn", "Strict": "Strict"}


def field_validation_mode(value: str) -> str:
    mode = MODES.get(value)
    if mode is None:
        raise errors.bad_request(f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got "{value}"')
    return mode


def check_object(rt: ResourceType, obj: JSON, field_validation: str,
                 warnings: list[str], raw: bytes | None = None, *, memo: bool = False) -> JSON:
    mode = field_validation_mode(field_validation)
    if rt.custom:
        return check_custom(rt, obj, mode, warnings, raw)
    result = SchemaSet.load().check(rt.api_version, rt.kind, obj, mode, raw=raw, memo=memo)
    if result.error is not None:
        raise result.error
    warnings.extend(result.warnings)
    pruned: JSON = result.pruned
    return pruned
