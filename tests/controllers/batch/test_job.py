"""Job and TTL-after-finished controllers on the in-process cluster with a virtual clock."""

from __future__ import annotations

from typing import Any

from minikube_lite.controllers.batch.job_status import (
    JOB_TRACKING_FINALIZER,
    failure_backoff,
    format_indexes,
    parse_indexes,
)

JSON = dict[str, Any]


def job(name: str, annotations: JSON | None = None, **spec: Any) -> JSON:
    template: JSON = {"spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "Never"}}
    if annotations:
        template["metadata"] = {"annotations": annotations}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": {"template": template, **spec}}


async def job_events(client: Any, name: str) -> list[tuple[str, str]]:
    items = (await client.list("events", "default"))["items"]
    return [(e["reason"], e["message"]) for e in items
            if e["involvedObject"]["kind"] == "Job" and e["involvedObject"]["name"] == name]


async def owned_pods(client: Any, job_name: str) -> list[JSON]:
    pods = (await client.list("pods", "default", label_selector=f"batch.kubernetes.io/job-name={job_name}"))["items"]
    return list(pods)


def test_index_intervals_round_trip() -> None:
    assert format_indexes([4, 0, 1, 2, 7, 6]) == "0-2,4,6-7"
    assert parse_indexes("0-2,4,6-7") == {0, 1, 2, 4, 6, 7}
    assert [failure_backoff(n) for n in (0, 1, 2, 3, 10)] == [0.0, 10.0, 20.0, 40.0, 360.0]


async def test_completions_three_parallelism_two_completes(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("pi", completions=3, parallelism=2), "default")
    await cluster.settle()
    status = (await client.get("jobs", "pi", "default"))["status"]
    assert status["succeeded"] == 3 and "active" not in status and status["ready"] == 0
    assert [c["type"] for c in status["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert status["completionTime"] >= status["startTime"]
    assert status["uncountedTerminatedPods"] == {}
    pods = await owned_pods(client, "pi")
    assert len(pods) == 3
    for pod in pods:
        assert pod["status"]["phase"] == "Succeeded"
        assert JOB_TRACKING_FINALIZER not in (pod["metadata"].get("finalizers") or [])
        ref = pod["metadata"]["ownerReferences"][0]
        assert (ref["apiVersion"], ref["kind"], ref["name"], ref["controller"]) == ("batch/v1", "Job", "pi", True)
    events = await job_events(client, "pi")
    assert sorted(e for e in events if e[0] == "SuccessfulCreate") == sorted(
        ("SuccessfulCreate", f"Created pod: {p['metadata']['name']}") for p in pods)
    assert events[-1] == ("Completed", "Job completed")


async def test_failing_job_hits_its_backoff_limit(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("boom", {"minikube-lite.io/exit-code": "1"}, backoffLimit=2), "default")
    await cluster.settle()
    status = (await client.get("jobs", "boom", "default"))["status"]
    assert status["failed"] == 3 and "succeeded" not in status
    conditions = [(c["type"], c["reason"], c["message"]) for c in status["conditions"]]
    assert conditions == [("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                          ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]
    assert "completionTime" not in status
    assert ("BackoffLimitExceeded", "Job has reached the specified backoff limit") in \
        await job_events(client, "boom")
    pods = await owned_pods(client, "boom")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Failed" for p in pods)
    terminated = pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("Error", 1)


async def test_indexed_job(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("idx", completions=3, parallelism=3, completionMode="Indexed"), "default")
    await cluster.settle()
    status = (await client.get("jobs", "idx", "default"))["status"]
    assert status["completedIndexes"] == "0-2" and status["succeeded"] == 3
    pods = sorted(await owned_pods(client, "idx"), key=lambda p: p["metadata"]["name"])
    for index, pod in enumerate(pods):
        key = "batch.kubernetes.io/job-completion-index"
        assert pod["metadata"]["annotations"][key] == str(index)
        assert pod["metadata"]["labels"][key] == str(index)
        assert pod["metadata"]["name"].startswith(f"idx-{index}-")
        assert pod["spec"]["hostname"] == f"idx-{index}"
        assert {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": f"metadata.labels['{key}']"}}} in pod["spec"]["containers"][0]["env"]


async def test_active_deadline(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("slow", {"minikube-lite.io/exit-after": "10m"}, activeDeadlineSeconds=30),
                        "default")
    await cluster.settle()
    status = (await client.get("jobs", "slow", "default"))["status"]
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "DeadlineExceeded"), ("Failed", "DeadlineExceeded")]
    assert status["failed"] == 1  # the pod killed at the deadline counts as failed
    events = await job_events(client, "slow")
    assert ("DeadlineExceeded", "Job was active longer than specified deadline") in events
    assert any(reason == "SuccessfulDelete" for reason, _ in events)


async def test_suspended_job_runs_nothing_until_resumed(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("later", suspend=True), "default")
    await cluster.settle()
    status = (await client.get("jobs", "later", "default"))["status"]
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("Suspended", "True", "JobSuspended")]
    assert await owned_pods(client, "later") == []
    await client.patch("jobs", "later", {"spec": {"suspend": False}}, "default")
    await cluster.settle()
    status = (await client.get("jobs", "later", "default"))["status"]
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [
        ("Suspended", "False"), ("SuccessCriteriaMet", "True"), ("Complete", "True")]
    events = await job_events(client, "later")
    assert ("Suspended", "Job suspended") in events and ("Resumed", "Job resumed") in events


async def test_ttl_after_finished_deletes_job_and_pods(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("short", ttlSecondsAfterFinished=60), "default")
    await cluster.settle()
    assert (await client.list("jobs", "default"))["items"] == []
    assert await owned_pods(client, "short") == []


async def test_deleting_a_job_deletes_its_pods(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("gone", {"minikube-lite.io/exit-after": "1h"}), "default")
    await cluster.settle()
    assert len(await owned_pods(client, "gone")) == 1
    await client.delete("jobs", "gone", "default", propagation_policy="Background")
    await cluster.settle()
    assert await owned_pods(client, "gone") == []


def failure_policy(action: str, codes: list[int]) -> JSON:
    return {"rules": [{"action": action, "onExitCodes": {"operator": "In", "values": codes}}]}


async def test_pod_failure_policy_fail_job(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("fatal", {"minikube-lite.io/exit-code": "42"},
                                    podFailurePolicy=failure_policy("FailJob", [42])), "default")
    await cluster.settle()
    status = (await client.get("jobs", "fatal", "default"))["status"]
    (pod,) = await owned_pods(client, "fatal")
    message = (f"Container c for pod default/{pod['metadata']['name']} failed with exit code 42 matching FailJob "
               "rule at index 0")
    assert [(c["type"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("FailureTarget", "PodFailurePolicy", message), ("Failed", "PodFailurePolicy", message)]
    assert status["failed"] == 1


async def test_pod_failure_policy_ignore_does_not_count(cluster: Any) -> None:
    client = cluster.client
    await client.create("jobs", job("flaky", {"minikube-lite.io/exit-code": "3"}, backoffLimit=0,
                                    podFailurePolicy=failure_policy("Ignore", [3])), "default")
    await cluster.settle(timeout=8)
    status = (await client.get("jobs", "flaky", "default"))["status"]
    assert "failed" not in status and not any(c["type"] == "Failed" for c in status.get("conditions") or [])
    assert len(await owned_pods(client, "flaky")) >= 2  # ignored failures are replaced


async def test_on_failure_restarts_count_towards_the_backoff_limit(cluster: Any) -> None:
    client = cluster.client
    body = job("again", {"minikube-lite.io/exit-code": "1"}, backoffLimit=2)
    body["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    await client.create("jobs", body, "default")
    await cluster.settle()
    status = (await client.get("jobs", "again", "default"))["status"]
    assert [(c["type"], c["reason"]) for c in status["conditions"]] == [
        ("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")]
    assert await owned_pods(client, "again") == []  # the restarting pod was deleted
