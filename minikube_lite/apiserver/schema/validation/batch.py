"""batch/v1 validation: Job and CronJob, as ``pkg/apis/batch/validation/validation.go`` (1.35).

Jobs: a generated selector must carry the job's uid and name labels; the selector must match the
template; restartPolicy is OnFailure or Never; Indexed jobs need completions; completions,
selector, template (outside a suspended job's scheduling directives) and completionMode are
immutable. CronJobs: name at most 52 characters (jobs get an 11-character suffix), a schedule
robfig/cron accepts and without ``TZ=``, a loadable ``timeZone``, a known concurrencyPolicy and
a job template whose selector is left to the server.
"""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from minikube_lite.apiserver.errors import invalid_value, not_supported, required
from minikube_lite.apiserver.schema.batch_defaults import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
)
from minikube_lite.kube.cron import CronError, parse_schedule

from .common import (
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    get,
    key,
    validate_labels,
    validate_nonnegative_int,
)
from .pods import validate_pod_spec
from .selectors import validate_label_selector
from .storage_apps import _go_map, _selector_matches, go_label_selector

JSON = dict[str, Any]

JOB_RESTART_POLICIES = ["OnFailure", "Never"]
COMPLETION_MODES = ["NonIndexed", "Indexed"]
CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"]
POD_REPLACEMENT_POLICIES = ["TerminatingOrFailed", "Failed"]
POD_FAILURE_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]
POD_FAILURE_POLICY_NEVER = 'only "Never" is supported when podFailurePolicy is specified'
MAX_PARALLELISM_FOR_INDEXED_JOB = 100_000
MAX_CRONJOB_NAME_LENGTH = 52

SELECTOR_MISMATCH = "`selector` does not match template `labels`"
NOT_AUTO_GENERATED = "`selector` not auto-generated"
WILL_BE_AUTO_GENERATED = "`selector` will be auto-generated"
IMMUTABLE = "field is immutable"
COMPLETIONS_IN_TANDEM = "can only be modified in tandem with spec.parallelism"
TZ_IN_SCHEDULE = "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
TZ_BOTH = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
NAME_TOO_LONG = f"must be no more than {MAX_CRONJOB_NAME_LENGTH} characters"
_TZ_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")
#: Template fields a suspended Job may change (mutable scheduling directives).
SCHEDULING_DIRECTIVES = ("nodeSelector", "affinity", "tolerations", "schedulingGates")


def _has_label(labels: JSON, path: str, name: str, expected: str) -> Errors:
    """apivalidation.ValidateHasLabel."""
    if name not in labels:
        return [required(key(child(path, "labels"), name), expected)]
    if labels[name] != expected:
        return [invalid_value(key(child(path, "labels"), name), GoValue(_go_map(labels)), f"must be '{expected}'")]
    return []


