"""The cluster's components by name and process: what ``serve``, ``scheduler``,
``controller-manager`` and ``kubelets`` each start.

Why one table: an in-process :class:`~minikube_lite.cluster.Cluster` and a standalone component
process must start the same controllers in the same order with the same arguments; only the
client (in-process or HTTP) and the drivers (local objects or :class:`~.csi.http.RemoteCsiDriver`)
differ. Every component talks to the API only through the client it is given.

The table holds the classes themselves (``Component.cls``), imported in one place,
:func:`component_classes`, the first time any class is asked for: the API server alone
(``serve --components none``) and the CLI never import the ~30 controllers (~15 MB of RSS and
~150 ms), and a cluster that starts them imports them all at once, at its start.
"""

from __future__ import annotations

import contextlib
import functools
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
    own_class: type | None = None  #: set for a class given to ``select`` that is not in the table

    @property
    def cls(self) -> type:
        """The controller class, built as ``cls(client, clock, ...)`` (see :func:`build`)."""
        return self.own_class or component_classes()[self.name]


@functools.cache
def component_classes() -> dict[str, type]:
    """Every component's class by name (imported on first use: see the module docstring)."""
    from .controllers.apiservice_autoregister import APIServiceAutoregistration
    from .controllers.batch.cronjob import CronJobController
    from .controllers.batch.job import JobController
    from .controllers.batch.ttl import TTLAfterFinishedController
    from .controllers.clusterrole_aggregation import ClusterRoleAggregationController
    from .controllers.disruption import DisruptionController
    from .controllers.endpoints import EndpointsController
    from .controllers.endpointslice import EndpointSliceController
    from .controllers.garbage_collector import GarbageCollector
    from .controllers.namespace import NamespaceController
    from .controllers.node_lifecycle import NodeLifecycleController
    from .controllers.serviceaccount import ServiceAccountController
    from .controllers.sidecars.capacity import CapacityController
    from .controllers.sidecars.provisioning.controller import ExternalProvisioners
    from .controllers.sidecars.resizer import ExternalResizers
    from .controllers.sidecars.snapshotter import SnapshotSidecar
    from .controllers.snapshot.controller import SnapshotController
    from .controllers.volume.attach_detach import AttachDetachController, CSIAttacher
    from .controllers.volume.expand import ExpandController
    from .controllers.volume.protection import PVCProtectionController, PVProtectionController
    from .controllers.volume.pv_binder import PersistentVolumeController
    from .controllers.workloads.daemonset import DaemonSetController
    from .controllers.workloads.deployment import DeploymentController
    from .controllers.workloads.replicaset import ReplicaSetController
    from .controllers.workloads.statefulset import StatefulSetController
    from .kubelet.heartbeat import NodeHeartbeat
    from .kubelet.pods import Kubelet
    from .kubelet.volume_expansion import KubeletVolumeExpansion
    from .scheduler.scheduler import Scheduler

    return {
        "namespace": NamespaceController,
        "serviceaccount": ServiceAccountController,
        "clusterrole-aggregation": ClusterRoleAggregationController,
        "apiservice-autoregistration": APIServiceAutoregistration,
        "garbage-collector": GarbageCollector,
        "pv-binder": PersistentVolumeController,
        "pvc-protection": PVCProtectionController,
        "pv-protection": PVProtectionController,
        "provisioner": ExternalProvisioners,
        "expand": ExpandController,
        "csi-resizer": ExternalResizers,
        "capacity": CapacityController,
        "scheduler": Scheduler,
        "snapshot": SnapshotController,
        "node-heartbeat": NodeHeartbeat,
        "node-lifecycle": NodeLifecycleController,
        "attach-detach": AttachDetachController,
        "csi-attacher": CSIAttacher,
        "kubelet": Kubelet,
        "kubelet-volume-expansion": KubeletVolumeExpansion,
        "csi-snapshotter": SnapshotSidecar,
        "replicaset": ReplicaSetController,
        "deployment": DeploymentController,
        "statefulset": StatefulSetController,
        "daemonset": DaemonSetController,
        "job": JobController,
        "cronjob": CronJobController,
        "ttl-after-finished": TTLAfterFinishedController,
        "endpointslice": EndpointSliceController,
        "endpoints": EndpointsController,
        "disruption": DisruptionController,
    }


