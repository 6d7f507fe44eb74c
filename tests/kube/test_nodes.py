"""What components read off a Node: the down mark, conditions, and the reference events name."""

from __future__ import annotations

from typing import Any

from minikube_lite.kube.nodes import (
    DOWN_ANNOTATION,
    is_down,
    node_condition,
    node_event_ref,
    node_ready_status,
)


def node(**annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "node1", "uid": "u-1", "annotations": annotations},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}


def test_is_down_reads_the_annotation() -> None:
    assert not is_down(None)
    assert not is_down(node())
    assert is_down(node(**{DOWN_ANNOTATION: "true"}))
    assert is_down(node(**{DOWN_ANNOTATION: "True"}))
    assert not is_down(node(**{DOWN_ANNOTATION: "false"}))


def test_conditions_are_copies() -> None:
    n = node()
    ready = node_condition(n, "Ready")
    assert ready == {"type": "Ready", "status": "True", "reason": "KubeletReady"}
    assert ready is not None
    ready["status"] = "False"
    assert node_ready_status(n) == "True"
    assert node_condition(n, "DiskPressure") is None
    assert node_ready_status({"metadata": {"name": "x"}}) == "Unknown"


def test_node_events_name_the_node_by_name_as_uid() -> None:
    n = node()
    ref = node_event_ref(n)
    assert (ref["kind"], ref["apiVersion"], ref["metadata"]["uid"]) == ("Node", "v1", "node1")
    assert n["metadata"]["uid"] == "u-1"  # the node itself is untouched
