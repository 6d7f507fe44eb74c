"""List+watch into a local cache, as client-go's reflector and shared informer do.

Controllers read from the cache and react to changes through handlers; a watch that ends is
resumed from the last resourceVersion seen, and a 410 Expired leads to a fresh list (with
handlers told about what changed in between).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..api.errors import ApiError
from ..clock import Clock, RealClock
from .base import JSON, Client

log = logging.getLogger(__name__)

Handler = Callable[[str, JSON, JSON | None], Any]
Key = tuple[str, str]


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
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        self._stopped = False
        self.resource_version = ""
        self.relists = 0

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def get(self, name: str, namespace: str | None = None) -> JSON | None:
        return self._cache.get((namespace or "", name))

    def list(self, namespace: str | None = None) -> list[JSON]:
        if namespace is None:
            return list(self._cache.values())
        return [o for (ns, _), o in self._cache.items() if ns == namespace]

    def __len__(self) -> int:
        return len(self._cache)

    async def start(self) -> None:
        if self._task is None:
            await self._relist()
            self._task = asyncio.create_task(self._run(), name=f"informer-{self.resource}")

    async def wait_synced(self) -> None:
        await self._synced.wait()

    async def stop(self) -> None:
        self._stopped = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

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
        self._cache = fresh
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
            self._cache.pop(key, None)
            self._emit("DELETED", obj, old)
        else:
            self._cache[key] = obj
            self._emit("ADDED" if old is None else "MODIFIED", obj, old)
