"""The CSI drivers over HTTP: where the sidecars of a controller-manager in another process call them.

Why CSI and not the cloud: on a real cluster the CSI driver is its own process next to the cloud
account, and the sidecars (external-provisioner, csi-attacher, csi-snapshotter, capacity) reach
it over gRPC. Here the process that serves the API keeps the mock cloud and the drivers, as it
always did, and mounts them under ``/csi/v1``; a controller-manager started elsewhere gets a
:class:`RemoteCsiDriver` per driver, with the same :class:`~.spec.CsiDriver` protocol, so every
controller runs unchanged. Two controller-managers therefore share one cloud: a volume created by
a leader that died is found again by its successor through CreateVolume's idempotent name.

Wire format: ``POST /csi/v1/<driver>/<call>`` with the request dataclass as JSON (enums by
name); the answer is the response dataclass, or ``{"code": "<gRPC code>", "message": ...}``
with HTTP 500 for a :class:`~.spec.CsiError`. An unreachable plugin is gRPC ``Unavailable``.
``POST /csi/v1/<driver>`` with ``{"nodes": [...]}`` describes the driver: which of those nodes its
node plugin runs on (``GET`` with ``?node=`` parameters answers the same for a short list; a
cluster of thousands of nodes outgrows the URL).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from . import spec
from .spec import Code, CsiDriver, CsiError

DRIVERS_KEY: web.AppKey[dict[str, CsiDriver]] = web.AppKey("csi_drivers", dict)

#: Call name -> (request type or None, response type). The names are csi.proto's in snake case.
CALLS: dict[str, tuple[Any, Any]] = {
    "get_plugin_info": (None, spec.GetPluginInfoResponse),
    "get_plugin_capabilities": (None, spec.PluginCapabilities),
    "controller_get_capabilities": (None, list[spec.ControllerCapability]),
    "node_get_capabilities": (None, list[spec.NodeCapability]),
    "create_volume": (spec.CreateVolumeRequest, spec.CreateVolumeResponse),
    "delete_volume": (spec.DeleteVolumeRequest, spec.DeleteVolumeResponse),
    "controller_publish_volume": (spec.ControllerPublishVolumeRequest, spec.ControllerPublishVolumeResponse),
    "controller_unpublish_volume": (spec.ControllerUnpublishVolumeRequest, spec.ControllerUnpublishVolumeResponse),
    "create_snapshot": (spec.CreateSnapshotRequest, spec.CreateSnapshotResponse),
    "delete_snapshot": (spec.DeleteSnapshotRequest, spec.DeleteSnapshotResponse),
    "list_snapshots": (spec.ListSnapshotsRequest, spec.ListSnapshotsResponse),
    "get_capacity": (spec.GetCapacityRequest, spec.GetCapacityResponse),
    "controller_expand_volume": (spec.ControllerExpandVolumeRequest, spec.ControllerExpandVolumeResponse),
    "node_expand_volume": (spec.NodeExpandVolumeRequest, spec.NodeExpandVolumeResponse),
    "node_get_info": (spec.NodeGetInfoRequest, spec.NodeGetInfoResponse),
    "node_stage_volume": (spec.NodeStageVolumeRequest, spec.NodeStageVolumeResponse),
    "node_unstage_volume": (spec.NodeUnstageVolumeRequest, spec.NodeUnstageVolumeResponse),
    "node_publish_volume": (spec.NodePublishVolumeRequest, spec.NodePublishVolumeResponse),
    "node_unpublish_volume": (spec.NodeUnpublishVolumeRequest, spec.NodeUnpublishVolumeResponse),
}


# ---------------------------------------------------------------- codec


def encode(value: Any) -> Any:
    """A CSI message as JSON-ready data (dataclasses as objects, enums by name)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(tp: Any, data: Any) -> Any:
    """The inverse of :func:`encode` for the type ``tp`` (a message class or a typing form)."""
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        enums = [a for a in inner if isinstance(a, type) and issubclass(a, enum.Enum)]
        if len(enums) > 1 and isinstance(data, str):   # e.g. PluginCapability | VolumeExpansion: by name
            for candidate in enums:
                if data in candidate.__members__:
                    return candidate[data]
        return decode(inner[0], data)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [decode(item, v) for v in data]
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: decode(item, v) for k, v in data.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp[data]
    if dataclasses.is_dataclass(tp):
        kwargs = {name: decode(hint, data[name]) for name, hint in field_types(typing.cast(type, tp)) if name in data}
        return typing.cast(Any, tp)(**kwargs)
    return data


