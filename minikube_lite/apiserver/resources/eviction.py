"""``pods/eviction``: a delete that honours PodDisruptionBudgets (``pkg/registry/core/pod/storage/eviction.go``).

Pods already finished, still Pending or being deleted are deleted without a budget check. Otherwise
the one budget selecting the pod (more than one is refused, as upstream) must allow a disruption:
if it does, ``disruptionsAllowed`` is decremented and the pod recorded in ``disruptedPods`` (so
the disruption controller does not count it healthy before it is gone); if not, the answer is
429 TooManyRequests with the upstream message and a ``DisruptionBudget`` cause, which is what
``kubectl drain`` retries on. A pod that is not Ready may go without spending the budget when the
budget is already met (``IfHealthyBudget``) or always (``AlwaysAllow``). The pod gets the
``DisruptionTarget`` condition before it is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...clock import rfc3339
from ...kube.selectors import match_label_selector
from .. import errors
from ..engine_services import EngineServices
from ..errors import ApiError
from ..registry import ResourceType

JSON = dict[str, Any]

MSG_VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget."
CAUSE_DISRUPTION_BUDGET = "DisruptionBudget"
MSG_NEEDS_HEALTHY = "The disruption budget {name} needs {desired} healthy pods and has {current} currently"
MSG_STILL_PROCESSING = "The disruption budget {name} is still being processed by the server."
MSG_MULTIPLE_BUDGETS = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
MSG_NEGATIVE = "pdb disruptions allowed is negative"
MSG_TOO_MANY_DISRUPTED = "DisruptedPods map too big - too many evictions not confirmed by PDB controller"
MSG_NAME_MISMATCH = "name in URL does not match name in Eviction object"
MAX_DISRUPTED_PODS = 2000
DISRUPTION_TARGET = "DisruptionTarget"
REASON_EVICTION_API = "EvictionByEvictionAPI"
MSG_EVICTION_API = "Eviction API: evicting"


def _budget_error(cause: str) -> ApiError:
    return ApiError(429, "TooManyRequests", MSG_VIOLATES_BUDGET,
                    {"causes": [{"reason": CAUSE_DISRUPTION_BUDGET, "message": cause}]})


def _is_ready(pod: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _can_ignore_budget(pod: Mapping[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def evict(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, body: JSON,
          query: Mapping[str, str]) -> None:
    """Check the budget, spend it, mark the pod and delete it; raise the upstream errors otherwise."""
    if (body.get("metadata") or {}).get("name") not in (None, "", name):
        raise errors.bad_request(MSG_NAME_MISMATCH)
    dry_run = query.get("dryRun") == "All" or "All" in ((body.get("deleteOptions") or {}).get("dryRun") or [])
    pod = engine.get_stored(rt, namespace, name).object()
    options = dict(body.get("deleteOptions") or {})
    if not _can_ignore_budget(pod):
        _check_budgets(engine, namespace, pod, dry_run)
        if not dry_run:
            _mark_disruption_target(engine, rt, namespace, name)
    delete_query = dict(query)
    if dry_run:
        delete_query["dryRun"] = "All"
    engine.delete(rt, namespace, name, options, delete_query)


def _check_budgets(engine: EngineServices, namespace: str | None, pod: JSON, dry_run: bool) -> None:
    pdb_rt = engine.registry.get("policy", "v1", "poddisruptionbudgets")
    if pdb_rt is None:
        return
    labels = (pod.get("metadata") or {}).get("labels") or {}
    budgets = [s for s in engine.store.iter(pdb_rt.key, namespace)
               if match_label_selector((s.object().get("spec") or {}).get("selector"), labels)]
    if not budgets:
        return
    if len(budgets) > 1:
        raise ApiError(500, "InternalError", MSG_MULTIPLE_BUDGETS, {})
    stored = budgets[0]
    pdb = stored.object()
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    if not _is_ready(pod):
        if spec.get("unhealthyPodEvictionPolicy") == "AlwaysAllow":
            return
        desired = int(status.get("desiredHealthy") or 0)
        if int(status.get("currentHealthy") or 0) >= desired > 0:
            return
    pdb_name = pdb["metadata"]["name"]
    if int(status.get("observedGeneration") or 0) < int(pdb["metadata"].get("generation") or 0):
        raise _budget_error(MSG_STILL_PROCESSING.format(name=pdb_name))
    allowed = int(status.get("disruptionsAllowed") or 0)
    if allowed < 0:
        raise errors.forbidden("policy", "poddisruptionbudget", pdb_name, MSG_NEGATIVE)
    disrupted = dict(status.get("disruptedPods") or {})
    if len(disrupted) > MAX_DISRUPTED_PODS:
        raise errors.forbidden("policy", "poddisruptionbudget", pdb_name, MSG_TOO_MANY_DISRUPTED)
    if allowed == 0:
        raise _budget_error(MSG_NEEDS_HEALTHY.format(name=pdb_name, desired=int(status.get("desiredHealthy") or 0),
                                                     current=int(status.get("currentHealthy") or 0)))
    if dry_run:
        return
    now = rfc3339(engine.clock.now())
    disrupted[pod["metadata"]["name"]] = now
    new_status = {**status, "disruptionsAllowed": allowed - 1, "disruptedPods": disrupted}
    if allowed - 1 == 0:
        new_status["conditions"] = _allowed_condition(status.get("conditions") or [], False, now,
                                                      int(status.get("observedGeneration") or 0))
    updated = {**pdb, "status": new_status}
    # A concurrent writer makes this a Conflict, which the client retries (as upstream's RetryOnConflict).
    engine.write_update(pdb_rt, stored, updated, {}, subresource="status", expected_rv=stored.rv,
                        manager="kube-apiserver")


def _allowed_condition(conditions: list[JSON], allowed: bool, now: str, generation: int) -> list[JSON]:
    """pdbhelper.UpdateDisruptionAllowedCondition."""
    status = "True" if allowed else "False"
    reason = "SufficientPods" if allowed else "InsufficientPods"
    out = [c for c in conditions if c.get("type") != "DisruptionAllowed"]
    old = next((c for c in conditions if c.get("type") == "DisruptionAllowed"), None)
    stamp = old.get("lastTransitionTime") if old and old.get("status") == status else now
    out.append({"type": "DisruptionAllowed", "status": status, "reason": reason, "message": "",
                "observedGeneration": generation, "lastTransitionTime": stamp})
    return out


def _mark_disruption_target(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str) -> None:
    """The DisruptionTarget condition tells the pod's owner (and Job pod failure policies) why it went."""
    current = engine.get_stored(rt, namespace, name)
    pod = current.object()
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != DISRUPTION_TARGET]
    conditions.append({"type": DISRUPTION_TARGET, "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": rfc3339(engine.clock.now()), "reason": REASON_EVICTION_API,
                       "message": MSG_EVICTION_API})
    status["conditions"] = conditions
    engine.write_update(rt, current, pod, {}, subresource="status", expected_rv=current.rv, manager="kube-apiserver")
