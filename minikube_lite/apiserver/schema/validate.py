"""Built-in validation of a write, turned into the causes of a 422 Invalid.

Type rules live in ``apiserver/schema/validation/``; custom resources are validated against their CRD
schema in ``apiserver/resources/crd.py``.
"""

from __future__ import annotations

from typing import Any

from ..errors import FieldError
from ..registry import ResourceType
from ..resources.crd import validate_custom
from .validation import validate_create, validate_update

JSON = dict[str, Any]


def validate_object(rt: ResourceType, obj: JSON, old: JSON | None) -> list[FieldError]:
    if rt.custom:
        return validate_custom(rt, obj, old)
    if old is None:
        return list(validate_create(rt, obj))
    return list(validate_update(rt, obj, old))
