"""Field-error helpers and ``ValidateObjectMeta``: the parts every type's validation shares.

Paths are built as ``field.Path`` prints them (``spec.containers[0].name``,
``spec.resources[storage]``); messages are apimachinery's.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from minikube_lite.apiserver.errors import FieldError, _go_value, forbidden_field, invalid_value, required
from minikube_lite.kube.quantity import QuantityError, format_quantity, parse_quantity, quantity_format

from .names import NameFn, is_dns1123_subdomain, is_qualified_name, is_valid_label_value, name_is_dns_label

JSON = dict[str, Any]
Errors = list[FieldError]

TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024
FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
IS_NOT_POSITIVE = "must be greater than zero"
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


class GoValue:
    """A bad value already rendered the way Go's ``%#v``/``String()`` prints it (not quoted)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


class _NotFound(FieldError):
    """``field.NotFound``: errors.py has no text for it, so render it here."""

    def body(self) -> str:
        text = "Not found: " + _go_value(self.value)
        return text + (": " + self.detail if self.detail else "")


def not_found_field(field: str, value: Any) -> FieldError:
    return _NotFound("FieldValueNotFound", field, "", value, True)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", field, "", value, True)


def too_long(field: str, max_bytes: int) -> FieldError:
    unit = "byte" if max_bytes == 1 else "bytes"
    return FieldError("FieldValueTooLong", field, f"may not be more than {max_bytes} {unit}")


def key(path: str, name: str) -> str:
    return f"{path}[{name}]"


def idx(path: str, n: int) -> str:
    return f"{path}[{n}]"


def child(path: str, *names: str) -> str:
    return ".".join([path, *names]) if path else ".".join(names)


def go_string_slice(values: list[Any]) -> GoValue:
    return GoValue("[]string{" + ", ".join(f'"{v}"' for v in values) + "}")


def get(obj: Any, *keys: str) -> Any:
    cur = obj
    for k in keys:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def as_dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def quantity(value: Any) -> tuple[Decimal, str] | None:
    """(value, canonical string) of a stored quantity; None when unreadable.

    Memoised for strings (bounded): every pod repeats the same few requests and limits,
    and the parse is the costliest step of pod validation. The result is immutable.
    """
    if type(value) is str:
        hit = _QUANTITIES.get(value, _UNSEEN)
        if hit is not _UNSEEN:
            return hit
        result = _quantity(value)
        if len(_QUANTITIES) >= _QUANTITIES_MAX:
            _QUANTITIES.clear()
        _QUANTITIES[value] = result
        return result
    return _quantity(value)


def _quantity(value: Any) -> tuple[Decimal, str] | None:
    try:
        text = str(value) if not isinstance(value, str) else value
        parsed = parse_quantity(text)
        return parsed, format_quantity(parsed, quantity_format(text))
    except (QuantityError, ValueError):
        return None


_UNSEEN: Any = object()
_QUANTITIES: dict[str, tuple[Decimal, str] | None] = {}
_QUANTITIES_MAX = 4096


def validate_positive_quantity(value: Any, path: str) -> Errors:
    """``ValidatePositiveQuantityValue``."""
    q = quantity(value)
    if q is None:
        return [invalid_value(path, as_str(value), "must be a valid quantity")]
    if q[0] <= 0:
        return [invalid_value(path, q[1], IS_NOT_POSITIVE)]
    return []


def validate_nonnegative_quantity(value: Any, path: str) -> Errors:
    """``ValidateNonnegativeQuantity``."""
    q = quantity(value)
    if q is None:
        return [invalid_value(path, as_str(value), "must be a valid quantity")]
    if q[0] < 0:
        return [invalid_value(path, q[1], IS_NEGATIVE)]
    return []


def validate_immutable(new: Any, old: Any, path: str) -> Errors:
    if new != old:
        return [invalid_value(path, new, FIELD_IMMUTABLE)]
    return []


def validate_labels(labels: Any, path: str) -> Errors:
    """``ValidateLabels``: keys are qualified names, values valid label values (reported at ``path``)."""
    errs: Errors = []
    for k, v in sorted(as_dict(labels).items()):
        errs.extend(invalid_value(path, k, msg) for msg in is_qualified_name(k))
        errs.extend(invalid_value(path, as_str(v), msg) for msg in is_valid_label_value(as_str(v)))
    return errs


def validate_annotations(annotations: Any, path: str) -> Errors:
    errs: Errors = []
    items = as_dict(annotations)
    for k in sorted(items):
        errs.extend(invalid_value(path, k, msg) for msg in is_qualified_name(k.lower()))
    size = sum(len(k.encode()) + len(as_str(v).encode()) for k, v in items.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT_B:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B))
    return errs


