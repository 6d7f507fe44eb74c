"""Attach/detach controller + csi-attacher against the cloud-disk CSI driver and the mock cloud:
VolumeAttachment naming and fields, finalizers, events with the upstream texts, Multi-Attach,
wrong-zone attach, detach on pod deletion, and a dynamically provisioned volume end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.node_lifecycle import NodeLifecycleController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.volume.attach_detach import (
    AttachDetachController,
    CSIAttacher,
    finalizer_name,
    multi_attach_suffix,
)
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController
from minikube_lite.kube.attachments import attachment_name
from minikube_lite.kubelet.heartbeat import NodeHeartbeat
from minikube_lite.kubelet.pods import Kubelet
from minikube_lite.scheduler.scheduler import Scheduler

JSON = dict[str, Any]
DRIVER = "diskplugin.csi.alibabacloud.com"
FINALIZER = "external-attacher/diskplugin-csi-alibabacloud-com"

CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    Kubelet,
    NodeHeartbeat,
    NodeLifecycleController,
    AttachDetachController,
    CSIAttacher,
]

CONFIG: JSON = {
    "nodes": [{"name": "master", "controlPlane": True, "zone": "cn-hangzhou-b"},
              {"name": "node1", "zone": "cn-hangzhou-b"}, {"name": "node2", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b", "cn-hangzhou-d"],
              "durations": {"attachDisk": "2s", "detachDisk": "1s", "createDisk": "2s"}},
    "drivers": [{"name": DRIVER, "type": "cloud-disk", "attachRequired": True}],
    "timings": {"podStartDelay": "1s", "imagePullDelay": "1s", "volumeMountDelay": "0.2s",
                "podTerminationDelay": "0.5s"},
}


@pytest.fixture
def make_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(config: JSON | None = None, extra: list[type] | None = None) -> AsyncIterator[Cluster]:
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", [*CONTROLLERS, *(extra or [])])
        async with Cluster(ClusterConfig.from_dict(config or CONFIG), clock=VirtualClock()) as c:
            await c.settle()
            yield c

    return make


async def static_volume(c: Cluster, zone: str = "cn-hangzhou-b", *, name: str = "disk-pv", claim: str = "data",
                        modes: list[str] | None = None) -> str:
    """A cloud disk, a PV for it pre-bound to ``claim`` and the claim; returns the disk id."""
    disk = await c.cloud.create_disk(zone=zone, size_gib=20, category="cloud_ssd", name=name)
    await c.client.create("persistentvolumes", {
        "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
        "spec": {"capacity": {"storage": "20Gi"}, "accessModes": modes or ["ReadWriteOnce"],
                 "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
                 "csi": {"driver": DRIVER, "volumeHandle": disk.disk_id, "fsType": "ext4"},
                 "claimRef": {"namespace": "default", "name": claim}}})
    await c.client.create("persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
        "spec": {"accessModes": modes or ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                 "storageClassName": "", "volumeName": name}}, "default")
    await c.settle()
    pvc = await c.client.get("persistentvolumeclaims", claim, "default")
    assert pvc["status"]["phase"] == "Bound"
    return str(disk.disk_id)


def pod(name: str, node: str | None, claim: str = "data") -> JSON:
    spec: JSON = {"containers": [{"name": "app", "image": "nginx:1.27",
                                  "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                  "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


async def events(c: Cluster, name: str) -> list[tuple[str, str, str, str]]:
    listing = await c.client.list("events", "default", field_selector=f"involvedObject.name={name}")
    items = sorted(listing.get("items") or [], key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [(e["type"], e["reason"], e["source"]["component"], e["message"]) for e in items]


async def phase(c: Cluster, name: str) -> str:
    return str((await c.client.get("pods", name, "default"))["status"]["phase"])


async def attachments(c: Cluster) -> list[JSON]:
    return list((await c.client.list("volumeattachments")).get("items") or [])


def instance(c: Cluster, node: str) -> str:
    inst = c.cloud.instance_for_node(node)
    assert inst is not None
    return str(inst.instance_id)


# ---------------------------------------------------------------- names


def test_finalizer_name_sanitizes_the_driver() -> None:
    assert finalizer_name(DRIVER) == FINALIZER
    assert finalizer_name("a_b/c") == "external-attacher/a-b-c"


@pytest.mark.parametrize(("users", "suffix"), [
    ([], "Volume is already exclusively attached to one node and can't be attached to another"),
    ([("ns1", "pod2")], "Volume is already used by pod(s) pod2"),
    ([("ns1", "a"), ("ns1", "b")], "Volume is already used by pod(s) a, b"),
    ([("ns2", "pod2")], "Volume is already used by 1 pod(s) in different namespaces"),
    ([("ns1", "a"), ("ns2", "x"), ("ns3", "y")], "Volume is already used by pod(s) a and 2 pod(s) in different namespaces"),
])
def test_multi_attach_message_names_only_pods_of_the_same_namespace(users: list[tuple[str, str]],
                                                                   suffix: str) -> None:
    # kube-controller-manager reconciler_test.go Test_ReportMultiAttachError
    assert multi_attach_suffix("ns1", users) == suffix


# ---------------------------------------------------------------- attach


async def test_pod_with_cloud_disk_is_attached_then_runs(make_cluster: Any) -> None:
    async with make_cluster() as c:
        disk = await static_volume(c)
        t0 = c.clock.now()
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle()
        assert await phase(c, "app") == "Running"
        # attach 2 s + mount 0.2 s + sandbox 1 s + pull 1 s
        assert c.clock.now() - t0 == pytest.approx(4.2, abs=1e-6)
        (va,) = await attachments(c)
        assert va["metadata"]["name"] == attachment_name(disk, DRIVER, "node1")
        assert va["spec"] == {"attacher": DRIVER, "nodeName": "node1", "source": {"persistentVolumeName": "disk-pv"}}
        assert va["status"]["attached"] is True and va["status"]["attachmentMetadata"]["devicePath"].startswith("/dev/vd")
        assert va["metadata"]["finalizers"] == [FINALIZER]
        assert va["metadata"]["annotations"]["csi.alpha.kubernetes.io/node-id"] == instance(c, "node1")
        pv = await c.client.get("persistentvolumes", "disk-pv")
        assert FINALIZER in pv["metadata"]["finalizers"]
        cloud_disk = c.cloud.disks[disk]
        assert cloud_disk.status == "In_use" and cloud_disk.instance_ids == [instance(c, "node1")]
        got = await events(c, "app")
        assert got[0] == ("Normal", "SuccessfulAttachVolume", "attachdetach-controller",
                          'AttachVolume.Attach succeeded for volume "disk-pv" ')
        assert [r for _, r, _, _ in got[1:]] == ["Pulling", "Pulled", "Created", "Started"]


async def test_volume_attach_delay_adds_to_the_cloud_attach_time(make_cluster: Any) -> None:
    config = {**CONFIG, "timings": {**CONFIG["timings"], "volumeAttachDelay": "3s"}}
    async with make_cluster(config) as c:
        await static_volume(c)
        t0 = c.clock.now()
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle()
        assert await phase(c, "app") == "Running"
        assert c.clock.now() - t0 == pytest.approx(7.2, abs=1e-6)


async def test_graceful_deletion_detaches_the_disk(make_cluster: Any) -> None:
    async with make_cluster() as c:
        disk = await static_volume(c)
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle()
        await c.client.delete("pods", "app", "default")
        await c.settle()
        assert await attachments(c) == []
        assert c.cloud.disks[disk].status == "Available" and c.cloud.disks[disk].instance_ids == []
        pv = await c.client.get("persistentvolumes", "disk-pv")
        assert FINALIZER not in (pv["metadata"].get("finalizers") or [])
        ops = [(e["operation"], e["result"]) for e in c.cloud.log if e["target"] == disk]
        assert ops[-2:] == [("AttachDisk", f"OK -> {instance(c, 'node1')}"),
                            ("DetachDisk", f"OK <- {instance(c, 'node1')}")]


async def test_second_pod_on_another_node_gets_multi_attach_then_runs_after_the_first_goes(
        make_cluster: Any) -> None:
    async with make_cluster() as c:
        disk = await static_volume(c)
        await c.client.create("pods", pod("first", "node1"), "default")
        await c.settle()
        await c.client.create("pods", pod("second", "node2"), "default")
        await c.settle()
        assert await phase(c, "second") == "Pending"
        st = (await c.client.get("pods", "second", "default"))["status"]
        assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        assert await events(c, "second") == [(
            "Warning", "FailedAttachVolume", "attachdetach-controller",
            'Multi-Attach error for volume "disk-pv" Volume is already used by pod(s) first')]
        # Reported once, not on every resync.
        await c.clock.advance(60)
        await c.settle()
        assert len(await events(c, "second")) == 1
        await c.client.delete("pods", "first", "default")
        await c.settle()
        assert await phase(c, "second") == "Running"
        assert c.cloud.disks[disk].instance_ids == [instance(c, "node2")]
        (va,) = await attachments(c)
        assert va["spec"]["nodeName"] == "node2"
        assert [r for _, r, _, _ in await events(c, "second")][:2] == ["FailedAttachVolume", "SuccessfulAttachVolume"]


async def test_disk_still_attached_elsewhere_without_a_pod_is_exclusively_attached(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await static_volume(c)
        await c.client.create("pods", pod("first", "node1"), "default")
        await c.settle()
        # Force-delete the first pod and start the second at once: the disk is still on node1.
        await c.client.delete("pods", "first", "default", grace_period_seconds=0)
        await c.client.create("pods", pod("second", "node2"), "default")
        await c.settle()
        got = await events(c, "second")
        assert got[0] == ("Warning", "FailedAttachVolume", "attachdetach-controller",
                          'Multi-Attach error for volume "disk-pv" Volume is already exclusively attached to one '
                          "node and can't be attached to another")
        assert await phase(c, "second") == "Running"


async def test_read_write_many_volume_attaches_to_every_node(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await static_volume(c, modes=["ReadWriteMany"])
        await c.client.create("pods", pod("first", "node1"), "default")
        await c.client.create("pods", pod("second", "node2"), "default")
        await c.settle()
        # The ADC creates both attachments; the single-attach cloud disk refuses the second one.
        assert sorted(va["spec"]["nodeName"] for va in await attachments(c)) == ["node1", "node2"]


async def test_wrong_zone_attach_fails_with_the_driver_error(make_cluster: Any) -> None:
    async with make_cluster() as c:
        disk = await static_volume(c, zone="cn-hangzhou-d")
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle(timeout=5)
        assert await phase(c, "app") == "Pending"
        (va,) = await attachments(c)
        message = (f"rpc error: code = FailedPrecondition desc = ControllerPublishVolume: InvalidZoneId.Mismatch: "
                   f"The disk {disk} in zone cn-hangzhou-d cannot be attached to instance {instance(c, 'node1')} "
                   f"in zone cn-hangzhou-b.")
        assert va["status"]["attached"] is False
        assert va["status"]["attachError"]["message"] == message
        got = await events(c, "app")
        assert got[0] == ("Warning", "FailedAttachVolume", "attachdetach-controller",
                          f'AttachVolume.Attach failed for volume "disk-pv" : {message}')
        assert c.cloud.disks[disk].instance_ids == []


class PluginStatusError(Exception):
    """An error as another CSI client library raises it: a gRPC code name and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def test_attach_errors_go_through_the_csi_call_wrapper(make_cluster: Any) -> None:
    """The attacher calls the driver as every sidecar does (csi/calls.py): any error
    carrying a gRPC code, from a sync or async plugin method, is the Go error text in attachError."""
    async with make_cluster() as c:
        await static_volume(c)
        driver = c.drivers[DRIVER]

        def unavailable(request: Any) -> Any:
            raise PluginStatusError("UNAVAILABLE", "plugin restarting")

        driver.controller_publish_volume = unavailable  # this driver object only
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle(timeout=5)
        (va,) = await attachments(c)
        message = "rpc error: code = Unavailable desc = plugin restarting"
        assert va["status"]["attached"] is False
        assert va["status"]["attachError"]["message"] == message
        assert (await events(c, "app"))[0] == ("Warning", "FailedAttachVolume", "attachdetach-controller",
                                               f'AttachVolume.Attach failed for volume "disk-pv" : {message}')
        del driver.controller_publish_volume  # the plugin is back
        await c.settle()
        assert await phase(c, "app") == "Running"
        (va,) = await attachments(c)
        assert va["status"]["attached"] is True


