"""The kubelet's volume manager: may a pod's volumes be mounted on its node yet?

Claims are resolved as the volume manager's desired-state populator does (a claim being deleted,
unbound, or bound to a missing PV is an error that fails the pod's sync with ``FailedMount``), and
CSI volumes wait until the VolumeAttachment the attach/detach controller creates is attached. Only
volumes some container mounts or maps are waited for (``util.GetPodVolumeNames``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..client.base import JSON, ApiError, Client
from ..client.informer import Informer
from ..kube.attachments import attach_required, attachment_name, pod_claims
from ..kube.names import PVC_PROTECTION_FINALIZER
from .events import go_list

# volume_manager.go WaitForAttachAndMount / desired_state_of_world_populator.go
MSG_MOUNT_WAIT = "unmounted volumes={unmounted}, unattached volumes={unattached}, failed to process volumes={failed}: {error}"
MSG_PVC_ERROR = "error processing PVC {namespace}/{claim}: {error}"
MSG_PVC_FETCH = "failed to fetch PVC from API server: {error}"
MSG_PVC_DELETING = "PVC is being deleted"
MSG_PVC_NOT_BOUND = "PVC is not bound"
MSG_PVC_NO_VOLUME = "PVC has empty pvc.Spec.VolumeName"
MSG_PV_FETCH = "failed to fetch PV {pv} from API server: {error}"
MSG_PV_NO_CLAIM_REF = ("found PV object {pv} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound "
                       "to the claim")
MSG_NOT_FOUND = '{resource} "{name}" not found'


def mounted_volume_names(pod: JSON) -> list[str]:
    """Volumes some container mounts or maps (util.GetPodVolumeNames): only these are waited for."""
    names: set[str] = set()
    spec = pod.get("spec") or {}
    for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for m in c.get("volumeMounts") or []:
            names.add(str(m.get("name")))
        for d in c.get("volumeDevices") or []:
            names.add(str(d.get("name")))
    return sorted(names)


@dataclass
class VolumeReport:
    """Claim errors (failed to process) and CSI volumes still waiting for their attachment."""

    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unattached: list[str] = field(default_factory=list)

    def mount_error(self) -> str:
        """The error of ``WaitForAttachAndMount`` (the ``{error}`` of the FailedMount message)."""
        unattached = sorted(set(self.unattached))
        return MSG_MOUNT_WAIT.format(unmounted=go_list(sorted(set(self.failed) | set(unattached))),
                                     unattached=go_list(unattached), failed=go_list(sorted(self.failed)),
                                     error="; ".join(sorted(set(self.errors))))


class VolumeManager:
    """The volume manager's view of a pod, from the kubelet's informer caches (API reads on a miss)."""

    def __init__(self, client: Client, pvcs: Informer, pvs: Informer, vas: Informer, csidrivers: Informer) -> None:
        self.client = client
        self.pvcs = pvcs
        self.pvs = pvs
        self.vas = vas
        self.csidrivers = csidrivers

    async def report(self, pod: JSON, node: str) -> VolumeReport:
        report = VolumeReport()
        ns = str(pod["metadata"].get("namespace") or "")
        wanted = set(mounted_volume_names(pod))
        for vol_name, claim in pod_claims(pod):
            if vol_name not in wanted:
                continue
            pv, error = await self.claim_volume(ns, claim)
            if error is not None:
                report.failed.append(vol_name)
                report.errors.append(MSG_PVC_ERROR.format(namespace=ns, claim=claim, error=error))
                continue
            csi = ((pv or {}).get("spec") or {}).get("csi") or {}
            if not csi.get("driver") or not attach_required(self.csidrivers.get(str(csi["driver"]))):
                continue
            va = self.vas.get(attachment_name(str(csi.get("volumeHandle") or ""), str(csi["driver"]), node))
            if not ((va or {}).get("status") or {}).get("attached"):
                report.unattached.append(vol_name)
        return report

    async def claim_volume(self, ns: str, claim: str) -> tuple[JSON | None, str | None]:
        """The PV a claim is bound to, or the populator's error for it."""
        pvc = self.pvcs.get(claim, ns)
        if pvc is None:
            try:
                pvc = await self.client.get("persistentvolumeclaims", claim, ns)
            except ApiError as err:
                if err.code != 404:
                    raise
                return None, MSG_PVC_FETCH.format(error=MSG_NOT_FOUND.format(resource="persistentvolumeclaims",
                                                                              name=claim))
        meta = pvc.get("metadata") or {}
        if meta.get("deletionTimestamp") and PVC_PROTECTION_FINALIZER not in (meta.get("finalizers") or []):
            return None, MSG_PVC_DELETING
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return None, MSG_PVC_NOT_BOUND
        pv_name = (pvc.get("spec") or {}).get("volumeName")
        if not pv_name:
            return None, MSG_PVC_NO_VOLUME
        pv = self.pvs.get(str(pv_name))
        if pv is None:
            try:
                pv = await self.client.get("persistentvolumes", str(pv_name))
            except ApiError as err:
                if err.code != 404:
                    raise
                return None, MSG_PV_FETCH.format(pv=pv_name, error=MSG_NOT_FOUND.format(
                    resource="persistentvolumes", name=pv_name))
        if not (pv.get("spec") or {}).get("claimRef"):
            return None, MSG_PV_NO_CLAIM_REF.format(pv=pv_name)
        return pv, None
