"""Structural-schema handling of custom resources: pruning, defaulting, validation.

apiextensions-apiserver treats a CRD version's ``openAPIV3Schema`` as the type of its custom
resources: fields the schema does not declare are dropped (unless
``x-kubernetes-preserve-unknown-fields``), ``default:`` values fill absent fields, and the
object is validated against ``type``/``required``/``enum``/``pattern``/bounds and the CEL
``x-kubernetes-validations`` rules. The snapshot controller and users rely on these rules (a
VolumeSnapshotClass without ``driver`` is rejected; a VolumeSnapshot's source is immutable),
so they are reproduced here with upstream's field paths and messages.

CEL: a small interpreter covers the rule shapes CRDs like the snapshot ones use: ``has()``,
``size()``, ``self``/``oldSelf`` member access, ``==``/``!=``/``<``/``<=``/``>``/``>=``, ``!``,
``&&``, ``||``, parentheses and literals. Rules outside that subset are skipped, not guessed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from ..errors import FieldError, invalid_value, not_supported, required
from .upstream import SchemaSet

JSON = dict[str, Any]

# kube-openapi validate error texts (errors/schema.go), as apiextensions reports them.
TYPE_FMT = "{path} in body must be of type {type}: \"{actual}\""
PATTERN_FMT = "{path} in body should match '{pattern}'"
MIN_FMT = "{path} in body should be greater than or equal to {limit}"
MIN_EXCL_FMT = "{path} in body should be greater than {limit}"
MAX_FMT = "{path} in body should be less than or equal to {limit}"
MAX_EXCL_FMT = "{path} in body should be less than {limit}"
MIN_LENGTH_FMT = "{path} in body should be at least {limit} chars long"
MAX_LENGTH_DETAIL = "may not be more than {limit} bytes"
MIN_ITEMS_FMT = "{path} in body should have at least {limit} items"
MAX_ITEMS_DETAIL = "must have at most {limit} items"
ONE_OF_FMT = "{path} in body must validate one and only one schema (oneOf)"
ANY_OF_FMT = "{path} in body must validate at least one schema (anyOf)"
DATE_TIME_FMT = "{path} in body must be of type date-time: \"{value}\""
CEL_DEFAULT_MESSAGE_FMT = "failed rule: {rule}"

_ROOT_KEEP = ("apiVersion", "kind", "metadata")
_DATE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _type_name(value: Any) -> str:
    """kube-openapi's name for a decoded JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


# -- pruning ------------------------------------------------------------------------------------


def _prune(schema: JSON, value: Any, path: str, unknown: list[str] | None, root: bool = False) -> Any:
    if isinstance(value, dict):
        props: JSON = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        embedded = bool(schema.get("x-kubernetes-embedded-resource"))
        out: JSON = {}
        for key, sub in value.items():
            if (root or embedded) and key in _ROOT_KEEP:
                if key == "metadata" and isinstance(sub, dict):
                    out[key] = _prune_meta(sub, _child(path, key), unknown)
                else:
                    out[key] = sub
                continue
            if key in props:
                sub_schema = props[key] or {}
                if sub is None and not sub_schema.get("nullable"):
                    continue  # apiextensions drops nulls of non-nullable fields before defaulting
                out[key] = _prune(sub_schema, sub, _child(path, key), unknown)
            elif isinstance(additional, dict):
                out[key] = _prune(additional, sub, _child(path, key), unknown)
            elif preserve or additional is True:
                out[key] = sub
            elif unknown is not None:
                unknown.append(_child(path, key))
        return out
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [_prune(items, sub, _index(path, i), unknown) for i, sub in enumerate(value)]
        return value
    return value


def _prune_meta(meta: JSON, path: str, unknown: list[str] | None) -> JSON:
    """ObjectMeta of a custom resource is typed: unknown metadata fields are dropped too."""
    pruned, meta_unknown = SchemaSet.load().prune_object_meta(meta)
    if unknown is not None:
        unknown.extend(_child(path, p) for p in meta_unknown)
    return pruned


