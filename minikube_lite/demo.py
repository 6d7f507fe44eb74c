"""``minikube-lite demo``: the course's three storage scenarios, narrated, in one process.

Why it exists: the course ("存储快照与拓扑调度") teaches by showing a live cluster. This module
replays its demos on a fresh in-process :class:`~minikube_lite.cluster.Cluster` and prints what
a user would see at each step (object states, events, the cloud's side), with a short note on
why it happens. It drives the cluster only through its API client, as kubectl would; the cloud
is read (never changed) to show the "console" view of disks and snapshots.

On the default :class:`~minikube_lite.clock.VirtualClock` a demo finishes in well under a
second while the printed ``[t+..s]`` stamps still show cluster time (a snapshot takes 5 s, a
disk 2 s, as configured). Pass ``clock=RealClock()`` to watch it unfold in real time.

The objects carry the same names as ``examples/01-03`` (which run the same story with kubectl).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .client.base import ApiError, Client
from .clock import Clock, VirtualClock
from .cluster import Cluster

JSON = dict[str, Any]
Out = Callable[[str], object]

NS = "default"
DRIVER = "diskplugin.csi.alibabacloud.com"
ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"
VS = "volumesnapshots.snapshot.storage.k8s.io"
VSC = "volumesnapshotcontents.snapshot.storage.k8s.io"
VSCLASS = "volumesnapshotclasses.snapshot.storage.k8s.io"
SCENARIOS: tuple[str, ...] = ("snapshot", "local-pv", "topology")
#: Cluster seconds a step may take before the demo gives up (bounded waits, never a hang).
STEP_TIMEOUT_S = 120.0
#: How far a wait moves a virtual clock (or sleeps on a real one) when nothing is due.
POLL_S = 0.5

TITLES = {
    "snapshot": "snapshot a cloud disk and restore it into a new claim (examples/01-snapshot-restore)",
    "local-pv": "a local PV on node1 and delayed binding (examples/02-local-pv)",
    "topology": "a zone-restricted StorageClass: FailedScheduling, then fixed (examples/03-topology-scheduling)",
}


class DemoError(RuntimeError):
    """A step did not reach the state the story expects (the cluster misbehaved)."""


# --------------------------------------------------------------------------- manifests


def storage_class(name: str, *, binding: str = "Immediate", zone: str | None = None) -> JSON:
    sc: JSON = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
                "provisioner": DRIVER, "parameters": {"type": "cloud_ssd"}, "reclaimPolicy": "Delete",
                "volumeBindingMode": binding}
    if zone is not None:
        sc["allowedTopologies"] = [{"matchLabelExpressions": [{"key": ZONE_KEY, "values": [zone]}]}]
    return sc


def claim(name: str, size: str, storage_class_name: str, snapshot: str | None = None) -> JSON:
    spec: JSON = {"accessModes": ["ReadWriteOnce"], "storageClassName": storage_class_name,
                  "resources": {"requests": {"storage": size}}}
    if snapshot is not None:
        spec["dataSource"] = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": snapshot}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def pod(name: str, claim_name: str) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                                     "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}]}}


def local_pv(name: str, node: str, path: str = "/share", size: str = "10Gi") -> JSON:
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "volumeMode": "Filesystem", "accessModes": ["ReadWriteOnce"],
                     "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "local-storage",
                     "local": {"path": path},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}}


# --------------------------------------------------------------------------- narration


def _phase(obj: JSON | None) -> str:
    return str(((obj or {}).get("status") or {}).get("phase") or "")


def _pod_scheduled(obj: JSON) -> JSON:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), {})


class Demo:
    """One narrated scenario on one cluster: steps, bounded waits and kubectl-like views."""

    def __init__(self, cluster: Cluster, out: Out) -> None:
        self.cluster = cluster
        self.client: Client = cluster.client
        self.out = out
        self.started = cluster.clock.now()
        self.step_no = 0

    # -- printing

    def stamp(self) -> str:
        return f"[t+{self.cluster.clock.now() - self.started:5.1f}s]"

    def step(self, text: str) -> None:
        self.step_no += 1
        self.out("")
        self.out(f"{self.stamp()} {self.step_no}. {text}")

    def note(self, text: str) -> None:
        self.out(f"          # {text}")

    def show(self, text: str) -> None:
        self.out(f"          {text}")

    # -- waiting

    async def idle(self) -> None:
        """Let the controllers finish what they can do now, without moving time."""
        await self.cluster.settle(timeout=0)

    async def wait_for(self, what: str, fetch: Callable[[], Awaitable[JSON | None]],
                       done: Callable[[JSON | None], bool], timeout: float = STEP_TIMEOUT_S) -> JSON | None:
        """Run the cluster until ``done(fetch())``; bounded in cluster time and in rounds."""
        clock = self.cluster.clock
        limit = clock.now() + timeout
        for _ in range(int(timeout / POLL_S) * 4 + 10):
            await self.idle()
            obj = await fetch()
            if done(obj):
                return obj
            if clock.now() >= limit:
                break
            if isinstance(clock, VirtualClock):
                due = clock.next_deadline()
                step = POLL_S if due is None else min(max(due - clock.now(), 0.0), POLL_S)
                await clock.advance(step or 0.001)
            else:
                await asyncio.sleep(POLL_S / 5)
        raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")

    async def get(self, resource: str, name: str, namespace: str | None = NS) -> JSON | None:
        try:
            return await self.client.get(resource, name, namespace)
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def getter(self, resource: str, name: str, namespace: str | None = NS) -> Callable[[], Awaitable[JSON | None]]:
        return lambda: self.get(resource, name, namespace)

    async def wait_phase(self, resource: str, name: str, phase: str, namespace: str | None = NS) -> JSON:
        obj = await self.wait_for(f"{resource}/{name} to be {phase}", self.getter(resource, name, namespace),
                                  lambda o: _phase(o) == phase)
        assert obj is not None
        return obj

    async def wait_gone(self, resource: str, name: str, namespace: str | None = NS) -> None:
        await self.wait_for(f"{resource}/{name} to disappear", self.getter(resource, name, namespace),
                            lambda o: o is None)

    async def wait_event(self, obj: JSON, reason: str) -> None:
        async def fetch() -> JSON | None:
            return {"items": await self.events_of(obj)}

        await self.wait_for(f"a {reason} event on {obj['metadata']['name']}", fetch,
                            lambda lst: any(e.get("reason") == reason for e in (lst or {}).get("items", [])))

    # -- views

    async def events_of(self, obj: JSON) -> list[JSON]:
        uid = obj["metadata"]["uid"]
        ns = obj["metadata"].get("namespace") or NS
        items = (await self.client.list("events", ns, field_selector=f"involvedObject.uid={uid}"))["items"]
        items.sort(key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "",
                                  int(e["metadata"].get("resourceVersion") or 0)))
        return list(items)

    async def show_events(self, obj: JSON, reasons: tuple[str, ...] = ()) -> None:
        kind = obj.get("kind", "").lower()
        events = [e for e in await self.events_of(obj) if not reasons or e.get("reason") in reasons]
        self.show(f"events of {kind}/{obj['metadata']['name']}:")
        for e in events:
            count = f" (x{e['count']})" if (e.get("count") or 1) > 1 else ""
            self.show(f"  {e.get('type', ''):<7} {e.get('reason', '')}{count}: {e.get('message', '')}")
        if not events:
            self.show("  <none>")

    def pvc_line(self, obj: JSON) -> str:
        status = obj.get("status") or {}
        size = (status.get("capacity") or {}).get("storage")
        return (f"pvc/{obj['metadata']['name']}  {status.get('phase', '')}  "
                f"volume={obj['spec'].get('volumeName') or '<none>'}  {size + '  ' if size else ''}"
                f"class={obj['spec'].get('storageClassName', '')}")

    def pv_line(self, obj: JSON) -> str:
        spec = obj["spec"]
        ref = spec.get("claimRef") or {}
        claim_ref = f"{ref.get('namespace')}/{ref.get('name')}" if ref else "<none>"
        return (f"pv/{obj['metadata']['name']}  {_phase(obj)}  claim={claim_ref}  "
                f"{(spec.get('capacity') or {}).get('storage', '')}  {spec.get('persistentVolumeReclaimPolicy', '')}")

    def pod_line(self, obj: JSON) -> str:
        node = obj["spec"].get("nodeName") or "<none>"
        cond = _pod_scheduled(obj)
        extra = f"  ({cond.get('reason')})" if cond.get("status") == "False" else ""
        return f"pod/{obj['metadata']['name']}  {_phase(obj)}  node={node}{extra}"

    async def show_pvc(self, name: str) -> JSON:
        obj = await self.get("persistentvolumeclaims", name)
        assert obj is not None
        self.show(self.pvc_line(obj))
        return obj

    async def show_pod(self, name: str) -> JSON:
        obj = await self.get("pods", name)
        assert obj is not None
        self.show(self.pod_line(obj))
        return obj

    async def show_pv(self, name: str) -> JSON:
        obj = await self.get("persistentvolumes", name, None)
        assert obj is not None
        self.show(self.pv_line(obj))
        return obj

    def show_disk(self, handle: str) -> Any:
        """The cloud console's view of a disk (read-only)."""
        disk = self.cluster.cloud.disks.get(handle)
        if disk is None:
            self.show(f"cloud: disk {handle} not found")
            return None
        source = f"  from snapshot {disk.source_snapshot_id}" if disk.source_snapshot_id else ""
        self.show(f"cloud: disk {disk.disk_id}  {disk.category}  {disk.size_gib} GiB  zone {disk.zone}  "
                  f"{disk.status}{source}")
        return disk


