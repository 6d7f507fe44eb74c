"""The request path of the API server, independent of HTTP.

The aiohttp server and the in-process client both call :class:`ApiEngine`, so every request
takes the same way through decoding, admission, validation, resourceVersion checks and the
store, whether it came over a socket or not.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import functools
import random
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

from ..clock import Clock, rfc3339
from . import errors
from .admission import (
    CREATE,
    DELETE,
    UPDATE,
    AdmissionChain,
    AdmissionContext,
    NamespaceLifecycle,
    ServiceAccountAdmission,
)
from .batch import prepare_for_create
from .component_status import get_component_status, list_component_statuses
from .csr_strategy import CertificateSigningRequestStrategy
from .defaults import apply_defaults
from .errors import ApiError, FieldError
from .event_views import VIEW_KEY, EventView
from .ingress_admission import DefaultIngressClass
from .objects import generate_name, new_uid, seeded_uid, spec_part, truthy
from .priority_admission import PriorityAdmission
from .registry import Registry, ResourceType, builtin_types
from .reviews import REVIEW_KEYS, Authenticator, review, review_types
from .schema import json_kind
from .selectors import field_matcher, label_matcher, parse_field_selector
from .store import PreconditionFailed, Store, StoredObject, TooOldResourceVersion
from .writes import PatchEngine

JSON = dict[str, Any]
Query = Mapping[str, str]

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
DEFAULT_BOOKMARK_INTERVAL = 60.0
CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)

# Types whose status is reset on create, as their upstream strategies' PrepareForCreate does.
_RESET_STATUS_ON_CREATE = {
    ("", "pods"), ("", "persistentvolumeclaims"), ("", "persistentvolumes"), ("", "namespaces"),
    ("", "services"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("storage.k8s.io", "volumeattachments"),
    ("apiextensions.k8s.io", "customresourcedefinitions"), ("batch", "jobs"), ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"), ("networking.k8s.io", "ingresses"),
    ("autoscaling", "horizontalpodautoscalers"), ("certificates.k8s.io", "certificatesigningrequests"),
}
COMPONENT_STATUS_KEY = ("", "componentstatuses")  # computed on read, never stored
# PUT may create these when absent (rest.Updater AllowCreateOnUpdate).
_CREATE_ON_UPDATE = {("", "events"), ("", "endpoints"), ("coordination.k8s.io", "leases"),
                     ("events.k8s.io", "events")}


@dataclass
class WriteResult:
    """The outcome of a write: HTTP code, the object (or Status) and warnings."""

    code: int
    obj: JSON
    warnings: list[str] = field(default_factory=list)
    raw: bytes | None = None  # the stored bytes, when the object was stored

    def body_bytes(self) -> bytes:
        return self.raw if self.raw is not None else orjson.dumps(self.obj)


@dataclass
class ListResult:
    rt: ResourceType
    items: list[StoredObject]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None

    def metadata(self) -> JSON:
        meta: JSON = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta

    def to_dict(self) -> JSON:
        return {"kind": self.rt.list_kind, "apiVersion": self.rt.api_version, "metadata": self.metadata(),
                "items": [s.object() for s in self.items]}

    def to_bytes(self) -> bytes:
        head = orjson.dumps({"kind": self.rt.list_kind, "apiVersion": self.rt.api_version,
                             "metadata": self.metadata()})
        return head[:-1] + b',"items":[' + b",".join(s.raw for s in self.items) + b"]}"


@dataclass
class WatchItem:
    """One frame of a watch stream: an event with a stored object, a bookmark, or an error."""

    type: str
    stored: StoredObject | None = None
    obj: JSON | None = None  # for BOOKMARK and ERROR

    def object(self) -> JSON:
        if self.stored is not None:
            return self.stored.object()
        return dict(self.obj or {})

    def to_bytes(self) -> bytes:
        payload = self.stored.raw if self.stored is not None else orjson.dumps(self.obj)
        return b'{"type":"' + self.type.encode() + b'","object":' + payload + b"}\n"


def _int_param(query: Query, name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f"invalid value for {name}: {raw!r}") from None


def _parse_rv(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{raw}": invalid syntax') from None
    if value < 0:
        raise errors.bad_request(f"invalid resource version: {raw}")
    return value


def _encode_continue(rv: int, namespace: str, name: str) -> str:
    payload = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}\x00{name}"})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        ns, _, name = str(data["start"]).partition("\x00")
        return int(data["rv"]), (ns, name)
    except Exception:
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from None


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
        self.on_write: list[Callable[[str, ResourceType, JSON, JSON | None], None]] = []
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
            self._notify(op, rt, obj, old)

    # ---------------------------------------------------------------------------- helpers

    def now(self) -> str:
        return rfc3339(self.clock.now())

    def resolve(self, group: str, version: str, plural: str) -> ResourceType:
        rt = self.registry.get(group, version, plural)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource",
                           {"group": group, "kind": plural} if group else {"kind": plural})
        return rt

    def _object_ns(self, rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def _fields(self, rt: ResourceType, obj: JSON) -> dict[str, str]:
        return rt.selectable_fields(obj)

    def _lookup(self, group: str, plural: str, namespace: str, name: str) -> JSON | None:
        stored = self.store.get((group, plural), namespace, name)
        return stored.object() if stored else None

    def _list_objects(self, group: str, plural: str, namespace: str | None) -> builtins.list[JSON]:
        return [s.object() for s in self.store.iter((group, plural), namespace)]

    def account_uid(self, namespace: str, name: str) -> str | None:
        """The uid of a ServiceAccount, None when it does not exist (token verification)."""
        stored = self.store.get(("", "serviceaccounts"), namespace, name)
        return None if stored is None else str(stored.object()["metadata"].get("uid") or "")

    def _admission_ctx(self, op: str, rt: ResourceType, subresource: str | None, dry_run: bool) -> AdmissionContext:
        return AdmissionContext(op, rt, subresource, dry_run, self.clock.now(), self._lookup, self._list_objects)

    def get_stored(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject:
        stored = self.store.get(rt.key, self._object_ns(rt, namespace), name)
        if stored is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return stored

    def _served(self, rt: ResourceType, stored: StoredObject) -> StoredObject:
        """Present a stored object at the version requested (CRDs with several versions)."""
        if not rt.custom:
            return stored
        obj = stored.object()
        if obj.get("apiVersion") == rt.api_version:
            return stored
        obj["apiVersion"] = rt.api_version
        return StoredObject(stored.rv, stored.namespace, stored.name, orjson.dumps(obj), stored.labels,
                            stored.fields)

    # ------------------------------------------------------------------------------ reads

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject:
        if "get" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return self.event_view.get(namespace, name)
        if rt.key == COMPONENT_STATUS_KEY:
            return get_component_status(name, self.store.resource_version)
        return self._served(rt, self.get_stored(rt, namespace, name))

    def _predicate(self, rt: ResourceType, query: Query) -> Callable[[StoredObject], bool] | None:
        labels = label_matcher(query.get("labelSelector"))
        supported = {"metadata.name", "metadata.namespace", *rt.field_getters}
        fields = field_matcher(parse_field_selector(query.get("fieldSelector"), supported))
        if labels is None and fields is None:
            return None

        def predicate(stored: StoredObject) -> bool:
            if labels is not None and not labels(stored.labels):
                return False
            return fields is None or fields(stored.fields)

        return predicate

    def _check_list_options(self, query: Query, watch: bool) -> None:
        rv = query.get("resourceVersion")
        match = query.get("resourceVersionMatch")
        send_initial = query.get("sendInitialEvents")
        causes: list[FieldError] = []
        if match and not rv and not (watch and send_initial is not None):
            causes.append(errors.forbidden_field("resourceVersionMatch",
                                                 "resourceVersionMatch is forbidden unless resourceVersion is provided"))
        if match and match not in ("NotOlderThan", "Exact"):
            causes.append(errors.not_supported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]))
        if send_initial is not None:
            if not watch:
                causes.append(errors.forbidden_field("sendInitialEvents", "sendInitialEvents is forbidden for list"))
            elif match != "NotOlderThan":
                causes.append(errors.forbidden_field(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
        elif watch and match:
            causes.append(errors.forbidden_field("resourceVersionMatch",
                                                 "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
        if causes:
            msg = 'ListOptions.meta.k8s.io "" is invalid: ' + (
                str(causes[0]) if len(causes) == 1 else "[" + ", ".join(str(c) for c in causes) + "]")
            raise ApiError(422, "Invalid", msg, {"group": "meta.k8s.io", "kind": "ListOptions",
                                                 "causes": [c.cause() for c in causes]})

    def list(self, rt: ResourceType, namespace: str | None, query: Query) -> ListResult:
        if "list" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return self.event_view.list(rt, namespace, query)
        self._check_list_options(query, watch=False)
        predicate = self._predicate(rt, query)
        if rt.key == COMPONENT_STATUS_KEY:
            computed = list_component_statuses(self.store.resource_version)
            return ListResult(rt, [s for s in computed if predicate is None or predicate(s)],
                              self.store.resource_version)
        limit = _int_param(query, "limit")
        token = query.get("continue") or ""
        list_rv = self.store.resource_version
        after: tuple[str, str] | None = None
        if token:
            token_rv, after = _decode_continue(token)
            if token_rv < self.store.oldest_watchable(rt.key):
                raise errors.expired(CONTINUE_TOO_OLD)
            list_rv = token_rv
        else:
            rv = _parse_rv(query.get("resourceVersion"))
            if query.get("resourceVersionMatch") == "Exact" and rv is not None:
                if rv < self.store.oldest_watchable(rt.key):
                    raise errors.gone_too_old(rv, self.store.oldest_watchable(rt.key) + 1)
            if rv is not None and rv > self.store.resource_version:
                self.store.wait_fresh(rv)  # another API server on the store wrote it; wait as the cacher does
            if rv is not None and rv > self.store.resource_version and query.get("resourceVersionMatch") != "":
                raise ApiError(504, "Timeout",
                               f"Too large resource version: {rv}, current: {self.store.resource_version}",
                               {"causes": [{"reason": "ResourceVersionTooLarge",
                                            "message": "Too large resource version"}], "retryAfterSeconds": 1})
        ns = self._object_ns(rt, namespace) if namespace is not None and rt.namespaced else None
        items: list[StoredObject] = []
        more = False
        for stored in self.store.iter(rt.key, ns, after):
            if predicate is not None and not predicate(stored):
                continue
            if limit is not None and limit > 0 and len(items) >= limit:
                more = True
                break
            items.append(self._served(rt, stored) if rt.custom else stored)
        result = ListResult(rt, items, list_rv)
        if more and items:
            last = items[-1]
            result.continue_token = _encode_continue(list_rv, last.namespace, last.name)
            if predicate is None:
                total_after = sum(1 for _ in self.store.iter(rt.key, ns, (last.namespace, last.name)))
                result.remaining = total_after
        return result

    async def watch(self, rt: ResourceType, namespace: str | None, query: Query) -> AsyncIterator[WatchItem]:
        """The events of a watch, as ``WatchItem``s; ends on timeout or when the watch is closed."""
        if "watch" not in rt.verbs:
            raise errors.method_not_served()
        if rt.key == VIEW_KEY:
            return await self.event_view.watch(namespace, query)
        self._check_list_options(query, watch=True)
        predicate = self._predicate(rt, query)
        send_initial = truthy(query.get("sendInitialEvents"))
        bookmarks = truthy(query.get("allowWatchBookmarks"))
        raw_rv = query.get("resourceVersion") or ""
        rv = _parse_rv(raw_rv)
        timeout = query.get("timeoutSeconds")
        timeout_s: float | None = None
        if timeout:
            try:
                timeout_s = float(int(timeout))
            except ValueError:
                raise errors.bad_request(f"invalid value for timeoutSeconds: {timeout!r}") from None
        ns = self._object_ns(rt, namespace) if namespace is not None and rt.namespaced else None
        return self._watch_stream(rt, ns, predicate, send_initial, bookmarks, rv, timeout_s)

    async def _watch_stream(self, rt: ResourceType, ns: str | None,
                            predicate: Callable[[StoredObject], bool] | None, send_initial: bool,
                            bookmarks: bool, rv: int | None, timeout_s: float | None) -> AsyncIterator[WatchItem]:
        initial = send_initial or rv is None or rv == 0
        if rv is not None and rv > self.store.resource_version:
            self.store.wait_fresh(rv)
        try:
            watcher = self.store.watch(rt.key, ns, predicate=predicate, initial=initial,
                                       since_rv=None if initial else rv)
        except TooOldResourceVersion as exc:
            yield WatchItem("ERROR", obj=errors.gone_too_old(exc.requested, exc.oldest).status())
            return
        clock = self.clock
        timed_out = False

        def on_timeout() -> None:
            nonlocal timed_out
            timed_out = True
            watcher.poke()

        bookmark_due = False

        # The stream re-arms the bookmark timer when it sees it fire (a callback re-arming itself
        # would hold itself in a cycle, leaving every ended watch to the cyclic collector).
        def on_bookmark() -> None:
            nonlocal bookmark_due
            bookmark_due = True
            watcher.poke()

        timeout_timer = clock.call_later(timeout_s, on_timeout, daemon=True) if timeout_s is not None else None
        bookmark_timer = clock.call_later(self.bookmark_interval, on_bookmark, daemon=True) if bookmarks else None
        # A bookmark promises that every event up to its resourceVersion was sent, and it carries
        # the store's newest one: so it goes out only once nothing is pending (changes committed
        # while earlier events were being written go first), with no await in between.
        try:
            while True:
                while watcher.pending:
                    for type_, stored in watcher.drain():
                        yield WatchItem(type_, self._served(rt, stored) if rt.custom else stored)
                if send_initial:
                    send_initial = False
                    yield self._bookmark(rt, initial_end=True)
                    continue
                if watcher.closed or timed_out:
                    return
                if bookmark_due:
                    bookmark_due = False
                    bookmark_timer = clock.call_later(self.bookmark_interval, on_bookmark, daemon=True)
                    yield self._bookmark(rt)
                    continue
                await watcher.wait()
        finally:
            for timer in (timeout_timer, bookmark_timer):
                if timer is not None:
                    timer.cancel()
            watcher.close()

    def _bookmark(self, rt: ResourceType, initial_end: bool = False) -> WatchItem:
        meta: JSON = {"resourceVersion": str(self.store.resource_version)}
        if initial_end:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        return WatchItem("BOOKMARK", obj={"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})

    # ----------------------------------------------------------------------------- writes

    def _check_body(self, rt: ResourceType, body: Any) -> JSON:
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

    def _schema_check(self, rt: ResourceType, obj: JSON, query: Query, warnings: builtins.list[str],
                      raw: bytes | None = None, *, memo: bool = False) -> JSON:
        """Decode-time checks against the schema: wrong types (400) and unknown/duplicate fields.

        ``raw`` is the JSON body when it may repeat a key (the server leaves it out once it has
        ruled that out); ``memo`` lets a create skip the walk for a shape seen clean before.
        """
        from .schema_check import check_object

        return check_object(self, rt, obj, query.get("fieldValidation") or "", warnings, raw, memo=memo)

    def _validate(self, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        from .validate_hook import validate_object

        errs = validate_object(self, rt, obj, old)
        if errs:
            name = obj["metadata"].get("name") or ""
            raise errors.invalid(rt.qualified_kind, rt.group, rt.kind, name, errs)

    def _managed_fields(self, rt: ResourceType, old: JSON | None, new: JSON, manager: str,
                        subresource: str | None) -> None:
        from .writes import record_managed_fields

        record_managed_fields(self, rt, old, new, manager, subresource)

    def create(self, rt: ResourceType, namespace: str | None, body: Any, query: Query, *,
               user_agent: str = "", subresource: str | None = None, parent: str | None = None,
               managed_fields_done: bool = False, raw: bytes | None = None) -> WriteResult:
        if subresource:
            from .subresources import create_subresource

            return create_subresource(self, rt, namespace, parent or "", subresource, body, query)
        if rt.key == VIEW_KEY:
            return self.event_view.create(namespace, body, query, user_agent)
        if rt.key in REVIEW_KEYS:
            return WriteResult(201, review(rt, namespace, body, authn=self.authn, now=self.clock.now(),
                                           account_uid=self.account_uid))
        if "create" not in rt.verbs:
            raise errors.method_not_allowed("create", rt.kind)
        warnings: list[str] = []
        obj = self._check_body(rt, body)
        obj = self._schema_check(rt, obj, query, warnings, raw, memo=True)
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
            from .crd import default_custom

            default_custom(rt, obj)
        dry_run = _dry_run(query)
        self.admission.run(self._admission_ctx(CREATE, rt, None, dry_run), obj, None)
        self._validate(rt, obj, None)
        if not managed_fields_done:
            self._managed_fields(rt, None, obj, _manager(query, user_agent), None)
        if dry_run:
            if self.store.get(rt.key, meta.get("namespace") or "", meta["name"]) is not None:
                raise errors.already_exists(rt.group, rt.plural, meta["name"])
            return WriteResult(201, obj, warnings)
        try:
            stored = self.store.create(rt.key, obj, self._fields(rt, obj))
        except KeyError:
            raise errors.already_exists(rt.group, rt.plural, meta["name"]) from None
        self._notify("create", rt, obj, None)
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
            from .subresources import update_subresource

            return update_subresource(self, rt, namespace, name, subresource, body, query)
        if "update" not in rt.verbs:
            raise errors.method_not_allowed("update", rt.kind)
        if rt.key == VIEW_KEY:
            return self.event_view.update(namespace, name, body, query, user_agent)
        warnings: list[str] = []
        obj = self._check_body(rt, body)
        obj = self._schema_check(rt, obj, query, warnings, raw)
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
        current = self.store.get(rt.key, self._object_ns(rt, namespace), name)
        if current is None:
            if rt.key in _CREATE_ON_UPDATE and not subresource:
                meta.pop("resourceVersion", None)
                return self.create(rt, namespace, obj, query, user_agent=user_agent)
            raise errors.not_found(rt.group, rt.plural, name)
        expected = _parse_rv(meta.get("resourceVersion")) if meta.get("resourceVersion") else None
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
            from .crd import default_custom

            default_custom(rt, new)
        dry_run = _dry_run(query)
        self.admission.run(self._admission_ctx(UPDATE, rt, subresource, dry_run), new, old)
        self._validate(rt, new, old)
        if not managed_fields_done:
            self._managed_fields(rt, old, new, manager or _manager(query, user_agent),
                                 fields_subresource or subresource)
        if _same_ignoring(new, old):
            return WriteResult(200, old, [], current.raw)
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not _namespace_pending(rt, new):
            if dry_run:
                return WriteResult(200, new)
            tomb = self.store.delete(rt.key, current.namespace, current.name)
            self._notify("delete", rt, new, old)
            return WriteResult(200, new, [], tomb.raw)
        if dry_run:
            return WriteResult(200, new)
        try:
            stored = self.store.update(rt.key, new, self._fields(rt, new), expected_rv=current.rv)
        except PreconditionFailed:
            raise errors.conflict(rt.group, rt.plural, current.name) from None
        self._notify("update", rt, new, old)
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
        return self.patches.patch(rt, namespace, name, patch, content_type, query, user_agent=user_agent,
                                  subresource=subresource)

    # ---------------------------------------------------------------------------- delete

    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: JSON, query: Query) -> WriteResult:
        if "delete" not in rt.verbs:
            raise errors.method_not_allowed("delete", rt.kind)
        if rt.key == VIEW_KEY:
            return self.event_view.delete(namespace, name, options, query)
        current = self.get_stored(rt, namespace, name)
        obj = current.object()
        meta = obj["metadata"]
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            raise errors.conflict(rt.group, rt.plural, name,
                                  f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                                  f"{meta.get('uid')}")
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            raise errors.conflict(rt.group, rt.plural, name,
                                  f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                                  f"ResourceVersion in object meta: {meta.get('resourceVersion')}")
        dry_run = _dry_run(query) or options.get("dryRun") == ["All"]
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Orphan", "Foreground", "Background"):
            raise errors.invalid("DeleteOptions", "meta.k8s.io", "DeleteOptions", "", [
                errors.not_supported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])])
        self.admission.run(self._admission_ctx(DELETE, rt, None, dry_run), obj, obj)
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = self._grace_period(rt, obj, options)
        graceful = grace is not None and grace > 0
        pending_ns = rt.group == "" and rt.plural == "namespaces"
        if finalizers or graceful or pending_ns:
            changed = False
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = rfc3339(self.clock.now() + (grace or 0))
                meta["deletionGracePeriodSeconds"] = grace or 0
                changed = True
            elif graceful and grace is not None and grace < int(meta.get("deletionGracePeriodSeconds") or 0):
                meta["deletionTimestamp"] = rfc3339(self.clock.now() + grace)
                meta["deletionGracePeriodSeconds"] = grace
                changed = True
            elif grace == 0 and not finalizers:
                return self._delete_now(rt, current, obj, dry_run)
            if finalizers != list(meta.get("finalizers") or []):
                meta["finalizers"] = finalizers
                changed = True
            if pending_ns:
                obj.setdefault("status", {})["phase"] = "Terminating"
                changed = True
            if not changed or dry_run:
                return WriteResult(200, obj)
            stored = self.store.update(rt.key, obj, self._fields(rt, obj))
            self._notify("update", rt, obj, current.object())
            return WriteResult(200, obj, [], stored.raw)
        return self._delete_now(rt, current, obj, dry_run)

    def _delete_now(self, rt: ResourceType, current: StoredObject, obj: JSON, dry_run: bool) -> WriteResult:
        if not dry_run:
            tomb = self.store.delete(rt.key, current.namespace, current.name)
            obj = tomb.object()
            self._notify("delete", rt, obj, None)
        if rt.returns_deleted_object or rt.custom:
            return WriteResult(200, obj)
        details: JSON = {"name": current.name, "kind": rt.plural, "uid": obj["metadata"].get("uid")}
        if rt.group:
            details = {"name": current.name, "group": rt.group, "kind": rt.plural, "uid": obj["metadata"].get("uid")}
        return WriteResult(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                 "details": details})

    def _grace_period(self, rt: ResourceType, obj: JSON, options: JSON) -> int | None:
        """Graceful deletion applies to pods on a node, as the pod strategy decides."""
        if not (rt.group == "" and rt.plural == "pods"):
            return None
        spec = obj.get("spec") or {}
        phase = (obj.get("status") or {}).get("phase")
        requested = options.get("gracePeriodSeconds")
        if requested is not None:
            try:
                requested = int(requested)
            except (TypeError, ValueError):
                raise errors.bad_request("gracePeriodSeconds must be an integer") from None
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if requested is not None:
            return max(0, requested)
        return int(spec.get("terminationGracePeriodSeconds") or 30)

    def delete_collection(self, rt: ResourceType, namespace: str | None, options: JSON, query: Query) -> JSON:
        if "deletecollection" not in rt.verbs:
            raise errors.method_not_allowed("deletecollection", rt.kind)
        listed = self.list(rt, namespace, {k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")})
        items = []
        for stored in listed.items:
            with contextlib.suppress(ApiError):
                result = self.delete(rt, stored.namespace or None, stored.name, options, query)
                if result.obj.get("kind") != "Status":
                    items.append(result.obj)
                else:
                    items.append(stored.object())
        return {"kind": rt.list_kind, "apiVersion": rt.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)}, "items": items}

    def _notify(self, op: str, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        for hook in self.on_write:
            hook(op, rt, obj, old)


# Types whose registry strategy keeps metadata.generation (set to 1, bumped on spec changes).
_GENERATION_TYPES = {
    ("", "pods"), ("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
    ("apps", "daemonsets"), ("apiextensions.k8s.io", "customresourcedefinitions"), ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("policy", "poddisruptionbudgets"),
}


def tracks_generation(rt: ResourceType) -> bool:
    return rt.custom or rt.key in _GENERATION_TYPES


def _dry_run(query: Query) -> bool:
    value = query.get("dryRun")
    if value is None:
        return False
    if value != "All":
        raise ApiError(422, "Invalid", f'DryRun: Unsupported value: "{value}": supported values: "All"', {})
    return True


def _manager(query: Query, user_agent: str) -> str:
    """fieldManager, else the User-Agent prefix (``kubectl``, ``OpenAPI-Generator``), as upstream."""
    from .managed_fields import manager_name, validate_write_options

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


def _namespace_pending(rt: ResourceType, obj: JSON) -> bool:
    return rt.group == "" and rt.plural == "namespaces" and bool((obj.get("spec") or {}).get("finalizers"))

