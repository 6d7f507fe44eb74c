"""The CSI calls the provisioner makes: capabilities, CreateVolume, DeleteVolume.

The provisioner speaks to drivers only through the CSI protocol in ``minikube_lite.csi.spec``;
these few functions are the one place that calls a driver and reads its answers, so the rest of
the provisioner works on plain values (and a CSI error arrives as one :class:`~minikube_lite.csi.calls.CsiCallError` type).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ....csi import spec
from ....csi.calls import call_driver
from .requests import VolumeRequest, create_request


@dataclass
class Capabilities:
    create_delete: bool = False
    snapshots: bool = False
    clone: bool = False
    topology: bool = False
    get_capacity: bool = False


@dataclass
class CreatedVolume:
    volume_id: str
    capacity_bytes: int
    volume_context: dict[str, str]
    accessible_topology: list[dict[str, str]]


def _names(values: Iterable[Any]) -> set[str]:
    return {getattr(v, "name", str(v)) for v in values or ()}


async def get_capabilities(driver: spec.CsiDriver) -> Capabilities:
    """GetPluginCapabilities + ControllerGetCapabilities, reduced to what the provisioner needs."""
    plugin = _names(await call_driver(driver.get_plugin_capabilities))
    ctrl = _names(await call_driver(driver.controller_get_capabilities))
    return Capabilities(
        create_delete="CREATE_DELETE_VOLUME" in ctrl, snapshots="CREATE_DELETE_SNAPSHOT" in ctrl,
        clone="CLONE_VOLUME" in ctrl, topology="VOLUME_ACCESSIBILITY_CONSTRAINTS" in plugin,
        get_capacity="GET_CAPACITY" in ctrl)


async def create_volume(driver: spec.CsiDriver, req: VolumeRequest) -> CreatedVolume:
    """CreateVolume; by name ``pvc-<uid>``, so a repeated call after a crash finds the same volume."""
    resp = await call_driver(driver.create_volume, create_request(req))
    vol = resp.volume
    return CreatedVolume(
        volume_id=vol.volume_id, capacity_bytes=int(vol.capacity_bytes or 0),
        volume_context=dict(vol.volume_context or {}),
        accessible_topology=[dict(t.segments) for t in vol.accessible_topology or []])


async def delete_volume(driver: spec.CsiDriver, volume_id: str) -> None:
    await call_driver(driver.delete_volume, spec.DeleteVolumeRequest(volume_id=volume_id))
