"""kubernetes_asyncio, kr8s (async API) and lightkube (AsyncClient) against a served cluster.

All three are asynchronous, so they run on the same loop as the server; one served cluster is
shared by the module (each test uses its own object names). They check discovery and reads
(with each client's model validation), writes (create, patch in every flavour, delete), watches
and server-side apply, which lightkube uses for ``apply`` (create-on-apply is required).

Each client also runs the flow users write first: create a pod, wait until it is Ready on the
client's own watch (kubernetes_asyncio: a name field selector from the create's resourceVersion;
kr8s ``pod.wait("condition=Ready")``; lightkube ``client.wait(..., for_conditions=["Ready"])``),
list kube-system, read a Table, ask who it is, delete and wait until the pod is gone; and the
server must let go of every watch a client walked away from.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from minikube_lite import Cluster
from minikube_lite.client.events import EventRecorder

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

WATCH_TIMEOUT_S = 20.0


def kubeconfig(cluster: Cluster) -> str:
    assert cluster.kubeconfig_path is not None
    return str(cluster.kubeconfig_path)


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
POD_COLUMNS = ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node", "Nominated Node", "Readiness Gates"]


def pod_body(name: str, client: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"client": client}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}], **spec}}


def is_ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_watchers(cluster: Cluster) -> int:
    return cluster.engine.store.watcher_count(("", "pods"))


PVC = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
       "metadata": {"name": "", "labels": {"client": ""}},
       "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


def pvc(name: str, client: str) -> Any:
    body = {**PVC, "metadata": {"name": name, "labels": {"client": client}}}
    return body


# --------------------------------------------------------------------------- kubernetes_asyncio


@pytest_asyncio.fixture(loop_scope="module")
async def ka(e2e_cluster: Cluster) -> AsyncIterator[Any]:
    from kubernetes_asyncio import config

    api = await config.new_client_from_config(config_file=kubeconfig(e2e_cluster))
    try:
        yield api
    finally:
        await api.close()


async def test_kubernetes_asyncio_discovery_and_reads(e2e_cluster: Cluster, ka: Any) -> None:
    from kubernetes_asyncio import client

    info = await client.VersionApi(ka).get_code()
    assert (info.major, info.minor, info.git_version) == ("1", "35", "v1.35.0")
    core = await client.CoreApi(ka).get_api_versions()
    assert core.versions == ["v1"] and core.server_address_by_client_cidrs
    groups = await client.ApisApi(ka).get_api_versions()
    names = {g.name for g in groups.groups}
    assert {"apps", "storage.k8s.io", "snapshot.storage.k8s.io", "apiextensions.k8s.io"} <= names
    resources = await client.CoreV1Api(ka).get_api_resources()
    pods = next(r for r in resources.resources if r.name == "pods")
    assert pods.short_names == ["po"] and pods.namespaced and "watch" in pods.verbs
    v1 = client.CoreV1Api(ka)
    nodes = await v1.list_node()
    assert sorted(n.metadata.name for n in nodes.items) == ["master", "node1", "node2"]
    assert all(n.status.node_info.kubelet_version == "v1.35.0" for n in nodes.items)
    assert any(c.type == "Ready" and c.status == "True" for c in nodes.items[0].status.conditions)
    classes = await client.StorageV1Api(ka).list_storage_class()
    defaults = [c.metadata.name for c in classes.items
                if (c.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert len(defaults) == 1
    crds = await client.ApiextensionsV1Api(ka).list_custom_resource_definition()
    kinds = {c.spec.names.kind for c in crds.items}
    assert {"VolumeSnapshot", "VolumeSnapshotContent", "VolumeSnapshotClass"} <= kinds
    established = [c for c in crds.items[0].status.conditions if c.type == "Established"]
    assert established and established[0].status == "True"
    custom = client.CustomObjectsApi(ka)
    vsclasses = await custom.list_cluster_custom_object("snapshot.storage.k8s.io", "v1", "volumesnapshotclasses")
    assert vsclasses["kind"] == "VolumeSnapshotClassList" and isinstance(vsclasses["items"], list)
    namespaces = await v1.list_namespace()
    assert {"default", "kube-system", "kube-node-lease"} <= {n.metadata.name for n in namespaces.items}


async def test_kubernetes_asyncio_writes_events_and_watch(e2e_cluster: Cluster, ka: Any) -> None:
    from kubernetes_asyncio import client, watch
    from kubernetes_asyncio.client.rest import ApiException

    v1 = client.CoreV1Api(ka)
    created = await v1.create_namespaced_persistent_volume_claim("default", pvc("ka-claim", "ka"))
    assert created.metadata.uid and created.spec.storage_class_name
    listed = await v1.list_namespaced_persistent_volume_claim("default", label_selector="client=ka")
    assert [c.metadata.name for c in listed.items] == ["ka-claim"]
    patched = await v1.patch_namespaced_persistent_volume_claim("ka-claim", "default",
                                                                {"metadata": {"labels": {"extra": "1"}}})
    assert patched.metadata.labels == {"client": "ka", "extra": "1"}
    json_patched = await v1.patch_namespaced_persistent_volume_claim(
        "ka-claim", "default", [{"op": "remove", "path": "/metadata/labels/extra"}])
    assert json_patched.metadata.labels == {"client": "ka"}
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="ka-pod", labels={"client": "ka"}),
                       spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1.27")]))
    await v1.create_namespaced_pod("default", pod)
    pods = await v1.list_namespaced_pod("default", field_selector="metadata.name=ka-pod")
    assert [p.metadata.name for p in pods.items] == ["ka-pod"]
    recorder = EventRecorder(e2e_cluster.client, "e2e", e2e_cluster.clock)
    await recorder.event(await e2e_cluster.client.get("pvc", "ka-claim", "default"), "Normal", "Tested", "hello")
    events = await v1.list_namespaced_event("default", field_selector="involvedObject.name=ka-claim,reason=Tested")
    assert [(e.reason, e.involved_object.kind, e.count, e.source.component) for e in events.items] == \
        [("Tested", "PersistentVolumeClaim", 1, "e2e")]
    new_events = await client.EventsV1Api(ka).list_namespaced_event("default")
    assert any(e.reason == "Tested" for e in new_events.items)
    with pytest.raises(ApiException) as exists:
        await v1.create_namespaced_persistent_volume_claim("default", pvc("ka-claim", "ka"))
    assert exists.value.status == 409

    seen: list[tuple[str, str]] = []

    async def watch_configmaps() -> None:
        w = watch.Watch()
        async with w.stream(v1.list_namespaced_config_map, "default", label_selector="client=ka",
                            timeout_seconds=int(WATCH_TIMEOUT_S)) as stream:
            async for event in stream:
                seen.append((event["type"], event["object"].metadata.name))
                if event["type"] == "DELETED":
                    w.stop()

    baseline = _watchers(e2e_cluster)
    task = asyncio.create_task(watch_configmaps())
    try:
        await _until(lambda: _watchers(e2e_cluster) > baseline)
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ka-cm", labels={"client": "ka"}), data={"a": "1"})
        await v1.create_namespaced_config_map("default", body)
        await v1.patch_namespaced_config_map("ka-cm", "default", {"data": {"a": "2"}})
        await v1.delete_namespaced_config_map("ka-cm", "default")
        await asyncio.wait_for(task, WATCH_TIMEOUT_S)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    assert seen == [("ADDED", "ka-cm"), ("MODIFIED", "ka-cm"), ("DELETED", "ka-cm")]
    await v1.delete_namespaced_pod("ka-pod", "default")
    with pytest.raises(ApiException) as gone:
        await v1.read_namespaced_pod("ka-pod", "default")
    assert gone.value.status == 404


async def test_kubernetes_asyncio_server_side_apply(ka: Any) -> None:
    from kubernetes_asyncio import client

    v1 = client.CoreV1Api(ka)
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ka-ssa"}, "data": {"x": "1"}}
    options: dict[str, Any] = {"field_manager": "ka-mgr", "_content_type": "application/apply-patch+yaml"}
    applied = await v1.patch_namespaced_config_map("ka-ssa", "default", body, **options)
    assert applied.data == {"x": "1"}
    assert [(m.manager, m.operation) for m in applied.metadata.managed_fields] == [("ka-mgr", "Apply")]


async def test_kubernetes_asyncio_pod_ready_on_its_own_watch_tables_whoami_delete(e2e_cluster: Cluster,
                                                                                   ka: Any) -> None:
    from kubernetes_asyncio import client, watch

    v1 = client.CoreV1Api(ka)
    baseline = pod_watchers(e2e_cluster)
    created = await v1.create_namespaced_pod("default", pod_body("ka-ready", "ka"))
    seen: list[str] = []
    w = watch.Watch()
    async with w.stream(v1.list_namespaced_pod, "default", field_selector="metadata.name=ka-ready",
                        resource_version=created.metadata.resource_version,
                        timeout_seconds=int(WATCH_TIMEOUT_S)) as stream:
        async for event in stream:
            seen.append(event["type"])
            if is_ready(event["raw_object"]):
                w.stop()
                break
    assert seen and set(seen) == {"MODIFIED"}, seen
    ready = await v1.read_namespaced_pod("ka-ready", "default")
    assert ready.status.phase == "Running" and ready.spec.node_name in ("node1", "node2")
    # The server lets go of the watch the client walked away from.
    await _until(lambda: pod_watchers(e2e_cluster) == baseline)

    await v1.create_namespaced_pod("kube-system", pod_body("ka-system", "ka", "kube-system"))
    system = await v1.list_namespaced_pod("kube-system")
    assert "ka-system" in {p.metadata.name for p in system.items}
    assert {p.metadata.namespace for p in system.items} == {"kube-system"}
    table = await ka.call_api("/api/v1/namespaces/{namespace}/pods", "GET", path_params={"namespace": "default"},
                              query_params=[("labelSelector", "client=ka")], header_params={"Accept": TABLE},
                              response_types_map={200: "object"}, auth_settings=["BearerToken"],
                              _return_http_data_only=True)
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]] == POD_COLUMNS
    rows = {r["cells"][0]: r["cells"] for r in table["rows"]}
    assert rows["ka-ready"][1:3] == ["1/1", "Running"]
    who = await client.AuthenticationV1Api(ka).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert who.status.user_info.username == "minikube-lite-admin"

    deleting = await v1.delete_namespaced_pod("ka-ready", "default")
    assert deleting.metadata.deletion_timestamp is not None
    gone: list[str] = []
    async with w.stream(v1.list_namespaced_pod, "default", field_selector="metadata.name=ka-ready",
                        resource_version=deleting.metadata.resource_version,
                        timeout_seconds=int(WATCH_TIMEOUT_S)) as stream:
        async for event in stream:
            gone.append(event["type"])
            if event["type"] == "DELETED":
                w.stop()
                break
    assert gone[-1] == "DELETED"
    await v1.delete_namespaced_pod("ka-system", "kube-system", grace_period_seconds=0)


def _watchers(cluster: Cluster) -> int:
    """Open watches on configmaps (controllers hold some): a client's watch adds one."""
    return cluster.engine.store.watcher_count(("", "configmaps"))


