"""The course demo end to end: scheduler + PV controller + CSI provisioner on the default cluster."""

from __future__ import annotations

from _sched_builders import pod

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.sidecars.provisioning import controller as provisioner
from minikube_lite.controllers.volume import pv_binder
from minikube_lite.scheduler.scheduler import Scheduler

ZONE = "topology.kubernetes.io/zone"
MESSAGE = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
           "2 node(s) didn't find available persistent volumes to bind. preemption: 0/3 nodes are available: "
           "3 Preemption is not helpful for scheduling.")


async def test_zone_d_class_on_zone_b_cluster_then_fixed_in_place():
    async with Cluster(ClusterConfig.default(), clock=VirtualClock()) as c:
        extra = [pv_binder.PersistentVolumeController(c.client, c.clock, config=c.config),
                 provisioner.ExternalProvisioners(c.client, c.clock, config=c.config, drivers=c.drivers),
                 Scheduler(c.client, c.clock)]
        for x in extra:
            if any(type(k) is type(x) for k in c.controllers):
                continue   # the cluster already runs one of these
            await x.start()
            c.controllers.append(x)
        try:
            zonal = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "zonal"},
                     "provisioner": "diskplugin.csi.alibabacloud.com", "volumeBindingMode": "WaitForFirstConsumer",
                     "allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE, "values": ["cn-hangzhou-d"]}]}]}
            await c.client.create("storageclasses", zonal)
            await c.client.create("persistentvolumeclaims", {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "zonal",
                         "resources": {"requests": {"storage": "20Gi"}}}}, "default")
            await c.client.create("pods", pod("app", pvcs=("data",)), "default")
            await c.settle()
            events = [(e["involvedObject"]["name"], e["type"], e["reason"], e["message"])
                      for e in (await c.client.list("events", "default"))["items"]]
            assert ("app", "Warning", "FailedScheduling", MESSAGE) in events
            app = await c.client.get("pods", "app", "default")
            cond = next(x for x in app["status"]["conditions"] if x["type"] == "PodScheduled")
            assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", MESSAGE)

            sc = await c.client.get("storageclasses", "zonal")
            sc["allowedTopologies"][0]["matchLabelExpressions"][0]["values"] = ["cn-hangzhou-b"]
            await c.client.update("storageclasses", sc)
            await c.settle()
            app = await c.client.get("pods", "app", "default")
            node = app["spec"]["nodeName"]
            assert node in ("node1", "node2")
            events = [(e["involvedObject"]["name"], e["reason"], e["message"])
                      for e in (await c.client.list("events", "default"))["items"]]
            assert ("app", "Scheduled", f"Successfully assigned default/app to {node}") in events
            pvc = await c.client.get("persistentvolumeclaims", "data", "default")
            assert pvc["status"]["phase"] == "Bound"
            assert pvc["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == node
            pv = await c.client.get("persistentvolumes", pvc["spec"]["volumeName"])
            values = [v for t in pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
                      for e in t["matchExpressions"] for v in e["values"]]
            assert values == ["cn-hangzhou-b"]
        finally:
            for x in extra:
                if x in c.controllers:
                    c.controllers.remove(x)
                    await x.stop()


async def test_scheduler_works_over_http_against_a_served_cluster():
    """The scheduler only needs the Client protocol: the same loop runs over real HTTP."""
    import asyncio

    from minikube_lite.client.http import HttpClient
    from minikube_lite.clock import RealClock

    async with Cluster(ClusterConfig.default(), serve=True, components=False) as c:
        client = HttpClient(c.url, token="minikube-lite")
        s = Scheduler(client, RealClock())
        await s.start()
        try:
            await c.client.create("pods", pod("web"), "default")
            await c.client.create("pods", pod("big", cpu="100"), "default")
            for _ in range(200):   # bounded: at most ~10 s of real time
                web = await c.client.get("pods", "web", "default")
                big = await c.client.get("pods", "big", "default")
                if web["spec"].get("nodeName") and big["status"].get("conditions"):
                    break
                await asyncio.sleep(0.05)
            assert web["spec"]["nodeName"] in ("node1", "node2")
            cond = big["status"]["conditions"][0]
            assert cond["message"] == (
                "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
                "2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
        finally:
            await s.stop()
            await client.close()


async def test_local_pv_pulls_the_pod_to_its_node_with_the_pv_controller():
    async with Cluster(ClusterConfig.default(), clock=VirtualClock()) as c:
        extra = [pv_binder.PersistentVolumeController(c.client, c.clock, config=c.config), Scheduler(c.client, c.clock)]
        started = []
        for x in extra:
            if not any(type(k) is type(x) for k in c.controllers):
                await x.start()
                c.controllers.append(x)
                started.append(x)
        try:
            await c.client.create("persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "local-pv-1"},
                "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOnce"],
                         "storageClassName": "local-storage", "persistentVolumeReclaimPolicy": "Retain",
                         "local": {"path": "/mnt/disks/vol1"},
                         "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                             {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node2"]}]}]}}}})
            await c.client.create("persistentvolumeclaims", {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "local-claim"},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-storage",
                         "resources": {"requests": {"storage": "5Gi"}}}}, "default")
            await c.settle()
            await c.client.create("pods", pod("app", pvcs=("local-claim",)), "default")
            await c.settle()
            app = await c.client.get("pods", "app", "default")
            assert app["spec"]["nodeName"] == "node2"
            pv = await c.client.get("persistentvolumes", "local-pv-1")
            pvc = await c.client.get("persistentvolumeclaims", "local-claim", "default")
            assert pv["status"]["phase"] == "Bound" and pvc["status"]["phase"] == "Bound"
            assert pv["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"] == "yes"
            assert pvc["spec"]["volumeName"] == "local-pv-1"
        finally:
            for x in started:
                c.controllers.remove(x)
                await x.stop()
