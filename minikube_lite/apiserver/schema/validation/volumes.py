"""core/v1 PersistentVolumeClaim and PersistentVolume validation (``ValidatePersistentVolumeClaim*``,
``ValidatePersistentVolume*``): access modes, storage request, volume mode, data sources and the
bound-claim update rules; capacity, exactly one source, reclaim policy, node affinity and source
immutability."""

from __future__ import annotations

import json
from typing import Any

from minikube_lite.apiserver.errors import FieldError, forbidden_field, invalid_value, not_supported, required

from .common import (
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    get,
    key,
    quantity,
    spec_diff,
    validate_dns_subdomain,
    validate_immutable,
    validate_positive_quantity,
)
from .names import (
    is_dns1123_subdomain,
    name_is_dns_label,
)
from .selectors import validate_label_selector, validate_node_selector

JSON = dict[str, Any]

SUPPORTED_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
SUPPORTED_VOLUME_MODES = ["Block", "Filesystem"]
SUPPORTED_PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
RWOP_WITH_OTHERS = "may not use ReadWriteOncePod with other access modes"
ACCESS_MODE_REQUIRED = "at least 1 access mode is required"
PVC_SPEC_IMMUTABLE = ("spec is immutable after creation except resources.requests and volumeAttributesClassName "
                      "for bound claims")
PVC_SHRINK_BELOW_STATUS = "field can not be less than status.capacity"
PV_SOURCE_IMMUTABLE = "spec.persistentvolumesource is immutable after creation"
PV_NEEDS_TYPE = "must specify a volume type"
PV_ONE_TYPE = "may not specify more than 1 volume type"
LOCAL_NEEDS_AFFINITY = "Local volume requires node affinity"
DATASOURCE_DEFAULT_GROUP = "must be 'PersistentVolumeClaim' when referencing the default apiGroup"
# PersistentVolumeSource members, in the order ValidatePersistentVolumeSpec checks them.
PV_SOURCES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
    "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
)


def _validate_access_modes(modes: Any, path: str, required_detail: str) -> Errors:
    errs: Errors = []
    items = as_list(modes)
    if not items:
        errs.append(required(path, required_detail))
    rwop = other = False
    for mode in items:
        if mode not in SUPPORTED_ACCESS_MODES:
            errs.append(not_supported(path, as_str(mode), SUPPORTED_ACCESS_MODES))
        elif mode == "ReadWriteOncePod":
            rwop = True
        else:
            other = True
    if rwop and other:
        errs.append(forbidden_field(path, RWOP_WITH_OTHERS))
    return errs


def _validate_class_name(value: Any, path: str) -> Errors:
    name = as_str(value)
    return validate_dns_subdomain(name, path) if name else []


# --- PersistentVolumeClaim -------------------------------------------------------------------

def _validate_data_source(ds: JSON, path: str, is_ref: bool) -> Errors:
    errs: Errors = []
    if not as_str(ds.get("name")):
        errs.append(required(child(path, "name")))
    kind = as_str(ds.get("kind"))
    if not kind:
        errs.append(required(child(path, "kind")))
    group = as_str(ds.get("apiGroup"))
    if not group and kind != "PersistentVolumeClaim":
        errs.append(invalid_value(path, kind, DATASOURCE_DEFAULT_GROUP))
    if group:
        errs.extend(validate_dns_subdomain(group, child(path, "apiGroup")))
    if is_ref:
        ns = as_str(ds.get("namespace"))
        if ns:
            errs.extend(invalid_value(child(path, "namespace"), ns, m) for m in name_is_dns_label(ns, False))
    return errs


