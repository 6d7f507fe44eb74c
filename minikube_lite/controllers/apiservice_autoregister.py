"""The aggregator's CRD autoregistration: every served CRD group/version has a local APIService.

``kubectl get apiservices`` on a real cluster lists ``v1.example.com`` as soon as a CRD of that
group is served, and drops it when the last such CRD goes. The built-in group/versions are
written at start (``kube-aggregator.kubernetes.io/automanaged: onstart``) and never removed;
the CRD ones carry ``automanaged: "true"`` and low priorities (1000/100), as upstream.
"""

from __future__ import annotations

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Result

APISERVICES = "apiservices.v1.apiregistration.k8s.io"
CRDS = "customresourcedefinitions.v1.apiextensions.k8s.io"
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
CRD_GROUP_PRIORITY_MINIMUM = 1000
CRD_VERSION_PRIORITY = 100


def served_names(crd: JSON) -> list[str]:
    spec = crd.get("spec") or {}
    group = spec.get("group") or ""
    return [f"{v['name']}.{group}" for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served")]


def crd_api_service(name: str) -> JSON:
    version, _, group = name.partition(".")
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": name, "labels": {AUTOMANAGED: "true"}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": CRD_GROUP_PRIORITY_MINIMUM,
                     "versionPriority": CRD_VERSION_PRIORITY},
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local",
                                       "message": "Local APIServices are always available"}]}}


class APIServiceAutoregistration(Controller):
    name = "crd-autoregister"

    def setup(self) -> None:
        def crd_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            return served_names(obj) + (served_names(old) if old else [])

        def service_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            return [obj["metadata"]["name"]]

        self.crds = self.informer(CRDS, key_of=crd_keys)
        self.services = self.informer(APISERVICES, key_of=service_keys)

    async def reconcile(self, key: str) -> Result:
        wanted = any(key in served_names(crd) for crd in self.crds.list()
                     if not crd["metadata"].get("deletionTimestamp"))
        current = self.services.get(key)
        try:
            if wanted and current is None:
                await self.client.create(APISERVICES, crd_api_service(key))
            elif not wanted and current is not None and \
                    (current["metadata"].get("labels") or {}).get(AUTOMANAGED) == "true":
                await self.client.delete(APISERVICES, key)
        except ApiError as err:
            if err.code not in (404, 409):  # already done by an earlier pass
                raise
        return DONE