@functools.cache
def field_types(tp: type) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type) of a message class's fields, resolved once per class.

    ``typing.get_type_hints`` evaluates every string annotation anew on each call; a
    CreateVolumeRequest of a 1,000-node cluster carries 2,000 Topology terms, and resolving them
    per message took most of the API server's CPU in the split-process benchmark.
    """
    hints = typing.get_type_hints(tp, vars(spec))
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(tp))


# ---------------------------------------------------------------- server side


def _error(status: int, code: Code, message: str) -> web.Response:
    return web.json_response({"code": code.name, "message": message}, status=status)


async def _describe(request: web.Request) -> web.Response:
    driver = request.app[DRIVERS_KEY].get(request.match_info["driver"])
    if driver is None:
        return _error(404, Code.NOT_FOUND, f"driver {request.match_info['driver']} is not installed")
    asked: list[Any] = list(request.query.getall("node", []))
    if request.method == "POST":
        try:
            body = orjson.loads(await request.read() or b"{}")
            asked = list(body.get("nodes") or [])
        except (orjson.JSONDecodeError, AttributeError, TypeError) as exc:
            return _error(400, Code.INVALID_ARGUMENT, f"malformed describe request: {exc}")
    nodes = [n for n in asked if isinstance(n, str) and driver.serves_node(n)]
    return web.json_response({"name": driver.name, "servesNodes": nodes})


async def _call(request: web.Request) -> web.Response:
    driver = request.app[DRIVERS_KEY].get(request.match_info["driver"])
    call = request.match_info["call"]
    if driver is None:
        return _error(404, Code.NOT_FOUND, f"driver {request.match_info['driver']} is not installed")
    if call not in CALLS:
        return _error(404, Code.UNIMPLEMENTED, f"unknown service method {call}")
    req_type, _ = CALLS[call]
    try:
        body = orjson.loads(await request.read() or b"null")
        args = [] if req_type is None else [decode(req_type, body)]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        return _error(400, Code.INVALID_ARGUMENT, f"malformed {call} request: {exc}")
    try:
        result = await getattr(driver, call)(*args)
    except CsiError as err:
        return _error(500, err.code, err.message)
    return web.Response(body=orjson.dumps(encode(result)), content_type="application/json")


def csi_app(drivers: Mapping[str, CsiDriver]) -> web.Application:
    """An aiohttp sub-application serving ``drivers``; mounted by the cluster under ``/csi/v1``."""
    app = web.Application()
    app[DRIVERS_KEY] = dict(drivers)
    app.router.add_get("/{driver}", _describe)
    app.router.add_post("/{driver}", _describe)   # the node list in the body: thousands of nodes outgrow a URL
    app.router.add_post("/{driver}/{call}", _call)
    return app


# ---------------------------------------------------------------- client side


class RemoteCsiDriver:
    """A :class:`~.spec.CsiDriver` whose calls go to ``<base_url>/csi/v1/<name>/<call>``."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, name: str,
                 serves_nodes: set[str] | None = None) -> None:
        self.session = session
        self.base = f"{base_url.rstrip('/')}/csi/v1/{name}"
        self.name = name
        self._serves = serves_nodes or set()

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, base_url: str, name: str,
                      nodes: list[str]) -> RemoteCsiDriver:
        """The remote driver ``name``; asks once which of ``nodes`` its node plugin runs on."""
        driver = cls(session, base_url, name)
        async with session.post(driver.base, data=orjson.dumps({"nodes": nodes}),
                                headers={"Content-Type": "application/json"}) as resp:
            try:
                data = orjson.loads(await resp.read())
            except orjson.JSONDecodeError:
                raise CsiError(Code.UNAVAILABLE, f"bad answer from the driver (HTTP {resp.status})") from None
            if resp.status >= 400:
                raise CsiError(Code[data.get("code", "UNKNOWN")], data.get("message", ""))
        driver._serves = set(data.get("servesNodes") or [])
        return driver

    def serves_node(self, node_name: str) -> bool:
        return node_name in self._serves

    async def _invoke(self, call: str, req: Any = None) -> Any:
        _, resp_type = CALLS[call]
        payload = orjson.dumps(encode(req)) if req is not None else b"null"
        try:
            async with self.session.post(f"{self.base}/{call}", data=payload,
                                         headers={"Content-Type": "application/json"}) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, OSError) as exc:
            raise CsiError(Code.UNAVAILABLE, f"connection error: {exc}") from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CsiError(Code.UNAVAILABLE, f"bad answer from the driver (HTTP {status})") from None
        if status >= 400:
            raise CsiError(Code[data.get("code", "UNKNOWN")], str(data.get("message", "")))
        return decode(resp_type, data)

    async def get_plugin_info(self) -> spec.GetPluginInfoResponse:
        return typing.cast(spec.GetPluginInfoResponse, await self._invoke("get_plugin_info"))

    async def get_plugin_capabilities(self) -> spec.PluginCapabilities:
        return typing.cast(spec.PluginCapabilities, await self._invoke("get_plugin_capabilities"))

    async def controller_get_capabilities(self) -> list[spec.ControllerCapability]:
        return typing.cast(list[spec.ControllerCapability], await self._invoke("controller_get_capabilities"))

    async def node_get_capabilities(self) -> list[spec.NodeCapability]:
        return typing.cast(list[spec.NodeCapability], await self._invoke("node_get_capabilities"))

    async def create_volume(self, req: spec.CreateVolumeRequest) -> spec.CreateVolumeResponse:
        return typing.cast(spec.CreateVolumeResponse, await self._invoke("create_volume", req))

    async def delete_volume(self, req: spec.DeleteVolumeRequest) -> spec.DeleteVolumeResponse:
        return typing.cast(spec.DeleteVolumeResponse, await self._invoke("delete_volume", req))

    async def controller_publish_volume(
            self, req: spec.ControllerPublishVolumeRequest) -> spec.ControllerPublishVolumeResponse:
        return typing.cast(spec.ControllerPublishVolumeResponse, await self._invoke("controller_publish_volume", req))

    async def controller_unpublish_volume(
            self, req: spec.ControllerUnpublishVolumeRequest) -> spec.ControllerUnpublishVolumeResponse:
        return typing.cast(spec.ControllerUnpublishVolumeResponse,
                           await self._invoke("controller_unpublish_volume", req))

    async def create_snapshot(self, req: spec.CreateSnapshotRequest) -> spec.CreateSnapshotResponse:
        return typing.cast(spec.CreateSnapshotResponse, await self._invoke("create_snapshot", req))

    async def delete_snapshot(self, req: spec.DeleteSnapshotRequest) -> spec.DeleteSnapshotResponse:
        return typing.cast(spec.DeleteSnapshotResponse, await self._invoke("delete_snapshot", req))

    async def list_snapshots(self, req: spec.ListSnapshotsRequest) -> spec.ListSnapshotsResponse:
        return typing.cast(spec.ListSnapshotsResponse, await self._invoke("list_snapshots", req))

    async def get_capacity(self, req: spec.GetCapacityRequest) -> spec.GetCapacityResponse:
        return typing.cast(spec.GetCapacityResponse, await self._invoke("get_capacity", req))

    async def controller_expand_volume(
            self, req: spec.ControllerExpandVolumeRequest) -> spec.ControllerExpandVolumeResponse:
        return typing.cast(spec.ControllerExpandVolumeResponse, await self._invoke("controller_expand_volume", req))

    async def node_expand_volume(self, req: spec.NodeExpandVolumeRequest) -> spec.NodeExpandVolumeResponse:
        return typing.cast(spec.NodeExpandVolumeResponse, await self._invoke("node_expand_volume", req))

    async def node_get_info(self, req: spec.NodeGetInfoRequest) -> spec.NodeGetInfoResponse:
        return typing.cast(spec.NodeGetInfoResponse, await self._invoke("node_get_info", req))

    async def node_stage_volume(self, req: spec.NodeStageVolumeRequest) -> spec.NodeStageVolumeResponse:
        return typing.cast(spec.NodeStageVolumeResponse, await self._invoke("node_stage_volume", req))

    async def node_unstage_volume(self, req: spec.NodeUnstageVolumeRequest) -> spec.NodeUnstageVolumeResponse:
        return typing.cast(spec.NodeUnstageVolumeResponse, await self._invoke("node_unstage_volume", req))

    async def node_publish_volume(self, req: spec.NodePublishVolumeRequest) -> spec.NodePublishVolumeResponse:
        return typing.cast(spec.NodePublishVolumeResponse, await self._invoke("node_publish_volume", req))

    async def node_unpublish_volume(self, req: spec.NodeUnpublishVolumeRequest) -> spec.NodeUnpublishVolumeResponse:
        return typing.cast(spec.NodeUnpublishVolumeResponse, await self._invoke("node_unpublish_volume", req))


__all__ = ["csi_app", "RemoteCsiDriver", "encode", "decode", "CALLS"]
