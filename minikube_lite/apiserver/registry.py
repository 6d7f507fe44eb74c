"""The table of resource types the API server serves.

Every built-in type is one row here; CRDs add rows at run time. Discovery, URL routing,
storage keys, field selectors, tables and OpenAPI all read these rows, so a type is
described once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
FieldGetter = Callable[[JSON], str]


def field_getter(*keys: str) -> FieldGetter:
    """A selectable-field getter for the value at ``keys`` (booleans as true/false, absent as "")."""

    def get(obj: JSON) -> str:
        cur: Any = obj
        for key in keys:
            if not isinstance(cur, dict):
                return ""
            cur = cur.get(key)
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get


@dataclass
class ResourceType:
    """One served resource: enough to route, store, list, select and describe it."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()  # e.g. ("status", "scale", "binding", "log")
    verbs: tuple[str, ...] = (
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    )
    # Extra field selectors beyond metadata.name / metadata.namespace.
    field_getters: dict[str, FieldGetter] = field(default_factory=dict)
    # True for custom resources served from a CRD (no strategic merge patch, CRD schema).
    custom: bool = False
    # For CRDs: the CRD version entry (schema, printer columns, selectableFields).
    crd_version: JSON | None = None
    crd_name: str | None = None
    # Delete answers with the object (pods, CRs) instead of a Status (most built-ins).
    returns_deleted_object: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """The resource name as it appears in error messages: ``pods``, ``storageclasses.storage.k8s.io``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """The kind as it appears in Invalid messages: ``Pod``, ``StorageClass.storage.k8s.io``."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def key(self) -> tuple[str, str]:
        """Storage key: objects of all versions of one group/resource share a key."""
        return (self.group, self.plural)

    def selectable_fields(self, obj: JSON) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        fields = {"metadata.name": meta.get("name", "") or ""}
        fields["metadata.namespace"] = (meta.get("namespace") or "") if self.namespaced else ""
        for name, getter in self.field_getters.items():
            fields[name] = getter(obj)
        return fields


_POD_FIELDS: dict[str, FieldGetter] = {
    "spec.nodeName": field_getter("spec", "nodeName"),
    "spec.restartPolicy": field_getter("spec", "restartPolicy"),
    "spec.schedulerName": field_getter("spec", "schedulerName"),
    "spec.serviceAccountName": field_getter("spec", "serviceAccountName"),
    "spec.hostNetwork": lambda o: "true" if (o.get("spec") or {}).get("hostNetwork") else "false",
    "status.phase": field_getter("status", "phase"),
    "status.podIP": field_getter("status", "podIP"),
    "status.podIPs": lambda o: ",".join(
        str(p.get("ip", "")) for p in ((o.get("status") or {}).get("podIPs") or []) if isinstance(p, dict)
    ),
    "status.nominatedNodeName": field_getter("status", "nominatedNodeName"),
}