def validate_owner_references(refs: Any, path: str) -> Errors:
    errs: Errors = []
    controllers: list[str] = []
    for ref in as_list(refs):
        ref = as_dict(ref)
        api_version = as_str(ref.get("apiVersion"))
        version = api_version.rpartition("/")[2]
        if not version:
            errs.append(invalid_value(child(path, "apiVersion"), version, "version must not be empty"))
        if not as_str(ref.get("kind")):
            errs.append(invalid_value(child(path, "kind"), "", "kind must not be empty"))
        if not as_str(ref.get("name")):
            errs.append(invalid_value(child(path, "name"), "", "name must not be empty"))
        if not as_str(ref.get("uid")):
            errs.append(invalid_value(child(path, "uid"), "", "uid must not be empty"))
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        errs.append(invalid_value(path, GoValue(go_string_slice(controllers).text), "Only one reference can have "
                                  f"Controller set to true. Found \"true\" in references for {' and '.join(controllers)}"))
    return errs


def validate_finalizers(finalizers: Any, path: str) -> Errors:
    errs: Errors = []
    items = [as_str(f) for f in as_list(finalizers)]
    for fin in items:
        errs.extend(invalid_value(path, fin, msg) for msg in is_qualified_name(fin))
    if "orphan" in items and "foregroundDeletion" in items:
        errs.append(invalid_value(path, go_string_slice(items),
                                  "finalizer orphan and foregroundDeletion cannot be both set"))
    return errs


def validate_object_meta(obj: JSON, namespaced: bool, name_fn: NameFn, path: str = "metadata") -> Errors:
    """``ValidateObjectMeta`` for a create."""
    meta = as_dict(obj.get("metadata"))
    errs: Errors = []
    gen_name = as_str(meta.get("generateName"))
    if gen_name:
        errs.extend(invalid_value(child(path, "generateName"), gen_name, msg) for msg in name_fn(gen_name, True))
    name = as_str(meta.get("name"))
    if not name:
        errs.append(required(child(path, "name"), "name or generateName is required"))
    else:
        errs.extend(invalid_value(child(path, "name"), name, msg) for msg in name_fn(name, False))
    namespace = as_str(meta.get("namespace"))
    if namespaced:
        if not namespace:
            errs.append(required(child(path, "namespace")))
        else:
            errs.extend(invalid_value(child(path, "namespace"), namespace, msg)
                        for msg in name_is_dns_label(namespace, False))
    elif namespace:
        errs.append(forbidden_field(child(path, "namespace"), "not allowed on this type"))
    errs.extend(_meta_common(meta, path))
    return errs


def _meta_common(meta: JSON, path: str) -> Errors:
    errs: Errors = []
    generation = meta.get("generation")
    if isinstance(generation, int) and not isinstance(generation, bool) and generation < 0:
        errs.append(invalid_value(child(path, "generation"), generation, IS_NEGATIVE))
    errs.extend(validate_labels(meta.get("labels"), child(path, "labels")))
    errs.extend(validate_annotations(meta.get("annotations"), child(path, "annotations")))
    errs.extend(validate_owner_references(meta.get("ownerReferences"), child(path, "ownerReferences")))
    errs.extend(validate_finalizers(meta.get("finalizers"), child(path, "finalizers")))
    return errs


def validate_object_meta_update(obj: JSON, old: JSON, path: str = "metadata") -> Errors:
    """``ValidateObjectMetaUpdate``: identity fields are immutable; labels etc. still valid."""
    meta, ometa = as_dict(obj.get("metadata")), as_dict(old.get("metadata"))
    errs: Errors = []
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if field in ometa or field in meta:
            errs.extend(validate_immutable(meta.get(field), ometa.get(field), child(path, field)))
    errs.extend(_meta_common(meta, path))
    return errs


def validate_dns_subdomain(value: str, path: str) -> Errors:
    return [invalid_value(path, value, msg) for msg in is_dns1123_subdomain(value)]


def spec_diff(type_name: str, old: JSON, new: JSON) -> str:
    """A compact ``cmp.Diff``-style rendering of the changed top-level fields."""
    lines = [f"  {type_name}{{"]
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            field = name[:1].upper() + name[1:]
            if name in old:
                lines.append(f"- \t{field}: {json.dumps(old[name], sort_keys=True, default=str)},")
            if name in new:
                lines.append(f"+ \t{field}: {json.dumps(new[name], sort_keys=True, default=str)},")
    lines.append("  }")
    return "\n".join(lines)


def validate_nonnegative_int(value: Any, path: str) -> Errors:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid_value(path, value, IS_NEGATIVE)]
    return []
