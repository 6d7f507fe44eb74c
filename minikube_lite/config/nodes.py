"""The nodes of a cluster file, and a node as it is after templates are expanded and every
well-known label (hostname, region, zone, instance type, control plane) is filled in."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from ..configmodel import StrictModel
from ..kube.names import (
    CONTROL_PLANE_LABEL,
    CONTROL_PLANE_TAINT,
    EXCLUDE_LB_LABEL,
    HOSTNAME_LABEL,
    INSTANCE_TYPE_LABEL,
    LEGACY_INSTANCE_TYPE_LABEL,
    LEGACY_REGION_LABEL,
    LEGACY_ZONE_LABEL,
    REGION_LABEL,
    ZONE_LABEL,
)
from .quantities import Quantity, parse_quantity

__all__ = ["TaintConfig", "NodeConfig", "ResolvedNode", "DEFAULT_CAPACITY", "instance_id_for_node", "resolve_node"]


class TaintConfig(StrictModel):
    key: str = Field(min_length=1)
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


DEFAULT_CAPACITY: dict[str, str] = {
    "cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "40Gi",
    "hugepages-1Gi": "0", "hugepages-2Mi": "0",
}


class NodeConfig(StrictModel):
    """One node, or a template of ``count`` nodes named ``<name>-1..N``."""

    name: str = Field(min_length=1, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    count: int | None = Field(default=None, ge=1, le=5000)
    controlPlane: bool = False
    region: str | None = None
    zone: str | None = None
    zones: list[str] | None = None
    instanceType: str = "ecs.g7.xlarge"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    taints: list[TaintConfig] = Field(default_factory=list)
    capacity: dict[str, Quantity] = Field(default_factory=dict)
    allocatable: dict[str, Quantity] | None = None
    unschedulable: bool = False
    ready: bool = True

    @model_validator(mode="after")
    def _zone_or_zones(self) -> NodeConfig:
        if self.zone is not None and self.zones:
            raise ValueError("give either zone or zones (spread over a template), not both")
        if self.zones is not None and not self.zones:
            raise ValueError("zones: must not be empty")
        return self


@dataclass
class ResolvedNode:
    """A node after templates are expanded and topology labels are filled in."""

    name: str
    region: str
    zone: str
    labels: dict[str, str]
    annotations: dict[str, str]
    taints: list[dict[str, str]]
    capacity: dict[str, str]
    allocatable: dict[str, str]
    unschedulable: bool
    ready: bool
    internal_ip: str
    instance_id: str
    index: int
    instance_type: str = "ecs.g7.xlarge"
    extra: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=4096)
def instance_id_for_node(node_name: str, region: str = "cn-hangzhou") -> str:
    """A stable ECS-style instance id for a node, so Node.spec.providerID and the cloud agree.

    Memoized: every cluster start resolves its nodes a dozen times (cloud, drivers, controllers).
    """
    digest = hashlib.sha256(f"{region}/{node_name}".encode()).hexdigest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    num = int(digest, 16)
    chars = []
    for _ in range(18):
        num, rem = divmod(num, 36)
        chars.append(alphabet[rem])
    return "i-bp" + "".join(chars)


def resolve_node(spec: NodeConfig, name: str, zone: str, region: str, index: int, *,
                 legacy_topology_labels: bool) -> ResolvedNode:
    """One node of ``spec`` (``name`` in ``zone``), labelled as kubelet and the cloud node
    controller label it; ``index`` (its place in the cluster) gives its InternalIP."""
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        HOSTNAME_LABEL: name,
        "kubernetes.io/os": "linux",
        INSTANCE_TYPE_LABEL: spec.instanceType,
        LEGACY_INSTANCE_TYPE_LABEL: spec.instanceType,
        REGION_LABEL: region,
        ZONE_LABEL: zone,
    }
    if legacy_topology_labels:
        labels[LEGACY_REGION_LABEL] = region
        labels[LEGACY_ZONE_LABEL] = zone
    taints = [t.model_dump() for t in spec.taints]
    if spec.controlPlane:
        labels[CONTROL_PLANE_LABEL] = ""
        labels[EXCLUDE_LB_LABEL] = ""
        if not any(t["key"] == CONTROL_PLANE_TAINT for t in taints):
            taints.append({"key": CONTROL_PLANE_TAINT, "value": "", "effect": "NoSchedule"})
    labels.update(spec.labels)
    labels[HOSTNAME_LABEL] = spec.labels.get(HOSTNAME_LABEL, name) if spec.count is None else name
    for t in taints:
        if not t.get("value"):
            t.pop("value", None)
    capacity = {**DEFAULT_CAPACITY, **spec.capacity}
    allocatable = dict(spec.allocatable) if spec.allocatable is not None else dict(_kubelet_allocatable(tuple(capacity.items())))
    ip = ipaddress.IPv4Address("10.0.0.10") + index
    return ResolvedNode(
        name=name, region=region, zone=zone, labels=labels, annotations=dict(spec.annotations),
        taints=taints, capacity=capacity, allocatable=allocatable, unschedulable=spec.unschedulable,
        ready=spec.ready, internal_ip=str(ip), instance_id=instance_id_for_node(name, region),
        index=index, instance_type=spec.instanceType,
    )


@functools.lru_cache(maxsize=256)
def _kubelet_allocatable(capacity_items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Allocatable as kubelet computes it with kubeadm defaults: capacity minus the hard eviction
    thresholds (``memory.available<100Mi``, ``nodefs.available<10%``), nothing reserved.

    Memoized on the capacity (callers copy the answer): quantities are slow to parse.
    """
    capacity = dict(capacity_items)
    out = dict(capacity)
    if "memory" in capacity:
        mem = int(parse_quantity(capacity["memory"]))
        out["memory"] = _format_bytes(max(0, mem - 100 * 2**20))
    if "ephemeral-storage" in capacity:
        eph = parse_quantity(capacity["ephemeral-storage"])
        out["ephemeral-storage"] = str(int((eph * Decimal("0.9")).to_integral_value(ROUND_CEILING)))
    return out


def _format_bytes(n: int) -> str:
    """Render bytes the way kubelet reports memory (``Ki`` when exact, else a plain integer)."""
    if n % 1024 == 0 and n > 0:
        return f"{n // 1024}Ki"
    return str(n)
