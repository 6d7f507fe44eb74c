"""The pod status kubelet generates from its runtime (``generateAPIPodStatus``).

Phase, the five kubelet conditions with upstream reasons and messages, hostIP/podIP, startTime and
one status per container. Conditions other components own (DisruptionTarget, readiness gates) are
kept, as the kubelet's status manager merges them from the API's copy. ``status_key`` is what the
kubelet compares before writing, so an unchanged status is never written twice.
"""

from __future__ import annotations

from ..client.base import JSON
from .containerd import REASON_CONTAINER_CREATING, ContainerRuntime, PodRuntime
from .containers import REASON_CRASH_LOOP

# pkg/kubelet/status/generate.go
REASON_CONTAINERS_NOT_READY = "ContainersNotReady"
MSG_CONTAINERS_NOT_READY = "containers with unready status: [{names}]"
REASON_CONTAINERS_NOT_INITIALIZED = "ContainersNotInitialized"
MSG_CONTAINERS_NOT_INITIALIZED = "containers with incomplete status: [{names}]"
REASON_POD_COMPLETED = "PodCompleted"
REASON_POD_INITIALIZING = "PodInitializing"

KUBELET_CONDITIONS = frozenset({"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                "PodScheduled"})


def status_key(status: JSON) -> str:
    """What the kubelet owns in a pod status, without timestamps of conditions."""
    conditions = [(c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
                  for c in status.get("conditions") or []]
    owned = [(k, status.get(k)) for k in ("phase", "hostIP", "podIP", "startTime", "containerStatuses",
                                           "initContainerStatuses")]
    return repr((conditions, owned))


def node_internal_ip(node: JSON) -> str:
    for addr in (node.get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP":
            return str(addr.get("address") or "")
    return ""


def spec_container(pod: JSON, c: ContainerRuntime) -> JSON:
    """The pod spec's entry for a runtime container."""
    spec = pod.get("spec") or {}
    for sc in spec.get("initContainers" if c.init else "containers") or []:
        if sc.get("name") == c.name:
            return dict(sc)
    return {}


def pod_status(pod: JSON, rt: PodRuntime, node: JSON, now: str, *, terminal: bool = False) -> JSON:
    """The API status kubelet would generate from the runtime at ``now`` (an RFC 3339 stamp)."""
    old = pod.get("status") or {}
    old_conditions = {c.get("type"): c for c in old.get("conditions") or []}
    init = [c for c in rt.containers if c.init]
    main = [c for c in rt.containers if not c.init]
    all_done = all(c.state == "terminated" for c in main) and bool(main)
    if terminal or rt.stage == "done":
        phase = "Succeeded" if all(c.exit_code == 0 for c in main) else "Failed"
    elif any(c.state == "running" or c.restart_due is not None for c in main):
        phase = "Running"
    else:
        phase = "Pending"
    not_initialized = [c.name for c in init if not (c.state == "terminated" and c.exit_code == 0)]
    not_ready = [c.name for c in main if c.state != "running"]
    finished = phase in ("Succeeded", "Failed") and all_done

    def cond(type_: str, ok: bool, reason: str = "", message: str = "") -> JSON:
        status = "True" if ok else "False"
        prev = old_conditions.get(type_) or {}
        out: JSON = {"type": type_, "status": status, "lastProbeTime": None,
                     "lastTransitionTime": prev.get("lastTransitionTime") if prev.get("status") == status
                     and prev.get("lastTransitionTime") else now}
        if not ok and reason:
            out["reason"] = reason
        if not ok and message:
            out["message"] = message
        return out

    conditions = [
        cond("PodReadyToStartContainers", rt.sandbox and not finished),
        cond("Initialized", not not_initialized, REASON_CONTAINERS_NOT_INITIALIZED,
             MSG_CONTAINERS_NOT_INITIALIZED.format(names=" ".join(not_initialized))),
        cond("Ready", not not_ready, REASON_POD_COMPLETED if finished else REASON_CONTAINERS_NOT_READY,
             "" if finished else MSG_CONTAINERS_NOT_READY.format(names=" ".join(not_ready))),
        cond("ContainersReady", not not_ready, REASON_POD_COMPLETED if finished else REASON_CONTAINERS_NOT_READY,
             "" if finished else MSG_CONTAINERS_NOT_READY.format(names=" ".join(not_ready))),
    ]
    scheduled = old_conditions.get("PodScheduled")
    conditions.append(dict(scheduled) if scheduled and scheduled.get("status") == "True"
                      else cond("PodScheduled", True))
    conditions += [dict(c) for t, c in old_conditions.items() if t not in KUBELET_CONDITIONS]
    host_ip = node_internal_ip(node)
    status: JSON = {
        "phase": phase, "conditions": conditions, "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}] if host_ip else None, "startTime": rt.start_time or now,
        "containerStatuses": [container_status(pod, c, rt) for c in main],
    }
    if init:
        status["initContainerStatuses"] = [container_status(pod, c, rt) for c in init]
    if rt.pod_ip:
        status["podIP"] = rt.pod_ip
        status["podIPs"] = [{"ip": rt.pod_ip}]
    return status


def container_status(pod: JSON, c: ContainerRuntime, rt: PodRuntime) -> JSON:
    spec_c = spec_container(pod, c)
    out: JSON = {"name": c.name, "image": c.image_ref or c.image, "imageID": c.image_id,
                 "ready": c.state == "running" and not c.init, "restartCount": c.restart_count,
                 "started": c.state == "running", "lastState": c.last_state}
    if c.container_id:
        out["containerID"] = c.container_id
    if c.restart_due is not None and c.reason == REASON_CRASH_LOOP:
        out["state"] = {"waiting": {"reason": c.reason, "message": c.message}}
    elif c.state == "running":
        out["state"] = {"running": {"startedAt": c.started_at}}
    elif c.state == "terminated":
        out["state"] = {"terminated": {"exitCode": c.exit_code, "reason": c.reason, "startedAt": c.started_at,
                                       "finishedAt": c.finished_at, "containerID": c.container_id}}
    else:
        waiting = REASON_POD_INITIALIZING if (not c.init and any(
            i.init and i.state != "terminated" for i in rt.containers)) else REASON_CONTAINER_CREATING
        out["state"] = {"waiting": {"reason": waiting}}
    mounts = [{"name": m.get("name"), "mountPath": m.get("mountPath"),
               **({"readOnly": True} if m.get("readOnly") else {}), "recursiveReadOnly": "Disabled"}
              for m in spec_c.get("volumeMounts") or []]
    if mounts:
        out["volumeMounts"] = mounts
    return out
