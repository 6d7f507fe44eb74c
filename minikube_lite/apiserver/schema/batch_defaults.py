"""batch/v1 defaulting and create preparation (``pkg/apis/batch/v1/defaults.go`` and the Job
registry strategy's ``PrepareForCreate``).

Defaulting fills what a client leaves out (completions/parallelism, backoffLimit 6,
completionMode, suspend, podReplacementPolicy; the CronJob's policy and history limits).
Selector generation needs the uid the server has just assigned, so it runs on create only:
unless ``manualSelector`` is true the pod template gets the ``controller-uid``/``job-name``
labels (prefixed and legacy) and the selector matches the prefixed uid label. Validation then
refuses a selector or labels that do not agree with what was generated.
"""

from __future__ import annotations

from typing import Any

from .pod_defaults import pod_spec_defaults

JSON = dict[str, Any]

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
DEFAULT_BACKOFF_LIMIT = 6
#: backoffLimit when backoffLimitPerIndex is set (math.MaxInt32).
MAX_INT32 = 2**31 - 1


def _template_spec_defaults(template: Any) -> None:
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        pod_spec_defaults(template["spec"])


def job_spec_defaults(spec: JSON) -> None:
    """SetDefaults_Job's spec part."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else DEFAULT_BACKOFF_LIMIT
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in policy.get("rules") or []:
            for pattern in (rule.get("onPodConditions") or []) if isinstance(rule, dict) else []:
                if isinstance(pattern, dict) and not pattern.get("status"):
                    pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if isinstance(policy, dict) else "TerminatingOrFailed"
    _template_spec_defaults(spec.get("template"))


def job_defaults(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    job_spec_defaults(spec)
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    meta = obj.setdefault("metadata", {})
    if isinstance(meta, dict) and template_labels and not meta.get("labels"):
        meta["labels"] = dict(template_labels)


def cronjob_defaults(obj: JSON) -> None:
    """SetDefaults_CronJob (the job template gets pod-spec defaults, not Job defaults)."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    job_template = spec.get("jobTemplate")
    if isinstance(job_template, dict) and isinstance(job_template.get("spec"), dict):
        _template_spec_defaults(job_template["spec"].get("template"))


def prepare_job_for_create(obj: JSON) -> None:
    """The Job strategy's PrepareForCreate: empty status, and the generated selector."""
    obj.pop("status", None)
    spec = obj.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    meta = obj.get("metadata") or {}
    template = spec.get("template")
    if not isinstance(template, dict):
        template = spec["template"] = {}
    tmeta = template.get("metadata")
    if not isinstance(tmeta, dict):
        tmeta = template["metadata"] = {}
    labels = tmeta.get("labels")
    if not isinstance(labels, dict):
        labels = tmeta["labels"] = {}
    # A label the user set already is kept: a conflict is then refused by validation.
    for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(key, str(meta.get("name") or ""))
    for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(key, str(meta.get("uid") or ""))
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match = selector.get("matchLabels")
    if not isinstance(match, dict):
        match = selector["matchLabels"] = {}
    match.setdefault(CONTROLLER_UID_LABEL, str(meta.get("uid") or ""))
    # Upstream defaults again when it reads the Job back from storage, so a Job without labels of
    # its own shows the template's, generated ones included.
    if isinstance(meta, dict) and not meta.get("labels"):
        meta["labels"] = dict(labels)


def prepare_cronjob_for_create(obj: JSON) -> None:
    obj.pop("status", None)


PREPARE_FOR_CREATE = {("batch", "Job"): prepare_job_for_create, ("batch", "CronJob"): prepare_cronjob_for_create}


def prepare_for_create(group: str, kind: str, obj: JSON) -> None:
    fn = PREPARE_FOR_CREATE.get((group, kind))
    if fn is not None:
        fn(obj)
