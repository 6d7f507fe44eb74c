"""The official ``kubernetes`` client over HTTP against a served cluster.

The client is synchronous, so calls run in a thread while the server runs on the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from minikube_lite import Cluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def api(served_cluster: Cluster) -> k8s.ApiClient:
    return k8s_config.new_client_from_config(str(served_cluster.kubeconfig_path))


async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def test_version_and_health(served_cluster: Cluster, api: k8s.ApiClient) -> None:
    info = await call(k8s.VersionApi(api).get_code)
    assert (info.major, info.minor) == ("1", "35")
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for path in ("/healthz", "/livez", "/readyz"):
            async with s.get(served_cluster.url + path) as resp:
                assert resp.status == 200 and await resp.text() == "ok"


async def test_crud_and_conflict(api: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api)
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="cm1"), data={"a": "1"})
    created = await call(v1.create_namespaced_config_map, "default", body)
    assert created.metadata.uid and created.metadata.resource_version
    read = await call(v1.read_namespaced_config_map, "cm1", "default")
    read.data["a"] = "2"
    updated = await call(v1.replace_namespaced_config_map, "cm1", "default", read)
    assert updated.data == {"a": "2"}
    with pytest.raises(ApiException) as info:
        await call(v1.replace_namespaced_config_map, "cm1", "default", read)  # stale resourceVersion
    assert info.value.status == 409 and "the object has been modified" in info.value.body
    patched = await call(v1.patch_namespaced_config_map, "cm1", "default", {"data": {"b": "3"}})
    assert patched.data == {"a": "2", "b": "3"}
    with pytest.raises(ApiException) as exists:
        await call(v1.create_namespaced_config_map, "default", body)
    assert exists.value.status == 409 and "AlreadyExists" in exists.value.body
    await call(v1.delete_namespaced_config_map, "cm1", "default")
    with pytest.raises(ApiException) as gone:
        await call(v1.read_namespaced_config_map, "cm1", "default")
    assert gone.value.status == 404


async def test_lists_pods_nodes_and_storage_with_model_validation(api: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api)
    nodes = await call(v1.list_node)
    assert sorted(n.metadata.name for n in nodes.items) == ["master", "node1", "node2"]
    assert all(n.status.node_info.kubelet_version == "v1.35.0" for n in nodes.items)
    pod = k8s.V1Pod(metadata=k8s.V1ObjectMeta(name="p"),
                    spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="nginx")]))
    await call(v1.create_namespaced_pod, "default", pod)
    pods = await call(v1.list_namespaced_pod, "default", label_selector="", field_selector="metadata.name=p")
    assert [p.metadata.name for p in pods.items] == ["p"]
    classes = await call(k8s.StorageV1Api(api).list_storage_class)
    assert classes.items
    crds = await call(k8s.ApiextensionsV1Api(api).list_custom_resource_definition)
    assert {c.spec.names.kind for c in crds.items} >= {"VolumeSnapshot", "VolumeSnapshotContent"}


async def test_pagination_over_http(api: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api)
    for i in range(5):
        await call(v1.create_namespaced_config_map, "default",
                   k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=f"p{i}")))
    page = await call(v1.list_namespaced_config_map, "default", limit=2)
    names = [c.metadata.name for c in page.items]
    while page.metadata._continue:
        page = await call(v1.list_namespaced_config_map, "default", limit=2, _continue=page.metadata._continue)
        names += [c.metadata.name for c in page.items]
    assert [n for n in names if n.startswith("p")] == [f"p{i}" for i in range(5)]


async def test_watch_stream_with_python_booleans(api: k8s.ApiClient) -> None:
    v1 = k8s.CoreV1Api(api)
    await call(v1.create_namespaced_config_map, "default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="w1")))

    def watch_once() -> list[tuple[str, str]]:
        w = k8s_watch.Watch()
        seen = []
        for event in w.stream(v1.list_namespaced_config_map, "default", timeout_seconds=2,
                              allow_watch_bookmarks=True):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) >= 1:
                w.stop()
        return seen

    seen = await call(watch_once)
    assert seen[0] == ("ADDED", "w1") or seen[0][0] == "ADDED"


def _wait_on_own_watch(v1: k8s.CoreV1Api, name: str, rv: str, done: Any) -> list[str]:
    """Stream pod events by name from ``rv`` until ``done(event)``; the event types seen."""
    seen: list[str] = []
    w = k8s_watch.Watch()
    for event in w.stream(v1.list_namespaced_pod, "default", field_selector=f"metadata.name={name}",
                          resource_version=rv, timeout_seconds=30):
        seen.append(event["type"])
        if done(event):
            w.stop()
            break
    return seen


def _ready(event: dict) -> bool:
    conditions = (event["raw_object"].get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


async def test_create_a_pod_then_wait_for_ready_and_deletion_on_its_own_watch(api: k8s.ApiClient) -> None:
    """The wait users write by hand: a name field selector from the create's resourceVersion."""
    v1 = k8s.CoreV1Api(api)
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "waited"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}
    created = await call(v1.create_namespaced_pod, "default", body)
    seen = await call(_wait_on_own_watch, v1, "waited", created.metadata.resource_version, _ready)
    assert seen and set(seen) == {"MODIFIED"}, seen
    deleting = await call(v1.delete_namespaced_pod, "waited", "default")
    gone = await call(_wait_on_own_watch, v1, "waited", deleting.metadata.resource_version,
                      lambda e: e["type"] == "DELETED")
    assert gone[-1] == "DELETED"
    with pytest.raises(ApiException) as missing:
        await call(v1.read_namespaced_pod, "waited", "default")
    assert missing.value.status == 404


async def test_unauthenticated_requests_are_refused_when_a_token_is_set(tmp_path: Any) -> None:
    import aiohttp

    async with Cluster(serve=True, port=0, token="s3cret", kubeconfig_path=tmp_path / "kc.yaml") as c:
        async with aiohttp.ClientSession() as s:
            async with s.get(c.url + "/api/v1/namespaces") as resp:
                assert resp.status == 401
                body = await resp.json()
                assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)
            async with s.get(c.url + "/api/v1/namespaces", headers={"Authorization": "Bearer s3cret"}) as resp:
                assert resp.status == 200
        api = k8s_config.new_client_from_config(str(c.kubeconfig_path))
        namespaces = await call(k8s.CoreV1Api(api).list_namespace)
        assert "default" in [n.metadata.name for n in namespaces.items]


async def test_malformed_http_bodies_are_400_not_500(served_cluster: Cluster) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        url = served_cluster.url + "/api/v1/namespaces/default/configmaps"
        for data, ctype in [(b"{not json", "application/json"), (b"[1,2]", "application/json"),
                            (b"\x00\x01", "application/vnd.kubernetes.protobuf")]:
            async with s.post(url, data=data, headers={"Content-Type": ctype}) as resp:
                assert resp.status == 400, await resp.text()
                assert (await resp.json())["kind"] == "Status"
        async with s.get(served_cluster.url + "/api/v1/nonsense") as resp:
            assert resp.status == 404
        async with s.post(url, data=b"{}", headers={"Content-Type": "text/csv"}) as resp:
            assert resp.status == 415
