"""Cluster configuration: one YAML file (or the same pydantic model) describes a whole cluster.

Why a model and not a dict: a typo in a 100-node file must fail at start with the field named
(``nodes.1.capacity.cpu: invalid quantity "abc"``), not as a KeyError deep inside a controller.
Keys are spelled as Kubernetes users expect (``ephemeral-storage``, ``storageCapacity``,
``volumeBindingMode`` inside ``objects:``), and every timing is data with a default, so tests and
demos can change how long a disk takes to create without touching code (kwok Stages habit).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .kube import quantity as kube_quantity
from .kube.names import (
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

__all__ = [
    "ClusterConfig", "CloudConfig", "CloudDurations", "CloudQuotas", "CloudFaultsConfig", "ScriptedFault",
    "DriverConfig", "NodeConfig", "TaintConfig", "Timings", "DEFAULT_TIMINGS", "timings_of", "ResolvedNode", "ConfigError",
    "load_config", "parse_quantity", "parse_duration", "instance_id_for_node",
    "CLOUD_DISK_DRIVER", "HOSTPATH_DRIVER",
]


CLOUD_DISK_DRIVER = "diskplugin.csi.alibabacloud.com"
HOSTPATH_DRIVER = "hostpath.csi.k8s.io"
CLOUD_DISK_ZONE_KEY = "topology.diskplugin.csi.alibabacloud.com/zone"
HOSTPATH_TOPOLOGY_KEY = "topology.hostpath.csi/node"

class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the field and why."""


# --------------------------------------------------------------------------- quantities

def parse_quantity(value: str | int | float) -> Decimal:
    """A Kubernetes ``resource.Quantity`` as an exact Decimal (``"1.5Gi"``, ``"500m"``, ``"1e3"``).

    The grammar is :mod:`minikube_lite.kube.quantity`'s; only the error speaks the config file's
    language (``invalid quantity "abc"``) so a bad node capacity names the value it could not read.
    """
    text = str(value).strip()
    try:
        return kube_quantity.parse_quantity(text)
    except kube_quantity.QuantityError:
        raise ValueError(f'invalid quantity "{text}"') from None


def _quantity(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f'invalid quantity "{value}"')
    text = str(value).strip()
    parse_quantity(text)
    return text


def _format_bytes(n: int) -> str:
    """Render bytes the way kubelet reports memory (``Ki`` when exact, else a plain integer)."""
    if n % 1024 == 0 and n > 0:
        return f"{n // 1024}Ki"
    return str(n)


