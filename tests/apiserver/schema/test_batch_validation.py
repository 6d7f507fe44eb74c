"""batch/v1 defaulting, generated selectors and validation, through the real API (in-process)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikube_lite.apiserver.errors import ApiError

JSON = dict[str, Any]


def job(name: str = "pi", **spec: Any) -> JSON:
    body: JSON = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                  "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}],
                                                 "restartPolicy": "Never"}}}}
    body["spec"].update(spec)
    return body


def cronjob(name: str = "tick", schedule: str = "*/1 * * * *", **spec: Any) -> JSON:
    body: JSON = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
                  "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                      "containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}}}
    body["spec"].update(spec)
    return body


async def invalid(client: Any, resource: str, body: JSON) -> str:
    with pytest.raises(ApiError) as info:
        await client.create(resource, body, "default")
    assert info.value.code == 422
    return str(info.value.message)


async def test_job_defaults_and_generated_selector(client: Any) -> None:
    created = await client.create("jobs", job(), "default")
    spec, uid = created["spec"], created["metadata"]["uid"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert (spec["completionMode"], spec["suspend"], spec["podReplacementPolicy"]) == \
        ("NonIndexed", False, "TerminatingOrFailed")
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert spec["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid, "job-name": "pi"}
    assert created["metadata"]["labels"] == spec["template"]["metadata"]["labels"]
    assert created["metadata"]["generation"] == 1


async def test_parallelism_alone_leaves_completions_unset(client: Any) -> None:
    created = await client.create("jobs", job(parallelism=3), "default")
    assert "completions" not in created["spec"] and created["spec"]["parallelism"] == 3


async def test_manual_selector_is_kept(client: Any) -> None:
    body = job(manualSelector=True, selector={"matchLabels": {"app": "x"}})
    body["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    created = await client.create("jobs", body, "default")
    assert created["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert created["spec"]["template"]["metadata"]["labels"] == {"app": "x"}


@pytest.mark.parametrize(("change", "message"), [
    ({"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Always"}}},
     'Job.batch "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": '
     'supported values: "OnFailure", "Never"'),
    ({"completionMode": "Indexed", "completions": None, "parallelism": 2},
     'Job.batch "bad" is invalid: spec.completions: Required value: when completion mode is Indexed'),
    ({"backoffLimit": -1},
     'Job.batch "bad" is invalid: spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0'),
    ({"completionMode": "Sometimes"},
     'Job.batch "bad" is invalid: spec.completionMode: Unsupported value: "Sometimes": '
     'supported values: "NonIndexed", "Indexed"'),
])
async def test_invalid_jobs(client: Any, change: JSON, message: str) -> None:
    body = job("bad")
    body["spec"].update(change)
    if body["spec"].get("completions") is None:
        body["spec"].pop("completions", None)
    assert await invalid(client, "jobs", body) == message
    assert (await client.list("jobs", "default"))["items"] == []


async def test_wrong_selector_is_not_auto_generated(client: Any) -> None:
    message = await invalid(client, "jobs", job("bad", selector={"matchLabels": {"app": "x"}}))
    assert "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{" in message
    assert "`selector` not auto-generated" in message


async def test_job_update_immutability(client: Any) -> None:
    created = await client.create("jobs", job(), "default")
    changed = copy.deepcopy(created)
    changed["spec"]["completions"] = 3
    changed["spec"]["selector"] = {"matchLabels": {"other": "x"}}
    with pytest.raises(ApiError) as info:
        await client.update("jobs", changed, "default")
    assert info.value.code == 422
    assert "spec.completions: Invalid value: 3: field is immutable" in info.value.message
    assert "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"other\":\"x\"}" \
        in info.value.message
    stored = await client.get("jobs", "pi", "default")
    assert stored["spec"] == created["spec"]
    # Changing only parallelism and suspend is allowed.
    ok = copy.deepcopy(stored)
    ok["spec"]["parallelism"] = 2
    ok["spec"]["suspend"] = True
    assert (await client.update("jobs", ok, "default"))["metadata"]["generation"] == 2


async def test_cronjob_defaults(client: Any) -> None:
    spec = (await client.create("cronjobs", cronjob(), "default"))["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]  # no Job defaults inside the template
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


@pytest.mark.parametrize(("body", "message"), [
    (cronjob(schedule="61 * * * *"),
     'CronJob.batch "tick" is invalid: spec.schedule: Invalid value: "61 * * * *": '
     "end of range (61) above maximum (59): 61"),
    (cronjob(schedule="TZ=UTC * * * * *"),
     'CronJob.batch "tick" is invalid: spec.schedule: Invalid value: "TZ=UTC * * * * *": '
     "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    (cronjob(timeZone="Mars/Olympus"),
     'CronJob.batch "tick" is invalid: spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'),
    (cronjob(concurrencyPolicy="Sometimes"),
     'CronJob.batch "tick" is invalid: spec.concurrencyPolicy: Unsupported value: "Sometimes": '
     'supported values: "Allow", "Forbid", "Replace"'),
    (cronjob(name="x" * 53),
     f'CronJob.batch "{"x" * 53}" is invalid: metadata.name: Invalid value: "{"x" * 53}": '
     "must be no more than 52 characters"),
])
async def test_invalid_cronjobs(client: Any, body: JSON, message: str) -> None:
    assert await invalid(client, "cronjobs", body) == message
    assert (await client.list("cronjobs", "default"))["items"] == []


async def test_cronjob_time_zone_accepted(client: Any) -> None:
    created = await client.create("cronjobs", cronjob(timeZone="Asia/Shanghai", schedule="@daily"), "default")
    assert created["spec"]["timeZone"] == "Asia/Shanghai"


async def test_pod_failure_policy_needs_restart_policy_never(client: Any) -> None:
    body = job("bad", podFailurePolicy={"rules": [{"action": "Explode", "onExitCodes": {
        "operator": "In", "values": [1]}}]})
    body["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    assert await invalid(client, "jobs", body) == (
        'Job.batch "bad" is invalid: [spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is '
        'supported when podFailurePolicy is specified, spec.podFailurePolicy.rules[0].action: Unsupported value: '
        '"Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"]')