_EVENT_FIELDS: dict[str, FieldGetter] = {
    **{f"involvedObject.{k}": field_getter("involvedObject", k)
       for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reason": field_getter("reason"),
    "reportingComponent": field_getter("reportingComponent"),
    "source": field_getter("source", "component"),
    "type": field_getter("type"),
}

_EVENTS_V1_FIELDS: dict[str, FieldGetter] = {
    **{f"regarding.{k}": field_getter("regarding", k)
       for k in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reason": field_getter("reason"),
    "reportingController": field_getter("reportingController"),
    "type": field_getter("type"),
}


def _rt(group: str, version: str, kind: str, plural: str, namespaced: bool, short: Iterable[str] = (),
        categories: Iterable[str] = (), subresources: Iterable[str] = (),
        fields: dict[str, FieldGetter] | None = None, returns_deleted_object: bool = False,
        verbs: tuple[str, ...] | None = None) -> ResourceType:
    rt = ResourceType(
        group=group, version=version, kind=kind, plural=plural, singular=kind.lower(),
        namespaced=namespaced, short_names=tuple(short), categories=tuple(categories),
        subresources=tuple(subresources), field_getters=dict(fields or {}),
        returns_deleted_object=returns_deleted_object,
    )
    if verbs is not None:
        rt.verbs = verbs
    return rt


def builtin_types() -> list[ResourceType]:
    """The built-in types served at start (CRDs are added by the CRD controller)."""
    return [
        _rt("", "v1", "Namespace", "namespaces", False, ["ns"], subresources=["status", "finalize"],
            fields={"status.phase": field_getter("status", "phase")},
            verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
        _rt("", "v1", "Node", "nodes", False, ["no"], subresources=["status", "proxy"],
            fields={"spec.unschedulable": lambda o: "true" if (o.get("spec") or {}).get("unschedulable") else "false"}),
        _rt("", "v1", "Pod", "pods", True, ["po"], ["all"],
            subresources=["status", "binding", "log", "eviction", "exec", "attach", "portforward", "ephemeralcontainers"],
            fields=_POD_FIELDS, returns_deleted_object=True),
        _rt("", "v1", "PersistentVolume", "persistentvolumes", False, ["pv"], subresources=["status"],
            fields={"name": field_getter("metadata", "name")}),
        _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ["pvc"], subresources=["status"]),
        _rt("", "v1", "Event", "events", True, ["ev"], fields=_EVENT_FIELDS),
        _rt("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
        _rt("", "v1", "Secret", "secrets", True, fields={"type": field_getter("type")}),
        _rt("", "v1", "Service", "services", True, ["svc"], ["all"], subresources=["status", "proxy"]),
        _rt("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"], subresources=["token"]),
        _rt("", "v1", "Endpoints", "endpoints", True, ["ep"]),
        _rt("", "v1", "ResourceQuota", "resourcequotas", True, ["quota"], subresources=["status"]),
        _rt("", "v1", "LimitRange", "limitranges", True, ["limits"]),
        _rt("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ["sc"]),
        _rt("storage.k8s.io", "v1", "CSIDriver", "csidrivers", False),
        _rt("storage.k8s.io", "v1", "CSINode", "csinodes", False),
        _rt("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", True),
        _rt("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", False, subresources=["status"]),
        _rt("events.k8s.io", "v1", "Event", "events", True, ["ev"], fields=_EVENTS_V1_FIELDS),
        _rt("coordination.k8s.io", "v1", "Lease", "leases", True),
        _rt("apps", "v1", "Deployment", "deployments", True, ["deploy"], ["all"], subresources=["status", "scale"]),
        _rt("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"], ["all"], subresources=["status", "scale"]),
        _rt("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"], ["all"], subresources=["status", "scale"]),
        _rt("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"], ["all"], subresources=["status"]),
        _rt("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
            ["crd", "crds"], ["api-extensions"], subresources=["status"]),
        *_kubeadm_default_types(),
    ]


_GET_LIST = ("get", "list")


def _kubeadm_default_types() -> list[ResourceType]:
    """The rest of what a kubeadm 1.35 cluster serves by default (``kubectl api-resources``).

    Most are stored and served with their upstream schemas; the controllers that act on some
    of them (Job, CronJob, EndpointSlice, PodDisruptionBudget, ControllerRevision) live in
    ``controllers/``. Beta and alpha groups that 1.35 leaves off by default are not listed.
    """
    rbac = "rbac.authorization.k8s.io"
    admission = "admissionregistration.k8s.io"
    flow = "flowcontrol.apiserver.k8s.io"
    return [
        _rt("", "v1", "Binding", "bindings", True, verbs=("create",)),
        _rt("", "v1", "ComponentStatus", "componentstatuses", False, ["cs"], verbs=_GET_LIST),
        _rt("", "v1", "PodTemplate", "podtemplates", True),
        _rt("", "v1", "ReplicationController", "replicationcontrollers", True, ["rc"], ["all"],
            subresources=["status", "scale"]),
        _rt(admission, "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", False,
            categories=["api-extensions"]),
        _rt(admission, "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", False,
            categories=["api-extensions"]),
        _rt(admission, "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", False,
            categories=["api-extensions"], subresources=["status"]),
        _rt(admission, "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", False,
            categories=["api-extensions"]),
        _rt("apiregistration.k8s.io", "v1", "APIService", "apiservices", False, categories=["api-extensions"],
            subresources=["status"]),
        _rt("apps", "v1", "ControllerRevision", "controllerrevisions", True),
        _rt("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["hpa"], ["all"],
            subresources=["status"]),
        _rt("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["hpa"], ["all"],
            subresources=["status"]),
        _rt("batch", "v1", "CronJob", "cronjobs", True, ["cj"], ["all"], subresources=["status"]),
        _rt("batch", "v1", "Job", "jobs", True, categories=["all"], subresources=["status"],
            fields={"status.successful": lambda o: str((o.get("status") or {}).get("succeeded") or 0)}),
        _rt("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", False,
            ["csr"], subresources=["status", "approval"],
            fields={"spec.signerName": field_getter("spec", "signerName")}),
        _rt("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
        _rt(flow, "v1", "FlowSchema", "flowschemas", False, subresources=["status"]),
        _rt(flow, "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", False,
            subresources=["status"]),
        _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", False),
        _rt("networking.k8s.io", "v1", "Ingress", "ingresses", True, ["ing"], subresources=["status"]),
        _rt("networking.k8s.io", "v1", "IPAddress", "ipaddresses", False, ["ip"]),
        _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ["netpol"]),
        _rt("networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", False, subresources=["status"]),
        _rt("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", False),
        _rt("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"],
            subresources=["status"]),
        _rt(rbac, "v1", "ClusterRoleBinding", "clusterrolebindings", False),
        _rt(rbac, "v1", "ClusterRole", "clusterroles", False),
        _rt(rbac, "v1", "RoleBinding", "rolebindings", True),
        _rt(rbac, "v1", "Role", "roles", True),
        _rt("resource.k8s.io", "v1", "DeviceClass", "deviceclasses", False),
        _rt("resource.k8s.io", "v1", "ResourceClaim", "resourceclaims", True, subresources=["status"]),
        _rt("resource.k8s.io", "v1", "ResourceClaimTemplate", "resourceclaimtemplates", True),
        _rt("resource.k8s.io", "v1", "ResourceSlice", "resourceslices", False),
        _rt("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, ["pc"]),
        _rt("storage.k8s.io", "v1", "VolumeAttributesClass", "volumeattributesclasses", False, ["vac"]),
    ]