async def test_attach_failures_are_retried_with_backoff(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await static_volume(c, zone="cn-hangzhou-d")
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle(timeout=20)
        listing = await c.client.list("events", "default", field_selector="involvedObject.name=app")
        (event,) = listing["items"]
        # Attempts at 0 (twice: adding the finalizer re-queues the attachment, as upstream), 2, 6 and
        # 14 s (1 s doubling); one event per new attachError, aggregated into one Event.
        assert event["reason"] == "FailedAttachVolume" and event["count"] == 4


async def test_volume_of_a_driver_without_attach_is_not_attached(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("csidrivers", {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                                             "metadata": {"name": "noattach.csi.example.com"},
                                             "spec": {"attachRequired": False}})
        await c.client.create("persistentvolumes", {
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "nfs-pv"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"], "storageClassName": "",
                     "csi": {"driver": "noattach.csi.example.com", "volumeHandle": "share-1"},
                     "claimRef": {"namespace": "default", "name": "data"}}})
        await c.client.create("persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "", "volumeName": "nfs-pv"}}, "default")
        await c.client.create("pods", pod("app", "node1"), "default")
        await c.settle()
        assert await attachments(c) == []
        assert await phase(c, "app") == "Running"


async def test_provisioned_volume_is_attached_in_the_selected_zone(make_cluster: Any) -> None:
    """WaitForFirstConsumer class, scheduler, provisioner, attach, kubelet: the course's fixed path."""
    extra = [ExternalProvisioners,
             Scheduler]
    config = dict(CONFIG)
    config["objects"] = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                          "metadata": {"name": "alicloud-disk-topology"}, "provisioner": DRIVER,
                          "parameters": {"type": "cloud_ssd"}, "volumeBindingMode": "WaitForFirstConsumer"}]
    async with make_cluster(config, extra) as c:
        await c.client.create("persistentvolumeclaims", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                     "storageClassName": "alicloud-disk-topology"}}, "default")
        await c.client.create("pods", pod("app", None), "default")
        await c.settle()
        p = await c.client.get("pods", "app", "default")
        assert p["status"]["phase"] == "Running", p["status"]
        node = p["spec"]["nodeName"]
        pvc = await c.client.get("persistentvolumeclaims", "data", "default")
        pv = await c.client.get("persistentvolumes", pvc["spec"]["volumeName"])
        disk = c.cloud.disks[pv["spec"]["csi"]["volumeHandle"]]
        assert disk.zone == "cn-hangzhou-b" and disk.instance_ids == [instance(c, node)]
        reasons = [r for _, r, _, _ in await events(c, "app")]
        assert reasons[0] == "Scheduled" and "SuccessfulAttachVolume" in reasons and reasons[-1] == "Started"