def prune(schema: JSON, obj: JSON) -> JSON:
    """``obj`` without the fields ``schema`` does not declare (a new dict; ``obj`` is untouched)."""
    result: JSON = _prune(schema, obj, "", None, root=True)
    return result


def unknown_fields(schema: JSON, obj: JSON) -> list[str]:
    """Paths pruning would drop (``spec.foo``, ``spec.ports[0].bar``), for fieldValidation."""
    found: list[str] = []
    _prune(schema, obj, "", found, root=True)
    return found


# -- defaulting ---------------------------------------------------------------------------------


def _default(schema: JSON, value: Any) -> None:
    if isinstance(value, dict):
        props: JSON = schema.get("properties") or {}
        for key, sub_schema in props.items():
            if not isinstance(sub_schema, dict):
                continue
            if "default" in sub_schema and (key not in value or (value[key] is None
                                                                 and not sub_schema.get("nullable"))):
                value[key] = copy.deepcopy(sub_schema["default"])
            if key in value:
                _default(sub_schema, value[key])
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            for key, sub in value.items():
                if key not in props:
                    _default(additional, sub)
    elif isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for sub in value:
                _default(items, sub)


def apply_defaults(schema: JSON, obj: JSON) -> JSON:
    """Fill absent fields from ``default:`` (in place, like the apiserver's decode-time defaulting)."""
    _default(schema, obj)
    return obj


# -- validation ---------------------------------------------------------------------------------


def validate(schema: JSON, obj: JSON, old: JSON | None = None) -> list[FieldError]:
    """Field errors for ``obj``; transition rules (``oldSelf``) run only when ``old`` is given."""
    errs: list[FieldError] = []
    _validate(schema, obj, old, "", errs, root=True, has_old=old is not None)
    return errs


def _validate(schema: JSON, value: Any, old: Any, path: str, errs: list[FieldError], root: bool = False,
              has_old: bool = False) -> None:
    if value is None:
        if not schema.get("nullable") and schema.get("type") and not root:
            errs.append(invalid_value(path, "null", TYPE_FMT.format(path=path, type=schema["type"],
                                                                    actual="null")))
        return
    stype = schema.get("type")
    int_or_string = bool(schema.get("x-kubernetes-int-or-string"))
    if int_or_string:
        if not (_JSON_TYPES["integer"](value) or isinstance(value, str)):
            errs.append(invalid_value(path, _type_name(value),
                                      TYPE_FMT.format(path=path, type="integer-or-string", actual=_type_name(value))))
            return
    elif isinstance(stype, str) and stype in _JSON_TYPES and not _JSON_TYPES[stype](value):
        errs.append(invalid_value(path, _type_name(value),
                                  TYPE_FMT.format(path=path, type=stype, actual=_type_name(value))))
        return
    _validate_scalar(schema, value, path, errs)
    if isinstance(value, dict):
        _validate_object(schema, value, old if isinstance(old, dict) else None, path, errs, root, has_old)
    elif isinstance(value, list):
        _validate_array(schema, value, old if isinstance(old, list) else None, path, errs, has_old)
    _validate_combinators(schema, value, path, errs)
    _validate_cel(schema, value, old, path, errs, has_old)


