"""Issue 3 through real kubectl binaries: discovery, tables, describe, explain, wait, delete, logs.

Each test asserts on what kubectl prints (headers, markers, ``Events:`` lines, ``condition met``,
``deleted``) and, where it wrote something, on the objects the server then holds. Objects the
test needs are created with kubectl itself (``create -f`` with the default ``--validate=strict``)
or, for events, with the cluster's own event recorder (what a controller would do).
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import yaml
from kubectl_runner import Kubectl

from minikube_lite.apiserver.errors import ApiError
from minikube_lite.client.events import EventRecorder

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

PVC_AND_POD = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}-data
  labels: {{app: {name}}}
spec:
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 20Gi}}}}
---
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}, tier: {tier}}}
spec:
  containers:
  - name: app
    image: nginx:1.27
    resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
    volumeMounts: [{{name: data, mountPath: /data}}]
  volumes:
  - name: data
    persistentVolumeClaim: {{claimName: {name}-data}}
"""

PV = """\
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {name}
spec:
  capacity: {{storage: 5Gi}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local: {{path: /mnt/disks/{name}}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {{key: kubernetes.io/hostname, operator: In, values: [node1]}}
"""


def header(text: str) -> list[str]:
    """The column names of the first table line (split on the tabwriter's runs of spaces)."""
    first = next(line for line in text.splitlines() if line.strip())
    return re.split(r"\s{2,}", first.strip())


def row(text: str, name: str) -> list[str]:
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if name in cells[0].split("/") or cells[0] == name or (len(cells) > 1 and cells[1] == name):
            return cells
    raise AssertionError(f"no row for {name!r} in:\n{text}")


async def make_pod(kubectl: Kubectl, name: str, tier: str = "fe") -> None:
    out = await kubectl.ok("create", "-f", str(kubectl.write(PVC_AND_POD.format(name=name, tier=tier))))
    assert f"persistentvolumeclaim/{name}-data created" in out
    assert f"pod/{name} created" in out


async def stored(kubectl: Kubectl, resource: str, name: str, namespace: str | None = "default") -> dict | None:
    try:
        return await kubectl.cluster.client.get(resource, name, namespace)
    except ApiError as err:
        if err.code == 404:
            return None
        raise


# ------------------------------------------------------------------------------------- discovery


async def test_version(kubectl: Kubectl) -> None:
    out = await kubectl.ok("version")
    assert "Client Version: v1." in out
    assert "Server Version: v1.35.0" in out
    info = json.loads(await kubectl.ok("version", "-o", "json"))
    assert (info["serverVersion"]["major"], info["serverVersion"]["minor"]) == ("1", "35")


async def test_api_resources(kubectl: Kubectl) -> None:
    out = await kubectl.ok("api-resources")
    assert header(out) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert row(out, "pods") == ["pods", "po", "v1", "true", "Pod"]
    assert row(out, "persistentvolumeclaims") == ["persistentvolumeclaims", "pvc", "v1", "true",
                                                  "PersistentVolumeClaim"]
    assert row(out, "storageclasses") == ["storageclasses", "sc", "storage.k8s.io/v1", "false", "StorageClass"]
    assert row(out, "volumesnapshots") == ["volumesnapshots", "vs", "snapshot.storage.k8s.io/v1", "true",
                                           "VolumeSnapshot"]
    assert row(out, "customresourcedefinitions")[1] == "crd,crds"
    names = (await kubectl.ok("api-resources", "--api-group=snapshot.storage.k8s.io", "-o", "name")).split()
    assert sorted(names) == ["volumesnapshotclasses.snapshot.storage.k8s.io",
                             "volumesnapshotcontents.snapshot.storage.k8s.io",
                             "volumesnapshots.snapshot.storage.k8s.io"]
    wide = await kubectl.ok("api-resources", "-o", "wide", "--namespaced=false")
    assert header(wide)[-2:] == ["VERBS", "CATEGORIES"] or header(wide)[-1] == "VERBS"
    assert "persistentvolumes" in wide and "pods " not in wide


async def test_api_versions(kubectl: Kubectl) -> None:
    versions = (await kubectl.ok("api-versions")).split()
    for gv in ("v1", "apps/v1", "storage.k8s.io/v1", "snapshot.storage.k8s.io/v1", "apiextensions.k8s.io/v1",
               "coordination.k8s.io/v1", "events.k8s.io/v1"):
        assert gv in versions
    assert versions == sorted(versions)


