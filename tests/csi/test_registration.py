"""Kubelet-style plugin registration against the real in-process API server."""

from __future__ import annotations

import json

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.csi.registration import (
    NODE_ID_ANNOTATION,
    RegistrationError,
    register_drivers,
    register_node,
)

DISK = "diskplugin.csi.alibabacloud.com"
HOSTPATH = "hostpath.csi.k8s.io"
ZKEY = "topology.diskplugin.csi.alibabacloud.com/zone"


async def test_default_cluster_registration() -> None:
    async with Cluster(ClusterConfig.default(), clock=VirtualClock(), components=False) as cluster:
        client = cluster.client
        drivers = {d["metadata"]["name"]: d["spec"] for d in (await client.list("csidrivers"))["items"]}
        assert set(drivers) == {DISK, HOSTPATH}
        assert drivers[DISK]["attachRequired"] is True and drivers[DISK]["storageCapacity"] is False
        assert drivers[DISK]["volumeLifecycleModes"] == ["Persistent"]
        assert drivers[HOSTPATH]["podInfoOnMount"] is True and drivers[HOSTPATH]["fsGroupPolicy"] == "File"

        csinodes = {c["metadata"]["name"]: c for c in (await client.list("csinodes"))["items"]}
        assert set(csinodes) == {"master", "node1", "node2"}
        node1 = await client.get("nodes", "node1")
        owner = csinodes["node1"]["metadata"]["ownerReferences"][0]
        assert owner["kind"] == "Node" and owner["name"] == "node1" and owner["uid"] == node1["metadata"]["uid"]
        entries = {d["name"]: d for d in csinodes["node1"]["spec"]["drivers"]}
        instance = cluster.cloud.instance_for_node("node1")
        assert entries[DISK] == {
            "name": DISK, "nodeID": instance.instance_id, "allocatable": {"count": 15},
            "topologyKeys": ["alibabacloud.com/ecs-instance-id", ZKEY, "topology.kubernetes.io/region",
                             "topology.kubernetes.io/zone"],
        }
        assert entries[HOSTPATH] == {"name": HOSTPATH, "nodeID": "node1",
                                     "topologyKeys": ["topology.hostpath.csi/node"]}

        labels = node1["metadata"]["labels"]
        assert labels[ZKEY] == "cn-hangzhou-b" and labels["topology.hostpath.csi/node"] == "node1"
        assert labels["alibabacloud.com/ecs-instance-id"] == instance.instance_id
        assert json.loads(node1["metadata"]["annotations"][NODE_ID_ANNOTATION]) == {
            DISK: instance.instance_id, HOSTPATH: "node1"}

        # Registering again (a kubelet restart) changes nothing and duplicates nothing.
        await register_drivers(client, cluster.config, cluster.drivers)
        again = await client.get("csinodes", "node1")
        assert len(again["spec"]["drivers"]) == 2


async def test_topology_label_collision_is_refused() -> None:
    async with Cluster(ClusterConfig.default(), clock=VirtualClock(), components=False) as cluster:
        await cluster.client.patch("nodes", "node2", {"metadata": {"labels": {ZKEY: "elsewhere"}}})
        with pytest.raises(RegistrationError) as exc:
            await register_node(cluster.client, "node2", cluster.drivers)
        assert str(exc.value) == (
            'detected topology value collision: driver reported "topology.diskplugin.csi.alibabacloud.com/zone":'
            '"cn-hangzhou-b" but existing label is "topology.diskplugin.csi.alibabacloud.com/zone":"elsewhere"')


async def test_driver_limited_to_some_nodes_and_without_topology() -> None:
    config = ClusterConfig.from_yaml("""
nodes:
  - {name: cp, controlPlane: true}
  - {name: w, count: 2}
drivers:
  - {name: local.csi.example.com, type: local, nodes: [w-1], storageCapacity: true}
  - {name: disk.csi.example.com, type: cloud-disk, maxVolumesPerNode: 0, attachRequired: false}
""")
    async with Cluster(config, clock=VirtualClock(), components=False) as cluster:
        csinodes = {c["metadata"]["name"]: c["spec"]["drivers"] for c in (await cluster.client.list("csinodes"))["items"]}
        assert set(csinodes) == {"cp", "w-1", "w-2"}
        assert [d["name"] for d in csinodes["w-1"]] == ["local.csi.example.com", "disk.csi.example.com"]
        assert [d["name"] for d in csinodes["w-2"]] == ["disk.csi.example.com"]
        disk_entry = csinodes["w-2"][0]
        assert "topologyKeys" not in disk_entry and "allocatable" not in disk_entry  # no segments, no limit
        spec = (await cluster.client.get("csidrivers", "local.csi.example.com"))["spec"]
        assert spec["storageCapacity"] is True and spec["attachRequired"] is False
