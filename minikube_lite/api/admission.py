"""Admission: the mutating and validating steps every write passes, as in kube-apiserver.

Plugins see the object being written, the old one on update, and a read-only view of the
store (``AdmissionContext.lookup``/``list``) for decisions such as picking the default
StorageClass. They mutate ``obj`` in ``admit`` and raise :class:`ApiError` to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ApiError, forbidden, not_found
from .registry import ResourceType

JSON = dict[str, Any]

CREATE = "CREATE"
UPDATE = "UPDATE"
DELETE = "DELETE"


@dataclass
class AdmissionContext:
    operation: str
    rt: ResourceType
    subresource: str | None
    dry_run: bool
    now: float
    lookup: Callable[[str, str, str, str], JSON | None]  # (group, plural, namespace, name)
    list: Callable[[str, str, str | None], Iterable[JSON]]  # (group, plural, namespace)


class AdmissionPlugin(Protocol):
    name: str

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        """Mutate ``obj``; raise ApiError to refuse."""

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        """Check ``obj`` after every mutation; raise ApiError to refuse."""


class NamespaceLifecycle:
    """Refuse creates in missing or terminating namespaces (upstream NamespaceLifecycle)."""

    name = "NamespaceLifecycle"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != CREATE or not ctx.rt.namespaced:
            return
        namespace = obj["metadata"].get("namespace") or ""
        ns = ctx.lookup("", "namespaces", "", namespace)
        if ns is None:
            raise not_found("", "namespaces", namespace)
        if (ns.get("status") or {}).get("phase") == "Terminating" or ns["metadata"].get("deletionTimestamp"):
            if ctx.rt.group == "" and ctx.rt.plural == "events":
                return  # events about a terminating namespace are still recorded upstream
            raise forbidden(ctx.rt.group, ctx.rt.plural, obj["metadata"].get("name", ""),
                            f"unable to create new content in namespace {namespace} because it is being terminated")

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


class ServiceAccountAdmission:
    """Pods run as the namespace's ``default`` ServiceAccount unless they name one (upstream ServiceAccount).

    Upstream also mounts a projected API token volume; containers do not run here, so that is left out.
    """

    name = "ServiceAccount"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != CREATE or ctx.rt.key != ("", "pods"):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        spec["serviceAccountName"] = account
        spec["serviceAccount"] = account

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


PRIORITY_GROUP = "scheduling.k8s.io"
DEFAULT_PREEMPTION = "PreemptLowerPriority"
# kube-apiserver creates these two classes at start (pkg/apis/scheduling SystemPriorityClasses).
SYSTEM_PRIORITY_CLASSES: tuple[tuple[str, int, str], ...] = (
    ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
    ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, "
                                            "but can be moved to another node if necessary."),
)


class PriorityAdmission:
    """Pods take ``priority`` and ``preemptionPolicy`` from their PriorityClass (upstream Priority).

    A pod naming no class gets the global default class, if any (the lowest-valued one when
    several claim it, as upstream), else priority 0. A named class must exist (403). A pod that
    states a priority different from its class's value is refused as upstream; without any class
    an explicit priority is kept (upstream would refuse it), so tests can set priorities directly.
    """

    name = "Priority"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.rt.key != ("", "pods") or ctx.subresource is not None:
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if ctx.operation == UPDATE:
            # spec.priority and preemptionPolicy are immutable: a write that leaves them out keeps them.
            old_spec = (old or {}).get("spec") or {}
            for key in ("priority", "preemptionPolicy"):
                if key not in spec and key in old_spec:
                    spec[key] = old_spec[key]
            return
        if ctx.operation != CREATE:
            return
        name = str(obj["metadata"].get("name") or "")
        class_name = spec.get("priorityClassName")
        if class_name:
            found = ctx.lookup(PRIORITY_GROUP, "priorityclasses", "", str(class_name))
            if found is None:
                raise forbidden("", "pods", name, f"no PriorityClass with name {class_name} was found")
            pc: JSON | None = found
        else:
            defaults = [c for c in ctx.list(PRIORITY_GROUP, "priorityclasses", None) if c.get("globalDefault")]
            pc = min(defaults, key=lambda c: int(c.get("value") or 0)) if defaults else None
        if pc is None:
            spec.setdefault("priority", 0)
            spec.setdefault("preemptionPolicy", DEFAULT_PREEMPTION)
            return
        value = int(pc.get("value") or 0)
        policy = pc.get("preemptionPolicy") or DEFAULT_PREEMPTION
        if spec.get("priority") is not None and spec["priority"] != value:
            raise forbidden("", "pods", name, f"the integer value of priority ({spec['priority']}) must not be "
                            f"provided in pod spec; priority admission controller computed {value} from the given "
                            "PriorityClass name")
        if spec.get("preemptionPolicy") is not None and spec["preemptionPolicy"] != policy:
            raise forbidden("", "pods", name, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) "
                            f"must not be provided in pod spec; priority admission controller computed {policy} "
                            "from the given PriorityClass name")
        spec["priorityClassName"] = pc["metadata"]["name"]
        spec["priority"] = value
        spec["preemptionPolicy"] = policy

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None


class AdmissionChain:
    def __init__(self, plugins: Iterable[AdmissionPlugin] = ()) -> None:
        self.plugins: list[AdmissionPlugin] = list(plugins)

    def add(self, plugin: AdmissionPlugin) -> None:
        self.plugins.append(plugin)

    def run(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        for plugin in self.plugins:
            plugin.admit(ctx, obj, old)
        for plugin in self.plugins:
            plugin.validate(ctx, obj, old)


__all__ = ["AdmissionChain", "AdmissionContext", "AdmissionPlugin", "NamespaceLifecycle", "ServiceAccountAdmission",
           "PriorityAdmission", "SYSTEM_PRIORITY_CLASSES",
           "ApiError",
           "CREATE", "UPDATE", "DELETE"]
