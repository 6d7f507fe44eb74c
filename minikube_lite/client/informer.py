"""List+watch into a local cache, as client-go's reflector and shared informer do.

Controllers read from the cache and react to changes through handlers; a watch that ends is
resumed from the last resourceVersion seen, and a 410 Expired leads to a fresh list (with
handlers told about what changed in between).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..apiserver.errors import ApiError
from ..clock import Clock, RealClock
from .base import JSON, Client

log = logging.getLogger(__name__)

Handler = Callable[[str, JSON, JSON | None], Any]
Key = tuple[str, str]
IndexFunc = Callable[[JSON], "list[str] | tuple[str, ...]"]


def metadata_only(obj: JSON) -> JSON:
    """Keep what a metadata informer keeps: kind, apiVersion and metadata (without managedFields)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"), "metadata": meta}


def object_key(obj: JSON) -> Key:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class Informer:
    """A cache of one resource kept current by a watch.

    Handlers are called as ``handler(event_type, obj, old)`` with event_type ``ADDED``,
    ``MODIFIED`` or ``DELETED``. Objects in the cache are shared: treat them as read-only.
    """

    def __init__(self, client: Client, resource: str, namespace: str | None = None, *,
                 label_selector: str | None = None, field_selector: str | None = None,
                 clock: Clock | None = None, watch_timeout: float = 300.0,
                 transform: Callable[[JSON], JSON] | None = None) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.clock = clock or RealClock()
        self.watch_timeout = watch_timeout
        # Like client-go's SetTransform: trim objects before caching (e.g. metadata only).
        self.transform = transform
        self._cache: dict[Key, JSON] = {}
        # Like client-go's Indexer: per-namespace buckets (always) and named indexes (on demand),
        # so that "the pods in this namespace" or "the PVs bound to this claim" do not scan every
        # object of a 10,000-object cache on each event.
        self._by_ns: dict[str, dict[Key, JSON]] = {}
        self._index_funcs: dict[str, IndexFunc] = {}
        self._indexes: dict[str, dict[str, dict[Key, JSON]]] = {}
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        self._stopped = False
        self._users = 0
        # The per-client map of shared informers this one is listed in (see shared_informer).
        self._shared_in: dict[str, Informer] | None = None
        self._shared_key = resource
        self.resource_version = ""
        self.relists = 0

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def remove_handler(self, handler: Handler) -> None:
        """Stop telling ``handler`` about changes (a user of a shared informer that stopped)."""
        with contextlib.suppress(ValueError):
            self._handlers.remove(handler)

    def replay(self, handler: Handler) -> None:
        """Tell ``handler`` about every cached object as ``ADDED``: what client-go's AddEventHandler
        does for a handler joining an informer that has already synced, so a late user misses nothing."""
        for obj in list(self._cache.values()):
            try:
                result = handler("ADDED", obj, None)
                if asyncio.iscoroutine(result):
                    asyncio.ensure_future(result)
            except Exception:
                log.exception("informer handler for %s failed", self.resource)

    def acquire(self) -> None:
        """One more user of a shared informer (see :func:`shared_informer`)."""
        self._users += 1

    def release(self) -> bool:
        """One user fewer; True when nobody uses it any more (then it should be stopped)."""
        self._users = max(0, self._users - 1)
        return self._users == 0

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def get(self, name: str, namespace: str | None = None) -> JSON | None:
        return self._cache.get((namespace or "", name))

    def list(self, namespace: str | None = None) -> list[JSON]:
        if namespace is None:
            return list(self._cache.values())
        return list(self._by_ns.get(namespace, {}).values())

    def add_index(self, name: str, func: IndexFunc) -> None:
        """Keep an index ``name`` of the cache: ``func(obj)`` gives the index values of an object."""
        if name in self._index_funcs:
            return
        self._index_funcs[name] = func
        index: dict[str, dict[Key, JSON]] = {}
        for key, obj in self._cache.items():
            for value in func(obj):
                index.setdefault(value, {})[key] = obj
        self._indexes[name] = index

    def by_index(self, name: str, value: str) -> builtins.list[JSON]:
        """Cached objects whose index ``name`` contains ``value`` (client-go ``ByIndex``)."""
        return list(self._indexes[name].get(value, {}).values())

    def _store(self, key: Key, obj: JSON, old: JSON | None) -> None:
        # An update keeps the object's place in every bucket it stays in (as in the cache itself),
        # so "first match" scans over an index see the same order as over the whole cache.
        self._cache[key] = obj
        self._by_ns.setdefault(key[0], {})[key] = obj
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            values = func(obj)
            if old is not None:
                for value in func(old):
                    if value not in values:
                        entries = index.get(value)
                        if entries is not None:
                            entries.pop(key, None)
                            if not entries:
                                del index[value]
            for value in values:
                index.setdefault(value, {})[key] = obj

    def _remove(self, key: Key) -> JSON | None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def _unindex(self, key: Key, old: JSON) -> None:
        bucket = self._by_ns.get(key[0])
        if bucket is not None:
            bucket.pop(key, None)
            if not bucket:
                del self._by_ns[key[0]]
        for name, func in self._index_funcs.items():
            index = self._indexes[name]
            for value in func(old):
                entries = index.get(value)
                if entries is not None:
                    entries.pop(key, None)
                    if not entries:
                        del index[value]

    def __len__(self) -> int:
        return len(self._cache)

    async def start(self) -> None:
        if self._task is None:
            await self._relist()
            self._task = asyncio.create_task(self._run(), name=f"informer-{self.resource}")

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def stop(self) -> None:
        task = self.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def cancel(self) -> asyncio.Task[None] | None:
        """Stop without waiting: the watch task, cancelled, for the caller to await (or None).

        Stopping many informers, cancel them all and await the tasks together: one pass of the
        event loop instead of one per informer.
        """
        self._stopped = True
        if self._shared_in is not None and self._shared_in.get(self._shared_key) is self:
            del self._shared_in[self._shared_key]   # a stopped informer's cache is not kept for later users
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    def _emit(self, event_type: str, obj: JSON, old: JSON | None) -> None:
        for handler in self._handlers:
            try:
                result = handler(event_type, obj, old)
                if asyncio.iscoroutine(result):
                    asyncio.ensure_future(result)
            except Exception:  # a handler bug must not kill the informer
                log.exception("informer handler for %s failed", self.resource)

    async def _relist(self) -> None:
        items: list[JSON] = []
        token: str | None = None
        while True:
            page = await self.client.list(self.resource, self.namespace, label_selector=self.label_selector,
                                          field_selector=self.field_selector, limit=500, continue_token=token)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue") or None
            rv = (page.get("metadata") or {}).get("resourceVersion", "")
            if not token:
                break
        self.relists += 1
        if self.transform is not None:
            items = [self.transform(o) for o in items]
        fresh = {object_key(o): o for o in items}
        old_cache = self._cache
        self._cache = {}
        self._by_ns = {}
        self._indexes = {name: {} for name in self._index_funcs}
        for key, obj in fresh.items():
            self._store(key, obj, None)
        self.resource_version = rv
        for key, obj in fresh.items():
            prev = old_cache.get(key)
            if prev is None:
                self._emit("ADDED", obj, None)
            elif (prev.get("metadata") or {}).get("resourceVersion") != (obj.get("metadata") or {}).get(
                    "resourceVersion"):
                self._emit("MODIFIED", obj, prev)
        for key, prev in old_cache.items():
            if key not in fresh:
                self._emit("DELETED", prev, None)
        self._synced.set()

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopped:
            try:
                async for event in self.client.watch(self.resource, self.namespace,
                                                     resource_version=self.resource_version,
                                                     label_selector=self.label_selector,
                                                     field_selector=self.field_selector,
                                                     timeout_seconds=self.watch_timeout, allow_bookmarks=True):
                    backoff = 0.1
                    if event.type == "ERROR":
                        if event.object.get("code") == 410:
                            await self._safe_relist()
                        break
                    self._apply(event.type, event.object)
            except asyncio.CancelledError:
                raise
            except ApiError as err:
                if err.code == 410:
                    await self._safe_relist()
                    continue
                log.debug("watch of %s failed: %s", self.resource, err)
                await self.clock.sleep(backoff, daemon=True)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # connection trouble: back off and resume
                log.debug("watch of %s failed: %s", self.resource, exc)
                await self.clock.sleep(backoff, daemon=True)
                backoff = min(backoff * 2, 5.0)
                await self._safe_relist()

    async def _safe_relist(self) -> None:
        with contextlib.suppress(Exception):
            await self._relist()

    def _apply(self, event_type: str, obj: JSON) -> None:
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        if rv:
            self.resource_version = rv
        if event_type == "BOOKMARK":
            return
        if self.transform is not None:
            obj = self.transform(obj)
        key = object_key(obj)
        old = self._cache.get(key)
        if event_type == "DELETED":
            self._remove(key)
            self._emit("DELETED", obj, old)
        else:
            self._store(key, obj, old)
            self._emit("ADDED" if old is None else "MODIFIED", obj, old)


