"""Server-side ``meta.k8s.io/v1`` Tables: what ``kubectl get`` prints.

kubectl asks for ``as=Table`` and prints the cells it is sent, so the columns and every cell
rule of the upstream printers (``pkg/printers/internalversion/printers.go``) and of the CRD
table convertor live here. The server always fills the wide (priority 1) cells; kubectl hides
them unless ``-o wide``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from minikube_lite.apiserver.registry import ResourceType

from . import cluster_types as ct
from . import core, storage_apps
from . import workloads_net as wn
from .common import JSON, Cell, age_col, age_of, name_col, name_of
from .custom import custom_columns, custom_row, jsonpath_matches

__all__ = ["build_table", "table_columns", "row_cells", "jsonpath_matches", "TABLE_API_VERSION"]

TABLE_API_VERSION = "meta.k8s.io/v1"
INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

RowFn = Callable[[JSON, float], list[Cell]]
ConditionsFn = Callable[[JSON], list[JSON] | None]

# (group, kind) -> (columns, row function)
_PRINTERS: dict[tuple[str, str], tuple[list[JSON], RowFn]] = {
    ("", "Pod"): (core.POD_COLUMNS, core.pod_row),
    ("", "Node"): (core.NODE_COLUMNS, core.node_row),
    ("", "PersistentVolume"): (core.PV_COLUMNS, core.pv_row),
    ("", "PersistentVolumeClaim"): (core.PVC_COLUMNS, core.pvc_row),
    ("", "Event"): (core.EVENT_COLUMNS, core.event_row),
    ("events.k8s.io", "Event"): (core.EVENT_COLUMNS, core.event_row),
    ("", "Namespace"): (core.NAMESPACE_COLUMNS, core.namespace_row),
    ("", "ConfigMap"): (core.CONFIGMAP_COLUMNS, core.configmap_row),
    ("", "Secret"): (core.SECRET_COLUMNS, core.secret_row),
    ("", "Service"): (core.SERVICE_COLUMNS, core.service_row),
    ("", "ServiceAccount"): (core.NAME_AGE_COLUMNS, core.name_age_row),
    ("", "Endpoints"): (core.ENDPOINTS_COLUMNS, core.endpoints_row),
    ("storage.k8s.io", "StorageClass"): (storage_apps.STORAGECLASS_COLUMNS, storage_apps.storageclass_row),
    ("storage.k8s.io", "CSIDriver"): (storage_apps.CSIDRIVER_COLUMNS, storage_apps.csidriver_row),
    ("storage.k8s.io", "CSINode"): (storage_apps.CSINODE_COLUMNS, storage_apps.csinode_row),
    ("storage.k8s.io", "VolumeAttachment"): (storage_apps.VOLUMEATTACHMENT_COLUMNS,
                                             storage_apps.volumeattachment_row),
    ("storage.k8s.io", "CSIStorageCapacity"): (storage_apps.CSISTORAGECAPACITY_COLUMNS,
                                               storage_apps.csistoragecapacity_row),
    ("apps", "Deployment"): (storage_apps.DEPLOYMENT_COLUMNS, storage_apps.deployment_row),
    ("apps", "ReplicaSet"): (storage_apps.REPLICASET_COLUMNS, storage_apps.replicaset_row),
    ("apps", "StatefulSet"): (storage_apps.STATEFULSET_COLUMNS, storage_apps.statefulset_row),
    ("apps", "DaemonSet"): (storage_apps.DAEMONSET_COLUMNS, storage_apps.daemonset_row),
    ("coordination.k8s.io", "Lease"): (storage_apps.LEASE_COLUMNS, storage_apps.lease_row),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): (storage_apps.CRD_COLUMNS, storage_apps.crd_row),
    ("", "PodTemplate"): (wn.PODTEMPLATE_COLUMNS, wn.podtemplate_row),
    ("", "ResourceQuota"): (wn.RESOURCEQUOTA_COLUMNS, wn.resourcequota_row),
    ("", "LimitRange"): (wn.LIMITRANGE_COLUMNS, wn.limitrange_row),
    ("", "ReplicationController"): (wn.RC_COLUMNS, wn.rc_row),
    ("", "ComponentStatus"): (ct.COMPONENTSTATUS_COLUMNS, ct.componentstatus_row),
    ("batch", "Job"): (wn.JOB_COLUMNS, wn.job_row),
    ("batch", "CronJob"): (wn.CRONJOB_COLUMNS, wn.cronjob_row),
    ("policy", "PodDisruptionBudget"): (wn.PDB_COLUMNS, wn.pdb_row),
    ("scheduling.k8s.io", "PriorityClass"): (wn.PRIORITYCLASS_COLUMNS, wn.priorityclass_row),
    ("node.k8s.io", "RuntimeClass"): (wn.RUNTIMECLASS_COLUMNS, wn.runtimeclass_row),
    ("storage.k8s.io", "VolumeAttributesClass"): (wn.VAC_COLUMNS, wn.vac_row),
    ("apps", "ControllerRevision"): (wn.CONTROLLERREVISION_COLUMNS, wn.controllerrevision_row),
    ("networking.k8s.io", "Ingress"): (wn.INGRESS_COLUMNS, wn.ingress_row),
    ("networking.k8s.io", "IngressClass"): (wn.INGRESSCLASS_COLUMNS, wn.ingressclass_row),
    ("networking.k8s.io", "NetworkPolicy"): (wn.NETWORKPOLICY_COLUMNS, wn.networkpolicy_row),
    ("networking.k8s.io", "IPAddress"): (ct.IPADDRESS_COLUMNS, ct.ipaddress_row),
    ("networking.k8s.io", "ServiceCIDR"): (ct.SERVICECIDR_COLUMNS, ct.servicecidr_row),
    ("discovery.k8s.io", "EndpointSlice"): (wn.ENDPOINTSLICE_COLUMNS, wn.endpointslice_row),
    ("autoscaling", "HorizontalPodAutoscaler"): (wn.HPA_COLUMNS, wn.hpa_row),
    ("certificates.k8s.io", "CertificateSigningRequest"): (wn.CSR_COLUMNS, wn.csr_row),
    ("rbac.authorization.k8s.io", "Role"): (ct.ROLE_COLUMNS, ct.role_row),
    ("rbac.authorization.k8s.io", "ClusterRole"): (ct.ROLE_COLUMNS, ct.role_row),
    ("rbac.authorization.k8s.io", "RoleBinding"): (ct.ROLEBINDING_COLUMNS, ct.rolebinding_row),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): (ct.ROLEBINDING_COLUMNS, ct.rolebinding_row),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): (ct.WEBHOOK_COLUMNS,
                                                                       ct.webhook_configuration_row),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): (ct.WEBHOOK_COLUMNS,
                                                                         ct.webhook_configuration_row),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"): (ct.VAP_COLUMNS, ct.vap_row),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"): (ct.VAPB_COLUMNS, ct.vapb_row),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): (ct.FLOWSCHEMA_COLUMNS, ct.flowschema_row),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): (ct.PLC_COLUMNS, ct.plc_row),
    ("apiregistration.k8s.io", "APIService"): (ct.APISERVICE_COLUMNS, ct.apiservice_row),
    ("resource.k8s.io", "DeviceClass"): (core.NAME_AGE_COLUMNS, core.name_age_row),
    ("resource.k8s.io", "ResourceClaim"): (ct.RESOURCECLAIM_COLUMNS, ct.resourceclaim_row),
    ("resource.k8s.io", "ResourceClaimTemplate"): (core.NAME_AGE_COLUMNS, core.name_age_row),
    ("resource.k8s.io", "ResourceSlice"): (ct.RESOURCESLICE_COLUMNS, ct.resourceslice_row),
}

_CONDITIONS: dict[tuple[str, str], ConditionsFn] = {("", "Pod"): core.pod_conditions}

_FALLBACK_COLUMNS = [name_col(), age_col()]


def _fallback_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), age_of(obj, now)]


def table_columns(rt: ResourceType) -> list[JSON]:
    """The ``columnDefinitions`` for a type (copies; callers may change them)."""
    if rt.custom:
        return custom_columns(rt.crd_version)
    columns, _ = _PRINTERS.get((rt.group, rt.kind), (_FALLBACK_COLUMNS, _fallback_row))
    return copy.deepcopy(columns)


def row_cells(rt: ResourceType, obj: JSON, now: float) -> list[Cell]:
    """One row's cells; a malformed object still yields a row (blank cells), never an exception."""
    if rt.custom:
        return custom_row(rt.crd_version, obj, now)
    _, row_fn = _PRINTERS.get((rt.group, rt.kind), (_FALLBACK_COLUMNS, _fallback_row))
    try:
        return row_fn(obj, now)
    except (TypeError, ValueError, AttributeError, KeyError):  # defensive: stored objects are validated
        width = len(table_columns(rt))
        return [name_of(obj)] + [None] * (width - 1)


