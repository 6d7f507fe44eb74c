"""Built-in validation of a write, turned into the causes of a 422 Invalid.

Type rules live in ``apiserver/schema/validation.py``; custom resources are validated against their CRD
schema in ``apiserver/resources/crd.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import FieldError

if TYPE_CHECKING:
    from ..engine import ApiEngine
    from ..registry import ResourceType

JSON = dict[str, Any]


def validate_object(engine: ApiEngine, rt: ResourceType, obj: JSON, old: JSON | None) -> list[FieldError]:
    if rt.custom:
        from ..resources.crd import validate_custom

        return validate_custom(rt, obj, old)
    from .validation import validate_create, validate_update

    if old is None:
        return list(validate_create(rt, obj))
    return list(validate_update(rt, obj, old))