async def _until(predicate: Any, timeout: float = WATCH_TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------------------------------ kr8s


@pytest_asyncio.fixture(loop_scope="module")
async def kr8s_api(e2e_cluster: Cluster) -> Any:
    import kr8s.asyncio

    return await kr8s.asyncio.api(kubeconfig=kubeconfig(e2e_cluster))


async def test_kr8s_discovery_and_reads(kr8s_api: Any) -> None:
    version = await kr8s_api.version()
    assert (version["major"], version["minor"]) == ("1", "35")
    resources = await kr8s_api.api_resources()
    by_name = {(r["name"], r.get("version", "")): r for r in resources}
    assert any(name == "volumesnapshots" for name, _ in by_name)
    assert any(r["name"] == "pods" and "po" in r.get("shortNames", []) for r in resources)
    nodes = [n async for n in kr8s_api.get("nodes")]
    assert sorted(n.name for n in nodes) == ["master", "node1", "node2"]
    master = next(n for n in nodes if n.name == "master")
    assert master.unschedulable is False or master.raw["spec"].get("taints")
    classes = [c async for c in kr8s_api.get("storageclasses")]
    assert any(c.annotations.get("storageclass.kubernetes.io/is-default-class") == "true" for c in classes)
    crds = [c async for c in kr8s_api.get("customresourcedefinitions")]
    assert "volumesnapshots.snapshot.storage.k8s.io" in {c.name for c in crds}
    snapshots = [s async for s in kr8s_api.get("volumesnapshots", namespace="default")]
    assert isinstance(snapshots, list)


async def test_kr8s_create_patch_watch_delete(e2e_cluster: Cluster, kr8s_api: Any) -> None:
    from kr8s.asyncio.objects import ConfigMap, PersistentVolumeClaim, Pod

    claim = await PersistentVolumeClaim(pvc("kr8s-claim", "kr8s"), api=kr8s_api)
    await claim.create()
    assert claim.metadata.uid
    await claim.label({"extra": "yes"})
    await claim.refresh()
    assert claim.labels == {"client": "kr8s", "extra": "yes"}
    found = [c async for c in kr8s_api.get("pvc", namespace="default", label_selector={"client": "kr8s"})]
    assert [c.name for c in found] == ["kr8s-claim"]
    pod = await Pod({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kr8s-pod"},
                     "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}, api=kr8s_api)
    await pod.create()
    await pod.patch({"metadata": {"annotations": {"note": "strategic"}}})
    await pod.patch([{"op": "add", "path": "/metadata/labels", "value": {"via": "json"}}], type="json")
    await pod.refresh()
    assert pod.annotations == {"note": "strategic"} and pod.labels == {"via": "json"}
    assert await pod.exists()

    seen: list[str] = []

    async def watch() -> None:
        async for event_type, obj in kr8s_api.watch("configmaps", namespace="default",
                                                    label_selector="client=kr8s"):
            seen.append(f"{event_type} {obj.name}")
            if event_type == "DELETED":
                return

    baseline = _watchers(e2e_cluster)
    task = asyncio.create_task(watch())
    try:
        await _until(lambda: _watchers(e2e_cluster) > baseline)
        cm = await ConfigMap({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "kr8s-cm", "labels": {"client": "kr8s"}}, "data": {"a": "1"}},
                             api=kr8s_api)
        await cm.create()
        await cm.patch({"data": {"a": "2"}})
        await cm.delete()
        await asyncio.wait_for(task, WATCH_TIMEOUT_S)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    assert seen == ["ADDED kr8s-cm", "MODIFIED kr8s-cm", "DELETED kr8s-cm"]
    await pod.delete()
    await claim.delete()
    assert not await pod.exists()


async def test_kr8s_pod_wait_ready_tables_and_wait_deleted(e2e_cluster: Cluster, kr8s_api: Any) -> None:
    from kr8s.asyncio.objects import Pod, Table

    baseline = pod_watchers(e2e_cluster)
    pod = await Pod(pod_body("kr8s-ready", "kr8s"), api=kr8s_api)
    await pod.create()
    await pod.wait("condition=Ready", timeout=WATCH_TIMEOUT_S)
    assert pod.status["phase"] == "Running"
    await _until(lambda: pod_watchers(e2e_cluster) == baseline)
    system_pod = await Pod(pod_body("kr8s-system", "kr8s", "kube-system"), api=kr8s_api)
    await system_pod.create()
    system = [p async for p in kr8s_api.get("pods", namespace="kube-system")]
    assert "kr8s-system" in {p.name for p in system} and {p.namespace for p in system} == {"kube-system"}
    tables = [t async for t in kr8s_api.get("pods", namespace="default", label_selector={"client": "kr8s"},
                                            as_object=Table)]
    assert len(tables) == 1 and isinstance(tables[0], Table)
    assert [c["name"] for c in tables[0].column_definitions] == POD_COLUMNS
    rows = {r["cells"][0]: r["cells"] for r in tables[0].rows}
    assert rows["kr8s-ready"][1:3] == ["1/1", "Running"]
    await pod.delete()
    await pod.wait("delete", timeout=WATCH_TIMEOUT_S)
    assert not await pod.exists()
    await system_pod.delete(grace_period=0)


async def test_kr8s_server_side_apply_through_its_http_session(kr8s_api: Any) -> None:
    """kr8s 0.20 has no apply(); its HTTP session still speaks server-side apply with create-on-apply."""
    import yaml

    body = yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kr8s-ssa"},
                           "data": {"k": "v"}})
    async with kr8s_api.call_api("PATCH", version="v1", namespace="default", url="configmaps/kr8s-ssa",
                                 params={"fieldManager": "kr8s"}, content=body,
                                 headers={"Content-Type": "application/apply-patch+yaml"}) as response:
        assert response.status_code == 201
        applied = response.json()
    assert applied["data"] == {"k": "v"}
    assert [(m["manager"], m["operation"]) for m in applied["metadata"]["managedFields"]] == [("kr8s", "Apply")]


