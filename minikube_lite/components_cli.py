"""``minikube-lite scheduler | controller-manager | kubelets`` and ``serve --components``.

Kept apart from cli.py so that the split-process commands are one small module: cli.py calls
:func:`add_parsers` and :func:`add_serve_flags` when it builds its parser and hands these
commands to :func:`run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from . import eventloop
from .components import CONTROLLER_MANAGER, GROUPS, KUBELETS, SCHEDULER, names, select
from .gctune import tune_gc

COMMANDS = (SCHEDULER, CONTROLLER_MANAGER, KUBELETS)

_HELP = {
    SCHEDULER: "run the scheduler alone against an API server (leader-elected)",
    CONTROLLER_MANAGER: "run the controllers against an API server (leader-elected)",
    KUBELETS: "run the fake kubelets and node leases of the config's nodes against an API server",
}


def add_serve_flags(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--components", default="all", metavar="none|all|LIST",
                       help="which components run inside the server process: all (default), none (the API "
                            "server and the mock cloud only, for components started as their own processes), "
                            f"or a comma list of {', '.join(GROUPS)} and component names")


def add_parsers(sub: Any, log_level: Callable[[str], str]) -> None:
    for command in COMMANDS:
        epilog = None
        if command == CONTROLLER_MANAGER:
            listed = "\n".join(f"  {name}" for name in names(CONTROLLER_MANAGER))
            epilog = f"controllers (--controllers takes a comma list of these, or *):\n{listed}"
        p = sub.add_parser(command, help=_HELP[command], description=_HELP[command], epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--kubeconfig", required=True, help="kubeconfig of the API server (e.g. serve's)")
        p.add_argument("--config", help="cluster YAML: nodes, drivers, timings (default: the course's cluster); "
                                        "use the file the server was started with")
        if command == CONTROLLER_MANAGER:
            p.add_argument("--controllers", default="*", metavar="LIST",
                           help="comma list of the controllers to run (listed below), * for all (default)")
        if command != KUBELETS:
            p.add_argument("--leader-elect", action=argparse.BooleanOptionalAction, default=True,
                           help="elect a leader through a kube-system Lease before running (default: on)")
            p.add_argument("--identity", help="holderIdentity in the Lease (default: <hostname>_<uuid>)")
        p.add_argument("--log-level", default="INFO", type=log_level, metavar="LEVEL",
                       help="log level on stderr (default INFO)")


def parse_components(value: str) -> bool | str:
    """serve's ``--components`` as ``Cluster(components=...)`` takes it; ValueError if unknown."""
    if value in ("all", "*"):
        return True
    if value in ("none", ""):
        return False
    select(value)  # raises with the unknown names
    return value


def run(args: argparse.Namespace, load_config: Callable[[str | None], Any]) -> int:
    from .standalone import run_components

    group = args.command
    try:
        chosen = select(getattr(args, "controllers", None), group)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = load_config(args.config)
    # A component holds large informer caches, as the server holds its store: the same collector
    # settings (run_components also freezes what it has once started); why: gctune's docstring.
    tune_gc()

    def ready(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return eventloop.run(run_components(group, chosen, kubeconfig=args.kubeconfig, config=config,
                                      leader_elect=getattr(args, "leader_elect", False),
                                      identity=getattr(args, "identity", None), ready=ready))


__all__ = ["COMMANDS", "add_parsers", "add_serve_flags", "parse_components", "run"]
