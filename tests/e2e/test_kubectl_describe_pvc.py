"""``kubectl describe pvc`` (real kubectl 1.35) shows the PV controller's events as a real cluster does:
``WaitForFirstConsumer``, ``ExternalProvisioning`` (with the storage-provisioner annotations) and
``ProvisioningFailed`` for a missing class, each from ``persistentvolume-controller``."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.cluster import Cluster
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.volume.protection import PVCProtectionController, PVProtectionController
from minikube_lite.controllers.volume.pv_binder import PersistentVolumeController

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

pytestmark = pytest.mark.e2e

CONTROLLERS = [
    NamespaceController,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
]
DRIVER = "diskplugin.csi.alibabacloud.com"


def claim(name: str, sc: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                     "resources": {"requests": {"storage": "20Gi"}}}}


async def kubectl(binary: Path, kubeconfig: Path, home: Path, *args: str) -> str:
    env = {**os.environ, "HOME": str(home), "KUBECACHEDIR": str(home / "cache"), "KUBECONFIG": str(kubeconfig)}
    proc = await asyncio.create_subprocess_exec(str(binary), *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


def event_rows(describe: str) -> list[tuple[str, str, str, str]]:
    """(type, reason, from, message) of the Events table."""
    rows = []
    section = describe.split("\nEvents:\n", 1)[1]
    for line in section.splitlines()[2:]:
        m = re.match(r"^  (\S+)\s{2,}(\S+)\s{2,}(.+?)\s{2,}(\S+)\s{2,}(.*)$", line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(4), m.group(5)))
    return rows


async def test_describe_pvc_shows_pv_controller_events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = kb.kubectl_binary("1.35")
    if binary is None:
        pytest.skip("kubectl 1.35 is not available")
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", CONTROLLERS)
    (tmp_path / "home").mkdir()
    async with Cluster(serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        assert c.kubeconfig_path is not None
        await c.client.create("pvc", claim("topo", "alicloud-disk-topology"), "default")
        await c.client.create("pvc", claim("fast", "alicloud-disk-ssd"), "default")
        await c.client.create("pvc", claim("lost", "nope"), "default")
        for _ in range(200):
            await asyncio.sleep(0.02)
            events = (await c.client.list("events", "default"))["items"]
            if {e["involvedObject"]["name"] for e in events} >= {"topo", "fast", "lost"}:
                break

        def run(*args: str) -> Any:
            return kubectl(binary, c.kubeconfig_path, tmp_path / "home", *args)  # type: ignore[arg-type]

        topo = await run("describe", "pvc", "topo")
        assert "Status:        Pending" in topo
        assert event_rows(topo) == [("Normal", "WaitForFirstConsumer", "persistentvolume-controller",
                                     "waiting for first consumer to be created before binding")]

        fast = await run("describe", "pvc", "fast")
        assert f"volume.beta.kubernetes.io/storage-provisioner: {DRIVER}" in fast
        assert f"volume.kubernetes.io/storage-provisioner: {DRIVER}" in fast
        assert "Finalizers:    [kubernetes.io/pvc-protection]" in fast
        assert set(event_rows(fast)) == {(
            "Normal", "ExternalProvisioning", "persistentvolume-controller",
            f"Waiting for a volume to be created either by the external provisioner '{DRIVER}' or manually by "
            "the system administrator. If volume creation is delayed, please verify that the provisioner is "
            "running and correctly registered.")}

        lost = await run("describe", "pvc", "lost")
        assert set(event_rows(lost)) == {("Warning", "ProvisioningFailed", "persistentvolume-controller",
                                          'storageclass.storage.k8s.io "nope" not found')}
