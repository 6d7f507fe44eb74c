"""Discovery documents: aggregated (apidiscovery.k8s.io v2 and v2beta1) and the legacy form.

Both come from the registry, so a CRD appears in every form as soon as it is established.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..registry import Registry, ResourceType

JSON = dict[str, Any]

KUBERNETES_VERSION = {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "gitCommit": "0000000000000000000000000000000000000000",
                      "gitTreeState": "clean", "buildDate": "2025-12-17T00:00:00Z", "goVersion": "go1.25.5",
                      "compiler": "gc", "platform": "linux/amd64"}

SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"], "scale": ["get", "patch", "update"], "binding": ["create"],
    "eviction": ["create"], "log": ["get"], "exec": ["create", "get"], "attach": ["create", "get"],
    "portforward": ["create", "get"], "proxy": ["create", "delete", "get", "patch", "update"],
    "finalize": ["update"], "token": ["create"], "ephemeralcontainers": ["get", "patch", "update"],
    "approval": ["get", "patch", "update"],
}
SUBRESOURCE_KIND = {
    "scale": ("autoscaling", "v1", "Scale"), "binding": ("", "v1", "Binding"),
    "eviction": ("policy", "v1", "Eviction"), "token": ("authentication.k8s.io", "v1", "TokenRequest"),
    "proxy": ("", "v1", "NodeProxyOptions"),
}

# The preferred order kube-apiserver lists groups in (then CRD groups).
GROUP_ORDER = ["", "apiregistration.k8s.io", "apps", "events.k8s.io", "authentication.k8s.io",
               "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy",
               "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io",
               "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io",
               "discovery.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io"]


def _ordered_groups(registry: Registry) -> list[tuple[str, list[str]]]:
    groups = registry.groups()
    ordered = [g for g in GROUP_ORDER if g in groups] + sorted(g for g in groups if g not in GROUP_ORDER)
    return [(g, groups[g]) for g in ordered]


def _types(registry: Registry, group: str, version: str) -> list[ResourceType]:
    return sorted((rt for rt in registry.all() if rt.group == group and rt.version == version),
                  key=lambda rt: rt.plural)


def _aggregated_resource(rt: ResourceType) -> JSON:
    res: JSON = {"resource": rt.plural,
                 "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                 "scope": "Namespaced" if rt.namespaced else "Cluster",
                 "singularResource": rt.singular, "verbs": sorted(rt.verbs)}
    if rt.short_names:
        res["shortNames"] = list(rt.short_names)
    if rt.categories:
        res["categories"] = list(rt.categories)
    subs = []
    for sub in rt.subresources:
        group, version, kind = SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
        entry: JSON = {"subresource": sub, "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])}
        if sub not in ("log", "exec", "attach", "portforward"):
            entry["responseKind"] = {"group": group, "version": version, "kind": kind}
        subs.append(entry)
    if subs:
        res["subresources"] = subs
    return res


def aggregated(registry: Registry, core: bool, version: str = "v2") -> JSON:
    """``/api`` (core) or ``/apis`` as an APIGroupDiscoveryList."""
    items = []
    for group, versions in _ordered_groups(registry):
        if (group == "") != core:
            continue
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": [{"version": v, "freshness": "Current",
                                    "resources": [_aggregated_resource(rt) for rt in _types(registry, group, v)]}
                                   for v in versions]})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}


def api_versions(server_address: str) -> JSON:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_entry(group: str, versions: list[str]) -> JSON:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(registry: Registry) -> JSON:
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_entry(g, vs) for g, vs in _ordered_groups(registry) if g]}


def api_group(registry: Registry, group: str) -> JSON | None:
    versions = registry.groups().get(group)
    if not versions or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(group, versions)}


def resource_list(registry: Registry, group: str, version: str) -> JSON | None:
    types = _types(registry, group, version)
    if not types:
        return None
    resources: list[JSON] = []
    for rt in types:
        entry: JSON = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                       "kind": rt.kind, "verbs": sorted(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entry["storageVersionHash"] = _hash(rt)
        resources.append(entry)
        for sub in rt.subresources:
            g, v, kind = SUBRESOURCE_KIND.get(sub, (rt.group, rt.version, rt.kind))
            sub_entry: JSON = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                               "kind": kind, "verbs": SUBRESOURCE_VERBS.get(sub, ["get"])}
            if g != rt.group or v != rt.version:
                sub_entry["group"] = g
                sub_entry["version"] = v
            resources.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


def _hash(rt: ResourceType) -> str:
    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()[:8]
    return base64.b64encode(digest).decode()


AGG_ACCEPT = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
              "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
