"""Course §三 (topology part) and storage.md §7(c): zone d class on zone b nodes, then fixed.

After the fix the pod is left alone: a StorageClass update moves the unschedulable pod back into
the scheduler's queue (the VolumeBinding plugin registers for it), so it is scheduled by itself;
the course deletes and recreates it, which a current cluster does not need. The story then shows
how the node choice reaches the provisioner: the scheduler writes
``volume.kubernetes.io/selected-node`` on the claim, and the disk is made in that node's zone.
"""

from __future__ import annotations

from ...kube.names import ANN_SELECTED_NODE
from ..manifests import NS, ZONE_KEY, claim, pod, storage_class
from ..runner import Demo, annotations_of


async def story(d: Demo) -> None:
    await d.step("topology.class")
    await d.client.create("storageclasses", storage_class("csi-disk-topology", binding="WaitForFirstConsumer",
                                                          zone="cn-hangzhou-d"))
    d.show(f"storageclass/csi-disk-topology  allowedTopologies: {ZONE_KEY} in [cn-hangzhou-d]")

    await d.step("topology.claim")
    pvc = await d.client.create("persistentvolumeclaims", claim("disk-pvc-topology", "20Gi", "csi-disk-topology"),
                                NS)
    await d.wait_event(pvc, "WaitForFirstConsumer")
    await d.show_pvc("disk-pvc-topology")
    await d.show_events(pvc)

    await d.step("topology.pod")
    created = await d.client.create("pods", pod("disk-pod-topology", "disk-pvc-topology"), NS)
    await d.wait_event(created, "FailedScheduling")
    await d.show_pod("disk-pod-topology")
    await d.show_events(created, ("FailedScheduling",))
    d.note("topology.pod_why")

    await d.step("topology.labels")
    zones = await d.show_node_zones(ZONE_KEY)

    await d.step("topology.fix")
    await d.client.patch("storageclasses", "csi-disk-topology",
                         {"allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE_KEY,
                                                                            "values": ["cn-hangzhou-b"]}]}]})
    d.show(f"storageclass/csi-disk-topology  allowedTopologies: {ZONE_KEY} in [cn-hangzhou-b]")

    claimed = await d.wait_annotation("persistentvolumeclaims", "disk-pvc-topology", ANN_SELECTED_NODE)
    node = annotations_of(claimed)[ANN_SELECTED_NODE]
    zone = zones.get(node, "<none>")
    await d.step("topology.selected", node=node, zone=zone)
    d.show(d.pvc_line(claimed))
    d.show(f"  annotations: {ANN_SELECTED_NODE}={node}")
    d.show(f"node/{node}  {ZONE_KEY}={zone}")
    await d.show_pod("disk-pod-topology")
    await d.show_events(claimed, ("ExternalProvisioning", "Provisioning"))
    for disk in d.cluster.cloud.describe_disks(name=f"pvc-{claimed['metadata']['uid']}"):
        d.show_disk(disk.disk_id)
    d.note("topology.selected_after", node=node, zone=zone)

    await d.wait_phase("pods", "disk-pod-topology", "Running")
    await d.step("topology.running", node=node, zone=zone)
    running = await d.show_pod("disk-pod-topology")
    bound = await d.show_pvc("disk-pvc-topology")
    pv = await d.get("persistentvolumes", bound["spec"]["volumeName"], None)
    assert pv is not None
    d.show(d.pv_affinity_line(pv))
    d.show_disk(pv["spec"]["csi"]["volumeHandle"])
    await d.show_events(running, ("Scheduled",))
    if running["metadata"]["uid"] == created["metadata"]["uid"]:
        d.note("topology.same_pod", node=running["spec"]["nodeName"])