_DURATION_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a Go-style duration (``"500ms"``, ``"2s"``, ``"1m30s"``)."""
    if isinstance(value, bool):
        raise ValueError(f'invalid duration "{value}"')
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f'invalid duration "{value}": must not be negative')
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f'invalid duration "{value}"')
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pos, seconds = 0, 0.0
        units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        for m in _DURATION_RE.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * units[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(f'invalid duration "{text}"') from None
    if seconds < 0:
        raise ValueError(f'invalid duration "{text}": must not be negative')
    return seconds


Quantity = Annotated[str, BeforeValidator(_quantity)]
Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    # Unknown keys are errors: a misspelt key silently ignored is the worst kind of config bug.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


# --------------------------------------------------------------------------- nodes


class TaintConfig(_Model):
    key: str = Field(min_length=1)
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


DEFAULT_CAPACITY: dict[str, str] = {
    "cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "40Gi",
    "hugepages-1Gi": "0", "hugepages-2Mi": "0",
}


class NodeConfig(_Model):
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


# --------------------------------------------------------------------------- cloud


class CloudQuotas(_Model):
    disksPerZone: int = Field(default=200, ge=0)
    totalCapacityGiB: int = Field(default=102400, ge=0)
    disksPerInstance: int = Field(default=16, ge=1)
    snapshots: int = Field(default=1000, ge=0)


class CloudDurations(_Model):
    """How long each cloud operation takes, in cluster-clock seconds."""

    apiLatency: Duration = 0.0
    createDisk: Duration = 2.0
    deleteDisk: Duration = 1.0
    attachDisk: Duration = 2.0
    detachDisk: Duration = 1.0
    createSnapshot: Duration = 5.0
    #: Extra snapshot time per GiB of source disk (0 = a fixed ``createSnapshot`` duration).
    snapshotSecondsPerGiB: Duration = 0.0
    deleteSnapshot: Duration = 1.0
    #: Extra time to create a disk from a snapshot (data has to be copied in).
    restoreDisk: Duration = 1.0
    #: ResizeDisk: how long a disk takes to reach its new size (0 = at once).
    resizeDisk: Duration = 1.0


class ScriptedFault(_Model):
    operation: str
    code: str = "InternalError"
    message: str | None = None
    zone: str | None = None
    times: int = Field(default=1, ge=1)


class CloudFaultsConfig(_Model):
    seed: int = 0
    errorRates: dict[str, float] = Field(default_factory=dict)
    errorCode: str = "ServiceUnavailable"
    latency: dict[str, Duration] = Field(default_factory=dict)
    zoneOutages: list[str] = Field(default_factory=list)
    script: list[ScriptedFault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rates(self) -> CloudFaultsConfig:
        for op, rate in self.errorRates.items():
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"errorRates.{op}: rate {rate} must be between 0 and 1")
        return self


DEFAULT_CATEGORY_SIZES: dict[str, tuple[int, int]] = {
    # category: (min GiB, max GiB), as the ECS console documents them.
    "cloud": (5, 2000),
    "cloud_efficiency": (20, 32768),
    "cloud_ssd": (20, 32768),
    "cloud_essd": (20, 65536),
    "cloud_essd_entry": (10, 32768),
    "cloud_auto": (1, 65536),
}


class CloudConfig(_Model):
    region: str = "cn-hangzhou"
    zones: list[str] = Field(default_factory=lambda: ["cn-hangzhou-b", "cn-hangzhou-d"], min_length=1)
    #: Other regions the account can see (region -> zones); only used to refuse cross-region work.
    otherRegions: dict[str, list[str]] = Field(default_factory=dict)
    categories: dict[str, tuple[int, int]] = Field(default_factory=lambda: dict(DEFAULT_CATEGORY_SIZES))
    idSeed: int = 0
    quotas: CloudQuotas = Field(default_factory=CloudQuotas)
    durations: CloudDurations = Field(default_factory=CloudDurations)
    faults: CloudFaultsConfig = Field(default_factory=CloudFaultsConfig)

    @model_validator(mode="after")
    def _zones_unique(self) -> CloudConfig:
        seen: set[str] = set()
        for zone in [*self.zones, *(z for zs in self.otherRegions.values() for z in zs)]:
            if zone in seen:
                raise ValueError(f'zones: zone "{zone}" is listed twice')
            seen.add(zone)
        return self


# --------------------------------------------------------------------------- drivers


LifecycleMode = Literal["Persistent", "Ephemeral"]


class DriverConfig(_Model):
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


# --------------------------------------------------------------------------- timings


class Timings(_Model):
    """Every controller, scheduler and kubelet delay, with its default, declared once.

    Components read them as attributes (``config.timings.podStartDelay``); an unknown key is a
    configuration error naming the key, so a misspelt timing cannot silently keep its default.
    """

    # ---- kubelet
    podStartDelay: Duration = 1.0
    podTerminationDelay: Duration = 0.5
    imagePullDelay: Duration = 1.0
    volumeAttachDelay: Duration = 0.0
    volumeMountDelay: Duration = 0.2
    #: How long the containers of a batch pod (restartPolicy Never/OnFailure) run before exiting 0;
    #: the pod annotations minikube-lite.io/exit-after and exit-code override it per pod.
    containerRunDuration: Duration = 1.0
    #: Kubelet: wait before retrying a pod sync that failed (volumes not ready, API errors).
    kubeletSyncRetry: Duration = 10.0
    #: Kubelet volume expansion (NodeExpandVolume): backoff after a failed call.
    kubeletExpandRetryInitial: Duration = 1.0
    kubeletExpandRetryMax: Duration = 300.0
    # ---- nodes
    nodeStatusUpdateInterval: Duration = 10.0
    #: How often each kubelet renews its Lease; unset: every ``nodeStatusUpdateInterval``.
    nodeLeaseRenewInterval: Duration | None = None
    #: How often an unchanged node status is posted again (kubelet ``nodeStatusReportFrequency``).
    nodeStatusReportInterval: Duration = 300.0
    #: Node lifecycle controller: how long a silent node stays Ready (``node-monitor-grace-period``).
    nodeMonitorGracePeriod: Duration = 50.0
    # ---- workloads
    #: Job controller: wait before replacing a failed pod, doubling per failure up to the max.
    jobPodFailureBackoff: Duration = 10.0
    jobPodFailureBackoffMax: Duration = 360.0
    # ---- storage controllers
    pvControllerResync: Duration = 15.0
    provisionerRetryInitial: Duration = 1.0
    provisionerRetryMax: Duration = 300.0
    snapshotRetryInitial: Duration = 1.0
    snapshotRetryMax: Duration = 300.0
    #: CSI snapshotter sidecar: how often a snapshot that is not ready yet is polled.
    snapshotReadyPollInterval: Duration = 1.0
    #: external-resizer: backoff after a failed ControllerExpandVolume.
    resizerRetryInitial: Duration = 1.0
    resizerRetryMax: Duration = 300.0
    #: CSIStorageCapacity: how often capacity is polled (0 also means the default).
    capacityPollInterval: Duration = 60.0
    # ---- scheduler
    schedulerBackoffInitial: Duration = 1.0
    schedulerBackoffMax: Duration = 10.0
    schedulerUnschedulableFlush: Duration = 300.0
    bindTimeout: Duration = 600.0
    # ---- leader election (Leases of a standalone scheduler / controller-manager); unset: client-go's
    # defaults 15 s / 10 s / 2 s (client/leaderelection.py)
    leaderElectionLeaseDuration: Duration | None = None
    leaderElectionRenewDeadline: Duration | None = None
    leaderElectionRetryPeriod: Duration | None = None

    @property
    def lease_renew_interval(self) -> float:
        return self.nodeLeaseRenewInterval if self.nodeLeaseRenewInterval is not None \
            else self.nodeStatusUpdateInterval


#: The timings of a component started without a cluster config (unit tests, embedding).
DEFAULT_TIMINGS = Timings()


def timings_of(config: Any) -> Timings:
    """``config.timings``, or the defaults when a component runs without a config."""
    timings = getattr(config, "timings", None)
    return timings if isinstance(timings, Timings) else DEFAULT_TIMINGS


# --------------------------------------------------------------------------- cluster


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


class ClusterConfig(_Model):
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
        """Parse a YAML document; any problem becomes a :class:`ConfigError` naming the field."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(f"{source}:{where}: invalid YAML: {problem}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the top level must be a mapping (nodes:, cloud:, drivers:, objects:)")
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<config>") -> ClusterConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{source}: " + format_validation_error(exc)) from None

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

    def zone_region(self, zone: str) -> str:
        if zone in self.cloud.zones:
            return self.cloud.region
        for region, zones in self.cloud.otherRegions.items():
            if zone in zones:
                return region
        return self.cloud.region

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
                region = spec.region or self.zone_region(zone)
                out.append(self._resolve(spec, name, zone, region, len(out)))
        return out

    def _resolve(self, spec: NodeConfig, name: str, zone: str, region: str, index: int) -> ResolvedNode:
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
        if self.legacyTopologyLabels:
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
        allocatable = (dict(spec.allocatable) if spec.allocatable is not None
                       else dict(_kubelet_allocatable(tuple(capacity.items()))))
        ip = ipaddress.IPv4Address("10.0.0.10") + index
        return ResolvedNode(
            name=name, region=region, zone=zone, labels=labels, annotations=dict(spec.annotations),
            taints=taints, capacity=capacity, allocatable=allocatable, unschedulable=spec.unschedulable,
            ready=spec.ready, internal_ip=str(ip), instance_id=instance_id_for_node(name, region),
            index=index, instance_type=spec.instanceType,
        )

    def driver(self, name: str) -> DriverConfig | None:
        return next((d for d in self.drivers if d.name == name), None)


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


