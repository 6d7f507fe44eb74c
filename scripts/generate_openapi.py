#!/usr/bin/env python3
"""Generate ``minikube_lite/openapi/definitions.json`` from the kubernetes-validate 1.35 schemas.

Why a generator: the served OpenAPI documents, ``kubectl explain`` and server-side field
validation all need the upstream type schemas (descriptions, patch strategies, list types,
group-version-kind tags). kubernetes-validate ships them as JSON Schema 2020-12; this script
turns the subset we serve back into OpenAPI v3 form (single ``type`` strings,
``#/components/schemas/`` refs wrapped in ``allOf`` when they carry a description, as the real
``/openapi/v3`` documents do) and writes it as compact, sorted JSON so the output is
deterministic and diffs stay reviewable. The runtime only reads the JSON; it never imports
kubernetes-validate.

Run by hand after bumping the emulated version::

    python scripts/generate_openapi.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

KUBE_VERSION = "1.35.0"
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "minikube_lite" / "openapi" / "definitions.json"

# The kinds we serve (group, version, kind) plus the helper types their endpoints use.
SERVED_KINDS: list[tuple[str, str, str]] = [
    ("", "v1", k) for k in (
        "Namespace", "Node", "Pod", "PersistentVolume", "PersistentVolumeClaim", "Event", "ConfigMap",
        "Secret", "Service", "ServiceAccount", "Endpoints", "ResourceQuota", "LimitRange",
    )
] + [
    ("storage.k8s.io", "v1", k) for k in (
        "StorageClass", "CSIDriver", "CSINode", "CSIStorageCapacity", "VolumeAttachment",
    )
] + [
    ("events.k8s.io", "v1", "Event"),
    ("coordination.k8s.io", "v1", "Lease"),
    ("apps", "v1", "Deployment"), ("apps", "v1", "ReplicaSet"), ("apps", "v1", "StatefulSet"),
    ("apps", "v1", "DaemonSet"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
    ("", "v1", "ComponentStatus"), ("", "v1", "PodTemplate"), ("", "v1", "ReplicationController"),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding"),
    ("apiregistration.k8s.io", "v1", "APIService"),
    ("apps", "v1", "ControllerRevision"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"), ("autoscaling", "v1", "HorizontalPodAutoscaler"),
    ("batch", "v1", "CronJob"), ("batch", "v1", "Job"),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    ("discovery.k8s.io", "v1", "EndpointSlice"),
    ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration"),
    ("networking.k8s.io", "v1", "IngressClass"), ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "IPAddress"), ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("networking.k8s.io", "v1", "ServiceCIDR"),
    ("node.k8s.io", "v1", "RuntimeClass"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"), ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"), ("rbac.authorization.k8s.io", "v1", "Role"),
    ("resource.k8s.io", "v1", "DeviceClass"), ("resource.k8s.io", "v1", "ResourceClaim"),
    ("resource.k8s.io", "v1", "ResourceClaimTemplate"), ("resource.k8s.io", "v1", "ResourceSlice"),
    ("scheduling.k8s.io", "v1", "PriorityClass"),
    ("storage.k8s.io", "v1", "VolumeAttributesClass"),
]
# Kinds without a List of their own (subresource bodies).
EXTRA_KINDS: list[tuple[str, str, str]] = [
    ("", "v1", "Binding"), ("autoscaling", "v1", "Scale"), ("policy", "v1", "Eviction"),
    ("authentication.k8s.io", "v1", "TokenRequest"), ("authentication.k8s.io", "v1", "TokenReview"),
    ("authentication.k8s.io", "v1", "SelfSubjectReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview"), ("authorization.k8s.io", "v1", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "v1", "SubjectAccessReview"), ("authorization.k8s.io", "v1", "LocalSubjectAccessReview"),
]
# meta/v1 types every group-version document refers to.
META_TYPES = [
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
]

# Descriptions the JSON-Schema conversion dropped (from apimachinery's OpenAPI definitions).
EXTRA = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {
        "description": (
            "Quantity is a fixed-point representation of a number. It provides convenient "
            "marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors."
        ),
    },
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "description": (
            "IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML "
            "marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to "
            "have, for example, a JSON field that can accept a name or number."
        ),
        "format": "int-or-string",
    },
}


def _schema_dir() -> Path:
    try:
        import kubernetes_validate  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - dev extra missing
        sys.exit("kubernetes-validate is not installed: pip install -e '.[dev]'")
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{KUBE_VERSION}-local"
    if not base.is_dir():
        sys.exit(f"kubernetes-validate has no schemas for {KUBE_VERSION} at {base}")
    return base


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def convert(schema: Any, in_properties: str | None = None) -> Any:
    """One JSON-Schema node back to its OpenAPI v3 shape."""
    if isinstance(schema, list):
        return [convert(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out["type"] = types[0] if len(types) == 1 else types
        elif key == "$ref":
            out["$ref"] = "#/components/schemas/" + _ref_name(value)
        elif key == "enum" and in_properties in ("apiVersion", "kind"):
            continue  # added by kubernetes-validate to pin the GVK; upstream has no enum here
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {name: convert(sub, name) for name, sub in value.items()}
        else:
            out[key] = convert(value)
    if "$ref" in out and len(out) > 1:
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out


def _refs(schema: Any, found: set[str]) -> None:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                found.add(_ref_name(value))
            else:
                _refs(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, found)


def _gvk_index(defs: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in defs.items():
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if len(gvks) != 1:
            continue  # DeleteOptions, WatchEvent: shared by every group
        g = gvks[0]
        index[(g.get("group", ""), g["version"], g["kind"])] = name
    return index


def build() -> dict[str, Any]:
    raw = json.loads((_schema_dir() / "_definitions.json").read_text())
    defs: dict[str, Any] = raw["$defs"]
    index = _gvk_index(defs)
    seeds: list[str] = list(META_TYPES)
    for g, v, k in SERVED_KINDS:
        seeds.append(index[(g, v, k)])
        seeds.append(index[(g, v, k + "List")])
    for g, v, k in EXTRA_KINDS:
        seeds.append(index[(g, v, k)])
    keep: set[str] = set()
    todo = list(seeds)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        found: set[str] = set()
        _refs(defs[name], found)
        todo.extend(found - keep)
    schemas = {}
    for name in sorted(keep):
        converted = convert(defs[name])
        for key, value in EXTRA.get(name, {}).items():
            converted.setdefault(key, value)
        schemas[name] = converted
    return {"kubernetes": f"v{KUBE_VERSION}", "source": f"kubernetes-validate v{KUBE_VERSION}-local",
            "schemas": schemas}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.out.read_text() if args.out.exists() else ""
        if current != text:
            print(f"{args.out} is out of date; run scripts/generate_openapi.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
