"""The clusterrole-aggregation controller: a ClusterRole with an ``aggregationRule`` holds the
rules of every ClusterRole its selectors match (``admin``, ``edit`` and ``view`` grow when a
ClusterRole labelled ``rbac.authorization.k8s.io/aggregate-to-view: "true"`` appears, as for
the roles CRD add-ons install).

Level-based: the union is recomputed from the informer cache (sources sorted by name, each
rule once, the role itself left out) and written only when it differs.
"""

from __future__ import annotations

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Result
from ..kube.selectors import match_label_selector

RESOURCE = "clusterroles.v1.rbac.authorization.k8s.io"


def aggregated_rules(role: JSON, roles: list[JSON]) -> list[JSON]:
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    name = role["metadata"]["name"]
    rules: list[JSON] = []
    for source in sorted(roles, key=lambda r: r["metadata"]["name"]):
        if source["metadata"]["name"] == name:
            continue
        labels = source["metadata"].get("labels") or {}
        if not any(isinstance(sel, dict) and match_label_selector(sel, labels) for sel in selectors):
            continue
        for rule in source.get("rules") or []:
            if rule not in rules:
                rules.append(rule)
    return rules


class ClusterRoleAggregationController(Controller):
    name = "clusterrole-aggregation-controller"

    def setup(self) -> None:
        def keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            # any role may be a source of any aggregated role: re-check every aggregated role
            return [r["metadata"]["name"] for r in self.roles.list() if r.get("aggregationRule")]

        self.roles = self.informer(RESOURCE, key_of=keys)

    async def reconcile(self, key: str) -> Result:
        role = self.roles.get(key)
        if role is None or not role.get("aggregationRule"):
            return DONE
        rules = aggregated_rules(role, self.roles.list())
        if rules == (role.get("rules") or []):
            return DONE
        try:
            await self.client.update(RESOURCE, {**role, "rules": rules})
        except ApiError as err:
            if err.code not in (404, 409):  # gone, or changed since: a later event re-queues it
                raise
        return DONE