def _validate_scalar(schema: JSON, value: Any, path: str, errs: list[FieldError]) -> None:
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        errs.append(not_supported(path, value, [str(e) for e in enum]))
    if isinstance(value, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, value) is None:
                    errs.append(invalid_value(path, value, PATTERN_FMT.format(path=path, pattern=pattern)))
            except re.error:
                pass
        min_len = schema.get("minLength")
        if isinstance(min_len, int) and len(value) < min_len:
            errs.append(invalid_value(path, value, MIN_LENGTH_FMT.format(path=path, limit=min_len)))
        max_len = schema.get("maxLength")
        if isinstance(max_len, int) and len(value.encode()) > max_len:
            errs.append(FieldError("FieldValueTooLong", path, MAX_LENGTH_DETAIL.format(limit=max_len)))
        if schema.get("format") == "date-time" and not _DATE_TIME_RE.match(value):
            errs.append(invalid_value(path, value, DATE_TIME_FMT.format(path=path, value=value)))
    if isinstance(value, int | float) and not isinstance(value, bool):
        minimum = schema.get("minimum")
        if isinstance(minimum, int | float):
            if schema.get("exclusiveMinimum") and value <= minimum:
                errs.append(invalid_value(path, value, MIN_EXCL_FMT.format(path=path, limit=minimum)))
            elif value < minimum:
                errs.append(invalid_value(path, value, MIN_FMT.format(path=path, limit=minimum)))
        maximum = schema.get("maximum")
        if isinstance(maximum, int | float):
            if schema.get("exclusiveMaximum") and value >= maximum:
                errs.append(invalid_value(path, value, MAX_EXCL_FMT.format(path=path, limit=maximum)))
            elif value > maximum:
                errs.append(invalid_value(path, value, MAX_FMT.format(path=path, limit=maximum)))


def _validate_object(schema: JSON, value: JSON, old: JSON | None, path: str, errs: list[FieldError],
                     root: bool, has_old: bool) -> None:
    for name in schema.get("required") or []:
        if name not in value or value[name] is None:
            errs.append(required(_child(path, name)))
    props: JSON = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    for key, sub in value.items():
        if root and key in _ROOT_KEEP:
            continue
        sub_schema = props.get(key)
        if sub_schema is None and isinstance(additional, dict):
            sub_schema = additional
        if isinstance(sub_schema, dict):
            sub_old = old.get(key) if old is not None else None
            _validate(sub_schema, sub, sub_old, _child(path, key), errs,
                      has_old=has_old and old is not None and key in old)


def _validate_array(schema: JSON, value: list[Any], old: list[Any] | None, path: str,
                    errs: list[FieldError], has_old: bool) -> None:
    min_items = schema.get("minItems")
    if isinstance(min_items, int) and len(value) < min_items:
        errs.append(invalid_value(path, len(value), MIN_ITEMS_FMT.format(path=path, limit=min_items)))
    max_items = schema.get("maxItems")
    if isinstance(max_items, int) and len(value) > max_items:
        # field.TooMany prints the actual count before the detail; errors.FieldError only prints
        # values for Invalid-like reasons, so the count travels in the detail.
        errs.append(FieldError("FieldValueTooMany", path,
                               f"{len(value)}: " + MAX_ITEMS_DETAIL.format(limit=max_items)))
    items = schema.get("items")
    if not isinstance(items, dict):
        return
    keys = schema.get("x-kubernetes-list-map-keys") or []
    old_by_key: dict[tuple[Any, ...], Any] = {}
    if old is not None and schema.get("x-kubernetes-list-type") == "map" and keys:
        for item in old:
            if isinstance(item, dict):
                old_by_key[tuple(item.get(k) for k in keys)] = item
    for i, sub in enumerate(value):
        sub_old = None
        if old_by_key and isinstance(sub, dict):
            sub_old = old_by_key.get(tuple(sub.get(k) for k in keys))
        _validate(items, sub, sub_old, _index(path, i), errs, has_old=has_old and sub_old is not None)


def _validate_combinators(schema: JSON, value: Any, path: str, errs: list[FieldError]) -> None:
    one_of = schema.get("oneOf")
    if isinstance(one_of, list) and one_of:
        passing = sum(1 for branch in one_of if isinstance(branch, dict) and not _branch_errors(branch, value))
        if passing != 1:
            errs.append(invalid_value(path, _type_name(value), ONE_OF_FMT.format(path=path or "<root>")))
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and any_of and not schema.get("x-kubernetes-int-or-string"):
        if not any(isinstance(branch, dict) and not _branch_errors(branch, value) for branch in any_of):
            errs.append(invalid_value(path, _type_name(value), ANY_OF_FMT.format(path=path or "<root>")))


