"""Tables of the types a kubeadm cluster serves beyond the storage and workload core."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_lite.apiserver.registry import Registry, ResourceType, builtin_types
from minikube_lite.apiserver.wire.tables import row_cells, table_columns
from minikube_lite.clock import parse_time

REG = Registry(builtin_types())
NOW = parse_time("2025-06-02T10:00:00Z") or 0.0
T5M = "2025-06-02T09:55:00Z"


def rt(name: str) -> ResourceType:
    return REG.resolve(name)


def meta(name: str = "x", **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "default", "creationTimestamp": T5M, **extra}


WIDE = ["Containers", "Images", "Selector"]

COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "roles": (["Name", "Created At"], []),
    "clusterroles": (["Name", "Created At"], []),
    "rolebindings": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"]),
    "clusterrolebindings": (["Name", "Role", "Age"], ["Users", "Groups", "ServiceAccounts"]),
    "jobs": (["Name", "Status", "Completions", "Duration", "Age"], WIDE),
    "cronjobs": (["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"], WIDE),
    "pdb": (["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"], []),
    "pc": (["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"], []),
    "ingresses": (["Name", "Class", "Hosts", "Address", "Ports", "Age"], []),
    "ingressclasses": (["Name", "Controller", "Parameters", "Age"], []),
    "netpol": (["Name", "Pod-Selector", "Age"], []),
    "endpointslices": (["Name", "AddressType", "Ports", "Endpoints", "Age"], []),
    "controllerrevisions": (["Name", "Controller", "Revision", "Age"], []),
    "horizontalpodautoscalers.v1.autoscaling": (["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas",
                                                 "Age"], []),
    "horizontalpodautoscalers.v2.autoscaling": (["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas",
                                                 "Age"], []),
    "csr": (["Name", "Age", "SignerName", "Requestor", "RequestedDuration", "Condition"], []),
    "runtimeclasses": (["Name", "Handler", "Age"], []),
    "vac": (["Name", "DriverName", "Age"], []),
    "mutatingwebhookconfigurations": (["Name", "Webhooks", "Age"], []),
    "validatingwebhookconfigurations": (["Name", "Webhooks", "Age"], []),
    "validatingadmissionpolicies": (["Name", "Validations", "ParamKind", "Age"], []),
    "validatingadmissionpolicybindings": (["Name", "PolicyName", "ParamRef", "Age"], []),
    "flowschemas": (["Name", "PriorityLevel", "MatchingPrecedence", "DistinguisherMethod", "Age", "MissingPL"], []),
    "prioritylevelconfigurations": (["Name", "Type", "NominalConcurrencyShares", "Queues", "HandSize",
                                     "QueueLengthLimit", "Age"], []),
    "apiservices": (["Name", "Service", "Available", "Age"], []),
    "cs": (["Name", "Status", "Message", "Error"], []),
    "podtemplates": (["Name", "Containers", "Images", "Pod Labels"], []),
    "quota": (["Name", "Age", "Request", "Limit"], []),
    "limits": (["Name", "Created At"], []),
    "rc": (["Name", "Desired", "Current", "Ready", "Age"], WIDE),
    "ipaddresses": (["Name", "ParentRef", "Age"], []),
    "servicecidrs": (["Name", "CIDRs", "Age"], []),
    "deviceclasses": (["Name", "Age"], []),
    "resourceclaims": (["Name", "State", "Age"], []),
    "resourceclaimtemplates": (["Name", "Age"], []),
    "resourceslices": (["Name", "Node", "Driver", "Pool", "Age"], []),
}


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_columns(resource: str) -> None:
    normal, wide = COLUMNS[resource]
    cols = table_columns(rt(resource))
    assert [c["name"] for c in cols if c["priority"] == 0] == normal
    assert [c["name"] for c in cols if c["priority"] == 1] == wide


def test_every_served_type_has_its_own_printer() -> None:
    """Only the types whose upstream printer is NAME/AGE (and the older ones not listed here) keep it."""
    generic = [t.kind for t in builtin_types()
               if [c["name"] for c in table_columns(t)] == ["Name", "Age"]]
    assert set(generic) <= {"Binding", "ServiceAccount", "DeviceClass", "ResourceClaimTemplate"}


JOB_TEMPLATE = {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}}

CASES: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("role", "roles", {"metadata": meta("r"), "rules": []}, ["r", T5M]),
    ("binding", "rolebindings", {"metadata": meta("rb"), "roleRef": {"kind": "Role", "name": "r"}, "subjects": [
        {"kind": "User", "name": "jane"}, {"kind": "Group", "name": "devs"}, {"kind": "Group", "name": "ops"},
        {"kind": "ServiceAccount", "name": "sa", "namespace": "ns1"}]},
     ["rb", "Role/r", "5m", "jane", "devs, ops", "ns1/sa"]),
    ("job running", "jobs", {"metadata": meta("j"), "spec": {"completions": 3, "template": JOB_TEMPLATE,
                                                             "selector": {"matchLabels": {"a": "b"}}},
                             "status": {"succeeded": 1, "startTime": "2025-06-02T09:58:00Z"}},
     ["j", "Running", "1/3", "2m", "5m", "pi", "perl:5.34", "a=b"]),
    ("job complete", "jobs", {"metadata": meta("j"), "spec": {"template": JOB_TEMPLATE},
                              "status": {"succeeded": 1, "startTime": "2025-06-02T09:56:00Z",
                                         "completionTime": "2025-06-02T09:56:07Z",
                                         "conditions": [{"type": "Complete", "status": "True"}]}},
     ["j", "Complete", "1/1", "7s", "5m", "pi", "perl:5.34", "<none>"]),
    ("job parallel suspended", "jobs", {"metadata": meta("j"), "spec": {"parallelism": 4, "template": JOB_TEMPLATE},
                                        "status": {"conditions": [{"type": "Suspended", "status": "True"}]}},
     ["j", "Suspended", "0/1 of 4", "", "5m", "pi", "perl:5.34", "<none>"]),
    ("job failed", "jobs", {"metadata": meta("j"), "spec": {},
                            "status": {"conditions": [{"type": "Failed", "status": "True"}]}},
     ["j", "Failed", "0/1", "", "5m", "", "", "<none>"]),
    ("cronjob", "cronjobs", {"metadata": meta("c"), "spec": {"schedule": "*/1 * * * *", "suspend": False,
                                                             "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}},
                             "status": {"active": [{"name": "c-1"}], "lastScheduleTime": "2025-06-02T09:59:00Z"}},
     ["c", "*/1 * * * *", "<none>", "False", 1, "60s", "5m", "pi", "perl:5.34", "<none>"]),
    ("cronjob unset", "cronjobs", {"metadata": meta("c"), "spec": {"schedule": "@daily", "timeZone": "Etc/UTC"}},
     ["c", "@daily", "Etc/UTC", "<unset>", 0, "<none>", "5m", "", "", "<none>"]),
    ("pdb", "pdb", {"metadata": meta("p"), "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 2}},
     ["p", "50%", "N/A", 2, "5m"]),
    ("pdb max", "pdb", {"metadata": meta("p"), "spec": {"maxUnavailable": 1}}, ["p", "N/A", "1", 0, "5m"]),
    ("pc", "pc", {"metadata": meta("high"), "value": 1000, "globalDefault": True,
                  "preemptionPolicy": "PreemptLowerPriority"}, ["high", 1000, True, "5m", "PreemptLowerPriority"]),
    ("ingress", "ingresses", {"metadata": meta("i"), "spec": {"ingressClassName": "nginx", "rules": [
        {"host": "a.example.com"}, {"host": "b.example.com"}, {"host": "c.example.com"}, {"host": "d.example.com"}],
        "tls": [{"hosts": ["a.example.com"]}]}, "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.5"}]}}},
     ["i", "nginx", "a.example.com,b.example.com,c.example.com + 1 more...", "10.0.0.5", "80, 443", "5m"]),
    ("ingress default", "ingresses", {"metadata": meta("i"), "spec": {"defaultBackend": {}}},
     ["i", "<none>", "*", "", "80", "5m"]),
    ("ingressclass", "ingressclasses", {"metadata": meta("nginx"), "spec": {
        "controller": "k8s.io/ingress-nginx", "parameters": {"apiGroup": "k8s.example.com", "kind": "P",
                                                             "name": "p1"}}},
     ["nginx", "k8s.io/ingress-nginx", "P.k8s.example.com/p1", "5m"]),
    ("netpol", "netpol", {"metadata": meta("n"), "spec": {"podSelector": {"matchLabels": {"app": "db"}}}},
     ["n", "app=db", "5m"]),
    ("netpol all", "netpol", {"metadata": meta("n"), "spec": {"podSelector": {}}}, ["n", "<none>", "5m"]),
    ("endpointslice", "endpointslices", {"metadata": meta("e"), "addressType": "IPv4", "ports": [
        {"port": 80}, {"name": "x"}], "endpoints": [{"addresses": [f"10.0.0.{n}"]} for n in range(5)]},
     ["e", "IPv4", "80,x", "10.0.0.0,10.0.0.1,10.0.0.2 + 2 more...", "5m"]),
    ("endpointslice empty", "endpointslices", {"metadata": meta("e"), "addressType": "IPv4"},
     ["e", "IPv4", "<unset>", "<unset>", "5m"]),
    ("controllerrevision", "controllerrevisions", {"metadata": meta("web-5d", ownerReferences=[
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u", "controller": True}]),
        "revision": 2}, ["web-5d", "statefulset.apps/web", 2, "5m"]),
    ("hpa v2", "horizontalpodautoscalers.v2.autoscaling", {"metadata": meta("h"), "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5, "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": 50}}}]},
        "status": {"currentReplicas": 2, "currentMetrics": [
            {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}]}},
     ["h", "Deployment/web", "cpu: 12%/50%", "1", 5, 2, "5m"]),
    ("hpa v1", "horizontalpodautoscalers.v1.autoscaling", {"metadata": meta("h"), "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 80}},
     ["h", "Deployment/web", "cpu: <unknown>/80%", "<unset>", 3, 0, "5m"]),
    ("csr", "csr", {"metadata": meta("c"), "spec": {"signerName": "kubernetes.io/kube-apiserver-client",
                                                   "username": "jane", "expirationSeconds": 86400},
                    "status": {"conditions": [{"type": "Approved"}], "certificate": "Zm9v"}},
     ["c", "5m", "kubernetes.io/kube-apiserver-client", "jane", "24h", "Approved,Issued"]),
    ("csr pending", "csr", {"metadata": meta("c"), "spec": {"signerName": "s", "username": "u"}},
     ["c", "5m", "s", "u", "<none>", "Pending"]),
    ("runtimeclass", "runtimeclasses", {"metadata": meta("gvisor"), "handler": "runsc"}, ["gvisor", "runsc", "5m"]),
    ("vac", "vac", {"metadata": meta("gold"), "driverName": "disk.csi"}, ["gold", "disk.csi", "5m"]),
    ("webhooks", "validatingwebhookconfigurations", {"metadata": meta("w"), "webhooks": [{}, {}]}, ["w", 2, "5m"]),
    ("vap", "validatingadmissionpolicies", {"metadata": meta("v"), "spec": {"validations": [{}], "paramKind": {
        "apiVersion": "v1", "kind": "ConfigMap"}}}, ["v", 1, "v1/ConfigMap", "5m"]),
    ("vapb", "validatingadmissionpolicybindings", {"metadata": meta("b"), "spec": {
        "policyName": "v", "paramRef": {"name": "limits"}}}, ["b", "v", "*/limits", "5m"]),
    ("flowschema", "flowschemas", {"metadata": meta("exempt"), "spec": {
        "priorityLevelConfiguration": {"name": "exempt"}, "matchingPrecedence": 1},
        "status": {"conditions": [{"type": "Dangling", "status": "False"}]}},
     ["exempt", "exempt", 1, "<none>", "5m", "False"]),
    ("plc limited", "prioritylevelconfigurations", {"metadata": meta("global-default"), "spec": {
        "type": "Limited", "limited": {"nominalConcurrencyShares": 20, "limitResponse": {
            "type": "Queue", "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50}}}}},
     ["global-default", "Limited", 20, 128, 6, 50, "5m"]),
    ("plc exempt", "prioritylevelconfigurations", {"metadata": meta("exempt"), "spec": {"type": "Exempt"}},
     ["exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "5m"]),
    ("apiservice local", "apiservices", {"metadata": meta("v1.apps"), "spec": {"group": "apps"},
                                         "status": {"conditions": [{"type": "Available", "status": "True"}]}},
     ["v1.apps", "Local", "True", "5m"]),
    ("apiservice down", "apiservices", {"metadata": meta("v1beta1.metrics.k8s.io"), "spec": {"service": {
        "namespace": "kube-system", "name": "metrics-server"}}, "status": {"conditions": [
            {"type": "Available", "status": "False", "reason": "MissingEndpoints"}]}},
     ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "False (MissingEndpoints)", "5m"]),
    ("componentstatus", "cs", {"metadata": meta("etcd-0"), "conditions": [
        {"type": "Healthy", "status": "True", "message": "ok"}]}, ["etcd-0", "Healthy", "ok", ""]),
    ("podtemplate", "podtemplates", {"metadata": meta("t"), "template": {"metadata": {"labels": {"a": "b"}},
                                                                        "spec": JOB_TEMPLATE["spec"]}},
     ["t", "pi", "perl:5.34", "a=b"]),
    ("quota", "quota", {"metadata": meta("q"), "status": {
        "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "2Gi", "limits.cpu": "4"},
        "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"}}},
     ["q", "5m", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 1/4, limits.memory: 0/2Gi"]),
    ("limitrange", "limits", {"metadata": meta("l")}, ["l", T5M]),
    ("rc", "rc", {"metadata": meta("rc"), "spec": {"replicas": 2, "selector": {"app": "x"},
                                                  "template": JOB_TEMPLATE}, "status": {"replicas": 2}},
     ["rc", 2, 2, 0, "5m", "pi", "perl:5.34", "app=x"]),
    ("ipaddress", "ipaddresses", {"metadata": meta("10.96.0.1"), "spec": {"parentRef": {
        "group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}}},
     ["10.96.0.1", "services/default/kubernetes", "5m"]),
    ("servicecidr", "servicecidrs", {"metadata": meta("kubernetes"), "spec": {"cidrs": ["10.96.0.0/12"]}},
     ["kubernetes", "10.96.0.0/12", "5m"]),
    ("claim pending", "resourceclaims", {"metadata": meta("c")}, ["c", "pending", "5m"]),
    ("claim reserved", "resourceclaims", {"metadata": meta("c"), "status": {"allocation": {}, "reservedFor": [{}]}},
     ["c", "allocated,reserved", "5m"]),
    ("slice", "resourceslices", {"metadata": meta("s"), "spec": {"nodeName": "node1", "driver": "gpu.example.com",
                                                                 "pool": {"name": "node1"}}},
     ["s", "node1", "gpu.example.com", "node1", "5m"]),
]


@pytest.mark.parametrize(("resource", "obj", "cells"), [pytest.param(r, o, c, id=i) for i, r, o, c in CASES])
def test_cells(resource: str, obj: dict[str, Any], cells: list[Any]) -> None:
    assert row_cells(rt(resource), obj, NOW) == cells
