"""``minikube-lite demo``: every scenario runs in-process on a VirtualClock and tells the course's story.

The assertions pick the lines a reader must see (states, exact upstream event messages, the
cloud's view), so a change in cluster behaviour that breaks the story fails here.
"""

from __future__ import annotations

import re

import pytest

from minikube_lite import cli
from minikube_lite.clock import VirtualClock
from minikube_lite.demo import SCENARIOS, run_demo

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
    assert has(lines, r"pvc/disk-pvc-topology  Bound  volume=pvc-[0-9a-f-]+  20Gi")
    assert has(lines, r"nodeAffinity: topology.diskplugin.csi.alibabacloud.com/zone In \[cn-hangzhou-b\]")
    assert has(lines, r"cloud: disk d-\w+  cloud_ssd  20 GiB  zone cn-hangzhou-b")
    assert has(lines, rf"Normal  Scheduled: Successfully assigned default/disk-pod-topology to {node}$")


async def test_all_runs_every_scenario_in_turn() -> None:
    lines = await narrate("all")
    headers = [line.split(":")[0] for line in lines if line.startswith("=== ")]
    assert headers == [f"=== minikube-lite demo {name}" for name in SCENARIOS]
    assert sum(1 for line in lines if line.endswith("] done.")) == 3


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
