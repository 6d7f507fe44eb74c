"""core/v1 and events.k8s.io/v1 are two views of the same stored Events."""

from __future__ import annotations

from minikube_lite import Cluster
from minikube_lite.client.events import EventRecorder


async def test_recorded_events_are_served_in_both_groups_with_aggregation(cluster: Cluster) -> None:
    pvc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "subject"}}
    subject = await cluster.client.create("configmaps", pvc, "default")
    recorder = EventRecorder(cluster.client, "test-controller", cluster.clock)
    await recorder.event(subject, "Warning", "Broken", "it broke")
    await cluster.clock.advance(300)  # type: ignore[attr-defined]
    await recorder.event(subject, "Warning", "Broken", "it broke")
    core = (await cluster.client.list("events", "default",
                                      field_selector="involvedObject.name=subject,reason=Broken"))["items"]
    assert len(core) == 1 and core[0]["count"] == 2
    assert core[0]["firstTimestamp"] != core[0]["lastTimestamp"]
    view = (await cluster.client.list("events.events.k8s.io", "default",
                                      field_selector="regarding.name=subject"))["items"]
    assert len(view) == 1
    event = view[0]
    assert event["apiVersion"] == "events.k8s.io/v1"
    assert event["regarding"]["name"] == "subject" and event["note"] == "it broke"
    assert event["reportingController"] == "test-controller"
    assert event["eventTime"] and event["series"]["count"] == 2
    assert event["metadata"]["name"] == core[0]["metadata"]["name"]


async def test_events_created_through_events_k8s_io_are_core_events(cluster: Cluster) -> None:
    body = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"},
            "eventTime": "2026-01-01T00:00:00.000000Z", "reason": "Hello", "note": "hi there", "type": "Normal",
            "action": "Greet", "reportingController": "me", "reportingInstance": "me-1",
            "regarding": {"kind": "Node", "name": "node1", "apiVersion": "v1"}}
    made = await cluster.client.create("events.events.k8s.io", body, "default")
    assert made["note"] == "hi there"
    core = await cluster.client.get("events", "e1", "default")
    assert core["message"] == "hi there" and core["involvedObject"]["name"] == "node1"
    assert core["reportingComponent"] == "me"
    patched = await cluster.client.patch("events.events.k8s.io", "e1", {"note": "changed"}, "default")
    assert patched["note"] == "changed"
    assert (await cluster.client.get("events", "e1", "default"))["message"] == "changed"
    await cluster.client.delete("events.events.k8s.io", "e1", "default")
    assert not (await cluster.client.list("events", "default", field_selector="metadata.name=e1"))["items"]
