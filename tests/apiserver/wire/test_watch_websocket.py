"""Watch over a WebSocket (how browsers watch: six HTTP/1.1 connections per server would not do),
with the bearer token in a ``base64url.bearer.authorization.k8s.io.`` subprotocol as upstream."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import orjson
import pytest
import pytest_asyncio

from minikube_lite.cluster import Cluster

TOKEN = "ws-token"
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
RECEIVE_TIMEOUT_S = 10.0


def bearer_protocol(token: str) -> str:
    return "base64url.bearer.authorization.k8s.io." + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


@pytest_asyncio.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster(serve=True, port=0, token=TOKEN, kubeconfig_path=tmp_path / "kubeconfig.yaml",
                       components=False) as c:
        yield c


def ws_url(cluster: Cluster, path: str) -> str:
    return cluster.url.replace("http://", "ws://") + path


async def test_events_arrive_one_per_text_message(served_cluster: Cluster) -> None:
    listed = await served_cluster.client.list("pods", "default")
    rv = listed["metadata"]["resourceVersion"]
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(ws_url(served_cluster, f"/api/v1/namespaces/default/pods?watch=1&resourceVersion={rv}")) as ws:
        await served_cluster.client.create("pods", POD, "default")
        msg = await ws.receive(timeout=RECEIVE_TIMEOUT_S)
        assert msg.type == aiohttp.WSMsgType.TEXT
        event = orjson.loads(msg.data)
        assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "p1"


async def test_bearer_subprotocol_authenticates_and_the_other_protocol_is_echoed(guarded: Cluster) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(
            ws_url(guarded, "/api/v1/namespaces?watch=1"),
            protocols=(bearer_protocol(TOKEN), "minikube-lite.watch")) as ws:
        assert ws.protocol == "minikube-lite.watch"
        msg = await ws.receive(timeout=RECEIVE_TIMEOUT_S)   # synthetic ADDED for existing namespaces
        assert orjson.loads(msg.data)["type"] == "ADDED"


@pytest.mark.parametrize("protocols", [
    (),                                                       # no token at all
    (bearer_protocol("wrong"), "minikube-lite.watch"),        # a wrong token
    (bearer_protocol(TOKEN),),                                # no other protocol to echo (upstream refuses)
])
async def test_websocket_without_a_valid_token_is_refused(guarded: Cluster, protocols: tuple[str, ...]) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(ws_url(guarded, "/api/v1/namespaces?watch=1"), protocols=protocols)
        assert info.value.status == 401


async def test_closing_the_socket_ends_the_server_side_watch(served_cluster: Cluster) -> None:
    store = served_cluster.engine.store
    pods = ("", "pods")
    before = store.watcher_count(pods)
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(ws_url(served_cluster, "/api/v1/namespaces/default/pods?watch=1"))
        assert store.watcher_count(pods) == before + 1
        await ws.close()
    for _ in range(200):
        if store.watcher_count(pods) == before:
            break
        await asyncio.sleep(0.01)
    assert store.watcher_count(pods) == before
