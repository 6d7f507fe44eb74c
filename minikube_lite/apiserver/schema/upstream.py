"""Upstream type schemas: the SchemaNode view for patches, and decode-time field validation.

A real kube-apiserver decodes a write body into Go structs before anything else runs. That
decode is where three user-visible behaviours come from, so this module reproduces them from
the upstream 1.35 OpenAPI schemas (``minikube_lite/openapi/definitions.json``):

* a value of the wrong JSON type fails with 400 BadRequest and Go's ``encoding/json`` text
  (``json: cannot unmarshal number into Go struct field ConfigMap.data of type string``);
* fields the struct does not have are dropped, and reported (``unknown field "spec.foo"``) as
  an error or a warning depending on ``fieldValidation``;
* keys repeated in the raw JSON are reported as ``duplicate field "metadata.name"``.

Schemas are compiled lazily into small node objects, one per definition and property, and
memoised, so checking a pod with a full status costs a single walk over the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...openapi import load_definitions
from .. import errors
from ..errors import ApiError
from .duplicate_keys import PairsDict, find_duplicate_fields, join_path, parse_pairs
from .go_json import (
    DECODE_ERROR_FMT,
    DUPLICATE_FIELD_FMT,
    GO_STRUCT_FIELD_FMT,
    GO_VALUE_FMT,
    MAX_STRICT_ERRORS,
    QUANTITY_FORMAT_WRONG,
    UNKNOWN_FIELD_FMT,
    base64_error,
    json_kind,
    number_literal,
    quantity_error,
    rfc3339_error,
    strict_message,
)
from .nodes import SchemaNode
from .shape_memo import ShapeMemo, json_key_without

JSON = dict[str, Any]

FIELD_VALIDATION_IGNORE = "Ignore"
FIELD_VALIDATION_WARN = "Warn"
FIELD_VALIDATION_STRICT = "Strict"
# What kube-apiserver applies when the request carries no fieldValidation parameter.
DEFAULT_FIELD_VALIDATION = FIELD_VALIDATION_WARN


_REF_PREFIX = "#/components/schemas/"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# metav1.Time parses RFC 3339 on decode. MicroTime is treated as a plain string: its layout
# demands exactly six fractional digits and in-process writers are not held to that.
_TIME_TYPES = {"io.k8s.apimachinery.pkg.apis.meta.v1.Time"}
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Types with their own UnmarshalJSON that accept any JSON value.
_OPAQUE_TYPES = {
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
}

_INT_RANGE = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "int": (-(2**63), 2**63 - 1)}

# Node kinds used by the decode walk.
K_STRUCT, K_MAP, K_ARRAY, K_STRING, K_BYTES, K_INT, K_NUMBER, K_BOOL = range(8)
K_QUANTITY, K_INT_OR_STRING, K_TIME, K_ANY = range(8, 12)


class _Node:
    """One compiled schema position; implements the ``SchemaNode`` protocol."""

    __slots__ = ("_set", "_schema", "_props", "_items", "_additional", "kind", "go_type", "struct_name",
                 "type", "patch_merge_key", "patch_strategy", "list_type", "list_map_keys", "map_type",
                 "preserve_unknown", "description", "int_low", "int_high")

    def __init__(self, schema_set: SchemaSet, schema: JSON, def_name: str | None = None) -> None:
        self._set = schema_set
        self._schema = schema
        self._props: dict[str, _Node | None] | None = None
        self._items: _Node | None | bool = False  # False: not compiled yet
        self._additional: _Node | None | bool = False
        self.description: str | None = schema.get("description")
        self.patch_merge_key: str | None = schema.get("x-kubernetes-patch-merge-key")
        self.patch_strategy: str | None = schema.get("x-kubernetes-patch-strategy")
        self.list_type: str | None = schema.get("x-kubernetes-list-type")
        self.list_map_keys: tuple[str, ...] = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        self.map_type: str | None = schema.get("x-kubernetes-map-type")
        self.preserve_unknown: bool = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        self.struct_name = ""
        # The range of an integer field (empty for other kinds: no int is ever inside it).
        self.int_low, self.int_high = 1, 0
        stype = schema.get("type")
        self.type: str | None = stype if isinstance(stype, str) else None
        fmt = schema.get("format")
        if def_name in _OPAQUE_TYPES:
            self.kind, self.go_type, self.type = K_ANY, "", None
        elif def_name == _QUANTITY:
            self.kind, self.go_type, self.type = K_QUANTITY, "resource.Quantity", None
        elif def_name == _INT_OR_STRING or schema.get("x-kubernetes-int-or-string"):
            self.kind, self.go_type, self.type = K_INT_OR_STRING, "int32", None
        elif def_name in _TIME_TYPES:
            self.kind, self.go_type = K_TIME, "string"
        elif self.type == "array":
            self.kind, self.go_type = K_ARRAY, ""  # go_type filled lazily from the items
        elif self.type == "object" or "properties" in schema:
            self.type = "object"
            if "properties" in schema:
                self.kind = K_STRUCT
                self.struct_name = def_name.rsplit(".", 1)[-1] if def_name else ""
                self.go_type = _go_name(def_name) if def_name else "struct"
            elif "additionalProperties" in schema:
                self.kind, self.go_type = K_MAP, ""
            else:
                self.kind, self.go_type = K_ANY, ""
        elif self.type == "string":
            if fmt == "byte":
                self.kind, self.go_type = K_BYTES, "[]uint8"
            else:
                self.kind, self.go_type = K_STRING, "string"
        elif self.type == "integer":
            self.kind, self.go_type = K_INT, fmt if fmt in ("int32", "int64") else "int"
            self.int_low, self.int_high = _INT_RANGE[self.go_type]
        elif self.type == "number":
            self.kind, self.go_type = K_NUMBER, "float64"
        elif self.type == "boolean":
            self.kind, self.go_type = K_BOOL, "bool"
        else:
            self.kind, self.go_type = K_ANY, ""

    # -- SchemaNode protocol -------------------------------------------------------------------

    def property(self, name: str) -> _Node | None:
        if self.kind == K_MAP:
            return self.additional()
        props = self._props
        if props is None:
            props = self._compile_props()
        return props.get(name)

    def items(self) -> _Node | None:
        if self._items is False:
            sub = self._schema.get("items")
            self._items = self._set._compile(sub) if isinstance(sub, dict) else None
        return self._items  # type: ignore[return-value]

    # -- helpers ---------------------------------------------------------------------------------

    def additional(self) -> _Node | None:
        if self._additional is False:
            sub = self._schema.get("additionalProperties")
            self._additional = self._set._compile(sub) if isinstance(sub, dict) else None
        return self._additional  # type: ignore[return-value]

    def properties(self) -> dict[str, _Node | None]:
        return self._props if self._props is not None else self._compile_props()

    def _compile_props(self) -> dict[str, _Node | None]:
        props: dict[str, _Node | None] = {}
        for name, sub in (self._schema.get("properties") or {}).items():
            props[name] = self._set._compile(sub) if isinstance(sub, dict) else None
        self._props = props
        return props

    def go_type_name(self) -> str:
        """The Go type ``encoding/json`` names in type errors (``[]v1.Container``, ``map[string]string``)."""
        if self.go_type:
            return self.go_type
        if self.kind == K_ARRAY:
            item = self.items()
            self.go_type = "[]" + (item.go_type_name() if item is not None else "interface {}")
        elif self.kind == K_MAP:
            elem = self.additional()
            self.go_type = "map[string]" + (elem.go_type_name() if elem is not None else "interface {}")
        else:
            self.go_type = "interface {}"
        return self.go_type

    def __repr__(self) -> str:
        return f"<SchemaNode {self.go_type_name()}>"


def _go_name(def_name: str) -> str:
    """``io.k8s.api.core.v1.PodSpec`` -> ``v1.PodSpec`` (Go prints package name, not path)."""
    parts = def_name.split(".")
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else def_name


@dataclass
class SchemaCheck:
    """What decoding a write body against its type's schema found."""

    decode_error: ApiError | None = None
    unknown_fields: list[str] = field(default_factory=list)
    duplicate_fields: list[str] = field(default_factory=list)
    # ``unknown field "x"`` / ``duplicate field "y"`` in document order, as upstream lists them.
    strict_errors: list[str] = field(default_factory=list)
    # Filled for fieldValidation=Warn: the texts the server sends as ``Warning: 299 - "..."``.
    warnings: list[str] = field(default_factory=list)
    # decode_error, or for Strict the 400 that lists the strict errors.
    error: ApiError | None = None
    pruned: JSON = field(default_factory=dict)

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise self.error


