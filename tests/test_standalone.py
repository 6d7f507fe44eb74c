"""The separate component processes' plumbing (``minikube_lite/standalone.py``)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestServer

from minikube_lite.standalone import KubeConfig, csi_session

#: More calls held open at once than aiohttp's default pool of 100 connections.
IN_FLIGHT = 130


async def test_the_csi_session_holds_more_calls_open_than_a_default_pool() -> None:
    """The provisioner's 100 workers and the attacher's 10 each hold a CSI call for as long as
    the cloud takes: every one of them must reach the driver at once, as over one gRPC connection."""
    arrived = 0
    everyone = asyncio.Event()

    async def slow_call(request: web.Request) -> web.Response:
        nonlocal arrived
        arrived += 1
        if arrived == IN_FLIGHT:
            everyone.set()
        await everyone.wait()   # answers only once every call is in flight
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/csi/v1/driver/CreateVolume", slow_call)
    async with TestServer(app, host="127.0.0.1") as server:
        async with csi_session(KubeConfig(str(server.make_url(""))), {}) as session:
            async def call() -> int:
                async with session.post(server.make_url("/csi/v1/driver/CreateVolume"), json={}) as resp:
                    return resp.status
            statuses = await asyncio.wait_for(asyncio.gather(*(call() for _ in range(IN_FLIGHT))), 20)
    assert statuses == [200] * IN_FLIGHT and arrived == IN_FLIGHT
