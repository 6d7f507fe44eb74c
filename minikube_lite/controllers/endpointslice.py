"""The EndpointSlice controller: the pods behind each Service with a selector, as discovery.k8s.io slices.

As ``pkg/controller/endpointslice`` (1.35): slices are named by ``generateName`` ``<service>-``,
labelled ``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by``, owned by
the Service (so the garbage collector removes them with it), addressType IPv4. Endpoints with
the same resolved ports share a slice (at most 100 each); a selector matching no ready address
still gets one empty placeholder slice. Each endpoint carries the ready/serving/terminating
conditions, nodeName, targetRef, the node's zone and (for a pod whose subdomain is the service)
its hostname. Reconcile compares the desired slices with the existing ones and writes only the
difference.
"""

from __future__ import annotations

import logging
from typing import Any

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Key, Result, split_key
from .service_pods import (
    HEADLESS_LABEL,
    SERVICE_NAME_LABEL,
    TRIGGER_TIME_ANNOTATION,
    ZONE_LABEL,
    PortKey,
    is_pod_ready,
    pod_ref,
    resolved_ports,
    service_key_of_pod,
    service_selects,
    should_be_in_endpoints,
    trigger_time,
)

log = logging.getLogger(__name__)

MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS_PER_SLICE = 100
SERVICE_INDEX = "endpointslice:service"


def slice_ports(ports: PortKey | None) -> list[JSON] | None:
    if ports is None:
        return None
    out = []
    for name, number, protocol, app_protocol in ports:
        port: JSON = {"name": name, "port": number, "protocol": protocol}
        if app_protocol:
            port["appProtocol"] = app_protocol
        out.append(port)
    return out