def _generated_selector(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    if spec.get("manualSelector") is True or not isinstance(spec.get("selector"), dict):
        return []
    meta = as_dict(obj.get("metadata"))
    uid, name = as_str(meta.get("uid")), as_str(meta.get("name"))
    errs: Errors = [] if uid else [required("metadata.uid")]
    labels = as_dict(get(spec, "template", "metadata", "labels"))
    path = "spec.template.metadata"
    expected = {LEGACY_CONTROLLER_UID_LABEL: uid, LEGACY_JOB_NAME_LABEL: name, CONTROLLER_UID_LABEL: uid,
                JOB_NAME_LABEL: name}
    for label in (LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL, CONTROLLER_UID_LABEL, JOB_NAME_LABEL):
        errs.extend(_has_label(labels, path, label, expected[label]))
    if not _selector_matches(spec["selector"], expected):
        errs.append(invalid_value("spec.selector", go_label_selector(spec["selector"]), NOT_AUTO_GENERATED))
    return errs


def _job_spec_common(spec: JSON, path: str) -> Errors:
    """validateJobSpec: the checks a Job and a CronJob's job template share."""
    errs: Errors = []
    for field in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                  "backoffLimitPerIndex", "maxFailedIndexes"):
        errs.extend(validate_nonnegative_int(spec.get(field), child(path, field)))
    mode = spec.get("completionMode")
    if mode is not None and mode not in COMPLETION_MODES:
        errs.append(not_supported(child(path, "completionMode"), as_str(mode), COMPLETION_MODES))
    if mode == "Indexed":
        if spec.get("completions") is None:
            errs.append(required(child(path, "completions"), "when completion mode is Indexed"))
        parallelism = spec.get("parallelism")
        if isinstance(parallelism, int) and parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
            errs.append(invalid_value(child(path, "parallelism"), parallelism,
                                      f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} "
                                      "when completion mode is Indexed"))
    elif spec.get("backoffLimitPerIndex") is not None:
        errs.append(required(child(path, "completionMode"),
                             'when backoffLimitPerIndex is specified, completionMode must be "Indexed"'))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None and replacement not in POD_REPLACEMENT_POLICIES:
        errs.append(not_supported(child(path, "podReplacementPolicy"), as_str(replacement),
                                  POD_REPLACEMENT_POLICIES))
    template = as_dict(spec.get("template"))
    errs.extend(validate_labels(as_dict(get(template, "metadata", "labels")), child(path, "template", "metadata",
                                                                                  "labels")))
    pod_spec = as_dict(template.get("spec"))
    errs.extend(validate_pod_spec(pod_spec, child(path, "template", "spec")))
    policy = pod_spec.get("restartPolicy")
    if policy not in JOB_RESTART_POLICIES:
        errs.append(not_supported(child(path, "template", "spec", "restartPolicy"), as_str(policy),
                                  JOB_RESTART_POLICIES))
    failure_policy = spec.get("podFailurePolicy")
    if isinstance(failure_policy, dict):
        if policy != "Never":
            errs.append(invalid_value(child(path, "template", "spec", "restartPolicy"), as_str(policy),
                                      POD_FAILURE_POLICY_NEVER))
        for n, rule in enumerate(as_list(failure_policy.get("rules"))):
            action = as_dict(rule).get("action")
            if action not in POD_FAILURE_ACTIONS:
                errs.append(not_supported(f"{child(path, 'podFailurePolicy', 'rules')}[{n}].action", as_str(action),
                                          POD_FAILURE_ACTIONS))
    return errs