# --------------------------------------------------------------------------- scenarios


async def demo_snapshot(d: Demo) -> None:
    """Course §三 (snapshot part) and storage.md §7(a), on the cloud-disk driver."""
    d.step("StorageClass csi-disk, claim disk-pvc (20Gi) and pod disk-pod that uses it.")
    d.note("A snapshot needs a disk first: the claim is provisioned at once (Immediate binding).")
    await d.client.create("storageclasses", storage_class("csi-disk"))
    await d.client.create("persistentvolumeclaims", claim("disk-pvc", "20Gi", "csi-disk"), NS)
    await d.client.create("pods", pod("disk-pod", "disk-pvc"), NS)
    pvc = await d.wait_phase("persistentvolumeclaims", "disk-pvc", "Bound")
    await d.wait_phase("pods", "disk-pod", "Running")
    d.show(d.pvc_line(pvc))
    pv = await d.show_pv(pvc["spec"]["volumeName"])
    await d.show_pod("disk-pod")
    d.show_disk(pv["spec"]["csi"]["volumeHandle"])

    d.step("VolumeSnapshotClass disk-snapshotclass (driver diskplugin.csi.alibabacloud.com).")
    d.note("Like a StorageClass for PVs: it names the CSI driver that takes the snapshots.")
    await d.client.create(VSCLASS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
                                    "metadata": {"name": "disk-snapshotclass"}, "driver": DRIVER,
                                    "deletionPolicy": "Delete"})
    d.show(f"volumesnapshotclass/disk-snapshotclass  driver={DRIVER}  deletionPolicy=Delete")

    d.step("VolumeSnapshot disk-snapshot, source: the claim disk-pvc.")
    d.note("Like a PVC: the snapshot controller creates the bound VolumeSnapshotContent (like a PV),")
    d.note("and the CSI snapshotter sidecar asks the cloud for the snapshot.")
    await d.client.create(VS, {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                               "metadata": {"name": "disk-snapshot"},
                               "spec": {"volumeSnapshotClassName": "disk-snapshotclass",
                                        "source": {"persistentVolumeClaimName": "disk-pvc"}}}, NS)
    await d.idle()
    vs = await d.get(VS, "disk-snapshot")
    assert vs is not None
    d.show(_vs_line(vs))
    vs = await d.wait_for("disk-snapshot to be ready", d.getter(VS, "disk-snapshot"),
                          lambda o: bool(((o or {}).get("status") or {}).get("readyToUse")))
    assert vs is not None
    d.step("The snapshot is ready to use.")
    d.show(_vs_line(vs))
    content_name = vs["status"]["boundVolumeSnapshotContentName"]
    content = await d.get(VSC, content_name, None)
    assert content is not None
    d.show(f"volumesnapshotcontent/{content_name}")
    d.show(f"  snapshotHandle={content['status']['snapshotHandle']}   (the cloud's snapshot id)")
    d.show(f"  source.volumeHandle={content['spec']['source']['volumeHandle']}   (the disk behind disk-pvc)")
    d.show(f"  restoreSize={content['status']['restoreSize']}  readyToUse={str(content['status']['readyToUse']).lower()}")
    await d.show_events(vs)

    d.step("Restore: claim restore-pvc with dataSource disk-snapshot, and pod restore-pod.")
    d.note("The external provisioner creates a new disk from the snapshot; the PV controller binds it.")
    await d.client.create("persistentvolumeclaims", claim("restore-pvc", "20Gi", "csi-disk", "disk-snapshot"), NS)
    await d.client.create("pods", pod("restore-pod", "restore-pvc"), NS)
    restored = await d.wait_phase("persistentvolumeclaims", "restore-pvc", "Bound")
    await d.wait_phase("pods", "restore-pod", "Running")
    d.show(d.pvc_line(restored))
    rpv = await d.show_pv(restored["spec"]["volumeName"])
    await d.show_pod("restore-pod")
    d.show_disk(rpv["spec"]["csi"]["volumeHandle"])
    await d.show_events(restored)

    d.step("Delete the VolumeSnapshot disk-snapshot.")
    d.note("deletionPolicy Delete: its content and the cloud snapshot are deleted with it.")
    await d.client.delete(VS, "disk-snapshot", NS)
    await d.wait_gone(VS, "disk-snapshot")
    await d.wait_gone(VSC, content_name, None)
    left = (await d.client.list(VSC))["items"]
    d.show(f"volumesnapshots: {len((await d.client.list(VS, NS))['items'])}  volumesnapshotcontents: {len(left)}")
    handle = content["status"]["snapshotHandle"]
    alive = [s for s in d.cluster.cloud.describe_snapshots(snapshot_ids=[handle])]
    d.show(f"cloud: snapshot {handle} " + ("still exists" if alive else "deleted"))


