"""The CronJob controller (``pkg/controller/cronjob``, v2): Jobs on a schedule, on the cluster clock.

Each reconcile: reconcile ``status.active`` with the Jobs the CronJob owns (SawCompletedJob,
MissingJob, lastSuccessfulTime), find the most recent unmet schedule time since
``lastScheduleTime`` (or creation; bounded by ``startingDeadlineSeconds``), honour suspend and
the concurrency policy (Allow, Forbid: skip while one runs, Replace: delete the running ones),
create ``<cronjob>-<scheduled time in minutes since the epoch>`` with the scheduled-timestamp
annotation, trim finished Jobs to the history limits, and requeue at the next schedule time.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, namespaced_key, split_key
from ...clock import Clock, parse_time, rfc3339
from ...kube.cron import CronError, Schedule, parse_schedule
from ..workloads.common import CONTROLLER_INDEX, controller_index, meta, name_of, pods_by_owner_key, uid_of
from .job_status import COND_COMPLETE, finished_condition

log = logging.getLogger(__name__)

COMPONENT = "cronjob-controller"
KIND = "CronJob"
CRONJOBS = "cronjobs.batch"
JOBS = "jobs.batch"
SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: More missed start times than this and the controller only warns (it still starts the latest).
MAX_MISSED_TIMES = 100

EVENT_SUCCESSFUL_CREATE = "SuccessfulCreate"
MSG_CREATED_JOB = "Created job {name}"
EVENT_FAILED_CREATE = "FailedCreate"
MSG_FAILED_CREATE = "Error creating job: {error}"
EVENT_SUCCESSFUL_DELETE = "SuccessfulDelete"
MSG_DELETED_JOB = "Deleted job {name}"
EVENT_SAW_COMPLETED = "SawCompletedJob"
MSG_SAW_COMPLETED = "Saw completed job: {name}, condition: {condition}"
EVENT_MISSING_JOB = "MissingJob"
MSG_MISSING_JOB = "Active job went missing: {name}"
EVENT_UNEXPECTED_JOB = "UnexpectedJob"
MSG_UNEXPECTED_JOB = "Saw a job that the controller did not create or forgot: {name}"
EVENT_JOB_ALREADY_ACTIVE = "JobAlreadyActive"
MSG_JOB_ALREADY_ACTIVE = "Not starting job because prior execution is running and concurrency policy is Forbid"
EVENT_MISS_SCHEDULE = "MissSchedule"
MSG_MISS_SCHEDULE = "Missed scheduled time to start a job: {time}"
EVENT_TOO_MANY_MISSED = "TooManyMissedTimes"
MSG_TOO_MANY_MISSED = ("too many missed start times: {count}. Set or decrease .spec.startingDeadlineSeconds "
                       "or check clock skew")
EVENT_INVALID_SCHEDULE = "InvalidSchedule"
MSG_INVALID_SCHEDULE = "invalid schedule: {schedule} : {error}"
EVENT_UNKNOWN_TIME_ZONE = "UnknownTimeZone"
MSG_UNKNOWN_TIME_ZONE = "invalid timeZone: {zone}: {error}"


def job_name(cronjob: JSON, scheduled: dt.datetime) -> str:
    """getJobName: the CronJob's name and the scheduled time in minutes since the epoch."""
    return f"{name_of(cronjob)}-{int(scheduled.timestamp()) // 60}"


def zone_of(cronjob: JSON) -> dt.tzinfo:
    name = (cronjob.get("spec") or {}).get("timeZone")
    return ZoneInfo(str(name)) if name else dt.UTC


def schedule_times(schedule: Schedule, earliest: dt.datetime, now: dt.datetime) -> tuple[dt.datetime | None, int]:
    """(the latest activation in (earliest, now], about how many there were).

    As upstream's mostRecentScheduleTime: the count is estimated from the gap between the first
    two activations (so a week of missed minutes costs nothing to count), and the latest one is
    found by walking forward from shortly before ``now``.
    """
    first = schedule.next_after(earliest)
    if first is None or first > now:
        return None, 0
    second = schedule.next_after(first)
    interval = max(1.0, (second - first).total_seconds()) if second is not None else 0.0
    missed = int((now - first).total_seconds() // interval) + 1 if interval else 1
    start = first
    if interval and missed > 2:
        probe = schedule.next_after(max(earliest, now - dt.timedelta(seconds=2 * interval)))
        if probe is not None and probe <= now:
            start = probe
    latest = start
    following = schedule.next_after(start)
    while following is not None and following <= now:
        latest = following
        following = schedule.next_after(following)
    return latest, missed


def job_from_template(cronjob: JSON, scheduled: dt.datetime) -> JSON:
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = scheduled.isoformat().replace("+00:00", "Z")
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": job_name(cronjob, scheduled), "namespace": meta(cronjob).get("namespace"),
                         "labels": dict(tmeta.get("labels") or {}), "annotations": annotations,
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": KIND, "name": name_of(cronjob),
                                              "uid": uid_of(cronjob), "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": dict(template.get("spec") or {})}


