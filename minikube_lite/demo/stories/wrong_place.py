"""The course's two motivating failures (§一 "存储拓扑调度产生背景"): storage placed before its pod.

Without delayed binding, the PV controller binds a claim (or the provisioner makes a disk) as
soon as the claim exists, knowing nothing of the pod that will use it. The storage then sits
where the pod cannot run, and the pod stays Pending for good:

- ``wrong-node``: two local PVs; the claim is bound at once to the best-fitting one, on node2,
  while the pod must run on node1.
- ``wrong-zone``: the course's zone-d class with Immediate binding; the disk is made at once in
  cn-hangzhou-d, where no worker is (volume node affinity conflict).

The stories ``local-pv`` and ``topology`` show the fix, WaitForFirstConsumer.
"""

from __future__ import annotations

from ..manifests import NS, ZONE_KEY, claim, local_pv, local_storage_class, pod, storage_class
from ..runner import Demo


async def wrong_node(d: Demo) -> None:
    await d.step("wrong_node.class")
    await d.client.create("storageclasses", local_storage_class("local-immediate", binding="Immediate"))
    d.show("storageclass/local-immediate  provisioner=kubernetes.io/no-provisioner  volumeBindingMode=Immediate")

    await d.step("wrong_node.pvs")
    for name, node, size in (("local-pv-node1", "node1", "20Gi"), ("local-pv-node2", "node2", "10Gi")):
        await d.client.create("persistentvolumes",
                              local_pv(name, node, size=size, storage_class_name="local-immediate"))
        pv = await d.wait_phase("persistentvolumes", name, "Available", None)
        d.show(d.pv_line(pv) + f"  node={node}")

    await d.step("wrong_node.claim")
    await d.client.create("persistentvolumeclaims", claim("app-pvc", "10Gi", "local-immediate"), NS)
    pvc = await d.wait_phase("persistentvolumeclaims", "app-pvc", "Bound")
    d.show(d.pvc_line(pvc))
    await d.show_pv(pvc["spec"]["volumeName"])
    await d.show_pv("local-pv-node1")

    await d.step("wrong_node.pod")
    created = await d.client.create("pods", pod("app-pod", "app-pvc", node="node1"), NS)
    await d.wait_event(created, "FailedScheduling")
    await d.show_pod("app-pod")
    await d.show_events(created, ("FailedScheduling",))
    d.note("wrong_node.why")


async def wrong_zone(d: Demo) -> None:
    await d.step("wrong_zone.class")
    await d.client.create("storageclasses", storage_class("csi-disk-zone-d", zone="cn-hangzhou-d"))
    d.show(f"storageclass/csi-disk-zone-d  volumeBindingMode=Immediate  "
           f"allowedTopologies: {ZONE_KEY} in [cn-hangzhou-d]")

    await d.step("wrong_zone.claim")
    await d.client.create("persistentvolumeclaims", claim("disk-pvc-zone-d", "20Gi", "csi-disk-zone-d"), NS)
    pvc = await d.wait_phase("persistentvolumeclaims", "disk-pvc-zone-d", "Bound")
    d.show(d.pvc_line(pvc))
    pv = await d.get("persistentvolumes", pvc["spec"]["volumeName"], None)
    assert pv is not None
    d.show(d.pv_affinity_line(pv))
    d.show_disk(pv["spec"]["csi"]["volumeHandle"])

    await d.step("wrong_zone.pod")
    created = await d.client.create("pods", pod("disk-pod-zone-d", "disk-pvc-zone-d"), NS)
    await d.wait_event(created, "FailedScheduling")
    await d.show_pod("disk-pod-zone-d")
    await d.show_events(created, ("FailedScheduling",))
    await d.show_node_zones(ZONE_KEY)
    d.note("wrong_zone.why")
