"""``minikube-lite``: serve a cluster, print its kubeconfig, or run the narrated demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path

from .config import ClusterConfig, ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minikube-lite",
                                     description="A Kubernetes control plane in one Python process.")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start a cluster and serve its API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=6443, help="0 picks a free port")
    serve.add_argument("--config", help="cluster YAML (default: the course's three-node cluster)")
    serve.add_argument("--kubeconfig", help="write a kubeconfig pointing at the server here")
    serve.add_argument("--tls", action="store_true", help="serve https with a self-signed CA (in the kubeconfig)")
    serve.add_argument("--token", help="require this bearer token")
    serve.add_argument("--log-level", default="WARNING")
    demo = sub.add_parser("demo", help="narrated storage demos from the course, in-process")
    demo.add_argument("scenario", nargs="?", default="all", choices=["snapshot", "local-pv", "topology", "all"],
                      help="which demo (default: all three in turn)")
    demo.add_argument("--real-time", action="store_true",
                      help="run on the wall clock (a snapshot then takes its configured 5 s) instead of virtual time")
    check = sub.add_parser("check-config", help="load a cluster YAML and report problems")
    check.add_argument("config")
    from .ui import why_cli

    why_cli.add_parser(sub)
    return parser


def _load(path: str | None) -> ClusterConfig:
    return load_config(path) if path else ClusterConfig.default()


def tune_gc() -> None:
    """A long-running server holds many small objects; collect them less often.

    Python's default gen-0 threshold (700 allocations) makes the collector walk the whole
    heap ever more often as the store grows; a larger threshold keeps write latency flat.
    """
    import gc

    gc.set_threshold(50_000, 20, 100)


async def _demo(args: argparse.Namespace) -> int:
    from .clock import RealClock
    from .demo import DemoError, run_demo

    try:
        await run_demo(args.scenario, out=lambda line: print(line, flush=True),
                       clock=RealClock() if args.real_time else None)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(args: argparse.Namespace) -> int:
    from .cluster import Cluster

    tune_gc()
    started = time.perf_counter()
    config = _load(args.config)
    kubeconfig = args.kubeconfig or str(Path.cwd() / "kubeconfig.yaml")
    cluster = Cluster(config, serve=True, host=args.host, port=args.port, token=args.token, tls=args.tls,
                      kubeconfig_path=kubeconfig)
    await cluster.start()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"minikube-lite serving {cluster.url} (started in {elapsed:.0f} ms)", flush=True)
    print(f"kubeconfig written to {cluster.kubeconfig_path}", flush=True)
    print(f"  export KUBECONFIG={cluster.kubeconfig_path}; kubectl get nodes", flush=True)
    print(f"live map: {cluster.url}/ui/" + ("  (it asks for the token, or append #token=...)" if args.token else ""),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("stopping", flush=True)
    await cluster.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    logging.basicConfig(level=getattr(logging, str(getattr(args, "log_level", "WARNING")).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return asyncio.run(_serve(args))
        if args.command == "demo":
            return asyncio.run(_demo(args))
        if args.command == "why-pending":
            from .ui import why_cli

            return why_cli.run(args)
        if args.command == "check-config":
            config = load_config(args.config)
            print(f"{args.config}: ok ({len(config.resolved_nodes())} nodes, {len(config.drivers)} drivers, "
                  f"{len(config.objects)} objects)")
            return 0
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
