"""Building the CSI CreateVolumeRequest from a claim and its class (storage.md §3.3, §3.4).

Why apart: :class:`VolumeRequest` is what prepareProvision computes, in plain values a test can
read; turning it into the CSI types happens here, in one place, at call time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ....csi import spec
from .errors import ProvisioningError
from .messages import (
    CSI_PARAMETER_PREFIX,
    KNOWN_PREFIXED_KEYS,
    MSG_STRIP_PARAMETERS,
    MSG_TWO_FSTYPES,
    MSG_UNKNOWN_PREFIXED_KEY,
    PREFIXED_FSTYPE_KEY,
)
from .topology import Term


def split_parameters(params: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """Parameters for CreateVolume (reserved keys stripped) and the fsType, as prepareProvision does."""
    fs_type, found = "", 0
    for k, v in params.items():
        if k.lower() == "fstype" or k == PREFIXED_FSTYPE_KEY:
            fs_type, found = v, found + 1
    if found > 1:
        raise ProvisioningError(MSG_TWO_FSTYPES)
    out: dict[str, str] = {}
    for k, v in params.items():
        if k.startswith(CSI_PARAMETER_PREFIX):
            if k not in KNOWN_PREFIXED_KEYS:
                raise ProvisioningError(MSG_STRIP_PARAMETERS.format(err=MSG_UNKNOWN_PREFIXED_KEY.format(key=k)))
            continue
        out[k] = v
    return out, fs_type


@dataclass
class VolumeRequest:
    """What prepareProvision computes; turned into the CSI CreateVolumeRequest at call time."""

    name: str
    required_bytes: int
    limit_bytes: int
    access_modes: list[str]
    block: bool
    fs_type: str
    mount_flags: list[str]
    parameters: dict[str, str]
    requisite: list[Term] = field(default_factory=list)
    preferred: list[Term] = field(default_factory=list)
    snapshot_id: str | None = None
    source_volume_id: str | None = None
    #: The same terms already as CSI ``Topology`` values (shared, read-only), when the provisioner
    #: has them cached: a driver reporting a per-node key gives one term per node, and building
    #: 2 x 5,000 of them for every claim dominated provisioning in a 5,000-node cluster. The
    #: requisite is then one list object for every claim of an unchanged cluster, which a remote
    #: driver's client sends once (``csi/term_lists.py``).
    topology: spec.TopologyRequirement | None = None


def access_mode(mode: str) -> str:
    """csi-lib-utils accessmodes.ToCSIAccessMode (single-node-multi-writer not advertised)."""
    return {"ReadWriteOnce": "SINGLE_NODE_WRITER", "ReadOnlyMany": "MULTI_NODE_READER_ONLY",
            "ReadWriteMany": "MULTI_NODE_MULTI_WRITER",
            "ReadWriteOncePod": "SINGLE_NODE_SINGLE_WRITER"}.get(mode, "UNKNOWN")


def volume_capabilities(req: VolumeRequest) -> list[spec.VolumeCapability]:
    """One VolumeCapability per access mode: Block, or Mount with the fsType and mount options."""
    caps = []
    for mode in req.access_modes:
        mount = None if req.block else spec.MountVolume(fs_type=req.fs_type, mount_flags=list(req.mount_flags))
        caps.append(spec.VolumeCapability(access_mode=spec.AccessMode[access_mode(mode)], mount=mount,
                                          block=req.block))
    return caps


def create_request(req: VolumeRequest) -> spec.CreateVolumeRequest:
    topology = req.topology
    if topology is None and (req.requisite or req.preferred):
        topology = spec.TopologyRequirement(requisite=[spec.Topology(segments=dict(t)) for t in req.requisite],
                                            preferred=[spec.Topology(segments=dict(t)) for t in req.preferred])
    source = None
    if req.snapshot_id is not None:
        source = spec.VolumeContentSource(snapshot_id=req.snapshot_id)
    elif req.source_volume_id is not None:
        source = spec.VolumeContentSource(volume_id=req.source_volume_id)
    return spec.CreateVolumeRequest(
        name=req.name,
        capacity_range=spec.CapacityRange(required_bytes=req.required_bytes, limit_bytes=req.limit_bytes),
        volume_capabilities=volume_capabilities(req), parameters=dict(req.parameters),
        accessibility_requirements=topology, volume_content_source=source)
