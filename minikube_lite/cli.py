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

from . import eventloop
from .config import ClusterConfig, ConfigError, load_config
from .gctune import tune_gc  # serve's (and api_bench's) collector settings; why: gctune's docstring

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Where ``serve`` writes its kubeconfig without ``--kubeconfig`` (relative to the working directory).
DEFAULT_KUBECONFIG = "kubeconfig.yaml"


def package_version() -> str:
    """The installed distribution's version (package metadata), else the source tree's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("minikube-lite")
    except PackageNotFoundError:
        from . import __version__

        return __version__


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"invalid choice: {value!r} (choose from {', '.join(LOG_LEVELS)})")
    return level


def _storage(value: str) -> str:
    from .apiserver.storage.backend import StorageUrlError, parse_storage_url

    try:
        parse_storage_url(value)
    except StorageUrlError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _parser() -> argparse.ArgumentParser:
    from .demo import LANGUAGES, SCENARIOS

    parser = argparse.ArgumentParser(prog="minikube-lite",
                                     description="A Kubernetes control plane in one Python process.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start a cluster and serve its API")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for all, e.g. in a container)")
    serve.add_argument("--port", type=int, default=6443, help="0 picks a free port")
    serve.add_argument("--config", help="cluster YAML (default: the course's three-node cluster)")
    serve.add_argument("--kubeconfig",
                       help=f"write a kubeconfig pointing at the server here (default: ./{DEFAULT_KUBECONFIG})")
    serve.add_argument("--kubeconfig-server", metavar="URL",
                       help="server address to write into the kubeconfig, when clients reach the API by "
                            "another address than it listens on (e.g. http://127.0.0.1:8080 for a published "
                            "container port); default: the listening address, loopback for 0.0.0.0")
    serve.add_argument("--tls", action="store_true", help="serve https with a self-signed CA (in the kubeconfig)")
    serve.add_argument("--token", help="require this bearer token")
    serve.add_argument("--storage", default="memory", type=_storage, metavar="URL",
                       help="where objects live: memory (the default; gone at exit) or "
                            "etcd://HOST:PORT[/PREFIX] (kept across restarts, shared by API servers)")
    serve.add_argument("--log-level", default="WARNING", type=_log_level, metavar="LEVEL",
                       help=f"one of {', '.join(LOG_LEVELS)} (any case; default WARNING)")
    demo = sub.add_parser("demo", help="narrated storage demos from the course, in-process")
    demo.add_argument("scenario", nargs="?", default="all", choices=[*SCENARIOS, "all"],
                      help="which demo (default: all in turn)")
    demo.add_argument("--real-time", action="store_true",
                      help="run on the wall clock (a snapshot then takes its configured 5 s) instead of virtual time")
    demo.add_argument("--lang", choices=LANGUAGES, default="en",
                      help="language of the narration (default en; zh: Chinese, the course's wording). "
                           "Events and object lines stay as the cluster prints them")
    demo.add_argument("--pause", action="store_true",
                      help="wait for Enter between steps (end of input, e.g. no tty, runs on)")
    check = sub.add_parser("check-config", help="load a cluster YAML and report problems")
    check.add_argument("config")
    from .ui import why_cli

    why_cli.add_parser(sub)
    from . import components_cli

    components_cli.add_serve_flags(serve)
    components_cli.add_parsers(sub, _log_level)
    return parser


def _load(path: str | None) -> ClusterConfig:
    """The cluster file's config (default: the course's); an empty file is an error, not a cluster
    without nodes (write ``nodes: []`` for that), and a cluster without nodes gets a warning."""
    if not path:
        return ClusterConfig.default()
    config = load_config(path)
    if not config.nodes and _is_empty_document(path):
        raise ConfigError(f"{path}: the file is empty (no YAML document); describe the cluster "
                          "(see examples/clusters/), or leave out --config for the course's default cluster")
    if not config.resolved_nodes():
        print(f"warning: {path}: the cluster has no nodes; pods will stay Pending", file=sys.stderr)
    return config


def _is_empty_document(path: str) -> bool:
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")) is None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False


def _default_kubeconfig() -> Path:
    """``./kubeconfig.yaml``, unless a file there is not one of ours (it is never overwritten)."""
    import yaml

    path = Path.cwd() / DEFAULT_KUBECONFIG
    if path.exists():
        try:
            ours = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("current-context") == "minikube-lite"
        except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
            ours = False
        if not ours:
            raise ConfigError(f"{path} exists and is not a minikube-lite kubeconfig; "
                              "pass --kubeconfig PATH to write it elsewhere")
    return path


async def _demo(args: argparse.Namespace) -> int:
    from .clock import RealClock
    from .demo import DemoError, StdinPause, run_demo

    try:
        await run_demo(args.scenario, out=lambda line: print(line, flush=True),
                       clock=RealClock() if args.real_time else None, lang=args.lang,
                       pause=StdinPause() if args.pause else None)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(args: argparse.Namespace) -> int:
    from .cluster import Cluster

    tune_gc()
    started = time.perf_counter()
    config = _load(args.config)
    kubeconfig = Path(args.kubeconfig).absolute() if args.kubeconfig else _default_kubeconfig()
    from .components_cli import parse_components

    try:
        components = parse_components(args.components)
    except ValueError as exc:
        raise ConfigError(f"--components: {exc}") from None
    cluster = Cluster(config, serve=True, host=args.host, port=args.port, token=args.token, tls=args.tls,
                      kubeconfig_path=kubeconfig, kubeconfig_server=args.kubeconfig_server,
                      components=components, storage=args.storage)
    # Handlers first: a stop asked for while starting (or right after the banner) is a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await cluster.start()
    elapsed = (time.perf_counter() - started) * 1000
    listening = f", listening on {args.host}:{cluster.port}" if args.host in ("0.0.0.0", "::", "") else ""
    print(f"minikube-lite serving {cluster.url} (started in {elapsed:.0f} ms{listening})", flush=True)
    default = "" if args.kubeconfig else " (the default; --kubeconfig PATH writes it elsewhere)"
    print(f"kubeconfig written to {cluster.kubeconfig_path}{default}", flush=True)
    if args.kubeconfig_server:
        print(f"  its server address: {args.kubeconfig_server}", flush=True)
    print(f"  export KUBECONFIG={cluster.kubeconfig_path}; kubectl get nodes", flush=True)
    print(f"live map: {cluster.url}/ui/" + ("  (it asks for the token, or append #token=...)" if args.token else ""),
          flush=True)
    await stop.wait()
    print("stopping", flush=True)
    await cluster.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    logging.basicConfig(level=getattr(logging, getattr(args, "log_level", "WARNING")),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return eventloop.run(_serve(args))
        if args.command == "demo":
            return asyncio.run(_demo(args))
        if args.command == "why-pending":
            from .ui import why_cli

            return why_cli.run(args)
        from .components_cli import COMMANDS, run

        if args.command in COMMANDS:
            return run(args, _load)
        if args.command == "check-config":
            config = _load(args.config)
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
