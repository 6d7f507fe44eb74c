"""``/openapi/v3`` documents built from the registry and the upstream schemas.

kubectl needs OpenAPI v3 for three things: ``create``/``apply``/``replace`` with the default
``--validate=strict`` look for a PATCH operation of the kind carrying a ``fieldValidation``
query parameter (without it kubectl refuses to send anything); client-side ``apply`` reads the
PATCH ``requestBody`` media types to choose strategic-merge or merge patch; ``explain`` walks
``components.schemas`` by ``x-kubernetes-group-version-kind``. So each group-version document
carries the real component schemas (built-ins from the generated upstream definitions, custom
resources from their CRD's ``openAPIV3Schema``, as apiextensions-apiserver publishes them) and
one path item per resource endpoint with the verbs the resource serves.

Documents are memoised per group-version and rebuilt only when that group-version's rows
change (a CRD is added, updated or removed).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

from ..registry import Registry, ResourceType
from ..schema.upstream import SchemaSet

JSON = dict[str, Any]

OPENAPI_VERSION = "3.0.0"
TITLE = "Kubernetes"
REF = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = META + "ObjectMeta"
LIST_META = META + "ListMeta"
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
WATCH_EVENT = META + "WatchEvent"
PATCH = META + "Patch"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
EVICTION = "io.k8s.api.policy.v1.Eviction"
BINDING = "io.k8s.api.core.v1.Binding"

PATCH_TYPES_BUILTIN = (
    "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
# Custom resources have no Go struct to drive a strategic merge, so SMP is not offered (415).
PATCH_TYPES_CUSTOM = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")
RESPONSE_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")

METADATA_DESCRIPTION = (
    "Standard object's metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
LIST_METADATA_DESCRIPTION = (
    "Standard list metadata. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)
API_VERSION_DESCRIPTION = (
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert "
    "recognized schemas to the latest internal value, and may reject unrecognized values. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
)
KIND_DESCRIPTION = (
    "Kind is a string value representing the REST resource this object represents. Servers may infer this "
    "from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
)

_QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. An invalid or "
               "unrecognized dryRun directive will result in an error response and no further processing of "
               "the request. Valid values are: - All: all dry run stages will be processed"),
    "fieldManager": ("string", "fieldManager is a name associated with the actor or entity that is making these "
                     "changes. The value must be less than or 128 characters long, and only contain printable "
                     "characters, as defined by https://golang.org/pkg/unicode/#IsPrint."),
    "fieldValidation": ("string", "fieldValidation instructs the server on how to handle objects in the request "
                        "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: "
                        "This will ignore any unknown fields that are silently dropped from the object, and will "
                        "ignore all but the last duplicate field that the decoder encounters. This is the default "
                        "behavior prior to v1.23. - Warn: This will send a warning via the standard warning "
                        "response header for each unknown field that is dropped from the object, and for each "
                        "duplicate field that is encountered. The request will still succeed if there are no "
                        "other errors, and will only persist the last of any duplicate fields. This is the "
                        "default in v1.23+ - Strict: This will fail the request with a BadRequest error if any "
                        "unknown fields would be dropped from the object, or if any duplicate fields are "
                        "present. The error returned from the server will contain all unknown and duplicate "
                        "fields encountered."),
    "force": ("boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting "
              "fields owned by other people. Force flag must be unset for non-apply patch requests."),
    "pretty": ("string", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent "
               "indicates a browser or command-line HTTP tool (curl and wget)."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted."),
    "propagationPolicy": ("string", "Whether and how garbage collection will be performed."),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels. Defaults "
                      "to everything."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields. Defaults "
                      "to everything."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call."),
    "continue": ("string", "The continue option should be set when retrieving more results from the server."),
    "resourceVersion": ("string", "resourceVersion sets a constraint on what resource versions a request may be "
                        "served from."),
    "resourceVersionMatch": ("string", "resourceVersionMatch determines how resourceVersion is applied to list "
                             "calls."),
    "sendInitialEvents": ("boolean", "`sendInitialEvents=true` may be set together with `watch=true`."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream of add, "
              "update, and remove notifications."),
    "allowWatchBookmarks": ("boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\"."),
}
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_LIST_PARAMS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
                "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch")

# Go-package-style prefixes upstream uses in operationIds.
_GROUP_IDS = {
    "": "Core", "apps": "Apps", "storage.k8s.io": "Storage", "events.k8s.io": "Events",
    "coordination.k8s.io": "Coordination", "apiextensions.k8s.io": "Apiextensions",
    "autoscaling": "Autoscaling", "policy": "Policy",
}


def gv_path(group: str, version: str) -> str:
    """``api/v1`` for the core group, ``apis/<group>/<version>`` otherwise (root ``paths`` keys)."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def custom_schema_name(group: str, version: str, kind: str) -> str:
    """apiextensions' REST-friendly name: ``snapshot.storage.k8s.io`` -> ``io.k8s.storage.snapshot``."""
    reversed_group = ".".join(reversed(group.split("."))) if group else ""
    return f"{reversed_group}.{version}.{kind}" if reversed_group else f"{version}.{kind}"


