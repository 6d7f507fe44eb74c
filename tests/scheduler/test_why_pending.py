"""why-pending against the course's stories (examples/01-03): the scheduler's own verdict per node.

Each case runs the real cluster (scheduler, PV controller, provisioner, kubelet) on a virtual
clock, then compares the dry run with what the scheduler itself wrote: the summary must be
the FailedScheduling message of the same state, and each node's reasons the plugins' constants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from minikube_lite.client.base import ApiError
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.scheduler.plugins import nodeaffinity, tainttoleration, volumebinding, volumerestrictions
from minikube_lite.scheduler.scheduler import SCHEDULING_GATED_MESSAGE
from minikube_lite.scheduler.why_pending import FITS_NOT_BOUND, NOT_PENDING, explain
from minikube_lite.ui.stories import apply, manifests

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOPOLOGY = EXAMPLES / "03-topology-scheduling"
LOCAL = EXAMPLES / "02-local-pv"
SNAPSHOT = EXAMPLES / "01-snapshot-restore"
CP_TAINT_REASON = tainttoleration.ERR_REASON_UNTOLERATED.format("node-role.kubernetes.io/control-plane", "")
ZONE_B = "cn-hangzhou-b"


async def failed_scheduling(cluster: Cluster, pod: str) -> list[str]:
    listed = await cluster.client.list("events", "default",
                                       field_selector=f"involvedObject.name={pod},reason=FailedScheduling")
    items = sorted(listed["items"], key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [e["message"] for e in items]


def by_node(why: Any) -> dict[str, Any]:
    return {n.node: n for n in why.nodes}


async def test_zone_restricted_class_shows_taint_and_volume_reasons_per_node(cluster: Cluster) -> None:
    for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, TOPOLOGY / name)
    await cluster.settle(30)

    why = await explain(cluster.client, "default", "disk-pod-topology")

    assert why.pending and why.node_name == ""
    assert why.summary == (await failed_scheduling(cluster, "disk-pod-topology"))[-1]
    assert why.summary == why.condition["message"]  # type: ignore[index]
    nodes = by_node(why)
    assert (nodes["master"].fits, nodes["master"].plugin, nodes["master"].reasons) == \
        (False, tainttoleration.NAME, [CP_TAINT_REASON])
    for worker in ("node1", "node2"):
        assert (nodes[worker].fits, nodes[worker].plugin, nodes[worker].reasons, nodes[worker].zone) == \
            (False, volumebinding.NAME, [volumebinding.ERR_REASON_BIND_CONFLICT], ZONE_B)
    [claim] = why.claims
    assert (claim.name, claim.phase, claim.storage_class, claim.binding_mode, claim.selected_node, claim.volume) == \
        ("disk-pvc-topology", "Pending", "csi-disk-topology", "WaitForFirstConsumer", "", None)
    assert claim.allowed_topologies[0]["matchLabelExpressions"][0]["values"] == ["cn-hangzhou-d"]

    # The course's fix: the class allows zone b; the pod is deleted and created again.
    await apply(cluster.client, TOPOLOGY / "storageclass-zone-b.yaml")
    await cluster.client.delete("pods", "disk-pod-topology", "default", grace_period_seconds=0)
    await cluster.settle(30)
    await apply(cluster.client, TOPOLOGY / "pod.yaml")
    await cluster.settle(120)

    fixed = await explain(cluster.client, "default", "disk-pod-topology")
    assert not fixed.pending and fixed.phase == "Running" and fixed.nodes == []
    assert fixed.summary == NOT_PENDING.format("default", "disk-pod-topology", fixed.node_name, "Running")
    [claim] = fixed.claims
    # selected-node names the node of the first successful attempt: with the class fixed, the
    # old pod may be scheduled once more before it is deleted. Any zone-b worker will do.
    assert claim.phase == "Bound" and claim.selected_node in ("node1", "node2")
    assert claim.volume is not None and claim.volume.zones == [ZONE_B]
    disk = cluster.cloud.disks[claim.volume.volume_handle]
    assert disk.zone == ZONE_B


async def test_local_pv_pod_pinned_to_the_wrong_node(cluster: Cluster) -> None:
    """local-pv lives on node1; a pod using its claim is pinned to node2."""
    await apply(cluster.client, LOCAL / "local-pv.yaml")
    await apply(cluster.client, LOCAL / "pvc.yaml")
    pod = manifests(LOCAL / "pod.yaml")[0]
    pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node2"}
    await cluster.client.create("pods", pod, "default")
    await cluster.settle(30)

    why = await explain(cluster.client, "default", "local-pod")

    assert why.summary == (await failed_scheduling(cluster, "local-pod"))[-1]
    nodes = by_node(why)
    assert (nodes["master"].plugin, nodes["master"].reasons) == (tainttoleration.NAME, [CP_TAINT_REASON])
    assert (nodes["node1"].plugin, nodes["node1"].reasons) == (nodeaffinity.NAME, [nodeaffinity.ERR_REASON_POD])
    assert (nodes["node2"].plugin, nodes["node2"].reasons) == \
        (volumebinding.NAME, [volumebinding.ERR_REASON_BIND_CONFLICT])
    [claim] = why.claims
    assert (claim.phase, claim.storage_class, claim.binding_mode) == ("Pending", "local-storage", "WaitForFirstConsumer")


async def test_local_pv_already_bound_narrows_the_nodes_as_the_scheduler_does(cluster: Cluster) -> None:
    """Once local-pvc is bound to node1's PV, PreFilter narrows to node1; node1 fails the pod's selector."""
    for name in ("local-pv.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, LOCAL / name)
    await cluster.settle(60)
    await cluster.client.delete("pods", "local-pod", "default", grace_period_seconds=0)
    await cluster.settle(30)
    pod = manifests(LOCAL / "pod.yaml")[0]
    pod["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node2"}
    await cluster.client.create("pods", pod, "default")
    await cluster.settle(30)

    why = await explain(cluster.client, "default", "local-pod")

    assert why.summary == (await failed_scheduling(cluster, "local-pod"))[-1]
    nodes = by_node(why)
    assert nodes["node1"].reasons == [nodeaffinity.ERR_REASON_POD]
    assert nodes["node2"].reasons == nodes["master"].reasons == ["node(s) didn't satisfy plugin(s) [VolumeBinding]"]
    [claim] = why.claims
    assert claim.phase == "Bound" and claim.volume is not None and claim.volume.name == "local-pv"
    assert claim.volume.node_affinity[0]["matchExpressions"][0]["values"] == ["node1"]


async def test_snapshot_restore_pods_are_not_pending(cluster: Cluster) -> None:
    for name in ("storageclass.yaml", "snapshotclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, SNAPSHOT / name)
    await cluster.settle(120)
    await apply(cluster.client, SNAPSHOT / "snapshot.yaml")
    await cluster.settle(120)
    await apply(cluster.client, SNAPSHOT / "restore.yaml")
    await cluster.settle(120)

    why = await explain(cluster.client, "default", "restore-pod")

    assert not why.pending and why.phase == "Running"
    assert why.summary == NOT_PENDING.format("default", "restore-pod", why.node_name, "Running")
    [claim] = why.claims
    assert claim.phase == "Bound" and claim.volume is not None
    disk = cluster.cloud.disks[claim.volume.volume_handle]
    assert disk.source_snapshot_id and claim.volume.zones == [disk.zone]


async def test_missing_claim_gives_the_schedulers_prefilter_message(cluster: Cluster) -> None:
    pod = manifests(TOPOLOGY / "pod.yaml")[0]
    await cluster.client.create("pods", pod, "default")
    await cluster.settle(30)

    why = await explain(cluster.client, "default", "disk-pod-topology")

    assert why.summary == (await failed_scheduling(cluster, "disk-pod-topology"))[-1]
    missing = volumerestrictions.ERR_PVC_NOT_FOUND.format("disk-pvc-topology")
    assert {(n.plugin, tuple(n.reasons)) for n in why.nodes} == {(volumerestrictions.NAME, (missing,))}
    [claim] = why.claims
    assert not claim.exists and claim.problem == volumebinding.ERR_PVC_NOT_FOUND.format("disk-pvc-topology")


async def test_claim_of_a_missing_class_shows_the_provisioning_warning(cluster: Cluster) -> None:
    """The course's side note: while the class is gone, the PV controller warns ProvisioningFailed."""
    await apply(cluster.client, TOPOLOGY / "pvc.yaml")
    await apply(cluster.client, TOPOLOGY / "pod.yaml")
    await cluster.settle(30)

    why = await explain(cluster.client, "default", "disk-pod-topology")

    [claim] = why.claims
    assert claim.problem == 'storageclass.storage.k8s.io "csi-disk-topology" not found'
    warnings = {w["reason"]: w["message"] for w in claim.warnings}
    assert warnings["ProvisioningFailed"] == 'storageclass.storage.k8s.io "csi-disk-topology" not found'
    assert why.summary == (await failed_scheduling(cluster, "disk-pod-topology"))[-1]


