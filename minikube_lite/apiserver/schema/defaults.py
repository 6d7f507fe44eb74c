"""Defaulting of the fields clients read, as the upstream ``SetDefaults_*`` functions do.

Only what users and controllers look at: pod phase and the pod-spec fields kubectl shows,
PVC/PV phases and modes, StorageClass policies, namespace phase, and a few more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .batch_defaults import cronjob_defaults, job_defaults
from .cluster_defaults import CLUSTER_DEFAULTERS
from .pod_defaults import pod_spec_defaults

JSON = dict[str, Any]


def _pod(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        pod_spec_defaults(spec)
        tolerations = spec.setdefault("tolerations", [])
        if isinstance(tolerations, list):
            # DefaultTolerationSeconds admission plugin.
            keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
            for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
                if taint not in keys:
                    tolerations.append({"key": taint, "operator": "Exists", "effect": "NoExecute",
                                        "tolerationSeconds": 300})
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos_class(spec if isinstance(spec, dict) else {}))


def _qos_class(spec: JSON) -> str:
    containers = [c for c in (spec.get("containers") or []) if isinstance(c, dict)]
    requests_any = False
    guaranteed = bool(containers)
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and req[r] != lim[r]):
                guaranteed = False
    if guaranteed and requests_any:
        return "Guaranteed"
    return "Burstable" if requests_any else "BestEffort"


def _normalize_data_sources(spec: JSON) -> None:
    """Keep dataSource and dataSourceRef in step, as the PVC strategy's NormalizeDataSources does."""
    source, ref = spec.get("dataSource"), spec.get("dataSourceRef")
    if isinstance(source, dict) and not ref:
        spec["dataSourceRef"] = dict(source)
    elif isinstance(ref, dict) and not source and not ref.get("namespace"):
        spec["dataSource"] = {k: ref[k] for k in ("apiGroup", "kind", "name") if k in ref}


def _pvc(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("volumeMode", "Filesystem")
        _normalize_data_sources(spec)
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def _pv(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")


def _storage_class(obj: JSON) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def _namespace(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Active")
    labels = obj["metadata"].setdefault("labels", {})
    if isinstance(labels, dict):
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")


def _secret(obj: JSON) -> None:
    obj.setdefault("type", "Opaque")


def _service(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))


def _workload(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if obj.get("kind") != "DaemonSet":
        spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if obj.get("kind") == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        # SetDefaults_Deployment fills the strategy field by field (protobuf bodies carry strategy: {}).
        strategy = spec.get("strategy")
        if not isinstance(strategy, dict):
            strategy = spec["strategy"] = {}
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.get("rollingUpdate")
            if not isinstance(rolling, dict):
                rolling = strategy["rollingUpdate"] = {}
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
    if obj.get("kind") in ("StatefulSet", "DaemonSet"):
        _update_strategy_defaults(spec, obj["kind"])
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        pod_spec_defaults(template["spec"])


def _update_strategy_defaults(spec: JSON, kind: str) -> None:
    """SetDefaults_StatefulSet / SetDefaults_DaemonSet: kubectl rollout status needs the strategy type."""
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            rolling = strategy["rollingUpdate"] = {}
        if kind == "StatefulSet":
            rolling.setdefault("partition", 0)
        else:
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
    if kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        policy = spec.get("persistentVolumeClaimRetentionPolicy")
        if not isinstance(policy, dict):
            policy = spec["persistentVolumeClaimRetentionPolicy"] = {}
        policy.setdefault("whenDeleted", "Retain")
        policy.setdefault("whenScaled", "Retain")


def _csidriver(obj: JSON) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("attachRequired", True)
        spec.setdefault("podInfoOnMount", False)
        spec.setdefault("storageCapacity", False)
        spec.setdefault("requiresRepublish", False)
        spec.setdefault("seLinuxMount", False)
        spec.setdefault("fsGroupPolicy", "ReadWriteOnceWithFSType")
        spec.setdefault("volumeLifecycleModes", ["Persistent"])


def _event(obj: JSON) -> None:
    if obj.get("apiVersion") == "v1":
        obj.setdefault("count", 1)


DEFAULTERS: dict[tuple[str, str], Callable[[JSON], None]] = {
    ("", "Pod"): _pod,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "PersistentVolume"): _pv,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "Service"): _service,
    ("", "Event"): _event,
    ("storage.k8s.io", "StorageClass"): _storage_class,
    ("storage.k8s.io", "CSIDriver"): _csidriver,
    ("apps", "Deployment"): _workload,
    ("apps", "ReplicaSet"): _workload,
    ("apps", "StatefulSet"): _workload,
    ("apps", "DaemonSet"): _workload,
    ("batch", "Job"): job_defaults,
    ("batch", "CronJob"): cronjob_defaults,
    **CLUSTER_DEFAULTERS,
}


def apply_defaults(group: str, kind: str, obj: JSON) -> None:
    fn = DEFAULTERS.get((group, kind))
    if fn is not None:
        fn(obj)