def _row_object(obj: JSON, include_object: str) -> Any:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": TABLE_API_VERSION,
        "metadata": obj.get("metadata") or {},
    }


def build_table(rt: ResourceType, objects: list[JSON], *, now: float, include_object: str = "Metadata",
                resource_version: str = "", continue_token: str = "", with_headers: bool = True,
                remaining_item_count: int | None = None) -> JSON:
    """A ``meta.k8s.io/v1`` Table for ``objects`` (one GET or a LIST page) as of ``now``.

    ``include_object`` is the request's ``includeObject`` (``None``, ``Metadata``, ``Object``;
    empty means ``Metadata``). ``with_headers=False`` leaves out the column definitions, as for
    watch events after the first.
    """
    mode = include_object or "Metadata"
    conditions_fn = None if rt.custom else _CONDITIONS.get((rt.group, rt.kind))
    rows: list[JSON] = []
    for obj in objects:
        row: JSON = {"cells": row_cells(rt, obj, now)}
        if conditions_fn is not None:
            conds = conditions_fn(obj)
            if conds:
                row["conditions"] = conds
        row["object"] = _row_object(obj, mode)
        rows.append(row)
    meta: JSON = {}
    if resource_version:
        meta["resourceVersion"] = resource_version
    if continue_token:
        meta["continue"] = continue_token
    if remaining_item_count is not None:
        meta["remainingItemCount"] = remaining_item_count
    return {
        "kind": "Table",
        "apiVersion": TABLE_API_VERSION,
        "metadata": meta,
        "columnDefinitions": table_columns(rt) if with_headers else [],
        "rows": rows,
    }
