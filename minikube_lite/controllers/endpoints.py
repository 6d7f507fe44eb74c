"""The Endpoints controller: the legacy ``v1/Endpoints`` object of each Service with a selector.

As ``pkg/controller/endpoint`` (1.35): one Endpoints named like the Service, with the Service's
labels; ready pods under ``addresses``, the rest under ``notReadyAddresses``; terminating pods
left out (unless ``publishNotReadyAddresses``); subsets grouped by the resolved ports
(``RepackSubsets``), addresses ordered by IP; the annotation
``endpoints.kubernetes.io/last-change-trigger-time``. Services without a selector are left alone
(their Endpoints are the user's), so is the ``kubernetes`` Service (the API server's own).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from .service_pods import (
    HEADLESS_LABEL,
    TRIGGER_TIME_ANNOTATION,
    PortKey,
    is_pod_ready,
    pod_ref,
    resolved_ports,
    service_key_of_pod,
    service_selects,
    should_be_in_endpoints,
    trigger_time,
)


def _ip_order(address: JSON) -> tuple[int, Any]:
    try:
        return (0, ipaddress.ip_address(str(address.get("ip"))))
    except ValueError:
        return (1, str(address.get("ip")))


def endpoint_address(pod: JSON, service: JSON) -> JSON:
    spec = pod.get("spec") or {}
    address: JSON = {"ip": str((pod.get("status") or {}).get("podIP"))}
    if spec.get("hostname") and spec.get("subdomain") == (service.get("metadata") or {}).get("name"):
        address["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    address["targetRef"] = pod_ref(pod)
    return address


def desired_subsets(service: JSON, pods: list[JSON]) -> list[JSON]:
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    groups: dict[PortKey, tuple[list[JSON], list[JSON]]] = {}
    for pod in pods:
        if not should_be_in_endpoints(pod, include_terminating=publish):
            continue
        ports = resolved_ports(service, pod)
        if not ports:
            continue
        ready, not_ready = groups.setdefault(ports, ([], []))
        (ready if publish or is_pod_ready(pod) else not_ready).append(endpoint_address(pod, service))
    subsets: list[JSON] = []
    for ports in sorted(groups):
        ready, not_ready = groups[ports]
        subset: JSON = {}
        if ready:
            subset["addresses"] = sorted(ready, key=_ip_order)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_ip_order)
        out_ports = []
        for name, number, protocol, app_protocol in ports:
            port: JSON = {"port": number, "protocol": protocol}
            if name:
                port = {"name": name, **port}
            if app_protocol:
                port["appProtocol"] = app_protocol
            out_ports.append(port)
        subset["ports"] = out_ports
        subsets.append(subset)
    return subsets


def endpoints_labels(service: JSON) -> dict[str, str]:
    labels = dict((service.get("metadata") or {}).get("labels") or {})
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


class EndpointsController(Controller):
    name = "endpoints-controller"

    def setup(self) -> None:
        self.services = self.informer("services", key_of=lambda e, o, old: [_key(o)])
        self.pods = self.informer("pods", key_of=self._pod_keys)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        services = self.services.list((obj.get("metadata") or {}).get("namespace"))
        keys = service_key_of_pod(services, obj)
        if old is not None:
            keys += [k for k in service_key_of_pod(services, old) if k not in keys]
        return keys

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        service = self.services.get(name, ns)
        if service is None:
            await self._delete(name, ns)
            return DONE
        if not (service.get("spec") or {}).get("selector") or service["metadata"].get("deletionTimestamp"):
            return DONE
        pods = [p for p in self.pods.list(ns) if service_selects(service, p)]
        subsets = desired_subsets(service, pods)
        labels = endpoints_labels(service)
        current = await get_or_none(self.client, "endpoints", name, ns)
        if current is not None:
            cmeta = current.get("metadata") or {}
            if (current.get("subsets") or []) == subsets and (cmeta.get("labels") or {}) == labels:
                return DONE
            annotations = {**(cmeta.get("annotations") or {}), TRIGGER_TIME_ANNOTATION: trigger_time(service, pods)}
            body = {**current, "metadata": {**cmeta, "labels": labels, "annotations": annotations}}
            body["subsets"] = subsets
            if not subsets:
                body.pop("subsets", None)
            await self.client.update("endpoints", body, ns)
            return DONE
        body = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                             "annotations": {TRIGGER_TIME_ANNOTATION: trigger_time(service, pods)}}}
        if subsets:
            body["subsets"] = subsets
        try:
            await self.client.create("endpoints", body, ns)
        except ApiError as err:
            if err.code not in (403, 409):
                raise
        return DONE

    async def _delete(self, name: str, ns: str | None) -> None:
        try:
            await self.client.delete("endpoints", name, ns)
        except ApiError as err:
            if err.code != 404:
                raise


def _key(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
