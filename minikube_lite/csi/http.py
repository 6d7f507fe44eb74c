"""The CSI drivers over HTTP: where the sidecars of a controller-manager in another process call them.

Why CSI and not the cloud: on a real cluster the CSI driver is its own process next to the cloud
account, and the sidecars (external-provisioner, csi-attacher, csi-snapshotter, capacity) reach
it over gRPC. Here the process that serves the API keeps the mock cloud and the drivers, as it
always did, and mounts them under ``/csi/v1``; a controller-manager started elsewhere gets a
:class:`RemoteCsiDriver` per driver, with the same :class:`~.spec.CsiDriver` protocol, so every
controller runs unchanged. Two controller-managers therefore share one cloud: a volume created by
a leader that died is found again by its successor through CreateVolume's idempotent name.

Wire format:

- ``POST /csi/v1/<driver>/<call>`` with the request dataclass as a JSON object of its fields
  (snake_case, as the dataclass names them), nested messages as objects, enums by member name,
  ``null`` for None; calls without a request send ``null``. The answer is the response the same
  way (HTTP 200), or ``{"code": "<gRPC code name>", "message": ...}`` with HTTP 500 for a
  :class:`~.spec.CsiError` and 400/404 for a malformed request or an unknown driver or call.
  An unreachable plugin is gRPC ``Unavailable``. ``codec.py`` compiles this per message type.
- In a CreateVolume's ``accessibility_requirements``, ``requisite`` and ``preferred`` may each
  be, instead of the list of ``{"segments": {...}}`` terms, ``{"digest": D, "terms": [...]}``
  (the terms, for the server to keep under their digest), ``{"digest": D}`` (a kept list) or
  ``{"digest": D, "start": k}`` (a kept list rotated to begin at its ``k``-th term); see
  ``term_lists.py``. A plain list is always accepted. Naming a list the server does not hold
  answers HTTP 412 with ``{"code": "FAILED_PRECONDITION", "reason": "UnknownTermLists",
  "digests": [D, ...], "message": ...}``; :class:`RemoteCsiDriver` then sends the call again
  with those lists uploaded (and, should that fail the same way, with every list inline).
- ``POST /csi/v1/<driver>`` with ``{"nodes": [...]}`` describes the driver: which of those
  nodes its node plugin runs on, as ``{"name": ..., "servesNodes": [...]}`` (``GET`` with
  ``?node=`` parameters answers the same for a short list; a cluster of thousands of nodes
  outgrows the URL).
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from . import spec
from .codec import PLAIN, Codec, field_types
from .spec import Code, CsiDriver, CsiError
from .term_lists import TermListSender, TermListStore, UnknownTermLists

DRIVERS_KEY: web.AppKey[dict[str, CsiDriver]] = web.AppKey("csi_drivers", dict)
#: The server's codec: TopologyRequirement term lists resolved through its TermListStore.
CODEC_KEY: web.AppKey[Codec] = web.AppKey("csi_codec", Codec)

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


#: HTTP status and ``reason`` of an answer naming term lists the server does not hold.
UNKNOWN_TERM_LISTS_STATUS = 412
UNKNOWN_TERM_LISTS = "UnknownTermLists"

encode = PLAIN.encode
decode = PLAIN.decode


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
        args = [] if req_type is None else [request.app[CODEC_KEY].decode(req_type, body)]
    except UnknownTermLists as unknown:
        return web.json_response({"code": Code.FAILED_PRECONDITION.name, "reason": UNKNOWN_TERM_LISTS,
                                  "digests": unknown.digests, "message": str(unknown)},
                                 status=UNKNOWN_TERM_LISTS_STATUS)
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError) as exc:
        return _error(400, Code.INVALID_ARGUMENT, f"malformed {call} request: {exc}")
    try:
        result = await getattr(driver, call)(*args)
    except CsiError as err:
        return _error(500, err.code, err.message)
    return web.Response(body=PLAIN.dumps(result), content_type="application/json")


def csi_app(drivers: Mapping[str, CsiDriver], term_lists: TermListStore | None = None) -> web.Application:
    """An aiohttp sub-application serving ``drivers``; mounted by the cluster under ``/csi/v1``."""
    app = web.Application()
    app[DRIVERS_KEY] = dict(drivers)
    store = term_lists or TermListStore()
    app[CODEC_KEY] = Codec(decoders={spec.TopologyRequirement: store.decode_requirement})
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
        #: The large topology term lists this server was sent (``term_lists.py``).
        self.term_lists = TermListSender()
        self.codec = Codec(encoders={spec.TopologyRequirement: self.term_lists.encode_requirement})

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
        # Term lists by reference; if the server no longer holds some, upload them; and should
        # even that be refused (a server that keeps too little), every list inline.
        for codec in (self.codec, self.codec, PLAIN):
            status, data = await self._post(call, codec.dumps(req) if req is not None else b"null")
            if status != UNKNOWN_TERM_LISTS_STATUS or data.get("reason") != UNKNOWN_TERM_LISTS:
                break
            self.term_lists.forget(data.get("digests") or [])
        if status >= 400:
            raise CsiError(Code[data.get("code", "UNKNOWN")], str(data.get("message", "")))
        return self.codec.decode(resp_type, data)

    async def _post(self, call: str, payload: bytes) -> tuple[int, Any]:
        try:
            async with self.session.post(f"{self.base}/{call}", data=payload,
                                         headers={"Content-Type": "application/json"}) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, OSError) as exc:
            raise CsiError(Code.UNAVAILABLE, f"connection error: {exc}") from None
        try:
            return status, orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise CsiError(Code.UNAVAILABLE, f"bad answer from the driver (HTTP {status})") from None

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


__all__ = ["csi_app", "RemoteCsiDriver", "encode", "decode", "field_types", "CALLS"]
