"""Cyclic garbage collector settings for the long-running processes (``serve`` and the components).

Why: these processes hold large heaps of long-lived container objects (the API server's store;
each component's informer caches: at 5,000 nodes and 10,000 pods, well over a million dicts and
lists), while every watch event, decode and reconcile allocates and frees more of them. With
Python's default thresholds (700, 10, 10) a young collection runs every 700 net allocations and
the older generations follow, so the collector keeps walking that heap: time that grows with the
cluster and buys nothing, because decoded API objects hold no reference cycles (reference
counting frees them). So:

* :func:`tune_gc` collects the young generation every 50,000 net allocations instead of 700
  (the others keep their ratios), which keeps write and event latency flat as the heap grows;
* :func:`freeze_long_lived`, called once a component has listed and synced its informers,
  moves everything alive then (modules, the initial caches: every node, class, driver) into
  the permanent generation (``gc.freeze``), so no later collection walks it again. Frozen
  objects are still freed by reference counting when the cache drops them; only a reference
  cycle among them would stay, and cached objects form none.
"""

from __future__ import annotations

import gc

#: (gen0, gen1, gen2) thresholds for long-running processes.
THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Collect less often in a process that holds many long-lived objects (see the module docstring)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_long_lived() -> None:
    """After start-up (initial list and sync): collect once, then keep what survives out of later scans."""
    gc.collect()
    gc.freeze()


__all__ = ["THRESHOLDS", "freeze_long_lived", "tune_gc"]