#: Every component, in start order.
COMPONENTS: tuple[Component, ...] = (
    Component("namespace", CONTROLLER_MANAGER),
    Component("serviceaccount", CONTROLLER_MANAGER),
    Component("clusterrole-aggregation", CONTROLLER_MANAGER),
    Component("apiservice-autoregistration", CONTROLLER_MANAGER),
    Component("pv-binder", CONTROLLER_MANAGER),
    Component("pvc-protection", CONTROLLER_MANAGER),
    Component("pv-protection", CONTROLLER_MANAGER),
    Component("provisioner", CONTROLLER_MANAGER),
    Component("expand", CONTROLLER_MANAGER),
    Component("csi-resizer", CONTROLLER_MANAGER),
    Component("capacity", CONTROLLER_MANAGER),
    Component("scheduler", SCHEDULER),
    Component("snapshot", CONTROLLER_MANAGER),
    Component("node-heartbeat", KUBELETS),
    Component("node-lifecycle", CONTROLLER_MANAGER),
    Component("attach-detach", CONTROLLER_MANAGER),
    Component("csi-attacher", CONTROLLER_MANAGER),
    Component("kubelet", KUBELETS),
    Component("kubelet-volume-expansion", KUBELETS),
    Component("csi-snapshotter", CONTROLLER_MANAGER),
    Component("replicaset", CONTROLLER_MANAGER),
    Component("deployment", CONTROLLER_MANAGER),
    Component("statefulset", CONTROLLER_MANAGER),
    Component("daemonset", CONTROLLER_MANAGER),
    Component("job", CONTROLLER_MANAGER),
    Component("cronjob", CONTROLLER_MANAGER),
    Component("ttl-after-finished", CONTROLLER_MANAGER),
    Component("endpointslice", CONTROLLER_MANAGER),
    Component("endpoints", CONTROLLER_MANAGER),
    Component("disruption", CONTROLLER_MANAGER),
    # Last: it watches every type, and shares the informer of each type another component
    # already watches (keeping only metadata of the rest), as upstream's GC shares the factory's.
    Component("garbage-collector", CONTROLLER_MANAGER),
)

#: The components that call CSI drivers (they need the drivers, local or remote).
NEEDS_DRIVERS = frozenset({"provisioner", "csi-resizer", "capacity", "csi-attacher", "csi-snapshotter",
                           "kubelet-volume-expansion"})


def names(group: str | None = None) -> list[str]:
    return [c.name for c in COMPONENTS if group is None or c.group == group]


#: What ``select`` takes: a comma string, or an iterable of component names, group names and
#: component classes (``Cluster(components=[PersistentVolumeController, "scheduler"])``).
Selection = str | Iterable[str | type] | None


def select(spec: Selection, group: str | None = None) -> list[Component]:
    """The components a ``--controllers``/``--components`` value or a ``Cluster(components=...)``
    list names, in start order.

    ``None``, ``"*"`` and ``"all"`` mean all (of ``group``); ``"none"`` or ``""`` nothing; otherwise
    component names, component classes or, outside a group, group names. A class that is not in
    the table (a test's own controller) runs after the table's, in the order given. Unknown names
    are a ``ValueError`` naming them.
    """
    pool = [c for c in COMPONENTS if group is None or c.group == group]
    if spec is None:
        return pool
    raw = spec.split(",") if isinstance(spec, str) else list(spec)
    items = [s.strip() if isinstance(s, str) else s for s in raw]
    items = [s for s in items if s != ""]
    if not items or items == ["none"]:
        return []
    if "*" in items or "all" in items:
        return pool
    wanted: set[str] = set()
    extra: list[Component] = []
    unknown = []
    for item in items:
        if isinstance(item, type):
            known = next((c for c in pool if c.cls is item), None)
            if known is not None:
                wanted.add(known.name)
            elif group is None:
                extra.append(Component(item.__name__, CONTROLLER_MANAGER, own_class=item))
            else:
                unknown.append(item.__name__)
        elif group is None and item in GROUPS:
            wanted.update(c.name for c in pool if c.group == item)
        elif any(c.name == item for c in pool):
            wanted.add(item)
        else:
            unknown.append(str(item))
    if unknown:
        known_names = ", ".join(names(group) + ([] if group else list(GROUPS)))
        raise ValueError(f"unknown component(s) {', '.join(unknown)}; known: {known_names}")
    return [c for c in pool if c.name in wanted] + extra


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


class ComponentSet:
    """Components started together and stopped together (in reverse order)."""

    def __init__(self, components: Iterable[Component], client: Any, clock: Clock, *, config: Any = None,
                 cloud: Any = None, drivers: Mapping[str, Any] | None = None) -> None:
        self.components = list(components)
        self.client = client
        self.clock = clock
        self.config = config
        self.cloud = cloud
        self.drivers = drivers
        self.running: list[Any] = []

    async def start(self) -> None:
        for component in self.components:
            controller = build(component.cls, self.client, self.clock, config=self.config, cloud=self.cloud,
                               drivers=self.drivers)
            await controller.start()
            self.running.append(controller)
            log.info("started %s", getattr(controller, "name", component.name))

    async def stop(self) -> None:
        while self.running:
            controller = self.running.pop()
            with contextlib.suppress(Exception):
                await controller.stop()


__all__ = ["Component", "COMPONENTS", "ComponentSet", "GROUPS", "CONTROLLER_MANAGER", "SCHEDULER", "KUBELETS",
           "NEEDS_DRIVERS", "Selection", "names", "select", "build"]
