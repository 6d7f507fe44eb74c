"""Validation of RBAC, PriorityClass, PodDisruptionBudget, RuntimeClass,
VolumeAttributesClass, HorizontalPodAutoscaler and CertificateSigningRequest writes.

Each function follows its upstream ``Validate<Kind>`` / ``Validate<Kind>Update`` in
``pkg/apis/<group>/validation`` (paths and messages as ``field.Error`` prints them), for the
fields clients commonly get wrong; the rest of each schema is checked by the OpenAPI step.
"""

from __future__ import annotations

import base64
import re
from typing import Any, TypeGuard

from minikube_lite.apiserver.errors import forbidden_field, invalid_value, not_supported, required

from ...admission.priority import SYSTEM_PRIORITY_CLASSES as SYSTEM_CLASS_OBJECTS
from .common import (
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    go_string_slice,
    idx,
    validate_immutable,
)
from .names import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    path_segment_name,
)
from .selectors import validate_label_selector

JSON = dict[str, Any]

RBAC_GROUP = "rbac.authorization.k8s.io"
CANNOT_CHANGE_ROLE_REF = "cannot change roleRef"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- rbac.authorization.k8s.io -----------------------------------------------------------------

def validate_policy_rule(rule: Any, namespaced: bool, path: str) -> Errors:
    """``ValidatePolicyRule``: verbs always; resource rules need groups and resources."""
    rule = as_dict(rule)
    errs: Errors = []
    if not as_list(rule.get("verbs")):
        errs.append(required(child(path, "verbs"), "verbs must contain at least one value"))
    urls = as_list(rule.get("nonResourceURLs"))
    if urls:
        if namespaced:
            errs.append(invalid_value(child(path, "nonResourceURLs"), go_string_slice(urls),
                                      "namespaced rules cannot apply to non-resource URLs"))
        if as_list(rule.get("apiGroups")) or as_list(rule.get("resources")) or as_list(rule.get("resourceNames")):
            errs.append(invalid_value(child(path, "nonResourceURLs"), go_string_slice(urls),
                                      "rules cannot apply to both regular resources and non-resource URLs"))
        return errs
    if not as_list(rule.get("apiGroups")):
        errs.append(required(child(path, "apiGroups"), "resource rules must supply at least one api group"))
    if not as_list(rule.get("resources")):
        errs.append(required(child(path, "resources"), "resource rules must supply at least one resource"))
    return errs


def validate_role(obj: JSON, namespaced: bool = True) -> Errors:
    errs: Errors = []
    for n, rule in enumerate(as_list(obj.get("rules"))):
        errs.extend(validate_policy_rule(rule, namespaced, idx("rules", n)))
    return errs


def validate_cluster_role(obj: JSON) -> Errors:
    errs = validate_role(obj, namespaced=False)
    rule = obj.get("aggregationRule")
    if isinstance(rule, dict):
        selectors = as_list(rule.get("clusterRoleSelectors"))
        if not selectors:
            errs.append(required("aggregationRule.clusterRoleSelectors",
                                 "at least one clusterRoleSelector required if aggregationRule is non-nil"))
        for n, sel in enumerate(selectors):
            errs.extend(validate_label_selector(as_dict(sel), idx("aggregationRule.clusterRoleSelectors", n)))
    return errs


def validate_subject(subject: Any, namespaced: bool, path: str) -> Errors:
    """``ValidateRoleBindingSubject``."""
    subject = as_dict(subject)
    errs: Errors = []
    name, kind, group = as_str(subject.get("name")), as_str(subject.get("kind")), as_str(subject.get("apiGroup"))
    if not name:
        errs.append(required(child(path, "name")))
    if kind == "ServiceAccount":
        if name:
            errs.extend(invalid_value(child(path, "name"), name, m) for m in is_dns1123_subdomain(name))
        if group:
            errs.append(not_supported(child(path, "apiGroup"), group, [""]))
        if not namespaced and not as_str(subject.get("namespace")):
            errs.append(required(child(path, "namespace")))
    elif kind in ("User", "Group"):
        if group != RBAC_GROUP:
            errs.append(not_supported(child(path, "apiGroup"), group, [RBAC_GROUP]))
    else:
        errs.append(not_supported(child(path, "kind"), kind, ["ServiceAccount", "User", "Group"]))
    return errs


