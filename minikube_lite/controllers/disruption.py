"""The disruption controller: the status of every PodDisruptionBudget (``pkg/controller/disruption``).

For the pods a budget selects it computes ``expectedPods`` and ``desiredHealthy``: an integer
``minAvailable`` counts the selected pods; a percentage ``minAvailable`` or any ``maxUnavailable``
is resolved against the scale of the pods' controllers (a Deployment through its ReplicaSets, a
ReplicaSet, StatefulSet or ReplicationController, else any owner with a ``scale`` subresource),
rounding up as upstream. ``currentHealthy`` counts Ready pods not being deleted and not recently
evicted (``disruptedPods``, forgotten once the pod is gone or after two minutes);
``disruptionsAllowed`` is what is left over, and the ``DisruptionAllowed`` condition says
``SufficientPods`` or ``InsufficientPods``. The eviction subresource spends what this allows.
"""

from __future__ import annotations

import logging
from typing import Any

from ..client.base import JSON, ApiError, Client
from ..client.events import NORMAL, WARNING, EventRecorder
from ..client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from ..clock import Clock, parse_time, rfc3339
from ..kube.selectors import match_label_selector
from .workloads.common import resolve_int_or_percent

log = logging.getLogger(__name__)

COMPONENT = "controllermanager"
DELETION_TIMEOUT = 120.0  # seconds an evicted pod is not counted healthy while its deletion is pending
REASON_SUFFICIENT = "SufficientPods"
REASON_INSUFFICIENT = "InsufficientPods"
REASON_SYNC_FAILED = "SyncFailed"
REASON_NO_PODS = "NoPods"
MSG_NO_PODS = "No matching pods found"
REASON_UNMANAGED = "UnmanagedPods"
MSG_UNMANAGED = ("Pods selected by this PodDisruptionBudget (selector: {selector}) were found to be unmanaged. "
                 "As a result, the status of the PDB cannot be calculated correctly, which may result in "
                 "undefined behavior. To account for these pods please set \".spec.minAvailable\" field of "
                 "the PDB to an integer value.")

# Controller kinds whose replicas count as the expected scale, and where they are served.
SCALE_RESOURCES = {"ReplicaSet": "replicasets.apps", "StatefulSet": "statefulsets.apps",
                   "ReplicationController": "replicationcontrollers", "Deployment": "deployments.apps"}


