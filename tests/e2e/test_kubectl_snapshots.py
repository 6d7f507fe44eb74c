"""The course's snapshot/restore flow through the real kubectl 1.35 binary, on the real clock.

The YAML is the course's: a VolumeSnapshotClass for the cloud-disk plugin, a VolumeSnapshot
``disk-snapshot`` of ``disk-pvc``, and a PVC restored from it. The columns of ``kubectl get vs``
and ``kubectl get vsc`` are read by header position (an empty cell, such as SOURCESNAPSHOTCONTENT
of a dynamic snapshot, prints as blanks). PVCs use an Immediate class, so no pod is needed.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
from minikube_lite.controllers.sidecars.snapshotter import SnapshotSidecar
from minikube_lite.controllers.snapshot.controller import SnapshotController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

pytestmark = pytest.mark.e2e

KUBECTL_TIMEOUT_S = 60.0
WAIT_TIMEOUT_S = 30.0
VS = "volumesnapshots.snapshot.storage.k8s.io"
VSC = "volumesnapshotcontents.snapshot.storage.k8s.io"
CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    ExternalProvisioners,
    SnapshotController,
    SnapshotSidecar,
]

PVC_YAML = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: disk-pvc
spec:
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 20Gi
  storageClassName: alicloud-disk-ssd
"""

SNAPSHOTCLASS_YAML = """\
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshotClass
metadata:
  name: disk-snapshotclass
driver: diskplugin.csi.alibabacloud.com
deletionPolicy: Delete
"""

SNAPSHOT_YAML = """\
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: disk-snapshot
spec:
  volumeSnapshotClassName: disk-snapshotclass
  source:
    persistentVolumeClaimName: disk-pvc
"""

RESTORE_YAML = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: disk-snapshot-restore
spec:
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 20Gi
  storageClassName: alicloud-disk-ssd
  dataSource:
    name: disk-snapshot
    kind: VolumeSnapshot
    apiGroup: snapshot.storage.k8s.io
"""

#: kubectl 1.35 (the reference) and any newer downloaded one; the PATH dispatcher (1.32) is left out.
KUBECTLS = [(v, b) for v in ("1.35", "1.37") if (b := kb.kubectl_binary(v)) is not None]


def fast_config() -> ClusterConfig:
    """The default cluster with cloud operations in fractions of a second, but a snapshot slow
    enough (3 s) for kubectl to see READYTOUSE false first."""
    cfg = ClusterConfig.default()
    d = cfg.cloud.durations
    d.createDisk, d.deleteDisk, d.attachDisk, d.detachDisk = 0.1, 0.1, 0.1, 0.1
    d.createSnapshot, d.deleteSnapshot, d.restoreDisk = 3.0, 0.1, 0.1
    cfg.timings.snapshotReadyPollInterval = 0.2
    return cfg


@pytest.fixture(params=[v for v, _ in KUBECTLS] or ["none"])
def kubectl_path(request: pytest.FixtureRequest) -> Path:
    match = [b for v, b in KUBECTLS if v == request.param]
    if not match:
        pytest.skip("no kubectl 1.35/1.37 available (download failed)")
    return match[0]


@pytest.fixture
async def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kubectl_path: Path) -> AsyncIterator[Cluster]:
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", CONTROLLERS)
    async with Cluster(fast_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        c.kubectl_binary = kubectl_path  # type: ignore[attr-defined]  # read by kubectl() below
        yield c


async def kubectl(cluster: Cluster, tmp_path: Path, *args: str, stdin: str | None = None) -> str:
    out, err, rc = await _run(cluster, tmp_path, *args, stdin=stdin)
    assert rc == 0, f"kubectl {' '.join(args)}: {err}"
    return out


async def _run(cluster: Cluster, tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[str, str, int]:
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path), "KUBECACHEDIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path)}
    binary = str(cluster.kubectl_binary)  # type: ignore[attr-defined]
    proc = await asyncio.create_subprocess_exec(
        binary, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env)
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), KUBECTL_TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return out.decode(), err.decode(), proc.returncode or 0


def table(text: str) -> list[dict[str, str]]:
    """Rows of a kubectl table as {COLUMN: cell}, cut at the header's column starts."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0]
    names = header.split()
    starts = []
    pos = 0
    for name in names:
        pos = header.index(name, pos)
        starts.append(pos)
        pos += len(name)
    rows = []
    for line in lines[1:]:
        cells = {}
        for i, name in enumerate(names):
            end = starts[i + 1] if i + 1 < len(names) else len(line)
            cells[name] = line[starts[i]:end].strip()
        rows.append(cells)
    return rows