def validate_job(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _generated_selector(obj)
    errs.extend(_job_spec_common(spec, "spec"))
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        errs.append(required("spec.selector"))
    else:
        errs.extend(validate_label_selector(selector, "spec.selector"))
        labels = as_dict(get(spec, "template", "metadata", "labels"))
        if not _selector_matches(selector, labels):
            errs.append(invalid_value("spec.template.metadata.labels", GoValue(_go_map(labels)), SELECTOR_MISMATCH))
    return errs


def _template_change_allowed(new: JSON, old: JSON, suspended: bool) -> bool:
    if new == old:
        return True
    if not suspended:
        return False
    strip_meta = {k: v for k, v in as_dict(new.get("metadata")).items() if k not in ("labels", "annotations")}
    strip_old = {k: v for k, v in as_dict(old.get("metadata")).items() if k not in ("labels", "annotations")}
    spec = {k: v for k, v in as_dict(new.get("spec")).items() if k not in SCHEDULING_DIRECTIVES}
    old_spec = {k: v for k, v in as_dict(old.get("spec")).items() if k not in SCHEDULING_DIRECTIVES}
    return strip_meta == strip_old and spec == old_spec


def validate_job_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_job(obj)
    spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
    if spec.get("completions") != old_spec.get("completions"):
        if spec.get("completionMode") == "Indexed" and old_spec.get("completionMode") == "Indexed":
            if spec.get("completions") != spec.get("parallelism"):
                errs.append(invalid_value("spec.completions", spec.get("completions"), COMPLETIONS_IN_TANDEM))
        else:
            errs.append(invalid_value("spec.completions", spec.get("completions"), IMMUTABLE))
    if spec.get("selector") != old_spec.get("selector"):
        errs.append(invalid_value("spec.selector", go_label_selector(spec.get("selector")), IMMUTABLE))
    suspended = bool(old_spec.get("suspend")) and not (old.get("status") or {}).get("startTime") \
        or bool(spec.get("suspend"))
    if not _template_change_allowed(as_dict(spec.get("template")), as_dict(old_spec.get("template")), suspended):
        # Go prints the whole core.PodTemplateSpec struct here; the JSON form carries the same content.
        errs.append(invalid_value("spec.template", GoValue(json.dumps(spec.get("template"), sort_keys=True)),
                                  IMMUTABLE))
    for field in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy"):
        if spec.get(field) != old_spec.get(field):
            value = spec.get(field)
            errs.append(invalid_value(child("spec", field),
                                      value if isinstance(value, str | int) or value is None
                                      else GoValue(json.dumps(value)), IMMUTABLE))
    return errs


# --- CronJob ------------------------------------------------------------------------------------


def validate_time_zone(zone: Any, path: str) -> Errors:
    if zone is None:
        return []
    text = as_str(zone)
    if not text:
        return [invalid_value(path, text, "timeZone must be nil or non-empty string")]
    for part in text.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TZ_PART.match(part):
            return [invalid_value(path, text, f"unknown time zone {text}")]
    if text.lower() == "local":
        return [invalid_value(path, text, "timeZone must be an explicit time zone as defined in "
                                          "https://www.iana.org/time-zones")]
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return [invalid_value(path, text, f"unknown time zone {text}")]
    return []


def _schedule(schedule: Any, time_zone: Any, allow_tz: bool, path: str) -> Errors:
    text = as_str(schedule)
    if not text:
        return [required(path)]
    errs: Errors = []
    try:
        parse_schedule(text)
    except CronError as exc:
        errs.append(invalid_value(path, text, str(exc)))
    if allow_tz and "TZ" in text and time_zone is not None:
        errs.append(invalid_value(path, text, TZ_BOTH))
    elif not allow_tz and "TZ" in text:
        errs.append(invalid_value(path, text, TZ_IN_SCHEDULE))
    return errs


def _cronjob(obj: JSON, allow_tz: bool) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _schedule(spec.get("schedule"), spec.get("timeZone"), allow_tz, "spec.schedule")
    errs.extend(validate_nonnegative_int(spec.get("startingDeadlineSeconds"), "spec.startingDeadlineSeconds"))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        errs.append(required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        errs.append(not_supported("spec.concurrencyPolicy", as_str(policy), CONCURRENCY_POLICIES))
    template = as_dict(spec.get("jobTemplate"))
    job_spec = as_dict(template.get("spec"))
    errs.extend(validate_labels(as_dict(get(template, "metadata", "labels")), "spec.jobTemplate.metadata.labels"))
    errs.extend(_job_spec_common(job_spec, "spec.jobTemplate.spec"))
    if job_spec.get("selector") is not None:
        errs.append(invalid_value("spec.jobTemplate.spec.selector", go_label_selector(job_spec.get("selector")),
                                  WILL_BE_AUTO_GENERATED))
    if job_spec.get("manualSelector") is True:
        errs.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    for field in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        errs.extend(validate_nonnegative_int(spec.get(field), child("spec", field)))
    errs.extend(validate_time_zone(spec.get("timeZone"), "spec.timeZone"))
    return errs


def validate_cronjob(obj: JSON) -> Errors:
    name = as_str(get(obj, "metadata", "name"))
    errs: Errors = []
    if len(name) > MAX_CRONJOB_NAME_LENGTH:
        errs.append(invalid_value("metadata.name", name, NAME_TOO_LONG))
    return errs + _cronjob(obj, allow_tz=False)


def validate_cronjob_update(obj: JSON, old: JSON) -> Errors:
    old_schedule = as_str(get(old, "spec", "schedule"))
    return _cronjob(obj, allow_tz="TZ" in old_schedule)
