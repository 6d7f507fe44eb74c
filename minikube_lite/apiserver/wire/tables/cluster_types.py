"""Printers for the cluster-plumbing groups: RBAC, admission registration, API priority and
fairness, API registration, ComponentStatus, IP addresses and Service CIDRs, and dynamic
resource allocation ([P] print* functions and kube-aggregator's APIService convertor)."""

from __future__ import annotations

from .common import (
    CREATION_DESCRIPTION,
    JSON,
    Cell,
    age_col,
    age_of,
    col,
    d,
    dct,
    format_label_selector,
    lst,
    name_col,
    name_of,
    s,
)

# --- rbac.authorization.k8s.io -----------------------------------------------------------------

ROLE_COLUMNS = [name_col(), col("Created At", "date", CREATION_DESCRIPTION)]


def role_row(obj: JSON, now: float) -> list[Cell]:
    """Roles print their creation time as UTC RFC 3339, not an age."""
    return [name_of(obj), s(obj, "metadata", "creationTimestamp") or "0001-01-01T00:00:00Z"]


ROLEBINDING_COLUMNS = [
    name_col(),
    col("Role", description="Role is the role being referenced"),
    age_col(),
    col("Users", description="Users in the roleBinding", priority=1),
    col("Groups", description="Groups in the roleBinding", priority=1),
    col("ServiceAccounts", description="ServiceAccounts in the roleBinding", priority=1),
]


def subjects_strings(subjects: list[object]) -> tuple[list[str], list[str], list[str]]:
    """``rbac.SubjectsStrings``: users, groups and ``namespace/name`` service accounts."""
    users: list[str] = []
    groups: list[str] = []
    accounts: list[str] = []
    for subject in subjects:
        if not isinstance(subject, dict):
            continue
        kind, name = s(subject, "kind"), s(subject, "name")
        if kind == "ServiceAccount":
            namespace = s(subject, "namespace")
            accounts.append(f"{namespace}/{name}" if namespace else name)
        elif kind == "User":
            users.append(name)
        elif kind == "Group":
            groups.append(name)
    return users, groups, accounts


def rolebinding_row(obj: JSON, now: float) -> list[Cell]:
    users, groups, accounts = subjects_strings(lst(obj, "subjects"))
    role = f"{s(obj, 'roleRef', 'kind')}/{s(obj, 'roleRef', 'name')}"
    return [name_of(obj), role, age_of(obj, now), ", ".join(users), ", ".join(groups), ", ".join(accounts)]


# --- admissionregistration.k8s.io --------------------------------------------------------------

WEBHOOK_COLUMNS = [
    name_col(),
    col("Webhooks", "integer", "Webhooks indicates the number of webhooks included in this configuration"),
    age_col(),
]


def webhook_configuration_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), len(lst(obj, "webhooks")), age_of(obj, now)]


VAP_COLUMNS = [
    name_col(),
    col("Validations", "integer", "Validations indicates the number of validation rules defined in this "
        "configuration"),
    col("ParamKind", description="ParamKind specifies the kind of resources used to parameterize this policy"),
    age_col(),
]


def vap_row(obj: JSON, now: float) -> list[Cell]:
    param = d(obj, "spec", "paramKind")
    kind = f"{s(param, 'apiVersion')}/{s(param, 'kind')}" if isinstance(param, dict) else "<unset>"
    return [name_of(obj), len(lst(obj, "spec", "validations")), kind, age_of(obj, now)]


VAPB_COLUMNS = [
    name_col(),
    col("PolicyName", description="PolicyName indicates the name of the policy definition that this binding "
        "is bound to"),
    col("ParamRef", description="ParamRef indicates the param resource that this binding uses"),
    age_col(),
]


def vapb_row(obj: JSON, now: float) -> list[Cell]:
    ref = d(obj, "spec", "paramRef")
    param = "<unset>"
    if isinstance(ref, dict):
        if s(ref, "name"):
            param = f"{s(ref, 'namespace') or '*'}/{s(ref, 'name')}"
        elif ref.get("selector") is not None:
            text = format_label_selector(ref.get("selector"))
            param = "" if text == "<none>" else text
    return [name_of(obj), s(obj, "spec", "policyName"), param, age_of(obj, now)]


# --- flowcontrol.apiserver.k8s.io --------------------------------------------------------------

FLOWSCHEMA_COLUMNS = [
    name_col(),
    col("PriorityLevel", description="The priority level that this flow schema refers to"),
    col("MatchingPrecedence", "integer", "The matching precedence of this flow schema"),
    col("DistinguisherMethod", description="The method of distinguishing flows in this flow schema"),
    age_col(),
    col("MissingPL", description="references a broken or non-existent PriorityLevelConfiguration"),
]


def flowschema_row(obj: JSON, now: float) -> list[Cell]:
    method = d(obj, "spec", "distinguisherMethod")
    missing = "?"
    for cond in lst(obj, "status", "conditions"):
        if isinstance(cond, dict) and cond.get("type") == "Dangling":
            missing = s(cond, "status")
            break
    return [name_of(obj), s(obj, "spec", "priorityLevelConfiguration", "name"),
            d(obj, "spec", "matchingPrecedence") or 0,
            s(method, "type") if isinstance(method, dict) else "<none>", age_of(obj, now), missing]