# ------------------------------------------------------------------------------------------ tables


async def test_get_nodes_table_and_wide(kubectl: Kubectl) -> None:
    out = await kubectl.ok("get", "nodes")
    assert header(out) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert row(out, "master")[:3] == ["master", "Ready", "control-plane"]
    assert row(out, "node1")[:3] == ["node1", "Ready", "<none>"]
    assert row(out, "node1")[4] == "v1.35.0"
    wide = await kubectl.ok("get", "no", "-o", "wide")
    assert header(wide) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE",
                            "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    assert re.match(r"\d+\.\d+\.\d+\.\d+", row(wide, "node2")[5])


async def test_get_storageclasses_default_marker(kubectl: Kubectl) -> None:
    out = await kubectl.ok("get", "sc")
    assert header(out) == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"]
    defaults = [line.split()[0] for line in out.splitlines() if "(default)" in line]
    assert len(defaults) == 1, out
    local = row(out, "local-storage")
    assert local[1:4] == ["kubernetes.io/no-provisioner", "Retain", "WaitForFirstConsumer"]


async def test_create_strict_and_get_pods_and_pvcs(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "tbl")
    pods = await kubectl.ok("get", "po")
    assert header(pods) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    cells = row(pods, "tbl")
    assert cells[1] in ("0/1", "1/1")   # ready once the kubelet has started it
    assert cells[3] == "0"
    wide = await kubectl.ok("get", "pod", "tbl", "-o", "wide")
    assert header(wide) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                            "READINESS GATES"]
    pvcs = await kubectl.ok("get", "pvc")
    assert header(pvcs) == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                            "VOLUMEATTRIBUTESCLASS", "AGE"]
    assert row(pvcs, "tbl-data")[0] == "tbl-data"
    claim = await stored(kubectl, "pvc", "tbl-data")
    assert claim is not None and claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    # the default class was filled in by admission
    assert claim["spec"]["storageClassName"]
    both = await kubectl.ok("get", "pvc,pods", "-o", "name")
    assert "persistentvolumeclaim/tbl-data" in both.split() and "pod/tbl" in both.split()


async def test_get_pv_table(kubectl: Kubectl) -> None:
    out = await kubectl.ok("create", "-f", str(kubectl.write(PV.format(name="pv-tbl"))))
    assert out.strip() == "persistentvolume/pv-tbl created"
    table = await kubectl.ok("get", "pv", "pv-tbl")
    assert header(table) == ["NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS",
                             "VOLUMEATTRIBUTESCLASS", "REASON", "AGE"]
    cells = row(table, "pv-tbl")
    assert cells[1:4] == ["5Gi", "RWO", "Retain"]
    assert cells[4] in ("Available", "Pending")


async def test_output_formats(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "fmt")
    as_yaml = yaml.safe_load(await kubectl.ok("get", "pod", "fmt", "-o", "yaml"))
    assert as_yaml["kind"] == "Pod" and as_yaml["metadata"]["name"] == "fmt"
    assert as_yaml["spec"]["containers"][0]["image"] == "nginx:1.27"
    as_json = json.loads(await kubectl.ok("get", "pvc", "fmt-data", "-o", "json"))
    assert as_json["spec"]["accessModes"] == ["ReadWriteOnce"]
    listed = json.loads(await kubectl.ok("get", "pods", "-l", "app=fmt", "-o", "json"))
    assert listed["kind"] == "List" and [i["metadata"]["name"] for i in listed["items"]] == ["fmt"]
    jp = await kubectl.ok("get", "pod", "fmt", "-o", "jsonpath={.metadata.name}:{.spec.containers[0].name}")
    assert jp == "fmt:app"
    assert (await kubectl.ok("get", "pod", "fmt", "-o", "name")).strip() == "pod/fmt"
    cols = await kubectl.ok("get", "pod", "fmt", "-o", "custom-columns=N:.metadata.name,C:.spec.containers[*].name")
    assert cols.split() == ["N", "C", "fmt", "app"]


