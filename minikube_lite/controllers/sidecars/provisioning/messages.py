"""What the external provisioner writes and reads by name: annotations, finalizers, resource names,
event reasons and the exact upstream message literals (storage.md §0, §3).

Kept apart so the messages read as one list, the way upstream tests compare them, and so every
module of the provisioner formats a failure from the same constant.
"""

from __future__ import annotations

# ---------------------------------------------------------------- annotations and finalizers (§0.1, §0.2)
ANN_DELETION_SECRET_NAME = "volume.kubernetes.io/provisioner-deletion-secret-name"
ANN_DELETION_SECRET_NAMESPACE = "volume.kubernetes.io/provisioner-deletion-secret-namespace"
PV_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer"
SNAPSHOT_SOURCE_FINALIZER = "provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection"
CLONE_FINALIZER = "provisioner.storage.kubernetes.io/cloning-protection"
PROVISIONER_ID_KEY = "storage.kubernetes.io/csiProvisionerIdentity"

CSI_PARAMETER_PREFIX = "csi.storage.k8s.io/"
PREFIXED_FSTYPE_KEY = CSI_PARAMETER_PREFIX + "fstype"
#: The reserved parameters external-provisioner understands (EP controller.go removePrefixedParameters).
KNOWN_PREFIXED_KEYS = frozenset(CSI_PARAMETER_PREFIX + k for k in (
    "fstype", "secret-name", "secret-namespace",
    "provisioner-secret-name", "provisioner-secret-namespace",
    "controller-publish-secret-name", "controller-publish-secret-namespace",
    "node-stage-secret-name", "node-stage-secret-namespace",
    "node-publish-secret-name", "node-publish-secret-namespace",
    "controller-expand-secret-name", "controller-expand-secret-namespace",
    "node-expand-secret-name", "node-expand-secret-namespace",
))

SNAPSHOT_KIND = "VolumeSnapshot"
SNAPSHOT_GROUP = "snapshot.storage.k8s.io"
PVC_KIND = "PersistentVolumeClaim"
VS_RESOURCE = "volumesnapshots.snapshot.storage.k8s.io"
VSC_RESOURCE = "volumesnapshotcontents.snapshot.storage.k8s.io"

# ---------------------------------------------------------------- event reasons (§3.2, §3.8)
REASON_PROVISIONING = "Provisioning"
REASON_PROVISIONING_SUCCEEDED = "ProvisioningSucceeded"
REASON_PROVISIONING_FAILED = "ProvisioningFailed"
REASON_VOLUME_FAILED_DELETE = "VolumeFailedDelete"

# ---------------------------------------------------------------- messages (exact upstream literals)
MSG_PROVISIONING = 'External provisioner is provisioning volume for claim "{ns}/{name}"'
MSG_PROVISIONING_SUCCEEDED = "Successfully provisioned volume {pv}"
MSG_EXTERNAL_POPULATOR = "Assuming an external populator will provision the volume"
MSG_PROVISION_FAILED = 'failed to provision volume with StorageClass "{sc}": {err}'
MSG_INFEASIBLE = "Volume provisioning failed with infeasible error. Retries will be delayed. {err}"
MSG_SELECTOR_UNSUPPORTED = "claim Selector is not supported"
MSG_UNKNOWN_PREFIXED_KEY = 'found unknown parameter key "{key}" with reserved namespace ' + CSI_PARAMETER_PREFIX
MSG_STRIP_PARAMETERS = "failed to strip CSI Parameters of prefixed keys: {err}"
MSG_TWO_FSTYPES = 'fstype specified in parameters with both "fstype" and "' + PREFIXED_FSTYPE_KEY + '" keys'
MSG_DATASOURCE_HANDLE = "error getting handle for DataSource Type {kind} by Name {name}: {err}"
MSG_WRONG_SNAPSHOT_GROUP = "the PVC source does not belong to the right APIGroup. Expected {want}, Got {got}"
MSG_NO_SNAPSHOT_SUPPORT = ("CSI driver does not support snapshot restore: controller CREATE_DELETE_SNAPSHOT "
                           "capability is not reported")
MSG_NO_CLONE_SUPPORT = "CSI driver does not support clone operations: controller CLONE_VOLUME capability is not reported"
# Restore from a VolumeSnapshot (§3.6).
MSG_SNAPSHOT_GET = "error getting snapshot {name} from api server: {err}"
MSG_SNAPSHOT_DELETING = "snapshot {name} is being deleted"
MSG_SNAPSHOT_NOT_BOUND = "snapshot {name} not bound"
MSG_SNAPSHOT_OTHER_REF = "snapshotcontent {content} for snapshot {ns}/{name} is bound to a different snapshot"
MSG_SNAPSHOT_OTHER_DRIVER = ("snapshotcontent {content} for snapshot {ns}/{name} is not handled by CSI driver of "
                             "StorageClass {sc}")
MSG_SNAPSHOT_NOT_READY = "snapshot {name} is not Ready"
MSG_SNAPSHOT_NO_HANDLE = "snapshot handle {name} is not available"
MSG_SNAPSHOT_TOO_SMALL = "requested volume size {req} is less than the size {size} for the source snapshot {name}"
# Clone from a PVC (§3.7).
MSG_CLONE_GET = 'error getting PVC {name} (namespace "{ns}") from api server: {err}'
MSG_CLONE_NOT_BOUND = "the PVC DataSource {name} must have a status of Bound.  Got {status}"
MSG_CLONE_DELETING = "the PVC DataSource {name} is currently being deleted"
MSG_CLONE_SOURCE_NO_CLASS = "the source PVC ({name}) storageclass cannot be empty"
MSG_CLONE_NO_CLASS = "the requested PVC ({name}) storageclass cannot be empty"
MSG_CLONE_TOO_SMALL = ("error, new PVC request must be greater than or equal in size to the specified PVC data "
                       "source, requested {req} but source is {size}")
MSG_CLONE_NO_VOLUME = "volume name is empty in source PVC {name}"
MSG_CLONE_INVALID = "claim in dataSource not bound or invalid"
MSG_CLONE_BLOCK_TO_FS = ("the source PVC and destination PVCs must have the same volume mode for cloning.  "
                         "Source is Block, but new PVC requested Filesystem")
MSG_CLONE_FS_TO_BLOCK = ("the source PVC and destination PVCs must have the same volume mode for cloning.  "
                         "Source is Filesystem, but new PVC requested Block")
# Topology (§3.4).
MSG_TOPOLOGY_GENERATE = "error generating accessibility requirements: {err}"
# Lister errors (client-go NewNotFound with the lister's group-resource).
MSG_NODE_NOT_FOUND = 'node "{node}" not found'
MSG_CSINODE_NOT_FOUND = 'csinode.storage.k8s.io "{node}" not found'
MSG_NO_TOPOLOGY_KEY = "no topology key found on CSINode {node}"
MSG_TOPOLOGY_NOT_IN_REQUISITE = 'topology {topology} from selected node "{node}" is not in requisite: {requisite}'
MSG_TOPOLOGY_MISSING_LABEL = ("topology labels from selected node {labels} does not match topology keys from "
                              "CSINode {keys}")
MSG_NO_ALLOWED_MATCH = "selected node {node} topology {topology} is not in allowed topologies {allowed}"
# Response checks (§3.5).
MSG_SAVE_PV_FAILED = "Error creating provisioned PV object for claim {ns}/{name}: {err}. Deleting the volume."
MSG_CAPACITY_TOO_SMALL = "created volume capacity {got} less than requested capacity {want}"
# Deletion (§3.8).
MSG_STILL_ATTACHED = "persistentvolume {pv} is still attached to node {node}"
