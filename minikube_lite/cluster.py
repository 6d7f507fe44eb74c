"""One cluster: clock, store, API server, cloud, drivers and controllers, wired from a config.

``async with Cluster(config) as cluster:`` gives a running cluster; ``serve=True`` also puts
the API on a port (127.0.0.1) and writes a kubeconfig. ``await cluster.settle()`` runs every
controller until nothing is left to do, moving a virtual clock through due timers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import logging
import random
import secrets
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import yaml
from aiohttp import web

from .apiserver.engine import ApiEngine
from .apiserver.errors import ApiError
from .apiserver.resources import crd
from .apiserver.storage.backend import MEMORY, open_backend
from .apiserver.wire.server import ApiServer
from .client.inprocess import InProcessClient
from .client.manifests import DEFAULT_FIELD_MANAGER, Manifests
from .clock import Clock, RealClock, VirtualClock
from .components import COMPONENTS, Selection, build, select
from .config import ClusterConfig
from .kubelet.node import node_manifests
from .logs import ComponentLogs, PodLogSource, install_capture, klog

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

# The Service every cluster has for its API server (kube-apiserver's bootstrap controller).
KUBERNETES_SERVICE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
    "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
             "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
             "sessionAffinity": "None"},
}

APISERVER_PORT = 6443


def apiserver_endpoints(nodes: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The ``kubernetes`` Service's Endpoints and EndpointSlice, as kube-apiserver's endpoint
    reconciler writes them: the API server's advertised address (the control-plane node's
    InternalIP, as kubeadm advertises it) on port 6443."""
    from .kube.names import CONTROL_PLANE_LABEL

    control = [n for n in nodes if CONTROL_PLANE_LABEL in ((n.get("metadata") or {}).get("labels") or {})]
    addresses = [a.get("address") for n in (control or nodes[:1])
                 for a in (n.get("status") or {}).get("addresses") or [] if a.get("type") == "InternalIP"]
    ips = sorted({str(a) for a in addresses if a}) or ["127.0.0.1"]
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                 "subsets": [{"addresses": [{"ip": ip} for ip in ips],
                              "ports": [{"name": "https", "port": APISERVER_PORT, "protocol": "TCP"}]}]}
    endpoint_slice = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"name": "kubernetes", "labels": {"kubernetes.io/service-name": "kubernetes"}},
                      "addressType": "IPv4",
                      "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
                      "ports": [{"name": "https", "port": APISERVER_PORT, "protocol": "TCP"}]}
    return [("endpoints", endpoints), ("endpointslices.discovery.k8s.io", endpoint_slice)]


# The component whose log a controller writes to (the kube-system pod that stands for it);
# every other controller is part of kube-controller-manager.
LOG_COMPONENTS = {"Scheduler": "kube-scheduler", "ExternalProvisioners": "csi-provisioner",
                  "CapacityController": "csi-provisioner", "SnapshotController": "snapshot-controller",
                  "SnapshotSidecar": "csi-snapshotter", "CSIAttacher": "csi-attacher", "Kubelet": "kubelet"}
DEFAULT_LOG_COMPONENT = "kube-controller-manager"

# The controller classes a cluster started with ``components=True`` runs, in start order; each
# talks only through the client. ``None`` means the whole table, ``components.COMPONENTS``, which
# names them and says which process runs each (a test may set a list of classes here instead).
CONTROLLERS: list[type] | None = None


def builtin_crds() -> list[dict[str, Any]]:
    """The snapshot.storage.k8s.io CRDs installed at start, as in a cluster with external-snapshotter.

    Parsed once per process (YAML is slow); every call returns fresh copies.
    """
    return orjson.loads(_builtin_crds_json())  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def _default_config() -> ClusterConfig:
    return ClusterConfig.default()


@functools.lru_cache(maxsize=1)
def _builtin_crds_json() -> bytes:
    from .openapi import snapshot_crds

    return orjson.dumps([doc for doc in snapshot_crds() if doc.get("kind") == "CustomResourceDefinition"])


