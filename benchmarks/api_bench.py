"""API benchmark: minikube-lite over HTTP on loopback, against a bare aiohttp ceiling.

Run by hand (bounded: a few thousand requests per phase, ~1-2 minutes on 2 cores):

    python benchmarks/api_bench.py [--objects 10000] [--concurrency 16]

The server (a full default cluster with its controllers) and a bare aiohttp app answering a
fixed JSON body run in their own processes; this process is the load generator. It prints
our throughput as a ratio of the bare ceiling, LIST latency at 10k pods, create throughput at
100 vs 10,000 stored objects, watch fan-out to 100 watchers, and the server's RSS. It also
prints CPU microseconds per request of each server (from /proc), which do not swing with the
load of a shared machine the way requests per second do. ``--no-controllers`` serves the API
alone, to tell the write path's own cost from the work the controllers do for each new pod.

The created pods differ only in name, as a ReplicaSet's do, so after the first one the create
path's shape memos answer (``minikube_lite/apiserver/schema/shape_memo.py``); the ``unique_shapes`` figures
give every pod a label value of its own, so that no memo ever does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import time
from typing import Any

import aiohttp

POD_STATUS = {
    "phase": "Running", "hostIP": "10.0.0.11", "podIP": "10.244.1.7", "startTime": "2026-01-01T00:00:00Z",
    "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
                   for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
    "containerStatuses": [{"name": "c", "image": "nginx:1.27", "imageID": "docker.io/library/nginx@sha256:" + "a" * 64,
                           "containerID": "containerd://" + "b" * 64, "ready": True, "started": True,
                           "restartCount": 0, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}],
}


def pod(name: str, label: str = "web") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "bench", "tier": label}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
            "status": POD_STATUS}


def _serve_cluster(port_queue: Any, controllers: bool = True) -> None:
    from minikube_lite import Cluster
    from minikube_lite import cluster as cluster_module
    from minikube_lite.cli import tune_gc

    if not controllers:
        cluster_module.CONTROLLERS = []  # the API server alone: no scheduler, kubelet, ...
    tune_gc()  # as `minikube-lite serve` does
    async def main() -> None:
        from minikube_lite.config import ClusterConfig

        config = ClusterConfig.default()
        config.systemPods = False  # the API under load, not the system pods' controllers
        cluster = Cluster(config, serve=True, port=0)
        await cluster.start()
        port_queue.put(cluster.port)
        await asyncio.Event().wait()

    asyncio.run(main())


def _serve_bare(port_queue: Any) -> None:
    from aiohttp import web

    body = json.dumps(pod("bare")).encode()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_queue.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (``/proc/<pid>/stat``).

    Per-request CPU of the server does not depend on how busy the (shared) machine is, unlike
    requests per second, so it is the steadier figure to compare runs by.
    """
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def rate(session: aiohttp.ClientSession, make: Any, total: int, concurrency: int) -> float:
    """Requests per second for ``total`` requests made by ``make(i)`` with ``concurrency`` workers."""
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            method, url, body = make(i)
            async with session.request(method, url, json=body) as resp:
                await resp.read()
                if resp.status >= 300:
                    raise RuntimeError(f"{method} {url}: {resp.status} {await resp.text()}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


async def run(args: argparse.Namespace) -> None:
    ctx = mp.get_context("spawn")
    q: Any = ctx.Queue()
    server = ctx.Process(target=_serve_cluster, args=(q, not args.no_controllers), daemon=True)
    server.start()
    port = q.get(timeout=60)
    bare = ctx.Process(target=_serve_bare, args=(q,), daemon=True)
    bare.start()
    bare_port = q.get(timeout=60)
    base = f"http://127.0.0.1:{port}"
    bare_url = f"http://127.0.0.1:{bare_port}/pod"
    ns_url = f"{base}/api/v1/namespaces/default/pods"
    conn = aiohttp.TCPConnector(limit=args.concurrency * 2)
    results: dict[str, Any] = {}
    try:
        async with aiohttp.ClientSession(connector=conn) as s:
            n = args.requests
            spid, bpid = server.pid or 0, bare.pid or 0
            cpu = cpu_s(bpid)
            results["bare_get_rps"] = await rate(s, lambda i: ("GET", bare_url, None), n, args.concurrency)
            results["bare_cpu_us_per_get"] = (cpu_s(bpid) - cpu) / n * 1e6
            results["create_rps_at_0_100"] = await rate(s, lambda i: ("POST", ns_url, pod(f"warm-{i}")), 100,
                                                         args.concurrency)
            cpu = cpu_s(spid)
            results["get_rps"] = await rate(s, lambda i: ("GET", f"{ns_url}/warm-{i % 100}", None), n,
                                            args.concurrency)
            results["server_cpu_us_per_get"] = (cpu_s(spid) - cpu) / n * 1e6
            created = 100
            cpu = cpu_s(spid)
            results["create_rps_at_100"] = await rate(s, lambda i: ("POST", ns_url, pod(f"a-{i}")), args.sample,
                                                      args.concurrency)
            # Includes what the controllers do in reaction while the creates run (not after).
            results["server_cpu_us_per_create_at_100"] = (cpu_s(spid) - cpu) / args.sample * 1e6
            created += args.sample
            # The same, every pod with a label value of its own: no shape memo answers these.
            cpu = cpu_s(spid)
            results["create_rps_unique_shapes"] = await rate(
                s, lambda i: ("POST", ns_url, pod(f"u-{i}", label=f"u-{i}")), args.sample, args.concurrency)
            results["server_cpu_us_per_create_unique_shapes"] = (cpu_s(spid) - cpu) / args.sample * 1e6
            created += args.sample
            rest = args.objects - created - args.sample
            await rate(s, lambda i: ("POST", ns_url, pod(f"fill-{i}")), rest, args.concurrency)
            created += rest
            cpu = cpu_s(spid)
            results["create_rps_at_10k"] = await rate(s, lambda i: ("POST", ns_url, pod(f"z-{i}")), args.sample,
                                                      args.concurrency)
            results["server_cpu_us_per_create_at_10k"] = (cpu_s(spid) - cpu) / args.sample * 1e6
            created += args.sample
            results["stored_pods"] = created
            results["server_rss_mb_10k_pods"] = rss_mb(server.pid or 0)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                async with s.get(ns_url) as resp:
                    body = await resp.read()
                times.append((time.perf_counter() - t) * 1000)
            results["list_10k_ms_median"] = statistics.median(times)
            results["list_10k_bytes"] = len(body)
            results["server_rss_mb_after_lists"] = rss_mb(server.pid or 0)
            results.update(await fanout(s, base, args.watchers))
    finally:
        server.kill()
        bare.kill()
    results["get_ratio_of_bare"] = results["get_rps"] / results["bare_get_rps"]
    results["create_ratio_of_bare"] = results["create_rps_at_100"] / results["bare_get_rps"]
    results["create_unique_shapes_ratio_of_bare"] = results["create_rps_unique_shapes"] / results["bare_get_rps"]
    results["create_10k_vs_100"] = results["create_rps_at_10k"] / results["create_rps_at_100"]
    # What the ratio would be on an idle machine if both servers were CPU-bound.
    results["create_cpu_ratio_of_bare"] = results["bare_cpu_us_per_get"] / results["server_cpu_us_per_create_at_100"]
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.3f}" if isinstance(value, float) else f"{key:<{width}}  {value}")


