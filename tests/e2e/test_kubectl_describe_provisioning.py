"""``kubectl describe pvc`` (real kubectl 1.35) shows the external provisioner's events as a real
cluster does (storage.md §3.2): ``Provisioning`` then ``ProvisioningSucceeded`` from
``<driver>_<host>_<uuid>``, after the PV controller's ``ExternalProvisioning``; and a bound claim."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.sidecars.provisioning.controller import ExternalProvisioners
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
    ExternalProvisioners,
]
DRIVER = "diskplugin.csi.alibabacloud.com"


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


async def test_describe_pvc_shows_the_provisioner_events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = kb.kubectl_binary("1.35")
    if binary is None:
        pytest.skip("kubectl 1.35 is not available")
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", CONTROLLERS)
    config = ClusterConfig.default()
    config.cloud.durations.createDisk = 0.05  # real clock here: keep the disk quick
    (tmp_path / "home").mkdir()
    async with Cluster(config, serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        assert c.kubeconfig_path is not None
        pvc = await c.client.create("pvc", {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "fast"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "alicloud-disk-ssd",
                     "resources": {"requests": {"storage": "20Gi"}}}}, "default")
        uid = pvc["metadata"]["uid"]
        for _ in range(250):
            await asyncio.sleep(0.02)
            got = await c.client.get("pvc", "fast", "default")
            if got["status"].get("phase") == "Bound":
                break
        assert got["status"]["phase"] == "Bound"
        out = await kubectl(binary, c.kubeconfig_path, tmp_path / "home", "describe", "pvc", "fast")
        assert "Status:        Bound" in out
        assert f"Volume:        pvc-{uid}" in out
        rows = event_rows(out)
        reasons = [r[1] for r in rows]
        assert reasons.index("ExternalProvisioning") < reasons.index("Provisioning") \
            < reasons.index("ProvisioningSucceeded")
        by_reason = {r[1]: r for r in rows}
        source = re.escape(DRIVER) + r"_csi-provisioner-[0-9a-f]{10}-[a-z0-9]{5}_[0-9a-f-]{36}"
        assert by_reason["Provisioning"][0] == "Normal"
        assert re.fullmatch(source, by_reason["Provisioning"][2]), by_reason["Provisioning"]
        assert by_reason["Provisioning"][3] == 'External provisioner is provisioning volume for claim "default/fast"'
        assert by_reason["ProvisioningSucceeded"][0] == "Normal"
        assert re.fullmatch(source, by_reason["ProvisioningSucceeded"][2])
        assert by_reason["ProvisioningSucceeded"][3] == f"Successfully provisioned volume pvc-{uid}"
