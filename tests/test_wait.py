"""``cluster.wait_for``: conditions, phases and predicates on virtual and real clocks; telling timeouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.wait import WaitTimeout, condition_holds

PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
       "spec": {"containers": [{"name": "app", "image": "nginx"}]}}

RUN_ONCE_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "once"},
                         "spec": {"restartPolicy": "Never",
                                  "containers": [{"name": "c", "image": "busybox"}]}}


async def test_waits_for_a_phase_moving_the_virtual_clock(cluster: Cluster) -> None:
    start = cluster.clock.now()
    await cluster.apply(PVC)
    pvc = await cluster.wait_for("pvc", "data", phase="Bound")
    assert pvc["status"]["phase"] == "Bound"
    assert pvc["spec"]["volumeName"].startswith("pvc-")
    assert cluster.clock.now() > start   # provisioning took cluster time, not wall time


async def test_waits_for_a_condition_and_a_predicate(cluster: Cluster) -> None:
    await cluster.apply(POD)
    pod = await cluster.wait_for("pods", "app", condition="Ready")
    assert condition_holds(pod, "Ready") and pod["status"]["phase"] == "Running"
    pod = await cluster.wait_for("Pod", "app", predicate=lambda p: bool(p["spec"].get("nodeName")),
                                 condition="PodScheduled")
    assert pod["spec"]["nodeName"] in {"node1", "node2"}


async def test_a_predicate_reading_a_field_not_there_yet_means_not_yet(cluster: Cluster) -> None:
    await cluster.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                  "template": {"metadata": {"labels": {"app": "web"}},
                                               "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    deployment = await cluster.wait_for("deployments", "web",
                                        predicate=lambda d: d["status"]["availableReplicas"] == 2)
    assert deployment["status"]["availableReplicas"] == 2


async def test_a_timeout_shows_the_status_and_the_recent_events(cluster: Cluster) -> None:
    too_small = dict(PVC, metadata={"name": "tiny"},
                     spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})
    await cluster.apply(too_small)
    with pytest.raises(WaitTimeout) as err:
        await cluster.wait_for("pvc", "tiny", phase="Bound", timeout=30)
    message = str(err.value)
    assert message.startswith("timed out after 30 cluster seconds waiting for phase=Bound on pvc/tiny "
                              "in namespace default")
    assert "phase: Pending" in message
    assert "Warning ProvisioningFailed" in message and "out of the range [20, 32768]" in message
    assert err.value.obj is not None and err.value.obj["status"]["phase"] == "Pending"
    assert any(e["reason"] == "ProvisioningFailed" for e in err.value.events)


async def test_waiting_on_an_idle_cluster_gives_up_at_once(cluster: Cluster) -> None:
    with pytest.raises(WaitTimeout) as err:
        await cluster.wait_for("configmaps", "never", timeout=3600)
    assert str(err.value).startswith("gave up waiting for existence on configmaps/never in namespace default: "
                                     "the cluster is idle")
    assert "the object does not exist" in str(err.value)
    assert err.value.obj is None
    assert cluster.clock.now() - cluster.clock._start < 3600   # type: ignore[attr-defined]


async def test_condition_with_an_explicit_status(cluster: Cluster) -> None:
    await cluster.apply(RUN_ONCE_POD)
    pod: dict[str, Any] = await cluster.wait_for("pods", "once", condition="PodScheduled=true")
    assert condition_holds(pod, "PodScheduled=True")
    assert not condition_holds(pod, "PodScheduled=False")
    assert not condition_holds(pod, "NoSuchCondition")


async def test_wait_for_on_a_served_cluster_polls_the_real_clock(tmp_path: Path) -> None:
    async with Cluster(serve=True, kubeconfig_path=tmp_path / "kubeconfig.yaml") as served:
        await served.apply(PVC)
        pvc = await served.wait_for("persistentvolumeclaims", "data", phase="Bound", timeout=30)
        assert pvc["status"]["phase"] == "Bound"
        with pytest.raises(WaitTimeout) as err:
            await served.wait_for("pvc", "data", phase="Lost", timeout=0.2)
        assert str(err.value).startswith("timed out after 0.2 seconds waiting for phase=Lost on pvc/data")
        assert "Normal ProvisioningSucceeded" in str(err.value)
