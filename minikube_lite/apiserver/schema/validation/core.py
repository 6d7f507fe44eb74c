"""core/v1 validation (``pkg/apis/core/validation/validation.go``), the rules users meet.

Covered: pods (containers, names, images, restart policy, volumes and mounts, ports,
resources, tolerations; update immutability), PVCs (access modes, storage request, volume
mode, data sources; the bound-claim update rules), PVs (capacity, access modes, exactly one
source, reclaim policy, node affinity, CSI/local/hostPath basics; source immutability),
nodes (taints), namespaces, config maps and secrets (keys, sizes, immutability, secret
types), services (ports, type), events (namespace agreement, events.k8s.io required fields).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from minikube_lite.apiserver.errors import FieldError, forbidden_field, invalid_value, not_supported, required
from minikube_lite.apiserver.schema.shape_memo import ShapeMemo, json_key

from .common import (
    IS_NEGATIVE,
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    duplicate,
    get,
    idx,
    key,
    not_found_field,
    quantity,
    too_long,
    validate_dns_subdomain,
    validate_immutable,
    validate_labels,
    validate_nonnegative_quantity,
    validate_positive_quantity,
)
from .names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_label,
)

JSON = dict[str, Any]

SUPPORTED_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
SUPPORTED_VOLUME_MODES = ["Block", "Filesystem"]
SUPPORTED_PV_RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"]
RESTART_POLICIES = ["Always", "OnFailure", "Never"]
TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
MAX_SECRET_SIZE = 1024 * 1024

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
POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
EVENT_NS_MISMATCH = "does not match event.namespace"

# PersistentVolumeSource members, in the order ValidatePersistentVolumeSpec checks them.
PV_SOURCES = (
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte",
    "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk",
    "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi",
)


# --- shared pieces ---------------------------------------------------------------------------

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


def validate_node_selector(selector: Any, path: str) -> Errors:
    """``ValidateNodeSelector``: at least one term; each requirement well formed."""
    errs: Errors = []
    terms = as_list(get(selector, "nodeSelectorTerms"))
    if not terms:
        return [required(child(path, "nodeSelectorTerms"), "must have at least one node selector term")]
    for t, term in enumerate(terms):
        tpath = idx(child(path, "nodeSelectorTerms"), t)
        for r, req in enumerate(as_list(get(term, "matchExpressions"))):
            errs.extend(_validate_node_selector_requirement(req, idx(child(tpath, "matchExpressions"), r)))
        for r, req in enumerate(as_list(get(term, "matchFields"))):
            rpath = idx(child(tpath, "matchFields"), r)
            if as_str(get(req, "key")) != "metadata.name":
                errs.append(invalid_value(child(rpath, "key"), as_str(get(req, "key")), "not a valid field selector key"))
            errs.extend(_validate_node_selector_requirement(req, rpath, check_key=False))
    return errs


def _validate_node_selector_requirement(req: Any, path: str, check_key: bool = True) -> Errors:
    errs: Errors = []
    op = as_str(get(req, "operator"))
    values = as_list(get(req, "values"))
    if op in ("In", "NotIn"):
        if not values:
            errs.append(required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden_field(child(path, "values"),
                                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(required(child(path, "values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        errs.append(invalid_value(child(path, "operator"), op, "not a valid selector operator"))
    if check_key:
        k = as_str(get(req, "key"))
        errs.extend(invalid_value(child(path, "key"), k, m) for m in is_qualified_name(k))
    return errs


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


def _spec_diff(type_name: str, old: JSON, new: JSON) -> str:
    """A compact ``cmp.Diff``-style rendering of the changed top-level fields."""
    lines = [f"  {type_name}{{"]
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            field = name[:1].upper() + name[1:]
            if name in old:
                lines.append(f"- \t{field}: {json.dumps(old[name], sort_keys=True, default=str)},")
            if name in new:
                lines.append(f"+ \t{field}: {json.dumps(new[name], sort_keys=True, default=str)},")
    lines.append("  }")
    return "\n".join(lines)


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
                                    _spec_diff("core.PersistentVolumeClaimSpec", shown_old, shown_new)))
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
                                    _spec_diff("core.PersistentVolumeSource", old_src, new_src)))
    errs.extend(validate_immutable(new_spec.get("volumeMode"), old_spec.get("volumeMode"), "volumeMode"))
    if old_spec.get("nodeAffinity") is not None and new_spec.get("nodeAffinity") != old_spec.get("nodeAffinity"):
        errs.append(invalid_value("spec.nodeAffinity", GoValue(json.dumps(new_spec.get("nodeAffinity"))),
                                  "field is immutable"))
    return errs


# --- label selectors -------------------------------------------------------------------------

def validate_label_selector(selector: JSON, path: str) -> Errors:
    """``metav1validation.ValidateLabelSelector``."""
    errs: Errors = []
    for n, req in enumerate(as_list(selector.get("matchExpressions"))):
        rpath = idx(child(path, "matchExpressions"), n)
        op = as_str(get(req, "operator"))
        values = as_list(get(req, "values"))
        if op in ("In", "NotIn"):
            if not values:
                errs.append(required(child(rpath, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden_field(child(rpath, "values"),
                                            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid_value(child(rpath, "operator"), op, "not a valid selector operator"))
        k = as_str(get(req, "key"))
        errs.extend(invalid_value(child(rpath, "key"), k, m) for m in is_qualified_name(k))
    errs.extend(validate_labels(selector.get("matchLabels"), child(path, "matchLabels")))
    return errs


# --- Pod -------------------------------------------------------------------------------------

def _validate_resources(resources: Any, path: str) -> Errors:
    errs: Errors = []
    limits = as_dict(get(resources, "limits"))
    requests = as_dict(get(resources, "requests"))
    for section, values in (("limits", limits), ("requests", requests)):
        for name, value in sorted(values.items()):
            errs.extend(validate_nonnegative_quantity(value, key(child(path, section), name)))
    for name, value in sorted(requests.items()):
        req, lim = quantity(value), quantity(limits.get(name)) if name in limits else None
        if req and lim and req[0] > lim[0]:
            errs.append(invalid_value(key(child(path, "requests"), name), req[1],
                                      f"must be less than or equal to {name} limit of {lim[1]}"))
    return errs


def _validate_containers(containers: list[Any], path: str, volumes: set[str], seen: set[str],
                         init: bool = False) -> Errors:
    errs: Errors = []
    for n, ctr in enumerate(containers):
        cpath = idx(path, n)
        ctr = as_dict(ctr)
        policy = ctr.get("restartPolicy")
        if policy is not None:
            if not init:
                errs.append(forbidden_field(child(cpath, "restartPolicy"), "may not be set for non-init containers"))
            elif policy != "Always":
                errs.append(not_supported(child(cpath, "restartPolicy"), as_str(policy), ["Always"]))
        name = as_str(ctr.get("name"))
        if not name:
            errs.append(required(child(cpath, "name")))
        else:
            errs.extend(invalid_value(child(cpath, "name"), name, m) for m in is_dns1123_label(name))
            if name in seen:
                errs.append(duplicate(child(cpath, "name"), name))
            seen.add(name)
        if not as_str(ctr.get("image")):
            errs.append(required(child(cpath, "image")))
        for p, port in enumerate(as_list(ctr.get("ports"))):
            ppath = idx(child(cpath, "ports"), p)
            number = get(port, "containerPort")
            if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
                errs.append(invalid_value(child(ppath, "containerPort"), number if number is not None else 0,
                                          "must be between 1 and 65535, inclusive"))
            proto = get(port, "protocol")
            if proto is not None and proto not in PROTOCOLS:
                errs.append(not_supported(child(ppath, "protocol"), as_str(proto), PROTOCOLS))
        mount_paths: set[str] = set()
        for m, mount in enumerate(as_list(ctr.get("volumeMounts"))):
            mpath = idx(child(cpath, "volumeMounts"), m)
            mname = as_str(get(mount, "name"))
            if not mname:
                errs.append(required(child(mpath, "name")))
            elif mname not in volumes:
                errs.append(not_found_field(child(mpath, "name"), mname))
            mount_path = as_str(get(mount, "mountPath"))
            if not mount_path:
                errs.append(required(child(mpath, "mountPath")))
            elif mount_path in mount_paths:
                errs.append(invalid_value(child(mpath, "mountPath"), mount_path, "must be unique"))
            mount_paths.add(mount_path)
        errs.extend(_validate_resources(ctr.get("resources"), child(cpath, "resources")))
    return errs


def validate_pod_spec(spec: JSON, path: str = "spec", allowed_restart: list[str] | None = None) -> Errors:
    errs: Errors = []
    volumes: set[str] = set()
    for n, vol in enumerate(as_list(spec.get("volumes"))):
        vpath = idx(child(path, "volumes"), n)
        name = as_str(get(vol, "name"))
        if not name:
            errs.append(required(child(vpath, "name")))
        else:
            errs.extend(invalid_value(child(vpath, "name"), name, m) for m in is_dns1123_label(name))
            if name in volumes:
                errs.append(duplicate(child(vpath, "name"), name))
            volumes.add(name)
        claim = get(vol, "persistentVolumeClaim")
        if isinstance(claim, dict) and not as_str(claim.get("claimName")):
            errs.append(required(child(vpath, "persistentVolumeClaim", "claimName")))
    seen: set[str] = set()
    errs.extend(_validate_containers(as_list(spec.get("initContainers")), child(path, "initContainers"), volumes,
                                     seen, init=True))
    containers = as_list(spec.get("containers"))
    if not containers:
        errs.append(required(child(path, "containers")))
    errs.extend(_validate_containers(containers, child(path, "containers"), volumes, seen))
    policy = spec.get("restartPolicy")
    if policy is not None:
        if policy == "":
            errs.append(required(child(path, "restartPolicy")))
        elif allowed_restart is not None and policy not in allowed_restart:
            errs.append(not_supported(child(path, "restartPolicy"), as_str(policy), allowed_restart))
        elif policy not in RESTART_POLICIES:
            errs.append(not_supported(child(path, "restartPolicy"), as_str(policy), RESTART_POLICIES))
    node_name = as_str(spec.get("nodeName"))
    if node_name:
        errs.extend(validate_dns_subdomain(node_name, child(path, "nodeName")))
    for n, tol in enumerate(as_list(spec.get("tolerations"))):
        errs.extend(_validate_toleration(as_dict(tol), idx(child(path, "tolerations"), n)))
    for field in ("activeDeadlineSeconds", "terminationGracePeriodSeconds"):
        value = spec.get(field)
        if field == "activeDeadlineSeconds" and isinstance(value, int) and value <= 0:
            errs.append(invalid_value(child(path, field), value, "must be between 1 and 2147483647, inclusive"))
    return errs


def _validate_toleration(tol: JSON, path: str) -> Errors:
    errs: Errors = []
    k = as_str(tol.get("key"))
    if k:
        errs.extend(invalid_value(child(path, "key"), k, m) for m in is_qualified_name(k))
    op = as_str(tol.get("operator")) or "Equal"
    if not k and op != "Exists":
        errs.append(invalid_value(child(path, "operator"), op,
                                  "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
    if tol.get("tolerationSeconds") is not None and tol.get("effect") != "NoExecute":
        errs.append(invalid_value(child(path, "effect"), as_str(tol.get("effect")),
                                  "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    if op == "Equal":
        value = as_str(tol.get("value"))
        errs.extend(invalid_value(child(path, "value"), value, m) for m in is_valid_label_value(value))
    elif op == "Exists":
        if as_str(tol.get("value")):
            errs.append(invalid_value(child(path, "operator"), as_str(tol.get("value")),
                                      "value must be empty when `operator` is 'Exists'"))
    else:
        errs.append(not_supported(child(path, "operator"), op, TOLERATION_OPERATORS))
    effect = tol.get("effect")
    if effect and effect not in TAINT_EFFECTS:
        errs.append(not_supported(child(path, "effect"), as_str(effect), TAINT_EFFECTS))
    return errs


def validate_pod(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    key = json_key(spec)
    if key is not None and _VALID_POD_SPECS.get(key):
        return []  # the pods of one controller share their spec (see apiserver/schema/shape_memo.py)
    errs = validate_pod_spec(spec)
    if key is not None and not errs:
        _VALID_POD_SPECS.put(key, True)
    return errs


#: Pod specs (exact JSON) that passed ``validate_pod_spec``, which reads nothing else.
_VALID_POD_SPECS: ShapeMemo[bool] = ShapeMemo()


_COPY_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _json_copy(value: Any) -> Any:
    """``json.loads(json.dumps(value, default=str))``, through orjson when it can (much faster).

    orjson is told to hand datetimes and dataclasses to ``str`` as the stdlib encoder does;
    whatever it refuses (non-string keys, huge integers) takes the stdlib road.
    """
    try:
        return orjson.loads(orjson.dumps(value, default=str, option=_COPY_OPTS))
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=str))


def _masked_pod_spec(spec: JSON, old_spec: JSON) -> JSON:
    masked = _json_copy(spec)
    for section in ("containers", "initContainers"):
        for ctr in as_list(masked.get(section)):
            if isinstance(ctr, dict):
                ctr.pop("image", None)
    for field in ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "schedulingGates"):
        masked.pop(field, None)
    if not as_str(old_spec.get("nodeName")):
        masked.pop("nodeName", None)  # the binding subresource sets it once
    # Additions to tolerations are allowed: compare only the old ones.
    old_tols = as_list(old_spec.get("tolerations"))
    new_tols = as_list(masked.get("tolerations"))
    masked["tolerations"] = [t for t in new_tols if t in old_tols] if all(t in new_tols for t in old_tols) \
        else new_tols
    return masked


def validate_pod_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_pod(obj)
    new_spec, old_spec = as_dict(obj.get("spec")), as_dict(old.get("spec"))
    if _masked_pod_spec(new_spec, old_spec) != _masked_pod_spec(old_spec, old_spec):
        errs.append(forbidden_field("spec", POD_UPDATE_FORBIDDEN + "\n" +
                                    _spec_diff("core.PodSpec", old_spec, new_spec)))
    return errs


# --- Node, Namespace ---------------------------------------------------------------------------

def validate_node(obj: JSON) -> Errors:
    errs: Errors = []
    seen: set[tuple[str, str]] = set()
    for n, taint in enumerate(as_list(get(obj, "spec", "taints"))):
        tpath = idx("spec.taints", n)
        taint = as_dict(taint)
        k = as_str(taint.get("key"))
        errs.extend(invalid_value(child(tpath, "key"), k, m) for m in is_qualified_name(k))
        value = as_str(taint.get("value"))
        errs.extend(invalid_value(child(tpath, "value"), value, m) for m in is_valid_label_value(value))
        effect = as_str(taint.get("effect"))
        if not effect:
            errs.append(required(child(tpath, "effect")))
        elif effect not in TAINT_EFFECTS:
            errs.append(not_supported(child(tpath, "effect"), effect, TAINT_EFFECTS))
        if (k, effect) in seen:
            errs.append(duplicate(tpath, GoValue(f"core.Taint{{Key:\"{k}\", Value:\"{value}\", Effect:\"{effect}\"}}")))
        seen.add((k, effect))
    pod_cidr = as_str(get(obj, "spec", "podCIDR"))
    if pod_cidr and "/" not in pod_cidr:
        errs.append(invalid_value("spec.podCIDR", pod_cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    return errs


def validate_node_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_node(obj)
    old_cidr = as_str(get(old, "spec", "podCIDR"))
    if old_cidr and as_str(get(obj, "spec", "podCIDR")) != old_cidr:
        errs.append(forbidden_field("spec.podCIDR", "node updates may not change podCIDR except from \"\" to valid"))
    old_pid = as_str(get(old, "spec", "providerID"))
    if old_pid and as_str(get(obj, "spec", "providerID")) != old_pid:
        errs.append(forbidden_field("spec.providerID",
                                    "node updates may not change providerID except from \"\" to valid"))
    return errs


def validate_namespace(obj: JSON) -> Errors:
    errs: Errors = []
    for n, fin in enumerate(as_list(get(obj, "spec", "finalizers"))):
        fin = as_str(fin)
        path = idx("spec.finalizers", n)
        errs.extend(invalid_value(path, fin, m) for m in is_qualified_name(fin))
        if "/" not in fin and fin not in ("kubernetes", "orphan", "foregroundDeletion"):
            errs.append(invalid_value(path, fin, "name is neither a standard finalizer name nor is it fully qualified"))
    return errs


# --- ConfigMap, Secret -----------------------------------------------------------------------

def _data_keys(data: JSON, other: JSON, path: str, other_name: str) -> Errors:
    errs: Errors = []
    for k in sorted(data):
        errs.extend(invalid_value(key(path, k), k, m) for m in is_config_map_key(k))
        if k in other:
            errs.append(invalid_value(key(path, k), k, f"duplicate of key present in {other_name}"))
    return errs


def validate_configmap(obj: JSON) -> Errors:
    data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
    errs = _data_keys(data, binary, "data", "binaryData")
    errs.extend(_data_keys(binary, data, "binaryData", "data"))
    size = sum(len(as_str(v).encode()) for v in data.values()) + sum(_b64_len(v) for v in binary.values())
    if size > MAX_SECRET_SIZE:
        errs.append(too_long("", MAX_SECRET_SIZE))
    return errs


def _b64_len(value: Any) -> int:
    text = as_str(value)
    return len(text) * 3 // 4 - text.count("=")


def _immutable_data(obj: JSON, old: JSON, fields: tuple[str, ...]) -> Errors:
    errs: Errors = []
    if old.get("immutable") is True:
        if obj.get("immutable") is not True:
            errs.append(forbidden_field("immutable", IMMUTABLE_WHEN_SET))
        for field in fields:
            if (obj.get(field) or {}) != (old.get(field) or {}):
                errs.append(forbidden_field(field, IMMUTABLE_WHEN_SET))
    return errs


def validate_configmap_update(obj: JSON, old: JSON) -> Errors:
    return _immutable_data(obj, old, ("data", "binaryData")) + validate_configmap(obj)


SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def validate_secret(obj: JSON) -> Errors:
    data = dict(as_dict(obj.get("data")))
    data.update(as_dict(obj.get("stringData")))
    errs: Errors = []
    for k in sorted(data):
        errs.extend(invalid_value(key("data", k), k, m) for m in is_config_map_key(k))
    size = sum(_b64_len(v) for v in as_dict(obj.get("data")).values()) + \
        sum(len(as_str(v).encode()) for v in as_dict(obj.get("stringData")).values())
    if size > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    kind = as_str(obj.get("type"))
    if kind == "kubernetes.io/service-account-token":
        if not as_str(get(obj, "metadata", "annotations", "kubernetes.io/service-account.name")):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    for needed in SECRET_REQUIRED_KEYS.get(kind, ()):
        if needed not in data:
            errs.append(required(key("data", needed)))
    if kind == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        errs.append(required(key("data", "username")))
        errs.append(required(key("data", "password")))
    if kind == "kubernetes.io/ssh-auth" and "ssh-privatekey" not in data:
        errs.append(required(key("data", "ssh-privatekey")))
    return errs


def validate_secret_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_secret(obj)
    errs.extend(validate_immutable(as_str(obj.get("type")), as_str(old.get("type")), "type"))
    errs.extend(_immutable_data(obj, old, ("data",)))
    return errs


# --- Service ---------------------------------------------------------------------------------

def validate_service(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    kind = spec.get("type")
    if kind is not None and kind not in SERVICE_TYPES:
        errs.append(not_supported("spec.type", as_str(kind), SERVICE_TYPES))
    ports = as_list(spec.get("ports"))
    if not ports and kind != "ExternalName" and spec.get("clusterIP") != "None":
        errs.append(required("spec.ports"))
    names: set[str] = set()
    for n, port in enumerate(ports):
        ppath = idx("spec.ports", n)
        port = as_dict(port)
        name = as_str(port.get("name"))
        if len(ports) > 1 and not name:
            errs.append(required(child(ppath, "name")))
        elif name:
            errs.extend(invalid_value(child(ppath, "name"), name, m) for m in is_dns1123_label(name))
            if name in names:
                errs.append(duplicate(child(ppath, "name"), name))
            names.add(name)
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
            errs.append(invalid_value(child(ppath, "port"), number if number is not None else 0,
                                      "must be between 1 and 65535, inclusive"))
        proto = port.get("protocol")
        if proto is not None and proto not in PROTOCOLS:
            errs.append(not_supported(child(ppath, "protocol"), as_str(proto), PROTOCOLS))
    if kind == "ExternalName" and not as_str(spec.get("externalName")):
        errs.append(required("spec.externalName"))
    return errs


def validate_service_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_service(obj)
    old_ip = as_str(get(old, "spec", "clusterIP"))
    if old_ip and get(obj, "spec", "type") != "ExternalName":
        errs.extend(validate_immutable(as_str(get(obj, "spec", "clusterIP")), old_ip, "spec.clusterIPs[0]"))
    return errs


# --- Event (core/v1 and events.k8s.io/v1) -----------------------------------------------------

def _event_view(obj: JSON, group: str) -> JSON:
    if group != "events.k8s.io":
        return obj
    return {
        "metadata": obj.get("metadata"), "involvedObject": obj.get("regarding") or {}, "reason": obj.get("reason"),
        "message": obj.get("note"), "type": obj.get("type"), "eventTime": obj.get("eventTime"),
        "series": obj.get("series"), "action": obj.get("action"),
        "reportingController": obj.get("reportingController"), "reportingInstance": obj.get("reportingInstance"),
        "count": obj.get("deprecatedCount"), "firstTimestamp": obj.get("deprecatedFirstTimestamp"),
        "lastTimestamp": obj.get("deprecatedLastTimestamp"), "source": obj.get("deprecatedSource"),
    }


def validate_event(obj: JSON, group: str) -> Errors:
    """``ValidateEventCreate``: legacy rules for core/v1, strict ones for events.k8s.io/v1."""
    ev = _event_view(obj, group)
    errs: Errors = []
    namespace = as_str(get(ev, "metadata", "namespace"))
    inv_ns = as_str(get(ev, "involvedObject", "namespace"))
    controller_field = "reportingComponent" if group == "" else "reportingController"
    if not ev.get("eventTime"):
        if not inv_ns:
            if namespace not in ("", "default"):
                errs.append(invalid_value("involvedObject.namespace", inv_ns, EVENT_NS_MISMATCH))
        elif namespace != inv_ns:
            errs.append(invalid_value("involvedObject.namespace", inv_ns, EVENT_NS_MISMATCH))
    else:
        if not inv_ns and namespace not in ("default", "kube-system"):
            errs.append(invalid_value("involvedObject.namespace", inv_ns, EVENT_NS_MISMATCH))
        # core/v1 spells ReportingController as ``reportingComponent`` on the wire.
        controller = as_str(ev.get("reportingComponent") if group == "" else ev.get("reportingController"))
        if not controller:
            errs.append(required(controller_field))
        errs.extend(invalid_value(controller_field, controller, m) for m in is_qualified_name(controller))
        instance = as_str(ev.get("reportingInstance"))
        if not instance:
            errs.append(required("reportingInstance"))
        if len(instance) > 128:
            errs.append(invalid_value("reportingInstance", "", "can have at most 128 characters"))
        action = as_str(ev.get("action"))
        if not action:
            errs.append(required("action"))
        if len(action) > 128:
            errs.append(invalid_value("action", "", "can have at most 128 characters"))
        reason = as_str(ev.get("reason"))
        if not reason:
            errs.append(required("reason"))
        if len(reason) > 128:
            errs.append(invalid_value("reason", "", "can have at most 128 characters"))
        if len(as_str(ev.get("message"))) > 1024:
            errs.append(invalid_value("message", "", "can have at most 1024 characters"))
    if namespace:
        errs.extend(invalid_value("namespace", namespace, m) for m in is_dns1123_subdomain(namespace))
    if group == "events.k8s.io":
        errs.extend(_strict_event(ev))
    return errs


def _strict_event(ev: JSON) -> Errors:
    errs: Errors = []
    series = ev.get("series")
    if isinstance(series, dict):
        if int(series.get("count") or 0) < 2:
            errs.append(invalid_value("series.count", "", "should be at least 2"))
        if not series.get("lastObservedTime"):
            errs.append(required("series.lastObservedTime"))
    if not ev.get("eventTime"):
        errs.append(required("eventTime"))
    if ev.get("type") not in ("Normal", "Warning"):
        errs.append(invalid_value("type", "", f"has invalid value: {as_str(ev.get('type'))}"))
    if ev.get("firstTimestamp"):
        errs.append(invalid_value("firstTimestamp", "", "needs to be unset"))
    if ev.get("lastTimestamp"):
        errs.append(invalid_value("lastTimestamp", "", "needs to be unset"))
    if ev.get("count"):
        errs.append(invalid_value("count", "", "needs to be unset"))
    source = as_dict(ev.get("source"))
    if source.get("component") or source.get("host"):
        errs.append(invalid_value("source", "", "needs to be unset"))
    return errs


def validate_nonnegative_int(value: Any, path: str) -> Errors:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid_value(path, value, IS_NEGATIVE)]
    return []