def _branch_errors(branch: JSON, value: Any) -> list[FieldError]:
    """A oneOf/anyOf branch is usually a bare ``required:`` or ``type:`` constraint."""
    errs: list[FieldError] = []
    _validate(branch, value, None, "", errs, root=False)
    return errs


# -- CEL (subset) -------------------------------------------------------------------------------


def _validate_cel(schema: JSON, value: Any, old: Any, path: str, errs: list[FieldError], has_old: bool) -> None:
    rules = schema.get("x-kubernetes-validations")
    if not isinstance(rules, list):
        return
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
            continue
        text = rule["rule"]
        try:
            program = _compile_cel(text)
        except _CelUnsupported:
            continue
        if program.uses_old_self and not has_old and not rule.get("optionalOldSelf"):
            continue  # transition rules only run on update, where the old value exists
        try:
            ok = program.evaluate(value, old if has_old else None)
        except _CelUnsupported:
            continue
        if ok is not True:
            message = rule.get("message") or CEL_DEFAULT_MESSAGE_FMT.format(rule=text)
            reason = rule.get("reason")
            field_path = path
            if isinstance(rule.get("fieldPath"), str) and rule["fieldPath"]:
                field_path = path + rule["fieldPath"] if rule["fieldPath"].startswith(".") else rule["fieldPath"]
            if reason == "FieldValueRequired":
                errs.append(required(field_path, str(message)))
            elif reason == "FieldValueForbidden":
                errs.append(FieldError("FieldValueForbidden", field_path, str(message)))
            else:
                errs.append(invalid_value(field_path, _type_name(value), str(message)))


class _CelUnsupported(Exception):
    """The rule uses CEL this interpreter does not implement; it is skipped."""


_CEL_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[()!.<>,])|(?P<id>[A-Za-z_][A-Za-z0-9_]*))"
)
_CEL_ESCAPES = {"__dash__": "-", "__dot__": ".", "__slash__": "/", "__underscores__": "__"}


def _unescape(name: str) -> str:
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        if name in _CEL_ESCAPES:
            return _CEL_ESCAPES[name]
        return name[2:-2]
    for esc, repl in _CEL_ESCAPES.items():
        name = name.replace(esc, repl)
    return name


class _Missing(Exception):
    """Member access on an absent field: a CEL runtime error (``no such key``)."""