class _Walk:
    """State of one decode walk (mirrors encoding/json's decodeState error bookkeeping)."""

    __slots__ = ("decode_error", "strict", "seen", "unknown", "duplicates", "check_dups")

    def __init__(self, check_dups: bool) -> None:
        self.decode_error: str | None = None
        self.strict: list[str] = []
        self.seen: set[str] = set()
        self.unknown: list[str] = []
        self.duplicates: list[str] = []
        self.check_dups = check_dups

    def type_error(self, value: str, go_type: str, struct: str, stack: list[str]) -> None:
        if self.decode_error is not None:
            return
        if struct or stack:
            self.decode_error = GO_STRUCT_FIELD_FMT.format(value=value, struct=struct, field=".".join(stack),
                                                           type=go_type)
        else:
            self.decode_error = GO_VALUE_FMT.format(value=value, type=go_type)

    def other_error(self, message: str) -> None:
        if self.decode_error is None:
            self.decode_error = message

    def strict_error(self, fmt: str, path: str, bucket: list[str]) -> None:
        msg = fmt.format(path)
        if msg in self.seen or len(self.strict) >= MAX_STRICT_ERRORS:
            return
        self.seen.add(msg)
        self.strict.append(msg)
        bucket.append(path)


class SchemaSet:
    """The upstream type schemas, compiled on demand."""

    _loaded: SchemaSet | None = None

    def __init__(self, schemas: dict[str, JSON], kube_version: str = "") -> None:
        self.schemas = schemas
        self.kube_version = kube_version
        self._def_nodes: dict[str, _Node] = {}
        self._gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in schemas.items():
            gvks = schema.get("x-kubernetes-group-version-kind") or []
            for gvk in gvks:
                key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
                if len(gvks) == 1 or key not in self._gvk:
                    self._gvk[key] = name
        self._kind_nodes: dict[tuple[str, str], _Node | None] = {}
        self._openapi_nodes: dict[int, tuple[JSON, _Node]] = {}

    @classmethod
    def load(cls) -> SchemaSet:
        """The shared instance built from the generated definitions (loaded once per process)."""
        if cls._loaded is None:
            data = load_definitions()
            cls._loaded = cls(data["schemas"], data.get("kubernetes", ""))
        return cls._loaded

    # -- lookup ----------------------------------------------------------------------------------

    def definition_name(self, api_version: str, kind: str) -> str | None:
        group, _, version = api_version.rpartition("/")
        return self._gvk.get((group, version, kind))

    def definition(self, name: str) -> _Node | None:
        node = self._def_nodes.get(name)
        if node is None:
            schema = self.schemas.get(name)
            if schema is None:
                return None
            node = _Node(self, schema, name)
            self._def_nodes[name] = node
        return node

    def node(self, api_version: str, kind: str) -> SchemaNode | None:
        """The schema of a served built-in kind (``node("v1", "Pod")``), None if we have none."""
        return self._kind_node(api_version, kind)

    def _kind_node(self, api_version: str, kind: str) -> _Node | None:
        key = (api_version, kind)
        if key not in self._kind_nodes:
            name = self.definition_name(api_version, kind)
            self._kind_nodes[key] = self.definition(name) if name else None
        return self._kind_nodes[key]

    def node_from_openapi(self, schema: JSON) -> SchemaNode:
        """Wrap a CRD version's ``openAPIV3Schema``; its ``metadata`` is the real ObjectMeta.

        Memoised per schema object (kept alive by the cache), so a CRD's schema is compiled
        once however many patches use it.
        """
        hit = self._openapi_nodes.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        root = _Node(self, schema)
        meta = self.definition(_OBJECT_META)
        props = root.properties()
        if meta is not None:
            props["metadata"] = meta
        if len(self._openapi_nodes) > 256:
            self._openapi_nodes.clear()
        self._openapi_nodes[id(schema)] = (schema, root)
        return root

    def _compile(self, schema: JSON) -> _Node:
        ref = schema.get("$ref")
        if ref is None:
            all_of = schema.get("allOf")
            if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
                ref = all_of[0].get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            name = ref[len(_REF_PREFIX):]
            target = self.schemas.get(name)
            if target is None:
                return _Node(self, {})
            extra = {k: v for k, v in schema.items() if k.startswith("x-kubernetes-")}
            if not extra:
                node = self.definition(name)
                assert node is not None
                return node
            return _Node(self, {**target, **extra}, name)
        return _Node(self, schema)

    # -- decode-time checks ----------------------------------------------------------------------

    def prune_object_meta(self, meta: JSON) -> tuple[JSON, list[str]]:
        """ObjectMeta with unknown fields dropped, and their paths (for custom resources)."""
        node = self.definition(_OBJECT_META)
        if node is None:
            return meta, []
        walk = _Walk(check_dups=False)
        pruned = _decode(walk, node, meta, [], "ObjectMeta", [])
        return (pruned if isinstance(pruned, dict) else meta), walk.unknown

    def check(self, api_version: str, kind: str, obj: Any, field_validation: str | None = None,
              raw: bytes | str | None = None, *, memo: bool = False) -> SchemaCheck:
        """Decode ``obj`` as the apiserver would for a create/update of ``kind``.

        ``field_validation`` is the request's ``fieldValidation`` (None or "" means the
        server default, Warn). Pass the request body as ``raw`` (JSON) to also find duplicate
        keys; when ``raw`` does not parse to ``obj`` the duplicates are appended after the
        unknown fields instead of interleaved in document order.

        With ``memo`` (creates: many objects differ only in name), an object whose shape
        passed cleanly before is not walked again; see ``apiserver/schema/shape_memo.py``. Only the
        identity strings below are left out of the shape: any string is valid there.
        """
        mode = field_validation or DEFAULT_FIELD_VALIDATION
        result = SchemaCheck()
        node = self._kind_node(api_version, kind)
        if node is None:
            result.pruned = obj if isinstance(obj, dict) else {}
            return result
        memo_key = None
        if memo and raw is None and isinstance(obj, dict):
            shape = json_key_without(obj, _ANY_STRING_ROOT, _ANY_STRING_META, (str,))
            memo_key = None if shape is None else (api_version, kind, mode, shape)
            if memo_key is not None and _CLEAN_SHAPES.get(memo_key):
                result.pruned = obj  # nothing to report and nothing to prune: the walk would copy it
                return result
        target = obj
        extra_dups: list[str] = []
        if raw is not None and mode != FIELD_VALIDATION_IGNORE:
            parsed = parse_pairs(raw)
            if parsed is not None and parsed == obj:
                target = parsed
            elif parsed is not None:
                extra_dups = find_duplicate_fields(raw)
        walk = _Walk(check_dups=target is not obj)
        pruned = _decode(walk, node, target, [], "", [])
        version = api_version.rpartition("/")[2]
        if walk.decode_error is not None:
            err = errors.bad_request(DECODE_ERROR_FMT.format(kind=kind, version=version, error=walk.decode_error))
            result.decode_error = result.error = err
            result.pruned = obj if isinstance(obj, dict) else {}
            return result
        for path in extra_dups:
            if not any(path == u or path.startswith(u + ".") or path.startswith(u + "[") for u in walk.unknown):
                walk.strict_error(DUPLICATE_FIELD_FMT, path, walk.duplicates)
        result.pruned = pruned if isinstance(pruned, dict) else {}
        result.unknown_fields = walk.unknown
        result.duplicate_fields = walk.duplicates
        result.strict_errors = walk.strict
        if walk.strict:
            if mode == FIELD_VALIDATION_STRICT:
                result.error = errors.bad_request(DECODE_ERROR_FMT.format(
                    kind=kind, version=version, error=strict_message(walk.strict)))
            elif mode == FIELD_VALIDATION_WARN:
                result.warnings = list(walk.strict)
        elif memo_key is not None and not walk.unknown and not walk.duplicates and pruned == obj:
            _CLEAN_SHAPES.put(memo_key, True)
        return result