def validate_pvc_spec(spec: JSON, path: str = "spec") -> Errors:
    errs = _validate_access_modes(spec.get("accessModes"), child(path, "accessModes"), ACCESS_MODE_REQUIRED)
    if isinstance(spec.get("selector"), dict):
        errs.extend(validate_label_selector(spec["selector"], child(path, "selector")))
    requests = as_dict(get(spec, "resources", "requests"))
    storage_path = key(child(path, "resources"), "storage")
    if "storage" not in requests:
        errs.append(required(storage_path))
    else:
        errs.extend(validate_positive_quantity(requests["storage"], storage_path))
    errs.extend(_validate_class_name(spec.get("storageClassName"), child(path, "storageClassName")))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in SUPPORTED_VOLUME_MODES:
        errs.append(not_supported(child(path, "volumeMode"), as_str(mode), SUPPORTED_VOLUME_MODES))
    ds, ref = spec.get("dataSource"), spec.get("dataSourceRef")
    if isinstance(ds, dict):
        errs.extend(_validate_data_source(ds, child(path, "dataSource"), False))
    if isinstance(ref, dict):
        errs.extend(_validate_data_source(ref, child(path, "dataSourceRef"), True))
    if isinstance(ref, dict) and as_str(ref.get("namespace")):
        if isinstance(ds, dict):
            errs.append(invalid_value(path, GoValue(child(path, "dataSource")),
                                      "may not be specified when dataSourceRef.namespace is specified"))
    elif isinstance(ds, dict) and isinstance(ref, dict):
        fields = ("apiGroup", "kind", "name")
        if any(as_str(ds.get(f)) != as_str(ref.get(f)) for f in fields):
            errs.append(invalid_value(path, GoValue(child(path, "dataSource")), "must match dataSourceRef"))
    errs.extend(_validate_class_name(spec.get("volumeAttributesClassName"), child(path, "volumeAttributesClassName")))
    return errs


def validate_pvc(obj: JSON) -> Errors:
    return validate_pvc_spec(as_dict(obj.get("spec")))


def _normalized_resources(resources: Any) -> Any:
    """Quantities compared by value (``1Gi`` equals ``1024Mi``), as Semantic.DeepEqual does."""
    out: JSON = {}
    for section, values in as_dict(resources).items():
        if isinstance(values, dict):
            out[section] = {k: (q[0] if (q := quantity(v)) else v) for k, v in values.items()}
        else:
            out[section] = values
    return out


def validate_pvc_update(obj: JSON, old: JSON) -> Errors:
    """``ValidatePersistentVolumeClaimUpdate`` (1.35: RecoverVolumeExpansionFailure and VAC on)."""
    errs = validate_pvc(obj)
    new_spec = dict(as_dict(obj.get("spec")))
    old_spec = dict(as_dict(old.get("spec")))
    if not as_str(old_spec.get("volumeName")):
        # volumeName may be set once (the binder does it).
        old_spec.pop("volumeName", None)
        new_spec.pop("volumeName", None)
    if old_spec.get("storageClassName") is None and \
            "volume.beta.kubernetes.io/storage-class" not in as_dict(get(old, "metadata", "annotations")):
        # Retroactive default StorageClass: a class may be set once on a claim that had none.
        old_spec.pop("storageClassName", None)
        new_spec.pop("storageClassName", None)
    bound = get(obj, "status", "phase") == "Bound"
    new_res = _normalized_resources(new_spec.get("resources"))
    old_res = _normalized_resources(old_spec.get("resources"))
    if bound and isinstance(new_res.get("requests"), dict):
        new_res["requests"] = dict(new_res["requests"])
        if "storage" in as_dict(old_res.get("requests")):
            new_res["requests"]["storage"] = old_res["requests"]["storage"]
        else:
            new_res["requests"].pop("storage", None)
    if bound and "volumeAttributesClassName" in new_spec:
        new_spec["volumeAttributesClassName"] = old_spec.get("volumeAttributesClassName")
        if new_spec["volumeAttributesClassName"] is None:
            new_spec.pop("volumeAttributesClassName")
    new_spec["resources"], old_spec["resources"] = new_res, old_res
    if new_spec != old_spec:
        shown_new = {k: v for k, v in as_dict(obj.get("spec")).items() if k != "volumeName" or k in old_spec}
        shown_old = {k: v for k, v in as_dict(old.get("spec")).items() if k != "volumeName" or k in old_spec}
        errs.append(forbidden_field("spec", PVC_SPEC_IMMUTABLE + "\n" +
                                    spec_diff("core.PersistentVolumeClaimSpec", shown_old, shown_new)))
    new_size = quantity(get(obj, "spec", "resources", "requests", "storage"))
    old_size = quantity(get(old, "spec", "resources", "requests", "storage"))
    status_size = quantity(get(old, "status", "capacity", "storage"))
    if new_size and old_size and new_size[0] < old_size[0]:
        status_value = status_size[0] if status_size else 0
        if new_size[0] <= status_value:
            errs.append(forbidden_field("spec.resources.requests.storage", PVC_SHRINK_BELOW_STATUS))
    return errs


# --- PersistentVolume ------------------------------------------------------------------------

