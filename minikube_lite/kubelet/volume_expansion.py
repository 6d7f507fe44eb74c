"""The kubelet's part of volume expansion: NodeExpandVolume for claims in use on a node.

Why a loop of its own next to :mod:`~minikube_lite.kubelet.pods`: in the real kubelet the
volume manager's reconciler, not the pod workers, notices that a mounted volume's PV grew beyond
the claim's capacity and grows the file system (online expansion), or does it while mounting
for a pod that starts. Here that is one controller keyed by claim: when the claim waits for the
node (``allocatedResourceStatuses.storage`` ``NodeResizePending``) and a pod using it runs on a
node, it calls ``NodeExpandVolume`` of the volume's driver on that node, then does what
``MarkFSResizeFinished`` does (capacity = the PV's size, resize conditions and status cleared)
and records ``FileSystemResizeSuccessful`` on the pod and the claim, as kubelet ``<node>``.

It talks only through the API client and the CSI protocol. A failed call is retried by the
controller runtime's one rule (a rate-limited requeue that sits out its backoff even when the
claim's own status write brings the key back): ``timings.kubeletExpandRetryInitial`` doubling up
to ``kubeletExpandRetryMax``. Before acting it reads the claim from the API, not the cache: the
cache may not yet hold its own last write, and acting on that would expand twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from ..client.base import JSON, Client
from ..client.events import NORMAL, WARNING, EventRecorder
from ..client.runtime import (
    DONE,
    RETRY,
    Backoff,
    Controller,
    Key,
    Result,
    get_or_none,
    namespaced_key,
    split_key,
)
from ..clock import Clock, rfc3339
from ..config import timings_of
from ..csi import spec
from ..csi.calls import CsiCallError, call_driver
from ..kube import resize_status as rs
from ..kube.attachments import pod_claims

log = logging.getLogger(__name__)

KUBELET = "kubelet"
REASON_FS_RESIZE_SUCCESSFUL = "FileSystemResizeSuccessful"
MSG_FS_RESIZE_SUCCESSFUL = 'MountVolume.NodeExpandVolume succeeded for volume "{pv}" {node}'
REASON_FS_RESIZE_FAILED = "FileSystemResizeFailed"
MSG_FS_RESIZE_FAILED = 'MountVolume.NodeExpandVolume failed for volume "{pv}" {node}: {err}'

#: Claim resource statuses in which the node still has work to do.
NODE_PENDING = frozenset({rs.NODE_RESIZE_PENDING, rs.NODE_RESIZE_IN_PROGRESS})


def volume_path(pod: JSON, pv_name: str) -> str:
    return f"/var/lib/kubelet/pods/{pod['metadata'].get('uid')}/volumes/kubernetes.io~csi/{pv_name}/mount"


def staging_path(driver: str, volume_handle: str) -> str:
    digest = hashlib.sha256(volume_handle.encode()).hexdigest()
    return f"/var/lib/kubelet/plugins/kubernetes.io/csi/{driver}/{digest}/globalmount"


def node_expansion_pending(pvc: JSON) -> bool:
    return rs.resize_status(pvc) in NODE_PENDING or (
        rs.resize_status(pvc) == "" and rs.has_condition(pvc, rs.COND_FS_RESIZE_PENDING))


def _running_on_node(pod: JSON) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName")) and not pod["metadata"].get("deletionTimestamp") \
        and (pod.get("status") or {}).get("phase") == "Running"


class KubeletVolumeExpansion(Controller):
    """Online/offline node expansion for every node's kubelet (keyed by claim)."""

    name = "kubelet-volume-expansion"
    #: A failed NodeExpandVolume waits out its backoff even when its own status write (the
    #: NodeResizeError condition) brings the claim back sooner, as the kubelet's operation backoff.
    hold_backoff = True

    def __init__(self, client: Client, clock: Clock, config: Any = None,
                 drivers: Mapping[str, spec.CsiDriver] | None = None) -> None:
        super().__init__(client, clock)
        self.drivers = dict(drivers or {})
        timings = timings_of(config)
        self.use_backoff(Backoff(timings.kubeletExpandRetryInitial, timings.kubeletExpandRetryMax))
        self.events = EventRecorder(client, KUBELET, clock)   # every node's (host per event)

    def setup(self) -> None:
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pvcs = self.informer("persistentvolumeclaims", key_of=self._claim_keys)
        self.pvs = self.informer("persistentvolumes")

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED" or not _running_on_node(obj):
            return []
        ns = obj["metadata"].get("namespace")
        return [f"{ns}/{claim}" for _, claim in pod_claims(obj)]

    def _claim_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED":
            self.queue.forget(namespaced_key(obj))
            return []
        return [namespaced_key(obj)] if node_expansion_pending(obj) else []


    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        pvc = self.pvcs.get(name, ns)
        if pvc is not None and node_expansion_pending(pvc):
            pvc = await get_or_none(self.client, "persistentvolumeclaims", name, ns)  # not a stale copy
        if pvc is None or not node_expansion_pending(pvc):
            return DONE
        pv_name = str((pvc.get("spec") or {}).get("volumeName") or "")
        pv = (self.pvs.get(pv_name) or await get_or_none(self.client, "persistentvolumes", pv_name)) if pv_name else None
        if pv is None:
            return DONE
        new_size = rs.pv_capacity(pv)
        if new_size <= rs.capacity(pvc):
            return DONE
        pod = self._pod_using(pvc)
        if pod is None:
            return DONE  # FileSystemResizePending: waits for a pod to (re-)start
        node = str(pod["spec"]["nodeName"])
        csi = (pv.get("spec") or {}).get("csi") or {}
        driver = self.drivers.get(str(csi.get("driver") or ""))
        if driver is None:
            return DONE
        if rs.resize_status(pvc) == rs.NODE_RESIZE_PENDING:
            status = dict(pvc.get("status") or {})
            rs.set_resource_status(status, rs.NODE_RESIZE_IN_PROGRESS)
            pvc = await self._write_status(pvc, status)
        try:
            await self._node_expand(driver, pod, pv, node, int(new_size))
        except CsiCallError as err:
            return await self._failed(key, pvc, pod, pv_name, node, err)
        message = MSG_FS_RESIZE_SUCCESSFUL.format(pv=pv_name, node=node)
        await self.events.event(pod, NORMAL, REASON_FS_RESIZE_SUCCESSFUL, message, host=node)
        await self.events.event(pvc, NORMAL, REASON_FS_RESIZE_SUCCESSFUL, message, host=node)
        await self._write_status(pvc, rs.mark_fs_resize_finished(pvc, new_size))
        return DONE

    def _pod_using(self, pvc: JSON) -> JSON | None:
        """A running pod that uses the claim (the first by name): its node grows the volume."""
        ns = pvc["metadata"].get("namespace")
        name = pvc["metadata"]["name"]
        users = [p for p in self.pods.list(ns)
                 if _running_on_node(p) and any(claim == name for _, claim in pod_claims(p))]
        users.sort(key=lambda p: str(p["metadata"].get("name")))
        return users[0] if users else None

    async def _node_expand(self, driver: spec.CsiDriver, pod: JSON, pv: JSON, node: str, size: int) -> None:
        """NodeExpandVolume when the driver's node service has EXPAND_VOLUME (otherwise the file
        system needs nothing from the node and only the claim is updated, as upstream)."""
        caps = {getattr(c, "name", str(c)) for c in await call_driver(driver.node_get_capabilities)}
        if "EXPAND_VOLUME" not in caps:
            return
        csi = (pv.get("spec") or {}).get("csi") or {}
        handle = str(csi.get("volumeHandle") or "")
        block = (pv.get("spec") or {}).get("volumeMode") == "Block"
        await call_driver(driver.node_expand_volume, spec.NodeExpandVolumeRequest(
            volume_id=handle, node_name=node, volume_path=volume_path(pod, str(pv["metadata"]["name"])),
            capacity_range=spec.CapacityRange(required_bytes=size),
            staging_target_path=staging_path(str(csi.get("driver") or ""), handle),
            volume_capability=spec.VolumeCapability(block=block, mount=None if block else spec.MountVolume(
                fs_type=str(csi.get("fsType") or "")))))

    async def _failed(self, key: Key, pvc: JSON, pod: JSON, pv_name: str, node: str, err: CsiCallError) -> Result:
        """A Warning on the pod, NodeResizeError on the claim (NodeResizeInfeasible for an
        infeasible size), another attempt after the runtime's backoff."""
        status = dict(pvc.get("status") or {})
        now = rfc3339(self.clock.now())
        status["conditions"] = rs.merge_resize_conditions(
            status.get("conditions") or [],
            [rs.condition(rs.COND_NODE_RESIZE_ERROR, now, rs.MSG_RESIZE_ERROR_CONDITION.format(err=err))],
            keep_old=True)
        if err.code in (spec.Code.INVALID_ARGUMENT.go_name, spec.Code.OUT_OF_RANGE.go_name):
            rs.set_resource_status(status, rs.NODE_RESIZE_INFEASIBLE)
        else:
            rs.set_resource_status(status, rs.NODE_RESIZE_PENDING)
        await self._write_status(pvc, status)
        await self.events.event(pod, WARNING, REASON_FS_RESIZE_FAILED,
                                MSG_FS_RESIZE_FAILED.format(pv=pv_name, node=node, err=err), host=node)
        return RETRY

    async def _write_status(self, pvc: JSON, status: JSON) -> JSON:
        if status == (pvc.get("status") or {}):
            return pvc
        ns = (pvc.get("metadata") or {}).get("namespace")
        updated: JSON = await self.client.update("persistentvolumeclaims", {**pvc, "status": status}, ns,
                                                 subresource="status")
        return updated


__all__ = ["KubeletVolumeExpansion", "node_expansion_pending"]
