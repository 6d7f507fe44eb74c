"""Course §三 (snapshot part) and storage.md §7(a), on the cloud-disk driver, with the data itself.

The mock cloud records what is on each disk (a few bytes and their checksum). The story writes
data as the pod's app would, snapshots the disk, writes again, then restores the snapshot into a
new claim: the restored disk holds the data as it was at the snapshot, not the later write.
"""

from __future__ import annotations

from ..manifests import DRIVER, JSON, NS, VS, VSC, VSCLASS, claim, pod, storage_class
from ..runner import Demo

#: What the app in disk-pod has written when the snapshot is taken.
DATA_AT_SNAPSHOT = "orders: 1001, 1002, 1003"
#: What it writes after the snapshot (must not show up in the restored disk).
DATA_AFTER_SNAPSHOT = "orders: 1001, 1002, 1003, 1004"


def vs_line(vs: JSON) -> str:
    status = vs.get("status") or {}
    return (f"volumesnapshot/{vs['metadata']['name']}  readyToUse={str(bool(status.get('readyToUse'))).lower()}  "
            f"source={vs['spec']['source'].get('persistentVolumeClaimName')}  "
            f"restoreSize={status.get('restoreSize', '<unset>')}  "
            f"content={status.get('boundVolumeSnapshotContentName', '<none>')}")


async def story(d: Demo) -> None:
    cloud = d.cluster.cloud
    await d.step("snapshot.setup")
    await d.client.create("storageclasses", storage_class("csi-disk"))
    await d.client.create("persistentvolumeclaims", claim("disk-pvc", "20Gi", "csi-disk"), NS)
    await d.client.create("pods", pod("disk-pod", "disk-pvc"), NS)
    pvc = await d.wait_phase("persistentvolumeclaims", "disk-pvc", "Bound")
    await d.wait_phase("pods", "disk-pod", "Running")
    d.show(d.pvc_line(pvc))
    pv = await d.show_pv(pvc["spec"]["volumeName"])
    await d.show_pod("disk-pod")
    disk_id = pv["spec"]["csi"]["volumeHandle"]
    d.show_disk(disk_id)

    await d.step("snapshot.write")
    d.show_content("disk", disk_id, cloud.write_disk(disk_id, DATA_AT_SNAPSHOT))

    await d.step("snapshot.snapclass", driver=DRIVER)
    await d.client.create(VSCLASS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                                    "metadata": {"name": "disk-snapshotclass"}, "driver": DRIVER,
                                    "deletionPolicy": "Delete"})
    d.show(f"volumesnapshotclass/disk-snapshotclass  driver={DRIVER}  deletionPolicy=Delete")

    await d.step("snapshot.create")
    await d.client.create(VS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                               "metadata": {"name": "disk-snapshot"},
                               "spec": {"volumeSnapshotClassName": "disk-snapshotclass",
                                        "source": {"persistentVolumeClaimName": "disk-pvc"}}}, NS)
    await d.idle()
    vs = await d.get(VS, "disk-snapshot")
    assert vs is not None
    d.show(vs_line(vs))
    vs = await d.wait_for("disk-snapshot to be ready", d.getter(VS, "disk-snapshot"),
                          lambda o: bool(((o or {}).get("status") or {}).get("readyToUse")))
    assert vs is not None
    await d.step("snapshot.ready")
    d.show(vs_line(vs))
    content_name = vs["status"]["boundVolumeSnapshotContentName"]
    content = await d.get(VSC, content_name, None)
    assert content is not None
    handle = content["status"]["snapshotHandle"]
    d.show(f"volumesnapshotcontent/{content_name}")
    d.show(f"  snapshotHandle={handle}")
    d.show(f"  source.volumeHandle={content['spec']['source']['volumeHandle']}")
    d.show(f"  restoreSize={content['status']['restoreSize']}  readyToUse={str(content['status']['readyToUse']).lower()}")
    d.note("snapshot.ready_handles")
    await d.show_events(vs)
    snap = cloud.snapshots.get(handle)
    if snap is not None:
        d.show_content("snapshot", handle, snap.content)

    await d.step("snapshot.write_again")
    d.show_content("disk", disk_id, cloud.write_disk(disk_id, DATA_AFTER_SNAPSHOT))

    await d.step("snapshot.restore")
    await d.client.create("persistentvolumeclaims", claim("restore-pvc", "20Gi", "csi-disk", "disk-snapshot"), NS)
    await d.client.create("pods", pod("restore-pod", "restore-pvc"), NS)
    restored = await d.wait_phase("persistentvolumeclaims", "restore-pvc", "Bound")
    await d.wait_phase("pods", "restore-pod", "Running")
    d.show(d.pvc_line(restored))
    rpv = await d.show_pv(restored["spec"]["volumeName"])
    await d.show_pod("restore-pod")
    restored_id = rpv["spec"]["csi"]["volumeHandle"]
    d.show_disk(restored_id)
    await d.show_events(restored)

    await d.step("snapshot.compare")
    restored_content = cloud.read_disk(restored_id)
    source_content = cloud.read_disk(disk_id)
    d.show_content("disk", restored_id, restored_content)
    d.show_content("disk", disk_id, source_content)
    same = snap is not None and restored_content.checksum == snap.content.checksum
    d.note("snapshot.compare_same" if same else "snapshot.compare_differs", restored=restored_id, source=disk_id)

    await d.step("snapshot.delete")
    await d.client.delete(VS, "disk-snapshot", NS)
    await d.wait_gone(VS, "disk-snapshot")
    await d.wait_gone(VSC, content_name, None)
    left = (await d.client.list(VSC))["items"]
    d.show(f"volumesnapshots: {len((await d.client.list(VS, NS))['items'])}  volumesnapshotcontents: {len(left)}")
    alive = list(cloud.describe_snapshots(snapshot_ids=[handle]))
    d.show(f"cloud: snapshot {handle} " + ("still exists" if alive else "deleted"))
