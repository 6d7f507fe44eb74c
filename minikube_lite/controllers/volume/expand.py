"""kube-controller-manager's expand controller (``volume_expand``), as it behaves for CSI volumes.

Why it exists here although it expands nothing: on a real cluster this controller looks at
every bound claim whose request grew, finds no in-tree plugin able to expand a CSI (or local)
volume, and says so on the claim with a Warning ``ExternalExpanding`` ("waiting for an external
controller to expand this PVC"); the csi-resizer does the work. ``kubectl describe pvc`` shows
that event next to the resizer's, so it is reproduced. Claims are enqueued as upstream's
handlers do: when a bound claim is added, or its request or its capacity grows.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...client.base import JSON, Client
from ...client.events import WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, namespaced_key, split_key
from ...clock import Clock
from ...kube import resize_status as rs

COMPONENT = "volume_expand"
REASON_EXTERNAL_EXPANDING = "ExternalExpanding"
MSG_EXTERNAL_EXPANDING = "waiting for an external controller to expand this PVC"


def _grew(obj: JSON, old: JSON | None) -> bool:
    if old is None:
        return True
    new_req, old_req = rs.requested(obj), rs.requested(old)
    if new_req is not None and old_req is not None and new_req > old_req:
        return True
    return rs.capacity(obj) > rs.capacity(old)


class ExpandController(Controller):
    name = COMPONENT

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)

    def setup(self) -> None:
        self.pvcs = self.informer("persistentvolumeclaims", key_of=self._claim_keys)
        self.pvs = self.informer("persistentvolumes")

    def _claim_keys(self, event: str, obj: JSON, old: JSON | None) -> Iterable[Key]:
        if event == "DELETED" or (obj.get("status") or {}).get("phase") != "Bound":
            return []
        return [namespaced_key(obj)] if _grew(obj, old if event == "MODIFIED" else None) else []

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        pvc = self.pvcs.get(name, ns)
        if pvc is None:
            return DONE
        pv_name = str((pvc.get("spec") or {}).get("volumeName") or "")
        if not pv_name:
            return DONE
        pv = self.pvs.get(pv_name) or await get_or_none(self.client, "persistentvolumes", pv_name)
        if pv is None:
            return DONE
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        if ref.get("namespace") != ns or ref.get("uid") != pvc["metadata"].get("uid"):
            return DONE
        requested = rs.requested(pvc)
        if requested is None or requested <= rs.capacity(pvc):
            return DONE
        # No in-tree plugin can expand a CSI or local volume: an external controller must.
        await self.recorder.event(pvc, WARNING, REASON_EXTERNAL_EXPANDING, MSG_EXTERNAL_EXPANDING)
        return DONE


__all__ = ["ExpandController"]