# -------------------------------------------------------------------------------------- lightkube


@pytest_asyncio.fixture(loop_scope="module")
async def lk(e2e_cluster: Cluster) -> AsyncIterator[Any]:
    from lightkube import AsyncClient, KubeConfig

    client = AsyncClient(config=KubeConfig.from_file(kubeconfig(e2e_cluster)), field_manager="lightkube")
    try:
        yield client
    finally:
        await client.close()


async def test_lightkube_reads(lk: Any) -> None:
    from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
    from lightkube.resources.core_v1 import Namespace, Node, PersistentVolumeClaim
    from lightkube.resources.storage_v1 import StorageClass

    nodes = [n async for n in lk.list(Node)]
    assert sorted(n.metadata.name for n in nodes) == ["master", "node1", "node2"]
    node1 = await lk.get(Node, "node1")
    assert node1.metadata.labels["topology.kubernetes.io/zone"] == "cn-hangzhou-b"
    assert [n.metadata.name async for n in lk.list(Namespace, labels={"kubernetes.io/metadata.name": "default"})] \
        == ["default"]
    classes = [c.metadata.name async for c in lk.list(StorageClass)]
    assert "local-storage" in classes
    crds = [c async for c in lk.list(CustomResourceDefinition)]
    assert "volumesnapshots.snapshot.storage.k8s.io" in {c.metadata.name for c in crds}
    claims = [c async for c in lk.list(PersistentVolumeClaim, namespace="*")]
    assert isinstance(claims, list)


