"""core/v1 Pod validation (``ValidatePod``, ``ValidatePodSpec``, ``ValidatePodUpdate``): containers,
names, images, restart policy, volumes and mounts, ports, resources, tolerations, and what an
update may change."""

from __future__ import annotations

import json
from typing import Any

import orjson

from minikube_lite.apiserver.errors import forbidden_field, invalid_value, not_supported, required
from minikube_lite.apiserver.schema.shape_memo import ShapeMemo, json_key

from .common import (
    Errors,
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
    spec_diff,
    validate_dns_subdomain,
    validate_nonnegative_quantity,
)
from .core import PROTOCOLS, TAINT_EFFECTS
from .names import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
)

JSON = dict[str, Any]

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
TOLERATION_OPERATORS = ["Equal", "Exists"]
POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


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
                                    spec_diff("core.PodSpec", old_spec, new_spec)))
    return errs