async def wait_for(what: str, check: Callable[[], Awaitable[Any]]) -> Any:
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_course_snapshot_and_restore_with_kubectl(served: Cluster, tmp_path: Path) -> None:
    c = served

    async def phase(name: str) -> str | None:
        return ((await c.client.get("persistentvolumeclaims", name, "default")).get("status") or {}).get("phase")

    async def vs_status() -> dict[str, Any]:
        return (await c.client.get(VS, "disk-snapshot", "default")).get("status") or {}

    await kubectl(c, tmp_path, "apply", "-f", "-", stdin=PVC_YAML)
    await wait_for("disk-pvc Bound", lambda: _eq(phase("disk-pvc"), "Bound"))

    out = await kubectl(c, tmp_path, "apply", "-f", "-", stdin=SNAPSHOTCLASS_YAML)
    assert out.strip() == "volumesnapshotclass.snapshot.storage.k8s.io/disk-snapshotclass created"
    rows = {r["NAME"]: r for r in table(await kubectl(c, tmp_path, "get", "vsclass"))}
    assert list(rows["disk-snapshotclass"]) == ["NAME", "DRIVER", "DELETIONPOLICY", "AGE"]
    assert rows["disk-snapshotclass"]["DRIVER"] == "diskplugin.csi.alibabacloud.com"
    assert rows["disk-snapshotclass"]["DELETIONPOLICY"] == "Delete"

    out = await kubectl(c, tmp_path, "apply", "-f", "-", stdin=SNAPSHOT_YAML)
    assert out.strip() == "volumesnapshot.snapshot.storage.k8s.io/disk-snapshot created"
    status = await wait_for("the snapshot bound", lambda: _bound(vs_status()))
    assert status["readyToUse"] is False

    # READYTOUSE false while the cloud snapshot progresses...
    [row] = table(await kubectl(c, tmp_path, "get", "vs"))
    assert list(row) == ["NAME", "READYTOUSE", "SOURCEPVC", "SOURCESNAPSHOTCONTENT", "RESTORESIZE", "SNAPSHOTCLASS",
                         "SNAPSHOTCONTENT", "CREATIONTIME", "AGE"]
    content_name = status["boundVolumeSnapshotContentName"]
    assert row["NAME"] == "disk-snapshot" and row["READYTOUSE"] == "false"
    assert row["SOURCEPVC"] == "disk-pvc" and row["SOURCESNAPSHOTCONTENT"] == ""
    assert row["SNAPSHOTCLASS"] == "disk-snapshotclass" and row["SNAPSHOTCONTENT"] == content_name

    # ... then true.
    await wait_for("the snapshot ready", lambda: _eq(_get(vs_status(), "readyToUse"), True))
    [row] = table(await kubectl(c, tmp_path, "get", "vs"))
    assert row["READYTOUSE"] == "true"
    assert row["RESTORESIZE"] == "20Gi"
    assert row["SOURCEPVC"] == "disk-pvc" and row["SOURCESNAPSHOTCONTENT"] == ""
    assert row["SNAPSHOTCLASS"] == "disk-snapshotclass" and row["SNAPSHOTCONTENT"] == content_name
    assert row["CREATIONTIME"].endswith("s") and row["AGE"].endswith("s")

    [vsc] = table(await kubectl(c, tmp_path, "get", "vsc"))
    assert list(vsc) == ["NAME", "READYTOUSE", "RESTORESIZE", "DELETIONPOLICY", "DRIVER", "VOLUMESNAPSHOTCLASS",
                         "VOLUMESNAPSHOT", "VOLUMESNAPSHOTNAMESPACE", "AGE"]
    assert vsc["NAME"] == content_name and vsc["READYTOUSE"] == "true"
    assert vsc["RESTORESIZE"] == str(20 * 1024**3)
    assert vsc["DELETIONPOLICY"] == "Delete" and vsc["DRIVER"] == "diskplugin.csi.alibabacloud.com"
    assert vsc["VOLUMESNAPSHOTCLASS"] == "disk-snapshotclass"
    assert vsc["VOLUMESNAPSHOT"] == "disk-snapshot" and vsc["VOLUMESNAPSHOTNAMESPACE"] == "default"
    handle = await kubectl(c, tmp_path, "get", "vsc", content_name, "-o", "jsonpath={.status.snapshotHandle}")
    assert handle in c.cloud.snapshots

    # Restore.
    await kubectl(c, tmp_path, "apply", "-f", "-", stdin=RESTORE_YAML)
    await wait_for("the restore Bound", lambda: _eq(phase("disk-snapshot-restore"), "Bound"))
    rows = {r["NAME"]: r for r in table(await kubectl(c, tmp_path, "get", "pvc"))}
    assert rows["disk-snapshot-restore"]["STATUS"] == "Bound"
    assert rows["disk-snapshot-restore"]["CAPACITY"] == "20Gi"
    pv_name = rows["disk-snapshot-restore"]["VOLUME"]
    disk = (await c.client.get("persistentvolumes", pv_name))["spec"]["csi"]["volumeHandle"]
    assert c.cloud.disks[disk].source_snapshot_id == handle

    # Delete: the content and the cloud snapshot go with it (deletionPolicy Delete).
    out = await kubectl(c, tmp_path, "delete", "vs", "disk-snapshot")
    assert out.strip() == 'volumesnapshot.snapshot.storage.k8s.io "disk-snapshot" deleted from default namespace'
    await wait_for("the cloud snapshot deleted", lambda: _true(handle not in c.cloud.snapshots))
    await wait_for("the content deleted", lambda: _eq(_count(c, VSC), 0))
    _, err, _ = await _run(c, tmp_path, "get", "vsc")
    assert err.strip() == "No resources found"


async def _eq(value: Awaitable[Any], expected: Any) -> bool:
    return bool((await value) == expected)


async def _true(value: bool) -> bool:
    return value


async def _get(status: Awaitable[dict[str, Any]], key: str) -> Any:
    return (await status).get(key)


async def _bound(status: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    got = await status
    return got if got.get("boundVolumeSnapshotContentName") else None


async def _count(c: Cluster, resource: str) -> int:
    return len((await c.client.list(resource))["items"])

