"""Storage capacity tracking: the capacity controller of external-provisioner.

Why: with ``CSIDriver.spec.storageCapacity: true`` the scheduler's VolumeBinding filter
(storage.md §2.4 step 4) only sends a WaitForFirstConsumer claim to a node whose topology has a
CSIStorageCapacity object, for the claim's class, big enough for the request. Something has to
publish those objects: upstream it is external-provisioner started with ``--enable-capacity``,
which asks the driver (CSI GetCapacity) per topology segment and StorageClass and keeps one
object per pair, refreshed every ``--capacity-poll-interval`` (1m) and when volumes come and go.

Capacity comes from the driver's GetCapacity (the cloud-disk driver answers with the account's
free quota in the segment's zone); the controller never looks at the cloud itself. Segments are
what the provisioner's topology code sees: for every CSINode that lists the driver,
the node's label values for the driver's ``topologyKeys``. Objects live in ``kube-system`` (the
provisioner's namespace), named ``csisc-<random>`` and labelled with the driver and manager, so
a restarted controller finds and reuses its objects instead of piling up new ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...client.base import JSON, ApiError, Client
from ...client.runtime import DONE, Controller, Key, Result
from ...clock import Clock
from ...config import DEFAULT_TIMINGS, timings_of
from ...csi import spec
from ...csi.calls import CsiCallError, call_driver
from ...kube.quantity import format_quantity, parse_quantity
from .provisioning.driver import Capabilities, get_capabilities
from .provisioning.errors import ProvisioningError
from .provisioning.requests import split_parameters
from .provisioning.topology import csinode_keys, node_topology, term_hash

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
GENERATE_NAME = "csisc-"
LABEL_DRIVER = "csi.storage.k8s.io/drivername"
LABEL_MANAGED_BY = "csi.storage.k8s.io/managed-by"
MANAGED_BY = "external-provisioner"
RESOURCE = "csistoragecapacities"

Segment = dict[str, str]


@dataclass
class CapacityValue:
    """GetCapacity's answer: free bytes and the largest volume that could be created now."""

    available: int
    maximum: int | None = None


