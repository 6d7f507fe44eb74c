"""Volume expansion driven by real kubectl 1.35: ``kubectl patch pvc`` grows a claim on the
expandable default class through the resizer (FileSystemResizePending while no pod uses it) and
the kubelet (when a pod starts); a class without ``allowVolumeExpansion`` and a shrink are refused
with the upstream messages; ``kubectl describe pvc`` shows the conditions and events."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

pytestmark = pytest.mark.e2e

DRIVER = "diskplugin.csi.alibabacloud.com"
FAST = {"cloud": {"durations": {"createDisk": "0.1s", "attachDisk": "0.1s", "resizeDisk": "0.2s"}},
        "timings": {"podStartDelay": "0.1s", "imagePullDelay": "0.1s", "volumeMountDelay": "0.05s"}}
NO_EXPAND_CLASS = """apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fixed-size
provisioner: diskplugin.csi.alibabacloud.com
parameters:
  type: cloud_ssd
"""
CLAIMS = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: grow
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 20Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: fixed
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fixed-size
  resources:
    requests:
      storage: 20Gi
"""
POD = """apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
  - name: app
    image: nginx
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: grow
"""


def event_rows(describe: str) -> list[tuple[str, str, str, str]]:
    """(type, reason, from, message) of the Events table."""
    rows = []
    for line in describe.split("\nEvents:\n", 1)[1].splitlines()[2:]:
        m = re.match(r"^  (\S+)\s{2,}(\S+)\s{2,}(.+?)\s{2,}(\S.*?)\s{2,}(.*)$", line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(4), m.group(5)))
    return rows


def condition_rows(describe: str) -> list[list[str]]:
    """The rows of ``kubectl describe pvc``'s Conditions table (Type, Status, ..., Message)."""
    if "\nConditions:\n" not in describe:
        return []
    section = describe.split("\nConditions:\n", 1)[1]
    rows = []
    for line in section.splitlines()[2:]:
        if not line.startswith("  "):
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_kubectl_volume_expansion(tmp_path: Path) -> None:
    binary = kb.kubectl_binary("1.35")
    if binary is None:
        pytest.skip("kubectl 1.35 is not available")
    home = tmp_path / "home"
    home.mkdir()
    config = ClusterConfig.from_dict({**ClusterConfig.default().model_dump(mode="json", exclude_unset=True),
                                      **FAST})
    async with Cluster(config, serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        env = {**os.environ, "HOME": str(home), "KUBECACHEDIR": str(home / "cache"),
               "KUBECONFIG": str(c.kubeconfig_path)}

        async def kubectl(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
            proc = await asyncio.create_subprocess_exec(
                str(binary), *args, env=env, stdin=asyncio.subprocess.PIPE if stdin else None,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), timeout=60)
            return proc.returncode or 0, out.decode(), err.decode()

        async def ok(*args: str, stdin: str | None = None) -> str:
            rc, out, err = await kubectl(*args, stdin=stdin)
            assert rc == 0, err
            return out

        async def claim(name: str) -> Any:
            return json.loads(await ok("get", "pvc", name, "-o", "json"))

        await ok("apply", "-f", "-", stdin=NO_EXPAND_CLASS)
        await ok("apply", "-f", "-", stdin=CLAIMS)

        async def both_bound() -> bool:
            phases = [(await c.client.get("pvc", n, "default"))["status"].get("phase") for n in ("grow", "fixed")]
            return phases == ["Bound", "Bound"]

        await wait_for(both_bound, "both claims to be bound")

        # A class without allowVolumeExpansion: 403 from the PersistentVolumeClaimResize plugin.
        rc, _, err = await kubectl("patch", "pvc", "fixed", "-p",
                                   '{"spec":{"resources":{"requests":{"storage":"30Gi"}}}}')
        assert rc != 0
        assert err.strip() == (
            'Error from server (Forbidden): persistentvolumeclaims "fixed" is forbidden: only dynamically '
            "provisioned pvc can be resized and the storageclass that provisions the pvc must support resize")

        # The expandable default class: the controller part runs, the node part waits for a pod.
        out = await ok("patch", "pvc", "grow", "-p", '{"spec":{"resources":{"requests":{"storage":"30Gi"}}}}')
        assert out.strip() == "persistentvolumeclaim/grow patched"
        pv_name = (await claim("grow"))["spec"]["volumeName"]

        async def pending() -> bool:
            status = (await c.client.get("pvc", "grow", "default"))["status"]
            return (status.get("allocatedResourceStatuses") or {}).get("storage") == "NodeResizePending"

        await wait_for(pending, "NodeResizePending")
        pv = json.loads(await ok("get", "pv", pv_name, "-o", "json"))
        assert pv["spec"]["capacity"]["storage"] == "30Gi"
        grow = await claim("grow")
        assert grow["status"]["capacity"]["storage"] == "20Gi"
        assert grow["status"]["allocatedResources"]["storage"] == "30Gi"
        described = await ok("describe", "pvc", "grow")
        assert "Capacity:      20Gi" in described
        conditions = condition_rows(described)
        assert [row[:2] for row in conditions] == [["Resizing", "True"], ["FileSystemResizePending", "True"]]
        assert conditions[1][-1] == ("Waiting for user to (re-)start a pod to finish file system resize "
                                     "of volume on node.")
        rows = event_rows(described)
        assert ("Warning", "ExternalExpanding", "volume_expand",
                "waiting for an external controller to expand this PVC") in rows
        source = f"external-resizer {DRIVER}"
        assert ("Normal", "Resizing", source, f"External resizer is resizing volume {pv_name}") in rows
        assert ("Normal", "FileSystemResizeRequired", source, "Require file system resize of volume on node") in rows

        # Shrinking to (or below) the current capacity is invalid.
        rc, _, err = await kubectl("patch", "pvc", "grow", "-p",
                                   '{"spec":{"resources":{"requests":{"storage":"10Gi"}}}}')
        assert rc != 0
        assert err.strip() == ('The PersistentVolumeClaim "grow" is invalid: spec.resources.requests.storage: '
                               "Forbidden: field can not be less than status.capacity")

        # A pod starts: the kubelet grows the file system and the claim reaches its new size.
        await ok("apply", "-f", "-", stdin=POD)

        async def finished() -> bool:
            status = (await c.client.get("pvc", "grow", "default"))["status"]
            return (status.get("capacity") or {}).get("storage") == "30Gi"

        await wait_for(finished, "the claim to reach 30Gi")
        table = await ok("get", "pvc", "grow")
        assert re.search(r"^grow\s+Bound\s+" + re.escape(pv_name) + r"\s+30Gi\s+RWO\s+alicloud-disk-ssd",
                         table, re.M), table
        described = await ok("describe", "pvc", "grow")
        assert condition_rows(described) == []
        node = (await c.client.get("pods", "app", "default"))["spec"]["nodeName"]
        assert ("Normal", "FileSystemResizeSuccessful", "kubelet",
                f'MountVolume.NodeExpandVolume succeeded for volume "{pv_name}" {node}') in event_rows(described)
        assert c.cloud.disks[pv["spec"]["csi"]["volumeHandle"]].size_gib == 30
