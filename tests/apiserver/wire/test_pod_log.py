"""``pods/log``: a short synthetic log from what the kubelet recorded; ``follow`` streams until the pod goes."""

from __future__ import annotations

import asyncio

import aiohttp

from minikube_lite import Cluster


async def wait_running(cluster: Cluster, name: str) -> None:
    for _ in range(400):
        pod = await cluster.client.get("pods", name, "default")
        if (pod.get("status") or {}).get("phase") == "Running":
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"pod {name} never ran")


async def test_log_and_follow(served_cluster: Cluster) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lg"},
           "spec": {"nodeName": "node1", "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "c", "image": "busybox"}]}}
    await served_cluster.client.create("pods", pod, "default")
    await wait_running(served_cluster, "lg")
    url = served_cluster.url + "/api/v1/namespaces/default/pods/lg/log"
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as resp:
            text = await resp.text()
            assert resp.status == 200 and "container c started on node node1" in text
        async with s.get(url, params={"container": "nope"}) as resp:
            assert resp.status == 400 and "container nope is not valid for pod lg" in (await resp.json())["message"]
        async with s.get(url, params={"follow": "true"}) as resp:
            first = await asyncio.wait_for(resp.content.readline(), 5)
            assert b"container c started" in first
            await served_cluster.client.delete("pods", "lg", "default", grace_period_seconds=0)
            rest = await asyncio.wait_for(resp.read(), 10)  # the stream ends once the pod is gone
            assert isinstance(rest, bytes)


async def test_log_of_a_pending_pod_is_the_upstream_waiting_error(served_cluster: Cluster) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pend"},
           "spec": {"containers": [{"name": "c", "image": "busybox"}], "nodeSelector": {"nowhere": "true"}}}
    await served_cluster.client.create("pods", pod, "default")
    async with aiohttp.ClientSession() as s:
        async with s.get(served_cluster.url + "/api/v1/namespaces/default/pods/pend/log") as resp:
            body = await resp.json()
            assert resp.status == 400
            assert body["message"] == 'container "c" in pod "pend" is waiting to start: Pending'
