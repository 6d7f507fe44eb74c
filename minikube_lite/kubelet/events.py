"""kubelet's events about pods: upstream reasons and messages, and the recorder that writes them.

Container events carry ``involvedObject.fieldPath`` (``spec.containers{app}``), which
``kubectl describe`` 1.35 prints before the message; the shared EventRecorder has no field path,
so those are written here, with the same aggregation (count, lastTimestamp) and names. Pod-level
events (FailedMount, NetworkNotReady) go through the shared recorder.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..client.base import JSON, ApiError, Client
from ..client.events import AGGREGATION_WINDOW, EventRecorder, involved_object, record_event
from ..clock import Clock, rfc3339
from .containerd import ContainerRuntime

log = logging.getLogger(__name__)

KUBELET = "kubelet"

# pkg/kubelet/events/event.go reasons, and the messages kubelet writes with them.
EVENT_PULLING = "Pulling"
EVENT_PULLED = "Pulled"
EVENT_CREATED = "Created"
EVENT_STARTED = "Started"
EVENT_KILLING = "Killing"
EVENT_FAILED_MOUNT = "FailedMount"
EVENT_NETWORK_NOT_READY = "NetworkNotReady"
MSG_PULLING = 'Pulling image "{image}"'
MSG_PULLED = ('Successfully pulled image "{image}" in {pull} ({total} including waiting). '
              "Image size: {size} bytes.")
MSG_ALREADY_PRESENT = 'Container image "{image}" already present on machine and can be accessed by the pod'
# 1.35 (kubernetes#134043) dropped the container name from these two: the event's fieldPath carries
# it and kubectl 1.35 prints "spec.containers{c}: Container created". 1.32-1.34 said
# "Created container: c" / "Started container c".
MSG_CREATED = "Container created"
MSG_STARTED = "Container started"
MSG_KILLING = "Stopping container {name}"
MSG_NETWORK_NOT_READY = "network is not ready: {error}"
# pkg/kubelet/kuberuntime: a container waiting out its crash-loop back-off.
EVENT_BACKOFF = "BackOff"
MSG_BACKOFF = "Back-off restarting failed container {container} in pod {pod}"
# kubelet.go SyncPod / volume_manager.go WaitForAttachAndMount
MSG_FAILED_MOUNT = "Unable to attach or mount volumes: {error}"


@dataclass(frozen=True)
class KubeletEvent:
    """An event the kubelet records: type, upstream reason, message template (``str.format`` fields)."""

    type: str
    reason: str
    message: str

    def text(self, **fields: object) -> str:
        return self.message.format(**fields)


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String()`` after ``Truncate(time.Millisecond)``: ``0s``, ``313ms``,
    ``1.2s``, ``1m2.5s``."""
    ms = int(round(max(0.0, seconds) * 1000.0, 6))
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}.{rest % 1000:03d}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{secs}"
    if minutes:
        return f"{minutes}m{secs}"
    return secs


def go_list(items: Iterable[str]) -> str:
    """``fmt.Sprintf("%v", []string{...})``."""
    return "[" + " ".join(items) + "]"


def field_path(c: ContainerRuntime) -> str:
    return f"spec.{'initContainers' if c.init else 'containers'}{{{c.name}}}"


class KubeletRecorder:
    """kubelet's events about pods (source ``kubelet``, host = the pod's node), for every node the
    process runs: one recorder, not one per node, with the names and aggregation one per node
    would give (per-node name counters, aggregation within a node). Over a remote client the
    writes are queued (``client/events.py``): a pod's sync does not wait for its events."""

    def __init__(self, client: Client, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.plain = EventRecorder(client, KUBELET, clock)
        self._seen: dict[tuple[str, ...], tuple[str, str, int, float]] = {}
        self._counters: dict[str, int] = {}

    async def record(self, node: str, pod: JSON, c: ContainerRuntime | None, event: KubeletEvent, /,
                     **fields: object) -> None:
        """One of the stage table's events about container ``c`` (the pod when None) of a pod on
        ``node``; ``fields`` fill its message template."""
        await self.container_event(node, pod, c, event.type, event.reason, event.text(**fields))

    async def container_event(self, node: str, pod: JSON, c: ContainerRuntime | None, type_: str, reason: str,
                              message: str) -> None:
        """An event about container ``c`` of the pod (about the pod itself when ``c`` is None)."""
        if c is None:
            await self.plain.event(pod, type_, reason, message, host=node)
            return
        ref = involved_object(pod)
        ref["fieldPath"] = field_path(c)
        now = self.clock.now()

        async def write() -> None:
            try:
                await self._record(node, ref, type_, reason, message, now)
            except ApiError as err:
                log.debug("could not record event %s on %s/%s: %s", reason, ref.get("namespace"), ref.get("name"),
                          err)

        await record_event(self.client, ref, reason, write, f"{KUBELET}/{node}")

    async def _record(self, node: str, ref: JSON, type_: str, reason: str, message: str, now: float) -> None:
        path = str(ref["fieldPath"])
        namespace = str(ref.get("namespace") or "default")
        key = (node, namespace, str(ref["name"]), str(ref["uid"]), path, type_, reason, message)
        stamp = rfc3339(now)
        seen = self._seen.get(key)
        if seen is not None and now - seen[3] < AGGREGATION_WINDOW:
            name, ns, count, _ = seen
            self._seen[key] = (name, ns, count + 1, now)
            try:
                await self.client.patch("events", name, {"count": count + 1, "lastTimestamp": stamp}, ns)
                return
            except ApiError as err:
                if err.code != 404:
                    raise
        event: JSON = {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": "", "namespace": namespace},
            "involvedObject": ref, "reason": reason, "message": message, "type": type_,
            "source": {"component": KUBELET, "host": node},
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "eventTime": None,
            "reportingComponent": KUBELET, "reportingInstance": node,
        }
        for _ in range(100):
            counter = self._counters.get(node)
            if counter is None:
                counter = zlib.crc32(f"kubelet-container/{node}".encode()) << 20
            counter = self._counters[node] = counter + 1
            name = f"{ref['name']}.{int(now * 1e9) + counter:x}"
            event["metadata"]["name"] = name
            try:
                await self.client.create("events", event, namespace)
                break
            except ApiError as err:
                if err.code != 409:
                    raise
        self._seen[key] = (name, namespace, 1, now)


def kubelet_events_for(events: Iterable[JSON]) -> list[tuple[str, str, str]]:
    """(reason, fieldPath, message) of kubelet events, in order: a helper for tests and demos."""
    return [(e.get("reason", ""), (e.get("involvedObject") or {}).get("fieldPath", ""), e.get("message", ""))
            for e in events if (e.get("source") or {}).get("component") == KUBELET]
