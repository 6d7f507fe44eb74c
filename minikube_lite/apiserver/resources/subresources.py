"""Subresources with their own shapes: ``pods/binding``, ``pods/eviction``, ``*/scale``, ``pods/log``.

``/status`` and ``namespaces/finalize`` are handled by the common update path.
"""

from __future__ import annotations

from typing import Any

from ...clock import rfc3339
from .. import errors
from ..apply.field_manager import manager_name
from ..apply.writes import APPLY_PATCH, apply_patch, parse_apply_body
from ..engine_services import EngineServices
from ..errors import ApiError
from ..query_params import Query
from ..registry import ResourceType
from ..results import WriteResult
from ..wire.pod_logs import LogSource, render, select_lines
from .eviction import evict
from .reviews import token_request

JSON = dict[str, Any]

SUCCESS: JSON = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


def _check_subresource(rt: ResourceType, subresource: str) -> None:
    if subresource not in rt.subresources:
        raise ApiError(404, "NotFound", "the server could not find the requested resource", {})


def create_subresource(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, subresource: str,
                       body: Any, query: Query) -> WriteResult:
    _check_subresource(rt, subresource)
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    if rt.key == ("", "pods") and subresource == "binding":
        bind(engine, rt, namespace, name, body, query)
        return WriteResult(201, dict(SUCCESS))
    if rt.key == ("", "serviceaccounts") and subresource == "token":
        account = engine.get(rt, namespace, name).object()
        return WriteResult(201, token_request(account, body, engine.clock.now(), engine.authn))
    if rt.key == ("", "pods") and subresource == "eviction":
        evict(engine, rt, namespace, name, body, query)
        return WriteResult(201, dict(SUCCESS))
    raise errors.method_not_allowed("create", f"{rt.kind}/{subresource}")


def bind(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, body: JSON, query: Query) -> None:
    """``pods/binding``: set ``spec.nodeName`` once, as the scheduler's DefaultBinder asks."""
    target = body.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    bind_name = (body.get("metadata") or {}).get("name") or name
    if bind_name != name:
        raise errors.bad_request(f"the name of the object ({bind_name}) does not match the name on the URL ({name})")
    if not node:
        raise errors.invalid("Binding", "", "Binding", name, [errors.required("target.name")])
    current = engine.get_stored(rt, namespace, name)
    pod = current.object()
    if pod["metadata"].get("deletionTimestamp"):
        raise errors.conflict("", "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")
    spec = pod.setdefault("spec", {})
    if spec.get("nodeName"):
        raise errors.conflict("", "pods/binding", name,
                              f'pod {name} is already assigned to node "{spec["nodeName"]}"')
    spec["nodeName"] = node
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                       "lastTransitionTime": rfc3339(engine.clock.now())})
    status["conditions"] = conditions
    stored_rt = engine.registry.get("", "v1", "pods")
    assert stored_rt is not None
    # Binding writes spec and status together; it bypasses the status split like upstream's BindingREST.
    if _dry(query):
        return
    stored = engine.store.update(stored_rt.key, pod, stored_rt.selectable_fields(pod), expected_rv=current.rv)
    engine.notify("update", stored_rt, pod, current.object())
    del stored


def _dry(query: Query) -> bool:
    return query.get("dryRun") == "All"


def _scale_of(rt: ResourceType, obj: JSON) -> JSON:
    meta = obj["metadata"]
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    selector = ""
    if rt.custom:
        sub = ((rt.crd_version or {}).get("subresources") or {}).get("scale") or {}
        replicas = _json_path(obj, sub.get("specReplicasPath", ".spec.replicas"))
        status_replicas = _json_path(obj, sub.get("statusReplicasPath", ".status.replicas"))
        sel = _json_path(obj, sub.get("labelSelectorPath", "")) if sub.get("labelSelectorPath") else None
        selector = sel if isinstance(sel, str) else ""
    else:
        replicas = spec.get("replicas", 0)
        status_replicas = status.get("replicas", 0)
        match = ((spec.get("selector") or {}).get("matchLabels")) or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(match.items()))
    out: JSON = {"kind": "Scale", "apiVersion": "autoscaling/v1",
                 "metadata": {"name": meta["name"], "uid": meta.get("uid"),
                              "resourceVersion": meta.get("resourceVersion"),
                              "creationTimestamp": meta.get("creationTimestamp")},
                 "spec": {"replicas": replicas or 0},
                 "status": {"replicas": status_replicas or 0}}
    if meta.get("namespace"):
        out["metadata"]["namespace"] = meta["namespace"]
    if selector:
        out["status"]["selector"] = selector
    return out


def _json_path(obj: Any, path: str) -> Any:
    cur = obj
    for key in [p for p in path.split(".") if p]:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def get_subresource(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str,
                    subresource: str) -> JSON:
    _check_subresource(rt, subresource)
    stored = engine.get(rt, namespace, name)
    if subresource == "scale":
        return _scale_of(rt, stored.object())
    if subresource == "status":
        return stored.object()
    raise errors.method_not_allowed("get", f"{rt.kind}/{subresource}")


