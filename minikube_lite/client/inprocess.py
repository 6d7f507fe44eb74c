"""The in-process transport: the API server's request path, called without sockets.

Requests go through exactly what HTTP requests go through (decoding checks, admission,
validation, resourceVersion preconditions); only the bytes on the wire are skipped.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ..apiserver.apply.writes import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH
from ..apiserver.engine import ApiEngine
from ..apiserver.errors import ApiError
from ..apiserver.registry import ResourceType
from .base import JSON, PatchType, WatchEvent
from .manifests import DEFAULT_FIELD_MANAGER, Manifests, apply_documents, load_documents

PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": MERGE_PATCH, "json": JSON_PATCH, "strategic": STRATEGIC_PATCH, "apply": APPLY_PATCH,
}


def resolve(engine: ApiEngine, resource: str) -> ResourceType:
    try:
        return engine.registry.resolve(resource)
    except KeyError:
        raise ApiError(404, "NotFound", f'the server doesn\'t have a resource type "{resource}"') from None


def list_query(label_selector: str | None, field_selector: str | None, limit: int | None,
               continue_token: str | None, resource_version: str | None) -> dict[str, str]:
    query: dict[str, str] = {}
    if label_selector:
        query["labelSelector"] = label_selector
    if field_selector:
        query["fieldSelector"] = field_selector
    if limit:
        query["limit"] = str(limit)
    if continue_token:
        query["continue"] = continue_token
    if resource_version is not None:
        query["resourceVersion"] = resource_version
    return query


def delete_options(propagation_policy: str | None, grace_period_seconds: int | None,
                   preconditions: JSON | None) -> JSON:
    """A DeleteOptions body from the client's keyword arguments."""
    options: JSON = {}
    if propagation_policy:
        options["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        options["gracePeriodSeconds"] = grace_period_seconds
    if preconditions:
        options["preconditions"] = preconditions
    return options


def write_query(dry_run: bool, field_manager: str | None, force: bool | None = None) -> dict[str, str]:
    query: dict[str, str] = {}
    if dry_run:
        query["dryRun"] = "All"
    if field_manager:
        query["fieldManager"] = field_manager
    if force is not None:
        query["force"] = "true" if force else "false"
    return query


class InProcessClient:
    """A :class:`~minikube_lite.client.base.Client` bound directly to an :class:`ApiEngine`."""

    def __init__(self, engine: ApiEngine, user_agent: str = "minikube-lite/in-process") -> None:
        self.engine = engine
        self.user_agent = user_agent

    async def get(self, resource: str, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        if subresource:
            from ..apiserver.resources.subresources import get_subresource

            return get_subresource(self.engine, rt, namespace, name, subresource)
        return self.engine.get(rt, namespace, name).object()

    async def list(self, resource: str, namespace: str | None = None, *, label_selector: str | None = None,
                   field_selector: str | None = None, limit: int | None = None, continue_token: str | None = None,
                   resource_version: str | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        query = list_query(label_selector, field_selector, limit, continue_token, resource_version)
        return self.engine.list(rt, namespace, query).to_dict()

    async def create(self, resource: str, body: JSON, namespace: str | None = None, *, dry_run: bool = False,
                     field_manager: str | None = None, subresource: str | None = None,
                     name: str | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        if namespace is None and rt.namespaced:
            namespace = (body.get("metadata") or {}).get("namespace") or "default"
        result = self.engine.create(rt, namespace, _copy(body), write_query(dry_run, field_manager),
                                    user_agent=self.user_agent, subresource=subresource, parent=name)
        return result.obj

    async def update(self, resource: str, body: JSON, namespace: str | None = None, *,
                     subresource: str | None = None, dry_run: bool = False,
                     field_manager: str | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        meta = body.get("metadata") or {}
        if namespace is None and rt.namespaced:
            namespace = meta.get("namespace") or "default"
        result = self.engine.update(rt, namespace, meta.get("name", ""), _copy(body),
                                    write_query(dry_run, field_manager), user_agent=self.user_agent,
                                    subresource=subresource)
        return result.obj

    async def patch(self, resource: str, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: PatchType = "merge", subresource: str | None = None, dry_run: bool = False,
                    field_manager: str | None = None, force: bool | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        if namespace is None and rt.namespaced:
            namespace = "default"
        body = _copy(patch)
        if patch_type == "apply" and isinstance(body, dict):
            body = orjson.dumps(body)
        result = self.engine.patch(rt, namespace, name, body, PATCH_CONTENT_TYPES[patch_type],
                                   write_query(dry_run, field_manager, force), user_agent=self.user_agent,
                                   subresource=subresource)
        return result.obj

    async def delete(self, resource: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: JSON | None = None, dry_run: bool = False) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        if namespace is None and rt.namespaced:
            namespace = "default"
        options = delete_options(propagation_policy, grace_period_seconds, preconditions)
        return self.engine.delete(rt, namespace, name, options, write_query(dry_run, None)).obj

    async def delete_collection(self, resource: str, namespace: str | None = None, *,
                                label_selector: str | None = None, field_selector: str | None = None) -> JSON:
        await asyncio.sleep(0)
        rt = resolve(self.engine, resource)
        return self.engine.delete_collection(rt, namespace, {}, list_query(label_selector, field_selector, None,
                                                                            None, None))

    async def watch(self, resource: str, namespace: str | None = None, *, resource_version: str | None = None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    timeout_seconds: float | None = None, allow_bookmarks: bool = False,
                    send_initial_events: bool = False) -> AsyncIterator[WatchEvent]:
        rt = resolve(self.engine, resource)
        query = list_query(label_selector, field_selector, None, None, resource_version)
        if timeout_seconds is not None:
            query["timeoutSeconds"] = str(int(timeout_seconds))
        if allow_bookmarks:
            query["allowWatchBookmarks"] = "true"
        if send_initial_events:
            query["sendInitialEvents"] = "true"
            query["resourceVersionMatch"] = "NotOlderThan"
        stream = await self.engine.watch(rt, namespace, query)
        try:
            async for item in stream:
                yield WatchEvent(item.type, item.object())
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def api_resources(self) -> builtins.list[ResourceType]:
        return self.engine.registry.all()

    def canonical_resource(self, resource: str) -> str:
        """``group/version/plural`` of a resource however it is spelt (shared informers' key)."""
        rt = resolve(self.engine, resource)
        return f"{rt.group}/{rt.version}/{rt.plural}"

    async def apply(self, manifests: Manifests, namespace: str | None = None, *,
                    field_manager: str = DEFAULT_FIELD_MANAGER, force: bool = False,
                    dry_run: bool = False) -> builtins.list[JSON]:
        """Server-side apply every object of ``manifests`` (see :meth:`Client.apply`)."""
        async def resolve_kind(api_version: str, kind: str) -> ResourceType | None:
            return self.engine.registry.for_kind(api_version, kind)

        return await apply_documents(load_documents(manifests), resolve_kind=resolve_kind, patch=self.patch,
                                     get=self.get, namespace=namespace, field_manager=field_manager,
                                     force=force, dry_run=dry_run)

    async def close(self) -> None:
        return None


def _copy(body: Any) -> Any:
    """The caller keeps its dict: the engine works on a copy (an orjson round trip is the cheapest)."""
    try:
        return orjson.loads(orjson.dumps(body))
    except TypeError:  # not JSON-encodable (e.g. bytes for an apply body): copy it structurally
        return copy.deepcopy(body)
