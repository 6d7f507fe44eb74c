"""What a Service's endpoints are made of: its selected pods, their addresses and resolved ports.

Shared by the EndpointSlice and Endpoints controllers, which agree (as upstream's
``pkg/controller/util/endpoint``) on which pods count, when an address is ready, serving or
terminating, and how a ``targetPort`` (a number or a container port's name) becomes a port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..client.base import JSON
from ..clock import parse_time, rfc3339
from ..kube.selectors import match_label_selector

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
ZONE_LABEL = "topology.kubernetes.io/zone"

PortKey = tuple[tuple[str, int, str, str | None], ...]


def service_selects(service: Mapping[str, Any], pod: Mapping[str, Any]) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return False
    if ((pod.get("metadata") or {}).get("namespace") or "") != ((service.get("metadata") or {}).get("namespace") or ""):
        return False
    return match_label_selector({"matchLabels": selector}, (pod.get("metadata") or {}).get("labels") or {})


def should_be_in_endpoints(pod: Mapping[str, Any], *, include_terminating: bool) -> bool:
    """endpointutil.ShouldPodBeInEndpoints: has an IP, not finished; terminating only when asked."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP"):
        return False
    if not include_terminating and (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    return True


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def find_port(pod: Mapping[str, Any], service_port: Mapping[str, Any]) -> int | None:
    """podutil.FindPort: a number is taken as is; a name is looked up among the containers' ports."""
    target = service_port.get("targetPort")
    if target is None or target == "" or target == 0:
        return int(service_port.get("port") or 0)
    if isinstance(target, int):
        return target
    text = str(target)
    if text.isdigit():
        return int(text)
    protocol = service_port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == text and (port.get("protocol") or "TCP") == protocol:
                return int(port.get("containerPort") or 0)
    return None


def resolved_ports(service: Mapping[str, Any], pod: Mapping[str, Any]) -> PortKey:
    """The service's ports for this pod, as (name, port, protocol, appProtocol); unresolvable ones dropped."""
    out: list[tuple[str, int, str, str | None]] = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        port = find_port(pod, sp)
        if port is None:
            continue
        out.append((str(sp.get("name") or ""), port, str(sp.get("protocol") or "TCP"), sp.get("appProtocol")))
    return tuple(out)


def trigger_time(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> str:
    """The last change that the endpoints reflect: the newest of the service's creation and each
    pod's creation, Ready transition and deletion (level-based, so a resync writes the same value)."""
    stamps = [parse_time((service.get("metadata") or {}).get("creationTimestamp") or "") or 0.0]
    for pod in pods:
        pmeta = pod.get("metadata") or {}
        stamps.append(parse_time(pmeta.get("creationTimestamp") or "") or 0.0)
        stamps.append(parse_time(pmeta.get("deletionTimestamp") or "") or 0.0)
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                stamps.append(parse_time(cond.get("lastTransitionTime") or "") or 0.0)
    return rfc3339(max(stamps))


def pod_ref(pod: Mapping[str, Any]) -> JSON:
    pmeta = pod.get("metadata") or {}
    return {"kind": "Pod", "namespace": pmeta.get("namespace"), "name": pmeta.get("name"), "uid": pmeta.get("uid")}


def service_key_of_pod(services: Iterable[JSON], pod: Mapping[str, Any]) -> list[str]:
    keys = []
    for svc in services:
        if service_selects(svc, pod):
            smeta = svc.get("metadata") or {}
            keys.append(f"{smeta.get('namespace')}/{smeta.get('name')}")
    return keys
