"""The serving side of the map: why-pending over HTTP, static files, and token protection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from minikube_lite.cluster import Cluster
from minikube_lite.scheduler.plugins import tainttoleration, volumebinding
from minikube_lite.ui.stories import apply

TOPOLOGY = Path(__file__).resolve().parents[2] / "examples" / "03-topology-scheduling"
WHY = "/minikube-lite/v1/why-pending/namespaces/{}/pods/{}"
TOKEN = "s3cret-token"


@pytest_asyncio.fixture
async def guarded(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster(serve=True, port=0, token=TOKEN, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        yield c


async def get(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers, allow_redirects=False) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def test_why_pending_over_http(served_cluster: Cluster) -> None:
    for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(served_cluster.client, TOPOLOGY / name)
    async with aiohttp.ClientSession() as session:
        body: dict = {}
        for _ in range(100):   # the scheduler runs on the real clock: wait for its first verdict
            async with session.get(served_cluster.url + WHY.format("default", "disk-pod-topology")) as r:
                assert r.status == 200 and r.content_type == "application/json"
                body = await r.json()
            if body["condition"]:
                break
            await served_cluster.settle(1)
    assert body["kind"] == "WhyPending" and body["pending"] is True
    assert body["summary"] == body["condition"]["message"]
    reasons = {n["node"]: (n["plugin"], n["reasons"]) for n in body["nodes"]}
    assert reasons["master"][0] == tainttoleration.NAME
    assert reasons["node1"] == reasons["node2"] == (volumebinding.NAME, [volumebinding.ERR_REASON_BIND_CONFLICT])
    assert body["claims"][0]["binding_mode"] == "WaitForFirstConsumer"


async def test_missing_pod_is_a_404_status(served_cluster: Cluster) -> None:
    status, ctype, text = await get(served_cluster.url + WHY.format("default", "ghost"))
    assert status == 404 and ctype.startswith("application/json")
    assert '"kind":"Status"' in text and 'pods \\"ghost\\" not found' in text and '"reason":"NotFound"' in text


async def test_static_files_are_package_data(served_cluster: Cluster) -> None:
    status, ctype, text = await get(served_cluster.url + "/ui/")
    assert status == 200 and ctype.startswith("text/html") and "app.js" in text
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        status, ctype, _ = await get(f"{served_cluster.url}/ui/{name}")
        assert status == 200 and ctype.startswith(kind)
    assert (await get(served_cluster.url + "/ui"))[0] == 302
    assert (await get(served_cluster.url + "/ui/nothing.js"))[0] == 404
    assert (await get(served_cluster.url + "/ui/..%2Fserving.py"))[0] == 404


async def test_token_guards_data_and_scripts_but_not_the_login_shell(guarded: Cluster) -> None:
    url = guarded.url
    assert (await get(url + "/ui/"))[0] == 200            # the shell: asks for the token, holds no data
    for path in ("/ui/app.js", "/ui/app.css", WHY.format("default", "ghost"), "/cloud/v1/disks", "/api/v1/pods"):
        status, _, text = await get(url + path)
        assert status == 401 and '"reason":"Unauthorized"' in text, path
        assert (await get(url + path, token="wrong"))[0] == 401, path
    assert (await get(url + "/ui/app.js", token=TOKEN))[0] == 200
    assert (await get(url + WHY.format("default", "ghost"), token=TOKEN))[0] == 404