def connect_host(host: str) -> str:
    """The address a client on this machine dials for a server bound to ``host``.

    A wildcard bind address (0.0.0.0, ::) is where a server listens, not a destination: the
    URL and the kubeconfig name the loopback address instead, and IPv6 literals get brackets.
    """
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class Cluster:
    def __init__(self, config: ClusterConfig | None = None, *, clock: Clock | None = None, serve: bool = False,
                 host: str = "127.0.0.1", port: int = 0, token: str | None = None, tls: bool = False,
                 kubeconfig_path: str | Path | None = None, components: bool | Selection = True,
                 history_size: int = 1000, kubeconfig_server: str | None = None,
                 seed: int | None = None, storage: str = MEMORY) -> None:
        self.config = config or _default_config().model_copy(deep=True)
        self.clock: Clock = clock or RealClock()
        #: ``seed`` makes every random choice of the cluster reproducible: generateName
        #: suffixes, uids, scheduler tie-breaks, provisioner identities. Each component draws
        #: its own stream from this root (``child_rng``) in a fixed order, so one component's
        #: draws never shift another's.
        self.seed = seed
        self.rng = random.Random(seed)
        #: ``memory`` or ``etcd://HOST:PORT[/PREFIX]`` (see apiserver/storage/backend.py).
        self.storage = storage
        self.engine = ApiEngine(self.clock, store=open_backend(storage, history_size=history_size),
                                rng=self.child_rng(), seeded_uids=seed is not None)
        crd.install(self.engine)
        self._register_admission()
        self.client = InProcessClient(self.engine)
        self.serve = serve
        self.host = host
        self.port = port
        self.token = token
        self.tls = tls
        self.kubeconfig_path: Path | None = Path(kubeconfig_path) if kubeconfig_path else None
        #: The server address written into the kubeconfig when clients reach the API by another
        #: address than the one it listens on (a published container port); default: ``url``.
        self.kubeconfig_server = kubeconfig_server
        #: True: every component; False/"none": none (an API server and cloud for components
        #: running elsewhere); else what ``components.select`` takes: component classes
        #: (``[PersistentVolumeController, Scheduler]``), component names or group names.
        self.components: bool | Selection = components
        self.cloud: Any = None
        self.drivers: dict[str, Any] = {}
        self.controllers: list[Any] = []
        self.url = ""
        self.ca_pem: bytes | None = None
        self._runner: web.AppRunner | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self.server: ApiServer | None = None
        install_capture()
        self.logs = ComponentLogs(self.clock.now)
        self._nodes: list[dict[str, Any]] = []

    def child_rng(self) -> random.Random:
        """A random stream of its own for one component, drawn from the cluster's root ``rng``."""
        return random.Random(self.rng.getrandbits(64))

    def _register_admission(self) -> None:
        from .apiserver.admission.volumes import install as install_storage

        install_storage(self.engine)

    # ------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Cluster:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self.engine.store.start()
        await self._bootstrap_objects()
        from .cloud import MockCloud

        self.cloud = MockCloud.for_cluster(self.config, self.clock)
        from .csi.registration import register_drivers
        from .csi.registry import build_drivers

        self.drivers = build_drivers(self.config, self.cloud)
        await register_drivers(self.client, self.config, self.drivers)
        await self._create_config_objects()
        self._log_startup()
        if self.components is not False:
            await self._start_controllers()
            if self.config.systemPods:
                # Only with the components they stand for running; created after the controllers
                # start, so the work on them happens after start() returns.
                await self._create_system_pods()
        if self.serve:
            await asyncio.create_task(self._serve(), context=self.logs.run_as("kube-apiserver"))

    async def _ensure(self, resource: str, obj: dict[str, Any], namespace: str | None = None,
                      **options: Any) -> dict[str, Any]:
        """Create a bootstrap object; on a persistent store one kept from an earlier start stays
        (and is what this returns)."""
        try:
            return await self.client.create(resource, obj, namespace, **options)
        except ApiError as err:
            if err.code != 409 or self.storage == MEMORY:
                raise
            return await self.client.get(resource, obj["metadata"]["name"], namespace)

    async def _bootstrap_objects(self) -> None:
        for ns in SYSTEM_NAMESPACES:
            await self._ensure("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            await self._ensure("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                   "metadata": {"name": "default"}}, ns)
        await self._ensure("services", KUBERNETES_SERVICE, "default", field_manager="kube-apiserver")
        for crd_obj in builtin_crds():
            await self._ensure("customresourcedefinitions", crd_obj)
        await self._create_apiserver_defaults()
        nodes = node_manifests(self.config, self.clock)
        for node in nodes:
            self._nodes.append(await self._ensure("nodes", node, field_manager="kubelet"))
        for resource, obj in apiserver_endpoints(nodes):
            await self._ensure(resource, obj, "default", field_manager="kube-apiserver")

    async def _create_apiserver_defaults(self) -> None:
        """The apiserver's start objects: system PriorityClasses, RBAC defaults, APF, APIServices."""
        from .apiserver.bootstrap import install

        install(self.engine, keep_existing=self.storage != MEMORY)

    async def _create_config_objects(self) -> None:
        from .client.inprocess import resolve

        for obj in self.config.objects:
            rt = self.engine.registry.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if rt is None:
                raise ValueError(f"config objects: unknown kind {obj.get('apiVersion')}/{obj.get('kind')}")
            resource = f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural
            resolve(self.engine, resource)
            ns = (obj.get("metadata") or {}).get("namespace") or ("default" if rt.namespaced else None)
            await self._ensure(resource, obj, ns)

    async def _create_system_pods(self) -> None:
        """The kube-system objects of the in-process components (see ``system_pods``)."""
        from . import system_pods
        from .kube.names import CONTROL_PLANE_LABEL

        control = [n for n in self._nodes if CONTROL_PLANE_LABEL in (n["metadata"].get("labels") or {})]
        if control:
            node = control[0]
            ip = next((a.get("address") for a in (node.get("status") or {}).get("addresses") or []
                       if a.get("type") == "InternalIP"), "127.0.0.1")
            for pod in system_pods.control_plane_pods(node, self.clock.now(), str(ip)):
                await self._ensure("pods", pod, "kube-system", field_manager="kubelet")
        disk = next((d.name for d in self.config.drivers if d.type == "cloud-disk"), "")
        for resource, obj in system_pods.addon_objects(disk):
            await self._ensure(resource, obj, "kube-system", field_manager="kubeadm")

    def _log_startup(self) -> None:
        from .system_pods import startup_lines

        for component, lines in startup_lines().items():
            ctx = self.logs.run_as(component)
            for line in lines:
                ctx.run(klog.info, "%s", line)

    def log_source(self) -> PodLogSource:
        """What ``kubectl logs`` of the kube-system pods reads: each component's captured lines."""
        from .system_pods import LOGGING_CONTAINERS

        return PodLogSource(self.logs, LOGGING_CONTAINERS)

    def controller_classes(self) -> list[type]:
        """The classes this cluster starts, in start order (``components``)."""
        if self.components is True:
            return list(CONTROLLERS) if CONTROLLERS is not None else [c.cls for c in COMPONENTS]
        if self.components is False:
            return []
        return [c.cls for c in select(self.components)]

    async def _start_controllers(self) -> None:
        for cls in self.controller_classes():
            controller = _build_controller(cls, self)
            # Started in the component's logging context, which the tasks it starts inherit.
            ctx = self.logs.run_as(LOG_COMPONENTS.get(cls.__name__, DEFAULT_LOG_COMPONENT))
            await asyncio.create_task(controller.start(), context=ctx)
            self.controllers.append(controller)

    async def _serve(self) -> None:
        server_address = f"{self.host}:{self.port}"
        from .cloud.http import cloud_app
        from .csi.http import csi_app
        from .ui import PUBLIC_PATHS, ui_apps

        # The cloud and its CSI drivers live with the API server; components in other processes
        # call the drivers under /csi/v1 (see csi/http.py).
        extra: dict[str, web.Application] = {"/cloud/v1": cloud_app(self.cloud), "/csi/v1": csi_app(self.drivers)}
        extra.update(ui_apps(self.client, self.clock))   # the live map and why-pending (the API has no scheduler)
        self.server = ApiServer(self.engine, token=self.token, server_address=server_address, extra_apps=extra,
                                public_paths=PUBLIC_PATHS, log_source=self.log_source())
        self._runner = web.AppRunner(self.server.app, access_log=None, handle_signals=False,
                                    shutdown_timeout=1.0, handler_cancellation=True)
        # handler_cancellation (above): a client that hangs up ends its request, as a cancelled
        # request context does in kube-apiserver, so an abandoned watch does not linger.
        await self._runner.setup()
        ssl_ctx = self._ssl_context() if self.tls else None
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_ctx, backlog=1024)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self.port
        self.port = port
        self.server.server_address = f"{self.host}:{port}"
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://{connect_host(self.host)}:{port}"
        self.server.ready = True
        if self.kubeconfig_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="minikube-lite-")
            self.kubeconfig_path = Path(self._tmpdir.name) / "kubeconfig.yaml"
        self.write_kubeconfig(self.kubeconfig_path)

    def _ssl_context(self) -> ssl.SSLContext:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert(self.host, "localhost", "127.0.0.1")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        self.ca_pem = ca.cert_pem.bytes()
        return ctx

    def kubeconfig(self) -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.kubeconfig_server or self.url}
        if self.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        user: dict[str, Any] = {"token": self.token} if self.token else {"token": "minikube-lite"}
        return {"apiVersion": "v1", "kind": "Config", "preferences": {},
                "clusters": [{"name": "minikube-lite", "cluster": cluster}],
                "users": [{"name": "minikube-lite", "user": user}],
                "contexts": [{"name": "minikube-lite",
                              "context": {"cluster": "minikube-lite", "user": "minikube-lite", "namespace": "default"}}],
                "current-context": "minikube-lite"}

    def write_kubeconfig(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(), sort_keys=False))
        return target

    async def stop(self) -> None:
        for controller in reversed(self.controllers):
            with contextlib.suppress(Exception):
                await controller.stop()
        self.controllers.clear()
        self.engine.store.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.cloud is not None:
            with contextlib.suppress(Exception):
                self.cloud.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    # ------------------------------------------------------------------------- settle

    def _fingerprint(self) -> tuple[Any, ...]:
        busy = tuple(c.busy() for c in self.controllers)
        pending_watch = self.engine.store.pending_watch_events()
        return (self.engine.store.resource_version, busy, pending_watch, self.clock.next_deadline())

    async def _quiesce(self, stable_rounds: int = 8, max_rounds: int = 20000) -> None:
        last: tuple[Any, ...] | None = None
        stable = 0
        for _ in range(max_rounds):
            await asyncio.sleep(0)
            fp = self._fingerprint()
            idle = not any(fp[1]) and not fp[2]
            # Stable and idle: done. Stable but busy with a timer pending: the busy work waits on
            # the clock, so only advancing time can make progress.
            waiting_on_clock = not fp[2] and fp[3] is not None
            if fp == last and (idle or waiting_on_clock):
                stable += 1
                if stable >= stable_rounds:
                    return
            else:
                stable = 0
            last = fp

    async def settle(self, timeout: float = 600.0) -> None:
        """Run controllers until nothing is pending; on a virtual clock, jump through due timers.

        ``timeout`` bounds how far (in cluster seconds) time may be advanced.
        """
        limit = self.clock.now() + timeout
        while True:
            await self._quiesce()
            due = self.clock.next_deadline()
            if due is None:
                return
            if isinstance(self.clock, VirtualClock):
                if due > limit:
                    return
                await self.clock.advance_to(due)
            else:
                wait = due - self.clock.monotonic()
                if self.clock.now() + max(wait, 0) > limit:
                    return
                await asyncio.sleep(max(wait, 0.001))

    # ------------------------------------------------------------------- test helpers

    async def apply(self, manifests: Manifests, namespace: str | None = None, *,
                    field_manager: str = DEFAULT_FIELD_MANAGER, force: bool = False,
                    dry_run: bool = False) -> list[dict[str, Any]]:
        """Server-side apply a dict, a list of dicts, YAML text, or a file/folder path; the applied objects.

        As ``kubectl apply --server-side``: create or update, through the API's apply path, owned
        by ``field_manager``; namespaced objects without a namespace go to ``namespace`` or
        ``default``; a CRD applied earlier in the same call serves its kind to later documents.
        A refused document raises :class:`~minikube_lite.client.manifests.ManifestError`.
        """
        return await self.client.apply(manifests, namespace, field_manager=field_manager, force=force,
                                       dry_run=dry_run)

    async def wait_for(self, kind: str, name: str, *, condition: str | None = None, phase: str | None = None,
                       predicate: Callable[[dict[str, Any]], Any] | None = None, namespace: str | None = None,
                       timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the object holds ``condition`` (``"Ready"``, ``"Complete"``, ``"Ready=False"``),
        ``phase`` (``"Bound"``) and ``predicate(obj)``; every one given must hold (none: it exists).

        On a virtual clock this runs the controllers and moves time (``timeout`` in cluster
        seconds); on the real clock it polls. Returns the object; raises
        :class:`~minikube_lite.wait.WaitTimeout` with the object's status and recent events.
        """
        from .client.inprocess import resolve
        from .wait import Expectation, wait_for

        rt = resolve(self.engine, kind)
        ns = (namespace or "default") if rt.namespaced else None
        return await wait_for(self.client, self.clock, self._quiesce, kind, name,
                              Expectation(condition=condition, phase=phase, predicate=predicate), ns, timeout)


def _build_controller(cls: type, cluster: Cluster) -> Any:
    """Controllers take (client, clock) and optionally the cluster's config, cloud, drivers and rng."""
    return build(cls, cluster.client, cluster.clock, config=cluster.config, cloud=cluster.cloud,
                 drivers=cluster.drivers, rng=cluster.child_rng)



def warm_up() -> None:
    """Build once the process-wide data every cluster start reuses, outside any test's time.

    The first cluster of a process imports the controller modules and builds shared,
    immutable data (parsed schemas, the built-in CRDs, the default config); later clusters
    reuse it. This runs one throwaway cluster to the end on an event loop of its own, so it
    must be called with no event loop running (the pytest plugin calls it after collection).
    """

    async def run() -> None:
        async with Cluster(clock=VirtualClock(), seed=0) as cluster:
            await cluster.settle()

    asyncio.run(run())


def new_token() -> str:
    return secrets.token_urlsafe(24)