# Fields where the decode accepts any string as it is (so their values cannot change a check).
_ANY_STRING_ROOT = ("apiVersion", "kind")
_ANY_STRING_META = ("name", "generateName", "namespace", "uid", "resourceVersion", "selfLink")
# Shapes (see ``check``) that decoded with no error, warning, unknown or duplicate field.
_CLEAN_SHAPES: ShapeMemo[bool] = ShapeMemo()


# Node kinds for which any string is fine as it is (no parse, no error): the decode walk
# copies such values without a call.
_STR_OK = frozenset({K_STRING, K_INT_OR_STRING, K_ANY})
# Timestamps that parsed: objects carry the same few (creation, transition, start times)
# over and over, and the hand-written RFC 3339 parser is slow. Bounded.
_GOOD_TIMES: set[str] = set()
_GOOD_TIMES_MAX = 4096
# Quantity strings that parsed (same reason, same bound).
_GOOD_QUANTITIES: set[str] = set()
_BOOL_OK = frozenset({K_BOOL, K_ANY})
_INT_OK = frozenset({K_NUMBER, K_ANY})


def _leaf_ok(node: _Node, value: Any) -> bool:
    """True when ``_decode(node, value)`` would return ``value`` as it is and report nothing.

    Only the common cases answer True (a string where any string goes, a timestamp or a
    quantity seen before, a bool, an int in range); everything else takes the full walk.
    """
    t = type(value)
    kind = node.kind
    if t is str:
        return kind in _STR_OK or (kind == K_TIME and value in _GOOD_TIMES) or \
            (kind == K_QUANTITY and value in _GOOD_QUANTITIES)
    if t is bool:
        return kind in _BOOL_OK
    if t is int:
        return kind in _INT_OK or node.int_low <= value <= node.int_high
    return False


