"""Fault injection for the mock cloud.

Why: the interesting behaviour of the storage controllers is what they do when the cloud says
no (ResourceExhausted reschedules, Unavailable retries in the background). Faults are data, set
from the config file, from Python (``cloud.faults.fail_next(...)``) or over HTTP, and random
failures come from a seeded RNG so a failing run can be replayed.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from .config import CloudFaultsConfig
from .errors import (
    MSG_INJECTED,
    MSG_ZONE_OUTAGE,
    SERVICE_UNAVAILABLE,
    ZONE_OUTAGE,
    CloudError,
    error_for_code,
)

#: Every operation name the cloud checks faults for ("*" matches all of them).
OPERATIONS = (
    "CreateDisk", "DeleteDisk", "AttachDisk", "DetachDisk", "CreateSnapshot", "DeleteSnapshot",
    "DescribeDisks", "DescribeSnapshots",
)


@dataclass
class Scripted:
    operation: str
    code: str
    message: str | None = None
    zone: str | None = None
    times: int = 1


class Faults:
    """Per-operation error rates, scripted one-shot failures, added latency and zone outages."""

    def __init__(self, config: CloudFaultsConfig | None = None) -> None:
        config = config or CloudFaultsConfig()
        self._seed = config.seed
        self.rng = random.Random(config.seed)
        self.error_rates: dict[str, float] = dict(config.errorRates)
        self.error_codes: dict[str, str] = {}
        self.default_error_code = config.errorCode
        self.latency: dict[str, float] = dict(config.latency)
        self.zone_outages: set[str] = set(config.zoneOutages)
        self.scripted: list[Scripted] = [
            Scripted(s.operation, s.code, s.message, s.zone, s.times) for s in config.script
        ]
        #: (operation, code) of every fault that fired, oldest first; tests assert on it.
        self.fired: list[tuple[str, str]] = []

    # ---- setting faults

    def fail_next(self, operation: str, *, code: str = "InternalError", zone: str | None = None,
                  message: str | None = None, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (optionally only in ``zone``) fail."""
        self.scripted.append(Scripted(operation, code, message, zone, times))

    def set_error_rate(self, operation: str, rate: float, code: str | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"error rate {rate} must be between 0 and 1")
        self.error_rates[operation] = rate
        if code:
            self.error_codes[operation] = code

    def add_latency(self, operation: str, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        self.latency[operation] = seconds

    def zone_outage(self, zone: str, down: bool = True) -> None:
        if down:
            self.zone_outages.add(zone)
        else:
            self.zone_outages.discard(zone)

    def clear(self) -> None:
        self.error_rates.clear()
        self.error_codes.clear()
        self.latency.clear()
        self.zone_outages.clear()
        self.scripted.clear()

    # ---- consulted by the cloud

    def latency_for(self, operation: str) -> float:
        return self.latency.get(operation, 0.0) + (self.latency.get("*", 0.0) if operation != "*" else 0.0)

    def check(self, operation: str, zones: tuple[str, ...] = ()) -> None:
        """Raise the fault due for this call, if any: outage first, then scripted, then random."""
        for zone in zones:
            if zone in self.zone_outages:
                self._fire(operation, ZONE_OUTAGE)
                raise error_for_code(ZONE_OUTAGE, MSG_ZONE_OUTAGE.format(zone=zone))
        for fault in self.scripted:
            if fault.operation not in (operation, "*"):
                continue
            if fault.zone is not None and fault.zone not in zones:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.scripted.remove(fault)
            self._fire(operation, fault.code)
            raise error_for_code(fault.code, fault.message or MSG_INJECTED.format(operation=operation))
        key = operation if operation in self.error_rates else "*"
        rate = self.error_rates.get(key, 0.0)
        if rate > 0 and self.rng.random() < rate:
            code = self.error_codes.get(key) or self.default_error_code or SERVICE_UNAVAILABLE
            self._fire(operation, code)
            raise error_for_code(code, MSG_INJECTED.format(operation=operation))

    def _fire(self, operation: str, code: str) -> None:
        self.fired.append((operation, code))

    # ---- inspection / HTTP

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self._seed,
            "errorRates": dict(self.error_rates),
            "errorCodes": dict(self.error_codes),
            "latency": dict(self.latency),
            "zoneOutages": sorted(self.zone_outages),
            "script": [asdict(s) for s in self.scripted],
            "fired": [{"operation": op, "code": code} for op, code in self.fired],
        }

    def apply(self, body: dict[str, Any]) -> None:
        """Add faults from a JSON body (the ``POST /faults`` shape, same keys as the config)."""
        cfg = CloudFaultsConfig.model_validate({k: v for k, v in body.items() if k != "seed"})
        for op, rate in cfg.errorRates.items():
            self.set_error_rate(op, rate, body.get("errorCode"))
        for op, secs in cfg.latency.items():
            self.add_latency(op, secs)
        for zone in cfg.zoneOutages:
            self.zone_outage(zone)
        for s in cfg.script:
            self.fail_next(s.operation, code=s.code, zone=s.zone, message=s.message, times=s.times)


__all__ = ["Faults", "Scripted", "OPERATIONS", "CloudError"]
