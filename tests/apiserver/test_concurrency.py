"""Many writers with optimistic concurrency lose no update; many watchers see every event in order."""

from __future__ import annotations

import asyncio

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError
from minikube_lite.client.http import HttpClient

WRITERS = 20
INCREMENTS = 10
WATCHERS = 25


async def increment(client, name: str, times: int) -> int:
    conflicts = 0
    for _ in range(times):
        while True:
            current = await client.get("configmaps", name, "default")
            current["data"]["n"] = str(int(current["data"]["n"]) + 1)
            try:
                await client.update("configmaps", current, "default")
                break
            except ApiError as err:
                assert err.code == 409
                conflicts += 1
    return conflicts


async def test_concurrent_writers_lose_no_update_and_watchers_see_every_event(served_cluster: Cluster) -> None:
    http = HttpClient(served_cluster.url)
    try:
        start = await served_cluster.client.create(
            "configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"},
                           "data": {"n": "0"}}, "default")
        rv0 = start["metadata"]["resourceVersion"]
        total = WRITERS * INCREMENTS

        async def watch(client) -> list[int]:
            values: list[int] = []
            async for ev in client.watch("configmaps", "default", resource_version=rv0,
                                         field_selector="metadata.name=counter"):
                assert ev.type == "MODIFIED"
                values.append(int(ev.object["data"]["n"]))
                if len(values) == total:
                    break
            return values

        watchers = [asyncio.create_task(watch(served_cluster.client if i % 2 else http)) for i in range(WATCHERS)]
        clients = [served_cluster.client if i % 2 else http for i in range(WRITERS)]
        conflicts = await asyncio.wait_for(
            asyncio.gather(*(increment(c, "counter", INCREMENTS) for c in clients)), 120)
        final = await served_cluster.client.get("configmaps", "counter", "default")
        assert final["data"]["n"] == str(total)
        assert sum(conflicts) > 0  # the writers really did race
        seen = await asyncio.wait_for(asyncio.gather(*watchers), 60)
        for values in seen:
            assert values == list(range(1, total + 1))  # every event, in order, no gaps
    finally:
        await http.close()
