"""A stopped cluster leaves nothing behind: many clusters in one process keep memory and start time flat.

Test suites start one cluster per test, so anything a stopped cluster leaves reachable (a
module-level cache keyed by its client, a timer, a task) piles up: memory grows and every
later start gets slower. This runs 300 clusters in a row, as a long test session would.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
import weakref
from typing import Any

from minikube_lite import Cluster, VirtualClock

CLUSTERS = 300
WINDOW = 15          # starts per timing window; medians of windows, not single samples
RSS_BUDGET_MB = 10.0
SLOWDOWN_LIMIT = 1.5


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


async def test_three_hundred_stopped_clusters_leave_memory_and_start_time_flat() -> None:
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
        if i == 2 * WINDOW - 1:   # imports, shared schemas and memos are built by now
            gc.collect()
            rss_after_warmup = rss_mb()
    gc.collect()
    growth = rss_mb() - rss_after_warmup
    assert first_engine is not None and first_engine() is None, "a stopped cluster's API engine is still referenced"
    assert growth < RSS_BUDGET_MB, f"RSS grew {growth:.1f} MB over {CLUSTERS - 2 * WINDOW} clusters"
    # The tenth start against the last: medians of a window around each, so one slow sample
    # (a garbage collection, another process on the machine) decides nothing.
    early = statistics.median(start_times[5:5 + WINDOW])   # around the tenth start
    late = statistics.median(start_times[-WINDOW:])
    assert late <= SLOWDOWN_LIMIT * early, f"starts slowed from {early * 1000:.1f} ms to {late * 1000:.1f} ms"
