"""Built-in validation of writes: the causes of a 422 Invalid, with upstream paths and messages.

``validate_create(rt, obj)`` and ``validate_update(rt, obj, old)`` run after defaulting and
admission (the engine calls them through ``validate_hook``). Each type maps to its upstream
name rule (DNS-1123 subdomain for most, DNS-1123 label for namespaces, DNS-1035 label for
services) and its ``Validate<Kind>`` / ``Validate<Kind>Update`` functions. Custom resources are
validated against their CRD schema elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minikube_lite.apiserver.errors import FieldError, required
from minikube_lite.apiserver.registry import ResourceType

from . import batch, core, networking, pods, storage_apps, volumes
from . import cluster_types as ct
from .common import as_dict, as_str, validate_object_meta, validate_object_meta_update
from .names import NameFn, name_is_dns1035_label, name_is_dns_label, name_is_dns_subdomain, path_segment_name

__all__ = ["validate_create", "validate_update"]

JSON = dict[str, Any]
CreateFn = Callable[[JSON], list[FieldError]]
UpdateFn = Callable[[JSON, JSON], list[FieldError]]


def _workload(kind: str) -> tuple[CreateFn, UpdateFn]:
    return (lambda o: storage_apps.validate_workload(o, kind),
            lambda o, old: storage_apps.validate_workload_update(o, old, kind))


def _none(_obj: JSON) -> list[FieldError]:
    return []


# (group, kind) -> (name rule, create checks, update checks beyond the create checks)
_RULES: dict[tuple[str, str], tuple[NameFn, CreateFn, UpdateFn | None]] = {
    ("", "Namespace"): (name_is_dns_label, core.validate_namespace, None),
    ("", "Node"): (name_is_dns_subdomain, core.validate_node, core.validate_node_update),
    ("", "Pod"): (name_is_dns_subdomain, pods.validate_pod, pods.validate_pod_update),
    ("", "PersistentVolume"): (name_is_dns_subdomain, volumes.validate_pv, volumes.validate_pv_update),
    ("", "PersistentVolumeClaim"): (name_is_dns_subdomain, volumes.validate_pvc, volumes.validate_pvc_update),
    ("", "ConfigMap"): (name_is_dns_subdomain, core.validate_configmap, core.validate_configmap_update),
    ("", "Secret"): (name_is_dns_subdomain, core.validate_secret, core.validate_secret_update),
    ("", "Service"): (name_is_dns1035_label, core.validate_service, core.validate_service_update),
    ("", "ServiceAccount"): (name_is_dns_subdomain, _none, None),
    ("", "Endpoints"): (name_is_dns_subdomain, _none, None),
    ("storage.k8s.io", "StorageClass"): (name_is_dns_subdomain, storage_apps.validate_storageclass,
                                         storage_apps.validate_storageclass_update),
    ("storage.k8s.io", "CSIDriver"): (name_is_dns_subdomain, storage_apps.validate_csidriver,
                                      storage_apps.validate_csidriver_update),
    ("storage.k8s.io", "CSINode"): (name_is_dns_subdomain, storage_apps.validate_csinode, None),
    ("storage.k8s.io", "VolumeAttachment"): (name_is_dns_subdomain, storage_apps.validate_volumeattachment,
                                             storage_apps.validate_volumeattachment_update),
    ("storage.k8s.io", "CSIStorageCapacity"): (name_is_dns_subdomain, storage_apps.validate_csistoragecapacity,
                                               storage_apps.validate_csistoragecapacity_update),
    ("coordination.k8s.io", "Lease"): (name_is_dns_subdomain, storage_apps.validate_lease, None),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (name_is_dns_subdomain, storage_apps.validate_crd_name,
                                                           None),
    ("batch", "Job"): (name_is_dns_subdomain, batch.validate_job, batch.validate_job_update),
    ("batch", "CronJob"): (name_is_dns_subdomain, batch.validate_cronjob, batch.validate_cronjob_update),
    ("events.k8s.io", "Event"): (name_is_dns_subdomain, lambda o: core.validate_event(o, "events.k8s.io"), None),
}
_RBAC = "rbac.authorization.k8s.io"
_RULES.update({
    (_RBAC, "Role"): (path_segment_name, ct.validate_role, None),
    (_RBAC, "ClusterRole"): (path_segment_name, ct.validate_cluster_role, None),
    (_RBAC, "RoleBinding"): (path_segment_name, ct.validate_role_binding, ct.validate_role_binding_update),
    (_RBAC, "ClusterRoleBinding"): (path_segment_name, ct.validate_cluster_role_binding,
                                    ct.validate_cluster_role_binding_update),
    ("scheduling.k8s.io", "PriorityClass"): (name_is_dns_subdomain, ct.validate_priority_class,
                                             ct.validate_priority_class_update),
    ("policy", "PodDisruptionBudget"): (name_is_dns_subdomain, ct.validate_pdb, None),
    ("networking.k8s.io", "Ingress"): (name_is_dns_subdomain, networking.validate_ingress, None),
    ("networking.k8s.io", "IngressClass"): (name_is_dns_subdomain, networking.validate_ingress_class,
                                            networking.validate_ingress_class_update),
    ("networking.k8s.io", "NetworkPolicy"): (name_is_dns_subdomain, networking.validate_network_policy, None),
    ("node.k8s.io", "RuntimeClass"): (name_is_dns_subdomain, ct.validate_runtime_class,
                                      ct.validate_runtime_class_update),
    ("storage.k8s.io", "VolumeAttributesClass"): (name_is_dns_subdomain, ct.validate_volume_attributes_class,
                                                  ct.validate_volume_attributes_class_update),
    ("autoscaling", "HorizontalPodAutoscaler"): (name_is_dns_subdomain, ct.validate_hpa, None),
    ("apiregistration.k8s.io", "APIService"): (path_segment_name, ct.validate_api_service, None),
    ("certificates.k8s.io", "CertificateSigningRequest"): (name_is_dns_subdomain, ct.validate_csr,
                                                           ct.validate_csr_update),
})
for _kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"):
    _create, _update = _workload(_kind)
    _RULES[("apps", _kind)] = (name_is_dns_subdomain, _create, _update)


def _core_event_meta(obj: JSON) -> list[FieldError]:
    """core/v1 events skip ObjectMeta validation (backwards compatibility) but need a name."""
    if not as_str(as_dict(obj.get("metadata")).get("name")):
        return [required("metadata.name", "name or generateName is required")]
    return []


def validate_create(rt: ResourceType, obj: JSON) -> list[FieldError]:
    """Errors for creating ``obj`` (defaulted, name generated); empty when valid."""
    if not isinstance(obj, dict):
        return []
    if (rt.group, rt.kind) == ("", "Event"):
        return _core_event_meta(obj) + core.validate_event(obj, "")
    name_fn, create, _ = _RULES.get((rt.group, rt.kind), (name_is_dns_subdomain, _none, None))
    return validate_object_meta(obj, rt.namespaced, name_fn) + create(obj)


def validate_update(rt: ResourceType, obj: JSON, old: JSON) -> list[FieldError]:
    """Errors for replacing ``old`` with ``obj``: identity immutability, the create rules, then
    the type's update rules (immutable fields, bound-claim resize, pod spec...)."""
    if not isinstance(obj, dict) or not isinstance(old, dict):
        return []
    if (rt.group, rt.kind) == ("", "Event"):
        return core.validate_event(obj, "")
    _, create, update = _RULES.get((rt.group, rt.kind), (name_is_dns_subdomain, _none, None))
    errs = validate_object_meta_update(obj, old)
    if update is not None:
        errs.extend(update(obj, old))
    else:
        errs.extend(create(obj))
    return errs
