"""core/v1 validation (``pkg/apis/core/validation/validation.go``) of nodes (taints), namespaces,
config maps and secrets (keys, sizes, immutability, secret types), services (ports, type) and
events (namespace agreement, events.k8s.io required fields).

Pods are in ``pods.py``; PersistentVolumeClaims and PersistentVolumes in ``volumes.py``; label
and node selectors in ``selectors.py``.
"""

from __future__ import annotations

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
    key,
    too_long,
    validate_immutable,
)
from .names import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
)

JSON = dict[str, Any]

TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
MAX_SECRET_SIZE = 1024 * 1024
IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
EVENT_NS_MISMATCH = "does not match event.namespace"


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
