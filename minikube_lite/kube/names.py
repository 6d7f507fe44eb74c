"""Well-known Kubernetes names: labels, annotations, finalizers and taint keys, each defined once.

Spelled exactly as upstream (``k8s.io/api/core/v1`` well_known_labels.go and well_known_taints.go,
the PV controller's and external-provisioner's annotations, storage.md §0.1-§0.2, §5.1). The API
server, the controllers, the scheduler and the config file all write or read them, and a name
spelt two ways would silently split one behaviour in two.
"""

from __future__ import annotations

# ---------------------------------------------------------------- node labels (well_known_labels.go)
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
HOSTNAME_LABEL = "kubernetes.io/hostname"
LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
LEGACY_REGION_LABEL = "failure-domain.beta.kubernetes.io/region"
#: The zone/region keys the scheduler and the PV labeller accept, GA first.
ZONE_LABELS = (ZONE_LABEL, LEGACY_ZONE_LABEL)
REGION_LABELS = (REGION_LABEL, LEGACY_REGION_LABEL)
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
LEGACY_INSTANCE_TYPE_LABEL = "beta.kubernetes.io/instance-type"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"

# ---------------------------------------------------------------- node taints (well_known_taints.go)
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
#: Where each kubelet keeps its node's Lease (its frequent heartbeat).
NODE_LEASE_NAMESPACE = "kube-node-lease"

# ---------------------------------------------------------------- PV/PVC annotations (storage.md §0.1)
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
ANN_STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
ANN_BETA_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
ANN_MIGRATED_TO = "pv.kubernetes.io/migrated-to"
ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_IS_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_IS_DEFAULT_CLASS = "storageclass.beta.kubernetes.io/is-default-class"
ANN_SNAPSHOT_DEFAULT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"

#: The provisioner of statically created local PVs: nothing provisions them.
NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner"

# ---------------------------------------------------------------- finalizers (storage.md §0.2)
PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection"
PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection"
