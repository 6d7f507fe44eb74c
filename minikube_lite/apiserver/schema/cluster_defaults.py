"""Defaulting of RBAC, PriorityClass, networking and autoscaling objects (upstream ``SetDefaults_*``).

Kept apart from ``defaults.py`` (pods, storage, workloads); ``defaults.DEFAULTERS`` includes
these rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"


def _subjects(obj: JSON) -> None:
    """``SetDefaults_Subject``: users and groups are RBAC subjects, service accounts core ones."""
    for subject in obj.get("subjects") or []:
        if isinstance(subject, dict) and not subject.get("apiGroup"):
            if subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = RBAC_GROUP


def _binding(obj: JSON) -> None:
    """``SetDefaults_(Cluster)RoleBinding``: an empty roleRef.apiGroup means RBAC's."""
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = RBAC_GROUP
    _subjects(obj)


def _priority_class(obj: JSON) -> None:
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _network_policy(obj: JSON) -> None:
    """``SetDefaults_NetworkPolicy``: Ingress always, Egress when egress rules exist; ports are TCP."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            if isinstance(rule, dict):
                for port in rule.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types


DEFAULT_CPU_UTILIZATION = 80
HPA_SCALE_UP: JSON = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
    {"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}]}
HPA_SCALE_DOWN: JSON = {"stabilizationWindowSeconds": 300, "selectPolicy": "Max", "policies": [
    {"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _hpa(obj: JSON) -> None:
    """v1 and v2 default minReplicas to 1; v2 also a CPU metric at 80% and, when a behavior is
    given, its missing scale-up/scale-down rules."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("minReplicas", 1)
    if obj.get("apiVersion") != "autoscaling/v2":
        return
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for key, rules in (("scaleUp", HPA_SCALE_UP), ("scaleDown", HPA_SCALE_DOWN)):
            current = behavior.get(key)
            if not isinstance(current, dict):
                behavior[key] = copy.deepcopy(rules)
                continue
            for field, value in rules.items():
                current.setdefault(field, copy.deepcopy(value))


def _ingress_class(obj: JSON) -> None:
    """``SetDefaults_IngressClass``: parameters without a scope are cluster-scoped."""
    params = (obj.get("spec") or {}).get("parameters") if isinstance(obj.get("spec"), dict) else None
    if isinstance(params, dict):
        params.setdefault("scope", "Cluster")


def _pdb(obj: JSON) -> None:
    """A PDB's status starts with ``disruptionsAllowed: 0`` and an empty ``disruptedPods`` shape."""
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
            status.setdefault(key, 0)


CLUSTER_DEFAULTERS: dict[tuple[str, str], Callable[[JSON], None]] = {
    (RBAC_GROUP, "RoleBinding"): _binding,
    (RBAC_GROUP, "ClusterRoleBinding"): _binding,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    ("networking.k8s.io", "NetworkPolicy"): _network_policy,
    ("networking.k8s.io", "IngressClass"): _ingress_class,
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("policy", "PodDisruptionBudget"): _pdb,
}
