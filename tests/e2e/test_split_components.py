"""The components as separate processes: ``serve --components none`` plus ``scheduler``,
``controller-manager`` and ``kubelets`` subprocesses, driven by the course's example scripts with
the real kubectl; and two controller-managers where the standby takes over a SIGKILLed leader.

Every process listens on or dials 127.0.0.1 only; every wait is bounded. Cloud, kubelet and
leader-election timings are shortened through the cluster YAML (timings are configuration).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from minikube_lite.client.http import HttpClient
from minikube_lite.client.leaderelection import CONTROLLER_MANAGER_LEASE, MSG_BECAME_LEADER

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kubectl_binaries  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
KUBECTL = kubectl_binaries.kubectl_binary("1.35")
BASH = shutil.which("bash")
START_TIMEOUT_S = 30.0
SCRIPT_TIMEOUT_S = 150.0
#: Leader election shortened from 15/10/2 s so the takeover test stays short.
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 4.0, 3.0, 1.0
#: A takeover comes about a lease duration plus one jittered retry after the leader stops; the
#: bound is doubled, since a loaded test machine delays the standby's timers, not its logic.
TAKEOVER_LIMIT = 2 * (LEASE_DURATION + 2.2 * RETRY_PERIOD)

pytestmark = [pytest.mark.e2e]


def split_config(path: Path) -> Path:
    """The course's cluster with short cloud, kubelet and leader-election timings."""
    doc = yaml.safe_load((EXAMPLES / "clusters" / "default.yaml").read_text(encoding="utf-8"))
    doc.setdefault("cloud", {})["durations"] = {
        "createDisk": 0.2, "deleteDisk": 0.1, "attachDisk": 0.2, "detachDisk": 0.1,
        "createSnapshot": 0.5, "deleteSnapshot": 0.1, "restoreDisk": 0.2}
    doc["timings"] = {"podStartDelay": 0.1, "imagePullDelay": 0.1, "podTerminationDelay": 0.1,
                      "volumeMountDelay": 0.05, "leaderElectionLeaseDuration": LEASE_DURATION,
                      "leaderElectionRenewDeadline": RENEW_DEADLINE, "leaderElectionRetryPeriod": RETRY_PERIOD}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


