"""The component table: names, groups, selection, and an in-process cluster started with a subset."""

from __future__ import annotations

import pytest

from minikube_lite import cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.components import COMPONENTS, CONTROLLER_MANAGER, KUBELETS, SCHEDULER, names, select
from minikube_lite.components_cli import parse_components


def test_every_component_has_one_unique_name_and_a_process() -> None:
    assert len({c.name for c in COMPONENTS}) == len(COMPONENTS)
    assert names(SCHEDULER) == ["scheduler"]
    assert names(KUBELETS) == ["node-heartbeat", "kubelet", "kubelet-volume-expansion"]
    assert {"pv-binder", "provisioner", "snapshot", "csi-snapshotter", "csi-attacher",
            "node-lifecycle"} <= set(names(CONTROLLER_MANAGER))
    assert cluster_mod.CONTROLLERS == [c.target for c in COMPONENTS]


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
    async with Cluster(clock=VirtualClock(), controllers="scheduler,kubelets") as c:
        assert sorted(type(ctl).__name__ for ctl in c.controllers) == ["Kubelet", "KubeletVolumeExpansion",
                                                                  "NodeHeartbeat", "Scheduler"]
    async with Cluster(clock=VirtualClock(), controllers=False) as bare:
        assert bare.controllers == []