_FIELD_PREFIX = re.compile(r"^[A-Za-z][\w.\-/]*: ")


def format_validation_error(exc: ValidationError) -> str:
    """Pydantic errors as ``path.to.field: why`` lines, in words a Kubernetes user reads."""
    lines: list[str] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", ""))
        for prefix in ("Value error, ", "Assertion failed, "):
            if msg.startswith(prefix):
                msg = msg[len(prefix):]
        kind = err.get("type")
        if kind == "extra_forbidden":
            msg = "unknown field"
        elif kind == "missing":
            msg = "field required"
        elif kind == "literal_error":
            msg = f'unsupported value "{err.get("input")}": {msg}'
        if not loc:
            # Cross-field checks already name their fields ("nodes.2.zone: ...").
            lines.extend(part for part in msg.split("; "))
        elif _FIELD_PREFIX.match(msg):
            # A model-level check naming a sub-field ("zones: must not be empty").
            lines.extend(f"{loc}.{part}" for part in msg.split("; "))
        else:
            lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


def load_config(path: str | Path) -> ClusterConfig:
    """Read a cluster YAML file; a missing or bad file raises :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: cannot read config file: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return ClusterConfig.from_yaml(text, str(p))


# --------------------------------------------------------------------------- the default cluster

DEFAULT_CLUSTER_YAML = """\
# The cluster of the course "存储快照与拓扑调度": a control-plane node and two workers, all in
# zone cn-hangzhou-b; the cloud also offers zone cn-hangzhou-d (the zone the course's
# zone-restricted StorageClass asks for, which no node is in).
nodes:
  - name: master
    controlPlane: true          # label node-role.kubernetes.io/control-plane="" + NoSchedule taint
    zone: cn-hangzhou-b
  - name: node1
    zone: cn-hangzhou-b
  - name: node2
    zone: cn-hangzhou-b

