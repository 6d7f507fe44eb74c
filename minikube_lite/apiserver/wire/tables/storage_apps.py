"""Printers for storage.k8s.io, apps, coordination and apiextensions types ([P] print* functions)."""

from __future__ import annotations

from minikube_lite.kube.quantity import canonical

from .common import (
    CREATION_DESCRIPTION,
    JSON,
    Cell,
    age_col,
    age_of,
    col,
    container_cells,
    d,
    dct,
    format_label_selector,
    format_labels,
    i,
    lst,
    name_col,
    name_of,
    s,
    selector_string,
)

DEFAULT_CLASS_ANNOTATIONS = ("storageclass.kubernetes.io/is-default-class",
                             "storageclass.beta.kubernetes.io/is-default-class")

STORAGECLASS_COLUMNS = [
    name_col(),
    col("Provisioner", description="provisioner indicates the type of the provisioner."),
    col("ReclaimPolicy", description="reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
        "PersistentVolumes of this storage class. Defaults to Delete."),
    col("VolumeBindingMode", description="volumeBindingMode indicates how PersistentVolumeClaims should be "
        "provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by "
        "servers that enable the VolumeScheduling feature."),
    col("AllowVolumeExpansion", description="allowVolumeExpansion shows whether the storage class allow volume "
        "expand."),
    age_col(),
]


def is_default_class(sc: JSON) -> bool:
    """``IsDefaultAnnotation``: either annotation with the exact value ``"true"`` (1.35 marks every one)."""
    annotations = dct(sc, "metadata", "annotations")
    return any(annotations.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def storageclass_row(sc: JSON, now: float) -> list[Cell]:
    name = name_of(sc) + (" (default)" if is_default_class(sc) else "")
    allow = d(sc, "allowVolumeExpansion")
    return [
        name, s(sc, "provisioner"), s(sc, "reclaimPolicy") or "Delete", s(sc, "volumeBindingMode") or "Immediate",
        allow if isinstance(allow, bool) else False, age_of(sc, now),
    ]


CSIDRIVER_COLUMNS = [
    name_col(),
    col("AttachRequired", "boolean", "Indicates this CSI volume driver requires an attach operation (because it "
        "implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller "
        "should call the attach volume interface which checks the volumeattachment status and waits until the "
        "volume is attached before proceeding to mounting."),
    col("PodInfoOnMount", "boolean", "If set to true, podInfoOnMount indicates this CSI volume driver requires "
        "additional pod information (like podName, podUID, etc.) during mount operations."),
    col("StorageCapacity", "boolean", "If set to true, storageCapacity indicates that the CSI volume driver "
        "wants pod scheduling to consider the storage capacity that the driver deployment will report by "
        "creating CSIStorageCapacity objects with capacity information."),
    col("TokenRequests", "string", "TokenRequests indicates the CSI driver needs pods' service account tokens it "
        "is mounting volume for to do necessary authentication."),
    col("RequiresRepublish", "boolean", "RequiresRepublish indicates the CSI driver wants `NodePublishVolume` "
        "being periodically called to reflect any possible change in the mounted volume."),
    col("Modes", "string", "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports."),
    age_col(),
]


def _bool(value: object, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def csidriver_row(drv: JSON, now: float) -> list[Cell]:
    spec = dct(drv, "spec")
    tokens = d(spec, "tokenRequests")
    token_cell = "<unset>"
    if isinstance(tokens, list):
        token_cell = ",".join(s(t, "audience") for t in tokens)
    modes = ",".join(str(m) for m in lst(spec, "volumeLifecycleModes")) or "<none>"
    return [
        name_of(drv), _bool(d(spec, "attachRequired"), True), _bool(d(spec, "podInfoOnMount"), False),
        _bool(d(spec, "storageCapacity"), False), token_cell, _bool(d(spec, "requiresRepublish"), False), modes,
        age_of(drv, now),
    ]


CSINODE_COLUMNS = [
    name_col(),
    col("Drivers", "integer", "Drivers indicates the number of CSI drivers registered on the node"),
    age_col(),
]


def csinode_row(node: JSON, now: float) -> list[Cell]:
    return [name_of(node), len(lst(node, "spec", "drivers")), age_of(node, now)]


VOLUMEATTACHMENT_COLUMNS = [
    name_col(),
    col("Attacher", description="Attacher indicates the name of the volume driver that MUST handle this request. "
        "This is the name returned by GetPluginName().", fmt="name"),
    col("PV", description="Name of the persistent volume to attach."),
    col("Node", description="The node that the volume should be attached to."),
    col("Attached", "boolean", "Indicates the volume is successfully attached. This field must only be set by "
        "the entity completing the attach operation, i.e. the external-attacher."),
    age_col(),
]


def volumeattachment_row(va: JSON, now: float) -> list[Cell]:
    attached = d(va, "status", "attached")
    return [
        name_of(va), s(va, "spec", "attacher"), s(va, "spec", "source", "persistentVolumeName"),
        s(va, "spec", "nodeName"), attached if isinstance(attached, bool) else False, age_of(va, now),
    ]


CSISTORAGECAPACITY_COLUMNS = [
    name_col(),
    col("StorageClassName", description="storageClassName represents the name of the StorageClass that the "
        "reported capacity applies to."),
    col("Capacity", description="capacity is the value reported by the CSI driver in its GetCapacityResponse "
        "for a GetCapacityRequest with topology and parameters that match the previous fields."),
]


def csistoragecapacity_row(cap: JSON, now: float) -> list[Cell]:
    capacity = d(cap, "capacity")
    return [name_of(cap), s(cap, "storageClassName"), canonical(capacity) if capacity is not None else "<unset>"]


# --- apps ----------------------------------------------------------------------------------------

_CONTAINERS = "Names of each container in the template."
_IMAGES = "Images referenced by each container in the template."
_SELECTOR = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones " \
            "affected by this deployment."

DEPLOYMENT_COLUMNS = [
    name_col(),
    col("Ready", description="Number of the pod with ready state"),
    col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the "
        "desired template spec."),
    col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by "
        "this deployment."),
    age_col(),
    col("Containers", description=_CONTAINERS, priority=1),
    col("Images", description=_IMAGES, priority=1),
    col("Selector", description=_SELECTOR, priority=1),
]