def _vs_line(vs: JSON) -> str:
    status = vs.get("status") or {}
    return (f"volumesnapshot/{vs['metadata']['name']}  readyToUse={str(bool(status.get('readyToUse'))).lower()}  "
            f"source={vs['spec']['source'].get('persistentVolumeClaimName')}  "
            f"restoreSize={status.get('restoreSize', '<unset>')}  "
            f"content={status.get('boundVolumeSnapshotContentName', '<none>')}")


async def demo_local_pv(d: Demo) -> None:
    """Course §二 (Local PV) and storage.md §7(b), on the course's cluster (PV on node1)."""
    sc = await d.get("storageclasses", "local-storage", None)
    assert sc is not None
    d.step("StorageClass local-storage: provisioner kubernetes.io/no-provisioner, WaitForFirstConsumer.")
    d.note("Nothing creates volumes for it; the class only tells the PV controller to wait for a pod.")
    d.show(f"storageclass/local-storage  provisioner={sc['provisioner']}  "
           f"volumeBindingMode={sc['volumeBindingMode']}  reclaimPolicy={sc['reclaimPolicy']}")

    d.step("PersistentVolume local-pv: 10Gi at /share on node1 (nodeAffinity kubernetes.io/hostname In [node1]).")
    await d.client.create("persistentvolumes", local_pv("local-pv", "node1"))
    pv = await d.wait_phase("persistentvolumes", "local-pv", "Available", None)
    d.show(d.pv_line(pv))

    d.step("Claim local-pvc (10Gi, class local-storage).")
    d.note("local-pv matches, but the PV controller does not bind it: which node would the pod run on?")
    pvc = await d.client.create("persistentvolumeclaims", claim("local-pvc", "10Gi", "local-storage"), NS)
    await d.wait_event(pvc, "WaitForFirstConsumer")
    await d.show_pvc("local-pvc")
    await d.show_events(pvc)

    d.step("Pod local-pod uses local-pvc.")
    d.note("The scheduler checks each node against local-pv's nodeAffinity: only node1 fits (master is")
    d.note("tainted, node2 cannot reach the disk). It binds the claim to local-pv, then the pod to node1.")
    created = await d.client.create("pods", pod("local-pod", "local-pvc"), NS)
    await d.wait_phase("pods", "local-pod", "Running")
    await d.show_pod("local-pod")
    await d.show_pvc("local-pvc")
    await d.show_pv("local-pv")
    await d.show_events(created, ("Scheduled",))

    d.step("A second claim local-pvc-2 and pod local-pod-2: no local PV is left.")
    d.note("Static PVs are not created on demand: no node has a volume for it, so the pod waits.")
    await d.client.create("persistentvolumeclaims", claim("local-pvc-2", "10Gi", "local-storage"), NS)
    second = await d.client.create("pods", pod("local-pod-2", "local-pvc-2"), NS)
    await d.wait_event(second, "FailedScheduling")
    await d.show_pod("local-pod-2")
    await d.show_events(second, ("FailedScheduling",))


