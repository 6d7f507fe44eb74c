"""storage.k8s.io, apps, coordination and apiextensions validation.

StorageClass follows ``pkg/apis/storage/validation/validation.go`` (storage.md §0.4: parameters,
provisioner and reclaimPolicy are Forbidden to change, volumeBindingMode is a plain immutable
field, allowedTopologies/mountOptions/allowVolumeExpansion stay mutable). Workloads follow
``pkg/apis/apps/validation``: selector required and matching the template, selector immutable.
"""

from __future__ import annotations

import json
from typing import Any

from minikube_lite.apiserver.errors import forbidden_field, invalid_value, not_supported, required

from .common import (
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    duplicate,
    get,
    idx,
    too_long,
    validate_immutable,
    validate_labels,
    validate_nonnegative_int,
    validate_nonnegative_quantity,
)
from .names import is_qualified_name
from .pods import validate_pod_spec
from .selectors import validate_label_selector
from .volumes import validate_csi_driver_name
from .volumes import validate_pvc_spec as _pvc_spec

JSON = dict[str, Any]

SC_RECLAIM_POLICIES = ["Delete", "Retain"]
SC_BINDING_MODES = ["Immediate", "WaitForFirstConsumer"]
MAX_PARAMETERS = 512
MAX_PARAMETERS_SIZE = 256 * 1024
PARAMETERS_FORBIDDEN = "updates to parameters are forbidden."
PROVISIONER_FORBIDDEN = "updates to provisioner are forbidden."
RECLAIM_FORBIDDEN = "updates to reclaimPolicy are forbidden."
LIFECYCLE_MODES = ["Ephemeral", "Persistent"]
FS_GROUP_POLICIES = ["File", "None", "ReadWriteOnceWithFSType"]
SELECTOR_MISMATCH = "`selector` does not match template `labels`"
STS_SPEC_FORBIDDEN = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                      "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
                      "'minReadySeconds' are forbidden")


# --- StorageClass -----------------------------------------------------------------------------

def validate_storageclass(obj: JSON) -> Errors:
    errs: Errors = []
    provisioner = as_str(obj.get("provisioner"))
    if not provisioner:
        errs.append(required("provisioner"))
    else:
        low = provisioner.lower()
        errs.extend(invalid_value("provisioner", low, m) for m in is_qualified_name(low))
    params = obj.get("parameters")
    if isinstance(params, dict):
        if len(params) > MAX_PARAMETERS:
            errs.append(too_long("parameters", MAX_PARAMETERS))
        else:
            for k in params:
                if not k:
                    errs.append(invalid_value("parameters", k, "field can not be empty."))
            size = sum(len(k.encode()) + len(as_str(v).encode()) for k, v in params.items())
            if size > MAX_PARAMETERS_SIZE:
                errs.append(too_long("parameters", MAX_PARAMETERS_SIZE))
    policy = obj.get("reclaimPolicy")
    if policy and policy not in SC_RECLAIM_POLICIES:
        errs.append(not_supported("reclaimPolicy", as_str(policy), SC_RECLAIM_POLICIES))
    mode = obj.get("volumeBindingMode")
    if mode is not None and mode not in SC_BINDING_MODES:
        errs.append(not_supported("volumeBindingMode", as_str(mode), SC_BINDING_MODES))
    errs.extend(_validate_allowed_topologies(obj.get("allowedTopologies")))
    return errs


def _validate_allowed_topologies(terms: Any) -> Errors:
    errs: Errors = []
    seen: list[Any] = []
    for t, term in enumerate(as_list(terms)):
        tpath = idx("allowedTopologies", t)
        keys: set[str] = set()
        for r, req in enumerate(as_list(get(term, "matchLabelExpressions"))):
            rpath = idx(child(tpath, "matchLabelExpressions"), r)
            values = [as_str(v) for v in as_list(get(req, "values"))]
            if not values:
                errs.append(required(child(rpath, "values")))
            seen_values: set[str] = set()
            for v, value in enumerate(values):
                if value in seen_values:
                    errs.append(duplicate(idx(child(rpath, "values"), v), value))
                seen_values.add(value)
            k = as_str(get(req, "key"))
            errs.extend(invalid_value(child(rpath, "key"), k, m) for m in is_qualified_name(k))
            if k in keys:
                errs.append(duplicate(child(rpath, "key"), k))
            keys.add(k)
        if term in seen:
            errs.append(duplicate(tpath, GoValue(json.dumps(term, sort_keys=True))))
        seen.append(term)
    return errs


