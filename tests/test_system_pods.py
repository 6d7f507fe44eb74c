"""The kube-system pods standing for the in-process components, and their logs (per cluster)."""

from __future__ import annotations

from typing import Any

from minikube_lite.apiserver.resources.subresources import pod_log
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig

JSON = dict[str, Any]

PVC: JSON = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "alicloud-disk-ssd",
                      "resources": {"requests": {"storage": "20Gi"}}}}


async def system_pods(c: Cluster) -> dict[str, JSON]:
    return {p["metadata"]["name"]: p for p in (await c.client.list("pods", "kube-system"))["items"]}


def ready(pod: JSON) -> bool:
    return any(x["type"] == "Ready" and x["status"] == "True" for x in pod["status"].get("conditions") or [])


async def test_mirror_pods_of_the_control_plane() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.settle()
        pods = await system_pods(c)
        master = await c.client.get("nodes", "master")
        ip = next(a["address"] for a in master["status"]["addresses"] if a["type"] == "InternalIP")
        for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            pod = pods[f"{component}-master"]
            meta = pod["metadata"]
            assert meta["labels"] == {"component": component, "tier": "control-plane"}
            ann = meta["annotations"]
            assert ann["kubernetes.io/config.source"] == "file"
            assert ann["kubernetes.io/config.mirror"] == ann["kubernetes.io/config.hash"]
            assert meta["ownerReferences"] == [{"apiVersion": "v1", "kind": "Node", "name": "master",
                                                "uid": master["metadata"]["uid"], "controller": True}]
            spec = pod["spec"]
            assert spec["nodeName"] == "master" and spec["hostNetwork"] is True
            assert spec["priorityClassName"] == "system-node-critical"
            assert pod["status"]["phase"] == "Running" and ready(pod)
            assert pod["status"]["podIP"] == pod["status"]["hostIP"] == ip
        assert pods["kube-apiserver-master"]["metadata"]["annotations"][
            "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] == f"{ip}:6443"
        classes = {pc["metadata"]["name"] for pc in
                   (await c.client.list("priorityclasses.scheduling.k8s.io"))["items"]}
        assert {"system-node-critical", "system-cluster-critical"} <= classes


async def test_addons_run_through_our_controllers_scheduler_and_kubelet() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.settle()
        pods = list((await system_pods(c)).values())
        by_prefix: dict[str, list[JSON]] = {}
        for pod in pods:
            ref = pod["metadata"].get("ownerReferences", [{}])[0]
            by_prefix.setdefault(ref.get("kind", ""), []).append(pod)
        assert all(p["status"]["phase"] == "Running" and ready(p) for p in pods)
        coredns = [p for p in pods if p["metadata"]["labels"].get("k8s-app") == "kube-dns"]
        assert len(coredns) == 2
        assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in \
            coredns[0]["spec"]["tolerations"]
        [provisioner] = [p for p in pods if p["metadata"]["labels"].get("app") == "csi-provisioner"]
        assert [x["name"] for x in provisioner["spec"]["containers"]] == [
            "csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter"]
        [snapshot] = [p for p in pods if p["metadata"]["labels"].get("app") == "snapshot-controller"]
        assert snapshot["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        plugins = [p for p in pods if p["metadata"]["labels"].get("app") == "csi-plugin"]
        assert sorted(p["spec"]["nodeName"] for p in plugins) == ["master", "node1", "node2"]
        # kube-dns gets its endpoints from the CoreDNS pods, as on a real cluster.
        ep = await c.client.get("endpoints", "kube-dns", "kube-system")
        assert sorted(a["ip"] for a in ep["subsets"][0]["addresses"]) == sorted(p["status"]["podIP"] for p in coredns)


async def test_system_pods_can_be_turned_off() -> None:
    config = ClusterConfig.default()
    config.systemPods = False
    async with Cluster(config, clock=VirtualClock()) as c:
        await c.settle()
        assert await system_pods(c) == {}


async def test_component_logs_show_what_each_component_did() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("persistentvolumeclaims", PVC, "default")
        await c.settle()
        pv = (await c.client.get("persistentvolumeclaims", "data", "default"))["spec"]["volumeName"]
        provisioner = [line.text for line in c.logs.lines("csi-provisioner")]
        assert any('provision "default/data" class "alicloud-disk-ssd": started' in t for t in provisioner)
        assert any('"CreateVolume"' in t and pv in t for t in provisioner)
        assert any(f"successfully created PV {pv} for PVC data" in t for t in provisioner)
        assert all(t[0] in "IWEF" and "       1 " in t for t in provisioner)  # klog header
        scheduler = [line.text for line in c.logs.lines("kube-scheduler")]
        assert any('"Successfully bound pod to node" pod="kube-system/coredns-' in t for t in scheduler)
        manager = [line.text for line in c.logs.lines("kube-controller-manager")]
        assert any('"Event occurred"' in t and 'reason="ScalingReplicaSet"' in t for t in manager)
        # Through pods/log of the provisioner pod's csi-provisioner container.
        [pod] = (await c.client.list("pods", "kube-system", label_selector="app=csi-provisioner"))["items"]
        name = pod["metadata"]["name"]
        text = pod_log(c.engine, "kube-system", name, {"container": "csi-provisioner"}, c.log_source())
        assert f"successfully created PV {pv}" in text
        tail = pod_log(c.engine, "kube-system", name, {"container": "csi-provisioner", "tailLines": "2"},
                       c.log_source())
        assert tail.splitlines() == text.splitlines()[-2:]
        stamped = pod_log(c.engine, "kube-system", name, {"container": "csi-provisioner", "tailLines": "1",
                                                          "timestamps": "true"}, c.log_source())
        stamp, rest = stamped.rstrip("\n").split(" ", 1)
        assert stamp.endswith("000Z") and len(stamp) == len("2026-01-01T00:00:00.000000000Z")
        assert rest == text.splitlines()[-1]
        assert pod_log(c.engine, "kube-system", name, {"container": "csi-provisioner", "sinceSeconds": "0"},
                       c.log_source()) == ""
        # A container that stands for nothing keeps the synthetic log.
        user = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
                "spec": {"containers": [{"name": "csi-provisioner", "image": "nginx"}]}}
        await c.client.create("pods", user, "default")
        await c.settle()
        assert "containers do not really run here" in pod_log(c.engine, "default", "app", {}, c.log_source())


async def test_snapshot_and_attach_logs() -> None:
    async with Cluster(clock=VirtualClock()) as c:
        await c.client.create("persistentvolumeclaims", PVC, "default")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "user"},
               "spec": {"containers": [{"name": "c", "image": "nginx"}],
                        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}
        await c.client.create("pods", pod, "default")
        snap = {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "snap"},
                "spec": {"volumeSnapshotClassName": "default-snapclass",
                         "source": {"persistentVolumeClaimName": "data"}}}
        await c.client.create("volumesnapshots.v1.snapshot.storage.k8s.io", snap, "default")
        await c.settle()
        snapshot = [line.text for line in c.logs.lines("snapshot-controller")]
        assert any("createSnapshotContent: Creating content for snapshot default/snap" in t for t in snapshot)
        assert any('"Created VolumeSnapshotContent"' in t for t in snapshot)
        sidecar = [line.text for line in c.logs.lines("csi-snapshotter")]
        assert any("createSnapshotWrapper: Creating snapshot for content snapcontent-" in t for t in sidecar)
        assert any('"Created snapshot" content="snapcontent-' in t for t in sidecar)
        attacher = [line.text for line in c.logs.lines("csi-attacher")]
        assert any('"Attached" VolumeAttachment="csi-' in t for t in attacher)


async def test_two_clusters_keep_their_logs_apart() -> None:
    async with Cluster(clock=VirtualClock()) as a, Cluster(clock=VirtualClock()) as b:
        await a.client.create("persistentvolumeclaims", PVC, "default")
        await a.settle()
        await b.settle()
        assert any("successfully created PV" in line.text for line in a.logs.lines("csi-provisioner"))
        assert not any("successfully created PV" in line.text for line in b.logs.lines("csi-provisioner"))
