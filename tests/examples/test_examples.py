"""Every numbered example is run by a test (DESIGN habit 8).

Each test serves a fresh default cluster on a free 127.0.0.1 port and runs the example's own
``run.sh`` with the real kubectl 1.35 (``KUBECTL``), so the YAML files and every step of the
script are exercised exactly as a reader would run them; then it asserts on the key lines the
README promises. The script runs as an *asynchronous* subprocess: the server lives on this
test's event loop, and a blocking call would freeze it. Cloud and kubelet timings are shortened
(habit 4: timing is configuration) so each example takes a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import kubectl_binaries  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KUBECTL = kubectl_binaries.kubectl_binary("1.35")
BASH = shutil.which("bash")
SCRIPT_TIMEOUT_S = 120.0

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.35 is not available (no registry access to fetch it)"),
    pytest.mark.skipif(BASH is None, reason="bash is needed to run the examples' run.sh"),
]

FAILED_SCHEDULING = (
    "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
    "2 node(s) didn't find available persistent volumes to bind. preemption: 0/3 nodes are available: "
    "3 Preemption is not helpful for scheduling.")


def fast_config() -> ClusterConfig:
    """The default (course) cluster with cloud and kubelet delays cut to a fraction of a second."""
    config = ClusterConfig.default()
    d = config.cloud.durations
    d.createDisk, d.deleteDisk, d.attachDisk, d.detachDisk = 0.2, 0.1, 0.2, 0.1
    d.createSnapshot, d.deleteSnapshot, d.restoreDisk = 0.5, 0.1, 0.2
    t = config.timings
    t.podStartDelay, t.imagePullDelay, t.podTerminationDelay, t.volumeMountDelay = 0.1, 0.1, 0.1, 0.05
    return config


@dataclass
class Run:
    rc: int
    out: str

    def lines_after(self, command: str) -> list[str]:
        """The output lines of the first ``$ kubectl <command>`` step (up to the next step)."""
        lines = self.out.splitlines()
        start = next(i for i, line in enumerate(lines) if line == f"$ kubectl {command}")
        rest = lines[start + 1:]
        end = next((i for i, line in enumerate(rest) if line.startswith(("$ ", "###"))), len(rest))
        return [line for line in rest[:end] if line.strip()]


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster(fast_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        yield c


def record_disks(cluster: Cluster) -> list[dict[str, Any]]:
    """Spy on CreateDisk (the scripts delete their disks at the end, so look at them as they are made)."""
    made: list[dict[str, Any]] = []
    create = cluster.cloud.create_disk

    async def spy(**kwargs: Any) -> Any:
        made.append(kwargs)
        return await create(**kwargs)

    cluster.cloud.create_disk = spy
    return made


async def run_example(cluster: Cluster, name: str, tmp_path: Path) -> Run:
    assert KUBECTL is not None and BASH is not None and cluster.kubeconfig_path is not None
    (tmp_path / "home").mkdir(parents=True, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KUBECTL": str(KUBECTL),
           "KUBECONFIG": str(cluster.kubeconfig_path), "KUBECACHEDIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path / "home"), "TZ": "UTC", "LANG": "C.UTF-8", "WAIT": "30s"}
    proc = await asyncio.create_subprocess_exec(BASH, str(EXAMPLES / name / "run.sh"), env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), SCRIPT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{name}/run.sh did not finish in {SCRIPT_TIMEOUT_S}s") from None
    run = Run(proc.returncode or 0, out.decode(errors="replace"))
    assert run.rc == 0, f"{name}/run.sh failed (rc={run.rc}):\n{run.out}"
    assert "### Done." in run.out
    return run


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


async def test_01_snapshot_restore(served: Cluster, tmp_path: Path) -> None:
    disks = record_disks(served)
    run = await run_example(served, "01-snapshot-restore", tmp_path)
    vs = run.lines_after("get volumesnapshot disk-snapshot")
    assert columns(vs[0])[:6] == ["NAME", "READYTOUSE", "SOURCEPVC", "SOURCESNAPSHOTCONTENT", "RESTORESIZE",
                                  "SNAPSHOTCLASS"]
    row = vs[1].split()
    assert row[:5] == ["disk-snapshot", "true", "disk-pvc", "20Gi", "disk-snapshotclass"]
    assert row[5].startswith("snapcontent-")
    content = run.lines_after("get volumesnapshotcontent")[1].split()
    assert content[1:4] == ["true", "21474836480", "Delete"]
    handles = run.lines_after(
        "get volumesnapshotcontent -o custom-columns=NAME:.metadata.name,SNAPSHOTHANDLE:.status.snapshotHandle,"
        "SOURCEVOLUME:.spec.source.volumeHandle,READYTOUSE:.status.readyToUse")[1].split()
    assert handles[1].startswith("s-") and handles[2].startswith("d-")
    restored = run.lines_after("get pvc restore-pvc")[1].split()
    assert restored[:2] == ["restore-pvc", "Bound"] and restored[3] == "20Gi"
    pod = run.lines_after("get pod restore-pod -o wide")[1].split()
    assert pod[1:3] == ["1/1", "Running"] and pod[6] in ("node1", "node2")
    describe = "\n".join(run.lines_after("describe pvc restore-pvc"))
    assert "Kind:      VolumeSnapshot" in describe and "Name:      disk-snapshot" in describe
    assert "ProvisioningSucceeded" in describe
    assert run.lines_after("get volumesnapshot,volumesnapshotcontent") == ["No resources found"]
    # The restored disk was made from the cloud snapshot the content recorded.
    assert [d.get("snapshot_id") for d in disks] == [None, handles[1]]
    operations = [entry["operation"] for entry in served.cloud.log]
    assert operations.count("CreateSnapshot") == 1 and operations.count("DeleteSnapshot") == 1


async def test_02_local_pv(served: Cluster, tmp_path: Path) -> None:
    run = await run_example(served, "02-local-pv", tmp_path)
    assert run.lines_after("get pv local-pv")[1].split()[4] == "Available"
    assert run.lines_after("get pvc local-pvc")[1].split()[:2] == ["local-pvc", "Pending"]
    first_events = run.lines_after("get events --field-selector involvedObject.uid=<uid of pvc/local-pvc>")
    assert any("WaitForFirstConsumer" in line and "waiting for first consumer to be created before binding" in line
               for line in first_events)
    pod = run.lines_after("get pod local-pod -o wide")[1].split()
    assert pod[1:3] == ["1/1", "Running"] and pod[6] == "node1"
    bound = [line.split() for line in run.out.splitlines() if line.startswith("local-pvc ")]
    assert ["local-pvc", "Bound", "local-pv", "10Gi"] in [b[:4] for b in bound]
    assert "Successfully assigned default/local-pod to node1" in run.out
    second = run.lines_after("get events --field-selector involvedObject.uid=<uid of pod/local-pod-2>"
                             ",reason=FailedScheduling")
    assert columns(second[1]) == ["Warning", "FailedScheduling", FAILED_SCHEDULING]
    assert any(line.split()[:5] == ["local-pv", "10Gi", "RWO", "Retain", "Released"] for line in run.out.splitlines())


async def test_03_topology_scheduling(served: Cluster, tmp_path: Path) -> None:
    disks = record_disks(served)
    run = await run_example(served, "03-topology-scheduling", tmp_path)
    assert run.lines_after("get pvc disk-pvc-topology")[1].split()[:2] == ["disk-pvc-topology", "Pending"]
    pending = run.lines_after("get pod disk-pod-topology -o wide")[1].split()
    assert pending[2] == "Pending" and pending[6] == "<none>"
    failed = run.lines_after("get events --field-selector involvedObject.uid=<uid of pod/disk-pod-topology>"
                             ",reason=FailedScheduling")
    assert columns(failed[1]) == ["Warning", "FailedScheduling", FAILED_SCHEDULING]
    zones = run.lines_after("get nodes -L topology.diskplugin.csi.alibabacloud.com/zone")
    assert [(columns(z)[0], columns(z)[-1]) for z in zones[1:]] == [
        ("master", "cn-hangzhou-b"), ("node1", "cn-hangzhou-b"), ("node2", "cn-hangzhou-b")]
    running = [line.split() for line in run.out.splitlines() if line.startswith("disk-pod-topology ")]
    final = running[-1]
    assert final[1:3] == ["1/1", "Running"] and final[6] in ("node1", "node2")
    assert f"Successfully assigned default/disk-pod-topology to {final[6]}" in run.out
    assert '"values":["cn-hangzhou-b"]' in run.out
    # One disk, made only after the fix, in the zone the class now allows.
    assert [(d["zone"], d["size_gib"]) for d in disks] == [("cn-hangzhou-b", 20)]


async def test_examples_share_one_cluster(served: Cluster, tmp_path: Path) -> None:
    """The three scripts clean up after themselves: run in order on one server, all pass."""
    for name in ("01-snapshot-restore", "02-local-pv", "03-topology-scheduling"):
        await run_example(served, name, tmp_path / name)
    pvcs = await served.client.list("persistentvolumeclaims", "default")
    assert pvcs["items"] == []
