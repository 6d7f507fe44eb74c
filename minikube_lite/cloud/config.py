"""The mock cloud's own configuration: region and zones, disk categories, quotas, how long each
operation takes, and injected faults (the ``cloud:`` section of a cluster file).

Plain data about a cloud account, nothing of Kubernetes: the cluster file embeds it, the cloud
does not know the cluster file.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ..configmodel import Duration, StrictModel

__all__ = ["CloudConfig", "CloudQuotas", "CloudDurations", "CloudFaultsConfig", "ScriptedFault",
           "DEFAULT_CATEGORY_SIZES"]


class CloudQuotas(StrictModel):
    disksPerZone: int = Field(default=200, ge=0)
    totalCapacityGiB: int = Field(default=102400, ge=0)
    disksPerInstance: int = Field(default=16, ge=1)
    snapshots: int = Field(default=1000, ge=0)


class CloudDurations(StrictModel):
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


class ScriptedFault(StrictModel):
    operation: str
    code: str = "InternalError"
    message: str | None = None
    zone: str | None = None
    times: int = Field(default=1, ge=1)


class CloudFaultsConfig(StrictModel):
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


class CloudConfig(StrictModel):
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

    def zone_region(self, zone: str) -> str:
        """The region a zone belongs to (the account's own region for a zone it does not list)."""
        if zone in self.zones:
            return self.region
        for region, zones in self.otherRegions.items():
            if zone in zones:
                return region
        return self.region
