"""Shared workload helpers: pod expectations, deletion order, percentages, claim/adopt/release."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.controllers.workloads.common import (
    PodExpectations,
    claim_children,
    controller_index,
    deletion_rank,
    resolve_int_or_percent,
)

JSON = dict[str, Any]


def pod(uid: str, *, node: str = "", ready: bool = False, created: str = "2026-01-01T00:00:00Z",
        deleting: bool = False, owner: str | None = None, labels: JSON | None = None) -> JSON:
    meta: JSON = {"name": f"p-{uid}", "namespace": "default", "uid": uid, "creationTimestamp": created,
                  "labels": labels if labels is not None else {"app": "a"}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:01Z"
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True, "kind": "ReplicaSet", "name": "rs"}]
    status: JSON = {"phase": "Running" if node else "Pending"}
    if ready:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": created}]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}, "status": status}


def test_expectations_wait_for_the_cache() -> None:
    exp = PodExpectations(VirtualClock(), ttl=10)
    created = pod("a")
    exp.expect_create("ns/rs", created, None)
    assert not exp.satisfied("ns/rs")
    exp.observe("ADDED", created)
    assert exp.satisfied("ns/rs")
    exp.expect_create("ns/rs", created, created)  # already cached: nothing to wait for
    assert exp.satisfied("ns/rs")
    live = pod("b", node="n1")
    exp.expect_delete("ns/rs", live, live)
    assert not exp.satisfied("ns/rs")
    exp.observe("MODIFIED", pod("b", node="n1", deleting=True))
    assert exp.satisfied("ns/rs")


async def test_expectations_expire() -> None:
    clock = VirtualClock()
    exp = PodExpectations(clock, ttl=10)
    exp.expect_create("ns/rs", pod("a"), None)
    await clock.advance_to(clock.now() + 11)
    assert exp.satisfied("ns/rs")


def test_deletion_order() -> None:
    pods = [pod("old-ready", node="n", ready=True, created="2026-01-01T00:00:00Z"),
            pod("new-ready", node="n", ready=True, created="2026-01-01T00:05:00Z"),
            pod("not-ready", node="n"), pod("unscheduled")]
    assert [p["metadata"]["uid"] for p in sorted(pods, key=deletion_rank)] == [
        "unscheduled", "not-ready", "new-ready", "old-ready"]


@pytest.mark.parametrize(("value", "total", "up", "expected"), [
    ("25%", 10, True, 3), ("25%", 10, False, 2), (2, 10, True, 2), ("0%", 5, True, 0), (None, 3, True, 0)])
def test_resolve_int_or_percent(value: Any, total: int, up: bool, expected: int) -> None:
    assert resolve_int_or_percent(value, total, up) == expected


def test_claim_children() -> None:
    owner = {"metadata": {"uid": "rs1", "name": "rs"}}
    sel = {"matchLabels": {"app": "a"}}
    mine, orphan, foreign = pod("1", owner="rs1"), pod("2"), pod("3", owner="other")
    stray = pod("4", owner="rs1", labels={"app": "b"})
    owned, adopt, release = claim_children([mine, orphan, foreign, stray, pod("5", deleting=True)], owner, sel)
    assert (owned, adopt, release) == ([mine], [orphan], [stray])
    assert controller_index(mine) == ["rs1"] and controller_index(orphan) == ["orphan:default"]
    assert claim_children([orphan], owner, {})[1] == []  # an empty selector selects nothing