def _set_replicas(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, replicas: Any,
                  expected_rv: str | None, query: Query) -> WriteResult:
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise errors.invalid("Scale", "autoscaling", "Scale", name, [
            errors.invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")])
    current = engine.get_stored(rt, namespace, name)
    if expected_rv and expected_rv != str(current.rv):
        raise errors.conflict(rt.group, rt.plural, name)
    obj = current.object()
    if rt.custom:
        sub = ((rt.crd_version or {}).get("subresources") or {}).get("scale") or {}
        keys = [p for p in sub.get("specReplicasPath", ".spec.replicas").split(".") if p]
        cur = obj
        for key in keys[:-1]:
            cur = cur.setdefault(key, {})
        cur[keys[-1]] = replicas
    else:
        obj.setdefault("spec", {})["replicas"] = replicas
    result = engine.write_update(rt, current, obj, query, manager=manager_name(query.get("fieldManager"), ""),
                                 fields_subresource="scale")
    return WriteResult(200, _scale_of(rt, result.obj))


def update_subresource(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, subresource: str,
                       body: Any, query: Query) -> WriteResult:
    _check_subresource(rt, subresource)
    if subresource != "scale":
        raise errors.method_not_allowed("update", f"{rt.kind}/{subresource}")
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    replicas = (body.get("spec") or {}).get("replicas", 0)
    return _set_replicas(engine, rt, namespace, name, replicas, (body.get("metadata") or {}).get("resourceVersion"),
                         query)


def patch_subresource(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, subresource: str,
                      patch: Any, content_type: str, query: Query) -> WriteResult:
    _check_subresource(rt, subresource)
    if subresource != "scale":
        raise errors.method_not_allowed("patch", f"{rt.kind}/{subresource}")
    current = engine.get(rt, namespace, name)
    scale = _scale_of(rt, current.object())
    if content_type == APPLY_PATCH:
        patched = parse_apply_body(patch)
        if not isinstance(patched, dict):
            raise errors.bad_request("invalid apply body")
        patched = {**scale, **patched, "spec": {**scale["spec"], **(patched.get("spec") or {})}}
    else:
        patched = apply_patch(rt, scale, patch, content_type)
    if not isinstance(patched, dict):
        raise errors.bad_request("patched object is not a JSON object")
    replicas = (patched.get("spec") or {}).get("replicas", 0)
    rv = (patched.get("metadata") or {}).get("resourceVersion")
    return _set_replicas(engine, rt, namespace, name, replicas, rv if rv != scale["metadata"]["resourceVersion"]
                         else None, query)


def pod_log(engine: EngineServices, namespace: str, name: str, query: Query, log_source: LogSource | None = None
            ) -> str:
    """The container's log: the lines of the component it stands for when ``log_source`` knows it,
    else a short synthetic log from what the kubelet recorded in the pod status."""
    rt = engine.registry.get("", "v1", "pods")
    assert rt is not None
    pod = engine.get(rt, namespace, name).object()
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    init = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    container = query.get("container")
    if not container:
        if len(containers) != 1:
            names = " ".join(str(c) for c in containers)
            raise errors.bad_request(f"a container name must be specified for pod {name}, choose one of: [{names}]")
        container = containers[0]
    if container not in containers and container not in init:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    status = next((s for s in statuses if s.get("name") == container), None)
    state = (status or {}).get("state") or {}
    if query.get("previous", "").lower() in ("true", "1"):
        state = (status or {}).get("lastState") or {}
        if not state.get("terminated"):
            raise errors.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    # A finished container still has its log (Job pods, crash loops): same lines, plus its exit.
    running = state.get("running") or state.get("terminated")
    if not running:
        reason = "ContainerCreating" if pod.get("spec", {}).get("nodeName") else "Pending"
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason") or reason
        raise errors.bad_request(f'container "{container}" in pod "{name}" is waiting to start: '
                                 f"{'ContainerCreating' if reason == 'ContainerCreating' else reason}")
    component = log_source.component_of(pod, container) if log_source is not None else None
    if component is not None and log_source is not None:
        return render(select_lines(log_source.lines(component), query, engine.clock.now()), query)
    image = next((c.get("image") for c in pod["spec"]["containers"] if c.get("name") == container), "")
    started = running.get("startedAt", "")
    node = pod["spec"].get("nodeName", "")
    lines = [
        f"{started} minikube-lite: container {container} started on node {node}",
        f"{started} minikube-lite: image {image} (containers do not really run here)",
        f"{started} minikube-lite: pod IP {(pod.get('status') or {}).get('podIP', '')}",
    ]
    for vol in pod["spec"].get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            lines.append(f"{started} minikube-lite: volume {vol.get('name')} mounted from claim {claim}")
    finished = state.get("terminated")
    if finished:
        lines.append(f"{finished.get('finishedAt', '')} minikube-lite: container {container} exited with code "
                     f"{finished.get('exitCode', 0)}")
    tail = query.get("tailLines")
    if tail and tail.isdigit():
        lines = lines[-int(tail):] if int(tail) > 0 else []
    if query.get("timestamps", "").lower() not in ("true", "1"):
        lines = [line.split(" ", 1)[1] if " " in line else line for line in lines]
    return "".join(line + "\n" for line in lines)
