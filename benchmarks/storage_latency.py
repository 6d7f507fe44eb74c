"""Latency of a create and a get over HTTP, memory store vs etcd (a small bounded measurement).

Run by hand (bounded: ``--n`` creates and gets per backend, a few seconds in all):

    python benchmarks/storage_latency.py [--n 300] [--storage etcd://127.0.0.1:2379/bench]

Without ``--storage`` it starts a throwaway etcd (``minikube_lite.testing.etcd``; Debian's
etcd-server must be installed). A served cluster without controllers takes sequential
ConfigMap creates and gets from one aiohttp client; the figures are median and p99 in
milliseconds. On etcd a create is a transaction (with etcd's fsync) plus the wait for its own
watch event; a get is answered from the watch-fed cache, as in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp

from minikube_lite.cluster import Cluster


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(storage: str, n: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        async with Cluster(serve=True, port=0, components=False, storage=storage,
                           kubeconfig_path=Path(tmp) / "kubeconfig.yaml") as cluster, aiohttp.ClientSession(
                headers={"Authorization": "Bearer minikube-lite"}) as session:
            base = f"{cluster.url}/api/v1/namespaces/default/configmaps"
            creates: list[float] = []
            gets: list[float] = []
            run = uuid.uuid4().hex[:6]
            for i in range(n):
                body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{run}-{i}"},
                        "data": {"i": str(i)}}
                start = time.perf_counter()
                async with session.post(base, json=body) as response:
                    await response.read()
                    assert response.status == 201, response.status
                creates.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                async with session.get(f"{base}/cm-{run}-{i}") as response:
                    await response.read()
                    assert response.status == 200, response.status
                gets.append((time.perf_counter() - start) * 1000)
    return {"create": (statistics.median(creates), _percentile(creates, 0.99)),
            "get": (statistics.median(gets), _percentile(gets, 0.99))}


@contextlib.contextmanager
def _etcd(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from minikube_lite.testing.etcd import run_etcd

    with run_etcd() as server:
        yield server.url("bench")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--storage", help="an etcd URL to use instead of a throwaway etcd")
    args = parser.parse_args()
    n = max(1, min(args.n, 5000))
    with _etcd(args.storage) as etcd_url:
        results = {"memory": asyncio.run(measure("memory", n)), "etcd": asyncio.run(measure(etcd_url, n))}
    print(f"{'backend':8} {'create p50':>11} {'create p99':>11} {'get p50':>8} {'get p99':>8}   (ms, n={n})")
    for name, figures in results.items():
        (c50, c99), (g50, g99) = figures["create"], figures["get"]
        print(f"{name:8} {c50:11.2f} {c99:11.2f} {g50:8.2f} {g99:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