def validate_role_binding(obj: JSON, namespaced: bool = True) -> Errors:
    errs: Errors = []
    ref = as_dict(obj.get("roleRef"))
    group = as_str(ref.get("apiGroup"))
    if group != RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", group, [RBAC_GROUP]))
    kind = as_str(ref.get("kind"))
    allowed = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if kind not in allowed:
        errs.append(not_supported("roleRef.kind", kind, allowed))
    name = as_str(ref.get("name"))
    if not name:
        errs.append(required("roleRef.name"))
    else:
        errs.extend(invalid_value("roleRef.name", name, m) for m in path_segment_name(name, False))
    for n, subject in enumerate(as_list(obj.get("subjects"))):
        errs.extend(validate_subject(subject, namespaced, idx("subjects", n)))
    return errs


def go_role_ref(ref: Any) -> GoValue:
    """``%#v`` of an ``rbac.RoleRef``, as the roleRef-immutable error prints it."""
    ref = as_dict(ref)
    return GoValue(f'rbac.RoleRef{{APIGroup:"{as_str(ref.get("apiGroup"))}", Kind:"{as_str(ref.get("kind"))}", '
                   f'Name:"{as_str(ref.get("name"))}"}}')


def _role_ref_update(obj: JSON, old: JSON) -> Errors:
    if as_dict(obj.get("roleRef")) != as_dict(old.get("roleRef")):
        return [invalid_value("roleRef", go_role_ref(obj.get("roleRef")), CANNOT_CHANGE_ROLE_REF)]
    return []


def validate_role_binding_update(obj: JSON, old: JSON) -> Errors:
    return validate_role_binding(obj, True) + _role_ref_update(obj, old)


def validate_cluster_role_binding(obj: JSON) -> Errors:
    return validate_role_binding(obj, namespaced=False)


def validate_cluster_role_binding_update(obj: JSON, old: JSON) -> Errors:
    return validate_role_binding(obj, False) + _role_ref_update(obj, old)


# --- scheduling.k8s.io PriorityClass -----------------------------------------------------------

SYSTEM_PRIORITY_PREFIX = "system-"
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
# (name, value, globalDefault) of the classes every cluster has (scheduling/v1 SystemPriorityClasses).
SYSTEM_PRIORITY_CLASSES = tuple((pc["metadata"]["name"], pc["value"], bool(pc.get("globalDefault")))
                                for pc in SYSTEM_CLASS_OBJECTS)
PREEMPTION_POLICIES = ["Never", "PreemptLowerPriority"]


def _known_system_class(name: str, value: Any, global_default: bool) -> str | None:
    """``IsKnownSystemPriorityClass``: None when it is one, else why not."""
    for known, known_value, known_default in SYSTEM_PRIORITY_CLASSES:
        if known == name:
            if value != known_value:
                return f"value of {known} PriorityClass must be {known_value}"
            if global_default != known_default:
                return f"globalDefault of {known} PriorityClass must be {str(known_default).lower()}"
            return None
    return f"{name} is not a known system priority class"