cloud:
  region: cn-hangzhou
  zones: [cn-hangzhou-b, cn-hangzhou-d]

drivers:
  - name: diskplugin.csi.alibabacloud.com   # the course's "csi-disk" plugin
    type: cloud-disk
    attachRequired: true
  - name: hostpath.csi.k8s.io
    type: local
    attachRequired: true
    podInfoOnMount: true
    fsGroupPolicy: File
    volumeLifecycleModes: [Persistent, Ephemeral]

objects:
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: alicloud-disk-ssd
      annotations:
        storageclass.kubernetes.io/is-default-class: "true"
    provisioner: diskplugin.csi.alibabacloud.com
    parameters:
      type: cloud_ssd
    reclaimPolicy: Delete
    volumeBindingMode: Immediate
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: alicloud-disk-topology
    provisioner: diskplugin.csi.alibabacloud.com
    parameters:
      type: cloud_ssd
    reclaimPolicy: Delete
    volumeBindingMode: WaitForFirstConsumer
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: csi-hostpath-sc
    provisioner: hostpath.csi.k8s.io
    reclaimPolicy: Delete
    volumeBindingMode: Immediate
    allowVolumeExpansion: true
  - apiVersion: storage.k8s.io/v1
    kind: StorageClass
    metadata:
      name: local-storage
    provisioner: kubernetes.io/no-provisioner
    reclaimPolicy: Retain
    volumeBindingMode: WaitForFirstConsumer
  - apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata:
      name: default-snapclass
      annotations:
        snapshot.storage.kubernetes.io/is-default-class: "true"
    driver: diskplugin.csi.alibabacloud.com
    deletionPolicy: Delete
  - apiVersion: snapshot.storage.k8s.io/v1
    kind: VolumeSnapshotClass
    metadata:
      name: csi-hostpath-snapclass
    driver: hostpath.csi.k8s.io
    deletionPolicy: Delete
"""


@functools.lru_cache(maxsize=1)
def _parsed_default() -> ClusterConfig:
    return ClusterConfig.from_yaml(DEFAULT_CLUSTER_YAML, "<default>")
