"""The ``DefaultIngressClass`` admission plugin: a new Ingress without a class gets the default one.

An IngressClass is the default when annotated ``ingressclass.kubernetes.io/is-default-class:
"true"``; with several, the newest wins (as upstream since it stopped refusing). An Ingress
that names a class, or uses the deprecated ``kubernetes.io/ingress.class`` annotation, is left
alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .chain import CREATE, AdmissionContext

JSON = dict[str, Any]
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
DEPRECATED_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def default_ingress_class(classes: Iterable[Mapping[str, Any]]) -> str | None:
    defaults = [c for c in classes
                if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS_ANNOTATION) == "true"]
    if not defaults:
        return None
    defaults.sort(key=lambda c: str((c.get("metadata") or {}).get("name") or ""))
    defaults.sort(key=lambda c: str((c.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True)
    return str(defaults[0]["metadata"]["name"])


class DefaultIngressClass:
    name = "DefaultIngressClass"

    def admit(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        if ctx.operation != CREATE or ctx.subresource or ctx.rt.key != ("networking.k8s.io", "ingresses"):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict) or spec.get("ingressClassName") is not None:
            return
        if DEPRECATED_CLASS_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {}):
            return
        name = default_ingress_class(ctx.list("networking.k8s.io", "ingressclasses", None))
        if name is not None:
            spec["ingressClassName"] = name

    def validate(self, ctx: AdmissionContext, obj: JSON, old: JSON | None) -> None:
        return None