async def test_missing_pod_is_the_apis_not_found(cluster: Cluster) -> None:
    with pytest.raises(ApiError) as info:
        await explain(cluster.client, "default", "nope")
    assert (info.value.code, info.value.message) == (404, 'pods "nope" not found')


async def test_dry_run_writes_nothing(cluster: Cluster) -> None:
    for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, TOPOLOGY / name)
    await cluster.settle(30)
    before = cluster.engine.store.resource_version
    await explain(cluster.client, "default", "disk-pod-topology")
    assert cluster.engine.store.resource_version == before


async def test_a_pod_that_fits_but_is_not_bound_yet() -> None:
    """No scheduler running: the dry run still says where the pod would fit."""
    async with Cluster(clock=VirtualClock(), components=False) as quiet:
        await quiet.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                                           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, "default")
        why = await explain(quiet.client, "default", "web")
    assert why.pending and why.summary == FITS_NOT_BOUND.format(2, 3)
    assert [(n.node, n.fits) for n in why.nodes] == [("master", False), ("node1", True), ("node2", True)]


async def test_gated_pod_says_so(cluster: Cluster) -> None:
    await cluster.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gated"},
                                         "spec": {"schedulingGates": [{"name": "example.com/wait"}],
                                                  "containers": [{"name": "c", "image": "nginx"}]}}, "default")
    await cluster.settle(10)
    why = await explain(cluster.client, "default", "gated")
    assert why.pending and why.summary == SCHEDULING_GATED_MESSAGE == why.condition["message"]  # type: ignore[index]
