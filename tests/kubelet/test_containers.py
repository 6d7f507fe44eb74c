"""Containers that finish: the exit rule, restarts with CrashLoopBackOff, batch pods completing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig
from minikube_lite.controllers.garbage_collector import GarbageCollector
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.controllers.node_lifecycle import NodeLifecycleController
from minikube_lite.kubelet.containers import (
    EXIT_AFTER_ANNOTATION,
    EXIT_CODE_ANNOTATION,
    ExitPlan,
    crash_backoff,
    exit_plan,
    restarts_after,
)
from minikube_lite.kubelet.heartbeat import NodeHeartbeat
from minikube_lite.kubelet.pods import Kubelet

JSON = dict[str, Any]

CONTROLLERS = [
    NamespaceController,
    GarbageCollector,
    Kubelet,
    NodeHeartbeat,
    NodeLifecycleController,
]
CONFIG: JSON = {
    "nodes": [{"name": "node1", "zone": "cn-hangzhou-b"}],
    "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b"]},
    "timings": {"podStartDelay": "1s", "imagePullDelay": "1s", "containerRunDuration": "3s"},
}


@pytest.fixture
def make_cluster(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    @asynccontextmanager
    async def make() -> AsyncIterator[Cluster]:
        monkeypatch.setattr(cluster_mod, "CONTROLLERS", list(CONTROLLERS))
        async with Cluster(ClusterConfig.from_dict(CONFIG), clock=VirtualClock()) as c:
            await c.settle()
            yield c

    return make


def pod(name: str, policy: str, annotations: JSON | None = None) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {"nodeName": "node1", "restartPolicy": policy,
                     "containers": [{"name": "c", "image": "busybox:1.36"}]}}


@pytest.mark.parametrize(("policy", "annotations", "plan"), [
    ("Always", {}, None),
    ("Never", {}, ExitPlan(3.0, 0)),
    ("OnFailure", {}, ExitPlan(3.0, 0)),
    ("Always", {EXIT_CODE_ANNOTATION: "2"}, ExitPlan(3.0, 2)),
    ("Never", {EXIT_AFTER_ANNOTATION: "1m30s"}, ExitPlan(90.0, 0)),
    ("Never", {EXIT_AFTER_ANNOTATION: "5s", EXIT_CODE_ANNOTATION: "oops"}, ExitPlan(5.0, 1)),
])
def test_exit_plan_rule(policy: str, annotations: JSON, plan: ExitPlan | None) -> None:
    assert exit_plan(pod("p", policy, annotations), 3.0) == plan


def test_restart_rules_and_backoff() -> None:
    assert [restarts_after(p, c) for p, c in [("Always", 0), ("Always", 1), ("OnFailure", 0), ("OnFailure", 1),
                                              ("Never", 1)]] == [True, True, False, True, False]
    assert [crash_backoff(n) for n in range(7)] == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0]


async def test_batch_pod_completes_after_the_run_duration(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("once", "Never"), "default")
        await c.settle()
        st = (await c.client.get("pods", "once", "default"))["status"]
        assert st["phase"] == "Succeeded"
        state = st["containerStatuses"][0]["state"]["terminated"]
        assert (state["reason"], state["exitCode"]) == ("Completed", 0)
        ready = next(x for x in st["conditions"] if x["type"] == "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")


async def test_on_failure_restarts_until_success_is_impossible(make_cluster: Any) -> None:
    async with make_cluster() as c:
        await c.client.create("pods", pod("retry", "OnFailure", {EXIT_CODE_ANNOTATION: "1"}), "default")
        await c.settle(timeout=20)
        st = (await c.client.get("pods", "retry", "default"))["status"]
        cs = st["containerStatuses"][0]
        assert st["phase"] == "Running" and cs["restartCount"] >= 1
        assert cs["lastState"]["terminated"]["exitCode"] == 1


async def test_crash_loop_back_off(make_cluster: Any) -> None:
    async with make_cluster() as c:
        created = await c.client.create("pods", pod("crash", "Always", {EXIT_CODE_ANNOTATION: "1"}), "default")
        uid = created["metadata"]["uid"]
        await c.settle()
        for _ in range(12):  # 1 s steps through start, exit, immediate restart, second exit
            await c.clock.advance(1.0)
            await c.settle()
        st = (await c.client.get("pods", "crash", "default"))["status"]
        cs = st["containerStatuses"][0]
        assert st["phase"] == "Running"
        assert cs["restartCount"] == 1 and cs["ready"] is False
        assert cs["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message":
                               f"back-off 10s restarting failed container=c pod=crash_default({uid})"}}
        assert cs["lastState"]["terminated"]["reason"] == "Error"
        items = (await c.client.list("events", "default"))["items"]
        assert ("BackOff", f"Back-off restarting failed container c in pod crash_default({uid})") in [
            (e["reason"], e["message"]) for e in items]
        for _ in range(11):
            await c.clock.advance(1.0)
            await c.settle()
        cs = (await c.client.get("pods", "crash", "default"))["status"]["containerStatuses"][0]
        # Restarted after the 10 s back-off, crashed again 3 s later: now the back-off doubles.
        assert cs["restartCount"] == 2
        assert cs["state"]["waiting"]["message"].startswith("back-off 20s restarting failed container=c ")
