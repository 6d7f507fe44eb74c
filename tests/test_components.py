"""The component table: names, groups, selection, and an in-process cluster started with a subset."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from minikube_lite import cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.components import (
    COMPONENTS,
    CONTROLLER_MANAGER,
    KUBELETS,
    SCHEDULER,
    component_classes,
    names,
    select,
)
from minikube_lite.components_cli import parse_components
from minikube_lite.controllers.volume.protection import PVCProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.scheduler.scheduler import Scheduler


def test_every_component_has_one_unique_name_and_a_process() -> None:
    assert len({c.name for c in COMPONENTS}) == len(COMPONENTS)
    assert names(SCHEDULER) == ["scheduler"]
    assert names(KUBELETS) == ["node-heartbeat", "kubelet", "kubelet-volume-expansion"]
    assert {"pv-binder", "provisioner", "snapshot", "csi-snapshotter", "csi-attacher",
            "node-lifecycle"} <= set(names(CONTROLLER_MANAGER))
    assert cluster_mod.CONTROLLERS is None  # the whole table, in its order
    assert sorted(component_classes()) == sorted(c.name for c in COMPONENTS)


def test_the_api_server_alone_imports_no_component() -> None:
    """``serve --components none`` and the CLI import the table, not the ~30 controllers (the
    kubelet's Node manifests, which the cluster registers itself, are the one kubelet module)."""
    code = ("import sys, minikube_lite.cluster, minikube_lite.cli; "
            "print(sorted(m for m in sys.modules if m.startswith(('minikube_lite.controllers', "
            "'minikube_lite.scheduler', 'minikube_lite.kubelet.')) and m != 'minikube_lite.kubelet.node'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_served_api_server_alone_imports_no_component_either() -> None:
    """Started and serving (the live map and the why-pending route mounted), the API server alone
    still has no scheduler, controller or kubelet module loaded: they cost its RSS budget."""
    code = ("import asyncio, sys\n"
            "from minikube_lite import Cluster\n"
            "async def main():\n"
            "    async with Cluster(serve=True, port=0, components=False):\n"
            "        pass\n"
            "asyncio.run(main())\n"
            "print(sorted(m for m in sys.modules if m.startswith(('minikube_lite.controllers', "
            "'minikube_lite.scheduler', 'minikube_lite.kubelet.')) and m != 'minikube_lite.kubelet.node'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


async def test_a_full_cluster_starts_every_class_of_the_table() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        assert [type(x) for x in c.controllers] == [component_classes()[comp.name] for comp in COMPONENTS]


def test_selection_by_name_group_star_and_none() -> None:
    assert select(None, CONTROLLER_MANAGER) == select("*", CONTROLLER_MANAGER) == \
        [c for c in COMPONENTS if c.group == CONTROLLER_MANAGER]
    assert [c.name for c in select("snapshot,pv-binder", CONTROLLER_MANAGER)] == ["pv-binder", "snapshot"]
    assert [c.name for c in select("kubelets,scheduler")] == ["scheduler", "node-heartbeat", "kubelet",
                                                              "kubelet-volume-expansion"]
    assert select("none") == [] and select("") == []
    with pytest.raises(ValueError, match="unknown component.*scheduler; known: namespace"):
        select("scheduler", CONTROLLER_MANAGER)  # the scheduler is not a controller-manager controller
    with pytest.raises(ValueError, match="unknown component.*nope"):
        parse_components("pv-binder,nope")
    assert parse_components("all") is True and parse_components("none") is False


async def test_a_cluster_runs_only_the_chosen_components() -> None:
    async with Cluster(clock=VirtualClock(), components="scheduler,kubelets") as c:
        assert sorted(type(ctl).__name__ for ctl in c.controllers) == ["Kubelet", "KubeletVolumeExpansion",
                                                                  "NodeHeartbeat", "Scheduler"]
    async with Cluster(clock=VirtualClock(), components=False) as bare:
        assert bare.controllers == []


def test_selection_by_class_mixes_with_names_and_keeps_the_start_order() -> None:
    chosen = select([Scheduler, "pv-binder", PVCProtectionController])
    assert [c.name for c in chosen] == ["pv-binder", "pvc-protection", "scheduler"]
    assert [c.cls for c in chosen] == [PersistentVolumeController, PVCProtectionController, Scheduler]
    assert [c.name for c in select([Scheduler], SCHEDULER)] == ["scheduler"]
    with pytest.raises(ValueError, match="unknown component.*Scheduler; known: namespace"):
        select([Scheduler], CONTROLLER_MANAGER)


class CountingController:
    """A controller of a test's own, not in the table: it runs after the table's components."""

    def __init__(self, client: Any, clock: Any) -> None:
        self.client = client
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def busy(self) -> bool:
        """Nothing queued (what ``cluster.settle()`` asks every controller)."""
        return False


async def test_a_cluster_given_classes_runs_just_those() -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "alicloud-disk-ssd",
                      "resources": {"requests": {"storage": "20Gi"}}}}
    async with Cluster(clock=VirtualClock(), components=[CountingController, PVCProtectionController,
                                                         PersistentVolumeController]) as c:
        assert [type(ctl) for ctl in c.controllers] == [PersistentVolumeController, PVCProtectionController,
                                                        CountingController]
        assert c.controllers[-1].started
        await c.client.create("pvc", claim, "default")
        await c.settle()
        created = await c.client.get("pvc", "data", "default")
        # The PV controller and the protection controller ran: the claim waits for its external
        # provisioner (not running) and carries the protection finalizer.
        assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
        assert created["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"] == \
            "diskplugin.csi.alibabacloud.com"
        assert created["status"]["phase"] == "Pending"
        assert (await c.client.list("persistentvolumes"))["items"] == []