async def test_selectors_label_columns_sort_and_all_namespaces(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "sel-b", tier="be")
    await make_pod(kubectl, "sel-a", tier="fe")
    out = await kubectl.ok("get", "pods", "-l", "tier=be,app=sel-b")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["sel-b"]
    shown = await kubectl.ok("get", "pods", "-l", "app in (sel-a,sel-b)", "--show-labels")
    assert header(shown)[-1] == "LABELS"
    assert row(shown, "sel-a")[-1] == "app=sel-a,tier=fe"
    with_col = await kubectl.ok("get", "pods", "-l", "app in (sel-a,sel-b)", "-L", "tier")
    assert header(with_col)[-1] == "TIER"
    assert row(with_col, "sel-b")[-1] == "be"
    ordered = await kubectl.ok("get", "pods", "-l", "app in (sel-a,sel-b)", "--sort-by=.metadata.labels.tier",
                               "-o", "name")
    assert ordered.split() == ["pod/sel-b", "pod/sel-a"]
    everywhere = await kubectl.ok("get", "pods", "-A", "-l", "app=sel-a")
    assert header(everywhere)[:2] == ["NAMESPACE", "NAME"]
    assert row(everywhere, "sel-a")[0] == "default"
    namespaces = await kubectl.ok("get", "ns")
    assert header(namespaces) == ["NAME", "STATUS", "AGE"]
    assert row(namespaces, "kube-system")[1] == "Active"
    empty = await kubectl.run("get", "pods", "-l", "app=nothing-here")
    assert empty.rc == 0 and "No resources found in default namespace." in empty.err


async def test_get_all_category(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "every")
    out = await kubectl.ok("get", "all")
    assert "pod/every" in out
    assert "persistentvolumeclaim" not in out  # PVCs are not in the "all" category


async def test_get_events_crds_and_snapshots(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "evt")
    claim = await kubectl.cluster.client.get("pvc", "evt-data", "default")
    recorder = EventRecorder(kubectl.cluster.client, "persistentvolume-controller", kubectl.cluster.clock)
    await recorder.event(claim, "Normal", "E2eRecorded", "recorded by the e2e test")
    events = await kubectl.ok("get", "events", "--field-selector", "involvedObject.name=evt-data,reason=E2eRecorded")
    assert header(events) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    cells = row(events, "Normal")
    assert cells[1:] == ["Normal", "E2eRecorded", "persistentvolumeclaim/evt-data", "recorded by the e2e test"]
    wide = await kubectl.ok("get", "events", "-o", "wide", "--field-selector", "reason=E2eRecorded")
    assert header(wide) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN",
                            "COUNT", "NAME"]
    assert re.search(r"\s1\s+evt-data\.[0-9a-f]+$", wide.splitlines()[1]), wide
    new_api = await kubectl.ok("get", "events.events.k8s.io", "--field-selector", "reason=E2eRecorded")
    assert "persistentvolumeclaim/evt-data" in new_api
    crds = await kubectl.ok("get", "crd")
    assert header(crds) == ["NAME", "CREATED AT"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row(crds, "volumesnapshots.snapshot.storage.k8s.io")[1])
    snap = ("apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: evt-snap}\n"
            "spec:\n  source: {persistentVolumeClaimName: evt-data}\n")
    assert (await kubectl.ok("create", "-f", str(kubectl.write(snap)))).strip() == \
        "volumesnapshot.snapshot.storage.k8s.io/evt-snap created"
    vs = await kubectl.ok("get", "vs")
    assert header(vs) == ["NAME", "READYTOUSE", "SOURCEPVC", "SOURCESNAPSHOTCONTENT", "RESTORESIZE", "SNAPSHOTCLASS",
                          "SNAPSHOTCONTENT", "CREATIONTIME", "AGE"]
    assert "evt-data" in row(vs, "evt-snap")
    assert "vsclass" in (await kubectl.ok("api-resources", "--api-group=snapshot.storage.k8s.io"))


async def test_event_source_column(kubectl: Kubectl) -> None:
    claim = await kubectl.cluster.client.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                               "metadata": {"name": "src-cm"}}, "default")
    recorder = EventRecorder(kubectl.cluster.client, "persistentvolume-controller", kubectl.cluster.clock)
    await recorder.event(claim, "Normal", "E2eSource", "who said this")
    wide = await kubectl.ok("get", "events", "-o", "wide", "--field-selector", "reason=E2eSource")
    line = next(x for x in wide.splitlines() if "E2eSource" in x)
    cells = re.split(r"\s{2,}", line.strip())
    assert cells[2:4] == ["E2eSource", "configmap/src-cm"], wide
    assert cells[4] == "persistentvolume-controller", wide