async def test_lightkube_apply_create_patch_delete(lk: Any) -> None:
    from lightkube import ApiError
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap
    from lightkube.types import PatchType

    applied = await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk-cm", namespace="default"), data={"a": "1"}))
    assert applied.data == {"a": "1"} and applied.metadata.uid
    assert [(m.manager, m.operation) for m in applied.metadata.managedFields] == [("lightkube", "Apply")]
    again = await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk-cm", namespace="default"), data={"a": "1", "b": "2"}))
    assert again.data == {"a": "1", "b": "2"} and again.metadata.uid == applied.metadata.uid
    with pytest.raises(ApiError) as conflict:
        await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk-cm", namespace="default"), data={"a": "9"}),
                       field_manager="intruder")
    assert conflict.value.status.code == 409
    message = str(conflict.value.status.message)
    assert 'conflict with "lightkube"' in message and ".data.a" in message
    forced = await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk-cm", namespace="default"), data={"a": "9"}),
                            field_manager="intruder", force=True)
    assert forced.data == {"a": "9", "b": "2"}
    # stop applying b: the field goes away with its only manager
    await lk.apply(ConfigMap(metadata=ObjectMeta(name="lk-cm", namespace="default"), data={}))
    assert (await lk.get(ConfigMap, "lk-cm", namespace="default")).data == {"a": "9"}

    created = await lk.create(ConfigMap(metadata=ObjectMeta(name="lk-plain", namespace="default"), data={"x": "1"}))
    assert created.metadata.resourceVersion
    merged = await lk.patch(ConfigMap, "lk-plain", {"data": {"y": "2"}}, namespace="default",
                            patch_type=PatchType.MERGE)
    assert merged.data == {"x": "1", "y": "2"}
    strategic = await lk.patch(ConfigMap, "lk-plain", {"metadata": {"labels": {"s": "1"}}}, namespace="default")
    assert strategic.metadata.labels == {"s": "1"}
    json_patched = await lk.patch(ConfigMap, "lk-plain", [{"op": "remove", "path": "/data/x"}], namespace="default",
                                  patch_type=PatchType.JSON)
    assert json_patched.data == {"y": "2"}
    await lk.delete(ConfigMap, "lk-plain", namespace="default")
    with pytest.raises(ApiError) as gone:
        await lk.get(ConfigMap, "lk-plain", namespace="default")
    assert gone.value.status.code == 404


