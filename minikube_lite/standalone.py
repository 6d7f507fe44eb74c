"""Run one group of components (scheduler, controller-manager, kubelets) as its own process.

Why: a large simulated cluster outgrows one Python process; as on a real cluster, the
components then run as separate processes against the API server, over HTTP only. The
scheduler and the controller-manager elect a leader through a Lease in ``kube-system`` (as
kube-scheduler and kube-controller-manager do with ``--leader-elect``), so a standby can run
next to the leader and take over when it dies. The controller-manager's CSI sidecars call the
drivers that live with the API server's mock cloud, under ``/csi/v1`` (see ``csi/http.py``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from .client.http import HttpClient
from .client.leaderelection import (
    CONTROLLER_MANAGER_LEASE,
    SCHEDULER_LEASE,
    LeaderElectionConfig,
    LeaderElector,
)
from .clock import RealClock
from .components import CONTROLLER_MANAGER, NEEDS_DRIVERS, SCHEDULER, Component, ComponentSet
from .config import ClusterConfig, ConfigError
from .gctune import freeze_long_lived

log = logging.getLogger(__name__)

#: Lease name and event source component of the groups that elect a leader (upstream's names).
ELECTION: dict[str, tuple[str, str]] = {
    CONTROLLER_MANAGER: (CONTROLLER_MANAGER_LEASE, "kube-controller-manager"),
    SCHEDULER: (SCHEDULER_LEASE, "default-scheduler"),
}
#: How long a component waits at start for the API server to answer discovery.
API_WAIT_SECONDS = 30.0
#: Exit status after losing the lease (kube-controller-manager exits so its supervisor restarts it).
EXIT_LEADERSHIP_LOST = 1


@dataclass
class KubeConfig:
    server: str
    token: str | None = None
    ssl_context: ssl.SSLContext | None = None


def load_kubeconfig(path: str | Path) -> KubeConfig:
    """The current context's server, bearer token and CA of a kubeconfig file."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the kubeconfig: {exc}") from None

    def named(section: str, name: str) -> dict[str, Any]:
        for item in doc.get(section) or []:
            if item.get("name") == name:
                return dict(item.get(section[:-1]) or {})
        raise ConfigError(f"{path}: no {section[:-1]} named {name!r}")

    context = named("contexts", str(doc.get("current-context") or ""))
    cluster = named("clusters", str(context.get("cluster") or ""))
    user = named("users", str(context.get("user") or "")) if context.get("user") else {}
    server = str(cluster.get("server") or "")
    if not server:
        raise ConfigError(f"{path}: the current context's cluster has no server")
    ctx: ssl.SSLContext | None = None
    if server.startswith("https"):
        if cluster.get("insecure-skip-tls-verify"):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif cluster.get("certificate-authority-data"):
            ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        elif cluster.get("certificate-authority"):
            ctx = ssl.create_default_context(cafile=cluster["certificate-authority"])
        else:
            ctx = ssl.create_default_context()
    return KubeConfig(server.rstrip("/"), user.get("token"), ctx)


async def wait_for_api(client: HttpClient, seconds: float = API_WAIT_SECONDS) -> None:
    """Discovery answers (the server may still be starting when its components are launched)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            await client.api_resources()
            return
        except (aiohttp.ClientError, OSError) as exc:
            if loop.time() > deadline:
                raise ConfigError(f"the API server at {client.base_url} does not answer: {exc}") from None
            await asyncio.sleep(0.2)


def csi_session(kube: KubeConfig, headers: dict[str, str]) -> aiohttp.ClientSession:
    """The HTTP session every sidecar of a process calls the CSI drivers through.

    Unbounded: a CSI call is held open for as long as the cloud takes (CreateVolume, attach: 2 s
    each by default), and upstream's sidecars multiplex any number of calls over one gRPC
    connection. aiohttp's default pool of 100 connections made the 100 provisioner workers share
    with the attach/detach controller's 10, so disks were created at 45 a second, not 50.
    """
    return aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(
        ssl=kube.ssl_context if kube.ssl_context is not None else False, limit=0))


async def remote_drivers(kube: KubeConfig, session: aiohttp.ClientSession, config: ClusterConfig) -> dict[str, Any]:
    """A :class:`RemoteCsiDriver` for every driver of the cluster config."""
    from .csi.http import RemoteCsiDriver

    nodes = [n.name for n in config.resolved_nodes()]
    return {dc.name: await RemoteCsiDriver.connect(session, kube.server, dc.name, nodes) for dc in config.drivers}


async def run_components(group: str, components: list[Component], *, kubeconfig: str | Path,
                         config: ClusterConfig, leader_elect: bool = True, identity: str | None = None,
                         install_signals: bool = True, ready: Callable[[str], None] | None = None) -> int:
    """Run ``components`` of ``group`` until SIGINT/SIGTERM (0) or a lost lease (1)."""
    kube = load_kubeconfig(kubeconfig)
    headers = {"Authorization": f"Bearer {kube.token}"} if kube.token else {}
    client = HttpClient(kube.server, token=kube.token, ssl_context=kube.ssl_context,
                        user_agent=f"minikube-lite/{group}")
    session = csi_session(kube, headers)
    clock = RealClock()
    stop = asyncio.Event()
    if install_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
    try:
        await wait_for_api(client)
        drivers = await remote_drivers(kube, session, config) \
            if any(c.name in NEEDS_DRIVERS for c in components) else {}
        running = ComponentSet(components, client, clock, config=config, drivers=drivers)

        async def start() -> None:
            await running.start()
            # Every informer has listed and synced: what is alive now stays alive (see gctune).
            freeze_long_lived()

        names = ", ".join(c.name for c in components) or "nothing"
        if not leader_elect or group not in ELECTION:
            await start()
            log.info("%s running: %s", group, names)
            if ready:
                ready(f"{group} running against {kube.server}: {names}")
            await stop.wait()
            await running.stop()
            return 0
        lease, source = ELECTION[group]
        election = LeaderElectionConfig.from_timings(lease, config.timings,
                                                     **({"identity": identity} if identity else {}))
        elector = LeaderElector(client, clock, election, on_started_leading=start,
                                on_stopped_leading=running.stop, component=source)
        if ready:
            ready(f"{group} {election.identity} against {kube.server}: waiting for lease "
                  f"{election.namespace}/{lease}; then runs {names}")
        task = asyncio.create_task(elector.run())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            stopper.cancel()
            if task.exception() is not None:
                log.error("%s failed while leading: %s", group, task.exception())
            else:
                log.error("leaderelection lost")
            return EXIT_LEADERSHIP_LOST
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return 0
    finally:
        await client.close()
        await session.close()


__all__ = ["run_components", "load_kubeconfig", "KubeConfig", "ELECTION", "EXIT_LEADERSHIP_LOST"]