async def test_get_watch_prints_the_change(kubectl: Kubectl) -> None:
    baseline = kubectl.watchers("", "pods")
    watcher = await kubectl.spawn("get", "pods", "-l", "app=watched", "-w")
    try:
        await kubectl.watching("", "pods", baseline)
        await make_pod(kubectl, "watched")
        line = await watcher.read_until("watched")
        assert re.split(r"\s{2,}", line.strip())[:2] == ["watched", "0/1"]
        await kubectl.ok("label", "pod", "watched", "seen=yes")
        await watcher.read_until("watched")  # the MODIFIED event is printed as another row
        assert len([x for x in watcher.lines if x.startswith("watched")]) >= 2
    finally:
        await watcher.stop()


# ----------------------------------------------------------------------------------------- describe


async def test_describe_pod_with_events(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "dsc")
    pod = await kubectl.cluster.client.get("pods", "dsc", "default")
    recorder = EventRecorder(kubectl.cluster.client, "default-scheduler", kubectl.cluster.clock)
    await recorder.event(pod, "Warning", "FailedScheduling", "0/3 nodes are available: test message.")
    out = await kubectl.ok("describe", "pod", "dsc")
    assert re.search(r"^Name:\s+dsc$", out, re.M)
    assert re.search(r"^Namespace:\s+default$", out, re.M)
    assert re.search(r"^Labels:\s+app=dsc$", out, re.M)
    assert "Containers:\n  app:\n    Image:      nginx:1.27" in out
    assert re.search(r"ClaimName:\s+dsc-data", out)
    assert re.search(r"^Events:\n  Type\s+Reason\s+Age\s+From\s+Message\n  ----", out, re.M), out
    assert re.search(r"^  Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0/3 nodes are available: test "
                     r"message\.$", out, re.M), out


async def test_describe_node_sections(kubectl: Kubectl) -> None:
    out = await kubectl.ok("describe", "node", "node1")
    assert re.search(r"^Name:\s+node1$", out, re.M)
    assert re.search(r"^Roles:\s+<none>$", out, re.M)
    assert "topology.kubernetes.io/zone=cn-hangzhou-b" in out
    assert re.search(r"^Lease:", out, re.M)
    assert "Conditions:" in out and re.search(r"^  Ready\s+True", out, re.M)
    assert "Non-terminated Pods:" in out
    assert "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)" in out
    assert re.search(r"^  cpu\s+\d+m? \(\d+%\)\s+\d+m? \(\d+%\)$", out, re.M)
    assert re.search(r"^Events:", out, re.M)
    # a pod bound to node1 shows up with its share of the node's allocatable resources
    overrides = ('{"spec":{"nodeName":"node1","containers":[{"name":"np","image":"nginx","resources":'
                 '{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"memory":"128Mi"}}}]}}')
    await kubectl.ok("run", "on-node1", "--image=nginx", f"--overrides={overrides}")
    out = await kubectl.ok("describe", "node", "node1")
    assert re.search(r"^Non-terminated Pods:\s+\(\d+ in total\)$", out, re.M)
    assert re.search(r"^  default\s+on-node1\s+250m \(6%\)\s+0 \(0%\)\s+64Mi \(0%\)\s+128Mi \(1%\)\s+\S+$", out, re.M), out
    master = await kubectl.ok("describe", "no", "master")
    assert re.search(r"^Taints:\s+node-role.kubernetes.io/control-plane:NoSchedule$", master, re.M)