def _decode(walk: _Walk, node: _Node, value: Any, path: list[str], struct: str, stack: list[str]) -> Any:
    """Check ``value`` against ``node``; return it with unknown fields dropped.

    ``path`` is the JSON path for strict errors (with ``[i]`` indices); ``struct``/``stack``
    are encoding/json's error context (innermost struct type, struct field names only).
    Both are stacks the walk pushes to and pops from, so a position costs no list copy.
    """
    if value is None:
        return None
    kind = node.kind
    if kind == K_STRUCT:
        if not isinstance(value, dict):
            walk.type_error(json_kind(value), node.go_type_name(), struct, stack)
            return value
        props = node.properties()
        out: JSON = {}
        pairs = value.pairs if walk.check_dups and isinstance(value, PairsDict) else value.items()
        seen: set[str] = set()
        struct_name = node.struct_name
        for key, sub in pairs:
            child = props.get(key, _MISSING)
            if child is _MISSING:
                if not node.preserve_unknown:
                    walk.strict_error(UNKNOWN_FIELD_FMT, join_path([*path, key]), walk.unknown)
                else:
                    out[key] = sub
                continue
            if key in seen:
                walk.strict_error(DUPLICATE_FIELD_FMT, join_path([*path, key]), walk.duplicates)
            seen.add(key)
            # Leaves that are already right need no call: most of an object is such leaves.
            if child is None or sub is None or _leaf_ok(child, sub):
                out[key] = sub
                continue
            stack.append(key)
            path.append(key)
            out[key] = _decode(walk, child, sub, path, struct_name, stack)
            path.pop()
            stack.pop()
        return out
    if kind == K_MAP:
        if not isinstance(value, dict):
            walk.type_error(json_kind(value), node.go_type_name(), struct, stack)
            return value
        elem = node.additional()
        out = {}
        pairs = value.pairs if walk.check_dups and isinstance(value, PairsDict) else value.items()
        seen = set()
        for key, sub in pairs:
            if key in seen:
                walk.strict_error(DUPLICATE_FIELD_FMT, join_path([*path, key]), walk.duplicates)
            seen.add(key)
            if elem is None or sub is None or _leaf_ok(elem, sub):
                out[key] = sub
                continue
            path.append(key)
            out[key] = _decode(walk, elem, sub, path, struct, stack)
            path.pop()
        return out
    if kind == K_ARRAY:
        if not isinstance(value, list):
            walk.type_error(json_kind(value), node.go_type_name(), struct, stack)
            return value
        item = node.items()
        if item is None:
            return value
        items = []
        for i, sub in enumerate(value):
            if sub is None or _leaf_ok(item, sub):
                items.append(sub)
                continue
            path.append(f"[{i}]")
            items.append(_decode(walk, item, sub, path, struct, stack))
            path.pop()
        return items
    if kind == K_STRING:
        if not isinstance(value, str):
            walk.type_error(json_kind(value), "string", struct, stack)
        return value
    if kind == K_BYTES:
        if not isinstance(value, str):
            walk.type_error(json_kind(value), "[]uint8", struct, stack)
        else:
            problem = base64_error(value)
            if problem:
                walk.other_error(problem)
        return value
    if kind == K_INT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            walk.type_error(json_kind(value), node.go_type, struct, stack)
        else:
            lo, hi = _INT_RANGE[node.go_type]
            if isinstance(value, float) or not lo <= value <= hi:
                walk.type_error("number " + number_literal(value), node.go_type, struct, stack)
        return value
    if kind == K_NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            walk.type_error(json_kind(value), "float64", struct, stack)
        return value
    if kind == K_BOOL:
        if not isinstance(value, bool):
            walk.type_error(json_kind(value), "bool", struct, stack)
        return value
    if kind == K_QUANTITY:
        if isinstance(value, str):
            problem = quantity_error(value)
            if problem is None and type(value) is str:
                if len(_GOOD_QUANTITIES) >= _GOOD_TIMES_MAX:
                    _GOOD_QUANTITIES.clear()
                _GOOD_QUANTITIES.add(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            problem = quantity_error(number_literal(value))
        else:
            problem = QUANTITY_FORMAT_WRONG
        if problem:
            walk.other_error(problem)
        return value
    if kind == K_INT_OR_STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            walk.type_error(json_kind(value), "int32", struct, stack)
        elif isinstance(value, float) or not -(2**31) <= value < 2**31:
            walk.type_error("number " + number_literal(value), "int32", struct, stack)
        return value
    if kind == K_TIME:
        if not isinstance(value, str):
            walk.type_error(json_kind(value), "string", struct, stack)
        elif value not in _GOOD_TIMES:
            problem = rfc3339_error(value)
            if problem:
                walk.other_error(problem)
            else:
                if len(_GOOD_TIMES) >= _GOOD_TIMES_MAX:
                    _GOOD_TIMES.clear()
                _GOOD_TIMES.add(value)
        return value
    return value


class _Missing:
    pass


_MISSING: Any = _Missing()