class _CelProgram:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _CEL_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _CelUnsupported(text)
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.pos = 0
        self.uses_old_self = any(t == ("id", "oldSelf") for t in self.tokens)
        self.ast = self._or()
        if self.pos != len(self.tokens):
            raise _CelUnsupported(text)

    # parser: builds nested tuples
    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, value: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (value is not None and tok[1] != value):
            raise _CelUnsupported(value or "eof")
        self.pos += 1
        return tok

    def _or(self) -> Any:
        node = self._and()
        while self._peek() == ("op", "||"):
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self) -> Any:
        node = self._unary()
        while self._peek() == ("op", "&&"):
            self._take()
            node = ("and", node, self._unary())
        return node

    def _unary(self) -> Any:
        if self._peek() == ("op", "!"):
            self._take()
            return ("not", self._unary())
        return self._cmp()

    def _cmp(self) -> Any:
        left = self._primary()
        tok = self._peek()
        if tok is not None and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self._take()
            return ("cmp", tok[1], left, self._primary())
        return left

    def _primary(self) -> Any:
        tok = self._take()
        kind, text = tok
        if kind == "op" and text == "(":
            node = self._or()
            self._take(")")
            return node
        if kind == "num":
            return ("lit", float(text) if "." in text else int(text))
        if kind == "str":
            return ("lit", text[1:-1].encode().decode("unicode_escape"))
        if kind == "id":
            if text in ("true", "false"):
                return ("lit", text == "true")
            if text == "null":
                return ("lit", None)
            if text in ("has", "size"):
                self._take("(")
                arg = self._or()
                self._take(")")
                if text == "has" and arg[0] != "member":
                    raise _CelUnsupported("has() needs a field selection")
                return self._members((text, arg))
            if text in ("self", "oldSelf"):
                return self._members(("var", text))
        raise _CelUnsupported(text)

    def _members(self, node: Any) -> Any:
        while self._peek() == ("op", "."):
            self._take()
            kind, name = self._take()
            if kind != "id":
                raise _CelUnsupported(name)
            if self._peek() == ("op", "("):
                if name != "size":
                    raise _CelUnsupported(name)
                self._take("(")
                self._take(")")
                node = ("size", node)
                continue
            node = ("member", node, _unescape(name))
        return node

    # evaluator
    def evaluate(self, self_value: Any, old_value: Any) -> Any:
        try:
            return self._eval(self.ast, self_value, old_value)
        except _Missing:
            return None

    def _eval(self, node: Any, cur: Any, old: Any) -> Any:
        op = node[0]
        if op == "lit":
            return node[1]
        if op == "var":
            return cur if node[1] == "self" else old
        if op == "member":
            base = self._eval(node[1], cur, old)
            if not isinstance(base, dict) or node[2] not in base:
                raise _Missing(node[2])
            return base[node[2]]
        if op == "has":
            target = node[1]
            base = self._eval(target[1], cur, old)
            return isinstance(base, dict) and base.get(target[2]) is not None
        if op == "size":
            val = self._eval(node[1], cur, old)
            if isinstance(val, str | list | dict):
                return len(val)
            raise _CelUnsupported("size of " + type(val).__name__)
        if op == "not":
            val = self._eval(node[1], cur, old)
            if not isinstance(val, bool):
                raise _CelUnsupported("! on non-bool")
            return not val
        if op == "and":
            # CEL's && is commutative over errors: false wins.
            left = self._safe(node[1], cur, old)
            if left is False:
                return False
            right = self._safe(node[2], cur, old)
            if right is False:
                return False
            if isinstance(left, _Missing) or isinstance(right, _Missing):
                raise _Missing("and")
            return bool(left) and bool(right)
        if op == "or":
            left = self._safe(node[1], cur, old)
            if left is True:
                return True
            right = self._safe(node[2], cur, old)
            if right is True:
                return True
            if isinstance(left, _Missing) or isinstance(right, _Missing):
                raise _Missing("or")
            return False
        if op == "cmp":
            a = self._eval(node[2], cur, old)
            b = self._eval(node[3], cur, old)
            sym = node[1]
            if sym == "==":
                return a == b
            if sym == "!=":
                return a != b
            if not (isinstance(a, int | float | str) and type(a) is type(b)) and not (
                    isinstance(a, int | float) and isinstance(b, int | float)):
                raise _CelUnsupported("ordering of mixed types")
            return _ORDER[sym](a, b)
        raise _CelUnsupported(str(op))

    def _safe(self, node: Any, cur: Any, old: Any) -> Any:
        try:
            return self._eval(node, cur, old)
        except _Missing as exc:
            return exc


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: bool(x < y), "<=": lambda x, y: bool(x <= y),
    ">": lambda x, y: bool(x > y), ">=": lambda x, y: bool(x >= y),
}
_CEL_CACHE: dict[str, _CelProgram | None] = {}


def _compile_cel(text: str) -> _CelProgram:
    if text not in _CEL_CACHE:
        try:
            _CEL_CACHE[text] = _CelProgram(text)
        except _CelUnsupported:
            _CEL_CACHE[text] = None
    program = _CEL_CACHE[text]
    if program is None:
        raise _CelUnsupported(text)
    return program