def _ref(job: JSON) -> JSON:
    return {"kind": "Job", "namespace": meta(job).get("namespace"), "name": name_of(job), "uid": uid_of(job),
            "apiVersion": "batch/v1", "resourceVersion": meta(job).get("resourceVersion")}


def _start_time(job: JSON) -> float:
    status = job.get("status") or {}
    return parse_time(status.get("startTime") or meta(job).get("creationTimestamp") or "") or 0.0


class CronJobController(Controller):
    name = "cronjob-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)

    def setup(self) -> None:
        self.cronjobs = self.informer(CRONJOBS, key_of=lambda e, o, old: [namespaced_key(o)])
        self.jobs = self.informer(JOBS, key_of=self._job_keys)
        self.jobs.add_index(CONTROLLER_INDEX, controller_index)

    @staticmethod
    def _job_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        return keys

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        cj = await get_or_none(self.client, CRONJOBS, name, ns)
        if cj is None:
            return DONE
        jobs = list(self.jobs.by_index(CONTROLLER_INDEX, uid_of(cj)))
        old_status = cj.get("status") or {}
        status: JSON = {k: v for k, v in old_status.items()}
        await self._sync_active(cj, jobs, status)
        requeue: float | None = None
        if not meta(cj).get("deletionTimestamp"):
            requeue = await self._schedule(cj, jobs, status)
            await self._cleanup(cj, jobs, status)
        if status != old_status:
            body = dict(status)
            for field in old_status:
                body.setdefault(field, None)
            try:
                await self.client.patch(CRONJOBS, name, {"status": body}, ns, subresource="status")
            except ApiError as err:
                if err.code != 404:
                    raise
        if requeue is not None:
            # A daemon timer: a schedule never ends, so it must not keep ``settle()`` busy; tests
            # move the virtual clock through the minutes they want.
            self.queue.add_after(key, max(0.001, requeue), daemon=True)
        return DONE

    async def _sync_active(self, cj: JSON, jobs: list[JSON], status: JSON) -> None:
        active: list[JSON] = list(status.get("active") or [])
        active_uids = {a.get("uid") for a in active}
        owned = {uid_of(j) for j in jobs}
        last_success = parse_time(status.get("lastSuccessfulTime") or "")
        for job in jobs:
            finished = finished_condition(job)
            if uid_of(job) not in active_uids and finished is None:
                await self.recorder.event(cj, WARNING, EVENT_UNEXPECTED_JOB, MSG_UNEXPECTED_JOB.format(
                    name=name_of(job)))
            elif uid_of(job) in active_uids and finished is not None:
                active = [a for a in active if a.get("uid") != uid_of(job)]
                await self.recorder.event(cj, NORMAL, EVENT_SAW_COMPLETED, MSG_SAW_COMPLETED.format(
                    name=name_of(job), condition=finished.get("type")))
            if finished is not None and finished.get("type") == COND_COMPLETE:
                done = parse_time((job.get("status") or {}).get("completionTime") or "")
                if done is not None and (last_success is None or done > last_success):
                    last_success = done
        for ref in list(active):
            if ref.get("uid") in owned:
                continue
            if await get_or_none(self.client, JOBS, str(ref.get("name")), ref.get("namespace")) is None:
                active = [a for a in active if a.get("uid") != ref.get("uid")]
                await self.recorder.event(cj, NORMAL, EVENT_MISSING_JOB, MSG_MISSING_JOB.format(name=ref.get("name")))
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        if last_success is not None:
            status["lastSuccessfulTime"] = rfc3339(last_success)

    async def _schedule(self, cj: JSON, jobs: list[JSON], status: JSON) -> float | None:
        spec = cj.get("spec") or {}
        try:
            tz = zone_of(cj)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            await self.recorder.event(cj, WARNING, EVENT_UNKNOWN_TIME_ZONE, MSG_UNKNOWN_TIME_ZONE.format(
                zone=spec.get("timeZone"), error=exc))
            return None
        if spec.get("suspend"):
            return None
        try:
            schedule = parse_schedule(str(spec.get("schedule") or ""))
        except CronError as exc:
            await self.recorder.event(cj, WARNING, EVENT_INVALID_SCHEDULE, MSG_INVALID_SCHEDULE.format(
                schedule=spec.get("schedule"), error=exc))
            return None
        now_ts = self.clock.now()
        now = dt.datetime.fromtimestamp(now_ts, tz)
        earliest_ts = parse_time(status.get("lastScheduleTime") or "") or \
            parse_time(meta(cj).get("creationTimestamp") or "") or now_ts
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest_ts = max(earliest_ts, now_ts - int(deadline))
        scheduled, missed = schedule_times(schedule, dt.datetime.fromtimestamp(earliest_ts, tz), now)
        if missed > MAX_MISSED_TIMES:
            await self.recorder.event(cj, WARNING, EVENT_TOO_MANY_MISSED, MSG_TOO_MANY_MISSED.format(count=missed))
        upcoming = schedule.next_after(now)
        requeue = (upcoming.timestamp() - now_ts) if upcoming is not None else None
        if scheduled is None:
            return requeue
        if deadline is not None and scheduled.timestamp() + int(deadline) < now_ts:
            await self.recorder.event(cj, WARNING, EVENT_MISS_SCHEDULE, MSG_MISS_SCHEDULE.format(
                time=email.utils.format_datetime(scheduled.astimezone(dt.UTC)).replace("-0000", "+0000")))
            return requeue
        name = job_name(cj, scheduled)
        if any(a.get("name") == name for a in status.get("active") or []) or \
                any(name_of(j) == name for j in jobs):
            return requeue
        policy = spec.get("concurrencyPolicy") or "Allow"
        active = list(status.get("active") or [])
        if policy == "Forbid" and active:
            await self.recorder.event(cj, NORMAL, EVENT_JOB_ALREADY_ACTIVE, MSG_JOB_ALREADY_ACTIVE)
            return requeue
        if policy == "Replace":
            for ref in active:
                if await self._delete_job(cj, str(ref.get("name")), ref.get("namespace")):
                    status["active"] = [a for a in status.get("active") or [] if a.get("uid") != ref.get("uid")]
            if not status.get("active"):
                status.pop("active", None)
        try:
            job = await self.client.create(JOBS, job_from_template(cj, scheduled), meta(cj).get("namespace"))
        except ApiError as err:
            if err.code == 409:
                return requeue
            await self.recorder.event(cj, WARNING, EVENT_FAILED_CREATE, MSG_FAILED_CREATE.format(error=err.message))
            return requeue
        await self.recorder.event(cj, NORMAL, EVENT_SUCCESSFUL_CREATE, MSG_CREATED_JOB.format(name=name_of(job)))
        status["active"] = [*(status.get("active") or []), _ref(job)]
        status["lastScheduleTime"] = rfc3339(scheduled.timestamp())
        return requeue

    async def _cleanup(self, cj: JSON, jobs: list[JSON], status: JSON) -> None:
        """Keep at most the history limits of finished Jobs, deleting the oldest first."""
        spec = cj.get("spec") or {}
        active = {a.get("uid") for a in status.get("active") or []}
        for kind, limit in ((COND_COMPLETE, spec.get("successfulJobsHistoryLimit")),
                            ("Failed", spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            done = sorted((j for j in jobs if uid_of(j) not in active and not meta(j).get("deletionTimestamp")
                           and (finished_condition(j) or {}).get("type") == kind), key=_start_time)
            for job in done[:max(0, len(done) - int(limit))]:
                await self._delete_job(cj, name_of(job), meta(job).get("namespace"))

    async def _delete_job(self, cj: JSON, name: str, namespace: str | None) -> bool:
        try:
            await self.client.delete(JOBS, name, namespace, propagation_policy="Background")
        except ApiError as err:
            if err.code != 404:
                raise
            return False
        await self.recorder.event(cj, NORMAL, EVENT_SUCCESSFUL_DELETE, MSG_DELETED_JOB.format(name=name))
        return True


__all__ = ["CronJobController", "SCHEDULED_TIMESTAMP_ANNOTATION", "job_name", "schedule_times"]
