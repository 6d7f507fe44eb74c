"""The HTTP face of the API server (aiohttp).

It parses Kubernetes URLs and media types, and hands every request to :class:`ApiEngine`.
Reads go out as the stored bytes where possible, so GET and LIST cost little more than a
dictionary lookup and a socket write.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import yaml
from aiohttp import web

from .. import errors
from ..engine import ApiEngine
from ..errors import ApiError
from ..registry import ResourceType
from ..resources.component_status import DEPRECATED_APIS
from ..resources.reviews import CURRENT_USER
from ..resources.subresources import get_subresource, pod_log
from ..results import ListResult, WatchItem, WriteResult
from ..schema.duplicate_keys import free_of_duplicate_keys
from ..schema.upstream import SchemaSet
from . import discovery
from .pod_logs import LogSource, render

log = logging.getLogger(__name__)

WATCH_CHUNK_LIMIT = 256 * 1024  # bytes of watch frames held back to go out in one write
FOLLOW_POLL_SECONDS = 1.0  # how often a followed component log checks its pod is still there

JSON_CT = "application/json"
AGG_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGG_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
PROTOBUF_CT = "application/vnd.kubernetes.protobuf"
OPEN_PATHS = ("/healthz", "/livez", "/readyz", "/version")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
OPENAPI_V2_CT = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
# A browser cannot set headers on a WebSocket, so the API server also takes the bearer token
# from a subprotocol (k8s.io/apiserver/pkg/authentication/request/websocket).
WEBSOCKET_BEARER_PREFIX = "base64url.bearer.authorization.k8s.io."


def _gnostic_v2_document(title: str = "Kubernetes", version: str = "v1.35.0") -> bytes:
    """openapi_v2.Document{swagger: "2.0", info: {title, version}} in protobuf wire format."""

    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    info = field(1, title.encode()) + field(2, version.encode())
    return field(1, b"2.0") + field(2, info)


OPENAPI_V2_EMPTY = _gnostic_v2_document()


def _json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None,
                   content_type: str = JSON_CT) -> web.Response:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    resp = web.Response(body=data, status=status, headers=headers)
    resp.content_type = content_type.split(";")[0]
    if ";" in content_type:
        resp.headers["Content-Type"] = content_type
    return resp


def status_response(err: ApiError) -> web.Response:
    return _json_response(err.status(), status=err.code)


def _query(request: web.Request) -> dict[str, str]:
    # Last value wins for repeated keys, as net/url's Get does for the first... keep the first.
    out: dict[str, str] = {}
    for key, value in request.query.items():
        out.setdefault(key, value)
    return out


def _wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _warning_headers(warnings: list[str]) -> dict[str, str] | None:
    if not warnings:
        return None
    return {"Warning": ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)}


class ApiServer:
    """An aiohttp application serving the Kubernetes API of one :class:`ApiEngine`."""

    def __init__(self, engine: ApiEngine, *, token: str | None = None, server_address: str = "127.0.0.1:6443",
                 extra_apps: dict[str, web.Application] | None = None,
                 public_paths: tuple[str, ...] = (), log_source: LogSource | None = None) -> None:
        self.engine = engine
        self.log_source = log_source
        self.token = token
        # Exact paths served without a token besides the health checks (a login page, say).
        self.public_paths = frozenset(public_paths)
        engine.authn.served_token = token
        self.server_address = server_address
        self.app = web.Application(middlewares=[self._middleware], client_max_size=32 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.extra_apps = extra_apps or {}
        self._subapps: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = []
        for prefix, sub in self.extra_apps.items():
            self.app.add_subapp(prefix, sub)
        self._watch_tasks: set[asyncio.Task[Any]] = set()
        self.ready = False

    def _authenticate(self, header: str) -> dict[str, Any] | None:
        """The user of a ``Bearer`` credential: the served token or a token this server issued."""
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return None
        user, _, _ = self.engine.authn.authenticate(token, self.engine.clock.now(), self.engine.account_uid)
        return user

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                          ) -> web.StreamResponse:
        if self.token is not None and not request.path.rstrip("/").startswith(OPEN_PATHS) and \
                request.path not in self.public_paths:
            user = self._authenticate(request.headers.get("Authorization", ""))
            if user is None and (ws_token := websocket_bearer_token(request)) is not None:
                user = self._authenticate(f"Bearer {ws_token}")   # a browser's WebSocket watch
            if user is None:
                return status_response(errors.unauthorized())
            CURRENT_USER.set(user)
        try:
            return await handler(request)
        except ApiError as err:
            return status_response(err)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # never a traceback to the client
            log.exception("internal error serving %s %s", request.method, request.path)
            return status_response(errors.internal_error(str(exc)))

    # --------------------------------------------------------------------------- dispatch

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/")
        if path.startswith("/api/") or path.startswith("/apis/"):
            return await self._resource_path(request, path)
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(("/healthz/", "/livez/", "/readyz/")):
            if not self.ready and path.startswith("/readyz"):
                return web.Response(text="[-]ready failed: not ready yet\n", status=500)
            return web.Response(text="ok", content_type="text/plain")
        if path == "/version":
            return _json_response(discovery.KUBERNETES_VERSION)
        if path == "/api":
            return self._discovery(request, core=True)
        if path == "/apis":
            return self._discovery(request, core=False)
        if path == "/openapi/v3":
            # deferred: OpenAPI is built for the clients that ask only
            from .openapi import openapi_v3_root

            return _json_response(openapi_v3_root(self.engine.registry, _schemas()))
        if path.startswith("/openapi/v3/"):
            return self._openapi_document(request, path[len("/openapi/v3/"):])
        if path == "/openapi/v2":
            # A minimal gnostic (protobuf) Swagger 2.0 document with no definitions: kubectl's
            # client-side validation then skips kinds it cannot place, and the REST mapping gives
            # the upstream "no matches for kind" error. The schemas live in /openapi/v3.
            return web.Response(body=OPENAPI_V2_EMPTY, headers={"Content-Type": OPENAPI_V2_CT})
        if path == "/":
            return _json_response({"paths": sorted({"/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz",
                                                    "/version", "/openapi/v3", *[f"/apis/{g}" for g in
                                                                                   self.engine.registry.groups() if g]})})
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})

    def _openapi_document(self, request: web.Request, rest: str) -> web.Response:
        # deferred: OpenAPI is built for the clients that ask only
        from .openapi import openapi_v3_document

        parts = rest.split("/")
        if parts[0] == "api" and len(parts) == 2:
            group, version = "", parts[1]
        elif parts[0] == "apis" and len(parts) == 3:
            group, version = parts[1], parts[2]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        doc = openapi_v3_document(self.engine.registry, _schemas(), group, version)
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        body = orjson.dumps(doc)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32].upper() + '"'
        headers = {"ETag": etag, "Cache-Control": "public, immutable" if request.query.get("hash") else "no-cache"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return _json_response(body, headers=headers)

    def _discovery(self, request: web.Request, core: bool) -> web.Response:
        accept = request.headers.get("Accept", "")
        for version, ct in (("v2", AGG_V2), ("v2beta1", AGG_V2BETA1)):
            if f"v={version};" in accept.replace(" ", "") and "as=APIGroupDiscoveryList" in accept:
                body = discovery.aggregated(self.engine.registry, core, version)
                return _json_response(body, headers={"Vary": "Accept"}, content_type=ct)
        if core:
            return _json_response(discovery.api_versions(self.server_address))
        return _json_response(discovery.api_group_list(self.engine.registry))

    async def _resource_path(self, request: web.Request, path: str) -> web.StreamResponse:
        parts = path.split("/")[1:]  # ["api", "v1", ...] or ["apis", g, v, ...]
        if parts[0] == "api":
            if len(parts) < 2:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) == 2:
                body = discovery.api_group(self.engine.registry, parts[1])
                if body is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
                return _json_response(body)
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            listing = discovery.resource_list(self.engine.registry, group, version)
            if listing is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
            return _json_response(listing)
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in NAMESPACE_SUBRESOURCES):
            namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        rt = self.engine.resolve(group, version, plural)
        if not rt.namespaced and namespace is not None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        response = await self._resource(request, rt, namespace, name, subresource)
        deprecated = DEPRECATED_APIS.get((rt.group, rt.version, rt.plural))
        if deprecated and not response.prepared:
            response.headers.add("Warning", f'299 - "{deprecated}"')
        return response

    async def _resource(self, request: web.Request, rt: ResourceType, namespace: str | None, name: str | None,
                        subresource: str | None) -> web.StreamResponse:
        engine = self.engine
        method = request.method
        query = _query(request)
        user_agent = request.headers.get("User-Agent", "")
        if rt.namespaced and name is not None and namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        if method == "GET":
            if name is None:
                if query.get("watch", "").lower() in ("true", "1", "t"):
                    return await self._watch(request, rt, namespace, query)
                listed = engine.list(rt, namespace, query)
                return self._list_response(request, rt, listed, query)
            if subresource is None:
                stored = engine.get(rt, namespace, name)
                if _wants_table(request.headers.get("Accept", "")):
                    return self._table_response(rt, [stored.object()], query, str(stored.rv))
                return _json_response(stored.raw)
            return await self._get_subresource(request, rt, namespace or "", name, subresource, query)
        if method in ("POST", "PUT", "PATCH"):
            result: WriteResult
            raw = await request.read()
            content_type = request.headers.get("Content-Type", JSON_CT)
            if method == "PATCH":
                body = _decode_patch_body(raw, content_type)
                result = engine.patch(rt, namespace, name or "", body, content_type, query, user_agent=user_agent,
                                      subresource=subresource)
            else:
                if subresource in ("exec", "attach", "portforward"):
                    raise _no_containers(name or "", subresource)
                body = _decode_body(raw, content_type, rt.kind)
                # The body goes along only while it may repeat a key (a second, slow parse finds where).
                json_raw = raw if content_type.split(";")[0].strip().lower() in (JSON_CT, "") and \
                    not free_of_duplicate_keys(raw, body) else None
                if method == "POST":
                    if name is not None and subresource is None:
                        raise errors.method_not_allowed("POST", rt.kind)
                    result = engine.create(rt, namespace, body, query, user_agent=user_agent, subresource=subresource,
                                           parent=name, raw=json_raw)
                else:
                    if name is None:
                        raise errors.method_not_allowed("PUT", rt.list_kind)
                    result = engine.update(rt, namespace, name, body, query, user_agent=user_agent,
                                           subresource=subresource, raw=json_raw)
            return self._write_response(request, rt, result)
        if method == "DELETE":
            raw = await request.read()
            options = _delete_options(raw, request.headers.get("Content-Type", JSON_CT), query)
            if name is None:
                return _json_response(engine.delete_collection(rt, namespace, options, query))
            deleted = engine.delete(rt, namespace, name, options, query)
            return self._write_response(request, rt, deleted)
        raise errors.method_not_allowed(method, rt.kind)

    def _write_response(self, request: web.Request, rt: ResourceType, result: WriteResult) -> web.Response:
        headers = _warning_headers(result.warnings)
        if _wants_table(request.headers.get("Accept", "")) and result.obj.get("kind") == rt.kind:
            return self._table_response(rt, [result.obj], {}, str(result.obj.get("metadata", {}).get(
                "resourceVersion", "")), headers=headers, status=result.code)
        return _json_response(result.body_bytes(), status=result.code, headers=headers)

    async def _get_subresource(self, request: web.Request, rt: ResourceType, namespace: str, name: str,
                               subresource: str, query: dict[str, str]) -> web.StreamResponse:
        if rt.key == ("", "pods") and subresource == "log":
            text = pod_log(self.engine, namespace, name, query, self.log_source)
            if query.get("follow", "").lower() not in ("true", "1"):
                return web.Response(text=text, content_type="text/plain")
            component = self._log_component(rt, namespace, name, query)
            if component is not None:
                return await self._follow_component_log(request, rt, namespace, name, component, text, query)
            return await self._follow_log(request, rt, namespace, name, text, query)
        if subresource in ("exec", "attach", "portforward"):
            raise _no_containers(name, subresource)
        return _json_response(get_subresource(self.engine, rt, namespace or None, name, subresource))

    def _log_component(self, rt: ResourceType, namespace: str, name: str, query: dict[str, str]) -> str | None:
        if self.log_source is None:
            return None
        pod = self.engine.get(rt, namespace, name).object()
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        container = query.get("container") or (containers[0] if len(containers) == 1 else "")
        return self.log_source.component_of(pod, str(container))

    async def _follow_component_log(self, request: web.Request, rt: ResourceType, namespace: str, name: str,
                                    component: str, text: str, query: dict[str, str]) -> web.StreamResponse:
        """``logs -f`` of a component: its lines so far, then each new one, until the pod goes."""
        assert self.log_source is not None
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(text.encode())
        seen = max((line.seq for line in self.log_source.lines(component)), default=0)
        uid = self.engine.get(rt, namespace, name).object()["metadata"].get("uid")
        try:
            while request.transport is not None and not request.transport.is_closing():
                await self.log_source.wait(FOLLOW_POLL_SECONDS)
                fresh = self.log_source.lines(component, seen)
                if fresh:
                    seen = fresh[-1].seq
                    await response.write(render(fresh, query).encode())
                try:
                    current = self.engine.get(rt, namespace, name).object()["metadata"]
                except ApiError:
                    break
                if current.get("uid") != uid or current.get("deletionTimestamp"):
                    break
        except ConnectionResetError:
            return response
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _follow_log(self, request: web.Request, rt: ResourceType, namespace: str, name: str, text: str,
                          query: dict[str, str]) -> web.StreamResponse:
        """``logs -f``: the log so far, then the stream stays open while the container runs."""
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(text.encode())
        container = query.get("container") or ""
        stream = await self.engine.watch(rt, namespace, {"fieldSelector": f"metadata.name={name}",
                                                         "resourceVersion": str(self.engine.store.resource_version)})
        try:
            async for item in stream:
                if item.type == "DELETED" or not _container_running(item.object(), container):
                    break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    def _list_response(self, request: web.Request, rt: ResourceType, result: ListResult,
                       query: dict[str, str]) -> web.Response:
        if _wants_table(request.headers.get("Accept", "")):
            return self._table_response(rt, [s.object() for s in result.items], query,
                                        str(result.resource_version), continue_token=result.continue_token)
        return _json_response(result.to_bytes())

    def _table_response(self, rt: ResourceType, objects: list[dict[str, Any]], query: dict[str, str], rv: str,
                        continue_token: str = "", headers: dict[str, str] | None = None,
                        status: int = 200) -> web.Response:
        # deferred: the printers of every type load on the first Table asked for
        from .tables import build_table

        table = build_table(rt, objects, now=self.engine.clock.now(),
                            include_object=query.get("includeObject") or "Metadata", resource_version=rv,
                            continue_token=continue_token)
        return _json_response(table, headers=headers, status=status)

    async def _watch(self, request: web.Request, rt: ResourceType, namespace: str | None,
                     query: dict[str, str]) -> web.StreamResponse:
        stream = await self.engine.watch(rt, namespace, query)
        table = _wants_table(request.headers.get("Accept", ""))
        if is_websocket_request(request):
            return await self._watch_websocket(request, rt, stream, table)
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON_CT,
                                                           "Cache-Control": "no-cache, private"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        first = True
        held: list[bytes] = []   # a batch of changes goes out in one write, not a send per event
        held_size = 0
        try:
            async for item in stream:
                if table and item.type not in ("ERROR", "BOOKMARK"):
                    data = self._table_event(rt, item, first)
                    first = False
                else:
                    data = item.to_bytes()
                if item.more and held_size < WATCH_CHUNK_LIMIT:
                    held.append(data)
                    held_size += len(data)
                    continue
                if held:
                    data, held, held_size = b"".join([*held, data]), [], 0
                await response.write(data)
            if held:
                await response.write(b"".join(held))
        except ConnectionResetError:
            return response  # the client went away (every `kubectl wait` ends so): not an error
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _watch_websocket(self, request: web.Request, rt: ResourceType, stream: Any,
                               table: bool) -> web.StreamResponse:
        """A watch over a WebSocket, one event per text message, as kube-apiserver serves browsers.

        Browsers keep at most six HTTP/1.1 connections per server, so a page watching many
        resources with chunked streams would starve; WebSockets do not count against that limit.
        """
        offered = [p for p in _websocket_protocols(request) if not p.startswith(WEBSOCKET_BEARER_PREFIX)]
        ws = web.WebSocketResponse(protocols=offered[:1])
        await ws.prepare(request)

        async def pump() -> None:
            first = True
            async for item in stream:
                if table and item.type not in ("ERROR", "BOOKMARK"):
                    data = self._table_event(rt, item, first)
                    first = False
                else:
                    data = item.to_bytes()
                await ws.send_str(data.decode())

        async def until_closed() -> None:
            while not ws.closed:
                msg = await ws.receive()
                if msg.type in (web.WSMsgType.CLOSE, web.WSMsgType.CLOSING, web.WSMsgType.CLOSED,
                                web.WSMsgType.ERROR):
                    return

        tasks = [asyncio.ensure_future(pump()), asyncio.ensure_future(until_closed())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await stream.aclose()
            with contextlib.suppress(Exception):
                await ws.close()
        return ws

    def _table_event(self, rt: ResourceType, item: WatchItem, with_headers: bool) -> bytes:
        # deferred: the printers of every type load on the first Table asked for
        from .tables import build_table

        obj = item.object()
        table = build_table(rt, [obj], now=self.engine.clock.now(), include_object="Metadata",
                            resource_version=obj.get("metadata", {}).get("resourceVersion", ""),
                            with_headers=with_headers)
        return b'{"type":"' + item.type.encode() + b'","object":' + orjson.dumps(table) + b"}\n"


def is_websocket_request(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket" and \
        "upgrade" in request.headers.get("Connection", "").lower()


def _websocket_protocols(request: web.Request) -> list[str]:
    return [p.strip() for header in request.headers.getall("Sec-WebSocket-Protocol", [])
            for p in header.split(",") if p.strip()]


def websocket_bearer_token(request: web.Request) -> str | None:
    """The token of a ``base64url.bearer.authorization.k8s.io.<token>`` subprotocol, if any.

    As upstream: only on WebSocket requests, and only beside another subprotocol (the one the
    server echoes back, since a browser refuses a handshake that selects none).
    """
    if not is_websocket_request(request):
        return None
    protocols = _websocket_protocols(request)
    tokens = [p[len(WEBSOCKET_BEARER_PREFIX):] for p in protocols if p.startswith(WEBSOCKET_BEARER_PREFIX)]
    if len(tokens) != 1 or len(protocols) < 2:
        return None
    encoded = tokens[0]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _container_running(pod: dict[str, Any], container: str) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        if not container or status.get("name") == container:
            return bool((status.get("state") or {}).get("running"))
    return False


def _schemas() -> Any:
    return SchemaSet.load()


def _no_containers(name: str, subresource: str) -> ApiError:
    verb = {"exec": "exec into", "attach": "attach to", "portforward": "port-forward to"}.get(subresource, subresource)
    return errors.bad_request(f'unable to {verb} pod "{name}": containers do not run in minikube-lite '
                              "(the kubelet is simulated)")


def _decode_body(raw: bytes, content_type: str, kind: str) -> Any:
    ct = content_type.split(";")[0].strip().lower()
    if ct == PROTOBUF_CT:
        # deferred: the protobuf codec (and its type tables) load on the first protobuf body only
        from .protobuf import ProtobufDecodeError, decode, decode_error_status

        try:
            return decode(raw)
        except ProtobufDecodeError as exc:
            raise decode_error_status(exc, raw, kind) from None
    if ct in ("application/yaml", "application/apply-patch+yaml"):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise errors.bad_request(f"error converting YAML to JSON: {exc}") from None
    if ct not in (JSON_CT, "", "*/*", "text/plain"):
        raise errors.unsupported_media_type(ct, [JSON_CT, "application/yaml", PROTOBUF_CT])
    if not raw.strip():
        raise errors.bad_request("the body of the request was empty")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _decode_patch_body(raw: bytes, content_type: str) -> Any:
    ct = content_type.split(";")[0].strip().lower()
    if ct == "application/apply-patch+yaml":
        return raw
    try:
        return orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"error decoding patch: {exc}") from None


def _delete_options(raw: bytes, content_type: str, query: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if raw.strip():
        body = _decode_body(raw, content_type, "DeleteOptions")
        if isinstance(body, dict):
            options.update(body)
    for key in ("gracePeriodSeconds", "propagationPolicy", "orphanDependents"):
        if key in query and key not in options:
            value: Any = query[key]
            if key == "gracePeriodSeconds":
                try:
                    value = int(value)
                except ValueError:
                    raise errors.bad_request(f"invalid gracePeriodSeconds: {value}") from None
            if key == "orphanDependents":
                value = value.lower() in ("true", "1")
            options[key] = value
    if "dryRun" in query:
        options["dryRun"] = [query["dryRun"]]
    return options
