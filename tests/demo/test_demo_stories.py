"""``minikube-lite demo``: every story runs in-process on a VirtualClock and tells the course's story.

The assertions pick the lines a reader must see (states, exact upstream event messages, the
cloud's view, the data), so a change in cluster behaviour that breaks the story fails here.
"""

from __future__ import annotations

import re

import pytest

from minikube_lite import cli
from minikube_lite.clock import VirtualClock
from minikube_lite.cloud.models import checksum
from minikube_lite.demo import SCENARIOS, run_demo
from minikube_lite.demo.stories.snapshot import DATA_AFTER_SNAPSHOT, DATA_AT_SNAPSHOT

FAILED_SCHEDULING = (
    "Warning FailedScheduling: 0/3 nodes are available: 1 node(s) had untolerated taint "
    "{node-role.kubernetes.io/control-plane: }, 2 node(s) didn't find available persistent volumes to bind. "
    "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
WAIT_FIRST = "Normal  WaitForFirstConsumer: waiting for first consumer to be created before binding"


async def narrate(name: str) -> list[str]:
    lines: list[str] = []
    await run_demo(name, out=lines.append, clock=VirtualClock())
    return lines


def has(lines: list[str], pattern: str) -> bool:
    return any(re.search(pattern, line) for line in lines)


def index_of(lines: list[str], pattern: str) -> int:
    return next(i for i, line in enumerate(lines) if re.search(pattern, line))


async def test_snapshot_demo() -> None:
    lines = await narrate("snapshot")
    assert lines[0].startswith("=== minikube-lite demo snapshot:")
    assert has(lines, r"pvc/disk-pvc  Bound  volume=pvc-[0-9a-f-]+  20Gi  class=csi-disk$")
    assert has(lines, r"pod/disk-pod  Running  node=node[12]$")
    not_ready = index_of(lines, r"volumesnapshot/disk-snapshot  readyToUse=false  source=disk-pvc")
    ready = index_of(lines, r"volumesnapshot/disk-snapshot  readyToUse=true  source=disk-pvc  restoreSize=20Gi  "
                            r"content=snapcontent-")
    assert not_ready < ready
    # Cloud snapshots take 5 s by default: the ready step is stamped at least that much later.
    stamps = [float(m.group(1)) for line in lines if (m := re.match(r"\[t\+\s*([\d.]+)s\]", line))]
    assert stamps == sorted(stamps)
    assert float(re.findall(r"[\d.]+", lines[ready - 1])[0]) >= 5.0
    handle = re.search(r"snapshotHandle=(s-\w+)", "\n".join(lines))
    assert handle is not None
    for message in ("CreatingSnapshot: Waiting for a snapshot default/disk-snapshot to be created by the CSI driver.",
                    "SnapshotCreated: Snapshot default/disk-snapshot was successfully created by the CSI driver.",
                    "SnapshotReady: Snapshot default/disk-snapshot is ready to use."):
        assert has(lines, re.escape(message))
    assert has(lines, r"pvc/restore-pvc  Bound  volume=pvc-[0-9a-f-]+  20Gi  class=csi-disk$")
    assert has(lines, r"pod/restore-pod  Running  node=node[12]$")
    assert has(lines, rf"cloud: disk d-\w+  cloud_ssd  20 GiB  zone cn-hangzhou-b  In_use  from snapshot {handle.group(1)}")
    assert has(lines, r"ProvisioningSucceeded: Successfully provisioned volume pvc-")
    # The data: written before the snapshot, changed after it; the restored disk holds the snapshot's.
    source_disk = re.search(r"cloud: disk (d-\w+)  cloud_ssd .* In_use$", "\n".join(lines), re.M)
    restored_disk = re.search(r"cloud: disk (d-\w+)  cloud_ssd .* from snapshot", "\n".join(lines))
    assert source_disk and restored_disk and source_disk.group(1) != restored_disk.group(1)
    at_snapshot, after = checksum(DATA_AT_SNAPSHOT.encode()), checksum(DATA_AFTER_SNAPSHOT.encode())
    assert at_snapshot != after
    assert has(lines, rf"cloud: snapshot {handle.group(1)}  content: generation 1  checksum {at_snapshot}  ")
    compare = index_of(lines, r"\d+\. The restored data")
    assert lines[compare + 1] == (f"          cloud: disk {restored_disk.group(1)}  content: generation 1  "
                                  f"checksum {at_snapshot}  {DATA_AT_SNAPSHOT!r}")
    assert lines[compare + 2] == (f"          cloud: disk {source_disk.group(1)}  content: generation 2  "
                                  f"checksum {after}  {DATA_AFTER_SNAPSHOT!r}")
    assert "holds exactly the snapshot's content" in lines[compare + 3]
    assert "          volumesnapshots: 0  volumesnapshotcontents: 0" in lines
    assert has(lines, rf"cloud: snapshot {handle.group(1)} deleted")
    assert re.match(r"\[t\+\s*[\d.]+s\] done\.", lines[-1])


async def test_local_pv_demo() -> None:
    lines = await narrate("local-pv")
    assert has(lines, r"storageclass/local-storage  provisioner=kubernetes.io/no-provisioner  "
                      r"volumeBindingMode=WaitForFirstConsumer")
    assert has(lines, r"pv/local-pv  Available  claim=<none>  10Gi  Retain")
    assert has(lines, r"pvc/local-pvc  Pending  volume=<none>  class=local-storage")
    assert has(lines, re.escape(WAIT_FIRST))
    assert has(lines, r"pod/local-pod  Running  node=node1$")
    assert has(lines, r"pvc/local-pvc  Bound  volume=local-pv  10Gi")
    assert has(lines, r"pv/local-pv  Bound  claim=default/local-pvc")
    assert has(lines, r"Normal  Scheduled: Successfully assigned default/local-pod to node1$")
    assert has(lines, r"pod/local-pod-2  Pending  node=<none>  \(Unschedulable\)")
    assert has(lines, re.escape(FAILED_SCHEDULING))


async def test_topology_demo() -> None:
    lines = await narrate("topology")
    assert has(lines, r"pvc/disk-pvc-topology  Pending  volume=<none>  class=csi-disk-topology")
    assert has(lines, re.escape(WAIT_FIRST))
    failed = index_of(lines, re.escape(FAILED_SCHEDULING))
    assert has(lines[:failed], r"pod/disk-pod-topology  Pending  node=<none>  \(Unschedulable\)")
    for node in ("master", "node1", "node2"):
        assert f"          node/{node}  topology.diskplugin.csi.alibabacloud.com/zone=cn-hangzhou-b" in lines
    running = index_of(lines, r"pod/disk-pod-topology  Running  node=node[12]$")
    assert running > failed
    node = lines[running].rsplit("=", 1)[1]
    # The scheduler's choice reached the claim before the disk existed: the selected-node
    # annotation names the node the pod then runs on, and the disk is made in that node's zone.
    selected = index_of(lines, r"annotations: volume\.kubernetes\.io/selected-node=")
    assert failed < selected < running
    assert lines[selected].endswith(f"selected-node={node}")
    assert lines[selected - 1].startswith("          pvc/disk-pvc-topology  Pending  volume=<none>")
    assert f"          node/{node}  topology.diskplugin.csi.alibabacloud.com/zone=cn-hangzhou-b" in lines
    assert has(lines[selected:running], r"cloud: disk d-\w+  cloud_ssd  20 GiB  zone cn-hangzhou-b  Creating$")
    # Fixed without deleting the pod: it was rescheduled by itself (the same uid).
    assert has(lines, r"Same pod as before the fix \(same uid\)")
    assert not any("delete" in line.lower() for line in lines if line.startswith("["))
    assert has(lines, r"pvc/disk-pvc-topology  Bound  volume=pvc-[0-9a-f-]+  20Gi")
    assert has(lines, r"nodeAffinity: topology.diskplugin.csi.alibabacloud.com/zone In \[cn-hangzhou-b\]")
    assert has(lines, r"cloud: disk d-\w+  cloud_ssd  20 GiB  zone cn-hangzhou-b")
    assert has(lines, rf"Normal  Scheduled: Successfully assigned default/disk-pod-topology to {node}$")


async def test_wrong_node_demo() -> None:
    """A local PV bound at once (Immediate) to node2 while the pod needs node1: Pending for good."""
    lines = await narrate("wrong-node")
    assert has(lines, r"pvc/app-pvc  Bound  volume=local-pv-node2  10Gi  class=local-immediate$")
    assert has(lines, r"pv/local-pv-node1  Available  claim=<none>  20Gi  Retain$")
    assert has(lines, r"pod/app-pod  Pending  node=<none>  \(Unschedulable\)")
    assert has(lines, re.escape(
        "Warning FailedScheduling: 0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "2 node(s) didn't satisfy plugin(s) [VolumeBinding]. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."))


async def test_wrong_zone_demo() -> None:
    """The zone-d class with Immediate binding: the disk is made in zone d, no node can use it."""
    lines = await narrate("wrong-zone")
    assert has(lines, r"pvc/disk-pvc-zone-d  Bound  volume=pvc-[0-9a-f-]+  20Gi")
    assert has(lines, r"nodeAffinity: topology.diskplugin.csi.alibabacloud.com/zone In \[cn-hangzhou-d\]")
    assert has(lines, r"cloud: disk d-\w+  cloud_ssd  20 GiB  zone cn-hangzhou-d  Available$")
    assert has(lines, r"pod/disk-pod-zone-d  Pending  node=<none>  \(Unschedulable\)")
    assert has(lines, re.escape(
        "Warning FailedScheduling: 0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 node(s) had volume node affinity conflict. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."))


async def test_all_runs_every_scenario_in_turn() -> None:
    lines = await narrate("all")
    headers = [line.split(":")[0] for line in lines if line.startswith("=== ")]
    assert headers == [f"=== minikube-lite demo {name}" for name in SCENARIOS]
    assert sum(1 for line in lines if line.endswith("] done.")) == len(SCENARIOS)


async def test_unknown_scenario_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown demo 'snap'"):
        await run_demo("snap", out=lambda _: None)


def test_cli_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "local-pv"]) == 0
    out = capsys.readouterr().out
    assert "=== minikube-lite demo local-pv:" in out
    assert "Successfully assigned default/local-pod to node1" in out


def test_cli_demo_rejects_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo", "nope"])
    assert "invalid choice" in capsys.readouterr().err
