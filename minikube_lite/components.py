"""The cluster's components by name and process: what ``serve``, ``scheduler``,
``controller-manager`` and ``kubelets`` each start.

Why one table: an in-process :class:`~minikube_lite.cluster.Cluster` and a standalone component
process must start the same controllers in the same order with the same arguments; only the
client (in-process or HTTP) and the drivers (local objects or :class:`~.csi.http.RemoteCsiDriver`)
differ. Every component talks to the API only through the client it is given.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import Clock

log = logging.getLogger(__name__)

CONTROLLER_MANAGER = "controller-manager"
SCHEDULER = "scheduler"
KUBELETS = "kubelets"
GROUPS = (CONTROLLER_MANAGER, SCHEDULER, KUBELETS)


@dataclass(frozen=True)
class Component:
    name: str      #: the name ``--controllers`` / ``--components`` take
    group: str     #: which standalone process runs it
    module: str
    cls: str

    @property
    def target(self) -> tuple[str, str]:
        return (self.module, self.cls)


_C = "minikube_lite.controllers"
#: Every component, in start order (the order ``Cluster`` has always used).
COMPONENTS: tuple[Component, ...] = (
    Component("namespace", CONTROLLER_MANAGER, f"{_C}.namespace", "NamespaceController"),
    Component("serviceaccount", CONTROLLER_MANAGER, f"{_C}.serviceaccount", "ServiceAccountController"),
    Component("garbage-collector", CONTROLLER_MANAGER, f"{_C}.garbage_collector", "GarbageCollector"),
    Component("pv-binder", CONTROLLER_MANAGER, f"{_C}.pv_binder", "PersistentVolumeController"),
    Component("pvc-protection", CONTROLLER_MANAGER, f"{_C}.protection", "PVCProtectionController"),
    Component("pv-protection", CONTROLLER_MANAGER, f"{_C}.protection", "PVProtectionController"),
    Component("provisioner", CONTROLLER_MANAGER, f"{_C}.provisioner", "ExternalProvisioners"),
    Component("capacity", CONTROLLER_MANAGER, f"{_C}.capacity", "CapacityController"),
    Component("scheduler", SCHEDULER, "minikube_lite.scheduler.scheduler", "Scheduler"),
    Component("snapshot", CONTROLLER_MANAGER, f"{_C}.snapshot", "SnapshotController"),
    Component("node-lifecycle", KUBELETS, f"{_C}.node_lifecycle", "NodeLifecycleController"),
    Component("attach-detach", CONTROLLER_MANAGER, f"{_C}.attach_detach", "AttachDetachController"),
    Component("csi-attacher", CONTROLLER_MANAGER, f"{_C}.attach_detach", "CSIAttacher"),
    Component("kubelet", KUBELETS, f"{_C}.kubelet", "Kubelet"),
    Component("csi-snapshotter", CONTROLLER_MANAGER, f"{_C}.snapshot_sidecar", "SnapshotSidecar"),
    Component("replicaset", CONTROLLER_MANAGER, f"{_C}.workloads.replicaset", "ReplicaSetController"),
    Component("deployment", CONTROLLER_MANAGER, f"{_C}.workloads.deployment", "DeploymentController"),
    Component("statefulset", CONTROLLER_MANAGER, f"{_C}.workloads.statefulset", "StatefulSetController"),
    Component("daemonset", CONTROLLER_MANAGER, f"{_C}.workloads.daemonset", "DaemonSetController"),
)

#: The components that call CSI drivers (they need the drivers, local or remote).
NEEDS_DRIVERS = frozenset({"provisioner", "capacity", "csi-attacher", "csi-snapshotter"})


def names(group: str | None = None) -> list[str]:
    return [c.name for c in COMPONENTS if group is None or c.group == group]


def select(spec: str | Iterable[str] | None, group: str | None = None) -> list[Component]:
    """The components a ``--controllers``/``--components`` value names, in start order.

    ``None``, ``"*"`` and ``"all"`` mean all (of ``group``); ``"none"`` or ``""`` nothing; otherwise
    a comma list of component names or, outside a group, group names. Unknown names are a
    ``ValueError`` naming them.
    """
    pool = [c for c in COMPONENTS if group is None or c.group == group]
    if spec is None:
        return pool
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not items or items == ["none"]:
        return []
    if "*" in items or "all" in items:
        return pool
    wanted: set[str] = set()
    unknown = []
    for item in items:
        if group is None and item in GROUPS:
            wanted.update(c.name for c in pool if c.group == item)
        elif any(c.name == item for c in pool):
            wanted.add(item)
        else:
            unknown.append(item)
    if unknown:
        known = ", ".join(names(group) + ([] if group else list(GROUPS)))
        raise ValueError(f"unknown component(s) {', '.join(unknown)}; known: {known}")
    return [c for c in pool if c.name in wanted]


def build(cls: type, client: Any, clock: Clock, *, config: Any = None, cloud: Any = None,
          drivers: Mapping[str, Any] | None = None) -> Any:
    """Controllers take (client, clock) and optionally the cluster's config, cloud and drivers."""
    params = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = {}
    for name, value in (("config", config), ("cloud", cloud), ("drivers", drivers)):
        if name in params:
            kwargs[name] = value
    return cls(client, clock, **kwargs)


def load(target: tuple[str, str]) -> type:
    module, name = target
    cls: type = getattr(importlib.import_module(module), name)
    return cls


class ComponentSet:
    """Components started together and stopped together (in reverse order)."""

    def __init__(self, targets: Iterable[tuple[str, str]], client: Any, clock: Clock, *, config: Any = None,
                 cloud: Any = None, drivers: Mapping[str, Any] | None = None) -> None:
        self.targets = list(targets)
        self.client = client
        self.clock = clock
        self.config = config
        self.cloud = cloud
        self.drivers = drivers
        self.running: list[Any] = []

    async def start(self) -> None:
        for target in self.targets:
            controller = build(load(target), self.client, self.clock, config=self.config, cloud=self.cloud,
                               drivers=self.drivers)
            await controller.start()
            self.running.append(controller)
            log.info("started %s", getattr(controller, "name", target[1]))

    async def stop(self) -> None:
        while self.running:
            controller = self.running.pop()
            with contextlib.suppress(Exception):
                await controller.stop()


__all__ = ["Component", "COMPONENTS", "ComponentSet", "GROUPS", "CONTROLLER_MANAGER", "SCHEDULER", "KUBELETS",
           "NEEDS_DRIVERS", "names", "select", "build", "load"]
