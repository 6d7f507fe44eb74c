"""Pure helpers of the Job controller: conditions, pod classification, indexes, back-off.

Kept apart from the reconcile loop so each rule can be tested on plain dicts
(``pkg/controller/job/job_controller.go``, ``indexed_job_utils.go``, ``backoff_utils.go``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...clock import parse_time
from ...config.timings import DEFAULT_TIMINGS
from ..workloads.common import meta, pod_phase

JSON = dict[str, Any]

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX_KEY = "batch.kubernetes.io/job-completion-index"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"

# Condition types and the reasons/messages upstream writes with them.
COND_COMPLETE = "Complete"
COND_FAILED = "Failed"
COND_SUSPENDED = "Suspended"
COND_FAILURE_TARGET = "FailureTarget"
COND_SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
REASON_BACKOFF_LIMIT = "BackoffLimitExceeded"
MSG_BACKOFF_LIMIT = "Job has reached the specified backoff limit"
REASON_DEADLINE = "DeadlineExceeded"
MSG_DEADLINE = "Job was active longer than specified deadline"
REASON_COMPLETIONS_REACHED = "CompletionsReached"
MSG_COMPLETIONS_REACHED = "Reached expected number of succeeded pods"
REASON_SUSPENDED = "JobSuspended"
MSG_SUSPENDED = "Job suspended"
REASON_RESUMED = "JobResumed"
MSG_RESUMED = "Job resumed"
EVENT_COMPLETED = "Completed"
MSG_COMPLETED = "Job completed"
EVENT_SUSPENDED = "Suspended"
EVENT_RESUMED = "Resumed"

# The back-off before replacing failed pods (DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff),
# declared once as the ``jobPodFailureBackoff*`` Timings.
POD_FAILURE_BACKOFF = DEFAULT_TIMINGS.jobPodFailureBackoff
POD_FAILURE_BACKOFF_MAX = DEFAULT_TIMINGS.jobPodFailureBackoffMax


def condition(status: Mapping[str, Any], kind: str) -> JSON | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return cond  # type: ignore[no-any-return]
    return None


def is_finished(job: Mapping[str, Any]) -> bool:
    status = job.get("status") or {}
    return condition(status, COND_COMPLETE) is not None or condition(status, COND_FAILED) is not None


def finished_condition(job: Mapping[str, Any]) -> JSON | None:
    status = job.get("status") or {}
    return condition(status, COND_COMPLETE) or condition(status, COND_FAILED)


def new_condition(kind: str, reason: str, message: str, stamp: str, status: str = "True") -> JSON:
    return {"type": kind, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp, "reason": reason,
            "message": message}


def set_job_condition(conditions: list[JSON], new: JSON) -> list[JSON]:
    """Add or replace a condition; a condition whose status does not change keeps its times."""
    out = []
    replaced = False
    for cond in conditions:
        if cond.get("type") == new["type"]:
            replaced = True
            if cond.get("status") == new["status"] and cond.get("reason") == new.get("reason"):
                out.append(cond)
            else:
                out.append(new)
        else:
            out.append(cond)
    if not replaced:
        out.append(new)
    return out


def has_finalizer(pod: Mapping[str, Any]) -> bool:
    return JOB_TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def completion_index(pod: Mapping[str, Any]) -> int | None:
    raw = (meta(pod).get("annotations") or {}).get(COMPLETION_INDEX_KEY)
    try:
        return int(str(raw)) if raw is not None else None
    except ValueError:
        return None


def succeeded_before_deletion(pod: Mapping[str, Any]) -> bool:
    """A pod being deleted counts as succeeded only if every container had exited 0 before the
    deletion (the fake kubelet's kill writes exit 0 too)."""
    if pod_phase(pod) != "Succeeded":
        return False
    deleted = parse_time(meta(pod).get("deletionTimestamp") or "")
    if deleted is None:
        return True
    deleted -= float(meta(pod).get("deletionGracePeriodSeconds") or 0)  # the timestamp is the deadline
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated") or {}
        finished = parse_time(term.get("finishedAt") or "")
        # Timestamps have whole seconds: an exit in the second of the deletion is the kill.
        if term.get("exitCode") != 0 or finished is None or finished >= deleted:
            return False
    return True


def terminal_outcome(pod: Mapping[str, Any]) -> str | None:
    """"succeeded"/"failed" for a pod that is done (or being deleted), else None."""
    phase = pod_phase(pod)
    if meta(pod).get("deletionTimestamp"):
        if phase in ("Succeeded", "Failed") or not (pod.get("spec") or {}).get("nodeName"):
            return "succeeded" if succeeded_before_deletion(pod) else "failed"
        return None  # still terminating on its node
    if phase == "Succeeded":
        return "succeeded"
    if phase == "Failed":
        return "failed"
    return None


def restart_count(pod: Mapping[str, Any]) -> int:
    status = pod.get("status") or {}
    return sum(int(cs.get("restartCount") or 0)
               for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])])