async def test_describe_node_lease_is_found(kubectl: Kubectl) -> None:
    """Real kubelets renew a Lease in kube-node-lease; describe prints its holder and renew time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await stored(kubectl, "leases.coordination.k8s.io", "node2", "kube-node-lease") is None:
        assert loop.time() < deadline, "the kubelet never created its node Lease"
        await asyncio.sleep(0.2)
    out = await kubectl.ok("describe", "node", "node2")
    assert re.search(r"^Lease:\n  HolderIdentity:\s+node2\n  AcquireTime:\s+<unset>\n  RenewTime:\s+\w{3}, ", out, re.M), out


async def test_describe_pvc_used_by_and_events(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "dpvc")
    claim = await kubectl.cluster.client.get("pvc", "dpvc-data", "default")
    recorder = EventRecorder(kubectl.cluster.client, "persistentvolume-controller", kubectl.cluster.clock)
    for _ in range(2):
        await recorder.event(claim, "Normal", "WaitForPodScheduled", "waiting for pod dpvc to be scheduled")
    out = await kubectl.ok("describe", "pvc", "dpvc-data")
    assert re.search(r"^Name:\s+dpvc-data$", out, re.M)
    assert re.search(r"^StorageClass:\s+\S+", out, re.M)
    assert re.search(r"^Finalizers:\s+\[kubernetes.io/pvc-protection\]$", out, re.M)
    assert re.search(r"^Used By:\s+dpvc$", out, re.M), out
    assert re.search(r"^  Normal\s+WaitForPodScheduled\s+\S+ \(x2 over \S+\)\s+persistentvolume-controller\s+"
                     r"waiting for pod dpvc to be scheduled$", out, re.M), out


async def test_describe_pv_and_storageclass(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "-f", str(kubectl.write(PV.format(name="pv-dsc"))))
    pv = await kubectl.ok("describe", "pv", "pv-dsc")
    assert re.search(r"^Name:\s+pv-dsc$", pv, re.M)
    assert re.search(r"^Reclaim Policy:\s+Retain$", pv, re.M)
    assert re.search(r"^Capacity:\s+5Gi$", pv, re.M)
    assert re.search(r"^Node Affinity:", pv, re.M)
    assert re.search(r"^\s+Type:\s+LocalVolume", pv, re.M)
    sc_name = next(line.split()[0] for line in (await kubectl.ok("get", "sc")).splitlines() if "(default)" in line)
    sc = await kubectl.ok("describe", "sc", sc_name)
    assert re.search(rf"^Name:\s+{sc_name}$", sc, re.M)
    assert re.search(r"^IsDefaultClass:\s+Yes$", sc, re.M)
    assert re.search(r"^Provisioner:\s+\S+", sc, re.M)
    assert re.search(r"^Events:\s+<none>$", sc, re.M)


# --------------------------------------------------------------------------- explain, wait, delete


async def test_explain_pvc_datasource(kubectl: Kubectl) -> None:
    out = await kubectl.ok("explain", "pvc.spec.dataSource")
    assert re.search(r"^KIND:\s+PersistentVolumeClaim$", out, re.M)
    assert re.search(r"^FIELD:\s+dataSource <TypedLocalObjectReference>$", out, re.M)
    assert "dataSource field can be used to specify either" in out
    assert re.search(r"^  kind\t<string> -required-$", out, re.M)


async def test_wait_for_condition_and_jsonpath(kubectl: Kubectl) -> None:
    out = await kubectl.ok("wait", "--for=condition=established", "crd/volumesnapshots.snapshot.storage.k8s.io",
                           "--timeout=20s")
    assert out.strip() == "customresourcedefinition.apiextensions.k8s.io/volumesnapshots.snapshot.storage.k8s.io " \
                          "condition met"
    out = await kubectl.ok("wait", "--for=jsonpath={.status.phase}=Active", "namespace/default", "--timeout=20s")
    assert out.strip() == "namespace/default condition met"
    await make_pod(kubectl, "wt")
    out = await kubectl.ok("wait", "--for=condition=Ready", "pod/wt", "--timeout=30s")
    assert out.strip() == "pod/wt condition met"


async def test_wait_for_create(kubectl: Kubectl) -> None:
    if kubectl.minor < 31:
        pytest.skip("--for=create arrived in kubectl 1.31")
    waiter = await kubectl.spawn("wait", "--for=create", "pod/arrives-later", "--timeout=30s")
    try:
        await asyncio.sleep(0.5)  # kubectl polls GET until the object exists; no watch to wait for
        await kubectl.ok("run", "arrives-later", "--image=nginx")
        result = await waiter.wait()
    finally:
        await waiter.stop()
    assert result.rc == 0, str(result)
    assert "pod/arrives-later condition met" in result.out


async def test_wait_for_delete(kubectl: Kubectl) -> None:
    await kubectl.ok("create", "configmap", "wdel", "--from-literal=a=b")
    await kubectl.ok("patch", "configmap", "wdel", "--type=merge", "-p", '{"metadata":{"finalizers":["e2e/hold"]}}')
    out = await kubectl.ok("delete", "configmap", "wdel", "--wait=false")
    assert out.startswith('configmap "wdel" deleted')
    baseline = kubectl.watchers("", "configmaps")
    waiter = await kubectl.spawn("wait", "--for=delete", "configmap/wdel", "--timeout=30s")
    try:
        await kubectl.watching("", "configmaps", baseline)
        held = await stored(kubectl, "configmaps", "wdel")
        assert held is not None and held["metadata"].get("deletionTimestamp")
        await kubectl.cluster.client.patch("configmaps", "wdel", {"metadata": {"finalizers": None}}, "default")
        result = await waiter.wait()
    finally:
        await waiter.stop()
    assert result.rc == 0, str(result)
    assert "configmap/wdel condition met" in result.out
    assert await stored(kubectl, "configmaps", "wdel") is None


async def test_delete_waits_and_prints_deleted(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "gone")
    out = await kubectl.ok("delete", "pod", "gone")
    assert out.startswith('pod "gone" deleted')
    assert await stored(kubectl, "pods", "gone") is None
    out = await kubectl.ok("delete", "-f", str(kubectl.write(PV.format(name="pv-gone"), "pv-gone.yaml")),
                           "--ignore-not-found")
    assert out == ""
    missing = await kubectl.fail("delete", "pod", "never-was")
    assert 'Error from server (NotFound): pods "never-was" not found' in missing.err


# ----------------------------------------------------------------------------------- logs and exec


async def test_logs(kubectl: Kubectl) -> None:
    await make_pod(kubectl, "lg")
    await kubectl.ok("wait", "--for=condition=Ready", "pod/lg", "--timeout=30s")
    out = await kubectl.ok("logs", "lg")
    assert out.strip()
    assert (await kubectl.ok("logs", "lg", "-c", "app", "--tail=1")).count("\n") == 1
    bad = await kubectl.fail("logs", "lg", "-c", "nope")
    assert "container nope is not valid for pod lg" in bad.err


async def test_exec_says_containers_do_not_run(kubectl: Kubectl) -> None:
    await kubectl.ok("run", "ex", "--image=nginx:1.27")
    # attach waits (--pod-running-timeout) for a running pod
    await kubectl.ok("wait", "--for=condition=Ready", "pod/ex", "--timeout=30s")
    result = await kubectl.fail("exec", "ex", "--", "ls", timeout=30)
    # As upstream prints a refused stream upgrade: "error: unable to upgrade connection: <message>".
    assert "unable to upgrade connection" in result.err or "Error from server (BadRequest)" in result.err, \
        str(result)
    assert "containers do not run" in result.err, str(result)
    for args in (("attach", "ex"), ("port-forward", "pod/ex", "18080:80"), ("cp", "ex:/etc/hosts", "hosts-copy")):
        other = await kubectl.fail(*args, timeout=30)
        assert "containers do not run" in other.err, str(other)


# ------------------------------------------------------------------------------------- bad input


BAD_FIELD = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bad-field}
spec:
  acessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""
NEGATIVE = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: bad-size}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: -1Gi}}
"""
UNKNOWN_KIND = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad-kind}\n"
BROKEN_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad-yaml\ndata:\n  a: [1\n"


async def test_misspelled_field_is_a_strict_error(kubectl: Kubectl) -> None:
    path = kubectl.write(BAD_FIELD, "bad-field.yaml")
    result = await kubectl.fail("create", "-f", str(path))
    assert ('Error from server (BadRequest): error when creating "bad-field.yaml": PersistentVolumeClaim in version '
            '"v1" cannot be handled as a PersistentVolumeClaim: strict decoding error: unknown field '
            '"spec.acessModes"') in result.err, str(result)
    result = await kubectl.fail("apply", "-f", str(path))
    assert 'unknown field "spec.acessModes"' in result.err
    assert await stored(kubectl, "pvc", "bad-field") is None


async def test_negative_size_is_invalid(kubectl: Kubectl) -> None:
    result = await kubectl.fail("create", "-f", str(kubectl.write(NEGATIVE, "bad-size.yaml")))
    assert 'The PersistentVolumeClaim "bad-size" is invalid: spec.resources[storage]: Invalid value: "-1Gi": ' \
           "must be greater than zero" in result.err, str(result)
    assert await stored(kubectl, "pvc", "bad-size") is None


async def test_yaml_syntax_error(kubectl: Kubectl) -> None:
    result = await kubectl.fail("create", "-f", str(kubectl.write(BROKEN_YAML, "bad-yaml.yaml")))
    assert "error: error parsing bad-yaml.yaml: error converting YAML to JSON: yaml: line" in result.err, str(result)
    assert await stored(kubectl, "configmaps", "bad-yaml") is None


async def test_unknown_kind_without_validation(kubectl: Kubectl) -> None:
    result = await kubectl.fail("create", "--validate=false", "-f", str(kubectl.write(UNKNOWN_KIND, "bad-kind.yaml")))
    assert 'no matches for kind "Widget" in version "example.com/v1"' in result.err, str(result)


async def test_unknown_kind_with_default_strict_validation(kubectl: Kubectl) -> None:
    """Upstream: client-side validation finds no schema and skips; the REST mapping then fails."""
    result = await kubectl.fail("create", "-f", str(kubectl.write(UNKNOWN_KIND, "bad-kind2.yaml")))
    assert ('error: resource mapping not found for name: "bad-kind" namespace: "" from "bad-kind2.yaml": '
            'no matches for kind "Widget" in version "example.com/v1"') in result.err, str(result)
    assert "ensure CRDs are installed first" in result.err


async def test_unknown_resource_type(kubectl: Kubectl) -> None:
    result = await kubectl.fail("get", "widgets")
    assert 'error: the server doesn\'t have a resource type "widgets"' in result.err
    missing = await kubectl.fail("get", "pod", "no-such-pod")
    assert 'Error from server (NotFound): pods "no-such-pod" not found' in missing.err


# ------------------------------------------------------------------------------------------- CRDs

WIDGET_CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.example.com
spec:
  group: e2e.example.com
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wg]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1, description: How big the widget is.}
              color: {type: string, default: blue}