def validate_priority_class(obj: JSON) -> Errors:
    errs: Errors = []
    name = as_str(as_dict(obj.get("metadata")).get("name"))
    value = obj.get("value")
    if name.startswith(SYSTEM_PRIORITY_PREFIX):
        why = _known_system_class(name, value, obj.get("globalDefault") is True)
        if why is not None:
            errs.append(forbidden_field("metadata.name", "priority class names with 'system-' prefix are reserved "
                                        f"for system use only. error: {why}"))
    elif _is_int(value) and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden_field("value", "maximum allowed value of a user defined priority is "
                                    f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    policy = obj.get("preemptionPolicy")
    if policy is not None and policy not in PREEMPTION_POLICIES:
        errs.append(not_supported("preemptionPolicy", as_str(policy), PREEMPTION_POLICIES))
    return errs


def validate_priority_class_update(obj: JSON, old: JSON) -> Errors:
    errs: Errors = []
    if obj.get("value") != old.get("value"):
        errs.append(forbidden_field("value", "may not be changed in an update."))
    errs.extend(validate_immutable(obj.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy"))
    return errs


# --- policy PodDisruptionBudget ----------------------------------------------------------------

PERCENT_RE = re.compile(r"[0-9]+%")
PERCENT_MSG = ("a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', "
               "regex used for validation is '[0-9]+%')")
UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"]


def validate_int_or_percent(value: Any, path: str) -> Errors:
    """``ValidatePositiveIntOrPercent`` then ``IsNotMoreThan100Percent``."""
    if isinstance(value, str):
        if not PERCENT_RE.fullmatch(value):
            return [invalid_value(path, value, PERCENT_MSG)]
        if int(value[:-1]) > 100:
            return [invalid_value(path, value, "must not be greater than 100%")]
        return []
    if _is_int(value):
        return [invalid_value(path, value, "must be greater than or equal to 0")] if value < 0 else []
    return [invalid_value(path, as_str(value), "must be an integer or percentage (e.g '5%')")]


def _go_ptr(type_name: str, value: Any, n: int) -> str:
    return f"(*{type_name})(nil)" if value is None else f"(*{type_name})(0xc0000{n:05x})"


def go_pdb_spec(spec: JSON) -> GoValue:
    """``%#v`` of a ``policy.PodDisruptionBudgetSpec`` (pointer fields print as addresses upstream)."""
    fields = [("MinAvailable", "intstr.IntOrString"), ("Selector", "v1.LabelSelector"),
              ("MaxUnavailable", "intstr.IntOrString"),
              ("UnhealthyPodEvictionPolicy", "policy.UnhealthyPodEvictionPolicyType")]
    parts = [f"{name}:{_go_ptr(kind, spec.get(name[0].lower() + name[1:]), n * 8 + 8)}"
             for n, (name, kind) in enumerate(fields)]
    return GoValue("policy.PodDisruptionBudgetSpec{" + ", ".join(parts) + "}")


def validate_pdb(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        errs.append(invalid_value("spec", go_pdb_spec(spec), "minAvailable and maxUnavailable cannot be both set"))
    for key in ("minAvailable", "maxUnavailable"):
        if spec.get(key) is not None:
            errs.extend(validate_int_or_percent(spec[key], child("spec", key)))
    selector = spec.get("selector")
    if isinstance(selector, dict):
        errs.extend(validate_label_selector(selector, "spec.selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if policy is not None and policy not in UNHEALTHY_POD_EVICTION_POLICIES:
        errs.append(not_supported("spec.unhealthyPodEvictionPolicy", as_str(policy), UNHEALTHY_POD_EVICTION_POLICIES))
    return errs


# --- node.k8s.io RuntimeClass, storage.k8s.io VolumeAttributesClass ----------------------------

def validate_runtime_class(obj: JSON) -> Errors:
    handler = as_str(obj.get("handler"))
    return [invalid_value("handler", handler, m) for m in is_dns1123_label(handler)]


def validate_runtime_class_update(obj: JSON, old: JSON) -> Errors:
    return validate_runtime_class(obj) + validate_immutable(obj.get("handler"), old.get("handler"), "handler")


def validate_volume_attributes_class(obj: JSON) -> Errors:
    errs: Errors = []
    driver = as_str(obj.get("driverName"))
    if not driver:
        errs.append(required("driverName"))
    else:
        errs.extend(invalid_value("driverName", driver.lower(), m) for m in is_qualified_name(driver.lower()))
    params = obj.get("parameters")
    if not isinstance(params, dict) or not params:
        errs.append(required("parameters", "must contain at least one key/value pair"))
    else:
        errs.extend(invalid_value("parameters", k, "field can not be empty.") for k in params if not k)
    return errs


def validate_volume_attributes_class_update(obj: JSON, old: JSON) -> Errors:
    errs: Errors = []
    if as_str(obj.get("driverName")) != as_str(old.get("driverName")):
        errs.append(forbidden_field("driverName", "updates to driverName are forbidden."))
    if (obj.get("parameters") or {}) != (old.get("parameters") or {}):
        errs.append(forbidden_field("parameters", "updates to parameters are forbidden."))
    return errs


# --- autoscaling HorizontalPodAutoscaler -------------------------------------------------------

METRIC_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"]


def validate_hpa(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    ref = as_dict(spec.get("scaleTargetRef"))
    kind, name = as_str(ref.get("kind")), as_str(ref.get("name"))
    if not kind:
        errs.append(required("spec.scaleTargetRef.kind"))
    else:
        errs.extend(invalid_value("spec.scaleTargetRef.kind", kind, m) for m in path_segment_name(kind, False))
    if not name:
        errs.append(required("spec.scaleTargetRef.name"))
    else:
        errs.extend(invalid_value("spec.scaleTargetRef.name", name, m) for m in path_segment_name(name, False))
    min_r, max_r = spec.get("minReplicas"), spec.get("maxReplicas")
    if _is_int(min_r) and min_r < 1:
        errs.append(invalid_value("spec.minReplicas", min_r, "must be greater than or equal to 1"))
    if _is_int(max_r):
        if max_r < 1:
            errs.append(invalid_value("spec.maxReplicas", max_r, "must be greater than 0"))
        if _is_int(min_r) and max_r < min_r:
            errs.append(invalid_value("spec.maxReplicas", max_r, "must be greater than or equal to `minReplicas`"))
    for n, metric in enumerate(as_list(spec.get("metrics"))):
        kind = as_str(as_dict(metric).get("type"))
        if not kind:
            errs.append(required(child(idx("spec.metrics", n), "type"), "must specify a metric source type"))
        elif kind not in METRIC_TYPES:
            errs.append(not_supported(child(idx("spec.metrics", n), "type"), kind, METRIC_TYPES))
    cpu = spec.get("targetCPUUtilizationPercentage")
    if _is_int(cpu) and cpu < 1:
        errs.append(invalid_value("spec.targetCPUUtilizationPercentage", cpu, "must be greater than 0"))
    return errs


# --- certificates.k8s.io CertificateSigningRequest ---------------------------------------------

KEY_USAGES = ["any", "cert sign", "client auth", "code signing", "content commitment", "crl sign",
              "data encipherment", "decipher only", "digital signature", "email protection", "encipher only",
              "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment",
              "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"]
CSR_PEM_RE = re.compile(r"-----BEGIN ([A-Z ]+)-----\s*([A-Za-z0-9+/=\s]*?)\s*-----END \1-----")


def _csr_request_error(request: Any) -> str | None:
    """Why ``spec.request`` is not a PEM ``CERTIFICATE REQUEST`` (the field is base64 in JSON)."""
    try:
        pem = base64.b64decode(as_str(request), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return "PEM block type must be CERTIFICATE REQUEST"
    match = CSR_PEM_RE.search(pem)
    if match is None or match.group(1) != "CERTIFICATE REQUEST":
        return "PEM block type must be CERTIFICATE REQUEST"
    try:
        der = base64.b64decode("".join(match.group(2).split()), validate=True)
    except ValueError:
        return "PEM block type must be CERTIFICATE REQUEST"
    if not der or der[0] != 0x30:
        return "asn1: structure error: tags don't match"
    return None


def validate_csr(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    why = _csr_request_error(spec.get("request"))
    if why is not None:
        errs.append(invalid_value("spec.request", GoValue("[]byte{...}"), why))
    signer = as_str(spec.get("signerName"))
    if not signer:
        errs.append(required("spec.signerName"))
    elif "/" not in signer:
        errs.append(invalid_value("spec.signerName", signer,
                                  "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
    usages = as_list(spec.get("usages"))
    if not usages:
        errs.append(required("spec.usages", "usages must be provided"))
    for n, usage in enumerate(usages):
        if usage not in KEY_USAGES:
            errs.append(not_supported(idx("spec.usages", n), as_str(usage), KEY_USAGES))
    seconds = spec.get("expirationSeconds")
    if _is_int(seconds) and seconds < 600:
        errs.append(invalid_value("spec.expirationSeconds", seconds,
                                  "may not specify a duration less than 600 seconds (10 minutes)"))
    return errs


def validate_csr_update(obj: JSON, old: JSON) -> Errors:
    """The spec is fixed at create (the strategy keeps the old spec); only metadata and status change."""
    return []


# --- apiregistration.k8s.io APIService ---------------------------------------------------------

def validate_api_service(obj: JSON) -> Errors:
    """``ValidateAPIService``: the name is ``version.group``; priorities in range; local ones plain."""
    spec = as_dict(obj.get("spec"))
    group, version = as_str(spec.get("group")), as_str(spec.get("version"))
    errs: Errors = []
    name = as_str(as_dict(obj.get("metadata")).get("name"))
    wanted = f"{version}.{group}"
    if name and not path_segment_name(name, False) and name != wanted:
        errs.append(invalid_value("metadata.name", name, f'must be `spec.version+"."+spec.group`: "{wanted}"'))
    if not group and version != "v1":
        errs.append(required("spec.group", "only v1 may have an empty group and it better be legacy kube"))
    if group:
        errs.extend(invalid_value("spec.group", group, m) for m in is_dns1123_subdomain(group))
    errs.extend(invalid_value("spec.version", version, m) for m in is_dns1035_label(version))
    group_min, version_priority = spec.get("groupPriorityMinimum"), spec.get("versionPriority")
    if not _is_int(group_min) or not 0 < group_min <= 20000:
        errs.append(invalid_value("spec.groupPriorityMinimum", group_min if _is_int(group_min) else 0,
                                  "must be positive and less than 20000"))
    if not _is_int(version_priority) or not 0 < version_priority <= 1000:
        errs.append(invalid_value("spec.versionPriority", version_priority if _is_int(version_priority) else 0,
                                  "must be positive and less than 1000"))
    if spec.get("service") is None:
        if spec.get("caBundle"):
            errs.append(invalid_value("spec.caBundle", GoValue("[]byte{...}"),
                                      "local APIServices may not have a caBundle"))
        if spec.get("insecureSkipTLSVerify") is True:
            errs.append(invalid_value("spec.insecureSkipTLSVerify", True,
                                      "local APIServices may not have insecureSkipTLSVerify"))
    return errs