async def demo_topology(d: Demo) -> None:
    """Course §三 (topology part) and storage.md §7(c): zone d class on zone b nodes, then fixed."""
    d.step("StorageClass csi-disk-topology: WaitForFirstConsumer, allowedTopologies zone cn-hangzhou-d.")
    d.note("Disks of this class may only be made in cn-hangzhou-d, so their pods must run there too.")
    await d.client.create("storageclasses", storage_class("csi-disk-topology", binding="WaitForFirstConsumer",
                                                          zone="cn-hangzhou-d"))
    d.show(f"storageclass/csi-disk-topology  allowedTopologies: {ZONE_KEY} in [cn-hangzhou-d]")

    d.step("Claim disk-pvc-topology (20Gi): Pending, delayed binding, no disk yet.")
    pvc = await d.client.create("persistentvolumeclaims", claim("disk-pvc-topology", "20Gi", "csi-disk-topology"),
                                NS)
    await d.wait_event(pvc, "WaitForFirstConsumer")
    await d.show_pvc("disk-pvc-topology")
    await d.show_events(pvc)

    d.step("Pod disk-pod-topology uses the claim: it stays Pending.")
    created = await d.client.create("pods", pod("disk-pod-topology", "disk-pvc-topology"), NS)
    await d.wait_event(created, "FailedScheduling")
    await d.show_pod("disk-pod-topology")
    await d.show_events(created, ("FailedScheduling",))
    d.note("master: the control-plane taint; node1, node2: no existing PV, and a new disk may only be")
    d.note("made in cn-hangzhou-d, where neither node is.")

    d.step("The nodes' zone labels: all cn-hangzhou-b.")
    for node in (await d.client.list("nodes"))["items"]:
        d.show(f"node/{node['metadata']['name']}  {ZONE_KEY}={node['metadata']['labels'].get(ZONE_KEY, '<none>')}")

    d.step("Fix: edit the class to allow cn-hangzhou-b, then delete the pod and create it again.")
    d.note("allowedTopologies may be edited in place (only parameters, provisioner, reclaimPolicy and")
    d.note("volumeBindingMode are immutable).")
    await d.client.patch("storageclasses", "csi-disk-topology",
                         {"allowedTopologies": [{"matchLabelExpressions": [{"key": ZONE_KEY,
                                                                            "values": ["cn-hangzhou-b"]}]}]})
    await d.client.delete("pods", "disk-pod-topology", NS)
    await d.wait_gone("pods", "disk-pod-topology")
    again = await d.client.create("pods", pod("disk-pod-topology", "disk-pvc-topology"), NS)
    await d.wait_phase("pods", "disk-pod-topology", "Running")
    d.step("Scheduled and Running: the scheduler picked a zone-b node, the disk was made in zone b.")
    running = await d.show_pod("disk-pod-topology")
    pvc = await d.show_pvc("disk-pvc-topology")
    pv = await d.get("persistentvolumes", pvc["spec"]["volumeName"], None)
    assert pv is not None
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    exprs = [f"{e['key']} {e['operator']} [{', '.join(e['values'])}]" for t in terms for e in t.get("matchExpressions", [])]
    d.show(f"pv/{pv['metadata']['name']}  nodeAffinity: {'; '.join(exprs)}")
    d.show_disk(pv["spec"]["csi"]["volumeHandle"])
    await d.show_events(again, ("Scheduled",))
    d.note(f"node {running['spec']['nodeName']} is in cn-hangzhou-b, as the class now requires.")