async def test_lightkube_generic_custom_resource_and_watch(e2e_cluster: Cluster, lk: Any) -> None:
    from lightkube.generic_resource import create_global_resource
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap

    snapshot_class = create_global_resource("snapshot.storage.k8s.io", "v1", "VolumeSnapshotClass",
                                            "volumesnapshotclasses")
    obj = snapshot_class(metadata=ObjectMeta(name="lk-vsc"), driver="diskplugin.csi.alibabacloud.com",
                         deletionPolicy="Retain")
    applied = await lk.apply(obj)
    assert applied.metadata.name == "lk-vsc" and applied["deletionPolicy"] == "Retain"
    listed = [c.metadata.name async for c in lk.list(snapshot_class)]
    assert "lk-vsc" in listed

    seen: list[tuple[str, str]] = []

    async def watch() -> None:
        async for event_type, cm in lk.watch(ConfigMap, namespace="default", labels={"client": "lk"}):
            seen.append((event_type, cm.metadata.name))
            if event_type == "DELETED":
                return

    baseline = _watchers(e2e_cluster)
    task = asyncio.create_task(watch())
    try:
        await _until(lambda: _watchers(e2e_cluster) > baseline)
        await lk.create(ConfigMap(metadata=ObjectMeta(name="lk-watched", namespace="default",
                                                      labels={"client": "lk"})))
        await lk.delete(ConfigMap, "lk-watched", namespace="default")
        await asyncio.wait_for(task, WATCH_TIMEOUT_S)
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    assert seen == [("ADDED", "lk-watched"), ("DELETED", "lk-watched")]


