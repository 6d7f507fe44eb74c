"""The Job controller's pure rules, on plain objects: outcomes, backoff limits, failure policies."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.controllers.batch.job_status import (
    past_backoff_limit,
    pod_failure_policy_action,
    set_job_condition,
    terminal_outcome,
)

JSON = dict[str, Any]


def pod(phase: str, exit_code: int = 0, finished: str = "2026-01-01T00:00:05Z", deleted: str | None = None,
        restarts: int = 0, conditions: list[JSON] | None = None) -> JSON:
    meta: JSON = {"name": "p", "namespace": "ns"}
    if deleted:
        meta.update(deletionTimestamp=deleted, deletionGracePeriodSeconds=30)
    state = {"terminated": {"exitCode": exit_code, "finishedAt": finished}} if phase in ("Succeeded", "Failed") \
        else {"running": {}}
    return {"metadata": meta, "spec": {"nodeName": "n"},
            "status": {"phase": phase, "conditions": conditions or [],
                       "containerStatuses": [{"name": "c", "state": state, "restartCount": restarts}]}}


@pytest.mark.parametrize(("obj", "outcome"), [
    (pod("Running"), None),
    (pod("Succeeded"), "succeeded"),
    (pod("Failed", 1), "failed"),
    (pod("Running", deleted="2026-01-01T00:00:40Z"), None),  # still terminating
    # finished before the deletion was asked for (deadline 00:00:40 minus 30 s grace) -> a success
    (pod("Succeeded", finished="2026-01-01T00:00:05Z", deleted="2026-01-01T00:00:40Z"), "succeeded"),
    # exited 0 only because it was killed -> a failure
    (pod("Succeeded", finished="2026-01-01T00:00:11Z", deleted="2026-01-01T00:00:40Z"), "failed"),
])
def test_terminal_outcome(obj: JSON, outcome: str | None) -> None:
    assert terminal_outcome(obj) == outcome


def test_backoff_limit_rules() -> None:
    never = {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never"}}}
    on_failure = {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "OnFailure"}}}
    assert not past_backoff_limit(never, 2, []) and past_backoff_limit(never, 3, [])
    assert not past_backoff_limit(on_failure, 0, [pod("Running", restarts=1)])
    assert past_backoff_limit(on_failure, 0, [pod("Running", restarts=2)])
    assert past_backoff_limit({**on_failure, "backoffLimit": 0}, 0, [pod("Running", restarts=1)])


def test_failure_policy_matching() -> None:
    spec = {"podFailurePolicy": {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}},
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [42]}},
    ]}}
    assert pod_failure_policy_action(spec, pod("Failed", 42)) == (
        "FailJob", "Container c for pod ns/p failed with exit code 42 matching FailJob rule at index 1")
    assert pod_failure_policy_action(spec, pod("Failed", 3))[0] == "Count"  # type: ignore[index]
    disrupted = pod("Failed", 42, conditions=[{"type": "DisruptionTarget", "status": "True"}])
    assert pod_failure_policy_action(spec, disrupted) == (
        "Ignore", "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0")
    assert pod_failure_policy_action({}, pod("Failed", 1)) is None


def test_conditions_keep_their_time_while_unchanged() -> None:
    first = {"type": "Suspended", "status": "True", "reason": "JobSuspended", "lastTransitionTime": "t1"}
    again = {**first, "lastTransitionTime": "t2"}
    assert set_job_condition([first], again) == [first]
    resumed = {"type": "Suspended", "status": "False", "reason": "JobResumed", "lastTransitionTime": "t3"}
    assert set_job_condition([first], resumed) == [resumed]
    assert set_job_condition([first], {"type": "Complete", "status": "True"})[1]["type"] == "Complete"