def is_percent(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("%")


def is_ready(pod: JSON) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _controller_ref(obj: JSON) -> JSON | None:
    return next((r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("controller")), None)


def disruption_condition(old: list[JSON], allowed: bool, now: str, generation: int) -> list[JSON]:
    status = "True" if allowed else "False"
    prev = next((c for c in old if c.get("type") == "DisruptionAllowed"), None)
    stamp = prev.get("lastTransitionTime") if prev and prev.get("status") == status else now
    return [*(c for c in old if c.get("type") != "DisruptionAllowed"),
            {"type": "DisruptionAllowed", "status": status,
             "reason": REASON_SUFFICIENT if allowed else REASON_INSUFFICIENT, "message": "",
             "observedGeneration": generation, "lastTransitionTime": stamp}]


class DisruptionController(Controller):
    name = "disruption-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)

    def setup(self) -> None:
        self.budgets = self.informer("poddisruptionbudgets.policy", key_of=lambda e, o, old: [_key(o)])
        self.pods = self.informer("pods", key_of=self._pod_keys)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        ns = (obj.get("metadata") or {}).get("namespace")
        keys: list[str] = []
        for pdb in self.budgets.list(ns):
            selector = (pdb.get("spec") or {}).get("selector")
            for item in (obj, old):
                if item is not None and match_label_selector(selector, (item.get("metadata") or {}).get("labels")):
                    keys.append(_key(pdb))
                    break
        return keys

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        pdb = await get_or_none(self.client, "poddisruptionbudgets.policy", name, ns)
        if pdb is None or (pdb.get("metadata") or {}).get("deletionTimestamp"):
            return DONE
        spec = pdb.get("spec") or {}
        selector = spec.get("selector")
        pods = [p for p in self.pods.list(ns) if selector is not None
                and match_label_selector(selector, (p.get("metadata") or {}).get("labels"))]
        if not pods:
            await self.recorder.event(pdb, NORMAL, REASON_NO_PODS, MSG_NO_PODS)
        try:
            expected, desired = await self._expected_and_desired(pdb, pods)
        except ApiError as err:
            await self.recorder.event(pdb, WARNING, REASON_SYNC_FAILED, f"Failed to calculate the number of "
                                      f"expected pods: {err.message}")
            await self._fail_safe(pdb)
            raise
        now = self.clock.now()
        disrupted, requeue = self._disrupted_pods(pdb, pods, now)
        healthy = sum(1 for p in pods if is_ready(p) and not (p.get("metadata") or {}).get("deletionTimestamp")
                      and (p.get("metadata") or {}).get("name") not in disrupted)
        allowed = max(healthy - desired, 0)
        generation = int((pdb.get("metadata") or {}).get("generation") or 0)
        old = pdb.get("status") or {}
        status: JSON = {"observedGeneration": generation, "disruptionsAllowed": allowed, "currentHealthy": healthy,
                        "desiredHealthy": desired, "expectedPods": expected}
        if disrupted:
            status["disruptedPods"] = disrupted
        status["conditions"] = disruption_condition(old.get("conditions") or [], allowed > 0, rfc3339(now),
                                                    generation)
        await self._write(pdb, status)
        return Result(requeue_after=requeue) if requeue is not None else DONE

    async def _expected_and_desired(self, pdb: JSON, pods: list[JSON]) -> tuple[int, int]:
        """getExpectedPodCount."""
        spec = pdb.get("spec") or {}
        if spec.get("maxUnavailable") is not None:
            expected = await self._expected_scale(pdb, pods)
            unavailable = resolve_int_or_percent(spec["maxUnavailable"], expected, True)
            return expected, max(expected - unavailable, 0)
        if spec.get("minAvailable") is not None:
            value = spec["minAvailable"]
            if is_percent(value):
                expected = await self._expected_scale(pdb, pods)
                return expected, resolve_int_or_percent(value, expected, True)
            return len(pods), resolve_int_or_percent(value, len(pods), True)
        return len(pods), 0

    async def _expected_scale(self, pdb: JSON, pods: list[JSON]) -> int:
        """getExpectedScale: the sum of the replicas of each distinct controller of the pods."""
        scales: dict[str, int] = {}
        unmanaged = 0
        for pod in pods:
            ref = _controller_ref(pod)
            if ref is None:
                unmanaged += 1
                continue
            ns = (pod.get("metadata") or {}).get("namespace")
            found = await self._scale_of(ref, ns)
            if found is None:
                raise ApiError(404, "NotFound", f'found no controllers for pod "{pod["metadata"]["name"]}"', {})
            uid, replicas = found
            scales[uid] = replicas
        if unmanaged:
            selector = (pdb.get("spec") or {}).get("selector")
            await self.recorder.event(pdb, WARNING, REASON_UNMANAGED, MSG_UNMANAGED.format(selector=selector))
        return sum(scales.values())

    async def _scale_of(self, ref: JSON, ns: str | None) -> tuple[str, int] | None:
        kind = str(ref.get("kind") or "")
        resource = SCALE_RESOURCES.get(kind)
        if resource is None:
            group = str(ref.get("apiVersion") or "").partition("/")[0] if "/" in str(ref.get("apiVersion")) else ""
            resource = await self._plural_of(kind, group)
            if resource is None:
                return None
            try:
                scale = await self.client.get(resource, str(ref.get("name")), ns, subresource="scale")
            except ApiError as err:
                if err.code == 404:
                    return None
                raise
            return str(ref.get("uid")), int((scale.get("spec") or {}).get("replicas") or 0)
        owner = await get_or_none(self.client, resource, str(ref.get("name")), ns)
        if owner is None or (owner.get("metadata") or {}).get("uid") != ref.get("uid"):
            return None
        if kind == "ReplicaSet":
            parent = _controller_ref(owner)
            if parent is not None and parent.get("kind") == "Deployment":
                deployment = await self._scale_of(parent, ns)
                if deployment is not None:
                    return deployment
        return str(ref.get("uid")), int((owner.get("spec") or {}).get("replicas", 1))

    async def _plural_of(self, kind: str, group: str) -> str | None:
        for rt in await self.client.api_resources():
            if rt.kind == kind and rt.group == group and "scale" in rt.subresources:
                return f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural
        return None

    def _disrupted_pods(self, pdb: JSON, pods: list[JSON], now: float) -> tuple[dict[str, str], float | None]:
        """buildDisruptedPodMap: keep recent evictions whose pods still stand; the next expiry to requeue at."""
        by_name = {str(p["metadata"]["name"]): p for p in pods}
        kept: dict[str, str] = {}
        requeue: float | None = None
        for pod_name, stamp in ((pdb.get("status") or {}).get("disruptedPods") or {}).items():
            pod = by_name.get(pod_name)
            if pod is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
                continue
            expires = (parse_time(stamp) or 0.0) + DELETION_TIMEOUT
            if expires <= now:
                log.info("disruption-controller: pod %s/%s was expected to be deleted at %s but it hasn't "
                         "happened so far", pod["metadata"].get("namespace"), pod_name, stamp)
                continue
            kept[pod_name] = stamp
            requeue = expires - now if requeue is None else min(requeue, expires - now)
        return kept, requeue

    async def _fail_safe(self, pdb: JSON) -> None:
        """failSafe: nothing may be disrupted while the budget cannot be computed."""
        old = pdb.get("status") or {}
        generation = int((pdb.get("metadata") or {}).get("generation") or 0)
        conditions = [c for c in old.get("conditions") or [] if c.get("type") != "DisruptionAllowed"]
        conditions.append({"type": "DisruptionAllowed", "status": "False", "reason": REASON_SYNC_FAILED,
                           "message": "", "observedGeneration": generation,
                           "lastTransitionTime": rfc3339(self.clock.now())})
        await self._write(pdb, {**old, "disruptionsAllowed": 0, "observedGeneration": generation,
                                "conditions": conditions})

    async def _write(self, pdb: JSON, status: JSON) -> None:
        old = pdb.get("status") or {}
        if _comparable(old) == _comparable(status):
            return
        body = {**pdb, "status": status}
        try:
            await self.client.update("poddisruptionbudgets.policy", body, pdb["metadata"].get("namespace"),
                                     subresource="status")
        except ApiError as err:
            if err.code != 404:
                raise


def _comparable(status: JSON) -> JSON:
    out = {k: v for k, v in status.items() if v not in (None, {}, [])}
    out["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                         for c in status.get("conditions") or []]
    return out


def _key(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
