"""The controllers and kube-system pods of a real cluster, through real kubectl 1.35: system pods
Running in ``get pods -A``, the provisioner's real log lines, EndpointSlices of a Service,
``rollout history``/``undo`` of StatefulSets and DaemonSets, and ``drain`` honouring a
PodDisruptionBudget.

The served cluster runs on the real clock (pods start in about two seconds); waits are kubectl's
own (``rollout status``, ``wait``) with bounded timeouts. Only kubectl 1.35 runs these (the
reference version); the other binaries are covered by the rest of the e2e suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from kubectl_runner import Kubectl

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: hist}
spec:
  serviceName: hist
  replicas: 2
  selector: {matchLabels: {app: hist}}
  template:
    metadata: {labels: {app: hist}}
    spec:
      containers: [{name: nginx, image: "nginx:1.27", ports: [{name: http, containerPort: 8080}]}]
"""

DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "busybox:1.36"}]
"""

PVC = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: logged}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: alicloud-disk-ssd
  resources: {requests: {storage: 20Gi}}
"""




async def images(kubectl: Kubectl, selector: str) -> set[str]:
    out = json.loads(await kubectl.ok("get", "pods", "-l", selector, "-o", "json"))
    return {p["spec"]["containers"][0]["image"] for p in out["items"] if not p["metadata"].get("deletionTimestamp")}


#: kubectl's "skipped rollback" check compares the revision's bytes with its own encoding of the
#: template; a kubectl older than the supported skew (one minor below the server) encodes it from
#: its own, older API types, so only kubectl 1.34 and newer are held to that line.
SKEW_OLDEST_MINOR = 34

async def test_system_pods_are_running(kubectl: Kubectl) -> None:
    await kubectl.ok("wait", "--for=condition=Ready", "pods", "--all", "-n", "kube-system", "--timeout=60s",
                     timeout=90)
    out = await kubectl.ok("get", "pods", "-A")
    rows = [line.split() for line in out.splitlines()[1:]]
    system = {r[1]: r for r in rows if r[0] == "kube-system"}
    for name in ("kube-apiserver-master", "kube-controller-manager-master", "kube-scheduler-master"):
        assert system[name][2:4] == ["1/1", "Running"]
    assert sum(1 for n in system if n.startswith("coredns-")) == 2
    provisioner = [r for n, r in system.items() if n.startswith("csi-provisioner-")]
    assert len(provisioner) == 1 and provisioner[0][2:4] == ["4/4", "Running"]
    assert sum(1 for n in system if n.startswith("csi-plugin-")) == 3
    assert any(n.startswith("snapshot-controller-") for n in system)


async def test_provisioner_log_shows_the_provisioning(kubectl: Kubectl) -> None:
    # As on a real node, a container that has not started yet has no log to read.
    await kubectl.ok("wait", "--for=condition=Ready", "pods", "-l", "app=csi-provisioner", "-n", "kube-system",
                     "--timeout=60s", timeout=90)
    await kubectl.ok("apply", "-f", kubectl.write(PVC))
    await kubectl.ok("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/logged", "--timeout=60s", timeout=90)
    pv = (await kubectl.ok("get", "pvc", "logged", "-o", "jsonpath={.spec.volumeName}")).strip()
    pod = (await kubectl.ok("get", "pods", "-n", "kube-system", "-l", "app=csi-provisioner", "-o", "name")).strip()
    out = await kubectl.ok("logs", "-n", "kube-system", pod, "-c", "csi-provisioner")
    assert 'provision "default/logged" class "alicloud-disk-ssd": started' in out
    assert f'"CreateVolume" driver="diskplugin.csi.alibabacloud.com" name="{pv}"' in out
    assert f"successfully created PV {pv} for PVC logged" in out
    last = await kubectl.ok("logs", "-n", "kube-system", pod, "-c", "csi-provisioner", "--tail=1", "--timestamps")
    assert len(last.splitlines()) == 1 and last.split(" ", 1)[1].strip() == out.splitlines()[-1]
    scheduler = await kubectl.ok("logs", "-n", "kube-system", "kube-scheduler-master")
    assert '"Successfully bound pod to node" pod="kube-system/coredns-' in scheduler