"""


async def test_crd_is_served_when_established_and_gone_when_deleted(kubectl: Kubectl) -> None:
    out = await kubectl.ok("apply", "-f", kubectl.write(WIDGET_CRD, "widget-crd.yaml"))
    assert out.strip() == "customresourcedefinition.apiextensions.k8s.io/widgets.e2e.example.com created"
    out = await kubectl.ok("wait", "--for", "condition=established", "crd/widgets.e2e.example.com", "--timeout=20s")
    assert "condition met" in out
    widget = "apiVersion: e2e.example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n"
    assert (await kubectl.ok("create", "-f", kubectl.write(widget, "w1.yaml"))).strip() == \
        "widget.e2e.example.com/w1 created"
    table = await kubectl.ok("get", "wg")
    assert header(table) == ["NAME", "SIZE", "AGE"]
    assert row(table, "w1")[1] == "3"
    stored_widget = await stored(kubectl, "widgets.e2e.example.com", "w1")
    assert stored_widget is not None and stored_widget["spec"] == {"size": 3, "color": "blue"}  # defaulted
    explained = await kubectl.ok("explain", "widget.spec.size")
    assert "How big the widget is." in explained
    bogus = await kubectl.fail("create", "-f", kubectl.write(widget.replace("w1", "w2").replace("size: 3", "size: 0"),
                                                             "w2.yaml"))
    assert 'The Widget "w2" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than or ' \
           "equal to 1" in bogus.err, str(bogus)
    out = await kubectl.ok("delete", "crd", "widgets.e2e.example.com")
    assert out.startswith('customresourcedefinition.apiextensions.k8s.io "widgets.e2e.example.com" deleted')
    assert "widgets" not in (await kubectl.ok("api-resources", "--api-group=e2e.example.com"))
    gone = await kubectl.run("get", "widgets.e2e.example.com")
    assert gone.rc != 0, f"the deleted CRD's resource is still served:\n{gone}"
    assert "NotFound" in gone.err or "doesn't have a resource type" in gone.err, str(gone)


async def test_field_selectors_and_describe_custom_resource(kubectl: Kubectl) -> None:
    await kubectl.ok("run", "fsel", "--image=nginx:1.27")
    names = (await kubectl.ok("get", "pods", "--field-selector", "metadata.name=fsel", "-o", "name")).split()
    assert names == ["pod/fsel"]
    phase = "Running"
    await kubectl.ok("wait", "--for=jsonpath={.status.phase}=Running", "pod/fsel", "--timeout=30s")
    assert "pod/fsel" in (await kubectl.ok("get", "pods", "--field-selector", f"status.phase={phase}",
                                           "-o", "name")).split()
    assert "pod/fsel" not in (await kubectl.ok("get", "pods", "--field-selector", "status.phase!=" + phase,
                                               "-o", "name")).split()
    out = await kubectl.ok("describe", "vsclass")
    assert re.search(r"^Driver:\s+\S+", out, re.M)
    assert re.search(r"^Deletion Policy:\s+(Delete|Retain)$", out, re.M)
    if kubectl.minor <= 35:  # kubectl 1.37's generic describer leaves out an empty Events section
        assert re.search(r"^Events:\s+<none>$", out, re.M)


async def test_describe_other_kinds(kubectl: Kubectl) -> None:
    """describe of the other served kinds works (each describer makes its own extra requests)."""
    await kubectl.ok("create", "service", "clusterip", "dsvc", "--tcp=80:8080")
    svc = await kubectl.ok("describe", "svc", "dsvc")
    assert re.search(r"^Type:\s+ClusterIP$", svc, re.M)
    assert re.search(r"^Port:\s+80-8080\s+80/TCP$", svc, re.M)
    assert re.search(r"^TargetPort:\s+8080/TCP$", svc, re.M)
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ddep}\nspec:\n"
                  "  selector: {matchLabels: {app: ddep}}\n  template:\n    metadata: {labels: {app: ddep}}\n"
                  "    spec: {containers: [{name: app, image: 'nginx:1.27'}]}\n")
    await kubectl.ok("apply", "-f", kubectl.write(deployment))
    dep = await kubectl.ok("describe", "deploy", "ddep")
    assert re.search(r"^Replicas:\s+1 desired \| \d+ updated \| \d+ total \| \d+ available \| \d+ unavailable$", dep,
                     re.M)
    assert re.search(r"^StrategyType:\s+RollingUpdate$", dep, re.M)
    assert re.search(r"^RollingUpdateStrategy:\s+25% max unavailable, 25% max surge$", dep, re.M)
    ns = await kubectl.ok("describe", "ns", "default")
    assert re.search(r"^Labels:\s+kubernetes.io/metadata.name=default$", ns, re.M)
    assert re.search(r"^Status:\s+Active$", ns, re.M)
    await kubectl.ok("create", "serviceaccount", "dsa")
    assert re.search(r"^Name:\s+dsa$", await kubectl.ok("describe", "sa", "dsa"), re.M)
    await kubectl.ok("create", "secret", "generic", "dsec", "--from-literal=password=hunter2")
    sec = await kubectl.ok("describe", "secret", "dsec")
    assert re.search(r"^Type:\s+Opaque$", sec, re.M)
    assert re.search(r"^password:\s+7 bytes$", sec, re.M)
    assert "hunter2" not in sec


async def test_objects_every_real_cluster_has(kubectl: Kubectl) -> None:
    svc = await kubectl.ok("get", "svc", "kubernetes", "-n", "default")
    assert re.search(r"^kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP\s", svc, re.M), svc
    assert "serviceaccount/default" in (await kubectl.ok("get", "sa", "-n", "kube-system", "-o", "name")).split()
    await kubectl.ok("run", "sa-pod", "--image=nginx:1.27")
    out = await kubectl.ok("describe", "pod", "sa-pod")
    assert re.search(r"^Service Account:\s+default$", out, re.M), out


async def test_provisioned_claim_in_tables_and_describe(kubectl: Kubectl) -> None:
    """A dynamically provisioned claim looks as on a real cluster (kubectl-output.md 7.1)."""
    await make_pod(kubectl, "prov")
    await kubectl.ok("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/prov-data", "--timeout=30s")
    claim = row(await kubectl.ok("get", "pvc", "prov-data"), "prov-data")
    assert claim[1] == "Bound" and re.fullmatch(r"pvc-[0-9a-f-]{36}", claim[2]), claim
    assert claim[3:5] == ["20Gi", "RWO"]
    volume = claim[2]
    pv = row(await kubectl.ok("get", "pv", volume), volume)
    assert pv[1:6] == ["20Gi", "RWO", "Delete", "Bound", "default/prov-data"], pv
    out = await kubectl.ok("describe", "pvc", "prov-data")
    assert re.search(rf"^Volume:\s+{volume}$", out, re.M)
    assert re.search(r"^Annotations:\s+pv.kubernetes.io/bind-completed: yes$", out, re.M), out
    assert re.search(r"^\s+volume.kubernetes.io/storage-provisioner: \S+$", out, re.M)
    assert re.search(r"^Capacity:\s+20Gi$", out, re.M)
    assert re.search(r"^Access Modes:\s+RWO$", out, re.M)
    assert re.search(r"^  Normal\s+ProvisioningSucceeded\s+\S+\s+\S+\s+Successfully provisioned volume "
                     rf"{volume}$", out, re.M), out
    described = await kubectl.ok("describe", "pv", volume)
    assert re.search(r"^Claim:\s+default/prov-data$", described, re.M)
    assert re.search(r"^Status:\s+Bound$", described, re.M)
    assert re.search(r"^\s+Type:\s+CSI ", described, re.M), described
