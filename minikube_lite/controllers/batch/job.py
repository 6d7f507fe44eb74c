"""The Job controller (``pkg/controller/job``): run pods until enough of them succeed.

Each reconcile reads the Job and its pods, then, level-based:

1. accounts finished pods the way upstream tracks them with the ``batch.kubernetes.io/job-tracking``
   finalizer: their uids go into ``status.uncountedTerminatedPods`` first, then the finalizers
   come off, then they move into ``succeeded``/``failed`` (and ``completedIndexes``), so a pod
   is never counted twice nor lost when it is deleted;
2. decides the outcome: suspended; FailureTarget then Failed (backoff limit, active deadline);
   SuccessCriteriaMet then Complete; the final condition is written only once no pod of the Job
   is still running or terminating, as 1.35 does;
3. otherwise creates pods (``parallelism`` at a time, ``completions`` in all; Indexed pods get
   their completion index annotation, label, hostname and ``JOB_COMPLETION_INDEX``), waiting the
   pod-failure back-off (10 s doubling, at most 6 minutes) after failures; a ``podFailurePolicy``
   rule can fail the Job at once (FailJob) or leave a failure uncounted (Ignore);
4. writes the status (active, ready, terminating, succeeded, failed, startTime, completionTime).
"""

from __future__ import annotations

import copy
import logging

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, namespaced_key, split_key
from ...clock import Clock, parse_time, rfc3339
from ...config import ClusterConfig, timings_of
from ..workloads.common import (
    CONTROLLER_INDEX,
    FAILED_CREATE,
    SUCCESSFUL_CREATE,
    SUCCESSFUL_DELETE,
    PodExpectations,
    controller_index,
    controller_ref,
    deletion_rank,
    is_active,
    is_ready,
    meta,
    name_of,
    pods_by_owner_key,
    uid_of,
)
from .job_status import (
    ACTION_FAIL_JOB,
    ACTION_IGNORE,
    COMPLETION_INDEX_ENV,
    COMPLETION_INDEX_KEY,
    COND_COMPLETE,
    COND_FAILED,
    COND_FAILURE_TARGET,
    COND_SUCCESS_CRITERIA_MET,
    COND_SUSPENDED,
    EVENT_COMPLETED,
    EVENT_RESUMED,
    EVENT_SUSPENDED,
    JOB_TRACKING_FINALIZER,
    MSG_BACKOFF_LIMIT,
    MSG_COMPLETED,
    MSG_COMPLETIONS_REACHED,
    MSG_DEADLINE,
    MSG_RESUMED,
    MSG_SUSPENDED,
    REASON_BACKOFF_LIMIT,
    REASON_COMPLETIONS_REACHED,
    REASON_DEADLINE,
    REASON_POD_FAILURE_POLICY,
    REASON_RESUMED,
    REASON_SUSPENDED,
    completion_index,
    condition,
    failure_backoff,
    format_indexes,
    has_finalizer,
    is_finished,
    new_condition,
    parse_indexes,
    past_backoff_limit,
    pod_failure_policy_action,
    set_job_condition,
    terminal_outcome,
)

log = logging.getLogger(__name__)

COMPONENT = "job-controller"
KIND = "Job"
JOBS = "jobs.batch"


def job_owner_reference(job: JSON) -> JSON:
    return {"apiVersion": "batch/v1", "kind": KIND, "name": name_of(job), "uid": uid_of(job), "controller": True,
            "blockOwnerDeletion": True}


def pod_for_job(job: JSON, index: int | None) -> JSON:
    """A pod from the Job's template: its labels/annotations, our owner and tracking finalizer."""
    spec = job.get("spec") or {}
    template = spec.get("template") or {}
    tmeta = template.get("metadata") or {}
    name = name_of(job)
    labels = dict(tmeta.get("labels") or {})
    annotations = dict(tmeta.get("annotations") or {})
    pod_spec = copy.deepcopy(template.get("spec") or {})
    generate = f"{name}-"
    if index is not None:
        annotations[COMPLETION_INDEX_KEY] = str(index)
        labels[COMPLETION_INDEX_KEY] = str(index)
        generate = f"{name}-{index}-"
        pod_spec.setdefault("hostname", f"{name}-{index}")
        env = {"name": COMPLETION_INDEX_ENV, "valueFrom": {"fieldRef": {
            "apiVersion": "v1", "fieldPath": f"metadata.labels['{COMPLETION_INDEX_KEY}']"}}}
        for key in ("initContainers", "containers"):
            for c in pod_spec.get(key) or []:
                if not any(e.get("name") == COMPLETION_INDEX_ENV for e in c.get("env") or []):
                    c["env"] = [*(c.get("env") or []), env]
    pod_meta: JSON = {"generateName": generate, "namespace": meta(job).get("namespace"), "labels": labels,
                      "ownerReferences": [job_owner_reference(job)],
                      "finalizers": [*(tmeta.get("finalizers") or []), JOB_TRACKING_FINALIZER]}
    if annotations:
        pod_meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}