def past_backoff_limit(spec: Mapping[str, Any], failed: int, active: Iterable[Mapping[str, Any]]) -> bool:
    """pastBackoffLimitOnFailure and the Never rule: failures (and, for OnFailure, restarts)."""
    raw_limit = spec.get("backoffLimit")
    limit = int(raw_limit) if raw_limit is not None else 6
    policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if policy != "OnFailure":
        return failed > limit
    total = failed + sum(restart_count(p) for p in active)
    if limit == 0:
        return total > 0
    return total >= limit


def failure_backoff(failures: int, initial: float = POD_FAILURE_BACKOFF, cap: float = POD_FAILURE_BACKOFF_MAX) -> float:
    """Seconds to wait after the latest failure before creating a replacement pod."""
    if failures <= 0:
        return 0.0
    return min(cap, initial * 2 ** (failures - 1))


def format_indexes(indexes: Iterable[int]) -> str:
    """``status.completedIndexes``: sorted intervals, ``"0-2,4,6-7"``."""
    ordered = sorted(set(indexes))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            out.update(range(int(low), int(high or low) + 1))
        except ValueError:
            continue
    return out


# --------------------------------------------------------------------------- podFailurePolicy

REASON_POD_FAILURE_POLICY = "PodFailurePolicy"
MSG_POLICY_EXIT_CODE = "Container {container} for pod {namespace}/{pod} failed with exit code {code} matching {action} " \
    "rule at index {index}"
MSG_POLICY_CONDITION = "Pod {namespace}/{pod} has condition {condition} matching {action} rule at index {index}"
ACTION_FAIL_JOB = "FailJob"
ACTION_IGNORE = "Ignore"
ACTION_COUNT = "Count"


def _exit_code_match(rule: Mapping[str, Any], pod: Mapping[str, Any]) -> tuple[str, int] | None:
    on = rule.get("onExitCodes") or {}
    status = pod.get("status") or {}
    values = {int(v) for v in on.get("values") or []}
    for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        term = (cs.get("state") or {}).get("terminated")
        if not term or int(term.get("exitCode") or 0) == 0:
            continue
        if on.get("containerName") and on.get("containerName") != cs.get("name"):
            continue
        code = int(term.get("exitCode") or 0)
        if (on.get("operator") == "In") == (code in values):
            return str(cs.get("name")), code
    return None


def pod_failure_policy_action(spec: Mapping[str, Any], pod: Mapping[str, Any]) -> tuple[str, str] | None:
    """(action, message) of the first podFailurePolicy rule matching a failed pod, or None."""
    policy = spec.get("podFailurePolicy") or {}
    pmeta = meta(pod)
    for index, rule in enumerate(policy.get("rules") or []):
        action = str(rule.get("action") or "")
        if rule.get("onExitCodes"):
            hit = _exit_code_match(rule, pod)
            if hit is not None:
                return action, MSG_POLICY_EXIT_CODE.format(container=hit[0], namespace=pmeta.get("namespace"),
                                                           pod=pmeta.get("name"), code=hit[1], action=action,
                                                           index=index)
        for pattern in rule.get("onPodConditions") or []:
            cond = next((c for c in (pod.get("status") or {}).get("conditions") or []
                         if c.get("type") == pattern.get("type")), None)
            if cond is not None and cond.get("status") == (pattern.get("status") or "True"):
                return action, MSG_POLICY_CONDITION.format(namespace=pmeta.get("namespace"), pod=pmeta.get("name"),
                                                           condition=pattern.get("type"), action=action, index=index)
    return None
