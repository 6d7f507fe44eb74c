"""The TTL-after-finished controller (``pkg/controller/ttlafterfinished``): a finished Job with
``ttlSecondsAfterFinished`` is deleted that many seconds after it finished (completionTime, or
the Failed condition's transition time), with foreground propagation as upstream, so its pods go
first. The deletion is guarded by the Job's uid.
"""

from __future__ import annotations

from ...client.base import JSON, ApiError
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, namespaced_key, split_key
from ...clock import parse_time
from ..workloads.common import meta, uid_of
from .job_status import finished_condition

JOBS = "jobs.batch"


def finish_time(job: JSON) -> float | None:
    cond = finished_condition(job)
    if cond is None:
        return None
    completion = parse_time((job.get("status") or {}).get("completionTime") or "")
    return completion if completion is not None else parse_time(cond.get("lastTransitionTime") or "")


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished-controller"

    def setup(self) -> None:
        self.jobs = self.informer(JOBS, key_of=lambda e, o, old: [namespaced_key(o)])

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        job = self.jobs.get(name, ns)
        ttl = ((job or {}).get("spec") or {}).get("ttlSecondsAfterFinished")
        if job is None or ttl is None or meta(job).get("deletionTimestamp"):
            return DONE
        finished = finish_time(job)
        if finished is None:
            return DONE
        wait = finished + int(ttl) - self.clock.now()
        if wait > 0:
            return Result(requeue_after=wait)
        fresh = await get_or_none(self.client, JOBS, name, ns)  # the cache may be stale: check again
        if fresh is None or (fresh.get("spec") or {}).get("ttlSecondsAfterFinished") != ttl:
            return DONE
        try:
            await self.client.delete(JOBS, name, ns, propagation_policy="Foreground",
                                     preconditions={"uid": uid_of(fresh)})
        except ApiError as err:
            if err.code not in (404, 409):
                raise
        return DONE
