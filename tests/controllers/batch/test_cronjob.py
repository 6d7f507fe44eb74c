"""CronJob controller on the in-process cluster; the virtual clock fast-forwards through minutes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from minikube_lite.controllers.batch.cronjob import SCHEDULED_TIMESTAMP_ANNOTATION, job_name, schedule_times
from minikube_lite.kube.cron import parse_schedule

JSON = dict[str, Any]


def cronjob(name: str, exit_after: str = "20s", **spec: Any) -> JSON:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {
                "metadata": {"annotations": {"minikube-lite.io/exit-after": exit_after}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}},
                **spec}}


async def run_minutes(cluster: Any, minutes: int) -> None:
    for _ in range(minutes * 6):
        await cluster.settle(timeout=10.0)
        await cluster.clock.advance(10.0)
    await cluster.settle(timeout=10.0)


async def events(client: Any, name: str) -> list[tuple[str, str]]:
    items = (await client.list("events", "default"))["items"]
    return [(e["reason"], e["message"]) for e in items
            if e["involvedObject"]["kind"] == "CronJob" and e["involvedObject"]["name"] == name]


def test_schedule_times_and_job_names() -> None:
    schedule = parse_schedule("*/1 * * * *")
    start = dt.datetime(2026, 1, 1, 10, 0, 30, tzinfo=dt.UTC)
    latest, count = schedule_times(schedule, start, start + dt.timedelta(minutes=3))
    assert latest == dt.datetime(2026, 1, 1, 10, 3, tzinfo=dt.UTC) and count == 3
    cj = {"metadata": {"name": "tick"}}
    assert job_name(cj, latest) == f"tick-{int(latest.timestamp()) // 60}"


async def test_every_minute_with_history_limits(cluster: Any) -> None:
    client = cluster.client
    await client.create("cronjobs", cronjob("tick", successfulJobsHistoryLimit=2), "default")
    await run_minutes(cluster, 5)
    jobs = (await client.list("jobs", "default"))["items"]
    assert 2 <= len(jobs) <= 3  # two finished ones kept, plus possibly the one running now
    for j in jobs:
        assert j["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        stamp = j["metadata"]["annotations"][SCHEDULED_TIMESTAMP_ANNOTATION]
        minutes = int(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) // 60
        assert j["metadata"]["name"] == f"tick-{minutes}"
    status = (await client.get("cronjobs", "tick", "default"))["status"]
    assert status["lastScheduleTime"] and status["lastSuccessfulTime"]
    reasons = [r for r, _ in await events(client, "tick")]
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= set(reasons)


async def test_forbid_skips_while_a_job_runs(cluster: Any) -> None:
    client = cluster.client
    await client.create("cronjobs", cronjob("once", exit_after="10m", concurrencyPolicy="Forbid"), "default")
    await run_minutes(cluster, 4)
    jobs = (await client.list("jobs", "default"))["items"]
    assert len(jobs) == 1
    assert ("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is "
            "Forbid") in await events(client, "once")
    status = (await client.get("cronjobs", "once", "default"))["status"]
    assert [a["name"] for a in status["active"]] == [jobs[0]["metadata"]["name"]]


async def test_replace_deletes_the_running_job(cluster: Any) -> None:
    client = cluster.client
    await client.create("cronjobs", cronjob("swap", exit_after="10m", concurrencyPolicy="Replace"), "default")
    await run_minutes(cluster, 3)
    jobs = [j for j in (await client.list("jobs", "default"))["items"] if not j["metadata"].get("deletionTimestamp")]
    assert len(jobs) == 1
    got = await events(client, "swap")
    assert any(r == "SuccessfulDelete" and m.startswith("Deleted job swap-") for r, m in got)
    assert sum(1 for r, _ in got if r == "SuccessfulCreate") >= 2


async def test_suspended_cronjob_creates_nothing(cluster: Any) -> None:
    client = cluster.client
    await client.create("cronjobs", cronjob("paused", suspend=True), "default")
    await run_minutes(cluster, 2)
    assert (await client.list("jobs", "default"))["items"] == []


def test_many_missed_times_are_counted_without_walking_them() -> None:
    schedule = parse_schedule("*/1 * * * *")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    now = start + dt.timedelta(days=7, seconds=30)
    latest, count = schedule_times(schedule, start, now)
    assert latest == start + dt.timedelta(days=7) and count == 7 * 24 * 60


async def test_too_many_missed_start_times_warns(cluster: Any) -> None:
    client = cluster.client
    await client.create("cronjobs", cronjob("late", suspend=True), "default")
    await cluster.settle()
    # Land half a minute past a boundary 120 minutes on, wherever in its minute the virtual clock
    # started: exactly 120 start times go by while suspended, and the settle below (5 s) cannot
    # reach the next one.
    target = (cluster.clock.now() // 60 + 120) * 60 + 30
    await cluster.clock.advance_to(target)
    await client.patch("cronjobs", "late", {"spec": {"suspend": False}}, "default")
    await cluster.settle(timeout=5)
    got = await events(client, "late")
    assert ("TooManyMissedTimes", "too many missed start times: 120. Set or decrease "
            ".spec.startingDeadlineSeconds or check clock skew") in got
    created = [m for r, m in got if r == "SuccessfulCreate"]
    assert created == [f"Created job late-{int(target) // 60}"]  # only the most recent time runs
