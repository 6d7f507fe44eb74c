"""Admission: the mutating and validating steps every write passes, as in kube-apiserver.

Plugins see the object being written, the old one on update, and a read-only view of the
store (``AdmissionContext.lookup``/``list``) for decisions such as picking the default
StorageClass. They mutate ``obj`` in ``admit`` and raise :class:`ApiError` to refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ApiError, forbidden, not_found
from ..registry import ResourceType

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
           "ApiError",
           "CREATE", "UPDATE", "DELETE"]
