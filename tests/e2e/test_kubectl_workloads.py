"""Workloads through real kubectl: a Deployment rolls out, scales, rolls to a new image and is
deleted with its pods; a StatefulSet with a claim template gets Running pods and Bound claims.

The served cluster runs on the real clock (the fake kubelet starts pods in about two seconds), so
waits are kubectl's own (``rollout status``, ``wait``) with bounded timeouts.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from kubectl_runner import Kubectl

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts: [{name: data, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: alicloud-disk-topology
      resources: {requests: {storage: 20Gi}}
"""


async def pod_names(kubectl: Kubectl, selector: str) -> list[str]:
    out = await kubectl.ok("get", "pods", "-l", selector, "-o", "json")
    return sorted(p["metadata"]["name"] for p in json.loads(out)["items"]
                  if not p["metadata"].get("deletionTimestamp"))


async def wait_gone(kubectl: Kubectl, selector: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        out = await kubectl.ok("get", "pods", "-l", selector, "-o", "name")
        if not out.strip():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"pods {selector} still there after {timeout}s")


async def test_deployment_lifecycle(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "deployment", "nginx", "--image=nginx:1.27", "--replicas=3")
    out = await kubectl.ok("rollout", "status", "deployment/nginx", "--timeout=60s", timeout=90)
    assert 'deployment "nginx" successfully rolled out' in out
    assert len(await pod_names(kubectl, "app=nginx")) == 3
    table = await kubectl.ok("get", "deploy", "nginx")
    assert table.splitlines()[1].split()[:4] == ["nginx", "3/3", "3", "3"]

    assert (await kubectl.ok("scale", "deployment", "nginx", "--replicas=4")).strip() == "deployment.apps/nginx scaled"
    await kubectl.ok("rollout", "status", "deployment/nginx", "--timeout=60s", timeout=90)
    assert len(await pod_names(kubectl, "app=nginx")) == 4

    out = await kubectl.ok("set", "image", "deployment/nginx", "nginx=nginx:1.28")
    assert out.strip() == "deployment.apps/nginx image updated"
    out = await kubectl.ok("rollout", "status", "deployment/nginx", "--timeout=90s", timeout=120)
    assert 'deployment "nginx" successfully rolled out' in out
    rs = json.loads(await kubectl.ok("get", "rs", "-l", "app=nginx", "-o", "json"))["items"]
    assert len(rs) == 2
    by_revision = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r for r in rs}
    assert by_revision["1"]["spec"]["replicas"] == 0 and by_revision["2"]["spec"]["replicas"] == 4
    table = await kubectl.ok("get", "rs", "-l", "app=nginx")
    assert all(r["metadata"]["name"] in table for r in rs)
    history = await kubectl.ok("rollout", "history", "deployment/nginx")
    assert "1" in history and "2" in history
    events = await kubectl.ok("get", "events", "--field-selector", "involvedObject.name=nginx")
    assert "ScalingReplicaSet" in events

    assert (await kubectl.ok("rollout", "restart", "deployment/nginx")).strip() == "deployment.apps/nginx restarted"
    await kubectl.ok("rollout", "status", "deployment/nginx", "--timeout=90s", timeout=120)
    assert len(json.loads(await kubectl.ok("get", "rs", "-l", "app=nginx", "-o", "json"))["items"]) == 3

    out = await kubectl.ok("rollout", "undo", "deployment/nginx", "--to-revision=1")
    assert out.strip() == "deployment.apps/nginx rolled back"
    await kubectl.ok("rollout", "status", "deployment/nginx", "--timeout=90s", timeout=120)
    rs = json.loads(await kubectl.ok("get", "rs", "-l", "app=nginx", "-o", "json"))["items"]
    assert len(rs) == 3  # the first ReplicaSet came back with the next revision
    live = [r for r in rs if r["spec"]["replicas"] == 4]
    assert len(live) == 1 and live[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    assert live[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"

    await kubectl.ok("delete", "deployment", "nginx")
    await wait_gone(kubectl, "app=nginx")
    assert not (await kubectl.ok("get", "rs", "-l", "app=nginx", "-o", "name")).strip()


async def test_statefulset_with_claims(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(STATEFULSET))
    out = await kubectl.ok("rollout", "status", "statefulset/web", "--timeout=90s", timeout=120)
    assert "partitioned roll out complete" in out or "rolling update complete" in out
    await kubectl.ok("wait", "--for=condition=Ready", "pod/web-0", "pod/web-1", "--timeout=60s", timeout=90)
    assert await pod_names(kubectl, "app=web") == ["web-0", "web-1"]
    pvcs = await kubectl.ok("get", "pvc")
    lines = {line.split()[0]: line.split() for line in pvcs.splitlines()[1:]}
    assert lines["data-web-0"][1] == "Bound" and lines["data-web-1"][1] == "Bound"
    sts = await kubectl.ok("get", "sts", "web")
    assert sts.splitlines()[1].split()[:2] == ["web", "2/2"]
    await kubectl.ok("delete", "statefulset", "web")
    await wait_gone(kubectl, "app=web")
    # The claims outlive the set (retention policy Retain, the default), as on a real cluster.
    assert "data-web-0" in await kubectl.ok("get", "pvc")
    await kubectl.ok("delete", "pvc", "data-web-0", "data-web-1")


DAEMONSET = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox:1.36}]
"""


async def test_daemonset_on_every_worker(kubectl: Kubectl) -> None:
    await kubectl.ok("apply", "-f", kubectl.write(DAEMONSET))
    out = await kubectl.ok("rollout", "status", "daemonset/agent", "--timeout=60s", timeout=90)
    assert 'daemon set "agent" successfully rolled out' in out
    pods = json.loads(await kubectl.ok("get", "pods", "-l", "app=agent", "-o", "json"))["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node1", "node2"]  # master is tainted
    row = (await kubectl.ok("get", "ds", "agent")).splitlines()[1].split()
    assert row[:6] == ["agent", "2", "2", "2", "2", "2"]
    await kubectl.ok("delete", "ds", "agent")
    await wait_gone(kubectl, "app=agent")
