"""A whole cluster in one model: its nodes, the mock cloud, the CSI drivers, the objects to
create at start, and the timings; read from a YAML file or built in Python.

Why a model and not a dict: a typo in a 100-node file must fail at start with the field named
(``nodes.1.capacity.cpu: invalid quantity "abc"``), not as a KeyError deep inside a controller.
Keys are spelled as Kubernetes users expect (``ephemeral-storage``, ``storageCapacity``,
``volumeBindingMode`` inside ``objects:``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from ..cloud.config import CloudConfig
from ..configmodel import StrictModel
from ..kube.names import ZONE_LABEL
from .default_cluster import DEFAULT_CLUSTER_YAML
from .drivers import DriverConfig
from .loading import read_text, validated, yaml_mapping
from .nodes import NodeConfig, ResolvedNode, resolve_node
from .timings import Timings

__all__ = ["ClusterConfig", "load_config"]

#: The top-level sections, as an error for a file that is not a mapping lists them.
SECTIONS = "nodes:, cloud:, drivers:, objects:"


class ClusterConfig(StrictModel):
    nodes: list[NodeConfig] = Field(default_factory=list)
    cloud: CloudConfig = Field(default_factory=CloudConfig)
    drivers: list[DriverConfig] = Field(default_factory=list)
    objects: list[dict[str, Any]] = Field(default_factory=list)
    timings: Timings = Field(default_factory=Timings)
    #: Also set the deprecated ``failure-domain.beta.kubernetes.io/*`` labels (as the cloud node
    #: controller still does, and as the course shows).
    legacyTopologyLabels: bool = True
    #: Create the kube-system pods that stand for the in-process components (mirror pods of the
    #: control plane, CoreDNS, the CSI controller, snapshot controller and node plugin) when the
    #: controllers run.
    systemPods: bool = True

    @model_validator(mode="after")
    def _check(self) -> ClusterConfig:
        problems: list[str] = []
        all_zones = {z: self.cloud.region for z in self.cloud.zones}
        for region, zones in self.cloud.otherRegions.items():
            all_zones.update({z: region for z in zones})
        for i, node in enumerate(self.nodes):
            for j, zone in enumerate(node.zones or ([node.zone] if node.zone else [])):
                if zone not in all_zones:
                    where = f"nodes.{i}.zones.{j}" if node.zones else f"nodes.{i}.zone"
                    problems.append(f'{where}: zone "{zone}" is not one of the cloud zones '
                                    f'[{", ".join(all_zones)}]')
            if node.region is not None and node.region != self.cloud.region \
                    and node.region not in self.cloud.otherRegions:
                problems.append(f'nodes.{i}.region: region "{node.region}" is not the cloud region '
                                f'"{self.cloud.region}"')
        seen_names: set[str] = set()
        if not problems:
            for resolved in self.resolved_nodes():
                if resolved.name in seen_names:
                    problems.append(f'nodes: node name "{resolved.name}" is used twice')
                seen_names.add(resolved.name)
        seen_drivers: set[str] = set()
        for i, drv in enumerate(self.drivers):
            if drv.name in seen_drivers:
                problems.append(f'drivers.{i}.name: driver "{drv.name}" is listed twice')
            seen_drivers.add(drv.name)
            for node_name in drv.nodes or []:
                if seen_names and node_name not in seen_names:
                    problems.append(f'drivers.{i}.nodes: node "{node_name}" is not in nodes')
        for i, obj in enumerate(self.objects):
            for key in ("apiVersion", "kind"):
                if not isinstance(obj.get(key), str) or not obj.get(key):
                    problems.append(f"objects.{i}.{key}: field required")
            meta = obj.get("metadata")
            if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
                problems.append(f"objects.{i}.metadata.name: field required")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- loading

    @classmethod
    def from_yaml(cls, text: str, source: str = "<config>") -> ClusterConfig:
        """Parse a YAML document; any problem becomes a :class:`~.loading.ConfigError` naming the field."""
        data = yaml_mapping(text, source, SECTIONS)
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<config>") -> ClusterConfig:
        return validated(cls, data, source)

    @classmethod
    def default(cls) -> ClusterConfig:
        """The course's cluster (DESIGN.md "Contracts"); ``examples/clusters/default.yaml``.

        A fresh copy each call (callers change it); the YAML is parsed once per process, since
        parsing it costs more than starting a cluster.
        """
        if cls is not ClusterConfig:
            return cls.from_yaml(DEFAULT_CLUSTER_YAML, "<default>")
        return _parsed_default().model_copy(deep=True)

    # ---- derived views

    def resolved_nodes(self) -> list[ResolvedNode]:
        """Nodes with templates expanded, zones spread and every well-known label set."""
        out: list[ResolvedNode] = []
        for spec in self.nodes:
            names = [spec.name] if spec.count is None else [f"{spec.name}-{k}" for k in range(1, spec.count + 1)]
            for k, name in enumerate(names):
                if spec.zone:
                    zone = spec.zone
                elif spec.zones:
                    zone = spec.zones[k % len(spec.zones)]
                else:
                    zone = spec.labels.get(ZONE_LABEL) or self.cloud.zones[0]
                region = spec.region or self.cloud.zone_region(zone)
                out.append(resolve_node(spec, name, zone, region, len(out),
                                        legacy_topology_labels=self.legacyTopologyLabels))
        return out

    def driver(self, name: str) -> DriverConfig | None:
        return next((d for d in self.drivers if d.name == name), None)


def load_config(path: str | Path) -> ClusterConfig:
    """Read a cluster YAML file; a missing or bad file raises :class:`~.loading.ConfigError`."""
    p = Path(path)
    return ClusterConfig.from_yaml(read_text(p), str(p))


@functools.lru_cache(maxsize=1)
def _parsed_default() -> ClusterConfig:
    return ClusterConfig.from_yaml(DEFAULT_CLUSTER_YAML, "<default>")