class Registry:
    """Resource types by group/version/plural, with kubectl-style name resolution."""

    def __init__(self, types: Iterable[ResourceType] = ()) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self._resolved: dict[str, ResourceType] = {}
        # Every name kubectl accepts for a type -> the types it names, in registration order;
        # built on the first resolve after a change (a fresh cluster resolves ~20 names right
        # after installing its CRDs: one pass over the types instead of one per name).
        self._aliases: dict[str, list[ResourceType]] | None = None
        for rt in types:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        key = (rt.group, rt.version, rt.plural)
        replaced = key in self._by_gvr
        self._by_gvr[key] = rt
        self._resolved.clear()
        if self._aliases is not None:
            if replaced:
                self._aliases = None      # rebuilt on the next resolve (types are rarely replaced)
            else:                         # a new type goes last, as in a rebuild
                for alias in _aliases_of(rt):
                    self._aliases.setdefault(alias, []).append(rt)

    def remove(self, group: str, version: str, plural: str) -> None:
        self._by_gvr.pop((group, version, plural), None)
        self._resolved.clear()
        self._aliases = None

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_gvr.get((group, version, plural))

    def all(self) -> list[ResourceType]:
        return list(self._by_gvr.values())

    def groups(self) -> dict[str, list[str]]:
        """Group name -> versions, in registration order (core group is "")."""
        out: dict[str, list[str]] = {}
        for rt in self._by_gvr.values():
            versions = out.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return out

    def for_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        for rt in self._by_gvr.values():
            if rt.group == group and rt.version == version and rt.kind == kind:
                return rt
        return None

    def resolve(self, name: str) -> ResourceType:
        """Find a type as kubectl would: plural, singular, short name or ``plural.group``.

        The core group wins ties (``events`` is core/v1 events).
        """
        cached = self._resolved.get(name)
        if cached is not None:
            return cached
        if self._aliases is None:
            self._aliases = self._alias_index()
        candidates = list(self._aliases.get(name.lower(), ()))
        if not candidates:
            raise KeyError(name)
        candidates.sort(key=lambda rt: (rt.group != "", rt.group))
        self._resolved[name] = candidates[0]
        return candidates[0]

    def _alias_index(self) -> dict[str, list[ResourceType]]:
        index: dict[str, list[ResourceType]] = {}
        for rt in self._by_gvr.values():
            for alias in _aliases_of(rt):
                index.setdefault(alias, []).append(rt)
        return index


def _aliases_of(rt: ResourceType) -> set[str]:
    """Every name kubectl resolves to ``rt``: plural, singular, kind, short names, each also
    qualified by group and by version.group."""
    names = {rt.plural, rt.singular, rt.kind.lower(), *rt.short_names}
    aliases = set(names)
    if rt.group:
        aliases.update(f"{n}.{rt.group}" for n in names)
        aliases.update(f"{n}.{rt.version}.{rt.group}" for n in names)
    return aliases
