"""The stage table (kubelet/stages.py): well-formed data, and the kubelet walks it: each stage's
delay comes from the timing the table names, each step records the events the table lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import minikube_lite.cluster as cluster_mod
from minikube_lite.clock import VirtualClock
from minikube_lite.cluster import Cluster
from minikube_lite.config import ClusterConfig, Timings
from minikube_lite.controllers.namespace import NamespaceController
from minikube_lite.kubelet import pods as kubelet_pods
from minikube_lite.kubelet import stages
from minikube_lite.kubelet.containerd import PodRuntime
from minikube_lite.kubelet.events import kubelet_events_for
from minikube_lite.kubelet.heartbeat import NodeHeartbeat
from minikube_lite.kubelet.pods import Kubelet

JSON = dict[str, Any]

CONTROLLERS = [
    NamespaceController,
    Kubelet,
    NodeHeartbeat,
]
#: Distinct delays, so that each stage's share of the start time can be told apart.
TIMINGS = {"volumeMountDelay": "0.3s", "podStartDelay": "1.7s", "imagePullDelay": "2.9s",
           "podTerminationDelay": "0.7s"}


# ---------------------------------------------------------------- the table as data

def test_stage_names_are_unique_and_every_next_stage_exists() -> None:
    names = [s.name for s in stages.STAGES]
    assert len(names) == len(set(names))
    for s in stages.STAGES:
        assert set(s.next) <= set(names), s.name
        assert s.waits_for and s.status


def test_every_delay_is_a_cluster_timing() -> None:
    fields = set(Timings.model_fields)
    delays = {s.name: s.delay for s in stages.STAGES if s.delay}
    assert delays == {"mounting": "volumeMountDelay", "sandbox": "podStartDelay", "pulling": "imagePullDelay",
                      "stopping": "podTerminationDelay"}
    assert set(delays.values()) <= fields
    timings = Timings(imagePullDelay=4.5)
    assert stages.stage(stages.PULLING).delay_seconds(timings) == 4.5
    assert stages.stage(stages.PULL).delay_seconds(timings) == 0.0


def test_a_new_pod_starts_in_the_first_stage_and_the_kubelet_has_a_step_for_every_stage() -> None:
    assert PodRuntime(uid="u", node="n").stage == stages.STAGES[0].name
    terminal = {s.name for s in stages.STAGES if not s.next}
    assert set(kubelet_pods._STEPS) == {s.name for s in stages.STAGES} - {stages.DONE}
    assert terminal == {stages.DONE, stages.KILLED}


def test_event_lookup_by_reason() -> None:
    pull = stages.stage(stages.PULL)
    assert pull.event("Pulled").text(image="nginx") == \
        'Container image "nginx" already present on machine and can be accessed by the pod'
    assert pull.event("Pulling").type == "Normal"
    with pytest.raises(IndexError):
        pull.event("Started")


# ---------------------------------------------------------------- the kubelet walks the table

async def _cluster(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Cluster]:
    monkeypatch.setattr(cluster_mod, "CONTROLLERS", list(CONTROLLERS))
    config = ClusterConfig.from_dict({"nodes": [{"name": "node1", "zone": "cn-hangzhou-b"}],
                                      "cloud": {"region": "cn-hangzhou", "zones": ["cn-hangzhou-b"]},
                                      "systemPods": False, "timings": TIMINGS})
    async with Cluster(config, clock=VirtualClock()) as c:
        await c.settle()
        yield c


def _delay(name: str, timings: Timings) -> float:
    return stages.stage(name).delay_seconds(timings)


async def test_start_time_is_the_sum_of_the_delays_along_the_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    async for c in _cluster(monkeypatch):
        timings = c.config.timings
        t0 = c.clock.now()
        await c.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                                       "spec": {"nodeName": "node1",
                                                "containers": [{"name": "a", "image": "nginx"}]}}, "default")
        await c.settle()
        p = await c.client.get("pods", "web", "default")
        assert p["status"]["phase"] == "Running"
        path = [stages.VOLUMES, stages.MOUNTING, stages.SANDBOX, stages.PULL, stages.PULLING, stages.CREATE]
        expected = sum(_delay(name, timings) for name in path)
        assert c.clock.now() - t0 == pytest.approx(expected, abs=1e-6)
        # The events are the table's, in the order of the stages that record them.
        recorded = kubelet_events_for((await c.client.list("events", "default"))["items"])
        table = [stages.stage(stages.PULL).event("Pulling"), stages.stage(stages.PULLING).event("Pulled"),
                 *stages.stage(stages.CREATE).events]
        assert [r for r, _, _ in recorded] == [e.reason for e in table]
        assert recorded[0][2] == table[0].text(image="nginx")
        assert recorded[2][2] == table[2].text() and recorded[3][2] == table[3].text()


async def test_deletion_waits_the_stopping_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    async for c in _cluster(monkeypatch):
        await c.client.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
                                       "spec": {"nodeName": "node1",
                                                "containers": [{"name": "a", "image": "nginx"}]}}, "default")
        await c.settle()
        t0 = c.clock.now()
        await c.client.delete("pods", "web", "default")
        await c.settle()
        assert c.clock.now() - t0 == pytest.approx(_delay(stages.STOPPING, c.config.timings), abs=1e-6)
        items = (await c.client.list("pods", "default"))["items"]
        assert items == []
        killing = [m for r, _, m in kubelet_events_for((await c.client.list("events", "default"))["items"])
                   if r == "Killing"]
        assert killing == [stages.stage(stages.KILLING).event("Killing").text(name="a")]


def test_the_package_docstring_documents_every_stage_and_its_delay() -> None:
    import minikube_lite.kubelet as package

    rows = {line.split()[0]: line for line in (package.__doc__ or "").splitlines()
            if line and not line.startswith((" ", "=")) and line.split()[0] in stages.BY_NAME}
    assert set(rows) == set(stages.BY_NAME)
    for s in stages.STAGES:
        if s.delay:
            assert s.delay in rows[s.name], s.name