def merge_patch_to(old: JSON, new: JSON) -> JSON:
    """A JSON merge patch turning ``old`` into ``new`` (fields gone from ``new`` become null)."""
    body: JSON = {}
    for field, value in new.items():
        prev = old.get(field)
        body[field] = merge_patch_to(prev, value) if isinstance(value, dict) and isinstance(prev, dict) else value
    for field in old:
        if field not in new:
            body[field] = None
    return body


class JobController(Controller):
    name = "job-controller"

    def __init__(self, client: Client, clock: Clock, config: ClusterConfig | None = None) -> None:
        super().__init__(client, clock)
        timings = timings_of(config)
        self.backoff_initial = timings.jobPodFailureBackoff
        self.backoff_max = timings.jobPodFailureBackoffMax
        self.recorder = EventRecorder(client, COMPONENT, clock)
        self._last_failure: dict[str, float] = {}
        # Pods whose tracking finalizer we removed while the cache may still show it (upstream's
        # finalizer expectations): never counted twice.
        self._released: set[str] = set()

    def setup(self) -> None:
        self.expectations = PodExpectations(self.clock)
        self.jobs = self.informer(JOBS, key_of=lambda e, o, old: [namespaced_key(o)])
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        self.expectations.observe(event, obj)
        if event == "DELETED" or not has_finalizer(obj):
            self._released.discard(uid_of(obj))
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        return keys

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        job = await get_or_none(self.client, JOBS, name, ns)
        if job is None:
            self.expectations.forget(key)
            # Orphans (the Job is gone): nothing will count them any more, so let them go.
            for pod in self.pods.list(ns):
                ref = controller_ref(pod)
                if ref is not None and ref.get("kind") == KIND and ref.get("name") == name:
                    await self._remove_finalizer(pod)
            return DONE
        pods = list(self.pods.by_index(CONTROLLER_INDEX, uid_of(job)))
        if meta(job).get("deletionTimestamp"):
            for pod in pods:
                await self._remove_finalizer(pod)
            return DONE
        status = copy.deepcopy(job.get("status") or {})
        spec = job.get("spec") or {}
        now = self.clock.now()
        stamp = rfc3339(now)
        finished = is_finished(job)
        # Pods killed while the Job is suspended, succeeding or finished are not failures; pods
        # killed because the Job is failing (FailureTarget) are, as upstream counts them.
        settling = finished or bool(spec.get("suspend")) or condition(status, COND_SUCCESS_CRITERIA_MET) is not None
        job = await self._track_finished(job, pods, status, settling)
        if finished:
            return DONE
        active = [p for p in pods if is_active(p)]
        terminating = [p for p in pods if meta(p).get("deletionTimestamp") and terminal_outcome(p) is None]
        requeue: float | None = None
        conditions: list[JSON] = list(status.get("conditions") or [])
        if spec.get("suspend"):
            if condition(status, COND_SUSPENDED) is None:
                conditions = set_job_condition(conditions, new_condition(COND_SUSPENDED, REASON_SUSPENDED,
                                                                         MSG_SUSPENDED, stamp))
                await self.recorder.event(job, NORMAL, EVENT_SUSPENDED, MSG_SUSPENDED)
            await self._delete_pods(job, active)
            status.pop("startTime", None)
            active = []
        else:
            if condition(status, COND_SUSPENDED) is not None:
                conditions = set_job_condition(conditions, new_condition(COND_SUSPENDED, REASON_RESUMED, MSG_RESUMED,
                                                                         stamp, status="False"))
                await self.recorder.event(job, NORMAL, EVENT_RESUMED, MSG_RESUMED)
                status.pop("startTime", None)
            status.setdefault("startTime", stamp)
            conditions, active, requeue = await self._progress(key, job, status, conditions, active, terminating)
        status["conditions"] = conditions
        ready = sum(1 for p in active if is_ready(p))
        self._set_counts(status, active=len(active), ready=ready, terminating=len(terminating))
        if status != (job.get("status") or {}):
            await self._write_status(job, status)
        return Result(requeue_after=requeue) if requeue else DONE

    async def _progress(self, key: str, job: JSON, status: JSON, conditions: list[JSON], active: list[JSON],
                        terminating: list[JSON]) -> tuple[list[JSON], list[JSON], float | None]:
        spec = job.get("spec") or {}
        now = self.clock.now()
        stamp = rfc3339(now)
        succeeded, failed = int(status.get("succeeded") or 0), int(status.get("failed") or 0)
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        requeue: float | None = None
        target = condition({"conditions": conditions}, COND_FAILURE_TARGET)
        if target is None and condition({"conditions": conditions}, COND_SUCCESS_CRITERIA_MET) is None:
            deadline = spec.get("activeDeadlineSeconds")
            started = parse_time(status.get("startTime") or "") or now
            if past_backoff_limit(spec, failed, active):
                target = new_condition(COND_FAILURE_TARGET, REASON_BACKOFF_LIMIT, MSG_BACKOFF_LIMIT, stamp)
            elif deadline is not None and now >= started + int(deadline):
                target = new_condition(COND_FAILURE_TARGET, REASON_DEADLINE, MSG_DEADLINE, stamp)
            elif deadline is not None:
                requeue = started + int(deadline) - now
            if target is not None:
                conditions = set_job_condition(conditions, target)
            elif self._succeeded(spec, status, succeeded, active):
                conditions = set_job_condition(conditions, new_condition(
                    COND_SUCCESS_CRITERIA_MET, REASON_COMPLETIONS_REACHED, MSG_COMPLETIONS_REACHED, stamp))
        uncounted = status.get("uncountedTerminatedPods") or {}
        drained = not (uncounted.get("succeeded") or uncounted.get("failed"))
        if target is not None:
            await self._delete_pods(job, active)
            if not active and not terminating and drained:
                conditions = set_job_condition(conditions, new_condition(
                    COND_FAILED, str(target.get("reason")), str(target.get("message")), stamp))
                await self.recorder.event(job, WARNING, str(target.get("reason")), str(target.get("message")))
            return conditions, [], None
        if condition({"conditions": conditions}, COND_SUCCESS_CRITERIA_MET) is not None:
            await self._delete_pods(job, active)
            if not active and not terminating and drained:
                conditions = set_job_condition(conditions, new_condition(
                    COND_COMPLETE, REASON_COMPLETIONS_REACHED, MSG_COMPLETIONS_REACHED, stamp))
                status["completionTime"] = stamp
                await self.recorder.event(job, NORMAL, EVENT_COMPLETED, MSG_COMPLETED)
            return conditions, [], None
        if not self.expectations.satisfied(key):
            return conditions, active, requeue
        wait = self._last_failure.get(uid_of(job), 0.0) + failure_backoff(failed, self.backoff_initial,
                                                                          self.backoff_max) - now
        counted = [*active, *(terminating if spec.get("podReplacementPolicy") == "Failed" else [])]
        parallelism = int(spec.get("parallelism") or 0)
        if indexed:
            done = parse_indexes(status.get("completedIndexes"))
            running = {completion_index(p) for p in counted}
            todo = [i for i in range(int(completions or 0)) if i not in done and i not in running]
            create: list[int | None] = list(todo[:max(0, parallelism - len(counted))])
        else:
            if completions is None:
                want = parallelism if succeeded == 0 else 0
            else:
                want = max(0, min(parallelism, int(completions) - succeeded))
            diff = want - len(counted)
            if diff < 0:
                victims = sorted(active, key=deletion_rank)[:-diff]
                await self._delete_pods(job, victims)
                active = [p for p in active if p not in victims]
            create = [None] * max(0, diff)
        if create and wait > 0:
            return conditions, active, wait if requeue is None else min(requeue, wait)
        for index in create:
            pod = await self._create_pod(key, job, index)
            if pod is None:
                break
            active.append(pod)
        return conditions, active, requeue

    @staticmethod
    def _succeeded(spec: JSON, status: JSON, succeeded: int, active: list[JSON]) -> bool:
        completions = spec.get("completions")
        if spec.get("completionMode") == "Indexed":
            return len(parse_indexes(status.get("completedIndexes"))) >= int(completions or 0)
        if completions is None:
            return succeeded > 0 and not active
        return succeeded >= int(completions)

    # ------------------------------------------------------------------ tracking finished pods

    async def _track_finished(self, job: JSON, pods: list[JSON], status: JSON, settling: bool) -> JSON:
        """Move finished pods into the counts through uncountedTerminatedPods (finalizer protocol).

        Returns the Job as last written (the base of the next status patch)."""
        uncounted = status.get("uncountedTerminatedPods") or {}
        pending_s, pending_f = list(uncounted.get("succeeded") or []), list(uncounted.get("failed") or [])
        new = False
        drop: list[JSON] = []
        for pod in pods:
            uid = uid_of(pod)
            if not has_finalizer(pod) or uid in self._released:
                continue
            if uid in pending_s or uid in pending_f:
                continue
            outcome = terminal_outcome(pod)
            if outcome is None:
                continue
            if outcome == "failed" and settling and meta(pod).get("deletionTimestamp"):
                drop.append(pod)  # deleted by us while suspending or finishing: not a failure
                continue
            if outcome == "failed":
                matched = pod_failure_policy_action(job.get("spec") or {}, pod)
                if matched is not None and matched[0] == ACTION_IGNORE:
                    drop.append(pod)  # not counted towards the backoff limit; replaced
                    continue
                if matched is not None and matched[0] == ACTION_FAIL_JOB and \
                        condition(status, COND_FAILURE_TARGET) is None:
                    status["conditions"] = set_job_condition(list(status.get("conditions") or []), new_condition(
                        COND_FAILURE_TARGET, REASON_POD_FAILURE_POLICY, matched[1], rfc3339(self.clock.now())))
            (pending_s if outcome == "succeeded" else pending_f).append(uid)
            new = True
        if new:
            status["uncountedTerminatedPods"] = {k: v for k, v in (("succeeded", pending_s), ("failed", pending_f))
                                                 if v}
            job = await self._write_status(job, status)
        by_uid = {uid_of(p): p for p in pods}
        for uid in [*pending_s, *pending_f]:
            tracked = by_uid.get(uid)
            if tracked is not None:
                await self._remove_finalizer(tracked)
        for pod in drop:
            await self._remove_finalizer(pod)
        if not (pending_s or pending_f):
            status.setdefault("uncountedTerminatedPods", {})
            return job
        done = parse_indexes(status.get("completedIndexes"))
        for uid in pending_s:
            index = completion_index(by_uid.get(uid) or {})
            if index is not None:
                done.add(index)
        if (job.get("spec") or {}).get("completionMode") == "Indexed":
            status["completedIndexes"] = format_indexes(done)
            status["succeeded"] = len(done)
        else:
            status["succeeded"] = int(status.get("succeeded") or 0) + len(pending_s)
        if pending_f:
            status["failed"] = int(status.get("failed") or 0) + len(pending_f)
            self._last_failure[uid_of(job)] = self.clock.now()
        status["uncountedTerminatedPods"] = {}
        return job

    async def _remove_finalizer(self, pod: JSON) -> None:
        finalizers = [f for f in meta(pod).get("finalizers") or [] if f != JOB_TRACKING_FINALIZER]
        if len(finalizers) == len(meta(pod).get("finalizers") or []):
            return
        patch = [{"op": "test", "path": "/metadata/uid", "value": uid_of(pod)},
                 {"op": "replace", "path": "/metadata/finalizers", "value": finalizers}]
        try:
            written = await self.client.patch("pods", name_of(pod), patch, meta(pod).get("namespace"),
                                              patch_type="json")
        except ApiError as err:
            if err.code not in (404, 409, 422):
                raise
            return
        if self.pods.get(name_of(pod), meta(pod).get("namespace")) is not None and has_finalizer(
                self.pods.get(name_of(pod), meta(pod).get("namespace")) or {}) and not has_finalizer(written):
            self._released.add(uid_of(pod))

    # ------------------------------------------------------------------ pods

    async def _create_pod(self, key: str, job: JSON, index: int | None) -> JSON | None:
        ns = meta(job).get("namespace")
        try:
            created = await self.client.create("pods", pod_for_job(job, index), ns)
        except ApiError as err:
            await self.recorder.event(job, WARNING, FAILED_CREATE, f"Error creating: {err.message}")
            return None
        pod: JSON = created
        self.expectations.expect_create(key, pod, self.pods.get(name_of(pod), ns))
        await self.recorder.event(job, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name_of(pod)}")
        return pod

    async def _delete_pods(self, job: JSON, pods: list[JSON]) -> None:
        for pod in pods:
            if meta(pod).get("deletionTimestamp"):
                continue
            ns = meta(pod).get("namespace")
            try:
                await self.client.delete("pods", name_of(pod), ns)
            except ApiError as err:
                if err.code != 404:
                    raise
                continue
            self.expectations.expect_delete(f"{ns}/{name_of(job)}", pod, self.pods.get(name_of(pod), ns))
            await self.recorder.event(job, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name_of(pod)}")

    # ------------------------------------------------------------------ status

    @staticmethod
    def _set_counts(status: JSON, *, active: int, ready: int, terminating: int) -> None:
        """active/succeeded/failed are omitted at zero (omitempty); ready and terminating are not."""
        status["active"] = active
        for field in ("active", "succeeded", "failed"):
            if not status.get(field):
                status.pop(field, None)
        status["ready"] = ready
        status["terminating"] = terminating

    async def _write_status(self, job: JSON, status: JSON) -> JSON:
        body = merge_patch_to(job.get("status") or {}, status)
        try:
            written: JSON = await self.client.patch(JOBS, name_of(job), {"status": body}, meta(job).get("namespace"),
                                                    subresource="status")
        except ApiError as err:
            if err.code != 404:
                raise
            return job
        return written


__all__ = ["COND_COMPLETE", "COND_FAILED", "JobController", "pod_for_job"]
