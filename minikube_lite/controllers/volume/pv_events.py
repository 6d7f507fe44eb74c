"""The PV controller's event reasons and messages, upstream's exact text (storage.md §1.4-§1.10).

Kept apart from the controller so that its module holds only behaviour; tests and readers find
every string the controller can put in an Event here.
"""

from __future__ import annotations

# Event reasons (pkg/controller/volume/events).
REASON_FAILED_BINDING = "FailedBinding"
REASON_VOLUME_MISMATCH = "VolumeMismatch"
REASON_CLAIM_LOST = "ClaimLost"
REASON_CLAIM_MISBOUND = "ClaimMisbound"
REASON_PROVISIONING_FAILED = "ProvisioningFailed"
REASON_EXTERNAL_PROVISIONING = "ExternalProvisioning"
REASON_WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
REASON_WAIT_FOR_POD_SCHEDULED = "WaitForPodScheduled"
REASON_VOLUME_FAILED_DELETE = "VolumeFailedDelete"
REASON_VOLUME_FAILED_RECYCLE = "VolumeFailedRecycle"
REASON_UNKNOWN_RECLAIM_POLICY = "VolumeUnknownReclaimPolicy"

# Event messages (storage.md §1.4-§1.10).
MSG_WAIT_FOR_FIRST_CONSUMER = "waiting for first consumer to be created before binding"
MSG_WAIT_FOR_POD = "waiting for pod {} to be scheduled"
MSG_WAIT_FOR_PODS = "waiting for pods {} to be scheduled"
MSG_NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
MSG_CANNOT_BIND_REQUESTED = 'Cannot bind to requested volume "{}": {}'
MSG_ALREADY_BOUND = 'volume "{}" already bound to a different claim.'
MSG_LOST_REFERENCE = "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!"
MSG_LOST_VOLUME = "Bound claim has lost its PersistentVolume. Data on the volume is lost!"
MSG_MISBOUND = "Two claims are bound to the same volume, this one is bound incorrectly"
MSG_CLASS_NOT_FOUND = 'storageclass.storage.k8s.io "{}" not found'
MSG_NO_PLUGIN = "no volume plugin matched name: {}"
MSG_EXTERNAL_PROVISIONING = (
    "Waiting for a volume to be created either by the external provisioner '{}' or manually by the system "
    "administrator. If volume creation is delayed, please verify that the provisioner is running and "
    "correctly registered."
)
MSG_SAVE_CLAIM_FAILED = "Error saving claim: {}"
MSG_VOLUME_MODE_MISMATCH_PV = ('Cannot bind PersistentVolume to requested PersistentVolumeClaim "{}" due to '
                               "incompatible volumeMode.")
MSG_VOLUME_MODE_MISMATCH_PVC = ('Cannot bind PersistentVolume "{}" to requested PersistentVolumeClaim due to '
                                "incompatible volumeMode.")
MSG_NO_DELETER = 'error getting deleter volume plugin for volume "{}": no deletable volume plugin matched'
MSG_NO_RECYCLER = "No recycler plugin found for the volume!"
MSG_UNKNOWN_RECLAIM_POLICY = "Volume has unrecognized PersistentVolumeReclaimPolicy"
