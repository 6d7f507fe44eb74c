"""The kube-system pods that stand for the in-process components, as a kubeadm cluster shows them.

A real cluster runs its control plane as static pods on the control-plane node (the kubelet
mirrors them into the API: ``kube-apiserver-master``...), CoreDNS as a Deployment, and the CSI
driver as a controller Deployment (``csi-provisioner`` with its provisioner, attacher, resizer
and snapshotter sidecars), a ``snapshot-controller`` Deployment and a node DaemonSet
(``csi-plugin``). Here those components run inside the process; these objects make them visible
(``kubectl get pods -A``) and give ``kubectl logs`` a pod to read each component's log from. The
Deployments and DaemonSet go through our own controllers, scheduler and kubelet like any
workload; the mirror pods are bound to the control-plane node as the kubelet creates them.
``ClusterConfig.systemPods`` turns them off.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .clock import rfc3339_micro

JSON = dict[str, Any]
NS = "kube-system"
K8S_VERSION = "v1.35.0"

CONTROL_PLANE_TAINT_TOLERATION: JSON = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
CRITICAL_ADDONS_TOLERATION: JSON = {"key": "CriticalAddonsOnly", "operator": "Exists"}

# Containers whose logs are those of an in-process component (``kubectl logs`` reads them).
LOGGING_CONTAINERS = frozenset({
    "kube-apiserver", "kube-scheduler", "kube-controller-manager", "csi-provisioner", "csi-attacher",
    "csi-resizer", "csi-snapshotter", "snapshot-controller", "csi-plugin", "coredns"})

# The values of the system PriorityClasses the API server creates at start (apiserver/bootstrap.py).
PRIORITY = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


def _container(name: str, image: str, args: list[str] | None = None, **extra: Any) -> JSON:
    out: JSON = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}
    if args:
        out["args"] = args
    out.update(extra)
    return out


def mirror_pod(component: str, node: JSON, now: float, flags: list[str]) -> JSON:
    """A static pod as the kubelet mirrors it: config annotations, owned by the Node, host network."""
    node_name = node["metadata"]["name"]
    config_hash = hashlib.md5(f"{component}/{node_name}".encode()).hexdigest()  # noqa: S324 (an id, not security)
    priority_class = "system-node-critical"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": f"{component}-{node_name}", "namespace": NS,
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {"kubernetes.io/config.hash": config_hash, "kubernetes.io/config.mirror": config_hash,
                            "kubernetes.io/config.seen": rfc3339_micro(now)[:-1] + "000Z",
                            "kubernetes.io/config.source": "file"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node_name,
                                 "uid": node["metadata"].get("uid"), "controller": True}],
        },
        "spec": {
            "nodeName": node_name, "hostNetwork": True, "priorityClassName": priority_class,
            "priority": PRIORITY[priority_class], "dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            "containers": [_container(component, f"registry.k8s.io/{component}:{K8S_VERSION}",
                                      command=[component, *flags],
                                      resources={"requests": {"cpu": "100m" if component != "kube-apiserver"
                                                              else "250m"}})],
        },
    }


def control_plane_pods(node: JSON, now: float, advertise: str) -> list[JSON]:
    apiserver = mirror_pod("kube-apiserver", node, now, [
        f"--advertise-address={advertise}", "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
        "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12"])
    apiserver["metadata"]["annotations"][
        "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"] = f"{advertise}:6443"
    return [
        apiserver,
        mirror_pod("kube-controller-manager", node, now, [
            "--allocate-node-cidrs=true", "--cluster-cidr=10.244.0.0/16", "--controllers=*,bootstrapsigner,tokencleaner",
            "--leader-elect=true", "--use-service-account-credentials=true"]),
        mirror_pod("kube-scheduler", node, now, ["--bind-address=127.0.0.1", "--leader-elect=true"]),
    ]


def _deployment(name: str, labels: dict[str, str], replicas: int, pod_spec: JSON) -> JSON:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "labels": dict(labels)},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                     "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}}}


def addon_objects(disk_driver: str) -> list[tuple[str, JSON]]:
    """(resource, object): CoreDNS with its Service, the CSI controller, snapshot controller and node plugin."""
    coredns = _deployment("coredns", {"k8s-app": "kube-dns"}, 2, {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "coredns", "dnsPolicy": "Default",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [CRITICAL_ADDONS_TOLERATION, CONTROL_PLANE_TAINT_TOLERATION],
        "containers": [_container("coredns", "registry.k8s.io/coredns/coredns:v1.12.1", ["-conf", "/etc/coredns/Corefile"],
                                  ports=[{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                         {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                                         {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
                                  resources={"limits": {"memory": "170Mi"},
                                             "requests": {"cpu": "100m", "memory": "70Mi"}})]})
    coredns["metadata"]["labels"] = {"k8s-app": "kube-dns"}
    kube_dns = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "kube-dns", "namespace": NS,
                             "labels": {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                        "kubernetes.io/name": "CoreDNS"},
                             "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
                "spec": {"selector": {"k8s-app": "kube-dns"}, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                         "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                   {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                   {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]}}
    sidecar = "registry.k8s.io/sig-storage"
    provisioner = _deployment("csi-provisioner", {"app": "csi-provisioner"}, 1, {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "csi-provisioner",
        "containers": [
            _container("csi-provisioner", f"{sidecar}/csi-provisioner:v5.2.0",
                       ["--csi-address=/csi/csi.sock", "--feature-gates=Topology=true", "--leader-election=true",
                        "--extra-create-metadata=true", "--v=2"]),
            _container("csi-attacher", f"{sidecar}/csi-attacher:v4.8.1",
                       ["--csi-address=/csi/csi.sock", "--leader-election=true", "--v=2"]),
            _container("csi-resizer", f"{sidecar}/csi-resizer:v1.13.2",
                       ["--csi-address=/csi/csi.sock", "--leader-election=true", "--v=2"]),
            _container("csi-snapshotter", f"{sidecar}/csi-snapshotter:v8.2.1",
                       ["--csi-address=/csi/csi.sock", "--leader-election=true", "--v=2"]),
        ]})
    snapshot_controller = _deployment("snapshot-controller", {"app": "snapshot-controller"}, 1, {
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "snapshot-controller",
        "containers": [_container("snapshot-controller", f"{sidecar}/snapshot-controller:v8.2.1",
                                  ["--leader-election=true", "--v=2"])]})
    plugin_labels = {"app": "csi-plugin"}
    plugin = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": {"name": "csi-plugin", "namespace": NS, "labels": dict(plugin_labels)},
              "spec": {"selector": {"matchLabels": dict(plugin_labels)},
                       "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "20%"}},
                       "template": {"metadata": {"labels": dict(plugin_labels)}, "spec": {
                           "priorityClassName": "system-node-critical",
                           "hostNetwork": True, "serviceAccountName": "csi-plugin",
                           "tolerations": [{"operator": "Exists"}],
                           "containers": [
                               _container("csi-plugin", "registry.cn-hangzhou.aliyuncs.com/acs/csi-plugin:v1.33.1",
                                          [f"--driver={disk_driver}", "--endpoint=unix://csi/csi.sock", "--v=2"]),
                               _container("disk-driver-registrar",
                                          f"{sidecar}/csi-node-driver-registrar:v2.13.0",
                                          ["--csi-address=/csi/csi.sock", "--v=2"]),
                           ]}}}}
    service_accounts = [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n, "namespace": NS}}
                        for n in ("coredns", "csi-provisioner", "snapshot-controller", "csi-plugin")]
    return [*(("serviceaccounts", sa) for sa in service_accounts), ("services", kube_dns),
            ("deployments.apps", coredns), ("deployments.apps", provisioner),
            ("deployments.apps", snapshot_controller), ("daemonsets.apps", plugin)]


def startup_lines() -> dict[str, list[str]]:
    """What each component prints when it starts (its version and what it serves)."""
    return {
        "kube-apiserver": [f'"Version info" version="{K8S_VERSION}"', "Serving the Kubernetes API in process"],
        "kube-controller-manager": [f'"Starting" version="{K8S_VERSION}"',
                                    '"Started controllers" controllers="namespace,serviceaccount,garbagecollector,'
                                    'persistentvolume-binder,pvc-protection,pv-protection,attachdetach,'
                                    'replicaset,deployment,statefulset,daemonset,endpointslice,endpoints,'
                                    'disruption,nodelifecycle"'],
        "kube-scheduler": [f'"Starting Kubernetes Scheduler" version="{K8S_VERSION}"'],
        "csi-provisioner": ["Version: v5.2.0", '"Started provisioner controller"'],
        "csi-attacher": ["Version: v4.8.1", '"Starting CSI attacher"'],
        "csi-resizer": ["Version: v1.13.2", '"Starting external resizer"'],
        "csi-snapshotter": ["Version: v8.2.1", '"Starting CSI snapshotter"'],
        "snapshot-controller": ["Version: v8.2.1", '"Starting snapshot controller"'],
        "csi-plugin": ['"CSI driver started" version="v1.33.1"'],
        "coredns": ["[INFO] plugin/reload: Running configuration SHA512 = 1b226df79860bfc0",
                    "CoreDNS-1.12.1", "linux/amd64, go1.24.1, 707c7c1"],
    }
