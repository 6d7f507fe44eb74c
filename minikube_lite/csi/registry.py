"""Build the cluster's CSI drivers from its config.

Why here and not in cluster.py: the cluster only needs "a driver per name"; which class backs
which ``type:`` and which nodes run each node plugin is driver knowledge.
"""

from __future__ import annotations

from ..cloud import MockCloud
from ..config import ClusterConfig
from .cloud_disk import CloudDiskDriver
from .local import LocalDriver
from .spec import CsiDriver


def build_drivers(config: ClusterConfig, cloud: MockCloud) -> dict[str, CsiDriver]:
    """One driver object per ``drivers:`` entry, keyed by driver name, in config order.

    Cloud-disk drivers need an instance per node; any node the cloud does not know yet gets one
    in its zone (``MockCloud.for_cluster`` normally created them already).
    """
    nodes = config.resolved_nodes()
    drivers: dict[str, CsiDriver] = {}
    for dc in config.drivers:
        names = [n.name for n in nodes if dc.nodes is None or n.name in dc.nodes]
        if dc.type == "cloud-disk":
            for node in nodes:
                if node.name in names and cloud.instance_for_node(node.name) is None:
                    cloud.add_instance(node.name, node.zone, node.instance_id)
            drivers[dc.name] = CloudDiskDriver(cloud, dc, names)
        else:
            drivers[dc.name] = LocalDriver(dc, names, cloud.clock, seed=config.cloud.idSeed)
    return drivers


__all__ = ["build_drivers"]
