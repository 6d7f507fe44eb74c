"""PATCH in all four flavours, and managedFields bookkeeping on every write.

The patch is applied to the live object, then the result takes the same road as a PUT
(``ApiEngine.write_update``), so admission, validation and resourceVersion checks are shared.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import yaml

from .. import errors
from ..engine_services import EngineServices
from ..errors import ApiError
from ..query_params import Query
from ..registry import ResourceType
from ..results import WriteResult
from ..schema.nodes import SchemaNode
from ..schema.upstream import SchemaSet
from .field_manager import validate_write_options
from .managed_fields import (
    create_managed_fields,
    default_reset_fields,
    update_managed_fields,
)
from .server_side import apply as ssa_apply
from .strategic_merge import strategic_merge
from .strategic_merge_errors import StrategicMergeError

JSON = dict[str, Any]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]
CR_PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def schema_node(rt: ResourceType) -> SchemaNode | None:
    """The schema of a type, for list semantics in strategic merge and apply."""
    schemas = SchemaSet.load()
    if rt.custom and rt.crd_version is not None:
        schema = ((rt.crd_version.get("schema") or {}).get("openAPIV3Schema")) or {}
        return schemas.node_from_openapi(schema)
    return schemas.node(rt.api_version, rt.kind)


def record_managed_fields(engine: EngineServices, rt: ResourceType, old: JSON | None, new: JSON, manager: str,
                          subresource: str | None) -> None:
    """Give the fields this write changed to ``manager`` (operation Update)."""
    has_status = "status" in rt.subresources
    if old is None and not rt.custom:
        # Built-in schemas and reset fields are fixed per type and subresource, so a create can
        # be memoised by the object's shape (see ``create_managed_fields``).
        new["metadata"] = create_managed_fields(
            new, manager=manager, api_version=rt.api_version, subresource=subresource, now=engine.now(),
            schema_key=(rt.key, rt.kind, has_status),
            schema=lambda: (schema_node(rt), default_reset_fields(rt.kind, subresource, has_status)))["metadata"]
        return
    updated = update_managed_fields(old, new, manager=manager, operation="Update", api_version=rt.api_version,
                                    subresource=subresource, now=engine.now(), schema=schema_node(rt),
                                    reset_fields=default_reset_fields(rt.kind, subresource, has_status))
    new["metadata"] = updated["metadata"]


def patch_content_type(rt: ResourceType, content_type: str) -> str:
    """The patch type of a PATCH request, once the type is known to serve PATCH and accept it."""
    if "patch" not in rt.verbs:
        raise errors.method_not_allowed("patch", rt.kind)
    ct = (content_type or "").split(";")[0].strip().lower()
    accepted = CR_PATCH_TYPES if rt.custom else PATCH_TYPES
    if ct not in accepted:
        raise errors.unsupported_media_type(ct, accepted)
    return ct


def apply_patch(rt: ResourceType, live: JSON, patch: Any, ct: str) -> Any:
    """A JSON, merge or strategic-merge patch applied to ``live`` (a copy; the result may be any JSON)."""
    if ct == JSON_PATCH:
        if not isinstance(patch, list):
            raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        try:
            return jsonpatch.apply_patch(live, patch)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
            # patch.go answers NewGenericServerResponse(422, ..., isUnexpectedResponse=false), which
            # keeps only the generic message: kubectl prints "The request is invalid: ...".
            raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                           {}) from None
        except (TypeError, KeyError, ValueError, IndexError, AttributeError) as exc:
            raise errors.bad_request(f"invalid JSON patch: {exc}") from None
    if not isinstance(patch, dict):
        raise errors.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    if ct == MERGE_PATCH:
        return merge_patch(live, patch)
    try:
        return strategic_merge(live, patch, schema_node(rt))
    except StrategicMergeError as exc:
        raise exc.to_api_error() from None


class PatchEngine:
    """PATCH and server-side apply of a main resource or its ``status``/``finalize`` (other
    subresources are the engine's to route); the result takes the road of a PUT."""

    def __init__(self, engine: EngineServices) -> None:
        self.engine = engine

    def patch(self, rt: ResourceType, namespace: str | None, name: str, patch: Any, ct: str,
              query: Query, *, user_agent: str = "", subresource: str | None = None) -> WriteResult:
        """``ct`` is the patch type :func:`patch_content_type` accepted."""
        engine = self.engine
        if ct == APPLY_PATCH:
            return self._apply(rt, namespace, name, patch, query, user_agent, subresource)
        current = engine.get_stored(rt, namespace, name)
        live = current.object()
        patched = apply_patch(rt, live, patch, ct)
        if not isinstance(patched, dict):
            raise errors.bad_request("patched object is not a JSON object")
        meta = patched.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        rv = meta.get("resourceVersion")
        if rv and rv != str(current.rv):
            raise errors.conflict(rt.group, rt.plural, name)
        if meta.get("name") not in (None, name):
            raise errors.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on "
                                     f"the URL ({name})")
        if rt.namespaced and meta.get("namespace") not in (None, current.namespace):
            raise errors.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
        if patched.get("kind") not in (None, rt.kind) or patched.get("apiVersion") not in (None, rt.api_version):
            raise errors.bad_request(f"the API version in the data ({patched.get('apiVersion')}) does not match "
                                     f"the expected API version ({rt.api_version})")
        warnings: list[str] = []
        patched = engine.schema_check(rt, patched, query, warnings)
        result = engine.write_update(rt, current, patched, query, user_agent=user_agent, subresource=subresource)
        result.warnings[:0] = warnings
        return result

    def _apply(self, rt: ResourceType, namespace: str | None, name: str, body: Any, query: Query,
               user_agent: str, subresource: str | None) -> WriteResult:
        engine = self.engine
        manager = query.get("fieldManager") or ""
        validate_write_options(manager, is_apply=True)
        reset = default_reset_fields(rt.kind, subresource, "status" in rt.subresources)
        config = parse_apply_body(body)
        force = (query.get("force") or "").lower() in ("true", "1")
        warnings: list[str] = []
        config = engine.check_body(rt, config)
        cmeta = config["metadata"]
        if cmeta.get("name") not in (None, "", name):
            raise errors.bad_request(f"the name of the object ({cmeta.get('name')}) does not match the name on "
                                     f"the URL ({name})")
        # Apply never drops unknown fields silently: upstream rejects them in any mode.
        config = engine.schema_check(rt, config, {**query, "fieldValidation": "Strict"}, warnings)
        current = engine.store.get(rt.key, engine.object_namespace(rt, namespace), name)
        schema = schema_node(rt)
        if current is None:
            if subresource:
                raise errors.not_found(rt.group, rt.plural, name)
            cmeta["name"] = name
            created = ssa_apply(None, config, manager=manager, api_version=rt.api_version, force=force,
                                schema=schema, now=engine.now(), reset_fields=reset, kind=rt.kind,
                                group=rt.group, resource=rt.plural)
            result = engine.create(rt, namespace, created, query, user_agent=user_agent,
                                   managed_fields_done=True)
            result.warnings[:0] = warnings
            return result
        live = current.object()
        merged = ssa_apply(live, config, manager=manager, api_version=rt.api_version, force=force,
                           schema=schema, now=engine.now(), subresource=subresource, reset_fields=reset,
                           kind=rt.kind, group=rt.group, resource=rt.plural)
        rv = (config.get("metadata") or {}).get("resourceVersion")
        if rv and rv != str(current.rv):
            raise errors.conflict(rt.group, rt.plural, name)
        result = engine.write_update(rt, current, merged, query, user_agent=user_agent, subresource=subresource,
                                     managed_fields_done=True)
        result.warnings[:0] = warnings
        return result


def parse_apply_body(body: Any) -> Any:
    """Apply bodies are YAML (JSON is YAML too); bytes are parsed here, dicts pass through."""
    if isinstance(body, bytes | str):
        try:
            parsed = yaml.safe_load(body)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
        return parsed
    return body
