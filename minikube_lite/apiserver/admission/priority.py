"""The Priority admission plugin and the PriorityClass registry's guards, as kube-apiserver has them.

- A new pod's ``spec.priorityClassName`` is resolved into ``spec.priority`` and
  ``spec.preemptionPolicy``; with no class named, the global default class applies (the one
  with the lowest value when several claim it), else priority 0. An unknown class, or an
  explicit priority/preemptionPolicy that disagrees with the class, is Forbidden.
- At most one PriorityClass is ``globalDefault``.
- The two system classes cannot be deleted.

Controllers' pods (ReplicaSet, StatefulSet, DaemonSet...) are created through the same API
path, so they pass through this plugin too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .. import errors
from .chain import CREATE, DELETE, UPDATE, AdmissionContext

JSON = dict[str, Any]

SCHEDULING_GROUP = "scheduling.k8s.io"
DEFAULT_PRIORITY = 0
PREEMPT_LOWER_PRIORITY = "PreemptLowerPriority"
SYSTEM_CLASS_NOT_DELETABLE = "this is a system priority class and cannot be deleted"

# scheduling/v1 SystemPriorityClasses(): created at start by the apiserver's bootstrap hook.
SYSTEM_PRIORITY_CLASSES: tuple[JSON, ...] = (
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "system-node-critical"},
     "value": 2000001000, "preemptionPolicy": PREEMPT_LOWER_PRIORITY,
     "description": "Used for system critical pods that must not be moved from their current node."},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "system-cluster-critical"},
     "value": 2000000000, "preemptionPolicy": PREEMPT_LOWER_PRIORITY,
     "description": "Used for system critical pods that must run in the cluster, but can be moved to another "
                    "node if necessary."},
)
SYSTEM_CLASS_NAMES = frozenset(pc["metadata"]["name"] for pc in SYSTEM_PRIORITY_CLASSES)


def default_priority_class(classes: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """``getDefaultPriorityClass``: of the globalDefault classes, the one with the lowest value."""
    best: Mapping[str, Any] | None = None
    best_value = 0
    for pc in classes:
        if pc.get("globalDefault") is True:
            raw = pc.get("value")
            value = raw if isinstance(raw, int) else 0
            if best is None or value < best_value:
                best, best_value = pc, value
    return best


class PriorityAdmission:
    """Upstream ``Priority`` (plugin/pkg/admission/priority) plus the system-class delete guard."""

    name = "Priority"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.subresource:
            return
        if ctx.rt.key == ("", "pods"):
            if ctx.operation == CREATE:
                self._admit_new_pod(ctx, obj)
            elif ctx.operation == UPDATE and old is not None:
                _keep_old_priority(obj, old)
        elif ctx.rt.key == (SCHEDULING_GROUP, "priorityclasses"):
            name = str((obj.get("metadata") or {}).get("name") or "")
            if ctx.operation == DELETE and name in SYSTEM_CLASS_NAMES:
                raise errors.forbidden(SCHEDULING_GROUP, "priorityclasses", name, SYSTEM_CLASS_NOT_DELETABLE)

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.subresource or ctx.rt.key != (SCHEDULING_GROUP, "priorityclasses"):
            return
        if ctx.operation not in (CREATE, UPDATE) or obj.get("globalDefault") is not True:
            return
        name = str((obj.get("metadata") or {}).get("name") or "")
        current = default_priority_class(ctx.list(SCHEDULING_GROUP, "priorityclasses", None))
        if current is None:
            return
        current_name = str((current.get("metadata") or {}).get("name") or "")
        if ctx.operation == CREATE or current_name != name:
            raise errors.forbidden(SCHEDULING_GROUP, "priorityclasses", name,
                                   f"PriorityClass {current_name} is already marked as default. "
                                   "Only one default can exist")

    def _admit_new_pod(self, ctx: AdmissionContext, pod: JSON) -> None:
        spec = pod.get("spec")
        if not isinstance(spec, dict):
            return
        name = str((pod.get("metadata") or {}).get("name") or "")
        class_name = str(spec.get("priorityClassName") or "")
        policy: Any
        if not class_name:
            default = default_priority_class(ctx.list(SCHEDULING_GROUP, "priorityclasses", None))
            if default is None:
                priority, policy = DEFAULT_PRIORITY, PREEMPT_LOWER_PRIORITY
            else:
                spec["priorityClassName"] = default["metadata"]["name"]
                priority, policy = int(default.get("value") or 0), default.get("preemptionPolicy")
        else:
            pc = ctx.lookup(SCHEDULING_GROUP, "priorityclasses", "", str(class_name))
            if pc is None:
                raise errors.forbidden("", "pods", name, f"no PriorityClass with name {class_name} was found")
            priority, policy = int(pc.get("value") or 0), pc.get("preemptionPolicy")
        given = spec.get("priority")
        if given is not None and given != priority:
            raise errors.forbidden("", "pods", name, f"the integer value of priority ({given}) must not be provided "
                                   f"in pod spec; priority admission controller computed {priority} from the given "
                                   "PriorityClass name")
        spec["priority"] = priority
        if policy is not None:
            given_policy = spec.get("preemptionPolicy")
            if given_policy is not None and given_policy != policy:
                raise errors.forbidden("", "pods", name, f"the string value of PreemptionPolicy ({given_policy}) must "
                                       f"not be provided in pod spec; priority admission controller computed {policy} "
                                       "from the given PriorityClass name")
            spec["preemptionPolicy"] = policy


def _keep_old_priority(pod: JSON, old: JSON) -> None:
    """On update the priority set at create is kept when the new body leaves it out."""
    spec, old_spec = pod.get("spec"), old.get("spec")
    if not isinstance(spec, dict) or not isinstance(old_spec, dict):
        return
    for key in ("priority", "preemptionPolicy"):
        if spec.get(key) is None and old_spec.get(key) is not None:
            spec[key] = old_spec[key]