async def test_default_cluster_runs_pods_on_both_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The course's default cluster: an Immediate cloud-disk claim and a host-path claim, each used by a
    pod the scheduler places; both volumes are attached through their driver and the pods run."""
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", [
        *CONTROLLERS, ExternalProvisioners,
        Scheduler])
    async with Cluster(clock=VirtualClock()) as c:
        for claim, sc in (("disk", "alicloud-disk-ssd"), ("local", "csi-hostpath-sc")):
            await c.client.create("persistentvolumeclaims", {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                         "storageClassName": sc}}, "default")
            await c.client.create("pods", pod(f"app-{claim}", None, claim=claim), "default")
        await c.settle()
        for claim in ("disk", "local"):
            p = await c.client.get("pods", f"app-{claim}", "default")
            assert p["status"]["phase"] == "Running", (claim, p["status"])
        vas = await attachments(c)
        assert sorted(va["spec"]["attacher"] for va in vas) == [DRIVER, "hostpath.csi.k8s.io"]
        assert all(va["status"]["attached"] for va in vas)
        # Tear down: pods, then claims. Detach comes first, then the provisioner deletes the volumes.
        for claim in ("disk", "local"):
            await c.client.delete("pods", f"app-{claim}", "default")
            await c.client.delete("persistentvolumeclaims", claim, "default")
        await c.settle()
        assert await attachments(c) == []
        assert (await c.client.list("persistentvolumes"))["items"] == []
        assert [d for d in c.cloud.disks.values() if d.status != "Deleting"] == []