async def fanout(s: aiohttp.ClientSession, base: str, watchers: int) -> dict[str, Any]:
    """100 watchers on one configmap; time from each write until every watcher has seen it."""
    url = f"{base}/api/v1/namespaces/default/configmaps"
    async with s.post(url, json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fan"},
                                 "data": {"n": "0"}}) as resp:
        rv = (await resp.json())["metadata"]["resourceVersion"]
    writes = 50
    seen = [0] * watchers
    done = asyncio.Event()

    async def watch(i: int) -> None:
        params = {"watch": "true", "resourceVersion": rv, "fieldSelector": "metadata.name=fan"}
        async with aiohttp.ClientSession() as ws:
            async with ws.get(url, params=params) as resp:
                async for line in resp.content:
                    if line.strip():
                        seen[i] += 1
                        if all(c >= writes for c in seen):
                            done.set()
                        if seen[i] >= writes:
                            return

    tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
    await asyncio.sleep(1.0)
    start = time.perf_counter()
    for n in range(writes):
        async with s.patch(f"{url}/fan", data=json.dumps({"data": {"n": str(n + 1)}}),
                           headers={"Content-Type": "application/merge-patch+json"}) as resp:
            await resp.read()
    await asyncio.wait_for(done.wait(), 60)
    elapsed = time.perf_counter() - start
    for t in tasks:
        t.cancel()
    return {"watch_fanout_watchers": watchers, "watch_fanout_events_delivered": writes * watchers,
            "watch_fanout_events_per_s": writes * watchers / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--sample", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--no-controllers", action="store_true",
                        help="serve the API alone (no scheduler, kubelet or other controllers)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