def validate_storageclass_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_storageclass(obj)
    if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
        errs.append(forbidden_field("parameters", PARAMETERS_FORBIDDEN))
    if as_str(obj.get("provisioner")) != as_str(old.get("provisioner")):
        errs.append(forbidden_field("provisioner", PROVISIONER_FORBIDDEN))
    if (obj.get("reclaimPolicy") or "Delete") != (old.get("reclaimPolicy") or "Delete"):
        errs.append(forbidden_field("reclaimPolicy", RECLAIM_FORBIDDEN))
    new_mode = obj.get("volumeBindingMode") or "Immediate"
    errs.extend(validate_immutable(new_mode, old.get("volumeBindingMode") or "Immediate", "volumeBindingMode"))
    return errs


# --- CSI objects ------------------------------------------------------------------------------

def validate_csidriver(obj: JSON) -> Errors:
    errs: Errors = []
    spec = as_dict(obj.get("spec"))
    for n, mode in enumerate(as_list(spec.get("volumeLifecycleModes"))):
        if mode not in LIFECYCLE_MODES:
            errs.append(not_supported(idx("spec.volumeLifecycleModes", n), as_str(mode), LIFECYCLE_MODES))
    policy = spec.get("fsGroupPolicy")
    if policy is not None and policy not in FS_GROUP_POLICIES:
        errs.append(not_supported("spec.fsGroupPolicy", as_str(policy), FS_GROUP_POLICIES))
    for n, tok in enumerate(as_list(spec.get("tokenRequests"))):
        seconds = get(tok, "expirationSeconds")
        if isinstance(seconds, int) and seconds < 600:
            errs.append(invalid_value(child(idx("spec.tokenRequests", n), "expirationSeconds"), seconds,
                                      "may not specify a duration less than 10 minutes"))
    return errs


def validate_csidriver_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_csidriver(obj)
    errs.extend(validate_immutable(get(obj, "spec", "attachRequired"), get(old, "spec", "attachRequired"),
                                   "spec.attachRequired"))
    return errs


def validate_csinode(obj: JSON) -> Errors:
    errs: Errors = []
    names: set[str] = set()
    for n, drv in enumerate(as_list(get(obj, "spec", "drivers"))):
        dpath = idx("spec.drivers", n)
        name = as_str(get(drv, "name"))
        errs.extend(validate_csi_driver_name(name, child(dpath, "name")))
        if name and name in names:
            errs.append(duplicate(child(dpath, "name"), name))
        names.add(name)
        if not as_str(get(drv, "nodeID")):
            errs.append(required(child(dpath, "nodeID")))
        count = get(drv, "allocatable", "count")
        errs.extend(validate_nonnegative_int(count, child(dpath, "allocatable", "count")))
    return errs