# The attribute under which a client owns its shared informers. The cache lives on the client
# itself (per-cluster ownership) rather than in a module-level map keyed by the client: an
# informer holds its client, so a ``WeakKeyDictionary[client, informers]`` could never drop its
# key (the value keeps the key alive) and every stopped cluster stayed in memory for good.
_SHARED_ATTR = "_minikube_lite_shared_informers"


def shared_informer(client: Client, resource: str, clock: Clock | None = None) -> Informer:
    """The one plain (unfiltered, untransformed) informer of ``resource`` for this client.

    client-go's SharedInformerFactory: every controller of a cluster watching pods reads the
    same cache through one watch, instead of each decoding every pod event into a cache of its own
    (ten pod informers made each pod write cost ten decodes). Users ``acquire``/``release`` it; a
    stopped informer is dropped so the next user gets a fresh one.
    """
    key = _shared_key(client, resource)
    per_client: dict[str, Informer] | None = getattr(client, _SHARED_ATTR, None)
    if per_client is None:
        per_client = {}
        try:
            setattr(client, _SHARED_ATTR, per_client)
        except (AttributeError, TypeError):   # a client that takes no attributes: no sharing
            return Informer(client, resource, clock=clock)
    inf = per_client.get(key)
    if inf is None or inf._stopped:
        inf = Informer(client, resource, clock=clock)
        inf._shared_in = per_client
        inf._shared_key = key
        per_client[key] = inf
    return inf


def _shared_key(client: Client, resource: str) -> str:
    """One key per type however it is spelt ("storageclasses", "storageclasses.storage.k8s.io",
    "storageclasses.v1.storage.k8s.io"), where the client can tell without a request."""
    canonical: Callable[[str], str] | None = getattr(client, "canonical_resource", None)
    if canonical is None:
        return resource
    try:
        return canonical(resource)
    except Exception:   # not a type the client knows: its listing fails, with its own error
        return resource


def running_shared_informer(client: Client, resource: str) -> Informer | None:
    """The shared informer of ``resource`` if some user of this client already runs one, else None.

    For a watcher of many types (the garbage collector) that shares what others watch anyway and
    keeps a cheaper cache of its own for the rest.
    """
    per_client: dict[str, Informer] | None = getattr(client, _SHARED_ATTR, None)
    inf = per_client.get(_shared_key(client, resource)) if per_client is not None else None
    return inf if inf is not None and not inf._stopped and inf._task is not None else None
