"""Keeping the cluster's state in etcd, end to end: real etcd, real kubectl, HTTP watches.

A server on etcd is stopped and started again on the same etcd and keeps every object with its
resourceVersion; a client watch resumes from its last resourceVersion across the restart; two
API servers on one etcd see each other's writes and watch events; and the course's storage
story (a claim provisioned and bound) runs on etcd.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from kubectl_runner import Kubectl, kb

from minikube_lite import Cluster
from minikube_lite.config import ClusterConfig

pytestmark = pytest.mark.e2e


def _kubectl_binary() -> Path:
    found = kb.all_kubectls()
    if not found:
        pytest.skip("no kubectl binary available (no registry access and none on PATH)")
    return found[0][1]


@pytest.fixture
def storage(etcd_server: Any) -> str:
    """A fresh key prefix on the session's etcd for this test."""
    url: str = etcd_server.url(f"e2e-{uuid.uuid4().hex[:8]}")
    return url


@contextlib.asynccontextmanager
async def served(directory: Path, storage: str, **kwargs: Any) -> AsyncIterator[Cluster]:
    directory.mkdir(parents=True, exist_ok=True)
    async with Cluster(serve=True, port=0, kubeconfig_path=directory / "kubeconfig.yaml", storage=storage,
                       **kwargs) as c:
        yield c


