"""In-process micro-benchmark of the API write path, stage by stage.

Run by hand (bounded: a few thousand calls per stage, well under a minute on 2 cores):

    python benchmarks/write_path_micro.py [--n 2000] [--repeat 3]

The HTTP benchmark (``api_bench.py``) says *whether* creates are fast enough; this one says
*where* the time goes, without sockets or another process in the way, so a change to one
stage can be measured on its own. It times, per call, the stages a pod create passes through
(body decode, schema decode-check with and without the raw body, defaulting, validation,
managedFields, store encode) and then whole ``ApiEngine.create`` / ``update`` / ``patch``
calls through the in-process engine (no controllers run). Each figure is the best of
``--repeat`` runs, in microseconds per call.

The stage figures are the full computations. The whole-create figures go through the shape
memos (``apiserver/schema/shape_memo.py``): pods that differ only in name reuse the managedFields,
schema-check and pod-validation results of the first one. ``engine_create_http_path`` passes
the body as the server does (only when it may repeat a key);
``..._unique_shapes`` gives every pod its own label value, so no memo ever answers.
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from api_bench import pod  # noqa: E402

from minikube_lite.apiserver.apply.managed_fields import default_reset_fields, update_managed_fields  # noqa: E402
from minikube_lite.apiserver.schema.defaults import apply_defaults  # noqa: E402
from minikube_lite.apiserver.schema.duplicate_keys import free_of_duplicate_keys  # noqa: E402
from minikube_lite.apiserver.schema.upstream import SchemaSet  # noqa: E402
from minikube_lite.apiserver.schema.validation import validate_create, validate_update  # noqa: E402


def best_us(fn: Callable[[int], Any], n: int, repeat: int) -> float:
    """Best-of-``repeat`` microseconds per call of ``fn(i)`` over ``n`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.process_time() - start) / n * 1e6)
    return best


def _engine() -> Any:
    from minikube_lite.apiserver.engine import ApiEngine
    from minikube_lite.clock import VirtualClock

    engine = ApiEngine(VirtualClock())
    ns = engine.registry.get("", "v1", "namespaces")
    assert ns is not None
    engine.create(ns, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}}, {})
    return engine


def stages(n: int, repeat: int) -> dict[str, float]:
    engine = _engine()
    rt = engine.registry.get("", "v1", "pods")
    assert rt is not None
    schemas = SchemaSet.load()
    node = schemas.node("v1", "Pod")
    body = pod("p")
    raw = orjson.dumps(body)
    # The object as it reaches managedFields: named, server metadata set, defaulted.
    ready = copy.deepcopy(body)
    ready["metadata"].update(namespace="default", uid="u", creationTimestamp="2026-01-01T00:00:00Z",
                             generation=1)
    apply_defaults("", "Pod", ready)
    reset = default_reset_fields("Pod", None, True)
    with_mf = update_managed_fields(None, ready, manager="bench", api_version="v1", now="2026-01-01T00:00:00Z",
                                    schema=node, reset_fields=reset)
    changed = copy.deepcopy(with_mf)
    changed["metadata"]["labels"]["tier"] = "db"
    out: dict[str, float] = {}
    out["decode_orjson_loads"] = best_us(lambda i: orjson.loads(raw), n, repeat)
    out["deepcopy_body"] = best_us(lambda i: copy.deepcopy(body), n, repeat)
    out["schema_check"] = best_us(lambda i: schemas.check("v1", "Pod", body, "Warn"), n, repeat)
    out["schema_check_with_raw"] = best_us(lambda i: schemas.check("v1", "Pod", body, "Warn", raw=raw), n,
                                           repeat)
    out["defaults"] = best_us(lambda i: apply_defaults("", "Pod", copy.deepcopy(body)), n, repeat) \
        - out["deepcopy_body"]
    out["validate_create"] = best_us(lambda i: validate_create(rt, ready), n, repeat)
    out["validate_update"] = best_us(lambda i: validate_update(rt, changed, with_mf), n, repeat)
    out["managed_fields_create"] = best_us(
        lambda i: update_managed_fields(None, ready, manager="bench", api_version="v1",
                                        now="2026-01-01T00:00:00Z", schema=node, reset_fields=reset), n, repeat)
    out["managed_fields_update"] = best_us(
        lambda i: update_managed_fields(with_mf, changed, manager="other", api_version="v1",
                                        now="2026-01-01T00:00:01Z", schema=node, reset_fields=reset), n, repeat)
    out["store_encode_orjson_dumps"] = best_us(lambda i: orjson.dumps(with_mf), n, repeat)
    return out


def _server_creates(engine: Any, rt: Any, query: dict[str, str], pods: list[dict[str, Any]]) -> float:
    """µs CPU per create as the server makes it: the raw body goes along only if it may repeat a key."""
    raws = [orjson.dumps(p) for p in pods]
    start = time.process_time()
    for raw in raws:
        body = orjson.loads(raw)
        engine.create(rt, "default", body, query, raw=None if free_of_duplicate_keys(raw, body) else raw)
    return (time.process_time() - start) / len(raws) * 1e6


def whole(n: int, repeat: int) -> dict[str, float]:
    """Whole engine calls: create (with and without the raw body), update, merge patch."""
    out: dict[str, float] = {}
    best_c = best_r = best_h = best_x = best_u = best_p = float("inf")
    for r in range(repeat):
        engine = _engine()
        rt = engine.registry.get("", "v1", "pods")
        assert rt is not None
        query = {"fieldManager": "bench"}
        bodies = [pod(f"c{r}-{i}") for i in range(n)]
        start = time.process_time()
        for b in bodies:
            engine.create(rt, "default", b, query)
        best_c = min(best_c, (time.process_time() - start) / n * 1e6)
        raws = [orjson.dumps(pod(f"r{r}-{i}")) for i in range(n)]
        start = time.process_time()
        for raw in raws:
            engine.create(rt, "default", orjson.loads(raw), query, raw=raw)
        best_r = min(best_r, (time.process_time() - start) / n * 1e6)
        # As the server calls it; then every pod of its own shape (a unique label value), so
        # that no shape memo ever answers.
        best_h = min(best_h, _server_creates(engine, rt, query, [pod(f"h{r}-{i}") for i in range(n)]))
        best_x = min(best_x, _server_creates(engine, rt, query,
                                             [pod(f"u{r}-{i}", label=f"u{r}-{i}") for i in range(n)]))
        live = [engine.get(rt, "default", f"c{r}-{i}").object() for i in range(n)]
        for obj in live:
            obj["metadata"]["labels"]["tier"] = "db"
        start = time.process_time()
        for obj in live:
            engine.update(rt, "default", obj["metadata"]["name"], obj, query)
        best_u = min(best_u, (time.process_time() - start) / n * 1e6)
        patch = {"metadata": {"labels": {"extra": "yes"}}}
        start = time.process_time()
        for i in range(n):
            engine.patch(rt, "default", f"c{r}-{i}", copy.deepcopy(patch), "application/merge-patch+json",
                         {"fieldManager": "patcher"})
        best_p = min(best_p, (time.process_time() - start) / n * 1e6)
    out["engine_create"] = best_c
    out["engine_create_with_raw"] = best_r
    out["engine_create_http_path"] = best_h
    out["engine_create_http_path_unique_shapes"] = best_x
    out["engine_update"] = best_u
    out["engine_merge_patch"] = best_p
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    gc.collect()
    gc.freeze()  # as `minikube-lite serve` effectively does after start-up
    results = stages(args.n, args.repeat)
    results.update(whole(args.n, args.repeat))
    width = max(len(k) for k in results)
    print(f"{'stage (us per call, best of ' + str(args.repeat) + ')':<{width}}")
    for k, v in results.items():
        print(f"{k:<{width}}  {v:8.1f}")


if __name__ == "__main__":
    main()
