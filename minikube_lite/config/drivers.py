"""The CSI drivers of a cluster file: each one's CSIDriver object fields and how its fake
plugin behaves (cloud disks or node-local volumes)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..configmodel import Duration, StrictModel
from ..kube.names import REGION_LABEL
from .quantities import Quantity

__all__ = ["DriverConfig", "CLOUD_DISK_DRIVER", "HOSTPATH_DRIVER", "CLOUD_DISK_ZONE_KEY", "HOSTPATH_TOPOLOGY_KEY"]

CLOUD_DISK_DRIVER = "diskplugin.csi.alibabacloud.com"
HOSTPATH_DRIVER = "hostpath.csi.k8s.io"
CLOUD_DISK_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"
HOSTPATH_TOPOLOGY_KEY = "topology.hostpath.csi/node"

LifecycleMode = Literal["Persistent", "Ephemeral"]


class DriverConfig(StrictModel):
    """A CSI driver: its CSIDriver object fields and the behaviour of its fake plugin."""

    name: str = Field(min_length=1, max_length=63)
    type: Literal["cloud-disk", "local"]
    attachRequired: bool | None = None
    podInfoOnMount: bool = False
    storageCapacity: bool = False
    fsGroupPolicy: Literal["ReadWriteOnceWithFSType", "File", "None"] = "ReadWriteOnceWithFSType"
    volumeLifecycleModes: list[LifecycleMode] = Field(default_factory=lambda: list[LifecycleMode](["Persistent"]))
    #: The topology key of the driver's own segment (zone for cloud disks, node for local).
    topologyKey: str | None = None
    #: cloud-disk: the region key NodeGetInfo reports.
    regionKey: str = REGION_LABEL
    #: cloud-disk: when true, do not report the generic ``topology.kubernetes.io/zone`` segment.
    privateTopologyKey: bool = False
    maxVolumesPerNode: int | None = Field(default=None, ge=0)
    #: Nodes that run the node plugin (default: all).
    nodes: list[str] | None = None
    #: local: capacity of each node's volume pool.
    capacityPerNode: Quantity = "100Gi"
    snapshots: bool = True
    #: How long CreateVolume waits for the cloud before giving up (DEADLINE_EXCEEDED).
    operationTimeout: Duration = 300.0

    def resolved_topology_key(self) -> str:
        if self.topologyKey:
            return self.topologyKey
        return CLOUD_DISK_ZONE_KEY if self.type == "cloud-disk" else HOSTPATH_TOPOLOGY_KEY

    def resolved_attach_required(self) -> bool:
        return self.attachRequired if self.attachRequired is not None else self.type == "cloud-disk"

    def resolved_max_volumes(self) -> int:
        if self.maxVolumesPerNode is not None:
            return self.maxVolumesPerNode
        return 15 if self.type == "cloud-disk" else 0
