"""An event recorder for controllers, with client-go's aggregation.

Repeats of the same event (same object, type, reason, message and source) within the
aggregation window update one Event: ``count`` grows and ``lastTimestamp`` moves, so
``kubectl describe`` prints ``(x2 over 5m)`` exactly as on a real cluster.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson

from ..apiserver.errors import ApiError
from ..clock import Clock, rfc3339, rfc3339_micro
from ..logs import klog
from .base import JSON, Client

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
AGGREGATION_WINDOW = 600.0  # client-go's EventCorrelator keeps a similar-event key for 10 minutes


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    first: str
    last_seen: float


def involved_object(obj: JSON) -> JSON:
    meta = obj.get("metadata") or {}
    ref: JSON = {"kind": obj.get("kind", ""), "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                 "apiVersion": obj.get("apiVersion", ""), "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


def log_event(obj: JSON, type_: str, reason: str, message: str) -> None:
    """The event broadcaster's structured log line, in the recording component's log."""
    if not klog.isEnabledFor(logging.INFO):
        return
    meta = obj.get("metadata") or {}
    name = f"{meta['namespace']}/{meta.get('name', '')}" if meta.get("namespace") else str(meta.get("name", ""))
    klog.info('"Event occurred" object="%s" fieldPath="" kind="%s" apiVersion="%s" type="%s" reason="%s" '
              "message=%s", name, obj.get("kind", ""), obj.get("apiVersion", ""), type_, reason,
              orjson.dumps(message).decode())


class EventRecorder:
    """Record core/v1 Events on behalf of one component (``persistentvolume-controller``...)."""

    def __init__(self, client: Client, component: str, clock: Clock, *, host: str = "",
                 reporting_instance: str = "") -> None:
        self.client = client
        self.component = component
        self.clock = clock
        self.host = host
        # client-go's recorder reports the host as the instance (empty for controllers).
        self.reporting_instance = reporting_instance or host
        self._seen: dict[tuple[Any, ...], _Seen] = {}
        self._counter = 0

    async def event(self, obj: JSON, type_: str, reason: str, message: str, *,
                    action: str | None = None) -> JSON | None:
        """Record an event about ``obj``; failures are logged, never raised (as client-go).

        ``action`` is what the reporter was doing (``Scheduling``, ``Binding``), as events.k8s.io has it.
        """
        log_event(obj, type_, reason, message)
        try:
            return await self._record(obj, type_, reason, message, action)
        except ApiError as err:
            log.debug("could not record event %s on %s: %s", reason, obj.get("metadata", {}).get("name"), err)
            return None

    async def _record(self, obj: JSON, type_: str, reason: str, message: str, action: str | None) -> JSON:
        ref = involved_object(obj)
        namespace = ref.get("namespace") or "default"
        key = (ref["kind"], namespace, ref["name"], ref["uid"], type_, reason, message)
        now = self.clock.now()
        stamp = rfc3339(now)
        seen = self._seen.get(key)
        if seen is not None and now - seen.last_seen < AGGREGATION_WINDOW:
            seen.count += 1
            seen.last_seen = now
            try:
                updated: JSON = await self.client.patch(
                    "events", seen.name, {"count": seen.count, "lastTimestamp": stamp}, seen.namespace)
                return updated
            except ApiError as err:
                if err.code != 404:
                    raise
        event: JSON = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "", "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "type": type_,
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
            "eventTime": None, "reportingComponent": self.component,
            "reportingInstance": self.reporting_instance,
        }
        if action:
            event["action"] = action
        # Names are "<object>.<unix nanoseconds in hex>" as client-go makes them; two recorders
        # writing at the same (virtual) instant would collide, so step to the next free name.
        while True:
            self._counter += 1
            name = f"{ref['name']}.{int(now * 1e9) + self._counter:x}"
            event["metadata"]["name"] = name
            try:
                created: JSON = await self.client.create("events", event, namespace)
                break
            except ApiError as err:
                if err.code != 409 or err.reason != "AlreadyExists":
                    raise
        self._seen[key] = _Seen(name, namespace, 1, stamp, now)
        return created

    def micro_now(self) -> str:
        return rfc3339_micro(self.clock.now())
