"""Real kubectl against a served cluster: server-side Tables and built-in validation as printed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from minikube_lite import Cluster

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

pytestmark = pytest.mark.e2e

KUBECTL_TIMEOUT_S = 60.0


def _kubectls() -> list[tuple[str, Path]]:
    found = []
    binary = kb.kubectl_binary("1.35")
    if binary is not None:
        found.append(("1.35", binary))
    on_path = kb.path_kubectl()
    if on_path is not None:
        found.append(("path", on_path))
    return found


KUBECTLS = _kubectls()


@pytest.fixture(params=[k[0] for k in KUBECTLS] or ["none"])
def kubectl(request: pytest.FixtureRequest) -> Path:
    match = [p for label, p in KUBECTLS if label == request.param]
    if not match:
        pytest.skip("no kubectl binary available (download failed and none on PATH)")
    return match[0]


async def run(kubectl: Path, cluster: Cluster, tmp_path: Path, *args: str,
              stdin: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path), "KUBECACHEDIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        str(kubectl), *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), KUBECTL_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(), err.decode()


def header(text: str) -> list[str]:
    return text.splitlines()[0].split()


async def test_storageclass_and_node_tables(served_cluster: Cluster, kubectl: Path, tmp_path: Path) -> None:
    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "sc")
    assert rc == 0, err
    assert header(out) == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    assert " (default) " in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["local-storage"][1:5] == ["kubernetes.io/no-provisioner", "Retain", "WaitForFirstConsumer", "false"]

    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "nodes", "-o", "wide")
    assert rc == 0, err
    assert header(out)[:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    master = next(line.split() for line in out.splitlines() if line.startswith("master "))
    assert master[1:3] == ["Ready", "control-plane"]

    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "crd")
    assert rc == 0, err
    assert out.splitlines()[0].split() == ["NAME", "CREATED", "AT"]
    assert "volumesnapshots.snapshot.storage.k8s.io" in out


async def test_pvc_and_custom_resource_tables(served_cluster: Cluster, kubectl: Path, tmp_path: Path) -> None:
    manifest = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, labels: {app: web}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-storage
  resources: {requests: {storage: 1Gi}}
"""
    rc, out, err = await run(kubectl, served_cluster, tmp_path, "apply", "-f", "-", stdin=manifest)
    assert rc == 0, err
    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "pvc", "--show-labels")
    assert rc == 0, err
    assert header(out) == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES", "STORAGECLASS",
                           "VOLUMEATTRIBUTESCLASS", "AGE", "LABELS"]
    assert out.splitlines()[1].split()[:3] == ["data", "Pending", "local-storage"]
    assert out.splitlines()[1].split()[-1] == "app=web"

    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "volumesnapshotclasses")
    assert rc == 0, err
    assert header(out) == ["NAME", "DRIVER", "DELETIONPOLICY", "AGE"]


BAD_PVC = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: Bad_Name}
spec:
  accessModes: [ReadWriteOnce, Sometimes]
  resources: {requests: {storage: "-1Gi"}}
"""


async def test_invalid_objects_print_upstream_errors(served_cluster: Cluster, kubectl: Path, tmp_path: Path) -> None:
    rc, out, err = await run(kubectl, served_cluster, tmp_path, "apply", "-f", "-", stdin=BAD_PVC)
    assert rc != 0
    assert 'The PersistentVolumeClaim "Bad_Name" is invalid: \n' in err
    assert '* metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of' in err
    assert ('* spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", '
            '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"') in err
    assert '* spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero' in err
    rc, out, err = await run(kubectl, served_cluster, tmp_path, "get", "pvc")
    assert "No resources found in default namespace." in err

    rc, out, err = await run(kubectl, served_cluster, tmp_path, "patch", "sc", "local-storage", "-p",
                             '{"reclaimPolicy":"Delete"}')
    assert rc != 0
    assert ('The StorageClass "local-storage" is invalid: reclaimPolicy: Forbidden: updates to reclaimPolicy are '
            "forbidden.") in err