async def test_lightkube_pod_wait_ready_whoami_and_deletion(e2e_cluster: Cluster, lk: Any) -> None:
    from lightkube import codecs
    from lightkube.resources.authentication_v1 import SelfSubjectReview
    from lightkube.resources.core_v1 import Pod

    baseline = pod_watchers(e2e_cluster)
    await lk.create(codecs.from_dict(pod_body("lk-ready", "lk")))
    ready = await asyncio.wait_for(lk.wait(Pod, "lk-ready", for_conditions=["Ready"], namespace="default"),
                                   WATCH_TIMEOUT_S)
    assert ready.status.phase == "Running"
    await _until(lambda: pod_watchers(e2e_cluster) == baseline)
    await lk.create(codecs.from_dict(pod_body("lk-system", "lk", "kube-system")))
    system = [p async for p in lk.list(Pod, namespace="kube-system")]
    assert "lk-system" in {p.metadata.name for p in system}
    who = await lk.create(SelfSubjectReview())
    assert who.status.userInfo.username == "minikube-lite-admin"
    # lightkube has no Table support of its own: the pod's deletion is waited for on a watch.
    before = await lk.get(Pod, "lk-ready", namespace="default")
    await lk.delete(Pod, "lk-ready", namespace="default")
    seen: list[str] = []

    async def until_deleted() -> None:
        async for event_type, _ in lk.watch(Pod, namespace="default", fields={"metadata.name": "lk-ready"},
                                            resource_version=before.metadata.resourceVersion):
            seen.append(event_type)
            if event_type == "DELETED":
                return

    await asyncio.wait_for(until_deleted(), WATCH_TIMEOUT_S)
    assert seen[0] == "MODIFIED" and seen[-1] == "DELETED"  # deletionTimestamp set, then gone
    await lk.delete(Pod, "lk-system", namespace="kube-system", grace_period=0)


# ----------------------------------------------------------------------------------- TLS + token


async def test_all_clients_over_tls_with_a_token(tmp_path: Any) -> None:
    """The kubeconfig written by ``Cluster(tls=True, token=...)`` works for every client as is."""
    import kr8s.asyncio
    from kubernetes_asyncio import client, config
    from kubernetes_asyncio.client.rest import ApiException
    from lightkube import AsyncClient, KubeConfig
    from lightkube.resources.core_v1 import Node

    async with Cluster(serve=True, port=0, tls=True, token="py-secret", kubeconfig_path=tmp_path / "kc.yaml") as c:
        assert c.url.startswith("https://")
        api = await config.new_client_from_config(config_file=kubeconfig(c))
        try:
            nodes = await client.CoreV1Api(api).list_node()
            assert len(nodes.items) == 3
        finally:
            await api.close()
        bad = await config.new_client_from_config(config_file=kubeconfig(c))
        bad.configuration.api_key = {"authorization": "Bearer wrong"}
        try:
            with pytest.raises(ApiException) as denied:
                await client.CoreV1Api(bad).list_node()
            assert denied.value.status == 401
        finally:
            await bad.close()
        k = await kr8s.asyncio.api(kubeconfig=kubeconfig(c))
        assert len([n async for n in k.get("nodes")]) == 3
        # kr8s' whoami is a TokenReview of the kubeconfig's token: the server must know its own.
        review = await c.client.create("tokenreviews", {"apiVersion": "authentication.k8s.io/v1",
                                                        "kind": "TokenReview", "spec": {"token": "py-secret"}})
        if review["status"].get("authenticated"):
            assert await k.whoami() == review["status"]["user"]["username"]
        lk = AsyncClient(config=KubeConfig.from_file(kubeconfig(c)))
        try:
            assert len([n async for n in lk.list(Node)]) == 3
        finally:
            await lk.close()
