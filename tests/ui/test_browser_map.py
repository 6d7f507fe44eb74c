"""The live map in real headless Chromium: the course's topology story, watched without reloading.

Few tests, each bounded: every wait has a timeout (``WAIT_MS``), and the cluster runs the
teaching timings (disks and pods in fractions of a second) on the real clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from minikube_lite.client.base import ApiError
from minikube_lite.cluster import Cluster
from minikube_lite.scheduler.plugins import tainttoleration, volumebinding
from minikube_lite.ui.browser import browser_context, unavailable_reason
from minikube_lite.ui.stories import apply, teaching_config

TOPOLOGY = Path(__file__).resolve().parents[2] / "examples" / "03-topology-scheduling"
WAIT_MS = 30_000
POD = "default/disk-pod-topology"
CROWD = 150
HISTORY = 10          # changes the server keeps per type in the expiry test
CHIPS_PER_NODE = 60   # app.js POD_CHIPS_PER_NODE
CP_TAINT_REASON = tainttoleration.ERR_REASON_UNTOLERATED.format("node-role.kubernetes.io/control-plane", "")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))]


async def wait_unschedulable(cluster: Cluster, name: str) -> str:
    """The scheduler's FailedScheduling message, once it has tried (bounded)."""
    for _ in range(WAIT_MS // 50):
        pod = await cluster.client.get("pods", name, "default")
        for cond in pod.get("status", {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
                return str(cond["message"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name} never became Unschedulable")


async def wait_gone(cluster: Cluster, name: str) -> None:
    for _ in range(WAIT_MS // 50):
        try:
            await cluster.client.get("pods", name, "default")
        except ApiError as err:
            if err.code == 404:
                return
            raise
        await asyncio.sleep(0.05)
    raise AssertionError(f"pod {name} was not deleted")


async def row_text(page: Any, node: str) -> str:
    return str(await page.inner_text(f'#why-nodes tr[data-why-node="{node}"] td.reasons'))


async def test_topology_story_pending_then_fixed_live(tmp_path: Path) -> None:
    async with Cluster(teaching_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kc.yaml") as cluster, \
            browser_context(tmp_path / "profile") as browser:
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(cluster.url + "/ui/")
        await page.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
        await page.evaluate("window.loadedOnce = 'yes'")     # gone if the page ever reloads
        assert await page.locator('.zone[data-zone="cn-hangzhou-b"] .node').count() == 3
        assert await page.locator('.zone[data-zone="cn-hangzhou-d"] .node').count() == 0

        # The course's story: a class restricted to zone d, a claim, a pod. The pod stays Pending.
        for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
            await apply(cluster.client, TOPOLOGY / name)
        message = await wait_unschedulable(cluster, "disk-pod-topology")
        chip = f'#unscheduled .pod[data-key="{POD}"][data-phase="Pending"]'
        await page.wait_for_selector(chip, timeout=WAIT_MS)

        # Click it: the why panel gives the scheduler's verdict node by node.
        await page.click(chip)
        await page.wait_for_selector('#why-nodes tr[data-why-node="node2"]', timeout=WAIT_MS)
        assert await page.inner_text("#why-summary") == message
        assert await row_text(page, "master") == f"{tainttoleration.NAME}: {CP_TAINT_REASON}"
        for worker in ("node1", "node2"):
            assert await row_text(page, worker) == f"{volumebinding.NAME}: {volumebinding.ERR_REASON_BIND_CONFLICT}"
        claim = await page.inner_text('[data-why-claim="disk-pvc-topology"]')
        assert "WaitForFirstConsumer" in claim and "cn-hangzhou-d" in claim

        # The fix, as the course does it: the class allows zone b; the pod is deleted and recreated.
        await apply(cluster.client, TOPOLOGY / "storageclass-zone-b.yaml")
        await cluster.client.delete("pods", "disk-pod-topology", "default")
        await wait_gone(cluster, "disk-pod-topology")
        await apply(cluster.client, TOPOLOGY / "pod.yaml")

        running = f'.zone[data-zone="cn-hangzhou-b"] .node .pod[data-key="{POD}"][data-phase="Running"]'
        await page.wait_for_selector(running, timeout=WAIT_MS)
        assert await page.get_attribute(running, "data-node") in ("node1", "node2")
        await page.wait_for_selector('.zone[data-zone="cn-hangzhou-b"] .disk', timeout=WAIT_MS)
        await page.wait_for_function(
            "document.querySelector('#why-summary') && "
            "document.querySelector('#why-summary').textContent.includes('is not pending')", timeout=WAIT_MS)
        assert await page.locator("#unscheduled").count() == 0
        assert await page.evaluate("window.loadedOnce") == "yes"
        assert errors == []


async def test_token_protected_map_asks_for_the_token(tmp_path: Path) -> None:
    async with Cluster(teaching_config(), serve=True, port=0, token="t0ken", kubeconfig_path=tmp_path / "kc.yaml",
                       components=False) as cluster, browser_context(tmp_path / "profile") as browser:
        page = await browser.new_page()
        await page.goto(cluster.url + "/ui/")
        await page.wait_for_selector("#login:not([hidden])", timeout=WAIT_MS)
        await page.fill("#token-input", "wrong")
        await page.click("#login button")
        await page.wait_for_function("document.getElementById('login-error').textContent.length > 0",
                                     timeout=WAIT_MS)
        await page.fill("#token-input", "t0ken")
        await page.click("#login button")
        await page.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
        assert await page.locator(".node").count() == 3

        fresh = await browser.new_page()       # the token may also come in the URL fragment
        await fresh.goto(cluster.url + "/ui/#token=t0ken")
        await fresh.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
        assert "token" not in fresh.url


async def test_map_copes_with_foreign_objects_and_many_pods(tmp_path: Path) -> None:
    """Other controllers' pods (system namespaces, unknown owners, nodes that are gone) and crowds."""
    async with Cluster(teaching_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kc.yaml",
                       components=False) as cluster, browser_context(tmp_path / "profile") as browser:
        def pod(name: str, node: str, owner: str | None = None) -> dict[str, Any]:
            md: dict[str, Any] = {"name": name}
            if owner:
                md["ownerReferences"] = [{"apiVersion": "example.com/v1", "kind": owner, "name": "x",
                                          "uid": "0b9c7a6e-0000-4000-8000-000000000001", "controller": True}]
            return {"apiVersion": "v1", "kind": "Pod", "metadata": md,
                    "spec": {"nodeName": node, "containers": [{"name": "c", "image": "registry.k8s.io/pause"}]}}

        await cluster.client.create("pods", pod("coredns-1", "master", owner="ReplicaSet"), "kube-system")
        await cluster.client.create("pods", pod("orphan", "node9", owner="SomethingNew"), "default")
        for i in range(CROWD):
            await cluster.client.create("pods", pod(f"crowd-{i:03d}", "node2"), "default")
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(cluster.url + "/ui/")
        await page.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
        await page.wait_for_selector('.node[data-node-name="master"] .pod[data-key="kube-system/coredns-1"]',
                                     timeout=WAIT_MS)
        await page.wait_for_selector('#stray .pod[data-key="default/orphan"]', timeout=WAIT_MS)
        node2 = page.locator('.node[data-node-name="node2"]')
        assert await node2.locator(".pod").count() == CHIPS_PER_NODE
        assert f"+{CROWD - CHIPS_PER_NODE} more" in await node2.inner_text()
        await page.click('.pod[data-key="default/orphan"]')
        await page.wait_for_function(
            "document.querySelector('#why-summary') && "
            "document.querySelector('#why-summary').textContent.includes('scheduled to node node9')", timeout=WAIT_MS)
        assert errors == []


async def test_an_expired_watch_lists_again(tmp_path: Path) -> None:
    """The pods watch drops; meanwhile more changes happen than the server keeps: 410, then a new list."""
    async with Cluster(teaching_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kc.yaml",
                       components=False, history_size=HISTORY) as cluster, \
            browser_context(tmp_path / "profile") as browser:
        page = await browser.new_page()
        await page.goto(cluster.url + "/ui/")
        await page.wait_for_selector("body[data-synced=true]", timeout=WAIT_MS)
        lists_before = await page.evaluate("window.minikubeLiteMap.lists.count")
        await page.evaluate("window.minikubeLiteMap.watchers.pods.socket.close()")
        for i in range(HISTORY * 3):     # faster than the 1 s reconnect delay
            await cluster.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
                                                 "spec": {"nodeName": "node1",
                                                          "containers": [{"name": "c", "image": "nginx"}]}},
                                        "default")
        await page.wait_for_selector(f'.pod[data-key="default/p{HISTORY * 3 - 1}"]', timeout=WAIT_MS)
        assert await page.locator('.node[data-node-name="node1"] .pod').count() == HISTORY * 3
        assert await page.evaluate("window.minikubeLiteMap.lists.count") == lists_before + 1
