"""The request path of the API server, independent of HTTP.

The aiohttp server and the in-process client both call :class:`ApiEngine`, so every request
takes the same way through decoding, admission, validation, resourceVersion checks and the
store, whether it came over a socket or not.

The engine holds the write path of create, update and patch; the read path of list and watch is
in :mod:`.reads`, deletion in :mod:`.deletion`. Those, and the handlers of subresources, views
and PATCH, see the engine through :class:`~minikube_lite.apiserver.engine_services.EngineServices`.
"""

from __future__ import annotations

import builtins
import functools
import random
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from ..clock import Clock, rfc3339
from . import errors
from .admission.chain import (
    CREATE,
    UPDATE,
    AdmissionChain,
    AdmissionContext,
    NamespaceLifecycle,
    ServiceAccountAdmission,
)
from .admission.ingress_class import DefaultIngressClass
from .admission.priority import PriorityAdmission
from .apply.field_manager import manager_name, validate_write_options
from .apply.writes import PatchEngine, patch_content_type, record_managed_fields
from .deletion import delete_collection, delete_object, namespace_pending
from .engine_services import EngineServices, WriteHook
from .errors import ApiError
from .objects import generate_name, new_uid, seeded_uid, spec_part
from .query_params import Query, dry_run, parse_resource_version
from .reads import DEFAULT_BOOKMARK_INTERVAL, list_objects, open_watch, served_version
from .registry import Registry, ResourceType, builtin_types
from .resources.component_status import COMPONENT_STATUS_KEY, get_component_status
from .resources.crd import default_custom
from .resources.csr_strategy import CertificateSigningRequestStrategy
from .resources.event_views import VIEW_KEY, EventView
from .resources.reviews import REVIEW_KEYS, Authenticator, review, review_types
from .resources.subresources import create_subresource, patch_subresource, update_subresource
from .results import ListResult, WatchItem, WriteResult
from .schema.batch_defaults import prepare_for_create
from .schema.check import check_object
from .schema.defaults import apply_defaults
from .schema.go_json import json_kind
from .schema.validate import validate_object
from .storage.store import PreconditionFailed, Store, StoredObject

JSON = dict[str, Any]

# The result types live in results.py; they stay importable from here, where callers met them first.
__all__ = ["ApiEngine", "ListResult", "WatchItem", "WriteResult", "tracks_generation"]

