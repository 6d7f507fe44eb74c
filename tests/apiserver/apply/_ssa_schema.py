"""A tiny SchemaNode over JSON-schema dicts, and a miniature apiserver write path, for SSA tests.

The schemas are small hand-written subsets of the 1.35 OpenAPI (ConfigMap, Deployment, Pod)
plus a CRD-like type, with the same list/map extensions upstream declares, so the apply and
managedFields tests do not depend on the generated schema set.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_lite.apiserver import errors
from minikube_lite.apiserver.apply.field_manager import manager_name
from minikube_lite.apiserver.apply.fieldpath import FieldSet
from minikube_lite.apiserver.apply.managed_fields import (
    default_reset_fields,
    equal_ignoring_managed_fields_timestamps,
    update_managed_fields,
)
from minikube_lite.apiserver.apply.server_side import apply_detailed

JSON = dict[str, Any]


class JNode:
    """SchemaNode over a JSON-schema dict with ``$ref`` into ``DEFS``."""

    def __init__(self, schema: JSON) -> None:
        while "$ref" in schema:
            schema = DEFS[schema["$ref"]]
        self._s = schema

    @property
    def type(self) -> str | None:
        return self._s.get("type")

    @property
    def patch_merge_key(self) -> str | None:
        return self._s.get("x-kubernetes-patch-merge-key")

    @property
    def patch_strategy(self) -> str | None:
        return self._s.get("x-kubernetes-patch-strategy")

    @property
    def list_type(self) -> str | None:
        return self._s.get("x-kubernetes-list-type")

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        return tuple(self._s.get("x-kubernetes-list-map-keys") or ())

    @property
    def map_type(self) -> str | None:
        return self._s.get("x-kubernetes-map-type")

    @property
    def preserve_unknown_fields(self) -> bool:
        return bool(self._s.get("x-kubernetes-preserve-unknown-fields"))

    @property
    def default(self) -> Any:
        return self._s.get("default")

    def property(self, name: str) -> JNode | None:
        props = self._s.get("properties")
        if props and name in props:
            return JNode(props[name])
        ap = self._s.get("additionalProperties")
        if isinstance(ap, dict):
            return JNode(ap)
        return None

    def items(self) -> JNode | None:
        it = self._s.get("items")
        return JNode(it) if isinstance(it, dict) else None


S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
STRMAP = {"type": "object", "additionalProperties": {"type": "string"}}

DEFS: dict[str, JSON] = {
    "ObjectMeta": {"type": "object", "properties": {
        "name": S, "namespace": S, "uid": S, "resourceVersion": S, "generation": I,
        "creationTimestamp": S, "deletionTimestamp": S, "selfLink": S,
        "labels": STRMAP, "annotations": STRMAP,
        "finalizers": {"type": "array", "items": S, "x-kubernetes-list-type": "set",
                       "x-kubernetes-patch-strategy": "merge"},
        "ownerReferences": {"type": "array", "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["uid"], "x-kubernetes-patch-merge-key": "uid",
                            "x-kubernetes-patch-strategy": "merge",
                            "items": {"type": "object", "x-kubernetes-map-type": "atomic",
                                      "properties": {"uid": S, "name": S, "kind": S, "apiVersion": S}}},
        "managedFields": {"type": "array", "items": {"type": "object", "properties": {
            "manager": S, "operation": S, "apiVersion": S, "time": S, "fieldsType": S,
            "fieldsV1": {"type": "object"}, "subresource": S}}},
    }},
    "LabelSelector": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
        "matchLabels": STRMAP}},
    "ContainerPort": {"type": "object", "properties": {
        "name": S, "containerPort": I, "protocol": {"type": "string", "default": "TCP"}, "hostPort": I}},
    "Container": {"type": "object", "properties": {
        "name": S, "image": S, "workingDir": S, "imagePullPolicy": S,
        "args": {"type": "array", "items": S},
        "ports": {"type": "array", "items": {"$ref": "ContainerPort"}, "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
                  "x-kubernetes-patch-merge-key": "containerPort", "x-kubernetes-patch-strategy": "merge"},
        "env": {"type": "array", "items": {"type": "object", "properties": {"name": S, "value": S}},
                "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge"},
    }},
    "PodSpec": {"type": "object", "properties": {
        "hostname": S, "nodeName": S,
        "containers": {"type": "array", "items": {"$ref": "Container"}, "x-kubernetes-list-type": "map",
                       "x-kubernetes-list-map-keys": ["name"], "x-kubernetes-patch-merge-key": "name",
                       "x-kubernetes-patch-strategy": "merge"},
        "tolerations": {"type": "array", "items": {"type": "object", "properties": {"key": S}}},
        "securityContext": {"type": "object", "properties": {"runAsUser": I, "fsGroup": I}},
    }},
    "PodTemplateSpec": {"type": "object", "properties": {
        "metadata": {"$ref": "ObjectMeta"}, "spec": {"$ref": "PodSpec"}}},
    "Deployment": {"type": "object", "properties": {
        "apiVersion": S, "kind": S, "metadata": {"$ref": "ObjectMeta"},
        "spec": {"type": "object", "properties": {
            "replicas": I, "paused": {"type": "boolean"}, "selector": {"$ref": "LabelSelector"},
            "template": {"$ref": "PodTemplateSpec"},
            "strategy": {"type": "object", "properties": {"type": S, "rollingUpdate": {
                "type": "object", "properties": {"maxSurge": S, "maxUnavailable": S}}}}}},
        "status": {"type": "object", "properties": {"replicas": I, "readyReplicas": I}},
    }},
    "Pod": {"type": "object", "properties": {
        "apiVersion": S, "kind": S, "metadata": {"$ref": "ObjectMeta"}, "spec": {"$ref": "PodSpec"},
        "status": {"type": "object", "properties": {"phase": S, "conditions": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"],
            "items": {"type": "object", "properties": {"type": S, "status": S}}}}},
    }},
    "ConfigMap": {"type": "object", "properties": {
        "apiVersion": S, "kind": S, "metadata": {"$ref": "ObjectMeta"}, "data": STRMAP,
        "binaryData": STRMAP, "immutable": {"type": "boolean"}}},
    # smd's leaf_test/set_test shapes: a top-level string and a set list, as a "custom resource".
    "Widget": {"type": "object", "properties": {
        "apiVersion": S, "kind": S, "metadata": {"$ref": "ObjectMeta"}, "string": S,
        "spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "properties": {"name": S, "size": I}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": S},
            "plain": {"type": "array", "items": {"type": "object", "properties": {"name": S}}},
            "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        }},
    }},
}

SCHEMAS = {kind: JNode({"$ref": kind}) for kind in ("ConfigMap", "Deployment", "Pod", "Widget")}
API_VERSIONS = {"ConfigMap": "v1", "Deployment": "apps/v1", "Pod": "v1", "Widget": "example.com/v1"}
RESOURCES = {"ConfigMap": ("", "configmaps"), "Deployment": ("apps", "deployments"), "Pod": ("", "pods"),
             "Widget": ("example.com", "widgets")}
HAS_STATUS = {"Deployment", "Pod"}


def default(kind: str, obj: JSON) -> JSON:
    """The few defaults the tests rely on (replicas, container port protocol, strategy)."""
    obj = copy.deepcopy(obj)
    if kind == "Deployment":
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        for c in (((spec.get("template") or {}).get("spec") or {}).get("containers") or []):
            for p in c.get("ports") or []:
                p.setdefault("protocol", "TCP")
    return obj


class MiniServer:
    """The handler order of §8.2 around our pure functions: enough to replay upstream tests."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], JSON] = {}
        self.rv = 0
        self.t = 1_700_000_000
        self.events: list[str] = []

    def now(self) -> str:
        from minikube_lite.clock import rfc3339
        return rfc3339(self.t)

    def tick(self, seconds: int = 1) -> None:
        self.t += seconds

    def get(self, kind: str, name: str) -> JSON:
        return copy.deepcopy(self.objects[(kind, name)])

    def _store(self, kind: str, name: str, old: JSON | None, new: JSON) -> tuple[int, JSON]:
        if old is not None and equal_ignoring_managed_fields_timestamps(
                {**old, "metadata": {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}},
                {**new, "metadata": {k: v for k, v in new["metadata"].items() if k != "resourceVersion"}}):
            return 200, copy.deepcopy(old)
        self.rv += 1
        new = copy.deepcopy(new)
        new["metadata"]["resourceVersion"] = str(self.rv)
        if old is None:
            new["metadata"].setdefault("uid", f"uid-{name}")
        self.objects[(kind, name)] = new
        self.events.append("ADDED" if old is None else "MODIFIED")
        return (201 if old is None else 200), copy.deepcopy(new)

    def apply(self, kind: str, body: JSON, *, manager: str, force: bool = False,
              subresource: str | None = None) -> tuple[int, JSON]:
        name = body["metadata"]["name"]
        live = self.objects.get((kind, name))
        if live is None and subresource:
            raise errors.not_found(*RESOURCES[kind], name)
        group, resource = RESOURCES[kind]
        res = apply_detailed(copy.deepcopy(live) if live else None, copy.deepcopy(body), manager=manager,
                             api_version=API_VERSIONS[kind], force=force, schema=SCHEMAS[kind], now=self.now(),
                             subresource=subresource,
                             reset_fields=default_reset_fields(kind, subresource, kind in HAS_STATUS),
                             kind=kind, group=group, resource=resource)
        return self._store(kind, name, live, default(kind, res.object))

    def write(self, kind: str, new: JSON, *, manager: str | None = None, user_agent: str | None = None,
              subresource: str | None = None, reset: FieldSet | None = None) -> tuple[int, JSON]:
        """PUT/POST of a full object (a patch is computed by the caller)."""
        name = new["metadata"]["name"]
        old = self.objects.get((kind, name))
        new = default(kind, new)
        rv = new["metadata"].get("resourceVersion")
        if old is not None and rv and rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(*RESOURCES[kind], name)
        if reset is None:
            reset = default_reset_fields(kind, subresource, kind in HAS_STATUS)
        out = update_managed_fields(old, new, manager=manager_name(manager, user_agent),
                                    api_version=API_VERSIONS[kind], subresource=subresource, now=self.now(),
                                    schema=SCHEMAS[kind], reset_fields=reset)
        return self._store(kind, name, old, out)

    def merge_patch(self, kind: str, name: str, patch: JSON, **kw: Any) -> tuple[int, JSON]:
        return self.write(kind, merge_patch(self.get(kind, name), patch), **kw)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def managers(obj: JSON) -> list[tuple[str, str, str]]:
    """(manager, operation, subresource) of each entry, in stored order."""
    return [(e["manager"], e["operation"], e.get("subresource", "")) for e in obj["metadata"].get("managedFields", [])]


def entry(obj: JSON, manager: str, operation: str | None = None, subresource: str = "") -> JSON:
    for e in obj["metadata"].get("managedFields", []):
        if e["manager"] == manager and (operation is None or e["operation"] == operation) \
                and e.get("subresource", "") == subresource:
            return e
    raise AssertionError(f"no entry for {manager} {operation} in {managers(obj)}")
