"""Course §二 (Local PV) and storage.md §7(b), on the course's cluster (PV on node1)."""

from __future__ import annotations

from ..manifests import NS, claim, local_pv, pod
from ..runner import Demo


async def story(d: Demo) -> None:
    sc = await d.get("storageclasses", "local-storage", None)
    assert sc is not None
    await d.step("local_pv.class")
    d.show(f"storageclass/local-storage  provisioner={sc['provisioner']}  "
           f"volumeBindingMode={sc['volumeBindingMode']}  reclaimPolicy={sc['reclaimPolicy']}")

    await d.step("local_pv.pv")
    await d.client.create("persistentvolumes", local_pv("local-pv", "node1"))
    pv = await d.wait_phase("persistentvolumes", "local-pv", "Available", None)
    d.show(d.pv_line(pv))

    await d.step("local_pv.claim")
    pvc = await d.client.create("persistentvolumeclaims", claim("local-pvc", "10Gi", "local-storage"), NS)
    await d.wait_event(pvc, "WaitForFirstConsumer")
    await d.show_pvc("local-pvc")
    await d.show_events(pvc)

    await d.step("local_pv.pod")
    created = await d.client.create("pods", pod("local-pod", "local-pvc"), NS)
    await d.wait_phase("pods", "local-pod", "Running")
    await d.show_pod("local-pod")
    await d.show_pvc("local-pvc")
    await d.show_pv("local-pv")
    await d.show_events(created, ("Scheduled",))

    await d.step("local_pv.second")
    await d.client.create("persistentvolumeclaims", claim("local-pvc-2", "10Gi", "local-storage"), NS)
    second = await d.client.create("pods", pod("local-pod-2", "local-pvc-2"), NS)
    await d.wait_event(second, "FailedScheduling")
    await d.show_pod("local-pod-2")
    await d.show_events(second, ("FailedScheduling",))
