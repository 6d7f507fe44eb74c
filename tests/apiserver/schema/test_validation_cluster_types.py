"""Defaulting and validation of RBAC, PriorityClass, PDB, networking, RuntimeClass, VAC, HPA, CSR
and APIService writes, through the real in-memory API (422 bodies as kube-apiserver gives them)."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from minikube_lite import Cluster
from minikube_lite.apiserver.errors import ApiError

JSON = dict[str, Any]
RBAC = "rbac.authorization.k8s.io/v1"


def role(name: str = "r", rules: list[JSON] | None = None) -> JSON:
    return {"apiVersion": RBAC, "kind": "Role", "metadata": {"name": name},
            "rules": rules if rules is not None else [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}


def binding(name: str = "rb", ref: str = "r", kind: str = "RoleBinding", **extra: Any) -> JSON:
    return {"apiVersion": RBAC, "kind": kind, "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role" if kind == "RoleBinding"
                        else "ClusterRole", "name": ref},
            "subjects": [{"kind": "User", "name": "jane"}], **extra}


def ingress(paths: list[JSON] | None = None, **spec: Any) -> JSON:
    backend = {"service": {"name": "web", "port": {"number": 80}}}
    rules = [{"host": "example.com", "http": {"paths": paths if paths is not None else [
        {"path": "/", "pathType": "Prefix", "backend": backend}]}}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
            "spec": {"rules": rules, **spec}}


CSR_PEM = b"-----BEGIN CERTIFICATE REQUEST-----\nMIIBADCBpwIBADAPMQ0wCwYDVQQDDARqYW5l\n-----END CERTIFICATE REQUEST-----\n"


def csr(**spec: Any) -> JSON:
    base = {"request": base64.b64encode(CSR_PEM).decode(), "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"]}
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "c"}, "spec": {**base, **spec}}


# (id, resource, namespace, body, expected message)
INVALID: list[tuple[str, str, str | None, JSON, str]] = [
    ("role without verbs", "roles", "default", role(rules=[{"apiGroups": [""], "resources": ["pods"]}]),
     'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].verbs: Required value: verbs must contain at least '
     "one value"),
    ("role without groups", "roles", "default", role(rules=[{"resources": ["pods"], "verbs": ["get"]}]),
     'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].apiGroups: Required value: resource rules must '
     "supply at least one api group"),
    ("namespaced url rule", "roles", "default", role(rules=[{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]),
     'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].nonResourceURLs: Invalid value: '
     '[]string{"/healthz"}: namespaced rules cannot apply to non-resource URLs'),
    ("role name with slash", "roles", "default", role(name="a/b"),
     'Role.rbac.authorization.k8s.io "a/b" is invalid: metadata.name: Invalid value: "a/b": may not contain \'/\''),
    ("binding bad kind", "rolebindings", "default",
     {**binding(), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Pod", "name": "r"}},
     'RoleBinding.rbac.authorization.k8s.io "rb" is invalid: roleRef.kind: Unsupported value: "Pod": supported '
     'values: "Role", "ClusterRole"'),
    ("binding bad subject", "rolebindings", "default", binding(subjects=[{"kind": "Robot", "name": "x"}]),
     'RoleBinding.rbac.authorization.k8s.io "rb" is invalid: subjects[0].kind: Unsupported value: "Robot": '
     'supported values: "ServiceAccount", "User", "Group"'),
    ("crb sa without namespace", "clusterrolebindings", None,
     binding(kind="ClusterRoleBinding", ref="view", subjects=[{"kind": "ServiceAccount", "name": "x"}]),
     'ClusterRoleBinding.rbac.authorization.k8s.io "rb" is invalid: subjects[0].namespace: Required value'),
    ("pdb both", "poddisruptionbudgets", "default",
     {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
      "spec": {"minAvailable": 1, "maxUnavailable": 1}},
     "minAvailable and maxUnavailable cannot be both set"),
    ("pdb bad percent", "poddisruptionbudgets", "default",
     {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
      "spec": {"minAvailable": "150%"}},
     'PodDisruptionBudget.policy "p" is invalid: spec.minAvailable: Invalid value: "150%": must not be greater '
     "than 100%"),
    ("pdb negative", "poddisruptionbudgets", "default",
     {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
      "spec": {"maxUnavailable": -1}},
     'PodDisruptionBudget.policy "p" is invalid: spec.maxUnavailable: Invalid value: -1: must be greater than or '
     "equal to 0"),
    ("pdb selector", "poddisruptionbudgets", "default",
     {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
      "spec": {"minAvailable": 1, "selector": {"matchExpressions": [{"key": "a", "operator": "In"}]}}},
     "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or "
     "'NotIn'"),
    ("pc system prefix", "priorityclasses", None,
     {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "system-mine"},
      "value": 10},
     'PriorityClass.scheduling.k8s.io "system-mine" is invalid: metadata.name: Forbidden: priority class names '
     "with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority "
     "class"),
    ("pc too high", "priorityclasses", None,
     {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "huge"},
      "value": 1000000001},
     'PriorityClass.scheduling.k8s.io "huge" is invalid: value: Forbidden: maximum allowed value of a user '
     "defined priority is 1000000000"),
    ("ingress without pathType", "ingresses", "default",
     ingress([{"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]),
     'Ingress.networking.k8s.io "i" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType '
     "must be specified"),
    ("ingress relative path", "ingresses", "default",
     ingress([{"path": "api", "pathType": "Prefix", "backend": {"service": {"name": "web",
                                                                            "port": {"number": 80}}}}]),
     'Ingress.networking.k8s.io "i" is invalid: spec.rules[0].http.paths[0].path: Invalid value: "api": must be '
     "an absolute path"),
    ("ingress backend without port", "ingresses", "default",
     ingress([{"path": "/", "pathType": "Exact", "backend": {"service": {"name": "web"}}}]),
     'Ingress.networking.k8s.io "i" is invalid: spec.rules[0].http.paths[0].backend: Required value: port name '
     "or number is required"),
    ("ingress nothing", "ingresses", "default",
     {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}, "spec": {}},
     'Ingress.networking.k8s.io "i" is invalid: spec: Invalid value: []networking.IngressRule(nil): either '
     "`defaultBackend` or `rules` must be specified"),
    ("ingress ip host", "ingresses", "default",
     {**ingress(), "spec": {"rules": [{"host": "10.0.0.1"}]}},
     'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'),
    ("ingressclass controller", "ingressclasses", None,
     {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "c"},
      "spec": {"controller": "nginx"}},
     'spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")'),
    ("netpol protocol", "networkpolicies", "default",
     {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
      "spec": {"podSelector": {}, "ingress": [{"ports": [{"protocol": "ICMP", "port": 80}]}]}},
     'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'),
    ("netpol cidr", "networkpolicies", "default",
     {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
      "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]}},
     'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value'),
    ("runtimeclass handler", "runtimeclasses", None,
     {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "r"}, "handler": "Run_SC"},
     'RuntimeClass.node.k8s.io "r" is invalid: handler: Invalid value: "Run_SC": a lowercase RFC 1123 label'),
    ("vac no params", "volumeattributesclasses", None,
     {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass", "metadata": {"name": "v"},
      "driverName": "disk.csi.example.com"},
     'VolumeAttributesClass.storage.k8s.io "v" is invalid: parameters: Required value: must contain at least one '
     "key/value pair"),
    ("hpa min over max", "horizontalpodautoscalers", "default",
     {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
      "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
               "minReplicas": 5, "maxReplicas": 2}},
     'HorizontalPodAutoscaler.autoscaling "h" is invalid: spec.maxReplicas: Invalid value: 2: must be greater '
     "than or equal to `minReplicas`"),
    ("hpa no target name", "horizontalpodautoscalers", "default",
     {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
      "spec": {"scaleTargetRef": {"kind": "Deployment", "name": ""}, "maxReplicas": 2}},
     "spec.scaleTargetRef.name: Required value"),
    ("csr not pem", "certificatesigningrequests", None, csr(request=base64.b64encode(b"hello").decode()),
     "spec.request: Invalid value: []byte{...}: PEM block type must be CERTIFICATE REQUEST"),
    ("csr no usages", "certificatesigningrequests", None, csr(usages=[]),
     "spec.usages: Required value: usages must be provided"),
    ("csr short", "certificatesigningrequests", None, csr(expirationSeconds=60),
     "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)"),
    ("apiservice name", "apiservices", None,
     {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.wrong.io"},
      "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
               "versionPriority": 100}},
     'metadata.name: Invalid value: "v1.wrong.io": must be `spec.version+"."+spec.group`: '
     '"v1beta1.metrics.k8s.io"'),
]


@pytest.mark.parametrize(("resource", "namespace", "body", "message"),
                         [pytest.param(r, n, b, m, id=i) for i, r, n, b, m in INVALID])
async def test_invalid_creates_are_422_and_store_nothing(cluster: Cluster, resource: str, namespace: str | None,
                                                         body: JSON, message: str) -> None:
    rv = cluster.engine.store.resource_version
    with pytest.raises(ApiError) as info:
        await cluster.client.create(resource, copy.deepcopy(body), namespace)
    err = info.value
    assert (err.code, err.reason) == (422, "Invalid")
    assert message in err.message
    assert err.details and err.details["causes"]
    assert cluster.engine.store.resource_version == rv


VALID: list[tuple[str, str, str | None, JSON]] = [
    ("role", "roles", "default", role()),
    ("clusterrole urls", "clusterroles", None, {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "u"},
                                                "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]}),
    ("pdb", "poddisruptionbudgets", "default", {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                                                "metadata": {"name": "p"}, "spec": {"minAvailable": "50%"}}),
    ("ingress", "ingresses", "default", ingress()),
    ("runtimeclass", "runtimeclasses", None, {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                                              "metadata": {"name": "gvisor"}, "handler": "runsc"}),
    ("csr", "certificatesigningrequests", None, csr()),
]


@pytest.mark.parametrize(("resource", "namespace", "body"), [pytest.param(r, n, b, id=i) for i, r, n, b in VALID])
async def test_valid_creates_are_accepted(cluster: Cluster, resource: str, namespace: str | None, body: JSON) -> None:
    created = await cluster.client.create(resource, copy.deepcopy(body), namespace)
    assert created["metadata"]["uid"]


async def test_defaults(cluster: Cluster) -> None:
    rb = await cluster.client.create("rolebindings", {**binding(), "roleRef": {"kind": "Role", "name": "r"},
                                                      "subjects": [{"kind": "Group", "name": "devs"},
                                                                   {"kind": "ServiceAccount", "name": "sa"}]},
                                     "default")
    assert rb["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert rb["subjects"] == [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
                              {"kind": "ServiceAccount", "name": "sa"}]
    pc = await cluster.client.create("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1",
                                                         "kind": "PriorityClass", "metadata": {"name": "p"},
                                                         "value": 5})
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"
    netpol = await cluster.client.create("networkpolicies", {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
        "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}}, "default")
    assert netpol["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert netpol["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP"
    hpa = await cluster.client.create("horizontalpodautoscalers", {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}}, "default")
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 80}}}]
    assert "behavior" not in hpa["spec"]
    tuned = await cluster.client.create("horizontalpodautoscalers", {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h2"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                 "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}, "default")
    assert tuned["spec"]["behavior"]["scaleDown"] == {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                                                      "policies": [{"type": "Percent", "value": 100,
                                                                    "periodSeconds": 15}]}
    assert tuned["spec"]["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}


async def test_role_ref_is_immutable(cluster: Cluster) -> None:
    await cluster.client.create("rolebindings", binding(), "default")
    current = await cluster.client.get("rolebindings", "rb", "default")
    changed = copy.deepcopy(current)
    changed["roleRef"]["name"] = "other"
    changed["subjects"].append({"kind": "User", "name": "joe", "apiGroup": "rbac.authorization.k8s.io"})
    with pytest.raises(ApiError) as info:
        await cluster.client.update("rolebindings", changed, "default")
    assert info.value.code == 422
    assert info.value.message == ('RoleBinding.rbac.authorization.k8s.io "rb" is invalid: roleRef: Invalid value: '
                                  'rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: '
                                  "cannot change roleRef")
    assert await cluster.client.get("rolebindings", "rb", "default") == current
    changed["roleRef"]["name"] = "r"
    updated = await cluster.client.update("rolebindings", changed, "default")
    assert len(updated["subjects"]) == 2


@pytest.mark.parametrize(("resource", "body", "change", "message"), [
    ("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "p"},
                         "value": 5}, {"value": 6}, "value: Forbidden: may not be changed in an update."),
    ("priorityclasses", {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "p"},
                         "value": 5}, {"preemptionPolicy": "Never"},
     'preemptionPolicy: Invalid value: "Never": field is immutable'),
    ("volumeattributesclasses", {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass",
                                 "metadata": {"name": "v"}, "driverName": "d.example.com",
                                 "parameters": {"iops": "3000"}},
     {"parameters": {"iops": "6000"}}, "parameters: Forbidden: updates to parameters are forbidden."),
    ("volumeattributesclasses", {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass",
                                 "metadata": {"name": "v"}, "driverName": "d.example.com",
                                 "parameters": {"iops": "3000"}},
     {"driverName": "e.example.com"}, "driverName: Forbidden: updates to driverName are forbidden."),
    ("runtimeclasses", {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "r"},
                        "handler": "runc"}, {"handler": "runsc"}, 'handler: Invalid value: "runsc": field is immutable'),
    ("ingressclasses", {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "c"},
                        "spec": {"controller": "k8s.io/a"}}, {"spec": {"controller": "k8s.io/b"}},
     'spec.controller: Invalid value: "k8s.io/b": field is immutable'),
])
async def test_immutable_fields(cluster: Cluster, resource: str, body: JSON, change: JSON, message: str) -> None:
    created = await cluster.client.create(resource, body)
    with pytest.raises(ApiError) as info:
        await cluster.client.update(resource, {**created, **change})
    assert info.value.code == 422 and message in info.value.message
    assert await cluster.client.get(resource, body["metadata"]["name"]) == created


async def test_csr_records_the_requesting_user_and_keeps_its_spec(cluster: Cluster) -> None:
    created = await cluster.client.create("certificatesigningrequests", csr(username="someone-else"))
    assert created["spec"]["username"] == "minikube-lite-admin"
    assert created["spec"]["groups"] == ["system:masters", "system:authenticated"]
    changed = copy.deepcopy(created)
    changed["spec"]["signerName"] = "example.com/other"
    changed["metadata"]["labels"] = {"a": "b"}
    updated = await cluster.client.update("certificatesigningrequests", changed)
    assert updated["spec"] == created["spec"] and updated["metadata"]["labels"] == {"a": "b"}


async def test_csr_approval_changes_only_conditions(cluster: Cluster) -> None:
    created = await cluster.client.create("certificatesigningrequests", csr())
    body = copy.deepcopy(created)
    body["spec"]["usages"] = ["server auth"]
    body["status"] = {"certificate": "Zm9v", "conditions": [
        {"type": "Approved", "status": "True", "reason": "KubectlApprove", "message": "approved"}]}
    approved = await cluster.client.update("certificatesigningrequests", body, subresource="approval")
    assert approved["spec"] == created["spec"]
    assert "certificate" not in approved["status"]
    cond = approved["status"]["conditions"][0]
    assert cond["type"] == "Approved" and cond["lastUpdateTime"] and cond["lastTransitionTime"]
    both = copy.deepcopy(approved)
    both["status"]["conditions"].append({"type": "Denied", "status": "True"})
    with pytest.raises(ApiError) as info:
        await cluster.client.update("certificatesigningrequests", both, subresource="approval")
    assert info.value.code == 422 and "Approved and Denied conditions are mutually exclusive" in info.value.message


async def test_default_ingress_class_admission(cluster: Cluster) -> None:
    def klass(name: str, default: bool) -> JSON:
        meta: JSON = {"name": name}
        if default:
            meta["annotations"] = {"ingressclass.kubernetes.io/is-default-class": "true"}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": meta,
                "spec": {"controller": "k8s.io/ingress-nginx"}}

    plain = await cluster.client.create("ingresses", {**ingress(), "metadata": {"name": "before"}}, "default")
    assert "ingressClassName" not in plain["spec"]
    await cluster.client.create("ingressclasses", klass("other", False))
    await cluster.client.create("ingressclasses", klass("nginx", True))
    defaulted = await cluster.client.create("ingresses", {**ingress(), "metadata": {"name": "after"}}, "default")
    assert defaulted["spec"]["ingressClassName"] == "nginx"
    named = await cluster.client.create("ingresses", {**ingress(ingressClassName="other"),
                                                      "metadata": {"name": "named"}}, "default")
    assert named["spec"]["ingressClassName"] == "other"
    legacy = await cluster.client.create("ingresses", {**ingress(), "metadata": {
        "name": "legacy", "annotations": {"kubernetes.io/ingress.class": "traefik"}}}, "default")
    assert "ingressClassName" not in legacy["spec"]