async def watch_lines(url: str, path: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The first ``count`` frames of a watch on ``path`` (a bounded read)."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, \
            session.get(url + path, headers={"Authorization": "Bearer minikube-lite"},
                        timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        assert response.status == 200, await response.text()
        while len(frames) < count:
            line = await response.content.readline()
            if not line:
                break
            frames.append(orjson.loads(line))
    return frames


def rv_of(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["resourceVersion"])


async def test_a_restarted_server_keeps_every_object_and_its_resource_version(
        storage: str, tmp_path: Path) -> None:
    binary = _kubectl_binary()
    async with served(tmp_path / "first", storage, components=False) as first:
        kubectl = Kubectl("etcd", binary, first, tmp_path / "kubectl-1")
        await kubectl.ok("create", "namespace", "team")
        await kubectl.ok("create", "configmap", "settings", "-n", "team", "--from-literal=color=blue")
        await kubectl.ok("create", "secret", "generic", "token", "-n", "team", "--from-literal=k=v")
        await kubectl.ok("create", "service", "clusterip", "web", "-n", "team", "--tcp=80:8080")
        await kubectl.ok("label", "configmap", "settings", "-n", "team", "tier=backend")
        before = orjson.loads(await kubectl.ok("get", "configmaps,secrets,services,namespaces", "-A", "-o", "json"))
        web_ip = next(i for i in before["items"] if i["metadata"]["name"] == "web")["spec"]["clusterIP"]
    async with served(tmp_path / "second", storage, components=False) as second:
        kubectl = Kubectl("etcd", binary, second, tmp_path / "kubectl-2")
        after = orjson.loads(await kubectl.ok("get", "configmaps,secrets,services,namespaces", "-A", "-o", "json"))
        key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
        assert {key(o): (rv_of(o), o["metadata"]["uid"]) for o in after["items"]} == \
            {key(o): (rv_of(o), o["metadata"]["uid"]) for o in before["items"]}
        settings = orjson.loads(await kubectl.ok("get", "configmap", "settings", "-n", "team", "-o", "json"))
        assert settings["data"] == {"color": "blue"} and settings["metadata"]["labels"] == {"tier": "backend"}
        # Writes go on from the kept state: revisions grow, an updated object conflicts on its old rv.
        await kubectl.ok("create", "service", "clusterip", "api", "-n", "team", "--tcp=81:8081")
        api = orjson.loads(await kubectl.ok("get", "service", "api", "-n", "team", "-o", "json"))
        assert int(rv_of(api)) > max(int(rv_of(o)) for o in before["items"])
        assert api["spec"]["clusterIP"] != web_ip
        stale = {**settings, "data": {"color": "red"}}
        stale["metadata"] = {**settings["metadata"], "resourceVersion": str(int(rv_of(settings)) - 1)}
        result = await kubectl.fail("replace", "-f", kubectl.write(orjson.dumps(stale).decode(), "stale.json"))
        assert "the object has been modified" in result.err


async def test_a_watch_resumes_from_its_resource_version_after_a_restart(storage: str, tmp_path: Path) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    async with served(tmp_path / "first", storage, components=False) as first:
        created = await first.client.create("configmaps", {"metadata": {"name": "one"}, "data": {"n": "1"}},
                                            "default")
        seen_rv = rv_of(created)
        # Changes the client has not seen yet when the server goes away.
        await first.client.create("configmaps", {"metadata": {"name": "two"}}, "default")
        await first.client.delete("configmaps", "one", "default")
    async with served(tmp_path / "second", storage, components=False) as second:
        reader = asyncio.create_task(watch_lines(second.url, f"{path}?watch=1&resourceVersion={seen_rv}", 3))
        await asyncio.sleep(0.2)
        three = await second.client.create("configmaps", {"metadata": {"name": "three"}}, "default")
        frames = await reader
        assert [(f["type"], f["object"]["metadata"]["name"]) for f in frames] == [
            ("ADDED", "two"), ("DELETED", "one"), ("ADDED", "three")]
        assert rv_of(frames[-1]["object"]) == rv_of(three)
        assert all(int(rv_of(f["object"])) > int(seen_rv) for f in frames)


async def test_a_watch_from_before_etcd_compacted_gets_410_and_the_client_relists(
        storage: str, tmp_path: Path) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    async with served(tmp_path / "first", storage, components=False) as first:
        old = await first.client.create("configmaps", {"metadata": {"name": "old"}}, "default")
        newer = await first.client.create("configmaps", {"metadata": {"name": "newer"}}, "default")
        first.engine.store.compact(int(rv_of(newer)))
    async with served(tmp_path / "second", storage, components=False) as second:
        frames = await watch_lines(second.url, f"{path}?watch=1&resourceVersion={rv_of(old)}", 1)
        assert frames[0]["type"] == "ERROR"
        status = frames[0]["object"]
        assert (status["code"], status["reason"]) == (410, "Expired")
        assert status["message"].startswith(f"too old resource version: {rv_of(old)} (")
        listed = await second.client.list("configmaps", "default")
        assert {i["metadata"]["name"] for i in listed["items"]} >= {"old", "newer"}


async def test_two_api_servers_on_one_etcd_see_each_others_writes_and_watch_events(
        storage: str, tmp_path: Path) -> None:
    binary = _kubectl_binary()
    async with served(tmp_path / "a", storage) as a, served(tmp_path / "b", storage, components=False) as b:
        on_a = Kubectl("etcd-a", binary, a, tmp_path / "kubectl-a")
        on_b = Kubectl("etcd-b", binary, b, tmp_path / "kubectl-b")
        path = "/api/v1/namespaces/default/configmaps"
        listed = await b.client.list("configmaps", "default")
        watch_on_b = asyncio.create_task(
            watch_lines(b.url, f"{path}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}", 2))
        watch_on_a = asyncio.create_task(
            watch_lines(a.url, f"{path}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}", 2))
        await asyncio.sleep(0.2)
        await on_a.ok("create", "configmap", "from-a", "--from-literal=x=1")
        await on_b.ok("create", "configmap", "from-b", "--from-literal=y=2")
        for frames in (await watch_on_b, await watch_on_a):
            assert sorted((f["type"], f["object"]["metadata"]["name"]) for f in frames) == [
                ("ADDED", "from-a"), ("ADDED", "from-b")]
        # A list on B at least as new as A's write (resourceVersion=N: not older than N) has it.
        made_on_a = await a.client.create("configmaps", {"metadata": {"name": "fresh"}}, "default")
        fresh = await b.client.list("configmaps", "default", resource_version=rv_of(made_on_a))
        assert "fresh" in {i["metadata"]["name"] for i in fresh["items"]}
        from_a_on_b = orjson.loads(await on_b.ok("get", "configmap", "from-a", "-o", "json"))
        from_a_on_a = orjson.loads(await on_a.ok("get", "configmap", "from-a", "-o", "json"))
        assert rv_of(from_a_on_b) == rv_of(from_a_on_a) and from_a_on_b["data"] == {"x": "1"}
        # Optimistic concurrency across servers: B updates, A's copy is then stale.
        await on_b.ok("label", "configmap", "from-a", "seen-by=b")
        stale = {**from_a_on_a, "data": {"x": "stale"}}
        result = await on_a.fail("replace", "-f", on_a.write(orjson.dumps(stale).decode(), "stale.json"))
        assert "the object has been modified" in result.err
        # A namespace made on B is usable on A: A's admission reads it from its cache.
        await on_b.ok("create", "namespace", "shared")
        await asyncio.sleep(0.1)
        await on_a.ok("create", "configmap", "in-shared", "-n", "shared")


async def test_a_claim_is_provisioned_and_bound_on_etcd(storage: str, tmp_path: Path) -> None:
    binary = _kubectl_binary()
    config = ClusterConfig.default()
    config.cloud.durations.createDisk = 0.05  # real clock here: keep the disk quick
    async with Cluster(config, serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml",
                       storage=storage) as c:
        kubectl = Kubectl("etcd", binary, c, tmp_path / "kubectl")
        claim = kubectl.write("""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: alicloud-disk-ssd
  resources: {requests: {storage: 20Gi}}
""")
        await kubectl.ok("apply", "-f", claim)
        await kubectl.ok("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=30s")
        pvc = orjson.loads(await kubectl.ok("get", "pvc", "data", "-o", "json"))
        pv = orjson.loads(await kubectl.ok("get", "pv", pvc["spec"]["volumeName"], "-o", "json"))
        assert pv["status"]["phase"] == "Bound"
        assert pv["spec"]["claimRef"]["name"] == "data"
        stored = c.engine.store.get(("", "persistentvolumes"), "", pv["metadata"]["name"])
        assert stored is not None and str(stored.rv) == rv_of(pv)
        await kubectl.ok("delete", "pvc", "data", "--wait=true", "--timeout=30s")
        await c.settle(timeout=60)


CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: backups.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: backups, singular: backup, kind: Backup}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {target: {type: string}}}
"""
BACKUP = """
apiVersion: example.com/v1
kind: Backup
metadata: {name: nightly}
spec: {target: db}
"""


async def test_a_crd_made_on_one_server_is_served_by_the_other_and_after_a_restart(
        storage: str, tmp_path: Path) -> None:
    binary = _kubectl_binary()
    async with served(tmp_path / "a", storage, components=False) as a, \
            served(tmp_path / "b", storage, components=False) as b:
        on_a = Kubectl("etcd-a", binary, a, tmp_path / "kubectl-a")
        on_b = Kubectl("etcd-b", binary, b, tmp_path / "kubectl-b")
        await on_a.ok("apply", "-f", on_a.write(CRD, "crd.yaml"))
        await on_a.ok("apply", "-f", on_a.write(BACKUP, "backup.yaml"))
        await asyncio.sleep(0.1)
        got = orjson.loads(await on_b.ok("get", "backups.example.com", "nightly", "-o", "json"))
        assert got["spec"] == {"target": "db"}
    async with served(tmp_path / "c", storage, components=False) as c:
        on_c = Kubectl("etcd-c", binary, c, tmp_path / "kubectl-c")
        again = orjson.loads(await on_c.ok("get", "backups.example.com", "nightly", "-o", "json"))
        assert rv_of(again) == rv_of(got)
        await on_c.ok("delete", "crd", "backups.example.com")
        assert c.engine.store.count(("example.com", "backups")) == 0