class CapacityController(Controller):
    """Publish CSIStorageCapacity for every driver whose CSIDriver has ``storageCapacity: true``."""

    name = "csi-capacity"

    def __init__(self, client: Client, clock: Clock, *, config: Any = None,
                 drivers: Mapping[str, spec.CsiDriver] | None = None, namespace: str = NAMESPACE) -> None:
        super().__init__(client, clock)
        self.config = config
        self.drivers = dict(drivers or {})
        self.namespace = namespace
        self.resync_period = timings_of(config).capacityPollInterval or DEFAULT_TIMINGS.capacityPollInterval
        self._caps: dict[str, Capabilities] = {}

    def setup(self) -> None:
        every = self._all_keys
        self.csidrivers = self.informer("csidrivers", key_of=every)
        self.csinodes = self.informer("csinodes", key_of=every)
        self.nodes = self.informer("nodes", key_of=self._node_keys)
        self.classes = self.informer("storageclasses", key_of=every)
        # Volumes coming and going change what is free: recompute for their driver.
        self.informer("persistentvolumes", key_of=self._volume_keys)
        self.objects = self.informer(RESOURCE, namespace=self.namespace, key_of=self._object_keys)

    def _all_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        return self.resync_keys()

    def _node_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        labels = (obj.get("metadata") or {}).get("labels")
        if old is not None and (old.get("metadata") or {}).get("labels") == labels:
            return ()
        return self.resync_keys()

    def _volume_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        driver = ((obj.get("spec") or {}).get("csi") or {}).get("driver")
        if driver in self.drivers and (event != "MODIFIED" or old is None
                                       or (old.get("status") or {}) != (obj.get("status") or {})):
            return (driver,)
        return ()

    def _object_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        driver = ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL_DRIVER)
        if event == "DELETED" and driver in self.drivers:
            return (driver,)
        return ()

    def resync_keys(self) -> Iterable[Key]:
        return tuple(self.drivers)

    def enabled(self, driver: str) -> bool:
        obj = self.csidrivers.get(driver)
        return bool(obj is not None and (obj.get("spec") or {}).get("storageCapacity"))

    # ------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        driver_name = key
        driver = self.drivers.get(driver_name)
        existing = self._existing(driver_name)
        if driver is None or not self.enabled(driver_name):
            for obj in existing:
                await self._delete(obj)
            return DONE
        desired: dict[tuple[str, str], tuple[Segment, JSON]] = {}
        for segment in self.segments(driver_name):
            for cls in self.classes.list():
                if cls.get("provisioner") == driver_name:
                    desired[(term_hash(segment), cls["metadata"]["name"])] = (segment, cls)
        seen: set[tuple[str, str]] = set()
        for obj in existing:
            ident = (term_hash((obj.get("nodeTopology") or {}).get("matchLabels") or {}),
                     obj.get("storageClassName") or "")
            if ident not in desired or ident in seen:
                await self._delete(obj)
                continue
            seen.add(ident)
            segment, cls = desired[ident]
            value = await self.capacity(driver_name, driver, segment, cls)
            if value is not None:
                await self._update(obj, value)
        for ident, (segment, cls) in sorted(desired.items()):
            if ident in seen:
                continue
            value = await self.capacity(driver_name, driver, segment, cls)
            if value is not None:
                await self._create(driver_name, segment, cls, value)
        return DONE

    def segments(self, driver: str) -> list[Segment]:
        """Distinct topology segments of the nodes whose CSINode lists ``driver``."""
        out: dict[str, Segment] = {}
        for csinode in self.csinodes.list():
            keys = csinode_keys(csinode, driver)
            if keys is None:
                continue
            node = self.nodes.get(csinode["metadata"]["name"])
            if node is None:
                continue
            segment = node_topology(node, keys) if keys else {}
            if segment is not None:
                out[term_hash(segment)] = segment
        return [out[h] for h in sorted(out)]

    # ------------------------------------------------------------ capacity

    async def capacity(self, driver_name: str, driver: spec.CsiDriver, segment: Segment, cls: JSON) -> CapacityValue | None:
        """CSI GetCapacity for the segment and the class's parameters (None: publish nothing).

        As upstream, a driver without the GET_CAPACITY capability gets no objects: the scheduler
        then finds none and, with ``storageCapacity: true``, treats every node as full.
        """
        caps = self._caps.get(driver_name)
        if caps is None:
            caps = self._caps[driver_name] = await get_capabilities(driver)
        if not caps.get_capacity:
            return None
        try:
            params, _ = split_parameters(cls.get("parameters") or {})
        except ProvisioningError:
            return None
        try:
            return await self._get_capacity(driver, segment, params)
        except CsiCallError as err:
            log.info("%s: GetCapacity for %s failed: %s", self.name, driver_name, err)
            return None

    async def _get_capacity(self, driver: spec.CsiDriver, segment: Segment, params: dict[str, str]) -> CapacityValue:
        req = spec.GetCapacityRequest(parameters=params,
                                      accessible_topology=spec.Topology(segments=dict(segment)) if segment else None)
        resp = await call_driver(driver.get_capacity, req)
        maximum = resp.maximum_volume_size
        return CapacityValue(int(resp.available_capacity), int(maximum) if maximum is not None else None)

    # ------------------------------------------------------------ objects

    def _existing(self, driver: str) -> list[JSON]:
        return [o for o in self.objects.list(self.namespace)
                if ((o.get("metadata") or {}).get("labels") or {}).get(LABEL_DRIVER) == driver
                and ((o.get("metadata") or {}).get("labels") or {}).get(LABEL_MANAGED_BY) == MANAGED_BY]

    async def _create(self, driver: str, segment: Segment, cls: JSON, value: CapacityValue) -> None:
        body: JSON = {
            "apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
            "metadata": {"generateName": GENERATE_NAME, "namespace": self.namespace,
                         "labels": {LABEL_DRIVER: driver, LABEL_MANAGED_BY: MANAGED_BY}},
            "nodeTopology": {"matchLabels": dict(segment)},
            "storageClassName": cls["metadata"]["name"],
            **quantities(value),
        }
        await self.client.create(RESOURCE, body, self.namespace)

    async def _update(self, obj: JSON, value: CapacityValue) -> None:
        want = quantities(value)
        have: JSON = {k: obj[k] for k in ("capacity", "maximumVolumeSize") if k in obj}
        if _same(have, want):
            return
        body = dict(obj)
        body.pop("maximumVolumeSize", None)
        body.update(want)
        try:
            await self.client.update(RESOURCE, body, self.namespace)
        except ApiError as err:
            if err.code != 404:
                raise

    async def _delete(self, obj: JSON) -> None:
        try:
            await self.client.delete(RESOURCE, obj["metadata"]["name"], self.namespace)
        except ApiError as err:
            if err.code != 404:
                raise


def quantities(value: CapacityValue) -> JSON:
    out: JSON = {"capacity": format_quantity(Decimal(max(0, value.available)), "BinarySI")}
    if value.maximum is not None:
        out["maximumVolumeSize"] = format_quantity(Decimal(max(0, value.maximum)), "BinarySI")
    return out


def _same(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    if set(have) != set(want):
        return False
    return all(parse_quantity(str(have[k])) == parse_quantity(str(want[k])) for k in want)


__all__ = ["CapacityController", "CapacityValue", "NAMESPACE", "LABEL_DRIVER", "LABEL_MANAGED_BY", "MANAGED_BY"]
