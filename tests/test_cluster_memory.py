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


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run_clusters())))