def _template_containers(obj: JSON) -> tuple[str, str]:
    return container_cells(d(obj, "spec", "template", "spec", "containers"))


def deployment_row(dep: JSON, now: float) -> list[Cell]:
    names, images = _template_containers(dep)
    sel = selector_string(d(dep, "spec", "selector"))
    return [
        name_of(dep), f"{i(dep, 'status', 'readyReplicas')}/{i(dep, 'spec', 'replicas')}",
        i(dep, "status", "updatedReplicas"), i(dep, "status", "availableReplicas"), age_of(dep, now),
        names, images, "<invalid>" if sel is None else sel,
    ]


REPLICASET_COLUMNS = [
    name_col(),
    col("Desired", "integer", "Replicas is the number of desired replicas. This is a pointer to distinguish "
        "between explicit zero and unspecified. Defaults to 1. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller"),
    col("Current", "integer", "Replicas is the most recently observed number of replicas. More info: "
        "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller"),
    col("Ready", "integer", "The number of ready replicas for this replica set. A pod is counted as ready when "
        "it is ready for at least minReadySeconds."),
    age_col(),
    col("Containers", description=_CONTAINERS, priority=1),
    col("Images", description=_IMAGES, priority=1),
    col("Selector", description="Selector is a label query over pods that should match the replica count. Label "
        "keys and values that must match in order to be controlled by this replica set. It must match the pod "
        "template's labels. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", priority=1),
]


def replicaset_row(rs: JSON, now: float) -> list[Cell]:
    names, images = _template_containers(rs)
    return [
        name_of(rs), i(rs, "spec", "replicas"), i(rs, "status", "replicas"), i(rs, "status", "readyReplicas"),
        age_of(rs, now), names, images, format_label_selector(d(rs, "spec", "selector")),
    ]


STATEFULSET_COLUMNS = [
    name_col(),
    col("Ready", description="Number of the pod with ready state"),
    age_col(),
    col("Containers", description=_CONTAINERS, priority=1),
    col("Images", description=_IMAGES, priority=1),
]


def statefulset_row(sts: JSON, now: float) -> list[Cell]:
    names, images = _template_containers(sts)
    return [
        name_of(sts), f"{i(sts, 'status', 'readyReplicas')}/{i(sts, 'spec', 'replicas')}", age_of(sts, now),
        names, images,
    ]


DAEMONSET_COLUMNS = [
    name_col(),
    col("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes "
        "correctly running the daemon pod)."),
    col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to "
        "run the daemon pod."),
    col("Ready", "integer", "numberReady is the number of nodes that should be running the daemon pod and have "
        "one or more of the daemon pod running with a Ready Condition."),
    col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod"),
    col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more "
        "of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
    col("Node Selector", description="NodeSelector is a selector which must be true for the pod to fit on a "
        "node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: "
        "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
    age_col(),
    col("Containers", description=_CONTAINERS, priority=1),
    col("Images", description=_IMAGES, priority=1),
    col("Selector", description="A label query over pods that are managed by the daemon set. Must match in "
        "order to be controlled. It must match the pod template's labels. More info: "
        "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", priority=1),
]


def daemonset_row(ds: JSON, now: float) -> list[Cell]:
    names, images = _template_containers(ds)
    st = dct(ds, "status")
    return [
        name_of(ds), i(st, "desiredNumberScheduled"), i(st, "currentNumberScheduled"), i(st, "numberReady"),
        i(st, "updatedNumberScheduled"), i(st, "numberAvailable"),
        format_labels(d(ds, "spec", "template", "spec", "nodeSelector")), age_of(ds, now), names, images,
        format_label_selector(d(ds, "spec", "selector")),
    ]


# --- coordination, apiextensions ------------------------------------------------------------------

LEASE_COLUMNS = [
    name_col(),
    col("Holder", description="The holder of the lease"),
    age_col(),
]


def lease_row(lease: JSON, now: float) -> list[Cell]:
    return [name_of(lease), s(lease, "spec", "holderIdentity"), age_of(lease, now)]


CRD_COLUMNS = [name_col(), col("Created At", "date", CREATION_DESCRIPTION)]


def crd_row(crd: JSON, now: float) -> list[Cell]:
    """The generic convertor: the creation time as UTC RFC 3339, not an age."""
    stamp = s(crd, "metadata", "creationTimestamp")
    return [name_of(crd), stamp or "0001-01-01T00:00:00Z"]