# Types whose status is reset on create, as their upstream strategies' PrepareForCreate does.
_RESET_STATUS_ON_CREATE = {
    ("", "pods"), ("", "persistentvolumeclaims"), ("", "persistentvolumes"), ("", "namespaces"),
    ("", "services"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("storage.k8s.io", "volumeattachments"),
    ("apiextensions.k8s.io", "customresourcedefinitions"), ("batch", "jobs"), ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"), ("networking.k8s.io", "ingresses"),
    ("autoscaling", "horizontalpodautoscalers"), ("certificates.k8s.io", "certificatesigningrequests"),
}
# PUT may create these when absent (rest.Updater AllowCreateOnUpdate).
_CREATE_ON_UPDATE = {("", "events"), ("", "endpoints"), ("coordination.k8s.io", "leases"),
                     ("events.k8s.io", "events")}


class ApiEngine:
    """Every verb of the Kubernetes API over a :class:`Store`."""

    def __init__(self, clock: Clock, *, registry: Registry | None = None, store: Store | None = None,
                 history_size: int = 1000, watch_backlog: int = 10_000,
                 bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL, rng: random.Random | None = None,
                 seeded_uids: bool = False) -> None:
        self.clock = clock
        #: generateName suffixes come from this stream; with ``seeded_uids`` uids do too
        #: (otherwise they come from os.urandom, the faster path when nothing is seeded).
        self.rng = rng or random.Random()
        self.new_uid: Callable[[], str] = functools.partial(seeded_uid, self.rng) if seeded_uids else new_uid
        self.registry = registry or Registry([*builtin_types(), *review_types()])
        self.store = store or Store(history_size=history_size, watch_backlog=watch_backlog)
        self.admission = AdmissionChain([NamespaceLifecycle(), ServiceAccountAdmission(), PriorityAdmission(),
                                         DefaultIngressClass(), CertificateSigningRequestStrategy()])
        self.bookmark_interval = bookmark_interval
        self.authn = Authenticator()
        # The helpers reach the engine through a weak proxy: the engine owns them, and a cycle
        # would leave every stopped cluster's objects to the cyclic garbage collector.
        this = cast(ApiEngine, weakref.proxy(self))
        self.patches = PatchEngine(this)
        self.event_view = EventView(this)
        self._service_ip = 1
        # Hooks other layers add (CRD serving registers types here).
        self.on_write: list[WriteHook] = []
        # A shared backend (etcd) also reports what other API servers wrote.
        self.store.bind(self._stored_fields, self._remote_write)

    def _resource_for_key(self, key: tuple[str, str]) -> ResourceType | None:
        for rt in self.registry.all():
            if rt.key == key:
                return rt
        return None

    def _stored_fields(self, key: tuple[str, str], obj: JSON) -> dict[str, str]:
        """The selectable fields of an object written elsewhere (unknown types: name and namespace)."""
        rt = self._resource_for_key(key)
        if rt is not None:
            return rt.selectable_fields(obj)
        meta = obj.get("metadata") or {}
        return {"metadata.name": meta.get("name") or "", "metadata.namespace": meta.get("namespace") or ""}

    def _remote_write(self, op: str, key: tuple[str, str], obj: JSON, old: JSON | None) -> None:
        """Another API server on the same store wrote: run the hooks as if it had been us (CRDs)."""
        rt = self._resource_for_key(key)
        if rt is not None:
            self.notify(op, rt, obj, old)

    # ---------------------------------------------------------------------------- helpers

    def now(self) -> str:
        return rfc3339(self.clock.now())

    def resolve(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self.registry.get(group, version, plural)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {"group": group, "kind": plural} if group else {"kind": plural})
        return rt

    def object_namespace(self, rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def _lookup(self, group: str, plural: str, namespace: str, name: str) -> JSON | None:
        stored = self.store.get((group, plural), namespace, name)
        return stored.object() if stored else None

    def _list_objects(self, group: str, plural: str, namespace: str | None) -> builtins.list[JSON]:
        return [s.object() for s in self.store.iter((group, plural), namespace)]

    def account_uid(self, namespace: str, name: str) -> str | None:
        """The uid of a ServiceAccount, None when it does not exist (token verification)."""
        stored = self.store.get(("", "serviceaccounts"), namespace, name)
        return None if stored is None else str(stored.object()["metadata"].get("uid") or "")

    def admission_context(self, operation: str, rt: ResourceType, subresource: str | None,
                          dry_run: bool) -> AdmissionContext:
        return AdmissionContext(operation, rt, subresource, dry_run, self.clock.now(), self._lookup,
                                self._list_objects)

    def get_stored(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject:
        stored = self.store.get(rt.key, self.object_namespace(rt, namespace), name)
        if stored is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return stored

    # ------------------------------------------------------------------------------ reads

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject:
        if "get" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return self.event_view.get(namespace, name)
        if rt.key == COMPONENT_STATUS_KEY:
            return get_component_status(name, self.store.resource_version)
        return served_version(rt, self.get_stored(rt, namespace, name))

    def list(self, rt: ResourceType, namespace: str | None, query: Query) -> ListResult:
        if "list" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return self.event_view.list(rt, namespace, query)
        return list_objects(self.store, rt, namespace, query)

    async def watch(self, rt: ResourceType, namespace: str | None, query: Query) -> AsyncIterator[WatchItem]:
        """The events of a watch, as ``WatchItem``s; ends on timeout or when the watch is closed."""
        if "watch" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return await self.event_view.watch(namespace, query)
        return open_watch(self.store, self.clock, rt, namespace, query, bookmark_interval=self.bookmark_interval)

    # ----------------------------------------------------------------------------- writes

    def check_body(self, rt: ResourceType, body: Any) -> JSON:
        if not isinstance(body, dict):
            raise errors.bad_request(
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json, application/yaml, application/vnd.kubernetes.protobuf")
        api_version = body.get("apiVersion")
        kind = body.get("kind")
        if api_version not in (None, "") and not isinstance(api_version, str):
            raise errors.bad_request("couldn't get version/kind; json parse error: json: cannot unmarshal "
                                     "apiVersion into Go struct field .apiVersion of type string")
        if kind not in (None, "") and not isinstance(kind, str):
            raise errors.bad_request("couldn't get version/kind; json parse error: json: cannot unmarshal "
                                     "kind into Go struct field .kind of type string")
        if api_version and api_version != rt.api_version:
            group = api_version.rpartition("/")[0] if "/" in api_version else ""
            if group != rt.group or not self.registry.get(group, api_version.rpartition("/")[2], rt.plural):
                raise errors.bad_request(f"the API version in the data ({api_version}) does not match the "
                                         f"expected API version ({rt.api_version})")
        if kind and kind != rt.kind:
            raise errors.bad_request(
                f'{kind} in version "{rt.version}" cannot be handled as a {rt.kind}: converting '
                f"({rt.version}.{kind}) to ({rt.group or 'core'}.{rt.kind}): unknown conversion")
        metadata = body.get("metadata", {})
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, dict):
            raise errors.bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                     f"json: cannot unmarshal {json_kind(metadata)} into Go struct field "
                                     f"{rt.kind}.metadata of type v1.ObjectMeta")
        body["metadata"] = metadata
        body["apiVersion"] = rt.api_version
        body["kind"] = rt.kind
        return body

    def schema_check(self, rt: ResourceType, obj: JSON, query: Query, warnings: builtins.list[str],
                     raw: bytes | None = None, *, memo: bool = False) -> JSON:
        """Decode-time checks against the schema: wrong types (400) and unknown/duplicate fields.

        ``raw`` is the JSON body when it may repeat a key (the server leaves it out once it has
        ruled that out); ``memo`` lets a create skip the walk for a shape seen clean before.
        """
        return check_object(rt, obj, query.get("fieldValidation") or "", warnings, raw, memo=memo)

    def _validate(self, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        errs = validate_object(rt, obj, old)
        if errs:
            name = obj["metadata"].get("name") or ""
            raise errors.invalid(rt.qualified_kind, rt.group, rt.kind, name, errs)

    def create(self, rt: ResourceType, namespace: str | None, body: Any, query: Query, *,
               user_agent: str = "", subresource: str | None = None, parent: str | None = None,
               managed_fields_done: bool = False, raw: bytes | None = None) -> WriteResult:
        if subresource:
            return create_subresource(self, rt, namespace, parent or "", subresource, body, query)
        if rt.key == VIEW_KEY:
            return self.event_view.create(namespace, body, query, user_agent)
        if rt.key in REVIEW_KEYS:
            return WriteResult(201, review(rt, namespace, body, authn=self.authn, now=self.clock.now(),
                                           account_uid=self.account_uid))
        if "create" not in rt.verbs:
            raise errors.method_not_allowed("create", rt.kind)
        warnings: list[str] = []
        obj = self.check_body(rt, body)
        obj = self.schema_check(rt, obj, query, warnings, raw, memo=True)
        meta = obj["metadata"]
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and namespace and body_ns != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            if not namespace and not body_ns:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace or body_ns
        else:
            meta.pop("namespace", None)
        name = meta.get("name")
        if not name:
            prefix = meta.get("generateName")
            if prefix and isinstance(prefix, str):
                meta["name"] = generate_name(prefix, self.rng)
            else:
                raise errors.invalid(rt.qualified_kind, rt.group, rt.kind, "",
                                     [errors.required("metadata.name", "name or generateName is required")])
        # Server-owned metadata.
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = self.new_uid()
        meta["creationTimestamp"] = self.now()
        if tracks_generation(rt):
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if rt.key in _RESET_STATUS_ON_CREATE or (rt.custom and rt.has_status):
            obj.pop("status", None)
        if rt.kind == "Service" and rt.group == "":
            self._allocate_cluster_ip(obj)
        if not rt.custom:
            apply_defaults(rt.group, rt.kind, obj)
            prepare_for_create(rt.group, rt.kind, obj)
        else:
            default_custom(rt, obj)
        dry = dry_run(query)
        self.admission.run(self.admission_context(CREATE, rt, None, dry), obj, None)
        self._validate(rt, obj, None)
        if not managed_fields_done:
            record_managed_fields(self, rt, None, obj, _manager(query, user_agent), None)
        if dry:
            if self.store.get(rt.key, meta.get("namespace") or "", meta["name"]) is not None:
                raise errors.already_exists(rt.group, rt.plural, meta["name"])
            return WriteResult(201, obj, warnings)
        try:
            stored = self.store.create(rt.key, obj, rt.selectable_fields(obj))
        except KeyError:
            raise errors.already_exists(rt.group, rt.plural, meta["name"]) from None
        self.notify("create", rt, obj, None)
        return WriteResult(201, obj, warnings, stored.raw)

    def _allocate_cluster_ip(self, obj: JSON) -> None:
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict) or spec.get("type") == "ExternalName":
            return
        if spec.get("clusterIP") in (None, ""):
            if self._service_ip == 1:  # this server's first: continue after those a kept store holds
                self._service_ip = max([1, *(_service_ip_index(s.object()) for s in
                                             self.store.iter(("", "services")))])
            self._service_ip += 1
            ip = f"10.96.{self._service_ip // 250}.{self._service_ip % 250 + 1}"
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        elif not spec.get("clusterIPs"):
            # A chosen address, or "None" for a headless Service: clusterIPs repeats it, as upstream.
            spec["clusterIPs"] = [spec["clusterIP"]]
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")

    def update(self, rt: ResourceType, namespace: str | None, name: str, body: Any, query: Query, *,
               user_agent: str = "", subresource: str | None = None, raw: bytes | None = None) -> WriteResult:
        if subresource and subresource not in ("status", "finalize") and \
                not (subresource == "approval" and subresource in rt.subresources):
            return update_subresource(self, rt, namespace, name, subresource, body, query)
        if "update" not in rt.verbs:
            raise errors.method_not_allowed("update", rt.kind)
        if rt.key == VIEW_KEY:
            return self.event_view.update(namespace, name, body, query, user_agent)
        warnings: list[str] = []
        obj = self.check_body(rt, body)
        obj = self.schema_check(rt, obj, query, warnings, raw)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the "
                                     f"URL ({name})")
        meta["name"] = name
        if rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request("the namespace of the provided object does not match the namespace "
                                         "sent on the request")
            meta["namespace"] = namespace
        current = self.store.get(rt.key, self.object_namespace(rt, namespace), name)
        if current is None:
            if rt.key in _CREATE_ON_UPDATE and not subresource:
                meta.pop("resourceVersion", None)
                return self.create(rt, namespace, obj, query, user_agent=user_agent)
            raise errors.not_found(rt.group, rt.plural, name)
        expected = parse_resource_version(meta.get("resourceVersion")) if meta.get("resourceVersion") else None
        if expected is None and rt.custom:
            raise errors.invalid(rt.qualified_kind, rt.group, rt.kind, name, [
                errors.invalid_value("metadata.resourceVersion", "0x0", "must be specified for an update")])
        result = self.write_update(rt, current, obj, query, user_agent=user_agent, subresource=subresource,
                                   expected_rv=expected)
        result.warnings[:0] = warnings
        return result

    def write_update(self, rt: ResourceType, current: StoredObject, new: JSON, query: Query, *,
                     user_agent: str = "", subresource: str | None = None, expected_rv: int | None = None,
                     manager: str | None = None, managed_fields_done: bool = False,
                     fields_subresource: str | None = None) -> WriteResult:
        """The common tail of PUT and PATCH: carry server fields, split status, admit, validate, store.

        ``fields_subresource`` names the endpoint for managedFields when it differs from
        ``subresource`` (``scale`` writes the main object but owns fields as ``scale``).
        """
        if expected_rv is not None and expected_rv != current.rv:
            raise errors.conflict(rt.group, rt.plural, current.name)
        old = current.object()
        ometa = old["metadata"]
        meta = new.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        new["apiVersion"] = rt.api_version
        new["kind"] = rt.kind
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "name"):
            if key in ometa:
                meta[key] = ometa[key]
            else:
                meta.pop(key, None)
        if rt.namespaced:
            meta["namespace"] = ometa.get("namespace")
        meta.pop("selfLink", None)
        if "generation" in ometa:
            meta["generation"] = ometa["generation"]
        else:
            meta.pop("generation", None)
        if subresource in ("status", "approval"):  # approval: CSR conditions, see csr_strategy
            new = self._status_update(old, new)
            meta = new["metadata"]
        elif subresource == "finalize":
            merged = {**old}
            merged["spec"] = {**(old.get("spec") or {}), "finalizers": (new.get("spec") or {}).get("finalizers") or []}
            merged["metadata"] = old["metadata"]
            new = merged
            meta = new["metadata"]
        elif rt.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if ometa.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(ometa.get("finalizers") or [])
            if added:
                listing = " ".join(f'"{f}"' for f in sorted(added))
                raise errors.invalid(rt.qualified_kind, rt.group, rt.kind, current.name, [
                    errors.forbidden_field("metadata.finalizers",
                                           f"no new finalizers can be added if the object is being deleted, "
                                           f"found new finalizers []string{{{listing}}}")])
        if tracks_generation(rt) and spec_part(new) != spec_part(old) and subresource is None:
            meta["generation"] = int(ometa.get("generation") or 1) + 1
        if not rt.custom:
            apply_defaults(rt.group, rt.kind, new)
        else:
            default_custom(rt, new)
        dry = dry_run(query)
        self.admission.run(self.admission_context(UPDATE, rt, subresource, dry), new, old)
        self._validate(rt, new, old)
        if not managed_fields_done:
            record_managed_fields(self, rt, old, new, manager or _manager(query, user_agent),
                                  fields_subresource or subresource)
        if _same_ignoring(new, old):
            return WriteResult(200, old, [], current.raw)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not namespace_pending(rt, new):
            if dry:
                return WriteResult(200, new)
            tomb = self.store.delete(rt.key, current.namespace, current.name)
            self.notify("delete", rt, new, old)
            return WriteResult(200, new, [], tomb.raw)
        if dry:
            return WriteResult(200, new)
        try:
            stored = self.store.update(rt.key, new, rt.selectable_fields(new), expected_rv=current.rv)
        except PreconditionFailed:
            raise errors.conflict(rt.group, rt.plural, current.name) from None
        self.notify("update", rt, new, old)
        return WriteResult(200, new, [], stored.raw)

    def _status_update(self, old: JSON, new: JSON) -> JSON:
        merged = {k: v for k, v in old.items() if k != "status"}
        if "status" in new:
            merged["status"] = new["status"]
        meta = dict(old["metadata"])
        nmeta = new.get("metadata") or {}
        for key in ("labels", "annotations"):
            if key in nmeta:
                meta[key] = nmeta[key]
            else:
                meta.pop(key, None)
        if "managedFields" in nmeta:
            meta["managedFields"] = nmeta["managedFields"]
        merged["metadata"] = meta
        return merged

    def patch(self, rt: ResourceType, namespace: str | None, name: str, patch: Any, content_type: str,
              query: Query, *, user_agent: str = "", subresource: str | None = None) -> WriteResult:
        if rt.key == VIEW_KEY:
            return self.event_view.patch(rt, namespace, name, patch, content_type, query, user_agent)
        ct = patch_content_type(rt, content_type)
        if subresource and subresource not in ("status", "finalize"):
            return patch_subresource(self, rt, namespace, name, subresource, patch, ct, query)
        return self.patches.patch(rt, namespace, name, patch, ct, query, user_agent=user_agent,
                                  subresource=subresource)

    # ---------------------------------------------------------------------------- delete

    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: JSON, query: Query) -> WriteResult:
        if "delete" not in rt.verbs:
            raise errors.method_not_allowed("delete", rt.kind)
        if rt.key == VIEW_KEY:
            return self.event_view.delete(namespace, name, options, query)
        return delete_object(self, rt, namespace, name, options, query)

    def delete_collection(self, rt: ResourceType, namespace: str | None, options: JSON, query: Query) -> JSON:
        if "deletecollection" not in rt.verbs:
            raise errors.method_not_allowed("deletecollection", rt.kind)
        return delete_collection(self, rt, namespace, options, query)

    def notify(self, op: str, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        for hook in self.on_write:
            hook(op, rt, obj, old)


def _implements_services(engine: ApiEngine) -> EngineServices:
    """Never called: mypy checks here that the engine gives its handlers all they may use."""
    return engine


# Types whose registry strategy keeps metadata.generation (set to 1, bumped on spec changes).
_GENERATION_TYPES = {
    ("", "pods"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("apiextensions.k8s.io", "customresourcedefinitions"), ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"),
}


def tracks_generation(rt: ResourceType) -> bool:
    return rt.custom or rt.key in _GENERATION_TYPES


def _manager(query: Query, user_agent: str) -> str:
    """fieldManager, else the User-Agent prefix (``kubectl``, ``OpenAPI-Generator``), as upstream."""
    manager = query.get("fieldManager")
    if manager:
        validate_write_options(manager)
    return manager_name(manager, user_agent)


def _same_ignoring(new: JSON, old: JSON) -> bool:
    """True when a write changes nothing but managedFields timestamps and the resourceVersion."""

    def strip(obj: JSON) -> JSON:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
        return {**obj, "metadata": meta}

    if strip(new) != strip(old):
        return False
    managers_new = [(e.get("manager"), e.get("operation"), e.get("fieldsV1")) for e in
                    (new.get("metadata") or {}).get("managedFields") or []]
    managers_old = [(e.get("manager"), e.get("operation"), e.get("fieldsV1")) for e in
                    (old.get("metadata") or {}).get("managedFields") or []]
    return managers_new == managers_old


def _service_ip_index(service: JSON) -> int:
    """The allocation counter behind a cluster IP ``10.96.a.b`` handed out here (0 for others)."""
    parts = str((service.get("spec") or {}).get("clusterIP") or "").split(".")
    if len(parts) != 4 or parts[:2] != ["10", "96"] or not all(p.isdigit() for p in parts[2:]):
        return 0
    return int(parts[2]) * 250 + int(parts[3]) - 1
