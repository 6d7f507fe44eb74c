"""``minikube-lite why-pending``: the table a learner reads, JSON, kubeconfig (TLS + token) or --server.

The command blocks on its HTTP call, and the server lives on this test's event loop, so the
CLI runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from minikube_lite.cli import main
from minikube_lite.cluster import Cluster
from minikube_lite.scheduler.plugins import volumebinding
from minikube_lite.ui.stories import apply

TOPOLOGY = Path(__file__).resolve().parents[2] / "examples" / "03-topology-scheduling"
WAIT_ROUNDS = 100


async def topology_story_pending(cluster: Cluster) -> None:
    for name in ("storageclass.yaml", "pvc.yaml", "pod.yaml"):
        await apply(cluster.client, TOPOLOGY / name)
    for _ in range(WAIT_ROUNDS):   # real clock: wait until the scheduler has said no once
        pod = await cluster.client.get("pods", "disk-pod-topology", "default")
        if any(c.get("reason") == "Unschedulable" for c in pod.get("status", {}).get("conditions") or []):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler never marked the pod Unschedulable")


async def run_cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_table_from_a_tls_kubeconfig_with_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with Cluster(serve=True, port=0, tls=True, token="t0k", kubeconfig_path=tmp_path / "kc.yaml") as cluster:
        await topology_story_pending(cluster)
        code = await run_cli("why-pending", "disk-pod-topology", "--kubeconfig", str(cluster.kubeconfig_path))
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Pod default/disk-pod-topology: Pending, not scheduled to any node."
    assert lines[1].startswith("0/3 nodes are available: 1 node(s) had untolerated taint")
    header = next(line for line in lines if line.startswith("NODE"))
    assert header.split() == ["NODE", "ZONE", "FITS", "PLUGIN", "REASON"]
    node1 = next(line for line in lines if line.startswith("node1 "))
    assert node1.split(None, 4) == ["node1", "cn-hangzhou-b", "no", volumebinding.NAME,
                                    volumebinding.ERR_REASON_BIND_CONFLICT]
    claim = next(line for line in lines if line.startswith("disk-pvc-topology "))
    assert claim.split() == ["disk-pvc-topology", "Pending", "csi-disk-topology", "WaitForFirstConsumer", "<none>",
                             "<none>", "<none>"]
    assert "  allowedTopologies: topology.diskplugin.csi.alibabacloud.com/zone in [cn-hangzhou-d]" in lines


async def test_json_output_with_server_and_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with Cluster(serve=True, port=0, token="abc", kubeconfig_path=tmp_path / "kc.yaml") as cluster:
        await topology_story_pending(cluster)
        code = await run_cli("why-pending", "disk-pod-topology", "-n", "default", "--server", cluster.url,
                             "--token", "abc", "-o", "json")
        body = json.loads(capsys.readouterr().out)
        assert code == 0 and body["kind"] == "WhyPending" and len(body["nodes"]) == 3
        refused = await run_cli("why-pending", "disk-pod-topology", "--server", cluster.url, "--token", "nope")
        assert refused == 1 and capsys.readouterr().err.strip() == "Error from server (Unauthorized): Unauthorized"


async def test_missing_pod_reads_like_kubectl(served_cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_cli("why-pending", "ghost", "--kubeconfig", str(served_cluster.kubeconfig_path))
    assert code == 1
    assert capsys.readouterr().err.strip() == 'Error from server (NotFound): pods "ghost" not found'


async def test_unreachable_server_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_cli("why-pending", "x", "--server", "http://127.0.0.1:9")
    assert code == 1 and capsys.readouterr().err.startswith("error: cannot reach http://127.0.0.1:9")