def _group_versions(registry: Registry) -> dict[tuple[str, str], list[ResourceType]]:
    out: dict[tuple[str, str], list[ResourceType]] = {}
    for rt in registry.all():
        out.setdefault((rt.group, rt.version), []).append(rt)
    return out


def _fingerprint(rows: Iterable[ResourceType]) -> bytes:
    parts = []
    for rt in sorted(rows, key=lambda r: r.plural):
        parts.append([rt.kind, rt.plural, rt.namespaced, list(rt.subresources), list(rt.verbs), rt.custom,
                      rt.crd_version if rt.custom else None])
    return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)


class _Cache:
    docs: dict[tuple[str, str], tuple[bytes, JSON, str]] = {}


def document_hash(doc: JSON) -> str:
    """Upstream serves the uppercase hex SHA-512 of the document as the cache-busting ``hash``."""
    return hashlib.sha512(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)).hexdigest().upper()


def _cached(registry: Registry, schemas: SchemaSet, group: str, version: str,
            rows: list[ResourceType]) -> tuple[JSON, str]:
    fp = _fingerprint(rows) + b"|" + str(id(schemas)).encode()
    hit = _Cache.docs.get((group, version))
    if hit is not None and hit[0] == fp:
        return hit[1], hit[2]
    doc = _build_document(schemas, group, version, rows)
    digest = document_hash(doc)
    _Cache.docs[(group, version)] = (fp, doc, digest)
    return doc, digest


