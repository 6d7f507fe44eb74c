"""Cluster configuration: one YAML file (or the same pydantic model) describes a whole cluster.

One module per job: :mod:`.cluster` (the model of the whole file, and reading one),
:mod:`.nodes`, :mod:`.drivers`, :mod:`.timings` (every delay with its default, declared once),
:mod:`.quantities`, :mod:`.loading` (files and YAML to a model, ConfigError) and
:mod:`.default_cluster` (the course's cluster). The ``cloud:`` section is the mock cloud's own
configuration, :mod:`minikube_lite.cloud.config`. The names users import are re-exported here.
"""

from __future__ import annotations

from ..configmodel import parse_duration
from .cluster import ClusterConfig, load_config
from .drivers import (
    CLOUD_DISK_DRIVER,
    CLOUD_DISK_ZONE_KEY,
    HOSTPATH_DRIVER,
    HOSTPATH_TOPOLOGY_KEY,
    DriverConfig,
)
from .loading import ConfigError
from .nodes import DEFAULT_CAPACITY, NodeConfig, ResolvedNode, TaintConfig, instance_id_for_node
from .quantities import parse_quantity
from .timings import DEFAULT_TIMINGS, Timings, timings_of

__all__ = [
    "ClusterConfig", "ConfigError", "load_config", "Timings", "DEFAULT_TIMINGS", "timings_of",
    "DriverConfig", "NodeConfig", "TaintConfig", "ResolvedNode", "DEFAULT_CAPACITY", "instance_id_for_node",
    "parse_quantity", "parse_duration",
    "CLOUD_DISK_DRIVER", "HOSTPATH_DRIVER", "CLOUD_DISK_ZONE_KEY", "HOSTPATH_TOPOLOGY_KEY",
]
