"""Printers for batch, policy, networking, discovery, autoscaling, scheduling, node, certificates,
the core workload types (PodTemplate, ReplicationController), ControllerRevision and
VolumeAttributesClass ([P] print* functions)."""

from __future__ import annotations

from typing import Any

from minikube_lite.apiserver.wire.duration import age, human_duration, parse_timestamp
from minikube_lite.kube.quantity import canonical

from .common import (
    CREATION_DESCRIPTION,
    JSON,
    Cell,
    age_col,
    age_of,
    col,
    container_cells,
    d,
    dct,
    format_label_selector,
    format_labels,
    i,
    lst,
    name_col,
    name_of,
    s,
)

CONTAINERS_DESC = "Names of each container in the template."
IMAGES_DESC = "Images referenced by each container in the template."


def _wide_template(names_desc: str = CONTAINERS_DESC) -> list[JSON]:
    return [col("Containers", description=names_desc, priority=1), col("Images", description=IMAGES_DESC, priority=1),
            col("Selector", description="Label selector of the pods.", priority=1)]


def int_or_string(value: Any) -> str:
    """``intstr.IntOrString.String()``."""
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def _more(items: list[str], limit: int, empty: str) -> str:
    """``listWithMoreString``: the first ``limit`` items, then ``+ N more...``; ``empty`` for none."""
    shown = ",".join(items[:limit])
    if len(items) > limit:
        return f"{shown} + {len(items) - limit} more..."
    return shown or empty


# --- core: PodTemplate, ReplicationController --------------------------------------------------

PODTEMPLATE_COLUMNS = [
    name_col(),
    col("Containers", description=CONTAINERS_DESC),
    col("Images", description=IMAGES_DESC),
    col("Pod Labels", description="The labels for the pod template."),
]


def podtemplate_row(obj: JSON, now: float) -> list[Cell]:
    names, images = container_cells(d(obj, "template", "spec", "containers"))
    return [name_of(obj), names, images, format_labels(d(obj, "template", "metadata", "labels"))]


RC_COLUMNS = [
    name_col(),
    col("Desired", "integer", "Replicas is the number of desired replicas."),
    col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    col("Ready", "integer", "The number of ready replicas for this replication controller."),
    age_col(),
    *_wide_template(),
]


def rc_row(obj: JSON, now: float) -> list[Cell]:
    names, images = container_cells(d(obj, "spec", "template", "spec", "containers"))
    return [name_of(obj), i(obj, "spec", "replicas"), i(obj, "status", "replicas"),
            i(obj, "status", "readyReplicas"), age_of(obj, now), names, images,
            format_labels(d(obj, "spec", "selector"))]


RESOURCEQUOTA_COLUMNS = [
    name_col(),
    age_col(),
    col("Request", description="Request represents a minimum amount of cpu/memory that a container may consume."),
    col("Limit", description="Limits control the maximum amount of cpu/memory that a container may use "
        "independent of contention on the node."),
]


def resourcequota_row(quota: JSON, now: float) -> list[Cell]:
    """``printResourceQuota``: ``name: used/hard`` per hard resource, ``limits.*`` in the Limit column."""
    hard, used = dct(quota, "status", "hard"), dct(quota, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        text = f"{resource}: {canonical(used.get(resource, 0))}/{canonical(hard[resource])}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(text)
    return [name_of(quota), age_of(quota, now), ", ".join(requests), ", ".join(limits)]


LIMITRANGE_COLUMNS = [name_col(), col("Created At", "date", CREATION_DESCRIPTION)]


def limitrange_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), s(obj, "metadata", "creationTimestamp") or "0001-01-01T00:00:00Z"]


# --- batch -------------------------------------------------------------------------------------

JOB_COLUMNS = [
    name_col(),
    col("Status", description="Status of the job."),
    col("Completions", description="The completion status of the job."),
    col("Duration", description="Time required to complete the job."),
    age_col(),
    *_wide_template(),
]


def _has_condition(obj: JSON, kind: str) -> bool:
    """``hasJobCondition``: the first condition of that type decides."""
    for cond in lst(obj, "status", "conditions"):
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond.get("status") == "True"
    return False


