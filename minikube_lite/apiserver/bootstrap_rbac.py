"""The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (bootstrappolicy).

Only the roles users meet (cluster-admin, admin/edit/view and their aggregation sources, the
``system:`` discovery and self-review roles, monitoring, auth delegation, node bootstrap), with
the upstream rules, the ``kubernetes.io/bootstrapping: rbac-defaults`` label and the autoupdate
annotation. The aggregated roles carry the union of their sources' rules, as the
clusterrole-aggregation controller writes it.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

RBAC_GROUP = "rbac.authorization.k8s.io"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> JSON:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def url_rule(urls: list[str], verbs: list[str]) -> JSON:
    return {"nonResourceURLs": urls, "verbs": verbs}


AGGREGATE_TO_VIEW = [
    rule([""], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
                "configmaps"], READ),
    rule([""], ["limitranges", "resourcequotas", "bindings", "events", "replicationcontrollers/status",
                "pods/log", "pods/status", "resourcequotas/status", "namespaces/status"], READ),
    rule([""], ["namespaces"], READ),
    rule(["discovery.k8s.io"], ["endpointslices"], READ),
    rule(["apps"], ["controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status",
                    "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                    "replicasets", "replicasets/scale", "replicasets/status"], READ),
    rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                          "deployments/status", "ingresses", "ingresses/status", "replicasets", "replicasets/scale",
                          "replicasets/status", "replicationcontrollers/scale", "networkpolicies"], READ),
    rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
]

AGGREGATE_TO_EDIT = [
    rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    rule([""], ["serviceaccounts"], ["impersonate"]),
    rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    rule([""], ["pods/eviction"], ["create"]),
    rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"], WRITE),
    rule([""], ["serviceaccounts/token"], ["create"]),
    rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                    "replicasets/scale", "statefulsets", "statefulsets/scale"], WRITE),
    rule(["autoscaling"], ["horizontalpodautoscalers"], WRITE),
    rule(["batch"], ["cronjobs", "jobs"], WRITE),
    rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                          "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"],
         WRITE),
    rule(["policy"], ["poddisruptionbudgets"], WRITE),
    rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], WRITE),
    rule(["coordination.k8s.io"], ["leases"], ALL_VERBS),
]

AGGREGATE_TO_ADMIN = [
    rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    rule([RBAC_GROUP], ["rolebindings", "roles"], ALL_VERBS),
]


def _aggregate_label(to: str) -> dict[str, str]:
    return {f"rbac.authorization.k8s.io/aggregate-to-{to}": "true"}


def _role(name: str, rules: list[JSON], labels: dict[str, str] | None = None,
          aggregate_from: str | None = None) -> JSON:
    role: JSON = {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole",
                  "metadata": {"name": name, "labels": {**BOOTSTRAP_LABEL, **(labels or {})},
                               "annotations": dict(AUTOUPDATE)},
                  "rules": rules}
    if aggregate_from is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": _aggregate_label(aggregate_from)}]}
    return role


def default_cluster_roles() -> list[JSON]:
    view_rules = AGGREGATE_TO_VIEW
    edit_rules = AGGREGATE_TO_EDIT + view_rules  # sources sorted by name: system:aggregate-to-edit, view
    admin_rules = edit_rules + AGGREGATE_TO_ADMIN  # edit, system:aggregate-to-admin
    discovery_urls = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                      "/readyz", "/version", "/version/"]
    return [
        _role("cluster-admin", [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]),
        _role("admin", admin_rules, aggregate_from="admin"),
        _role("edit", edit_rules, _aggregate_label("admin"), aggregate_from="edit"),
        _role("view", view_rules, _aggregate_label("edit"), aggregate_from="view"),
        _role("system:aggregate-to-admin", AGGREGATE_TO_ADMIN, _aggregate_label("admin")),
        _role("system:aggregate-to-edit", AGGREGATE_TO_EDIT, _aggregate_label("edit")),
        _role("system:aggregate-to-view", AGGREGATE_TO_VIEW, _aggregate_label("view")),
        _role("system:discovery", [url_rule(discovery_urls, ["get"])]),
        _role("system:basic-user", [
            rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"])]),
        _role("system:public-info-viewer", [url_rule(["/healthz", "/livez", "/readyz", "/version", "/version/"],
                                                     ["get"])]),
        _role("system:monitoring", [url_rule(["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
                                              "/metrics/slis", "/readyz", "/readyz/*"], ["get"])]),
        _role("system:auth-delegator", [rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
                                        rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"])]),
        _role("system:node-bootstrapper", [rule(["certificates.k8s.io"], ["certificatesigningrequests"],
                                                ["create", "get", "list", "watch"])]),
    ]


def _binding(name: str, role: str, groups: list[str], bootstrap: bool = True) -> JSON:
    meta: JSON = {"name": name}
    if bootstrap:
        meta["labels"] = dict(BOOTSTRAP_LABEL)
        meta["annotations"] = dict(AUTOUPDATE)
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups]}


def default_cluster_role_bindings() -> list[JSON]:
    return [
        _binding("cluster-admin", "cluster-admin", ["system:masters"]),
        _binding("system:discovery", "system:discovery", ["system:authenticated"]),
        _binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
        _binding("system:public-info-viewer", "system:public-info-viewer",
                 ["system:authenticated", "system:unauthenticated"]),
        _binding("system:monitoring", "system:monitoring", ["system:monitoring"]),
        # kubeadm's own binding for the admin.conf group (no rbac-defaults label).
        _binding("kubeadm:cluster-admins", "cluster-admin", ["kubeadm:cluster-admins"], bootstrap=False),
    ]