async def test_following_the_provisioner_log(kubectl: Kubectl) -> None:
    """``logs -f`` streams the component's new lines as it works (bounded: killed after the check)."""
    await kubectl.ok("wait", "--for=condition=Ready", "pods", "-l", "app=csi-provisioner", "-n", "kube-system",
                     "--timeout=60s", timeout=90)
    pod = (await kubectl.ok("get", "pods", "-n", "kube-system", "-l", "app=csi-provisioner", "-o", "name")).strip()
    proc = await asyncio.create_subprocess_exec(
        str(kubectl.binary), "logs", "-f", "-n", "kube-system", pod, "-c", "csi-provisioner", "--tail=0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=kubectl.env(), cwd=kubectl.workdir)
    try:
        await asyncio.sleep(1.0)
        await kubectl.ok("apply", "-f", kubectl.write(PVC.replace("name: logged", "name: followed")))
        assert proc.stdout is not None
        seen = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while "successfully created PV" not in seen:
            assert loop.time() < deadline, seen
            line = await asyncio.wait_for(proc.stdout.readline(), max(deadline - loop.time(), 0.1))
            assert line, "the follow stream ended early"
            seen += line.decode()
        assert 'provision "default/followed" class "alicloud-disk-ssd": started' in seen
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def test_endpointslices_of_a_service(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "deployment", "eps", "--image=nginx:1.27", "--replicas=2", "--port=80")
    await kubectl.ok("expose", "deployment", "eps", "--port=8080", "--target-port=80")
    await kubectl.ok("rollout", "status", "deployment/eps", "--timeout=60s", timeout=90)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        slices = json.loads(await kubectl.ok("get", "endpointslices", "-l", "kubernetes.io/service-name=eps",
                                             "-o", "json"))["items"]
        if slices and len(slices[0].get("endpoints") or []) == 2 and \
                all(e["conditions"]["ready"] for e in slices[0]["endpoints"]):
            break
        assert loop.time() < deadline, slices
        await asyncio.sleep(0.3)
    [sl] = slices
    assert sl["metadata"]["name"].startswith("eps-") and sl["addressType"] == "IPv4"
    assert sl["ports"] == [{"name": "", "port": 80, "protocol": "TCP"}]
    assert sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    names = (await kubectl.ok("get", "endpointslices", "-o", "name")).split()
    assert f"endpointslice.discovery.k8s.io/{sl['metadata']['name']}" in names
    assert "endpointslice.discovery.k8s.io/kubernetes" in names
    ep = json.loads(await kubectl.ok("get", "endpoints", "eps", "-o", "json"))
    assert len(ep["subsets"][0]["addresses"]) == 2


async def test_statefulset_rollout_history_and_undo(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(STATEFULSET))
    await kubectl.ok("rollout", "status", "sts/hist", "--timeout=60s", timeout=90)
    await kubectl.ok("set", "image", "sts/hist", "nginx=nginx:1.28")
    await kubectl.ok("rollout", "status", "sts/hist", "--timeout=60s", timeout=90)
    assert await images(kubectl, "app=hist") == {"nginx:1.28"}
    history = await kubectl.ok("rollout", "history", "sts/hist")
    assert [line.split() for line in history.splitlines()[1:] if line.strip()] == [
        ["REVISION", "CHANGE-CAUSE"], ["1", "<none>"], ["2", "<none>"]]
    rev1 = await kubectl.ok("rollout", "history", "sts/hist", "--revision=1")
    assert "statefulset.apps/hist with revision #1" in rev1 and "Image:\tnginx:1.27" in rev1
    out = await kubectl.ok("rollout", "undo", "sts/hist")
    assert out.strip() == "statefulset.apps/hist rolled back"
    await kubectl.ok("rollout", "status", "sts/hist", "--timeout=60s", timeout=90)
    assert await images(kubectl, "app=hist") == {"nginx:1.27"}
    history = await kubectl.ok("rollout", "history", "sts/hist")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    # kubectl compares its own encoding of the set with the revision's bytes: nothing to do.
    if kubectl.minor >= SKEW_OLDEST_MINOR:
        again = await kubectl.ok("rollout", "undo", "sts/hist", "--to-revision=3")
        assert again.strip() == "statefulset.apps/hist skipped rollback (current template already matches revision 3)"


async def test_daemonset_rollout_history_and_undo(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(DAEMONSET))
    await kubectl.ok("rollout", "status", "ds/agent", "--timeout=60s", timeout=90)
    await kubectl.ok("set", "image", "ds/agent", "agent=busybox:1.37")
    await kubectl.ok("rollout", "status", "ds/agent", "--timeout=60s", timeout=90)
    assert await images(kubectl, "app=agent") == {"busybox:1.37"}
    history = await kubectl.ok("rollout", "history", "ds/agent")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    rev2 = await kubectl.ok("rollout", "history", "ds/agent", "--revision=2")
    assert "Image:\tbusybox:1.37" in rev2
    assert (await kubectl.ok("rollout", "undo", "ds/agent")).strip() == "daemonset.apps/agent rolled back"
    await kubectl.ok("rollout", "status", "ds/agent", "--timeout=60s", timeout=90)
    assert await images(kubectl, "app=agent") == {"busybox:1.36"}
    if kubectl.minor >= SKEW_OLDEST_MINOR:
        again = await kubectl.ok("rollout", "undo", "ds/agent", "--to-revision=3")
        assert again.strip() == "daemonset.apps/agent skipped rollback (current template already matches revision 3)"


async def test_drain_honours_the_disruption_budget(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "deployment", "drainme", "--image=nginx:1.27", "--replicas=2")
    await kubectl.ok("rollout", "status", "deployment/drainme", "--timeout=60s", timeout=90)
    pods = json.loads(await kubectl.ok("get", "pods", "-l", "app=drainme", "-o", "json"))["items"]
    node = pods[0]["spec"]["nodeName"]
    await kubectl.ok("create", "pdb", "drainme", "--selector=app=drainme", "--min-available=2")
    await kubectl.ok("wait", "--for=jsonpath={.status.observedGeneration}=1", "pdb/drainme", "--timeout=30s")
    blocked = await kubectl.fail("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=7s",
                                 timeout=60)
    assert "Cannot evict pod as it would violate the pod's disruption budget." in blocked.err
    assert "(will retry after 5s)" in blocked.err
    await kubectl.ok("delete", "pdb", "drainme")
    await kubectl.ok("create", "pdb", "drainme", "--selector=app=drainme", "--max-unavailable=1")
    await kubectl.ok("wait", "--for=jsonpath={.status.disruptionsAllowed}=1", "pdb/drainme", "--timeout=30s")
    result = await kubectl.run("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s",
                               timeout=90)
    assert result.rc == 0, result
    assert f"node/{node} drained" in result.out
    assert "evicted" in result.out
    await kubectl.ok("rollout", "status", "deployment/drainme", "--timeout=60s", timeout=90)
    moved = json.loads(await kubectl.ok("get", "pods", "-l", "app=drainme", "-o", "json"))["items"]
    assert all(p["spec"]["nodeName"] != node for p in moved if not p["metadata"].get("deletionTimestamp"))
    await kubectl.ok("uncordon", node)
