"""aiohttp sub-applications: ``/minikube-lite/v1/why-pending/...`` and the static map at ``/ui/``.

Both are mounted inside the API server's application, so its token middleware guards them
like any API path. One page is public: ``/ui/`` itself, a small shell with nothing of the
cluster in it, which asks for the token (or reads it from the URL fragment) and then loads the
protected script and stylesheet with a bearer header. Without ``--token`` everything is open,
as the API is.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import orjson
from aiohttp import web

WHY_PENDING_PREFIX = "/minikube-lite/v1"
UI_PREFIX = "/ui"
PUBLIC_PATHS = ("/ui", "/ui/", "/ui/index.html")
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}

CLIENT_KEY: web.AppKey[Any] = web.AppKey("client", object)
CLOCK_KEY: web.AppKey[Any] = web.AppKey("clock", object)


def _static(name: str) -> bytes | None:
    """A file shipped in ``minikube_lite/ui/static`` (package data), or None for anything else."""
    if "/" in name or name.startswith(".") or not name:
        return None
    node = resources.files(__package__).joinpath("static", name)
    return node.read_bytes() if node.is_file() else None


async def _index(request: web.Request) -> web.StreamResponse:
    if request.path == UI_PREFIX:
        raise web.HTTPFound(UI_PREFIX + "/")
    return _file_response("index.html")


async def _asset(request: web.Request) -> web.StreamResponse:
    return _file_response(request.match_info["name"])


def _file_response(name: str) -> web.StreamResponse:
    data = _static(name)
    suffix = name[name.rfind("."):] if "." in name else ""
    if data is None or suffix not in STATIC_TYPES:
        raise web.HTTPNotFound(text="404: Not Found")
    return web.Response(body=data, content_type=STATIC_TYPES[suffix], charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def _why_pending(request: web.Request) -> web.Response:
    """The dry-run verdict as JSON; a missing pod gives the API's own 404 ``Status``.

    The scheduler's plugins load on the first question, not with the server: the API server
    alone imports no scheduler (about a megabyte of its RSS budget)."""
    from ..scheduler.why_pending import explain

    result = await explain(request.app[CLIENT_KEY], request.match_info["namespace"], request.match_info["name"],
                           clock=request.app[CLOCK_KEY])
    return web.Response(body=orjson.dumps(result.to_dict()), content_type="application/json")


def ui_apps(client: Any, clock: Any) -> dict[str, web.Application]:
    """The sub-applications to mount (prefix -> app); ``client`` reads the cluster for why-pending."""
    why = web.Application()
    why[CLIENT_KEY] = client
    why[CLOCK_KEY] = clock
    why.router.add_get("/why-pending/namespaces/{namespace}/pods/{name}", _why_pending)
    ui = web.Application()
    ui.router.add_get("", _index)
    ui.router.add_get("/", _index)
    ui.router.add_get("/index.html", _index)
    ui.router.add_get("/{name}", _asset)
    return {WHY_PENDING_PREFIX: why, UI_PREFIX: ui}