def validate_volumeattachment(obj: JSON) -> Errors:
    errs: Errors = []
    spec = as_dict(obj.get("spec"))
    attacher = as_str(spec.get("attacher"))
    errs.extend(validate_csi_driver_name(attacher, "spec.attacher"))
    source = as_dict(spec.get("source"))
    has_pv = bool(as_str(source.get("persistentVolumeName")))
    has_inline = source.get("inlineVolumeSpec") is not None
    if has_pv == has_inline:
        errs.append(required("spec.source", "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
    node = as_str(spec.get("nodeName"))
    if not node:
        errs.append(required("spec.nodeName"))
    return errs


def validate_volumeattachment_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_volumeattachment(obj)
    if obj.get("spec") != old.get("spec"):
        errs.append(invalid_value("spec", GoValue(json.dumps(obj.get("spec"), sort_keys=True)), "field is immutable"))
    return errs


def validate_csistoragecapacity(obj: JSON) -> Errors:
    errs: Errors = []
    name = as_str(obj.get("storageClassName"))
    if not name:
        errs.append(required("storageClassName"))
    topo = obj.get("nodeTopology")
    if isinstance(topo, dict):
        errs.extend(validate_label_selector(topo, "nodeTopology"))
    for field in ("capacity", "maximumVolumeSize"):
        if obj.get(field) is not None:
            errs.extend(validate_nonnegative_quantity(obj[field], field))
    return errs


def validate_csistoragecapacity_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_csistoragecapacity(obj)
    errs.extend(validate_immutable(obj.get("storageClassName"), old.get("storageClassName"), "storageClassName"))
    if obj.get("nodeTopology") != old.get("nodeTopology"):
        errs.append(invalid_value("nodeTopology", GoValue(json.dumps(obj.get("nodeTopology"))), "field is immutable"))
    return errs


# --- apps -------------------------------------------------------------------------------------

def _go_map(labels: Any) -> str:
    items = ", ".join(f'"{k}":"{as_str(v)}"' for k, v in sorted(as_dict(labels).items()))
    return "map[string]string{" + items + "}"


def go_label_selector(selector: Any) -> GoValue:
    """``%#v`` of a ``v1.LabelSelector``, as immutable-selector errors print it."""
    sel = as_dict(selector)
    labels = "map[string]string(nil)" if sel.get("matchLabels") is None else _go_map(sel.get("matchLabels"))
    exprs = as_list(sel.get("matchExpressions"))
    if sel.get("matchExpressions") is None:
        expr_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        parts = []
        for e in exprs:
            values = ", ".join(f'"{as_str(v)}"' for v in as_list(get(e, "values")))
            vals = "[]string(nil)" if get(e, "values") is None else "[]string{" + values + "}"
            parts.append(f'v1.LabelSelectorRequirement{{Key:"{as_str(get(e, "key"))}", '
                         f'Operator:"{as_str(get(e, "operator"))}", Values:{vals}}}')
        expr_text = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    return GoValue(f"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expr_text}}}")


def _selector_matches(selector: JSON, labels: JSON) -> bool:
    for k, v in as_dict(selector.get("matchLabels")).items():
        if labels.get(k) != v:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        k, op = as_str(get(expr, "key")), as_str(get(expr, "operator"))
        values = [as_str(v) for v in as_list(get(expr, "values"))]
        if op == "In" and (k not in labels or as_str(labels[k]) not in values):
            return False
        if op == "NotIn" and k in labels and as_str(labels[k]) in values:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def validate_workload(obj: JSON, kind: str) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    if "replicas" in spec:
        errs.extend(validate_nonnegative_int(spec.get("replicas"), "spec.replicas"))
    selector = spec.get("selector")
    labels = as_dict(get(spec, "template", "metadata", "labels"))
    if not isinstance(selector, dict):
        errs.append(required("spec.selector"))
    else:
        errs.extend(validate_label_selector(selector, "spec.selector"))
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            errs.append(invalid_value("spec.selector", go_label_selector(selector),
                                      f"empty selector is invalid for {kind.lower()}"))
        elif not _selector_matches(selector, labels):
            errs.append(invalid_value("spec.template.metadata.labels", GoValue(_go_map(labels)), SELECTOR_MISMATCH))
    errs.extend(validate_labels(labels, "spec.template.metadata.labels"))
    pod_spec = as_dict(get(spec, "template", "spec"))
    claim_templates = [as_dict(get(t, "metadata")).get("name") for t in as_list(spec.get("volumeClaimTemplates"))]
    if kind == "StatefulSet" and claim_templates:
        # A StatefulSet's volumeClaimTemplates are volumes of its pods: mounts may name them.
        present = {as_dict(v).get("name") for v in as_list(pod_spec.get("volumes"))}
        extra = [{"name": n, "persistentVolumeClaim": {"claimName": n}} for n in claim_templates
                 if isinstance(n, str) and n and n not in present]
        if extra:
            pod_spec = {**pod_spec, "volumes": [*as_list(pod_spec.get("volumes")), *extra]}
    errs.extend(validate_pod_spec(pod_spec, "spec.template.spec", ["Always"]))
    for n, tmpl in enumerate(as_list(spec.get("volumeClaimTemplates"))):
        errs.extend(_pvc_spec(as_dict(get(tmpl, "spec")), child(idx("spec.volumeClaimTemplates", n), "spec")))
    for field in ("minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        errs.extend(validate_nonnegative_int(spec.get(field), f"spec.{field}"))
    return errs


def validate_workload_update(obj: JSON, old: JSON, kind: str) -> Errors:
    errs = validate_workload(obj, kind)
    new_sel, old_sel = get(obj, "spec", "selector"), get(old, "spec", "selector")
    if new_sel != old_sel:
        errs.append(invalid_value("spec.selector", go_label_selector(new_sel), "field is immutable"))
    if kind == "StatefulSet":
        allowed = {"replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                   "persistentVolumeClaimRetentionPolicy", "minReadySeconds", "selector"}
        new_rest = {k: v for k, v in as_dict(obj.get("spec")).items() if k not in allowed}
        old_rest = {k: v for k, v in as_dict(old.get("spec")).items() if k not in allowed}
        if new_rest != old_rest:
            errs.append(forbidden_field("spec", STS_SPEC_FORBIDDEN))
    return errs


# --- coordination, apiextensions -----------------------------------------------------------------

def validate_lease(obj: JSON) -> Errors:
    seconds = get(obj, "spec", "leaseDurationSeconds")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds <= 0:
        return [invalid_value("spec.leaseDurationSeconds", seconds, "must be greater than 0")]
    return []


def validate_crd_name(obj: JSON) -> Errors:
    """The CRD name must be ``<plural>.<group>``."""
    plural = as_str(get(obj, "spec", "names", "plural"))
    group = as_str(get(obj, "spec", "group"))
    name = as_str(get(obj, "metadata", "name"))
    if plural and group and name != f"{plural}.{group}":
        return [invalid_value("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []
