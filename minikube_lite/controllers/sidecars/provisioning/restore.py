"""The data-source checks of external-provisioner: restore from a VolumeSnapshot (storage.md §3.6)
and clone from a PVC (§3.7).

Why apart: each check is an upstream rule with its own message, in upstream's order; as
functions of the API client they read as the checklist they are, without the controller around.
"""

from __future__ import annotations

from ....client.base import JSON, ApiError, Client
from ....client.informer import Informer
from ....kube.volumes import storage_bytes
from .driver import Capabilities
from .errors import ProvisioningError
from .fields import deleting, has_finalizer, is_block, request_bytes
from .messages import (
    MSG_CLONE_BLOCK_TO_FS,
    MSG_CLONE_DELETING,
    MSG_CLONE_FS_TO_BLOCK,
    MSG_CLONE_GET,
    MSG_CLONE_INVALID,
    MSG_CLONE_NO_CLASS,
    MSG_CLONE_NO_VOLUME,
    MSG_CLONE_NOT_BOUND,
    MSG_CLONE_SOURCE_NO_CLASS,
    MSG_CLONE_TOO_SMALL,
    MSG_NO_CLONE_SUPPORT,
    MSG_NO_SNAPSHOT_SUPPORT,
    MSG_SNAPSHOT_DELETING,
    MSG_SNAPSHOT_GET,
    MSG_SNAPSHOT_NO_HANDLE,
    MSG_SNAPSHOT_NOT_BOUND,
    MSG_SNAPSHOT_NOT_READY,
    MSG_SNAPSHOT_OTHER_DRIVER,
    MSG_SNAPSHOT_OTHER_REF,
    MSG_SNAPSHOT_TOO_SMALL,
    MSG_WRONG_SNAPSHOT_GROUP,
    PVC_KIND,
    SNAPSHOT_GROUP,
    SNAPSHOT_KIND,
    SNAPSHOT_SOURCE_FINALIZER,
    VS_RESOURCE,
    VSC_RESOURCE,
)


def provisioner_handles(claim: JSON, source: JSON, caps: Capabilities) -> bool:
    """The first checks of prepareProvision on a claim's data source.

    True for a source the provisioner restores or clones from (and the driver can); False for any
    other kind, which an external populator fills. Raises ProvisioningError for a source it
    cannot use.
    """
    kind = source.get("kind")
    if not source.get("name"):
        raise ProvisioningError(f"the PVC source not found for PVC {claim['metadata']['name']}")
    if kind == SNAPSHOT_KIND:
        if (source.get("apiGroup") or "") != SNAPSHOT_GROUP:
            raise ProvisioningError(MSG_WRONG_SNAPSHOT_GROUP.format(want=SNAPSHOT_GROUP,
                                                                    got=source.get("apiGroup") or ""))
        if not caps.snapshots:
            raise ProvisioningError(MSG_NO_SNAPSHOT_SUPPORT)
        return True
    if kind == PVC_KIND and not source.get("apiGroup"):
        if not caps.clone:
            raise ProvisioningError(MSG_NO_CLONE_SUPPORT)
        return True
    return False


async def snapshot_handle(client: Client, claim: JSON, cls: JSON, ns: str, name: str) -> str:
    """getSnapshotSource: every check in order, each failing with its upstream message."""
    try:
        vs = await client.get(VS_RESOURCE, name, ns)
    except ApiError as err:
        raise ProvisioningError(MSG_SNAPSHOT_GET.format(name=name, err=err.message)) from None
    if deleting(vs) and not has_finalizer(vs, SNAPSHOT_SOURCE_FINALIZER):
        raise ProvisioningError(MSG_SNAPSHOT_DELETING.format(name=name))
    status = vs.get("status") or {}
    content_name = status.get("boundVolumeSnapshotContentName")
    if not content_name:
        raise ProvisioningError(MSG_SNAPSHOT_NOT_BOUND.format(name=name))
    try:
        content = await client.get(VSC_RESOURCE, content_name)
    except ApiError:
        raise ProvisioningError(MSG_SNAPSHOT_NOT_BOUND.format(name=name)) from None
    ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
    vs_meta = vs["metadata"]
    if (ref.get("uid"), ref.get("namespace"), ref.get("name")) != (vs_meta.get("uid"), ns, name):
        raise ProvisioningError(MSG_SNAPSHOT_OTHER_REF.format(content=content_name, ns=ns, name=name))
    if (content.get("spec") or {}).get("driver") != cls.get("provisioner"):
        raise ProvisioningError(MSG_SNAPSHOT_OTHER_DRIVER.format(content=content_name, ns=ns, name=name,
                                                                 sc=cls["metadata"]["name"]))
    if status.get("readyToUse") is not True:
        raise ProvisioningError(MSG_SNAPSHOT_NOT_READY.format(name=name))
    handle = (content.get("status") or {}).get("snapshotHandle")
    if not handle:
        raise ProvisioningError(MSG_SNAPSHOT_NO_HANDLE.format(name=name))
    restore = status.get("restoreSize")
    if restore is not None:
        size = storage_bytes(restore)
        want = request_bytes(claim)
        if want < size:
            raise ProvisioningError(MSG_SNAPSHOT_TOO_SMALL.format(req=want, size=size, name=name))
    return str(handle)

async def clone_handle(client: Client, claims: Informer, claim: JSON, cls: JSON, ns: str, name: str) -> str:
    """getPVCSource: the source claim must be Bound to a CSI PV of the same driver and mode."""
    src = claims.get(name, ns)
    if src is None:
        raise ProvisioningError(MSG_CLONE_GET.format(
            name=name, ns=ns, err=f'persistentvolumeclaim "{name}" not found'))
    phase = (src.get("status") or {}).get("phase")
    if phase != "Bound":
        raise ProvisioningError(MSG_CLONE_NOT_BOUND.format(name=name, status="{" + (phase or "") + "}"))
    if deleting(src):
        raise ProvisioningError(MSG_CLONE_DELETING.format(name=name))
    if (src.get("spec") or {}).get("storageClassName") is None:
        raise ProvisioningError(MSG_CLONE_SOURCE_NO_CLASS.format(name=name))
    if (claim.get("spec") or {}).get("storageClassName") is None:
        raise ProvisioningError(MSG_CLONE_NO_CLASS.format(name=claim["metadata"]["name"]))
    want, have = request_bytes(claim), request_bytes(src)
    if want < have:
        raise ProvisioningError(MSG_CLONE_TOO_SMALL.format(req=want, size=have))
    volume_name = (src.get("spec") or {}).get("volumeName")
    if not volume_name:
        raise ProvisioningError(MSG_CLONE_NO_VOLUME.format(name=name))
    try:
        pv = await client.get("persistentvolumes", volume_name)
    except ApiError:
        raise ProvisioningError(MSG_CLONE_INVALID) from None
    pv_spec = pv.get("spec") or {}
    ref = pv_spec.get("claimRef") or {}
    src_meta = src["metadata"]
    if (not pv_spec.get("csi") or pv_spec["csi"].get("driver") != cls.get("provisioner")
            or (ref.get("uid"), ref.get("namespace"), ref.get("name")) != (src_meta.get("uid"), ns, name)
            or (pv.get("status") or {}).get("phase") != "Bound"):
        raise ProvisioningError(MSG_CLONE_INVALID)
    source_block = pv_spec.get("volumeMode") == "Block"
    if not is_block(claim) and source_block:
        raise ProvisioningError(MSG_CLONE_BLOCK_TO_FS)
    if is_block(claim) and not source_block:
        raise ProvisioningError(MSG_CLONE_FS_TO_BLOCK)
    return str(pv_spec["csi"]["volumeHandle"])
