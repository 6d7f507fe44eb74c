"""The cluster's components by name and process: what ``serve``, ``scheduler``,
``controller-manager`` and ``kubelets`` each start.

Why one table: an in-process :class:`~minikube_lite.cluster.Cluster` and a standalone component
process must start the same controllers in the same order with the same arguments; only the
client (in-process or HTTP) and the drivers (local objects or :class:`~.csi.http.RemoteCsiDriver`)
differ. Every component talks to the API only through the client it is given.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import logging
import random
from collections.abc import Callable, Iterable, Mapping
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
#: Every component, in start order.
COMPONENTS: tuple[Component, ...] = (
    Component("namespace", CONTROLLER_MANAGER, f"{_C}.namespace", "NamespaceController"),
    Component("serviceaccount", CONTROLLER_MANAGER, f"{_C}.serviceaccount", "ServiceAccountController"),
    Component("clusterrole-aggregation", CONTROLLER_MANAGER, f"{_C}.clusterrole_aggregation",
              "ClusterRoleAggregationController"),
    Component("apiservice-autoregistration", CONTROLLER_MANAGER, f"{_C}.apiservice_autoregister",
              "APIServiceAutoregistration"),
    Component("pv-binder", CONTROLLER_MANAGER, f"{_C}.pv_binder", "PersistentVolumeController"),
    Component("pvc-protection", CONTROLLER_MANAGER, f"{_C}.protection", "PVCProtectionController"),
    Component("pv-protection", CONTROLLER_MANAGER, f"{_C}.protection", "PVProtectionController"),
    Component("provisioner", CONTROLLER_MANAGER, f"{_C}.provisioning.controller", "ExternalProvisioners"),
    Component("expand", CONTROLLER_MANAGER, f"{_C}.expand", "ExpandController"),
    Component("csi-resizer", CONTROLLER_MANAGER, f"{_C}.resizer", "ExternalResizers"),
    Component("capacity", CONTROLLER_MANAGER, f"{_C}.capacity", "CapacityController"),
    Component("scheduler", SCHEDULER, "minikube_lite.scheduler.scheduler", "Scheduler"),
    Component("snapshot", CONTROLLER_MANAGER, f"{_C}.snapshot", "SnapshotController"),
    Component("node-lifecycle", KUBELETS, f"{_C}.node_lifecycle", "NodeLifecycleController"),
    Component("attach-detach", CONTROLLER_MANAGER, f"{_C}.attach_detach", "AttachDetachController"),
    Component("csi-attacher", CONTROLLER_MANAGER, f"{_C}.attach_detach", "CSIAttacher"),
    Component("kubelet", KUBELETS, f"{_C}.kubelet", "Kubelet"),
    Component("kubelet-volume-expansion", KUBELETS, f"{_C}.kubelet_expansion", "KubeletVolumeExpansion"),
    Component("csi-snapshotter", CONTROLLER_MANAGER, f"{_C}.snapshot_sidecar", "SnapshotSidecar"),
    Component("replicaset", CONTROLLER_MANAGER, f"{_C}.workloads.replicaset", "ReplicaSetController"),
    Component("deployment", CONTROLLER_MANAGER, f"{_C}.workloads.deployment", "DeploymentController"),
    Component("statefulset", CONTROLLER_MANAGER, f"{_C}.workloads.statefulset", "StatefulSetController"),
    Component("daemonset", CONTROLLER_MANAGER, f"{_C}.workloads.daemonset", "DaemonSetController"),
    Component("job", CONTROLLER_MANAGER, f"{_C}.batch.job", "JobController"),
    Component("cronjob", CONTROLLER_MANAGER, f"{_C}.batch.cronjob", "CronJobController"),
    Component("ttl-after-finished", CONTROLLER_MANAGER, f"{_C}.batch.ttl", "TTLAfterFinishedController"),
    Component("endpointslice", CONTROLLER_MANAGER, f"{_C}.endpointslice", "EndpointSliceController"),
    Component("endpoints", CONTROLLER_MANAGER, f"{_C}.endpoints", "EndpointsController"),
    Component("disruption", CONTROLLER_MANAGER, f"{_C}.disruption", "DisruptionController"),
    # Last: it watches every type, and shares the informer of each type another component
    # already watches (keeping only metadata of the rest), as upstream's GC shares the factory's.
    Component("garbage-collector", CONTROLLER_MANAGER, f"{_C}.garbage_collector", "GarbageCollector"),
)

#: The components that call CSI drivers (they need the drivers, local or remote).
NEEDS_DRIVERS = frozenset({"provisioner", "csi-resizer", "capacity", "csi-attacher", "csi-snapshotter",
                           "kubelet-volume-expansion"})


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
          drivers: Mapping[str, Any] | None = None, rng: Callable[[], random.Random] | None = None) -> Any:
    """Controllers take (client, clock) and optionally the cluster's config, cloud, drivers and a
    random stream (``rng()`` is called only for a controller that takes one, so a seeded cluster
    hands out its streams in the same order whatever else changes)."""
    wanted = _params(cls)
    kwargs: dict[str, Any] = {}
    for name, value in (("config", config), ("cloud", cloud), ("drivers", drivers)):
        if name in wanted:
            kwargs[name] = value
    if rng is not None and "rng" in wanted:
        kwargs["rng"] = rng()
    return cls(client, clock, **kwargs)


@functools.lru_cache(maxsize=256)
def _params(cls: type) -> frozenset[str]:
    """The keyword parameters of a controller class (inspect.signature is slow: once per class)."""
    return frozenset(inspect.signature(cls).parameters)


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
