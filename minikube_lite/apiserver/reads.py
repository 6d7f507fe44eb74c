"""The read path of list and watch, apart from the write path of :mod:`.engine`.

A list is a consistent page of the store at one resourceVersion (``limit``/``continue`` tokens,
``resourceVersion``/``resourceVersionMatch`` as the cacher reads them); a watch streams the
store's changes from a resourceVersion, with the initial events, bookmarks and timeouts of
upstream's watch cache. :class:`~minikube_lite.apiserver.engine.ApiEngine` checks the verb and
serves views before it hands a request to these functions.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from ..clock import Clock
from . import errors
from .errors import ApiError, FieldError
from .objects import truthy
from .query_params import Query, int_param, parse_resource_version
from .registry import ResourceType
from .resources.component_status import COMPONENT_STATUS_KEY, list_component_statuses
from .results import ListResult, WatchItem
from .selectors import field_matcher, label_matcher, parse_field_selector
from .storage.store import Store, StoredObject, TooOldResourceVersion

JSON = dict[str, Any]
Predicate = Callable[[StoredObject], bool]

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
DEFAULT_BOOKMARK_INTERVAL = 60.0
CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can start a new "
    "list without the continue parameter, or use the continue token in this response to retrieve the "
    "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


def served_version(rt: ResourceType, stored: StoredObject) -> StoredObject:
    """Present a stored object at the version requested (CRDs with several versions).

    Every watcher of a custom resource calls this for every event: an object stored at the
    version asked for (the common case) is returned as is, without decoding it. Its stored bytes
    tell (apiVersion leads, or follows kind, as every client writes them); the version is not
    kept beside the bytes, which would cost every stored object a field (the RSS budget).
    """
    if not rt.custom or _stored_at(stored.raw, rt):
        return stored
    obj = stored.object()
    if obj.get("apiVersion") == rt.api_version:
        return stored
    obj["apiVersion"] = rt.api_version
    return StoredObject(stored.rv, stored.namespace, stored.name, orjson.dumps(obj), stored.labels,
                        stored.fields)


def _stored_at(raw: bytes, rt: ResourceType) -> bool:
    """Whether ``raw`` visibly starts with ``rt``'s apiVersion; False means: decode to know."""
    version = b'"apiVersion":"' + rt.api_version.encode() + b'",'
    return raw.startswith(b"{" + version) or raw.startswith(b'{"kind":"' + rt.kind.encode() + b'",' + version)


def encode_continue(rv: int, namespace: str, name: str) -> str:
    payload = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{namespace}\x00{name}"})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        ns, _, name = str(data["start"]).partition("\x00")
        return int(data["rv"]), (ns, name)
    except Exception:
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from None


def selector_predicate(rt: ResourceType, query: Query) -> Predicate | None:
    """The label and field selectors of a query as one test (None when there are none)."""
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


def check_list_options(query: Query, watch: bool) -> None:
    """The ListOptions validation of upstream (resourceVersionMatch, sendInitialEvents), as one 422."""
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


def list_objects(store: Store, rt: ResourceType, namespace: str | None, query: Query) -> ListResult:
    """One page of the objects of a type (in a namespace, or all of them when ``namespace`` is None)."""
    check_list_options(query, watch=False)
    predicate = selector_predicate(rt, query)
    if rt.key == COMPONENT_STATUS_KEY:
        computed = list_component_statuses(store.resource_version)
        return ListResult(rt, [s for s in computed if predicate is None or predicate(s)], store.resource_version)
    limit = int_param(query, "limit")
    token = query.get("continue") or ""
    list_rv = store.resource_version
    after: tuple[str, str] | None = None
    if token:
        token_rv, after = decode_continue(token)
        if token_rv < store.oldest_watchable(rt.key):
            raise errors.expired(CONTINUE_TOO_OLD)
        list_rv = token_rv
    else:
        rv = parse_resource_version(query.get("resourceVersion"))
        if query.get("resourceVersionMatch") == "Exact" and rv is not None:
            if rv < store.oldest_watchable(rt.key):
                raise errors.gone_too_old(rv, store.oldest_watchable(rt.key) + 1)
        if rv is not None and rv > store.resource_version:
            store.wait_fresh(rv)  # another API server on the store wrote it; wait as the cacher does
        if rv is not None and rv > store.resource_version and query.get("resourceVersionMatch") != "":
            raise ApiError(504, "Timeout",
                           f"Too large resource version: {rv}, current: {store.resource_version}",
                           {"causes": [{"reason": "ResourceVersionTooLarge",
                                        "message": "Too large resource version"}], "retryAfterSeconds": 1})
    ns = namespace if namespace is not None and rt.namespaced else None
    items: list[StoredObject] = []
    more = False
    for stored in store.iter(rt.key, ns, after):
        if predicate is not None and not predicate(stored):
            continue
        if limit is not None and limit > 0 and len(items) >= limit:
            more = True
            break
        items.append(served_version(rt, stored) if rt.custom else stored)
    result = ListResult(rt, items, list_rv)
    if more and items:
        last = items[-1]
        result.continue_token = encode_continue(list_rv, last.namespace, last.name)
        if predicate is None:
            total_after = sum(1 for _ in store.iter(rt.key, ns, (last.namespace, last.name)))
            result.remaining = total_after
    return result


