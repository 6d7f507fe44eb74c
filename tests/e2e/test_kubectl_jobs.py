"""Jobs and CronJobs through real kubectl: create, wait for Complete, logs, delete with pods,
a CronJob and a Job made from it (``create job --from=cronjob/x``), and a 422 for a bad schedule.

The served cluster runs on the real clock: a Job pod starts in about two seconds and its
container exits after ``containerRunDuration`` (1 s by default).
"""

from __future__ import annotations

import asyncio
import json

import pytest
from kubectl_runner import Kubectl

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def job_pods(kubectl: Kubectl, job: str) -> list[dict[str, object]]:
    out = await kubectl.ok("get", "pods", "-l", f"batch.kubernetes.io/job-name={job}", "-o", "json")
    return list(json.loads(out)["items"])


async def test_job_runs_to_completion_and_is_deleted_with_its_pods(kubectl: Kubectl) -> None:
    out = await kubectl.ok("create", "job", "hello", "--image=busybox:1.36", "--", "echo", "hi")
    assert out.strip() == "job.batch/hello created"
    out = await kubectl.ok("wait", "--for=condition=complete", "job/hello", "--timeout=60s", timeout=90)
    assert out.strip() == "job.batch/hello condition met"
    job = json.loads(await kubectl.ok("get", "job", "hello", "-o", "json"))
    assert job["status"]["succeeded"] == 1
    assert [c["type"] for c in job["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    assert "hello" in await kubectl.ok("get", "jobs")
    logs = await kubectl.ok("logs", "job/hello")
    assert "container hello started" in logs and "exited with code 0" in logs
    (pod,) = await job_pods(kubectl, "hello")
    assert pod["status"]["phase"] == "Succeeded"  # type: ignore[index]

    assert (await kubectl.ok("delete", "job", "hello")).startswith('job.batch "hello" deleted')
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while await job_pods(kubectl, "hello"):
        assert loop.time() < deadline, "the job's pods outlived it"
        await asyncio.sleep(0.3)


async def test_cronjob_and_a_job_from_it(kubectl: Kubectl) -> None:
    out = await kubectl.ok("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *")
    assert out.strip() == "cronjob.batch/tick created"
    cj = json.loads(await kubectl.ok("get", "cronjob", "tick", "-o", "json"))
    assert (cj["spec"]["concurrencyPolicy"], cj["spec"]["successfulJobsHistoryLimit"]) == ("Allow", 3)
    out = await kubectl.ok("create", "job", "tick-now", "--from=cronjob/tick")
    assert out.strip() == "job.batch/tick-now created"
    job = json.loads(await kubectl.ok("get", "job", "tick-now", "-o", "json"))
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("CronJob", "tick")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    await kubectl.ok("wait", "--for=condition=complete", "job/tick-now", "--timeout=60s", timeout=90)


async def test_bad_schedule_is_refused(kubectl: Kubectl) -> None:
    result = await kubectl.fail("create", "cronjob", "bad", "--image=busybox", "--schedule=61 * * * *")
    assert result.err.strip() == ('error: failed to create cronjob: CronJob.batch "bad" is invalid: spec.schedule: '
                                  'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61')
    assert "bad" not in await kubectl.ok("get", "cronjobs", "-o", "name")