PLC_COLUMNS = [
    name_col(),
    col("Type", description="The type of the priority level"),
    col("NominalConcurrencyShares", "string", "NominalConcurrencyShares of the priority level"),
    col("Queues", "string", "Number of queues of the priority level"),
    col("HandSize", "string", "Hand size of the priority level"),
    col("QueueLengthLimit", "string", "Length limit of the queue of the priority level"),
    age_col(),
]


def plc_row(obj: JSON, now: float) -> list[Cell]:
    shares: Cell = "<none>"
    queues: Cell = "<none>"
    hand: Cell = "<none>"
    limit: Cell = "<none>"
    limited = d(obj, "spec", "limited")
    if isinstance(limited, dict):
        shares = limited.get("nominalConcurrencyShares") or 0
        queuing = d(limited, "limitResponse", "queuing")
        if isinstance(queuing, dict):
            queues, hand, limit = (queuing.get("queues") or 0, queuing.get("handSize") or 0,
                                   queuing.get("queueLengthLimit") or 0)
    return [name_of(obj), s(obj, "spec", "type"), shares, queues, hand, limit, age_of(obj, now)]


# --- apiregistration.k8s.io, ComponentStatus ---------------------------------------------------

APISERVICE_COLUMNS = [
    name_col(),
    col("Service", description="The reference to the service that hosts this API endpoint."),
    col("Available", description="Whether this service is available."),
    age_col(),
]


def apiservice_row(obj: JSON, now: float) -> list[Cell]:
    service = d(obj, "spec", "service")
    where = f"{s(service, 'namespace')}/{s(service, 'name')}" if isinstance(service, dict) else "Local"
    available = "Unknown"
    for cond in lst(obj, "status", "conditions"):
        if isinstance(cond, dict) and cond.get("type") == "Available":
            status, reason = s(cond, "status"), s(cond, "reason")
            available = status if status == "True" or not reason else f"{status} ({reason})"
            break
    return [name_of(obj), where, available, age_of(obj, now)]


COMPONENTSTATUS_COLUMNS = [
    name_col(),
    col("Status", description="Status of the component conditions"),
    col("Message", description="Message of the component conditions"),
    col("Error", description="Error of the component conditions"),
]


def componentstatus_row(obj: JSON, now: float) -> list[Cell]:
    status, messages, errors = "Unknown", [], []
    for cond in lst(obj, "conditions"):
        if not isinstance(cond, dict) or cond.get("type") != "Healthy":
            continue
        status = {"True": "Healthy", "False": "Unhealthy"}.get(s(cond, "status"), "Unknown")
        if s(cond, "message"):
            messages.append(s(cond, "message"))
        if s(cond, "error"):
            errors.append(s(cond, "error"))
    return [name_of(obj), status, ",".join(messages), ",".join(errors)]


# --- networking.k8s.io IPAddress / ServiceCIDR -------------------------------------------------

IPADDRESS_COLUMNS = [
    name_col(),
    col("ParentRef", description="ParentRef references the resource that an IPAddress is attached to."),
    age_col(),
]


def ipaddress_row(obj: JSON, now: float) -> list[Cell]:
    ref = d(obj, "spec", "parentRef")
    text = "<none>"
    if isinstance(ref, dict):
        group, resource = s(ref, "group"), s(ref, "resource")
        text = (f"{resource}.{group}" if group else resource).lower()
        if s(ref, "namespace"):
            text += "/" + s(ref, "namespace")
        text += "/" + s(ref, "name")
    return [name_of(obj), text, age_of(obj, now)]


SERVICECIDR_COLUMNS = [
    name_col(),
    col("CIDRs", description="list of IP blocks used by this ServiceCIDR"),
    age_col(),
]


def servicecidr_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), ",".join(str(c) for c in lst(obj, "spec", "cidrs")), age_of(obj, now)]


# --- resource.k8s.io ---------------------------------------------------------------------------

RESOURCECLAIM_COLUMNS = [
    name_col(),
    col("State", description="A summary of the current state (allocated, pending, reserved, etc.)."),
    age_col(),
]


def resourceclaim_state(obj: JSON) -> str:
    """``resourceClaimState``: deleted / pending / allocated, reserved or deallocating."""
    states: list[str] = []
    deleted = bool(d(obj, "metadata", "deletionTimestamp"))
    if deleted:
        states.append("deleted")
    if d(obj, "status", "allocation") is None:
        if not deleted:
            states.append("pending")
    else:
        states.append("allocated")
        if lst(obj, "status", "reservedFor"):
            states.append("reserved")
        elif deleted or d(obj, "status", "deallocationRequested"):
            states.append("deallocating")
    return ",".join(states)


def resourceclaim_row(obj: JSON, now: float) -> list[Cell]:
    return [name_of(obj), resourceclaim_state(obj), age_of(obj, now)]


RESOURCESLICE_COLUMNS = [
    name_col(),
    col("Node", description="The node providing the resources."),
    col("Driver", description="The name of the driver which provides the resources."),
    col("Pool", description="The name of the pool to which the resource slice belongs."),
    age_col(),
]


def resourceslice_row(obj: JSON, now: float) -> list[Cell]:
    node = d(obj, "spec", "nodeName")
    return [name_of(obj), node if isinstance(node, str) and node else "<none>", s(obj, "spec", "driver"),
            s(dct(obj, "spec", "pool"), "name"), age_of(obj, now)]
