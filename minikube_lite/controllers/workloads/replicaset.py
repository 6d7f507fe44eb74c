"""The ReplicaSet controller: keep ``spec.replicas`` active pods matching the selector.

As ``pkg/controller/replicaset``: adopt orphans that match, release pods that stopped matching,
create from the template with ``generateName: <rs>-``, delete the surplus cheapest-first
(unscheduled, not ready, newest), then write the status. Pods are listed from the API on every
reconcile (not from a lagging cache), so no create/delete expectations are needed.
"""

from __future__ import annotations

import logging

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from ...clock import Clock, rfc3339
from .common import (
    CONTROLLER_INDEX,
    FAILED_CREATE,
    FAILED_DELETE,
    ORPHAN_PREFIX,
    SUCCESSFUL_CREATE,
    SUCCESSFUL_DELETE,
    PodExpectations,
    adopt_patch,
    available_in,
    claim_children,
    controller_index,
    controller_ref,
    deletion_rank,
    is_active,
    is_ready,
    labels_of,
    meta,
    name_of,
    pod_from_template,
    pods_by_owner_key,
    release_patch,
    selector_matches,
    set_condition,
    status_differs,
    uid_of,
    write_status,
)

log = logging.getLogger(__name__)

COMPONENT = "replicaset-controller"
KIND = "ReplicaSet"
# Upstream caps creations per sync with a slow start (1, 2, 4, ...) at 500 (BurstReplicas).
BURST_REPLICAS = 500
CONDITION_REPLICA_FAILURE = "ReplicaFailure"


class ReplicaSetController(Controller):
    name = "replicaset-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)

    def setup(self) -> None:
        self.expectations = PodExpectations(self.clock)
        self.rs_informer = self.informer("replicasets.apps", key_of=lambda e, o, old: [_key(o)])
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        self.expectations.observe(event, obj)
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        if controller_ref(obj) is None and event != "DELETED":
            ns = meta(obj).get("namespace")
            for rs in self.rs_informer.list(ns):
                if selector_matches((rs.get("spec") or {}).get("selector"), labels_of(obj)):
                    keys.append(_key(rs))
        return keys

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        rs = await get_or_none(self.client, "replicasets.apps", name, ns)
        if rs is None:
            self.expectations.forget(key)
            return DONE
        spec = rs.get("spec") or {}
        pods = [*self.pods.by_index(CONTROLLER_INDEX, uid_of(rs)),
                *self.pods.by_index(CONTROLLER_INDEX, ORPHAN_PREFIX + (ns or ""))]
        owned, adopt, release = claim_children(pods, rs, spec.get("selector"))
        for pod in adopt:
            try:
                owned.append(await self.client.patch("pods", name_of(pod), adopt_patch(pod, rs, KIND), ns,
                                                     patch_type="json"))
            except ApiError as err:
                if err.code not in (404, 409, 422):
                    raise
        for pod in release:
            try:
                await self.client.patch("pods", name_of(pod), release_patch(pod, rs), ns, patch_type="json")
            except ApiError as err:
                if err.code not in (404, 409, 422):
                    raise
        active = [p for p in owned if is_active(p)]
        failure: str | None = None
        if not meta(rs).get("deletionTimestamp") and self.expectations.satisfied(key):
            active, failure = await self._manage(key, rs, active)
        requeue = await self._update_status(rs, owned, active, failure)
        return Result(requeue_after=requeue) if requeue else DONE

    async def _manage(self, key: str, rs: JSON, active: list[JSON]) -> tuple[list[JSON], str | None]:
        ns = meta(rs).get("namespace")
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(active) - want
        failure: str | None = None
        if diff < 0:
            template = (rs.get("spec") or {}).get("template") or {}
            for _ in range(min(-diff, BURST_REPLICAS)):
                body = pod_from_template(template, rs, KIND, ns or "default")
                try:
                    pod = await self.client.create("pods", body, ns)
                except ApiError as err:
                    failure = f"Error creating: {err.message}"
                    await self.recorder.event(rs, WARNING, FAILED_CREATE, failure)
                    break
                self.expectations.expect_create(key, pod, self.pods.get(name_of(pod), ns))
                active.append(pod)
                await self.recorder.event(rs, NORMAL, SUCCESSFUL_CREATE, f"Created pod: {name_of(pod)}")
        elif diff > 0:
            victims = sorted(active, key=deletion_rank)[:diff]
            for pod in victims:
                try:
                    await self.client.delete("pods", name_of(pod), ns)
                    self.expectations.expect_delete(key, pod, self.pods.get(name_of(pod), ns))
                except ApiError as err:
                    if err.code != 404:
                        await self.recorder.event(rs, WARNING, FAILED_DELETE,
                                                  f"Error deleting: {err.message}")
                        continue
                active.remove(pod)
                await self.recorder.event(rs, NORMAL, SUCCESSFUL_DELETE, f"Deleted pod: {name_of(pod)}")
        return active, failure

    async def _update_status(self, rs: JSON, owned: list[JSON], active: list[JSON],
                             failure: str | None) -> float | None:
        spec = rs.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        ready = available = fully = 0
        requeue: float | None = None
        for pod in active:
            labels = labels_of(pod)
            if all(labels.get(k) == v for k, v in template_labels.items()):
                fully += 1
            if is_ready(pod):
                ready += 1
                wait = available_in(pod, min_ready, now)
                if wait == 0:
                    available += 1
                elif wait is not None:
                    requeue = wait if requeue is None else min(requeue, wait)
        old = rs.get("status") or {}
        conditions = [c for c in old.get("conditions") or [] if c.get("type") != CONDITION_REPLICA_FAILURE]
        if failure:
            conditions = set_condition(old.get("conditions") or [], {
                "type": CONDITION_REPLICA_FAILURE, "status": "True", "reason": FAILED_CREATE,
                "message": failure, "lastTransitionTime": rfc3339(now)}, rfc3339(now))
        status: JSON = {"replicas": len(active), "fullyLabeledReplicas": fully, "readyReplicas": ready,
                        "availableReplicas": available,
                        "observedGeneration": meta(rs).get("generation", 1)}
        if conditions:
            status["conditions"] = conditions
        if status_differs(old, status):
            await write_status(self.client, "replicasets.apps", rs, status)
        return requeue


def _key(obj: JSON) -> str:
    return f"{meta(obj).get('namespace')}/{name_of(obj)}"
