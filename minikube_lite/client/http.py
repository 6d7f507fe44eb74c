"""The HTTP transport: the same client verbs against any Kubernetes API server.

Resource names are resolved through discovery, as kubectl resolves them, so a controller
written against :class:`~minikube_lite.client.base.Client` runs unchanged over a socket.
"""

from __future__ import annotations

import builtins
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from ..apiserver.errors import ApiError
from ..apiserver.registry import Registry, ResourceType
from .base import JSON, PatchType, WatchEvent
from .events import stop_events
from .inprocess import PATCH_CONTENT_TYPES, delete_options, list_query, write_query
from .manifests import DEFAULT_FIELD_MANAGER, Manifests, apply_documents, load_documents


class HttpClient:
    #: Every call crosses a socket: controllers that overlap their requests read this, and events
    #: are written in the background (``client/events.py``) so a reconcile does not wait for them.
    #: The in-process client has no such attribute.
    remote = True

    def __init__(self, base_url: str, *, token: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 user_agent: str = "minikube-lite/http") -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._registry: Registry | None = None

    def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else False, limit=100)
            self._session = aiohttp.ClientSession(headers=self._headers, connector=connector,
                                                  timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self._session

    async def close(self) -> None:
        await stop_events(self)   # the events still queued go out first
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                       body: Any = None, content_type: str = "application/json") -> Any:
        data: bytes | None = None
        headers = {}
        if body is not None:
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            headers["Content-Type"] = content_type
        async with self._sess().request(method, self.base_url + path, params=params, data=data,
                                        headers=headers) as resp:
            raw = await resp.read()
            if resp.status >= 400:
                try:
                    status = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    status = {"code": resp.status, "reason": resp.reason or "", "message": raw.decode(errors="replace")}
                raise ApiError.from_status(status)
            ctype = resp.headers.get("Content-Type", "")
            if ctype.startswith("application/json"):
                return orjson.loads(raw)
            return raw.decode()

    async def registry(self) -> Registry:
        if self._registry is None:
            registry = Registry()
            from ..apiserver.wire.discovery import AGG_ACCEPT

            for path in ("/api", "/apis"):
                async with self._sess().get(self.base_url + path, headers={"Accept": AGG_ACCEPT}) as resp:
                    doc = orjson.loads(await resp.read())
                for item in doc.get("items") or []:
                    group = item["metadata"].get("name", "")
                    for v in item.get("versions") or []:
                        for res in v.get("resources") or []:
                            registry.add(ResourceType(
                                group=group, version=v["version"], kind=res["responseKind"]["kind"],
                                plural=res["resource"], singular=res.get("singularResource", ""),
                                namespaced=res.get("scope") == "Namespaced",
                                short_names=tuple(res.get("shortNames") or ()),
                                subresources=tuple(s["subresource"] for s in res.get("subresources") or []),
                                verbs=tuple(res.get("verbs") or ())))
            self._registry = registry
        return self._registry

    async def api_resources(self) -> builtins.list[ResourceType]:
        self._registry = None
        return (await self.registry()).all()

    async def apply(self, manifests: Manifests, namespace: str | None = None, *,
                    field_manager: str = DEFAULT_FIELD_MANAGER, force: bool = False,
                    dry_run: bool = False) -> builtins.list[JSON]:
        """Server-side apply every object of ``manifests`` (see :meth:`Client.apply`)."""
        async def resolve_kind(api_version: str, kind: str) -> ResourceType | None:
            rt = (await self.registry()).for_kind(api_version, kind)
            if rt is None:   # maybe served since discovery was read (a CRD just applied): read it again
                self._registry = None
                rt = (await self.registry()).for_kind(api_version, kind)
            return rt

        return await apply_documents(load_documents(manifests), resolve_kind=resolve_kind, patch=self.patch,
                                     get=self.get, namespace=namespace, field_manager=field_manager,
                                     force=force, dry_run=dry_run)

    async def _path(self, resource: str, namespace: str | None, name: str | None = None,
                    subresource: str | None = None) -> str:
        registry = await self.registry()
        try:
            rt = registry.resolve(resource)
        except KeyError:
            self._registry = None
            registry = await self.registry()
            try:
                rt = registry.resolve(resource)
            except KeyError:
                raise ApiError(404, "NotFound", f'the server doesn\'t have a resource type "{resource}"') from None
        path = "/api/v1" if not rt.group else f"/apis/{rt.group}/{rt.version}"
        if rt.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{rt.plural}"
        if name is not None:
            path += f"/{name}"
        if subresource:
            path += f"/{subresource}"
        return path

    async def _namespace_for(self, resource: str, namespace: str | None, body: JSON | None = None) -> str | None:
        rt = (await self.registry()).resolve(resource)
        if not rt.namespaced:
            return None
        return namespace or ((body or {}).get("metadata") or {}).get("namespace") or "default"

    async def get(self, resource: str, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> JSON:
        ns = await self._namespace_for(resource, namespace)
        result: JSON = await self._request("GET", await self._path(resource, ns, name, subresource))
        return result

    async def list(self, resource: str, namespace: str | None = None, *, label_selector: str | None = None,
                   field_selector: str | None = None, limit: int | None = None, continue_token: str | None = None,
                   resource_version: str | None = None) -> JSON:
        params = list_query(label_selector, field_selector, limit, continue_token, resource_version)
        result: JSON = await self._request("GET", await self._path(resource, namespace), params=params)
        return result

    async def create(self, resource: str, body: JSON, namespace: str | None = None, *, dry_run: bool = False,
                     field_manager: str | None = None, subresource: str | None = None,
                     name: str | None = None) -> JSON:
        ns = await self._namespace_for(resource, namespace, body)
        path = await self._path(resource, ns, name if subresource else None, subresource)
        result: JSON = await self._request("POST", path, params=write_query(dry_run, field_manager), body=body)
        return result

    async def update(self, resource: str, body: JSON, namespace: str | None = None, *,
                     subresource: str | None = None, dry_run: bool = False,
                     field_manager: str | None = None) -> JSON:
        ns = await self._namespace_for(resource, namespace, body)
        path = await self._path(resource, ns, body["metadata"]["name"], subresource)
        result: JSON = await self._request("PUT", path, params=write_query(dry_run, field_manager), body=body)
        return result

    async def patch(self, resource: str, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: PatchType = "merge", subresource: str | None = None, dry_run: bool = False,
                    field_manager: str | None = None, force: bool | None = None) -> JSON:
        ns = await self._namespace_for(resource, namespace)
        result: JSON = await self._request("PATCH", await self._path(resource, ns, name, subresource),
                                           params=write_query(dry_run, field_manager, force), body=patch,
                                           content_type=PATCH_CONTENT_TYPES[patch_type])
        return result

    async def delete(self, resource: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: JSON | None = None, dry_run: bool = False) -> JSON:
        ns = await self._namespace_for(resource, namespace)
        options = delete_options(propagation_policy, grace_period_seconds, preconditions)
        result: JSON = await self._request("DELETE", await self._path(resource, ns, name),
                                           params=write_query(dry_run, None), body=options or None)
        return result

    async def delete_collection(self, resource: str, namespace: str | None = None, *,
                                label_selector: str | None = None, field_selector: str | None = None) -> JSON:
        result: JSON = await self._request("DELETE", await self._path(resource, namespace),
                                           params=list_query(label_selector, field_selector, None, None, None))
        return result

    async def watch(self, resource: str, namespace: str | None = None, *, resource_version: str | None = None,
                    label_selector: str | None = None, field_selector: str | None = None,
                    timeout_seconds: float | None = None, allow_bookmarks: bool = False,
                    send_initial_events: bool = False) -> AsyncIterator[WatchEvent]:
        params = list_query(label_selector, field_selector, None, None, resource_version)
        params["watch"] = "true"
        if timeout_seconds is not None:
            params["timeoutSeconds"] = str(int(timeout_seconds))
        if allow_bookmarks:
            params["allowWatchBookmarks"] = "true"
        if send_initial_events:
            params["sendInitialEvents"] = "true"
            params["resourceVersionMatch"] = "NotOlderThan"
        path = await self._path(resource, namespace)
        async with self._sess().get(self.base_url + path, params=params) as resp:
            if resp.status >= 400:
                raise ApiError.from_status(orjson.loads(await resp.read()))
            async for line in resp.content:
                if not line.strip():
                    continue
                event = orjson.loads(line)
                yield WatchEvent(event["type"], event["object"])
