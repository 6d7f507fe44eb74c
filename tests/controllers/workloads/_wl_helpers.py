"""Builders and a cluster factory for the workload controller tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.components import COMPONENTS
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.workloads.daemonset import DaemonSetController
from minikube_lite.controllers.workloads.deployment import DeploymentController
from minikube_lite.controllers.workloads.replicaset import ReplicaSetController
from minikube_lite.controllers.workloads.statefulset import StatefulSetController

JSON = dict[str, Any]

WORKLOAD_CONTROLLERS = [
    ReplicaSetController,
    DeploymentController,
    StatefulSetController,
    DaemonSetController,
]


@asynccontextmanager
async def workload_cluster(monkeypatch: pytest.MonkeyPatch, config: ClusterConfig | None = None
                           ) -> AsyncIterator[Cluster]:
    """The default cluster (scheduler, storage, kubelet) plus the workload controllers."""
    base = [comp.cls for comp in COMPONENTS if comp.cls not in WORKLOAD_CONTROLLERS]
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [*base, *WORKLOAD_CONTROLLERS])
    async with Cluster(config, clock=VirtualClock()) as c:
        await c.settle()
        yield c


def pod_template(app: str, image: str = "nginx:1.27") -> JSON:
    return {"metadata": {"labels": {"app": app}},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def deployment(name: str, replicas: int = 3, image: str = "nginx:1.27", **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": pod_template(name, image), **spec}}


def replicaset(name: str, replicas: int = 3, **spec: Any) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": pod_template(name), **spec}}


async def pods_of(cluster: Cluster, app: str, ns: str = "default", *, active: bool = True) -> list[JSON]:
    items = (await cluster.client.list("pods", ns, label_selector=f"app={app}"))["items"]
    if active:
        items = [p for p in items if not p["metadata"].get("deletionTimestamp")]
    return sorted(items, key=lambda p: p["metadata"]["name"])


async def events_for(cluster: Cluster, name: str, ns: str = "default") -> list[tuple[str, str]]:
    items = (await cluster.client.list("events", ns))["items"]
    items.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [(e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]