def open_watch(store: Store, clock: Clock, rt: ResourceType, namespace: str | None, query: Query, *,
               bookmark_interval: float = DEFAULT_BOOKMARK_INTERVAL) -> AsyncIterator[WatchItem]:
    """Check a watch request (errors are raised here, before any frame) and return its stream."""
    check_list_options(query, watch=True)
    predicate = selector_predicate(rt, query)
    send_initial = truthy(query.get("sendInitialEvents"))
    bookmarks = truthy(query.get("allowWatchBookmarks"))
    rv = parse_resource_version(query.get("resourceVersion") or "")
    timeout = query.get("timeoutSeconds")
    timeout_s: float | None = None
    if timeout:
        try:
            timeout_s = float(int(timeout))
        except ValueError:
            raise errors.bad_request(f"invalid value for timeoutSeconds: {timeout!r}") from None
    ns = namespace if namespace is not None and rt.namespaced else None
    return _watch_stream(store, clock, bookmark_interval, rt, ns, predicate, send_initial, bookmarks, rv, timeout_s)


async def _watch_stream(store: Store, clock: Clock, bookmark_interval: float, rt: ResourceType, ns: str | None,
                        predicate: Predicate | None, send_initial: bool, bookmarks: bool, rv: int | None,
                        timeout_s: float | None) -> AsyncIterator[WatchItem]:
    initial = send_initial or rv is None or rv == 0
    if rv is not None and rv > store.resource_version:
        store.wait_fresh(rv)
    try:
        watcher = store.watch(rt.key, ns, predicate=predicate, initial=initial, since_rv=None if initial else rv)
    except TooOldResourceVersion as exc:
        yield WatchItem("ERROR", obj=errors.gone_too_old(exc.requested, exc.oldest).status())
        return
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
    bookmark_timer = clock.call_later(bookmark_interval, on_bookmark, daemon=True) if bookmarks else None
    # A bookmark promises that every event up to its resourceVersion was sent, and it carries
    # the store's newest one: so it goes out only once nothing is pending (changes committed
    # while earlier events were being written go first), with no await in between.
    try:
        while True:
            while watcher.pending:
                batch = watcher.drain()
                last = len(batch) - 1
                for i, (type_, stored) in enumerate(batch):
                    yield WatchItem(type_, served_version(rt, stored) if rt.custom else stored, more=i < last)
            if send_initial:
                send_initial = False
                yield bookmark(store, rt, initial_end=True)
                continue
            if watcher.closed or timed_out:
                return
            if bookmark_due:
                bookmark_due = False
                bookmark_timer = clock.call_later(bookmark_interval, on_bookmark, daemon=True)
                yield bookmark(store, rt)
                continue
            await watcher.wait()
    finally:
        for timer in (timeout_timer, bookmark_timer):
            if timer is not None:
                timer.cancel()
        watcher.close()


def bookmark(store: Store, rt: ResourceType, initial_end: bool = False) -> WatchItem:
    """A BOOKMARK frame at the store's newest resourceVersion (``initial_end``: the end of the initial events)."""
    meta: JSON = {"resourceVersion": str(store.resource_version)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return WatchItem("BOOKMARK", obj={"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})
