"""networking.k8s.io validation: Ingress, IngressClass and NetworkPolicy essentials.

Follows ``pkg/apis/networking/validation`` for what users commonly get wrong (pathType, absolute
paths, backends, hosts, controllers, ports, peers and CIDRs); the rest of each schema is checked
by the OpenAPI step.
"""

from __future__ import annotations

import ipaddress
from typing import Any, TypeGuard

from minikube_lite.apiserver.errors import forbidden_field, invalid_value, not_supported, required

from .common import (
    Errors,
    GoValue,
    as_dict,
    as_list,
    as_str,
    child,
    go_string_slice,
    idx,
    too_long,
    validate_immutable,
)
from .names import is_dns1035_label, is_dns1123_label, is_dns1123_subdomain
from .selectors import validate_label_selector

JSON = dict[str, Any]


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- networking.k8s.io -------------------------------------------------------------------------

PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
POLICY_TYPES = ["Ingress", "Egress"]


def _port_number_errors(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def validate_ingress_backend(backend: JSON, path: str) -> Errors:
    """``validateIngressBackend``: exactly one of service and resource; a service needs a port."""
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [invalid_value(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        errs: Errors = []
        resource = as_dict(resource)
        if not as_str(resource.get("kind")):
            errs.append(required(child(path, "resource", "kind")))
        if not as_str(resource.get("name")):
            errs.append(required(child(path, "resource", "name")))
        return errs
    if service is None:
        return [invalid_value(path, "", "resource or service backend is required")]
    service = as_dict(service)
    errs = []
    name = as_str(service.get("name"))
    if not name:
        errs.append(required(child(path, "service", "name")))
    else:
        errs.extend(invalid_value(child(path, "service", "name"), name, m) for m in is_dns1035_label(name))
    port = as_dict(service.get("port"))
    port_name, number = as_str(port.get("name")), port.get("number") or 0
    if port_name and number:
        errs.append(invalid_value(path, "", "cannot set both port name & port number"))
    elif port_name:
        errs.extend(invalid_value(child(path, "service", "port", "name"), port_name, m)
                    for m in is_dns1123_label(port_name))
    elif number:
        if _is_int(number):
            errs.extend(invalid_value(child(path, "service", "port", "number"), number, m)
                        for m in _port_number_errors(number))
    else:
        errs.append(required(path, "port name or number is required"))
    return errs


def _validate_host(host: str, path: str) -> Errors:
    try:
        ipaddress.ip_address(host)
        return [invalid_value(path, host, "must be a DNS name, not an IP address")]
    except ValueError:
        pass
    if host.startswith("*."):
        return [invalid_value(path, host, m) for m in is_dns1123_subdomain(host[2:])]
    return [invalid_value(path, host, m) for m in is_dns1123_subdomain(host)]


def validate_ingress(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    rules = as_list(spec.get("rules"))
    backend = spec.get("defaultBackend")
    if not rules and backend is None:
        shown = "[]networking.IngressRule{}" if isinstance(spec.get("rules"), list) else "[]networking.IngressRule(nil)"
        errs.append(invalid_value("spec", GoValue(shown), "either `defaultBackend` or `rules` must be specified"))
    if isinstance(backend, dict):
        errs.extend(validate_ingress_backend(backend, "spec.defaultBackend"))
    class_name = spec.get("ingressClassName")
    if isinstance(class_name, str):
        errs.extend(invalid_value("spec.ingressClassName", class_name, m) for m in is_dns1123_subdomain(class_name))
    for r, rule in enumerate(rules):
        rpath = idx("spec.rules", r)
        rule = as_dict(rule)
        host = as_str(rule.get("host"))
        if host:
            errs.extend(_validate_host(host, child(rpath, "host")))
        http = rule.get("http")
        if http is None:
            continue
        paths = as_list(as_dict(http).get("paths"))
        if not paths:
            errs.append(required(child(rpath, "http", "paths")))
        for p, item in enumerate(paths):
            ppath = idx(child(rpath, "http", "paths"), p)
            item = as_dict(item)
            path_type = item.get("pathType")
            text = as_str(item.get("path"))
            if path_type is None:
                errs.append(required(child(ppath, "pathType"), "pathType must be specified"))
            elif path_type not in PATH_TYPES:
                errs.append(not_supported(child(ppath, "pathType"), as_str(path_type), PATH_TYPES))
            elif path_type in ("Exact", "Prefix") and not text.startswith("/"):
                errs.append(invalid_value(child(ppath, "path"), text, "must be an absolute path"))
            errs.extend(validate_ingress_backend(as_dict(item.get("backend")), child(ppath, "backend")))
    return errs


def validate_ingress_class(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs: Errors = []
    controller = as_str(spec.get("controller"))
    if not controller:
        errs.append(required("spec.controller"))
    elif "/" not in controller:
        errs.append(invalid_value("spec.controller", controller, 'must be a domain-prefixed path (such as "acme.io/foo")'))
    elif len(controller) > 250:
        errs.append(too_long("spec.controller", 250))
    params = spec.get("parameters")
    if isinstance(params, dict):
        if not as_str(params.get("kind")):
            errs.append(required("spec.parameters.kind", "kind is required"))
        if not as_str(params.get("name")):
            errs.append(required("spec.parameters.name", "name is required"))
        scope = params.get("scope")
        if scope is not None and scope not in ("Cluster", "Namespace"):
            errs.append(not_supported("spec.parameters.scope", as_str(scope), ["Cluster", "Namespace"]))
    return errs


def validate_ingress_class_update(obj: JSON, old: JSON) -> Errors:
    errs = validate_ingress_class(obj)
    errs.extend(validate_immutable(as_dict(obj.get("spec")).get("controller"),
                                   as_dict(old.get("spec")).get("controller"), "spec.controller"))
    return errs


def _validate_netpol_ports(ports: list[Any], path: str) -> Errors:
    errs: Errors = []
    for n, port in enumerate(ports):
        ppath = idx(path, n)
        port = as_dict(port)
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            errs.append(not_supported(child(ppath, "protocol"), as_str(protocol), PROTOCOLS))
        number = port.get("port")
        if _is_int(number):
            errs.extend(invalid_value(child(ppath, "port"), number, m) for m in _port_number_errors(number))
        end = port.get("endPort")
        if end is not None:
            if not _is_int(number):
                errs.append(required(child(ppath, "port"), "must be specified when endPort is specified"))
            elif _is_int(end) and end < number:
                errs.append(invalid_value(child(ppath, "endPort"), end, "must be greater than or equal to `port`"))
    return errs


def _validate_peers(peers: list[Any], path: str) -> Errors:
    errs: Errors = []
    for n, peer in enumerate(peers):
        ppath = idx(path, n)
        peer = as_dict(peer)
        count = sum(1 for k in ("podSelector", "namespaceSelector") if peer.get(k) is not None)
        block = peer.get("ipBlock")
        if block is not None:
            count = 1 if count == 0 else 2
        if count == 0:
            errs.append(required(ppath, "must specify a peer"))
        elif block is not None and count > 1:
            errs.append(forbidden_field(ppath, "may not specify both ipBlock and another peer"))
        for key in ("podSelector", "namespaceSelector"):
            if isinstance(peer.get(key), dict):
                errs.extend(validate_label_selector(peer[key], child(ppath, key)))
        if isinstance(block, dict):
            cidr = as_str(block.get("cidr"))
            if not cidr:
                errs.append(required(child(ppath, "ipBlock", "cidr")))
            else:
                try:
                    ipaddress.ip_network(cidr, strict=False)
                except ValueError:
                    errs.append(invalid_value(child(ppath, "ipBlock", "cidr"), cidr,
                                              "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    return errs


def validate_network_policy(obj: JSON) -> Errors:
    spec = as_dict(obj.get("spec"))
    errs = validate_label_selector(as_dict(spec.get("podSelector")), "spec.podSelector")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for n, rule in enumerate(as_list(spec.get(direction))):
            rpath = idx(child("spec", direction), n)
            rule = as_dict(rule)
            errs.extend(_validate_netpol_ports(as_list(rule.get("ports")), child(rpath, "ports")))
            errs.extend(_validate_peers(as_list(rule.get(peers_key)), child(rpath, peers_key)))
    types = as_list(spec.get("policyTypes"))
    for n, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            errs.append(not_supported(idx("spec.policyTypes", n), as_str(kind), POLICY_TYPES))
    if len(types) > len(POLICY_TYPES):
        errs.append(invalid_value("spec.policyTypes", go_string_slice(types),
                                  "may not specify more than two policyTypes"))
    return errs
