"""Printers for core/v1 types (and events.k8s.io/v1, which shares the event printer upstream).

Each ``*_row`` is the matching ``print*`` function of ``pkg/printers/internalversion/printers.go``
rendered with ``GenerateOptions{Wide: true}`` (the server always fills the wide cells).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from minikube_lite.apiserver.wire.duration import UNKNOWN, age, human_duration, parse_timestamp
from minikube_lite.kube.quantity import canonical

from ....kube.names import ANN_BETA_STORAGE_CLASS
from .common import (
    JSON,
    Cell,
    access_modes_string,
    age_col,
    age_of,
    col,
    d,
    dct,
    format_labels,
    i,
    lst,
    name_col,
    name_of,
    s,
)

# --- pods ------------------------------------------------------------------------------------

POD_COLUMNS = [
    name_col(),
    col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    col("Status", description="The aggregate status of the containers in this pod."),
    col("Restarts", description="The number of times the containers in this pod have been restarted and when "
        "the last container in this pod has restarted."),
    age_col(),
    col("IP", description="IP address allocated to the pod. Routable at least within the cluster. Empty if not "
        "yet allocated.", priority=1),
    col("Node", description="NodeName is a request to schedule this pod onto a specific node. If it is non-empty, "
        "the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.",
        priority=1),
    col("Nominated Node", description="nominatedNodeName is set when this pod preempts other pods on the node, "
        "but it cannot be scheduled right away as preemption victims receive their graceful termination "
        "periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
        "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide "
        "to give the resources on this node to a higher priority pod that is created after preemption. As a "
        "result, this field may be different than PodSpec.nodeName when the pod is scheduled.", priority=1),
    col("Readiness Gates", description="If specified, all readiness gates will be evaluated for pod readiness. A "
        "pod is ready when all its containers are ready AND all conditions specified in the readiness gates "
        "have status equal to \"True\" More info: "
        "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates", priority=1),
]

POD_SUCCESS_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                           "message": "The pod has completed successfully."}]
POD_FAILED_CONDITIONS = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
NODE_UNREACHABLE_POD_REASON = "NodeLost"
SCHEDULING_GATED = "SchedulingGated"


def _has_condition_true(pod: JSON, cond_type: str) -> bool:
    return any(isinstance(c, dict) and c.get("type") == cond_type and c.get("status") == "True"
               for c in lst(pod, "status", "conditions"))


def _is_sidecar(container: Any) -> bool:
    return isinstance(container, dict) and container.get("restartPolicy") == "Always"


def _finished_at(status: JSON) -> float | None:
    return parse_timestamp(d(status, "lastState", "terminated", "finishedAt"))


def _later(a: float | None, b: float | None) -> float | None:
    if b is None:
        return a
    return b if a is None or b > a else a


def pod_row(pod: JSON, now: float) -> list[Cell]:
    spec, status = dct(pod, "spec"), dct(pod, "status")
    containers = lst(spec, "containers")
    init_specs = {s(c, "name"): c for c in lst(spec, "initContainers") if isinstance(c, dict)}
    total = len(containers) + sum(1 for c in init_specs.values() if _is_sidecar(c))
    ready = 0
    restarts = 0
    sidecar_restarts = 0
    last_restart: float | None = None
    last_sidecar_restart: float | None = None

    phase = s(status, "phase")
    reason = s(status, "reason") or phase
    for cond in lst(status, "conditions"):
        if isinstance(cond, dict) and cond.get("type") == "PodScheduled" and cond.get("reason") == SCHEDULING_GATED:
            reason = SCHEDULING_GATED

    initializing = False
    n_init = len(lst(spec, "initContainers"))
    for idx, cs in enumerate(lst(status, "initContainerStatuses")):
        if not isinstance(cs, dict):
            continue
        restarts += i(cs, "restartCount")
        last_restart = _later(last_restart, _finished_at(cs))
        sidecar = _is_sidecar(init_specs.get(s(cs, "name")))
        if sidecar:
            sidecar_restarts += i(cs, "restartCount")
            last_sidecar_restart = _later(last_sidecar_restart, _finished_at(cs))
        terminated = d(cs, "state", "terminated")
        waiting = d(cs, "state", "waiting")
        if isinstance(terminated, dict) and i(terminated, "exitCode") == 0:
            continue
        if sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if isinstance(terminated, dict):
            if not s(terminated, "reason"):
                if i(terminated, "signal") != 0:
                    reason = f"Init:Signal:{i(terminated, 'signal')}"
                else:
                    reason = f"Init:ExitCode:{i(terminated, 'exitCode')}"
            else:
                reason = "Init:" + s(terminated, "reason")
        elif isinstance(waiting, dict) and s(waiting, "reason") and s(waiting, "reason") != "PodInitializing":
            reason = "Init:" + s(waiting, "reason")
        else:
            reason = f"Init:{idx}/{n_init}"
        initializing = True
        break

    if not initializing or _has_condition_true(pod, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        error_reason = ""
        for cs in reversed(lst(status, "containerStatuses")):
            if not isinstance(cs, dict):
                continue
            restarts += i(cs, "restartCount")
            last_restart = _later(last_restart, _finished_at(cs))
            waiting = d(cs, "state", "waiting")
            terminated = d(cs, "state", "terminated")
            if isinstance(waiting, dict) and s(waiting, "reason"):
                reason = s(waiting, "reason")
            elif isinstance(terminated, dict):
                if s(terminated, "reason"):
                    reason = s(terminated, "reason")
                elif i(terminated, "signal") != 0:
                    reason = f"Signal:{i(terminated, 'signal')}"
                else:
                    reason = f"ExitCode:{i(terminated, 'exitCode')}"
                if i(terminated, "exitCode") != 0:
                    error_reason = reason
            elif cs.get("ready") and isinstance(d(cs, "state", "running"), dict):
                has_running = True
                ready += 1
        if reason == "Completed":
            if has_running and _has_condition_true(pod, "Ready"):
                reason = "Running"
            elif error_reason:
                reason = error_reason
            elif has_running:
                reason = "NotReady"

    deleting = d(pod, "metadata", "deletionTimestamp") is not None
    if deleting and s(status, "reason") == NODE_UNREACHABLE_POD_REASON:
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts != 0 and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(now - last_restart)} ago)"

    ips = [p for p in lst(status, "podIPs") if isinstance(p, dict)]
    pod_ip = s(ips[0], "ip") if ips else ""
    gates = lst(spec, "readinessGates")
    gates_cell = "<none>"
    if gates:
        true_count = 0
        for gate in gates:
            ctype = s(gate, "conditionType")
            for cond in lst(status, "conditions"):
                if isinstance(cond, dict) and cond.get("type") == ctype:
                    true_count += cond.get("status") == "True"
                    break
        gates_cell = f"{true_count}/{len(gates)}"
    return [
        name_of(pod), f"{ready}/{total}", reason, restarts_cell, age_of(pod, now),
        pod_ip or "<none>", s(spec, "nodeName") or "<none>", s(status, "nominatedNodeName") or "<none>", gates_cell,
    ]


def pod_conditions(pod: JSON) -> list[JSON] | None:
    """Finished pods carry a Completed row condition (kubectl hides them unless ``-a``)."""
    phase = s(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(c) for c in POD_SUCCESS_CONDITIONS]
    if phase == "Failed":
        return [dict(c) for c in POD_FAILED_CONDITIONS]
    return None


# --- nodes -----------------------------------------------------------------------------------

NODE_COLUMNS = [
    name_col(),
    col("Status", description="The status of the node"),
    col("Roles", description="The roles of the node"),
    age_col(),
    col("Version", description="Kubelet Version reported by the node."),
    col("Internal-IP", description="List of addresses reachable to the node. Queried from cloud provider, if "
        "available.", priority=1),
    col("External-IP", description="List of addresses reachable to the node. Queried from cloud provider, if "
        "available.", priority=1),
    col("OS-Image", description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 "
        "(wheezy)).", priority=1),
    col("Kernel-Version", description="Kernel Version reported by the node from 'uname -r' (e.g. "
        "3.16.0-0.bpo.4-amd64).", priority=1),
    col("Container-Runtime", description="ContainerRuntime Version reported by the node through runtime remote "
        "API (e.g. containerd://1.4.2).", priority=1),
]
NODE_ROLE_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


def node_roles(node: JSON) -> list[str]:
    """``findNodeRoles``: role label suffixes plus a non-empty ``kubernetes.io/role`` value, sorted."""
    roles: set[str] = set()
    for key, value in dct(node, "metadata", "labels").items():
        if key.startswith(NODE_ROLE_PREFIX):
            role = key[len(NODE_ROLE_PREFIX):]
            if role:
                roles.add(role)
        elif key == NODE_ROLE_LABEL and value:
            roles.add(str(value))
    return sorted(roles)


def _node_address(node: JSON, kind: str) -> str:
    for addr in lst(node, "status", "addresses"):
        if isinstance(addr, dict) and addr.get("type") == kind:
            return s(addr, "address")
    return "<none>"


def node_row(node: JSON, now: float) -> list[Cell]:
    status: list[str] = []
    ready = next((c for c in lst(node, "status", "conditions")
                  if isinstance(c, dict) and c.get("type") == "Ready"), None)
    if ready is not None:
        status.append("Ready" if ready.get("status") == "True" else "NotReady")
    else:
        status.append("Unknown")
    if d(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    info = dct(node, "status", "nodeInfo")
    return [
        name_of(node), ",".join(status), ",".join(node_roles(node)) or "<none>", age_of(node, now),
        s(info, "kubeletVersion"), _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"),
        s(info, "osImage") or UNKNOWN, s(info, "kernelVersion") or UNKNOWN,
        s(info, "containerRuntimeVersion") or UNKNOWN,
    ]


# --- persistent volumes and claims ------------------------------------------------------------


PV_COLUMNS = [
    name_col(),
    col("Capacity", description="capacity is the description of the persistent volume's resources and capacity. "
        "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
    col("Access Modes", description="accessModes contains all ways the volume can be mounted. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
    col("Reclaim Policy", description="persistentVolumeReclaimPolicy defines what happens to a persistent volume "
        "when released from its claim. Valid options are Retain (default for manually created "
        "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle "
        "(deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More "
        "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"),
    col("Status", description="phase indicates if a volume is available, bound to a claim, or released by a "
        "claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
    col("Claim", description="claimRef is part of a bi-directional binding between PersistentVolume and "
        "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind "
        "between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"),
    col("StorageClass", description="storageClassName is the name of StorageClass to which this persistent "
        "volume belongs. Empty value means that this volume does not belong to any StorageClass."),
    col("VolumeAttributesClass", description="Name of VolumeAttributesClass to which this persistent volume "
        "belongs. Empty value is not allowed. When this field is not set, it indicates that this volume does "
        "not belong to any VolumeAttributesClass. This field is mutable and can be changed by the CSI driver "
        "after a volume has been updated successfully to a new class. For an unbound PersistentVolume, the "
        "volumeAttributesClassName will be matched with unbound PersistentVolumeClaims during the binding "
        "process."),
    col("Reason", description="reason is a brief CamelCase string that describes any failure and is meant for "
        "machine parsing and tidy display in the CLI."),
    age_col(),
    col("VolumeMode", description="volumeMode defines if a volume is intended to be used with a formatted "
        "filesystem or to remain in raw block state. Value of Filesystem is implied when not included in "
        "spec.", priority=1),
]

PVC_COLUMNS = [
    name_col(),
    col("Status", description="phase represents the current phase of PersistentVolumeClaim."),
    col("Volume", description="volumeName is the binding reference to the PersistentVolume backing this claim."),
    col("Capacity", description="capacity represents the actual resources of the underlying volume."),
    col("Access Modes", description="accessModes contains the actual access modes the volume backing the PVC "
        "has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
    col("StorageClass", description="storageClassName is the name of the StorageClass required by the claim. "
        "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#class-1"),
    col("VolumeAttributesClass", description="volumeAttributesClassName may be used to set the "
        "VolumeAttributesClass used by this claim."),
    age_col(),
    col("VolumeMode", description="volumeMode defines what type of volume is required by the claim. Value of "
        "Filesystem is implied when not included in claim spec.", priority=1),
]


def _class_of(obj: JSON) -> str:
    """``GetPersistentVolume(Claim)Class``: the beta annotation wins over spec.storageClassName."""
    annotations = dct(obj, "metadata", "annotations")
    if ANN_BETA_STORAGE_CLASS in annotations:
        return str(annotations[ANN_BETA_STORAGE_CLASS])
    return s(obj, "spec", "storageClassName")


def _vac(obj: JSON) -> str:
    return s(obj, "spec", "volumeAttributesClassName") or "<unset>"


def pv_row(pv: JSON, now: float) -> list[Cell]:
    spec = dct(pv, "spec")
    claim = ""
    ref = d(spec, "claimRef")
    if isinstance(ref, dict):
        claim = f"{s(ref, 'namespace')}/{s(ref, 'name')}"
    phase = s(pv, "status", "phase")
    if d(pv, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    storage = d(spec, "capacity", "storage")
    return [
        name_of(pv), canonical(storage) if storage is not None else "0", access_modes_string(d(spec, "accessModes")),
        s(spec, "persistentVolumeReclaimPolicy"), phase, claim, _class_of(pv), _vac(pv),
        s(pv, "status", "reason"), age_of(pv, now), s(spec, "volumeMode") or "<unset>",
    ]


def pvc_row(pvc: JSON, now: float) -> list[Cell]:
    spec = dct(pvc, "spec")
    phase = s(pvc, "status", "phase")
    if d(pvc, "metadata", "deletionTimestamp") is not None:
        phase = "Terminating"
    capacity = access = ""
    if s(spec, "volumeName"):
        access = access_modes_string(d(pvc, "status", "accessModes"))
        storage = d(pvc, "status", "capacity", "storage")
        capacity = canonical(storage) if storage is not None else "0"
    return [
        name_of(pvc), phase, s(spec, "volumeName"), capacity, access, _class_of(pvc), _vac(pvc),
        age_of(pvc, now), s(spec, "volumeMode") or "<unset>",
    ]


# --- events (core/v1 and events.k8s.io/v1) -----------------------------------------------------

EVENT_COLUMNS = [
    col("Last Seen", description="The last time the event was seen"),
    col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", description="This should be a short, machine understandable string that gives the reason for "
        "the transition into the object's current status."),
    col("Object", description="The object that this event is about. Mapped to events.Event.regarding"),
    col("Subobject", description="The subobject the event is about", priority=1),
    col("Source", description="The component reporting this event. Should be a short machine understandable "
        "string.", priority=1),
    col("Message", description="A human-readable description of the status of this operation."),
    col("First Seen", description="The time at which the event was first recorded. (Time of server receipt is in "
        "TypeMeta.)", priority=1),
    col("Count", "integer", "The number of times this event has occurred.", priority=1),
    col("Name", description="Name must be unique within a namespace. Is required when creating resources, "
        "although some resources may allow a client to request the generation of an appropriate name "
        "automatically. Name is primarily intended for creation idempotence and configuration definition. "
        "Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names"
        "#names", priority=1),
]


def core_event_view(event: JSON) -> JSON:
    """An events.k8s.io/v1 Event in core/v1 field names (both are one stored type upstream)."""
    if "regarding" not in event and "note" not in event and not str(event.get("apiVersion", "")).startswith(
            "events.k8s.io"):
        return event
    source = dct(event, "deprecatedSource")
    return {
        "metadata": event.get("metadata") or {},
        "involvedObject": event.get("regarding") or {},
        "related": event.get("related"),
        "reason": event.get("reason"),
        "message": event.get("note"),
        "type": event.get("type"),
        "source": source,
        "firstTimestamp": event.get("deprecatedFirstTimestamp"),
        "lastTimestamp": event.get("deprecatedLastTimestamp"),
        "count": event.get("deprecatedCount"),
        "eventTime": event.get("eventTime"),
        "series": event.get("series"),
        "action": event.get("action"),
        "reportingController": event.get("reportingController"),
        "reportingInstance": event.get("reportingInstance"),
    }


def event_row(raw: JSON, now: float) -> list[Cell]:
    event = core_event_view(raw)
    first = age(d(event, "firstTimestamp"), now)
    if parse_timestamp(d(event, "firstTimestamp")) is None:
        first = age(d(event, "eventTime"), now)
    last = age(d(event, "lastTimestamp"), now)
    if parse_timestamp(d(event, "lastTimestamp")) is None:
        last = first
    count = i(event, "count")
    series = d(event, "series")
    if isinstance(series, dict):
        last = age(d(series, "lastObservedTime"), now)
        count = i(series, "count")
    elif count == 0:
        count = 1
    kind = s(event, "involvedObject", "kind").lower()
    target_name = s(event, "involvedObject", "name")
    target = f"{kind}/{target_name}" if target_name else kind
    # core/v1 spells ReportingController as ``reportingComponent`` on the wire.
    component = s(event, "source", "component") or s(event, "reportingComponent") or s(event, "reportingController")
    instance = s(event, "source", "host") or s(event, "reportingInstance")
    source = f"{component}, {instance}" if instance else component
    return [
        last, s(event, "type"), s(event, "reason"), target, s(event, "involvedObject", "fieldPath"), source,
        s(event, "message").strip(), first, count, name_of(event),
    ]


# --- small core types --------------------------------------------------------------------------

NAMESPACE_COLUMNS = [
    name_col(),
    col("Status", description="The status of the namespace"),
    age_col(),
]


def namespace_row(ns: JSON, now: float) -> list[Cell]:
    return [name_of(ns), s(ns, "status", "phase"), age_of(ns, now)]


CONFIGMAP_COLUMNS = [name_col(), col("Data", "integer", "Data contains the configuration data."), age_col()]


def configmap_row(cm: JSON, now: float) -> list[Cell]:
    return [name_of(cm), len(dct(cm, "data")) + len(dct(cm, "binaryData")), age_of(cm, now)]


SECRET_COLUMNS = [
    name_col(),
    col("Type", description="The type of the secret"),
    col("Data", "integer", "The number of entries in the secret"),
    age_col(),
]


def secret_row(secret: JSON, now: float) -> list[Cell]:
    data = dict(dct(secret, "data"))
    data.update(dct(secret, "stringData"))
    return [name_of(secret), s(secret, "type"), len(data), age_of(secret, now)]


SERVICE_COLUMNS = [
    name_col(),
    col("Type", description="type determines how the Service is exposed. Defaults to ClusterIP. Valid options "
        "are ExternalName, ClusterIP, NodePort, and LoadBalancer."),
    col("Cluster-IP", description="clusterIP is the IP address of the service and is usually assigned randomly."),
    col("External-IP", description="externalIPs is a list of IP addresses for which nodes in the cluster will "
        "also accept traffic for this service."),
    col("Port(s)", description="The list of ports that are exposed by this service. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
    age_col(),
    col("Selector", description="Route service traffic to pods with label keys and values matching this "
        "selector. If empty or not present, the service is assumed to have an external process managing its "
        "endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and "
        "LoadBalancer. Ignored if type is ExternalName. More info: "
        "https://kubernetes.io/docs/concepts/services-networking/service/", priority=1),
]


def _lb_ips(svc: JSON) -> str:
    found: set[str] = set()
    for ing in lst(svc, "status", "loadBalancer", "ingress"):
        if not isinstance(ing, dict):
            continue
        if s(ing, "ip"):
            found.add(s(ing, "ip"))
        elif s(ing, "hostname"):
            found.add(s(ing, "hostname"))
    return ",".join(sorted(found))


def service_external_ip(svc: JSON) -> str:
    """``getServiceExternalIP`` with ``wide`` on (no 16-character cut)."""
    kind = s(svc, "spec", "type")
    external = [str(x) for x in lst(svc, "spec", "externalIPs")]
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if kind == "LoadBalancer":
        lb = _lb_ips(svc)
        if external:
            return ",".join((lb.split(",") if lb else []) + external)
        return lb or "<pending>"
    if kind == "ExternalName":
        return s(svc, "spec", "externalName")
    return "<unknown>"


def port_string(ports: Any) -> str:
    """``makePortString``: ``port/PROTO`` or ``port:nodePort/PROTO`` joined with ``,``."""
    pieces = []
    for port in ports if isinstance(ports, list) else []:
        proto = s(port, "protocol") or "TCP"
        node_port = i(port, "nodePort")
        pieces.append(f"{i(port, 'port')}:{node_port}/{proto}" if node_port > 0 else f"{i(port, 'port')}/{proto}")
    return ",".join(pieces)


def service_row(svc: JSON, now: float) -> list[Cell]:
    ips = lst(svc, "spec", "clusterIPs")
    cluster_ip = str(ips[0]) if ips else "<none>"
    return [
        name_of(svc), s(svc, "spec", "type"), cluster_ip, service_external_ip(svc),
        port_string(d(svc, "spec", "ports")) or "<none>", age_of(svc, now), format_labels(d(svc, "spec", "selector")),
    ]


#: The table of a type whose printer shows only its name and age (ServiceAccount, DeviceClass, ...).
NAME_AGE_COLUMNS = [name_col(), age_col()]


def name_age_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), age_of(obj, now)]


ENDPOINTS_COLUMNS = [
    name_col(),
    col("Endpoints", description="Endpoints of this service"),
    age_col(),
]


def _join_host_port(host: str, port: int) -> str:
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]:{port}"
    except ValueError:
        if ":" in host:
            return f"[{host}]:{port}"
    return f"{host}:{port}"


def format_endpoints(ep: JSON) -> str:
    """``formatEndpoints``: at most three entries, then `` + N more...``."""
    subsets = lst(ep, "subsets")
    if not subsets:
        return "<none>"
    out: list[str] = []
    limit, more, count = 3, False, 0
    for ss in subsets:
        addresses = [a for a in lst(ss, "addresses") if isinstance(a, dict)]
        ports = [p for p in lst(ss, "ports") if isinstance(p, dict)]
        if not ports:
            count += len(addresses)
            for addr in addresses:
                if len(out) == limit:
                    more = True
                    break
                out.append(s(addr, "ip"))
            continue
        for port in ports:
            count += len(addresses)
            for addr in addresses:
                if len(out) == limit:
                    more = True
                    break
                out.append(_join_host_port(s(addr, "ip"), i(port, "port")))
    text = ",".join(out)
    return f"{text} + {count - limit} more..." if more else text


def endpoints_row(ep: JSON, now: float) -> list[Cell]:
    return [name_of(ep), format_endpoints(ep), age_of(ep, now)]