def validate_pv(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = _validate_access_modes(spec.get("accessModes"), "spec.accessModes", "")
    capacity = spec.get("capacity")
    if not as_dict(capacity):
        errs.append(required("spec.capacity"))
    elif "storage" not in capacity or len(capacity) > 1:  # type: ignore[operator, arg-type]
        rendered = ", ".join(f'"{k}":"{v}"' for k, v in sorted(as_dict(capacity).items()))
        errs.append(not_supported("spec.capacity", GoValue("core.ResourceList{" + rendered + "}"), ["storage"]))
    for res, qty in sorted(as_dict(capacity).items()):
        errs.extend(validate_positive_quantity(qty, key("spec.capacity", res)))
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in SUPPORTED_PV_RECLAIM_POLICIES:
        errs.append(not_supported("spec.persistentVolumeReclaimPolicy", as_str(policy), SUPPORTED_PV_RECLAIM_POLICIES))
    errs.extend(_validate_class_name(spec.get("storageClassName"), "spec.storageClassName"))
    mode = spec.get("volumeMode")
    if mode is not None and mode not in SUPPORTED_VOLUME_MODES:
        errs.append(not_supported("spec.volumeMode", as_str(mode), SUPPORTED_VOLUME_MODES))
    affinity = spec.get("nodeAffinity")
    has_affinity = False
    if isinstance(affinity, dict):
        if isinstance(affinity.get("required"), dict):
            has_affinity = True
            errs.extend(validate_node_selector(affinity["required"], "spec.nodeAffinity.required"))
        else:
            errs.append(required("spec.nodeAffinity.required", "must specify required node constraints"))
    present = [s for s in PV_SOURCES if spec.get(s) is not None]
    if not present:
        errs.append(required("spec", PV_NEEDS_TYPE))
    for extra in present[1:]:
        errs.append(forbidden_field(f"spec.{extra}", PV_ONE_TYPE))
    errs.extend(_validate_pv_source(spec, has_affinity))
    return errs


def _validate_pv_source(spec: JSON, has_affinity: bool) -> Errors:
    errs: Errors = []
    csi = spec.get("csi")
    if isinstance(csi, dict):
        driver = as_str(csi.get("driver"))
        if not driver:
            errs.append(required("spec.csi.driver"))
        else:
            errs.extend(validate_csi_driver_name(driver, "spec.csi.driver"))
        if not as_str(csi.get("volumeHandle")):
            errs.append(required("spec.csi.volumeHandle"))
    local = spec.get("local")
    if isinstance(local, dict):
        if not as_str(local.get("path")):
            errs.append(required("spec.local.path"))
        if not has_affinity:
            errs.append(required("spec.nodeAffinity", LOCAL_NEEDS_AFFINITY))
    host = spec.get("hostPath")
    if isinstance(host, dict) and not as_str(host.get("path")):
        errs.append(required("spec.hostPath.path"))
    nfs = spec.get("nfs")
    if isinstance(nfs, dict):
        if not as_str(nfs.get("server")):
            errs.append(required("spec.nfs.server"))
        if not as_str(nfs.get("path")):
            errs.append(required("spec.nfs.path"))
    return errs


def validate_csi_driver_name(name: str, path: str) -> Errors:
    """``ValidateCSIDriverName``."""
    errs: Errors = []
    if not name:
        return [required(path)]
    if len(name) > 63:
        errs.append(FieldError("FieldValueTooLong", path, "may not be more than 63 bytes"))
    errs.extend(invalid_value(path, name, m) for m in is_dns1123_subdomain(name.lower()))
    return errs


def validate_pv_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_pv(obj)
    new_spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
    new_src = {s: new_spec.get(s) for s in PV_SOURCES if new_spec.get(s) is not None}
    old_src = {s: old_spec.get(s) for s in PV_SOURCES if old_spec.get(s) is not None}
    if new_src != old_src:
        errs.append(forbidden_field("spec.persistentvolumesource", PV_SOURCE_IMMUTABLE + "\n" +
                                    spec_diff("core.PersistentVolumeSource", old_src, new_src)))
    errs.extend(validate_immutable(new_spec.get("volumeMode"), old_spec.get("volumeMode"), "volumeMode"))
    if old_spec.get("nodeAffinity") is not None and new_spec.get("nodeAffinity") != old_spec.get("nodeAffinity"):
        errs.append(invalid_value("spec.nodeAffinity", GoValue(json.dumps(new_spec.get("nodeAffinity"))),
                                  "field is immutable"))
    return errs