def openapi_v3_root(registry: Registry, schemas: SchemaSet) -> JSON:
    """The ``/openapi/v3`` discovery document: one entry per served group-version."""
    paths: JSON = {}
    for (group, version), rows in sorted(_group_versions(registry).items()):
        _, digest = _cached(registry, schemas, group, version, rows)
        key = gv_path(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


def openapi_v3_document(registry: Registry, schemas: SchemaSet, group: str, version: str) -> JSON | None:
    """The OpenAPI v3 document of one group-version, None when it is not served."""
    rows = _group_versions(registry).get((group, version))
    if not rows:
        return None
    doc, _ = _cached(registry, schemas, group, version, rows)
    return doc


# -- building -------------------------------------------------------------------------------------


def _ref(name: str) -> JSON:
    return {"$ref": REF + name}


def _param(name: str) -> JSON:
    typ, description = _QUERY_PARAMS[name]
    return {"name": name, "in": "query", "description": description, "schema": {"type": typ, "uniqueItems": True}}


def _content(schema_name: str, types: Iterable[str] = RESPONSE_TYPES) -> JSON:
    return {t: {"schema": _ref(schema_name)} for t in types}


def _gvk(group: str, version: str, kind: str) -> JSON:
    return {"group": group, "version": version, "kind": kind}


def _op_id(verb: str, rt: ResourceType, suffix: str = "") -> str:
    gid = _GROUP_IDS.get(rt.group)
    if gid is None:
        gid = "".join(p[:1].upper() + p[1:] for p in rt.group.replace("-", ".").split("."))
    scope = "Namespaced" if rt.namespaced else ""
    return f"{verb}{gid}{rt.version[:1].upper()}{rt.version[1:]}{scope}{rt.kind}{suffix}"


class _TypeNames:
    """Component names of a resource's object and list types in this document."""

    def __init__(self, schemas: SchemaSet, rt: ResourceType) -> None:
        if rt.custom:
            self.obj = custom_schema_name(rt.group, rt.version, rt.kind)
            self.list = custom_schema_name(rt.group, rt.version, rt.list_kind)
        else:
            self.obj = schemas.definition_name(rt.api_version, rt.kind) or ""
            self.list = schemas.definition_name(rt.api_version, rt.list_kind) or ""


def _operation(rt: ResourceType, action: str, op_id: str, gvk: JSON, params: Iterable[str],
               response: str | None, body: str | None = None, body_types: Iterable[str] = ("*/*",)) -> JSON:
    op: JSON = {
        "description": f"{action} {rt.kind}",
        "operationId": op_id,
        "tags": [gv_path(rt.group, rt.version).replace("/", "_")],
        "parameters": [_param(p) for p in params],
        "responses": {"200": {"description": "OK"}, "401": {"description": "Unauthorized"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
    }
    if response:
        op["responses"]["200"]["content"] = _content(response)
    if body is not None:
        op["requestBody"] = {"content": {t: {"schema": _ref(body)} for t in body_types}, "required": True}
    return op


def _resource_paths(rt: ResourceType, names: _TypeNames) -> JSON:
    prefix = "/" + gv_path(rt.group, rt.version)
    ns = "/namespaces/{namespace}" if rt.namespaced else ""
    collection = f"{prefix}{ns}/{rt.plural}"
    item = collection + "/{name}"
    gvk = _gvk(rt.group, rt.version, rt.kind)
    verbs = set(rt.verbs)
    patch_types = PATCH_TYPES_CUSTOM if rt.custom else PATCH_TYPES_BUILTIN
    path_params: list[JSON] = [{"name": "pretty", "in": "query", "schema": {"type": "string", "uniqueItems": True},
                                "description": _QUERY_PARAMS["pretty"][1]}]
    if rt.namespaced:
        path_params.insert(0, {"name": "namespace", "in": "path", "required": True,
                               "description": "object name and auth scope, such as for teams and projects",
                               "schema": {"type": "string", "uniqueItems": True}})
    item_params = [{"name": "name", "in": "path", "required": True, "description": f"name of the {rt.kind}",
                    "schema": {"type": "string", "uniqueItems": True}}, *path_params]
    paths: JSON = {}

    coll: JSON = {"parameters": copy.deepcopy(path_params)}
    if "list" in verbs and names.list:
        coll["get"] = _operation(rt, "list", _op_id("list", rt), gvk, _LIST_PARAMS, names.list)
    if "create" in verbs and names.obj:
        coll["post"] = _operation(rt, "post", _op_id("create", rt), gvk, _WRITE_PARAMS, names.obj, names.obj)
    if "deletecollection" in verbs:
        coll["delete"] = _operation(rt, "deletecollection", _op_id("deleteCollection", rt), gvk,
                                    ("dryRun", "gracePeriodSeconds", "propagationPolicy", *_LIST_PARAMS[:6]),
                                    STATUS, DELETE_OPTIONS)
    if len(coll) > 1:
        paths[collection] = coll

    one: JSON = {"parameters": copy.deepcopy(item_params)}
    if "get" in verbs and names.obj:
        one["get"] = _operation(rt, "get", _op_id("read", rt), gvk, (), names.obj)
    if "update" in verbs and names.obj:
        one["put"] = _operation(rt, "put", _op_id("replace", rt), gvk, _WRITE_PARAMS, names.obj, names.obj)
    if "patch" in verbs and names.obj:
        one["patch"] = _operation(rt, "patch", _op_id("patch", rt), gvk, (*_WRITE_PARAMS, "force"), names.obj,
                                  PATCH, patch_types)
    if "delete" in verbs:
        one["delete"] = _operation(rt, "delete", _op_id("delete", rt), gvk,
                                   ("dryRun", "gracePeriodSeconds", "propagationPolicy"),
                                   names.obj if rt.returns_deleted_object and names.obj else STATUS,
                                   DELETE_OPTIONS)
    if len(one) > 1:
        paths[item] = one

    if rt.namespaced and "list" in verbs and names.list:
        all_ns = f"{prefix}/{rt.plural}"
        paths[all_ns] = {
            "parameters": [dict(p) for p in path_params if p["name"] != "namespace"],
            "get": _operation(rt, "list", _op_id("list", rt, "ForAllNamespaces").replace("Namespaced", ""), gvk,
                              _LIST_PARAMS, names.list),
        }

    for sub in rt.subresources:
        sub_path = f"{item}/{sub}"
        sub_params = copy.deepcopy(item_params)
        if sub == "status" and names.obj:
            paths[sub_path] = {
                "parameters": sub_params,
                "get": _operation(rt, "get", _op_id("read", rt, "Status"), gvk, (), names.obj),
                "put": _operation(rt, "put", _op_id("replace", rt, "Status"), gvk, _WRITE_PARAMS, names.obj,
                                  names.obj),
                "patch": _operation(rt, "patch", _op_id("patch", rt, "Status"), gvk, (*_WRITE_PARAMS, "force"),
                                    names.obj, PATCH, patch_types),
            }
        elif sub == "scale":
            scale_gvk = _gvk("autoscaling", "v1", "Scale")
            paths[sub_path] = {
                "parameters": sub_params,
                "get": _operation(rt, "get", _op_id("read", rt, "Scale"), scale_gvk, (), SCALE),
                "put": _operation(rt, "put", _op_id("replace", rt, "Scale"), scale_gvk, _WRITE_PARAMS, SCALE, SCALE),
                "patch": _operation(rt, "patch", _op_id("patch", rt, "Scale"), scale_gvk, (*_WRITE_PARAMS, "force"),
                                    SCALE, PATCH, patch_types),
            }
        elif sub == "binding":
            paths[sub_path] = {"parameters": sub_params,
                               "post": _operation(rt, "post", _op_id("create", rt, "Binding"),
                                                  _gvk("", "v1", "Binding"), _WRITE_PARAMS, BINDING, BINDING)}
        elif sub == "eviction":
            paths[sub_path] = {"parameters": sub_params,
                               "post": _operation(rt, "post", _op_id("create", rt, "Eviction"),
                                                  _gvk("policy", "v1", "Eviction"), _WRITE_PARAMS, EVICTION,
                                                  EVICTION)}
    return paths


def _custom_components(rt: ResourceType) -> JSON:
    """The object and list schemas apiextensions-apiserver publishes for one CRD version."""
    version = rt.crd_version or {}
    source = ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}
    schema = copy.deepcopy(source)
    schema.setdefault("type", "object")
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"description": API_VERSION_DESCRIPTION, "type": "string"}
    props["kind"] = {"description": KIND_DESCRIPTION, "type": "string"}
    props["metadata"] = {"allOf": [_ref(OBJECT_META)], "description": METADATA_DESCRIPTION}
    schema["x-kubernetes-group-version-kind"] = [_gvk(rt.group, rt.version, rt.kind)]
    obj_name = custom_schema_name(rt.group, rt.version, rt.kind)
    list_schema: JSON = {
        "description": f"{rt.list_kind} is a list of {rt.kind}",
        "properties": {
            "apiVersion": {"description": API_VERSION_DESCRIPTION, "type": "string"},
            "items": {"description": f"List of {rt.plural}. More info: "
                      "https://git.k8s.io/community/contributors/devel/api-conventions.md",
                      "items": _ref(obj_name), "type": "array"},
            "kind": {"description": KIND_DESCRIPTION, "type": "string"},
            "metadata": {"allOf": [_ref(LIST_META)], "description": LIST_METADATA_DESCRIPTION},
        },
        "required": ["items"],
        "type": "object",
        "x-kubernetes-group-version-kind": [_gvk(rt.group, rt.version, rt.list_kind)],
    }
    return {obj_name: schema, custom_schema_name(rt.group, rt.version, rt.list_kind): list_schema}


def _collect(schemas: SchemaSet, seeds: Iterable[str], into: JSON) -> None:
    todo = [s for s in seeds if s]
    while todo:
        name = todo.pop()
        if name in into:
            continue
        schema = schemas.schemas.get(name)
        if schema is None:
            continue
        into[name] = schema
        todo.extend(_refs(schema))


def _refs(schema: Any) -> list[str]:
    found: list[str] = []
    stack = [schema]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for key, value in cur.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(REF):
                    found.append(value[len(REF):])
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(cur, list):
            stack.extend(v for v in cur if isinstance(v, dict | list))
    return found


def _build_document(schemas: SchemaSet, group: str, version: str, rows: list[ResourceType]) -> JSON:
    components: JSON = {}
    paths: JSON = {}
    seeds = [OBJECT_META, LIST_META, STATUS, DELETE_OPTIONS, WATCH_EVENT, PATCH]
    for rt in sorted(rows, key=lambda r: r.plural):
        names = _TypeNames(schemas, rt)
        if rt.custom:
            components.update(_custom_components(rt))
        else:
            seeds.extend([names.obj, names.list])
        if "scale" in rt.subresources:
            seeds.append(SCALE)
        if "eviction" in rt.subresources:
            seeds.append(EVICTION)
        if "binding" in rt.subresources:
            seeds.append(BINDING)
        paths.update(_resource_paths(rt, names))
    for custom in list(components.values()):
        seeds.extend(_refs(custom))
    _collect(schemas, seeds, components)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": TITLE, "version": schemas.kube_version or "v1.35.0"},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"BearerToken": {"type": "apiKey", "description": "Bearer Token authentication",
                                                "name": "authorization", "in": "header"}},
        },
        "security": [{"BearerToken": []}],
    }