SCENARIO_FUNCS: dict[str, Callable[[Demo], Awaitable[None]]] = {
    "snapshot": demo_snapshot,
    "local-pv": demo_local_pv,
    "topology": demo_topology,
}


async def run_demo(name: str, *, out: Out = print, clock: Clock | None = None) -> None:
    """Run one scenario (``snapshot``, ``local-pv``, ``topology``) or ``all``, printing through ``out``.

    Each scenario gets a fresh default cluster (the course's: master + node1, node2 in
    cn-hangzhou-b). ``clock`` defaults to a new VirtualClock per scenario; a given clock is
    shared by every scenario run.
    """
    names = list(SCENARIOS) if name == "all" else [name]
    for scenario in names:
        if scenario not in SCENARIO_FUNCS:
            raise ValueError(f"unknown demo {scenario!r}; choose one of: {', '.join(SCENARIOS)}, all")
    for index, scenario in enumerate(names):
        if index:
            out("")
        out(f"=== minikube-lite demo {scenario}: {TITLES[scenario]}")
        async with Cluster(clock=clock or VirtualClock()) as cluster:
            demo = Demo(cluster, out)
            nodes = (await cluster.client.list("nodes"))["items"]
            out(f"cluster: {', '.join(n['metadata']['name'] for n in nodes)} "
                f"(master is tainted node-role.kubernetes.io/control-plane:NoSchedule)")
            await SCENARIO_FUNCS[scenario](demo)
            out("")
            out(f"{demo.stamp()} done.")


__all__ = ["run_demo", "SCENARIOS", "DemoError", "Demo"]
