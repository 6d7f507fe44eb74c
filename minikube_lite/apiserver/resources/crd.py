"""Serving custom resources from CustomResourceDefinitions.

A CRD that is written becomes served at once: its status gets the NamesAccepted and
Established conditions (what the apiextensions controllers do within milliseconds upstream),
its versions become rows of the registry, and so appear in discovery and OpenAPI. Deleting the
CRD removes the rows and every custom resource of it.
"""

from __future__ import annotations

from typing import Any

from ...clock import rfc3339
from .. import errors
from ..admission.chain import CREATE, AdmissionContext
from ..engine_services import EngineServices
from ..errors import FieldError
from ..registry import ResourceType, field_getter
from ..schema import crd as crd_schema
from ..schema.duplicate_keys import find_duplicate_fields
from ..schema.validation.common import validate_object_meta, validate_object_meta_update
from ..schema.validation.names import name_is_dns_subdomain

JSON = dict[str, Any]
CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def _schema(rt: ResourceType) -> JSON:
    return ((rt.crd_version or {}).get("schema") or {}).get("openAPIV3Schema") or {}


def default_custom(rt: ResourceType, obj: JSON) -> None:
    schema = _schema(rt)
    if schema:
        crd_schema.apply_defaults(schema, obj)


def check_custom(rt: ResourceType, obj: JSON, mode: str, warnings: list[str], raw: bytes | None = None) -> JSON:
    schema = _schema(rt)
    if not schema:
        return obj
    problems = [f'unknown field "{f}"' for f in crd_schema.unknown_fields(schema, obj)]
    if raw is not None and mode != "Ignore":
        problems.extend(f'json: duplicate field "{d}"' for d in find_duplicate_fields(raw))
    if problems:
        if mode == "Strict":
            raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                     "strict decoding error: " + ", ".join(problems))
        if mode == "Warn":
            warnings.extend(problems)
    pruned: JSON = crd_schema.prune(schema, obj)
    return pruned


def validate_custom(rt: ResourceType, obj: JSON, old: JSON | None) -> list[FieldError]:
    errs: list[FieldError] = list(validate_object_meta(obj, rt.namespaced, name_is_dns_subdomain))
    if old is not None:
        errs.extend(validate_object_meta_update(obj, old))
    schema = _schema(rt)
    if schema:
        errs.extend(crd_schema.validate(schema, obj, old))
    return errs


def types_for_crd(crd: JSON) -> list[ResourceType]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = version.get("subresources") or {}
        getters = {}
        for sf in version.get("selectableFields") or []:
            path = str(sf.get("jsonPath", "")).lstrip(".")
            getters[path] = field_getter(*path.split("."))
        rt = ResourceType(
            group=group, version=version.get("name", "v1"), kind=names.get("kind", ""),
            plural=names.get("plural", ""), singular=names.get("singular") or names.get("kind", "").lower(),
            namespaced=spec.get("scope") == "Namespaced", short_names=tuple(names.get("shortNames") or ()),
            categories=tuple(names.get("categories") or ()),
            subresources=tuple(k for k in ("status", "scale") if k in subresources),
            field_getters=getters, custom=True, crd_version=version, crd_name=crd["metadata"]["name"],
            returns_deleted_object=True,
        )
        out.append(rt)
    return out


class CrdStatus:
    """Admission that marks a CRD's names accepted and the CRD established."""

    name = "CustomResourceDefinitionStatus"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.rt.key != CRD_KEY or ctx.subresource == "status":
            return
        spec = obj.get("spec") or {}
        now = rfc3339(ctx.now)
        status = obj.setdefault("status", {}) if isinstance(obj.get("status"), dict | None) else {}
        if not isinstance(status, dict):
            status = {}
        obj["status"] = status
        status["acceptedNames"] = {k: v for k, v in (spec.get("names") or {}).items()}
        stored = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
        previous = list(status.get("storedVersions") or [])
        for v in stored:
            if v not in previous:
                previous.append(v)
        status["storedVersions"] = previous
        if ctx.operation == CREATE or not status.get("conditions"):
            status["conditions"] = [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
                 "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "lastTransitionTime": now,
                 "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ]

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


def install(engine: EngineServices) -> None:
    """Serve CRDs: admission for their status, and registry rows that follow every write."""
    engine.admission.add(CrdStatus())
    # The hook holds the registry and store, not the engine (which holds the hook): no cycle.
    registry, store = engine.registry, engine.store

    def on_write(op: str, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        if rt.key != CRD_KEY:
            return
        for previous in (old, obj if op == "delete" else None):
            if previous is not None:
                for gone in types_for_crd(previous):
                    registry.remove(gone.group, gone.version, gone.plural)
        if op == "delete":
            spec = obj.get("spec") or {}
            store.drop_resource((spec.get("group") or "", (spec.get("names") or {}).get("plural", "")))
            return
        if obj["metadata"].get("deletionTimestamp"):
            return
        for new in types_for_crd(obj):
            registry.add(new)

    engine.on_write.append(on_write)
