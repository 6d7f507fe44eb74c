"""A stopped cluster leaves nothing behind: many clusters in one process keep memory and start time flat.

Test suites start one cluster per test, so anything a stopped cluster leaves reachable (a
module-level cache keyed by its client, a timer, a task) piles up: memory grows and every
later start gets slower. This runs 300 clusters in a row, as a long test session would, in a fresh interpreter: in
the middle of the suite, what other tests left running (a served cluster's timers, a slow
watcher) would grow RSS too and blur what this measures.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import weakref
from typing import Any

from minikube_lite import Cluster, VirtualClock

CLUSTERS = 300
WINDOW = 15          # starts per timing window; medians of windows, not single samples
# Process-wide memos are bounded (shape memos, decoded FieldsV1): they fill with the shapes of the
# first clusters (ownerReferences carry each cluster's uids) and then stop growing. Measure after.
WARM_UP = 100
RSS_BUDGET_MB = 10.0
SLOWDOWN_LIMIT = 1.5


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def run_clusters() -> dict[str, Any]:
    """Start and stop CLUSTERS clusters; return RSS growth after warm-up, start times, and liveness."""
    start_times: list[float] = []
    rss_after_warmup = 0.0
    first_engine: weakref.ref[Any] | None = None
    for i in range(CLUSTERS):
        began = time.process_time()   # CPU time: other processes on the machine do not count
        cluster = Cluster(clock=VirtualClock())
        await cluster.start()
        start_times.append(time.process_time() - began)
        await cluster.client.get("namespaces", "default")
        await cluster.stop()
        if i == 0:
            first_engine = weakref.ref(cluster.engine)   # what holds every object the cluster stored
        del cluster
        if i == WARM_UP - 1:   # imports, shared schemas and bounded memos are full by now
            gc.collect()
            rss_after_warmup = rss_mb()
    gc.collect()
    return {"growth": rss_mb() - rss_after_warmup, "start_times": start_times,
            "first_engine_freed": first_engine is not None and first_engine() is None}


def test_three_hundred_stopped_clusters_leave_memory_and_start_time_flat() -> None:
    out = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    growth, start_times = result["growth"], result["start_times"]
    assert result["first_engine_freed"], "a stopped cluster's API engine is still referenced"
    assert growth < RSS_BUDGET_MB, f"RSS grew {growth:.1f} MB over {CLUSTERS - WARM_UP} clusters"
    # The tenth start against the last: medians of a window around each, so one slow sample
    # (a garbage collection, another process on the machine) decides nothing.
    early = statistics.median(start_times[5:5 + WINDOW])   # around the tenth start
    late = statistics.median(start_times[-WINDOW:])
    assert late <= SLOWDOWN_LIMIT * early, f"starts slowed from {early * 1000:.1f} ms to {late * 1000:.1f} ms"


# A cluster that did some of everything: a Deployment scheduled and run, a claim provisioned
# and mounted, a provisioning failure retried, cascading deletion by the garbage collector.
WORKLOAD: list[dict[str, Any]] = [
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
              "template": {"metadata": {"labels": {"app": "web"}},
                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "too-small"},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"},
     "spec": {"containers": [{"name": "c", "image": "busybox"}],
              "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}},
]


async def busy_cluster() -> tuple[weakref.ref[Any], list[str]]:
    """Run WORKLOAD on a cluster, stop it; a weak reference to its engine and the pods' phases."""
    cluster = Cluster(clock=VirtualClock(), seed=1)
    await cluster.start()
    await cluster.apply(WORKLOAD)
    await cluster.settle()
    phases = [p["status"].get("phase", "") for p in (await cluster.client.list("pods", "default"))["items"]]
    await cluster.client.delete("deployments", "web", "default")
    await cluster.settle()
    await cluster.stop()
    return weakref.ref(cluster.engine), phases


def count_cycles() -> dict[str, Any]:
    """Run a busy cluster with the cyclic collector off; what it left for the collector."""
    asyncio.run(busy_cluster())   # imports and process-wide memos first
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)   # keep what a collection finds, to name it
    engine, phases = asyncio.run(busy_cluster())
    freed = engine() is None
    gc.collect()
    kinds = sorted({type(o).__name__ for o in gc.garbage})
    return {"freed": freed, "garbage": len(gc.garbage), "kinds": kinds[:20], "phases": phases}


def test_a_stopped_cluster_is_freed_by_reference_counting() -> None:
    """No reference cycles: a stopped cluster goes the moment its last reference does, and leaves
    nothing for Python's cyclic collector (whose full collections, walking a test suite's clusters,
    were the slowest tests of a suite)."""
    out = subprocess.run([sys.executable, __file__, "cycles"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert sorted(result["phases"]) == ["Running", "Running", "Running"], result["phases"]
    assert result["freed"], "a stopped cluster's API engine outlived the cluster"
    assert result["garbage"] == 0, f"{result['garbage']} objects in reference cycles: {result['kinds']}"


if __name__ == "__main__":
    if sys.argv[1:] == ["cycles"]:
        print(json.dumps(count_cycles()))
    else:
        print(json.dumps(asyncio.run(run_clusters())))