def job_status(job: JSON) -> str:
    for kind in ("Complete", "Failed"):
        if _has_condition(job, kind):
            return kind
    if d(job, "metadata", "deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if _has_condition(job, kind):
            return kind
    return "Running"


def job_completions(job: JSON) -> str:
    succeeded = i(job, "status", "succeeded")
    completions = d(job, "spec", "completions")
    if isinstance(completions, int) and not isinstance(completions, bool):
        return f"{succeeded}/{completions}"
    parallelism = i(job, "spec", "parallelism")
    if parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration(job: JSON, now: float) -> str:
    start = parse_timestamp(d(job, "status", "startTime"))
    if start is None:
        return ""
    end = parse_timestamp(d(job, "status", "completionTime"))
    return human_duration((now if end is None else end) - start)


def job_row(job: JSON, now: float) -> list[Cell]:
    names, images = container_cells(d(job, "spec", "template", "spec", "containers"))
    return [name_of(job), job_status(job), job_completions(job), job_duration(job, now), age_of(job, now),
            names, images, format_label_selector(d(job, "spec", "selector"))]


CRONJOB_COLUMNS = [
    name_col(),
    col("Schedule", description="The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    col("Timezone", description="The time zone name for the given schedule, see "
        "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
    col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply "
        "to already started executions.  Defaults to false."),
    col("Active", "integer", "A list of pointers to currently running jobs."),
    col("Last Schedule", description="Information when was the last time the job was successfully scheduled."),
    age_col(),
    *_wide_template(),
]


def bool_ptr(value: Any) -> str:
    """``printBoolPtr``: ``True``/``False``, ``<unset>`` for nil."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return "<unset>"


def cronjob_row(cj: JSON, now: float) -> list[Cell]:
    names, images = container_cells(d(cj, "spec", "jobTemplate", "spec", "template", "spec", "containers"))
    last = d(cj, "status", "lastScheduleTime")
    return [name_of(cj), s(cj, "spec", "schedule"), s(cj, "spec", "timeZone") or "<none>",
            bool_ptr(d(cj, "spec", "suspend")), len(lst(cj, "status", "active")),
            age(last, now) if last else "<none>", age_of(cj, now), names, images,
            format_label_selector(d(cj, "spec", "jobTemplate", "spec", "selector"))]


# --- policy, scheduling, node, storage ---------------------------------------------------------

PDB_COLUMNS = [
    name_col(),
    col("Min Available", description="The minimum number of pods that must be available."),
    col("Max Unavailable", description="The maximum number of pods that may be unavailable."),
    col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
    age_col(),
]


def pdb_row(pdb: JSON, now: float) -> list[Cell]:
    spec = dct(pdb, "spec")
    min_a = int_or_string(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A"
    max_u = int_or_string(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A"
    return [name_of(pdb), min_a, max_u, i(pdb, "status", "disruptionsAllowed"), age_of(pdb, now)]


PRIORITYCLASS_COLUMNS = [
    name_col(),
    col("Value", "integer", "value represents the integer value of this priority class. This is the actual "
        "priority that pods receive when they have the name of this class in their pod spec."),
    col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be considered as "
        "the default priority for pods that do not have any priority class. Only one PriorityClass can be marked "
        "as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set "
        "to true, the smallest value of such global default PriorityClasses will be used as the default priority."),
    age_col(),
    col("PreemptionPolicy", description="preemptionPolicy is the Policy for preempting pods with lower priority. "
        "One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
]


def priorityclass_row(pc: JSON, now: float) -> list[Cell]:
    default = d(pc, "globalDefault")
    return [name_of(pc), i(pc, "value"), default if isinstance(default, bool) else False, age_of(pc, now),
            s(pc, "preemptionPolicy")]


RUNTIMECLASS_COLUMNS = [
    name_col(),
    col("Handler", description="handler specifies the underlying runtime and configuration that the CRI "
        "implementation will use to handle pods of this class."),
    age_col(),
]


def runtimeclass_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), s(obj, "handler"), age_of(obj, now)]


VAC_COLUMNS = [
    name_col(),
    col("DriverName", description="Name of the CSI driver"),
    age_col(),
]


def vac_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), s(obj, "driverName"), age_of(obj, now)]


CONTROLLERREVISION_COLUMNS = [
    name_col(),
    col("Controller", description="Controller of the object"),
    col("Revision", "integer", "Revision indicates the revision of the state represented by Data."),
    age_col(),
]


def controller_ref_name(obj: JSON) -> str:
    """``formatResourceName(GroupKind, name, withKind)``: ``statefulset.apps/web``, ``<none>``."""
    for ref in lst(obj, "metadata", "ownerReferences"):
        if isinstance(ref, dict) and ref.get("controller") is True:
            group = s(ref, "apiVersion").rpartition("/")[0]
            kind = s(ref, "kind")
            group_kind = f"{kind}.{group}" if group else kind
            return f"{group_kind.lower()}/{s(ref, 'name')}" if group_kind else s(ref, "name")
    return "<none>"


def controllerrevision_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), controller_ref_name(obj), i(obj, "revision"), age_of(obj, now)]


# --- networking, discovery ---------------------------------------------------------------------

INGRESS_COLUMNS = [
    name_col(),
    col("Class", description="The name of the IngressClass resource that should be used for ingress."),
    col("Hosts", description="Hosts that incoming requests are matched against before the ingress rule"),
    col("Address", description="Address is a list containing ingress points for the load-balancer"),
    col("Ports", description="Ports of TLS configurations that open"),
    age_col(),
]


def ingress_hosts(rules: list[Any]) -> str:
    """``formatHosts``: up to three hosts, ``*`` when no rule names one."""
    hosts = [s(r, "host") for r in rules if isinstance(r, dict) and s(r, "host")]
    if not hosts:
        return "*"
    return _more(hosts, 3, "*")


def load_balancer_addresses(ingress: list[Any], wide: bool = True) -> str:
    """``ingressLoadBalancerStatusStringer``: IPs (else hostnames) joined with ``,``."""
    out = [s(e, "ip") or s(e, "hostname") for e in ingress if isinstance(e, dict)]
    text = ",".join(a for a in out if a)
    if not wide and len(text) > 16:
        return text[:13] + "..."
    return text


def ingress_row(ing: JSON, now: float) -> list[Cell]:
    ports = "80, 443" if lst(ing, "spec", "tls") else "80"
    return [name_of(ing), s(ing, "spec", "ingressClassName") or "<none>", ingress_hosts(lst(ing, "spec", "rules")),
            load_balancer_addresses(lst(ing, "status", "loadBalancer", "ingress")), ports, age_of(ing, now)]


INGRESSCLASS_COLUMNS = [
    name_col(),
    col("Controller", description="Controller that is responsible for handling this class"),
    col("Parameters", description="A reference to a resource with additional parameters"),
    age_col(),
]


def ingressclass_row(obj: JSON, now: float) -> list[Cell]:
    params = d(obj, "spec", "parameters")
    text = "<none>"
    if isinstance(params, dict):
        text = s(params, "kind")
        if params.get("apiGroup") is not None:
            text += "." + s(params, "apiGroup")
        text += "/" + s(params, "name")
    return [name_of(obj), s(obj, "spec", "controller"), text, age_of(obj, now)]


NETWORKPOLICY_COLUMNS = [
    name_col(),
    col("Pod-Selector", description="Selects the pods to which this NetworkPolicy object applies. The array of "
        "ingress rules is applied to any pods selected by this field. Multiple network policies can select the "
        "same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT "
        "optional and follows standard label selector semantics. An empty podSelector matches all pods in this "
        "namespace."),
    age_col(),
]


def networkpolicy_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), format_label_selector(dct(obj, "spec", "podSelector")), age_of(obj, now)]


ENDPOINTSLICE_COLUMNS = [
    name_col(),
    col("AddressType", description="addressType specifies the type of address carried by this EndpointSlice. All "
        "addresses in this slice must be the same type. This field is immutable after creation. The following "
        "address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 "
        "Address. * FQDN: Represents a Fully Qualified Domain Name. (Deprecated) The EndpointSlice controller "
        "only generates, and kube-proxy only processes, slices of addressType \"IPv4\" and \"IPv6\". No semantics "
        "are defined for the \"FQDN\" type."),
    col("Ports", description="ports specifies the list of network ports exposed by each endpoint in this slice. "
        "Each port must have a unique name. Each slice may include a maximum of 100 ports. Services always have at "
        "least 1 port, so EndpointSlices generated by the EndpointSlice controller will likewise always have at "
        "least 1 port. EndpointSlices used for other purposes may have an empty ports list."),
    col("Endpoints", description="endpoints is a list of unique endpoints in this slice. Each slice may include a "
        "maximum of 1000 endpoints."),
    age_col(),
]


def endpointslice_row(obj: JSON, now: float) -> list[Cell]:
    ports: list[str] = []
    for port in lst(obj, "ports"):
        if not isinstance(port, dict):
            continue
        number = port.get("port")
        ports.append(str(number) if isinstance(number, int) else (s(port, "name") if "name" in port else "*"))
    addresses = [str(a) for e in lst(obj, "endpoints") if isinstance(e, dict) for a in lst(e, "addresses")]
    return [name_of(obj), s(obj, "addressType"), _more(ports, 3, "<unset>"), _more(addresses, 3, "<unset>"),
            age_of(obj, now)]


# --- autoscaling -------------------------------------------------------------------------------

HPA_COLUMNS = [
    name_col(),
    col("Reference", description="reference to scaled resource; horizontal pod autoscaler will learn the current "
        "resource consumption and will set the desired number of pods by using its Scale subresource."),
    col("Targets", description="metrics contains the specifications for which to use to calculate the desired "
        "replica count (the maximum replica count across all metrics will be used)."),
    col("MinPods", description="minReplicas is the lower limit for the number of replicas to which the autoscaler "
        "can scale down."),
    col("MaxPods", "integer", "maxReplicas is the upper limit for the number of replicas to which the autoscaler "
        "can scale up. It cannot be less that minReplicas."),
    col("Replicas", "integer", "currentReplicas is current number of replicas of pods managed by this autoscaler, "
        "as last seen by the autoscaler."),
    age_col(),
]


def _hpa_metrics(hpa: JSON) -> tuple[list[Any], list[Any]]:
    """The v2 metrics of an HPA; a v1 object's CPU target reads as one Resource metric."""
    specs, statuses = lst(hpa, "spec", "metrics"), lst(hpa, "status", "currentMetrics")
    if specs or d(hpa, "spec", "targetCPUUtilizationPercentage") is None:
        return specs, statuses
    target = {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": d(hpa, "spec", "targetCPUUtilizationPercentage")}}}
    current = d(hpa, "status", "currentCPUUtilizationPercentage")
    status = [] if current is None else [{"type": "Resource", "resource": {
        "name": "cpu", "current": {"averageUtilization": current}}}]
    return [target], status


def _metric_text(kind: str, spec: JSON, status: JSON | None) -> str:
    key = {"External": "external", "Pods": "pods", "Object": "object", "Resource": "resource",
           "ContainerResource": "containerResource"}.get(kind)
    if key is None:
        return "<unknown type>"
    target = dct(spec, key, "target")
    current = dct(status, key, "current") if status is not None and isinstance(status.get(key), dict) else None
    if kind in ("Resource", "ContainerResource"):
        name = s(spec, key, "name")
        if target.get("averageValue") is not None:
            cur = s(current, "averageValue") if current is not None else "<unknown>"
            return f"{name}: {cur or '<unknown>'}/{s(target, 'averageValue')}"
        cur = "<unknown>"
        if current is not None and current.get("averageUtilization") is not None:
            cur = f"{i(current, 'averageUtilization')}%"
        goal = f"{i(target, 'averageUtilization')}%" if target.get("averageUtilization") is not None else "<auto>"
        return f"{name}: {cur}/{goal}"
    if kind == "Pods":
        cur = s(current, "averageValue") if current is not None else ""
        return f"{cur or '<unknown>'}/{s(target, 'averageValue')}"
    if target.get("averageValue") is not None:
        cur = s(current, "averageValue") if current is not None else ""
        return f"{cur or '<unknown>'}/{s(target, 'averageValue')} (avg)"
    cur = s(current, "value") if current is not None else ""
    return f"{cur or '<unknown>'}/{s(target, 'value')}"


def hpa_targets(hpa: JSON) -> str:
    """``formatHPAMetrics``: at most two metrics as ``current/target``, then ``+ N more...``."""
    specs, statuses = _hpa_metrics(hpa)
    if not specs:
        return "<none>"
    texts: list[str] = []
    for n, spec in enumerate(specs):
        spec = spec if isinstance(spec, dict) else {}
        status = statuses[n] if n < len(statuses) and isinstance(statuses[n], dict) else None
        texts.append(_metric_text(s(spec, "type"), spec, status))
    shown = ", ".join(texts[:2])
    return f"{shown} + {len(texts) - 2} more..." if len(texts) > 2 else shown


def hpa_row(hpa: JSON, now: float) -> list[Cell]:
    ref = dct(hpa, "spec", "scaleTargetRef")
    min_pods = d(hpa, "spec", "minReplicas")
    return [name_of(hpa), f"{s(ref, 'kind')}/{s(ref, 'name')}", hpa_targets(hpa),
            str(min_pods) if isinstance(min_pods, int) else "<unset>", i(hpa, "spec", "maxReplicas"),
            i(hpa, "status", "currentReplicas"), age_of(hpa, now)]


# --- certificates ------------------------------------------------------------------------------

CSR_COLUMNS = [
    name_col(),
    age_col(),
    col("SignerName", description="Name of the signer that is requested to sign the certificate"),
    col("Requestor", description="Name of the user that requested the certificate"),
    col("RequestedDuration", description="The requested duration of the issued certificate"),
    col("Condition", description="The condition of the certificate"),
]


def csr_condition(csr: JSON) -> str:
    """``extractCSRStatus``: Denied beats Approved beats Pending, then ``,Failed`` and ``,Issued``."""
    kinds = {s(c, "type") for c in lst(csr, "status", "conditions") if isinstance(c, dict)}
    text = "Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"
    if "Failed" in kinds:
        text += ",Failed"
    if s(csr, "status", "certificate"):
        text += ",Issued"
    return text


def csr_row(csr: JSON, now: float) -> list[Cell]:
    seconds = d(csr, "spec", "expirationSeconds")
    requested = human_duration(float(seconds)) if isinstance(seconds, int) and not isinstance(seconds, bool) \
        else "<none>"
    return [name_of(csr), age_of(csr, now), s(csr, "spec", "signerName"), s(csr, "spec", "username"), requested,
            csr_condition(csr)]
