"""The objects kube-apiserver's post-start hooks create in every cluster, beyond namespaces.

- the system PriorityClasses (``scheduling/bootstrap-system-priority-classes``);
- the default ClusterRoles and ClusterRoleBindings (``rbac/bootstrap-roles``, see
  ``bootstrap_rbac``);
- the mandatory FlowSchemas and PriorityLevelConfigurations (``exempt``, ``catch-all``);
- one local APIService per served group/version (the aggregator's autoregistration), built-ins
  marked ``onstart`` and CRD groups ``true``.

``bootstrap_objects(registry)`` lists them in creation order; ``install(engine)`` writes them
(``Cluster`` calls it at start).
"""

from __future__ import annotations

from typing import Any

import orjson

from .admission.priority import SYSTEM_PRIORITY_CLASSES
from .bootstrap_rbac import default_cluster_role_bindings, default_cluster_roles
from .engine_services import EngineServices
from .errors import ApiError
from .registry import Registry

JSON = dict[str, Any]

FLOW_GROUP = "flowcontrol.apiserver.k8s.io"
APF_AUTOUPDATE = {"apf.kubernetes.io/autoupdate-spec": "true"}
LOCAL_AVAILABLE_MESSAGE = "Local APIServices are always available"

# (group, version) -> (groupPriorityMinimum, versionPriority), kube-apiserver's apiVersionPriorities.
API_VERSION_PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1),
    ("apiregistration.k8s.io", "v1"): (18000, 15),
    ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15),
    ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15),
    ("autoscaling", "v2"): (17500, 30),
    ("autoscaling", "v1"): (17500, 15),
    ("batch", "v1"): (17400, 15),
    ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15),
    ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15),
    ("storage.k8s.io", "v1"): (16800, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15),
    ("apiextensions.k8s.io", "v1"): (16700, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15),
    ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15),
    ("discovery.k8s.io", "v1"): (16200, 15),
    ("resource.k8s.io", "v1"): (15900, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21),
}
CRD_GROUP_PRIORITY = (1000, 100)


def _group_rules() -> list[JSON]:
    return [{"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "clusterScope": True,
                                "namespaces": ["*"]}],
             "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]


def _flow_schema(name: str, level: str, precedence: int, groups: list[str], by_user: bool) -> JSON:
    rules = _group_rules()
    rules[0]["subjects"] = [{"kind": "Group", "group": {"name": g}} for g in groups]
    spec: JSON = {"priorityLevelConfiguration": {"name": level}, "matchingPrecedence": precedence, "rules": rules}
    if by_user:
        spec["distinguisherMethod"] = {"type": "ByUser"}
    return {"apiVersion": f"{FLOW_GROUP}/v1", "kind": "FlowSchema",
            "metadata": {"name": name, "annotations": dict(APF_AUTOUPDATE)}, "spec": spec,
            "status": {"conditions": [{"type": "Dangling", "status": "False", "reason": "Found",
                                       "message": f"This FlowSchema references the PriorityLevelConfiguration "
                                                  f"object named \"{level}\" and it exists"}]}}


def flow_control_objects() -> list[JSON]:
    """The mandatory APF configuration: ``exempt`` for system:masters, ``catch-all`` for the rest."""
    return [
        {"apiVersion": f"{FLOW_GROUP}/v1", "kind": "PriorityLevelConfiguration",
         "metadata": {"name": "exempt", "annotations": dict(APF_AUTOUPDATE)},
         "spec": {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}}},
        {"apiVersion": f"{FLOW_GROUP}/v1", "kind": "PriorityLevelConfiguration",
         "metadata": {"name": "catch-all", "annotations": dict(APF_AUTOUPDATE)},
         "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5, "lendablePercent": 0,
                                                 "limitResponse": {"type": "Reject"}}}},
        _flow_schema("exempt", "exempt", 1, ["system:masters"], by_user=False),
        _flow_schema("catch-all", "catch-all", 10000, ["system:unauthenticated", "system:authenticated"],
                     by_user=True),
    ]


def api_services(registry: Registry) -> list[JSON]:
    """One local, Available APIService per served group/version (``v1.`` for the core group)."""
    out: list[JSON] = []
    for group, versions in registry.groups().items():
        for version in versions:
            builtin = (group, version) in API_VERSION_PRIORITIES
            group_min, version_priority = API_VERSION_PRIORITIES.get((group, version), CRD_GROUP_PRIORITY)
            spec: JSON = {"version": version, "groupPriorityMinimum": group_min, "versionPriority": version_priority}
            if group:
                spec = {"group": group, **spec}
            out.append({
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": f"{version}.{group}",
                             "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart" if builtin else "true"}},
                "spec": spec,
                "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local",
                                           "message": LOCAL_AVAILABLE_MESSAGE}]},
            })
    return out


def bootstrap_objects(registry: Registry) -> list[JSON]:
    """Every start object of this module, in the order the apiserver's hooks create them."""
    return [
        *(dict(pc, metadata=dict(pc["metadata"])) for pc in SYSTEM_PRIORITY_CLASSES),
        *default_cluster_roles(),
        *default_cluster_role_bindings(),
        *flow_control_objects(),
        *api_services(registry),
    ]


# registry groups/versions -> the written objects (storage key, bytes) of the first install
_WRITTEN: dict[tuple[tuple[str, tuple[str, ...]], ...], list[tuple[tuple[str, str], bytes]]] = {}
_WRITTEN_MAX = 8


def install(engine: EngineServices, keep_existing: bool = False) -> None:
    """Write the start objects into a fresh engine.

    The first engine of a process (per set of served groups) takes the full create path
    (defaulting, admission, validation, managedFields); later ones store copies of what it
    wrote with a new uid and timestamps, which keeps ``Cluster`` start fast. The objects are
    the same either way: they do not depend on anything but the served groups.

    ``keep_existing``: on a persistent store an earlier start wrote them already; those stay
    as they are (a cluster admin may have changed them) and only missing ones are written.
    """
    if keep_existing:
        for obj in bootstrap_objects(engine.registry):
            rt = engine.registry.for_kind(obj["apiVersion"], obj["kind"])
            assert rt is not None, obj["kind"]
            try:
                engine.create(rt, None, obj, {"fieldManager": "kube-apiserver"})
            except ApiError as err:
                if err.code != 409:
                    raise
        return
    signature = tuple((group, tuple(versions)) for group, versions in engine.registry.groups().items())
    written = _WRITTEN.get(signature)
    if written is not None:
        now = engine.now()
        for key, raw in written:
            obj = orjson.loads(raw)
            meta = obj["metadata"]
            meta["uid"] = engine.new_uid()   # seeded when the cluster is
            meta["creationTimestamp"] = now
            for entry in meta.get("managedFields") or []:
                entry["time"] = now
            rt = engine.registry.for_kind(obj["apiVersion"], obj["kind"])
            assert rt is not None
            engine.store.create(key, obj, rt.selectable_fields(obj))
        return
    written = []
    for obj in bootstrap_objects(engine.registry):
        rt = engine.registry.for_kind(obj["apiVersion"], obj["kind"])
        assert rt is not None, obj["kind"]
        result = engine.create(rt, None, obj, {"fieldManager": "kube-apiserver"})
        stored = dict(result.obj)
        stored["metadata"] = {k: v for k, v in result.obj["metadata"].items() if k != "resourceVersion"}
        written.append((rt.key, orjson.dumps(stored)))
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.clear()
    _WRITTEN[signature] = written
