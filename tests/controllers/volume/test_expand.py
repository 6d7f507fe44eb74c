"""kube-controller-manager's expand controller: the ExternalExpanding warning, once per growth."""

from __future__ import annotations

from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.components import COMPONENTS
from minikube_lite.controllers.sidecars.resizer import ExternalResizers
from minikube_lite.kubelet.volume_expansion import KubeletVolumeExpansion

WITHOUT_RESIZER = [comp.cls for comp in COMPONENTS if comp.cls not in (ExternalResizers, KubeletVolumeExpansion)]


async def expanding_events(c: Cluster) -> list[tuple[str, str, int]]:
    items = (await c.client.list("events", "default", field_selector="reason=ExternalExpanding"))["items"]
    return [(e["type"], e["source"]["component"], int(e.get("count") or 1)) for e in items
            if e["message"] == "waiting for an external controller to expand this PVC"]


@pytest.mark.parametrize("cls", ["alicloud-disk-ssd", "csi-hostpath-sc"])
async def test_growth_is_announced_once_per_request(monkeypatch: pytest.MonkeyPatch, cls: str) -> None:
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", WITHOUT_RESIZER)
    async with Cluster(clock=VirtualClock()) as c:
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": cls,
                                         "resources": {"requests": {"storage": "20Gi"}}}}
        await c.client.create("pvc", body, "default")
        await c.settle()
        assert await expanding_events(c) == []
        await c.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "30Gi"}}}}, "default")
        await c.settle()
        await c.client.patch("pvc", "data", {"metadata": {"labels": {"a": "b"}}}, "default")  # no growth
        await c.settle()
        assert await expanding_events(c) == [("Warning", "volume_expand", 1)]
        await c.client.patch("pvc", "data", {"spec": {"resources": {"requests": {"storage": "40Gi"}}}}, "default")
        await c.settle()
        assert await expanding_events(c) == [("Warning", "volume_expand", 2)]
        # Nothing resizes without the csi-resizer: the claim keeps its size.
        assert (await c.client.get("pvc", "data", "default"))["status"]["capacity"] == {"storage": "20Gi"}