class Processes:
    """The subprocesses of one test; all are stopped (SIGTERM, then SIGKILL) at teardown."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.config = split_config(tmp / "cluster.yaml")
        self.kubeconfig = tmp / "kubeconfig.yaml"
        self.procs: list[asyncio.subprocess.Process] = []
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}

    async def start(self, *args: str, log: str) -> asyncio.subprocess.Process:
        out = open(self.tmp / f"{log}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "minikube_lite.cli", *args,
                                                    "--config", str(self.config), env=self.env,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)
        out.close()
        self.procs.append(proc)
        return proc

    async def serve(self) -> str:
        await self.start("serve", "--components", "none", "--port", "0", "--kubeconfig", str(self.kubeconfig),
                         log="serve")
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.kubeconfig.exists():
            assert time.monotonic() < deadline, self.log("serve")
            await asyncio.sleep(0.1)
        server: str = yaml.safe_load(self.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
        return server

    async def component(self, command: str, *args: str, log: str | None = None) -> asyncio.subprocess.Process:
        return await self.start(command, "--kubeconfig", str(self.kubeconfig), *args, log=log or command)

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@pytest_asyncio.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        await procs.stop()


async def until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def cloud_disks(server: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{server}/cloud/v1/disks") as resp:
        disks: list[dict[str, Any]] = (await resp.json())["Disks"]
        return disks


async def run_example(procs: Processes, name: str) -> str:
    assert KUBECTL is not None and BASH is not None
    home = procs.tmp / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KUBECTL": str(KUBECTL),
           "KUBECONFIG": str(procs.kubeconfig), "KUBECACHEDIR": str(procs.tmp / "cache"), "HOME": str(home),
           "TZ": "UTC", "LANG": "C.UTF-8", "WAIT": "60s"}
    proc = await asyncio.create_subprocess_exec(BASH, str(EXAMPLES / name / "run.sh"), env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        raw, _ = await asyncio.wait_for(proc.communicate(), SCRIPT_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"{name}/run.sh did not finish in {SCRIPT_TIMEOUT_S}s") from None
    out = raw.decode(errors="replace")
    assert proc.returncode == 0, f"{name}/run.sh failed:\n{out}\n--- controller-manager:\n" \
                                 f"{procs.log('controller-manager')[-3000:]}"
    assert "### Done." in out
    return out


@pytest.mark.skipif(KUBECTL is None or BASH is None, reason="needs kubectl 1.35 and bash")
async def test_the_three_stories_pass_with_every_component_in_its_own_process(processes: Processes) -> None:
    server = await processes.serve()
    for command in ("scheduler", "controller-manager", "kubelets"):
        await processes.component(command)
    client = HttpClient(server)
    try:
        async def leaders() -> bool:
            names = {lease["metadata"]["name"] for lease in
                     (await client.list("leases", "kube-system"))["items"]}
            return {"kube-scheduler", "kube-controller-manager"} <= names
        await until(leaders, START_TIMEOUT_S, "the scheduler and controller-manager leases")

        story1 = await run_example(processes, "01-snapshot-restore")
        assert "restore-pvc   Bound" in story1
        assert "ProvisioningSucceeded" in story1
        story2 = await run_example(processes, "02-local-pv")
        assert "Successfully assigned default/local-pod to node1" in story2
        assert "waiting for first consumer to be created before binding" in story2
        story3 = await run_example(processes, "03-topology-scheduling")
        assert '"values":["cn-hangzhou-b"]' in story3
        assert "Successfully assigned default/disk-pod-topology to node" in story3

        # The stories clean up: every disk the remote sidecars made was deleted in the cloud.
        async def no_disks() -> bool:
            return not [d for d in await cloud_disks(server) if d["Status"] != "Deleting"]
        await until(no_disks, 30, "the cloud disks to be deleted")
        events = (await client.list("events", "kube-system"))["items"]
        became = [e["message"] for e in events if e["reason"] == "LeaderElection"]
        assert len(became) == 2 and all(m.endswith(" became leader") for m in became)
    finally:
        await client.close()


async def test_the_standby_controller_manager_takes_over_a_killed_leader(processes: Processes) -> None:
    server = await processes.serve()
    await processes.component("scheduler")
    await processes.component("kubelets")
    first = await processes.component("controller-manager", "--identity", "cm-a", log="cm-a")
    client = HttpClient(server)
    try:
        async def holder() -> str:
            try:
                lease = await client.get("leases", CONTROLLER_MANAGER_LEASE, "kube-system")
            except Exception:  # noqa: BLE001 - not created yet
                return ""
            return str(lease["spec"].get("holderIdentity") or "")
        assert await until(holder, START_TIMEOUT_S, "the first leader") == "cm-a"
        second = await processes.component("controller-manager", "--identity", "cm-b", log="cm-b")
        await asyncio.sleep(2 * RETRY_PERIOD)  # the standby has seen the leader's record
        assert await holder() == "cm-a"

        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed = time.monotonic()

        async def standby_leads() -> bool:
            return await holder() == "cm-b"
        await until(standby_leads, TAKEOVER_LIMIT, "the standby to take over")
        takeover = time.monotonic() - killed
        print(f"takeover {takeover:.2f}s after SIGKILL (lease duration {LEASE_DURATION}s)")
        # Not before the dead leader's lease has run out (it renewed at most a retry period before
        # the kill); the upper bound is the wait above.
        assert takeover >= LEASE_DURATION - RETRY_PERIOD - 0.5
        lease = await client.get("leases", CONTROLLER_MANAGER_LEASE, "kube-system")
        assert lease["spec"]["leaseTransitions"] == 1

        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "after-kill"},
                 "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "alicloud-disk-ssd",
                          "resources": {"requests": {"storage": "20Gi"}}}}
        await client.create("persistentvolumeclaims", claim, "default")

        async def bound() -> dict[str, Any] | None:
            pvc = await client.get("persistentvolumeclaims", "after-kill", "default")
            return pvc if (pvc.get("status") or {}).get("phase") == "Bound" else None
        pvc = await until(bound, 30, "the claim created after the kill to be provisioned")
        pv = await client.get("persistentvolumes", pvc["spec"]["volumeName"])
        handle = pv["spec"]["csi"]["volumeHandle"]
        disks = [d for d in await cloud_disks(server) if d["Status"] != "Deleting"]
        assert [d["DiskId"] for d in disks] == [handle]  # one disk, the PV's: no orphan
        messages = [e["message"] for e in (await client.list("events", "kube-system"))["items"]
                    if e["reason"] == "LeaderElection" and e["involvedObject"]["name"] == CONTROLLER_MANAGER_LEASE]
        assert messages == [MSG_BECAME_LEADER % "cm-a", MSG_BECAME_LEADER % "cm-b"]

        await client.delete("persistentvolumeclaims", "after-kill", "default")

        async def disk_gone() -> bool:
            return not [d for d in await cloud_disks(server) if d["Status"] != "Deleting"]
        await until(disk_gone, 30, "the released disk to be deleted by the new leader")

        # A clean stop gives the Lease up, so a next candidate need not wait out the duration.
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 15) == 0, processes.log("cm-b")
        released = await client.get("leases", CONTROLLER_MANAGER_LEASE, "kube-system")
        assert not released["spec"].get("holderIdentity") and released["spec"]["leaseDurationSeconds"] == 1
    finally:
        await client.close()


async def test_a_leader_that_was_frozen_past_its_lease_stops_and_exits(processes: Processes) -> None:
    """SIGSTOP the leader until the standby has taken over; resumed, it cannot renew, so it stops
    its controllers and exits 1 (as kube-controller-manager exits on "leaderelection lost")."""
    server = await processes.serve()
    first = await processes.component("controller-manager", "--identity", "cm-a", log="cm-a")
    client = HttpClient(server)
    try:
        async def holder() -> str:
            try:
                lease = await client.get("leases", CONTROLLER_MANAGER_LEASE, "kube-system")
            except Exception:  # noqa: BLE001 - not created yet
                return ""
            return str(lease["spec"].get("holderIdentity") or "")
        assert await until(holder, START_TIMEOUT_S, "the first leader") == "cm-a"
        await processes.component("controller-manager", "--identity", "cm-b", log="cm-b")
        await asyncio.sleep(2 * RETRY_PERIOD)
        first.send_signal(signal.SIGSTOP)

        async def standby_leads() -> bool:
            return await holder() == "cm-b"
        await until(standby_leads, TAKEOVER_LIMIT, "the standby to take over")
        first.send_signal(signal.SIGCONT)
        assert await asyncio.wait_for(first.wait(), RENEW_DEADLINE + 5 * RETRY_PERIOD) == 1
        assert "leaderelection lost" in processes.log("cm-a")
        assert await holder() == "cm-b"
    finally:
        await client.close()