def endpoint_for(service: JSON, pod: JSON, node: JSON | None) -> JSON:
    """podToEndpoint: the address and its conditions (ready is never true while terminating)."""
    publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
    serving = publish or is_pod_ready(pod)
    terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    endpoint: JSON = {"addresses": [str((pod.get("status") or {}).get("podIP"))],
                      "conditions": {"ready": publish or (serving and not terminating), "serving": serving,
                                     "terminating": terminating}}
    spec = pod.get("spec") or {}
    if spec.get("hostname") and spec.get("subdomain") == (service.get("metadata") or {}).get("name"):
        endpoint["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        endpoint["nodeName"] = spec["nodeName"]
    endpoint["targetRef"] = pod_ref(pod)
    zone = ((node or {}).get("metadata") or {}).get("labels", {}).get(ZONE_LABEL)
    if zone:
        endpoint["zone"] = zone
    return endpoint


def slice_labels(service: JSON) -> dict[str, str]:
    smeta = service.get("metadata") or {}
    labels = dict(smeta.get("labels") or {})
    labels[SERVICE_NAME_LABEL] = str(smeta.get("name"))
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    return labels


def desired_slices(service: JSON, pods: list[JSON], nodes: dict[str, JSON]) -> list[tuple[PortKey | None, list[JSON]]]:
    """(ports, endpoints) per slice: grouped by resolved ports, chunked, or one empty placeholder."""
    groups: dict[PortKey, list[JSON]] = {}
    for pod in sorted(pods, key=lambda p: str((p.get("metadata") or {}).get("name"))):
        if not should_be_in_endpoints(pod, include_terminating=True):
            continue
        ports = resolved_ports(service, pod)
        node = nodes.get(str((pod.get("spec") or {}).get("nodeName") or ""))
        groups.setdefault(ports, []).append(endpoint_for(service, pod, node))
    out: list[tuple[PortKey | None, list[JSON]]] = []
    for ports in sorted(groups):
        endpoints = groups[ports]
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            out.append((ports, endpoints[start:start + MAX_ENDPOINTS_PER_SLICE]))
    return out or [(None, [])]


def _owner(service: JSON) -> JSON:
    smeta = service["metadata"]
    return {"apiVersion": "v1", "kind": "Service", "name": smeta["name"], "uid": smeta.get("uid"),
            "controller": True, "blockOwnerDeletion": True}


def _port_key(slice_obj: JSON) -> PortKey | None:
    ports = slice_obj.get("ports")
    if ports is None:
        return None
    return tuple((str(p.get("name") or ""), int(p.get("port") or 0), str(p.get("protocol") or "TCP"),
                  p.get("appProtocol")) for p in ports)


class EndpointSliceController(Controller):
    name = "endpointslice-controller"

    def setup(self) -> None:
        self.services = self.informer("services", key_of=lambda e, o, old: [_key(o)])
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.nodes = self.informer("nodes", key_of=self._node_keys)
        self.slices = self.informer("endpointslices.discovery.k8s.io", key_of=self._slice_keys)
        self.slices.add_index(SERVICE_INDEX, _slice_service_index)
        # Slices this controller wrote that its cache has not shown yet: a create by generateName
        # cannot conflict (a second reconcile would duplicate it) and an update from a stale copy
        # would only conflict, so reconcile reads these in place of the cache's older copies.
        self._written: dict[str, dict[str, JSON]] = {}

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        ns = (obj.get("metadata") or {}).get("namespace")
        services = self.services.list(ns)
        keys = service_key_of_pod(services, obj)
        if old is not None:
            keys += [k for k in service_key_of_pod(services, old) if k not in keys]
        return keys

    def _node_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        zone = ((obj.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL)
        if old is not None and zone == ((old.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL):
            return []
        node = (obj.get("metadata") or {}).get("name")
        keys: list[str] = []
        for pod in self.pods.list():
            if (pod.get("spec") or {}).get("nodeName") == node:
                keys += self._pod_keys("MODIFIED", pod, None)
        return sorted(set(keys))

    def _slice_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME or not labels.get(SERVICE_NAME_LABEL):
            return []
        key = f"{(obj.get('metadata') or {}).get('namespace')}/{labels[SERVICE_NAME_LABEL]}"
        pending = self._written.get(key)
        name = str((obj.get("metadata") or {}).get("name"))
        if pending is not None and name in pending and (event == "DELETED" or _rv(obj) >= _rv(pending[name])):
            del pending[name]
            if not pending:
                del self._written[key]
        return [key]

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        service = self.services.get(name, ns)
        existing = [s for s in self.slices.by_index(SERVICE_INDEX, key)
                    if not (s.get("metadata") or {}).get("deletionTimestamp")]
        written = self._written.get(key, {})
        existing = [written.get(s["metadata"]["name"], s) for s in existing]
        cached = {s["metadata"]["name"] for s in existing}
        existing += [s for n, s in written.items() if n not in cached]
        if service is None or (service.get("metadata") or {}).get("deletionTimestamp"):
            self._written.pop(key, None)
            return DONE  # the garbage collector removes slices owned by a deleted service
        if not (service.get("spec") or {}).get("selector"):
            for old in existing:
                await self._delete(old)
            return DONE
        pods = [p for p in self.pods.list(ns) if service_selects(service, p)]
        nodes = {str(n["metadata"]["name"]): n for n in self.nodes.list()}
        wanted = desired_slices(service, pods, nodes)
        labels = slice_labels(service)
        annotations = {TRIGGER_TIME_ANNOTATION: trigger_time(service, pods)}
        unused = sorted(existing, key=lambda s: str(s["metadata"].get("name")))
        for ports, endpoints in wanted:
            match = next((s for s in unused if _port_key(s) == ports), None)
            if match is not None:
                unused.remove(match)
                await self._update(match, service, ports, endpoints, labels, annotations)
            else:
                await self._create(service, ports, endpoints, labels, annotations)
        for old in unused:
            await self._delete(old)
        return DONE

    async def _create(self, service: JSON, ports: PortKey | None, endpoints: list[JSON], labels: dict[str, str],
                      annotations: dict[str, str]) -> None:
        smeta = service["metadata"]
        body: JSON = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                      "metadata": {"generateName": f"{smeta['name']}-", "namespace": smeta.get("namespace"),
                                   "labels": labels, "annotations": annotations,
                                   "ownerReferences": [_owner(service)]},
                      "addressType": "IPv4", "endpoints": endpoints, "ports": slice_ports(ports)}
        try:
            created = await self.client.create("endpointslices.discovery.k8s.io", body, smeta.get("namespace"))
        except ApiError as err:
            if err.code != 403:  # the namespace is terminating
                raise
            return
        self._remember(_key(service), created)

    def _remember(self, key: str, written: JSON) -> None:
        cached = self.slices.get(written["metadata"]["name"], written["metadata"].get("namespace"))
        if cached is None or _rv(cached) < _rv(written):
            self._written.setdefault(key, {})[written["metadata"]["name"]] = written

    async def _update(self, current: JSON, service: JSON, ports: PortKey | None, endpoints: list[JSON],
                      labels: dict[str, str], annotations: dict[str, str]) -> None:
        cmeta = current.get("metadata") or {}
        same = (current.get("endpoints") or []) == endpoints and current.get("ports") == slice_ports(ports) \
            and (cmeta.get("labels") or {}) == labels \
            and (cmeta.get("annotations") or {}).get(TRIGGER_TIME_ANNOTATION) == annotations[TRIGGER_TIME_ANNOTATION]
        if same:
            return
        body = dict(current)
        body["metadata"] = {**cmeta, "labels": labels, "annotations": {**(cmeta.get("annotations") or {}),
                                                                         **annotations}}
        body["endpoints"] = endpoints
        body["ports"] = slice_ports(ports)
        try:
            updated = await self.client.update("endpointslices.discovery.k8s.io", body, cmeta.get("namespace"))
        except ApiError as err:
            if err.code != 404:
                raise
            return
        self._remember(_key(service), updated)

    async def _delete(self, current: JSON) -> None:
        cmeta = current["metadata"]
        for pending in self._written.values():
            pending.pop(cmeta["name"], None)
        try:
            await self.client.delete("endpointslices.discovery.k8s.io", cmeta["name"], cmeta.get("namespace"))
        except ApiError as err:
            if err.code != 404:
                raise


def _slice_service_index(obj: JSON) -> list[str]:
    meta: dict[str, Any] = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != CONTROLLER_NAME or not labels.get(SERVICE_NAME_LABEL):
        return []
    return [f"{meta.get('namespace')}/{labels[SERVICE_NAME_LABEL]}"]


def _rv(obj: JSON) -> int:
    text = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
    return int(text) if text.isdigit() else 0


def _key(obj: JSON) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
