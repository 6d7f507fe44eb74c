"""DELETE and deletecollection: preconditions, propagation policy, finalizers and graceful deletion.

An object with finalizers (or a pod on a node, which is deleted gracefully, or a namespace,
which its controller empties first) is only marked: ``deletionTimestamp`` is set and the
object stays until the last finalizer goes (the final removal is in ``ApiEngine.write_update``).
Anything else is removed at once.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..clock import rfc3339
from . import errors
from .admission.chain import DELETE
from .engine_services import EngineServices
from .errors import ApiError
from .query_params import Query, dry_run
from .registry import ResourceType
from .results import WriteResult
from .storage.store import StoredObject

JSON = dict[str, Any]


def delete_object(engine: EngineServices, rt: ResourceType, namespace: str | None, name: str, options: JSON,
                  query: Query) -> WriteResult:
    """Delete one object, or mark it deleted when finalizers or a grace period hold it."""
    current = engine.get_stored(rt, namespace, name)
    obj = current.object()
    meta = obj["metadata"]
    pre = options.get("preconditions") or {}
    if pre.get("uid") and pre["uid"] != meta.get("uid"):
        raise errors.conflict(rt.group, rt.plural, name,
                              f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: "
                              f"{meta.get('uid')}")
    if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
        raise errors.conflict(rt.group, rt.plural, name,
                              f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                              f"ResourceVersion in object meta: {meta.get('resourceVersion')}")
    dry = dry_run(query) or options.get("dryRun") == ["All"]
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    if policy not in (None, "Orphan", "Foreground", "Background"):
        raise errors.invalid("DeleteOptions", "meta.k8s.io", "DeleteOptions", "", [
            errors.not_supported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"])])
    engine.admission.run(engine.admission_context(DELETE, rt, None, dry), obj, obj)
    finalizers = list(meta.get("finalizers") or [])
    if policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    grace = grace_period(rt, obj, options)
    graceful = grace is not None and grace > 0
    pending_ns = rt.group == "" and rt.plural == "namespaces"
    if finalizers or graceful or pending_ns:
        changed = False
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = rfc3339(engine.clock.now() + (grace or 0))
            meta["deletionGracePeriodSeconds"] = grace or 0
            changed = True
        elif graceful and grace is not None and grace < int(meta.get("deletionGracePeriodSeconds") or 0):
            meta["deletionTimestamp"] = rfc3339(engine.clock.now() + grace)
            meta["deletionGracePeriodSeconds"] = grace
            changed = True
        elif grace == 0 and not finalizers:
            return _delete_now(engine, rt, current, obj, dry)
        if finalizers != list(meta.get("finalizers") or []):
            meta["finalizers"] = finalizers
            changed = True
        if pending_ns:
            obj.setdefault("status", {})["phase"] = "Terminating"
            changed = True
        if not changed or dry:
            return WriteResult(200, obj)
        stored = engine.store.update(rt.key, obj, rt.selectable_fields(obj))
        engine.notify("update", rt, obj, current.object())
        return WriteResult(200, obj, [], stored.raw)
    return _delete_now(engine, rt, current, obj, dry)


def _delete_now(engine: EngineServices, rt: ResourceType, current: StoredObject, obj: JSON,
                dry: bool) -> WriteResult:
    if not dry:
        tomb = engine.store.delete(rt.key, current.namespace, current.name)
        obj = tomb.object()
        engine.notify("delete", rt, obj, None)
    if rt.returns_deleted_object or rt.custom:
        return WriteResult(200, obj)
    details: JSON = {"name": current.name, "kind": rt.plural, "uid": obj["metadata"].get("uid")}
    if rt.group:
        details = {"name": current.name, "group": rt.group, "kind": rt.plural, "uid": obj["metadata"].get("uid")}
    return WriteResult(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": details})


def grace_period(rt: ResourceType, obj: JSON, options: JSON) -> int | None:
    """Graceful deletion applies to pods on a node, as the pod strategy decides."""
    if not (rt.group == "" and rt.plural == "pods"):
        return None
    spec = obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase")
    requested = options.get("gracePeriodSeconds")
    if requested is not None:
        try:
            requested = int(requested)
        except (TypeError, ValueError):
            raise errors.bad_request("gracePeriodSeconds must be an integer") from None
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    if requested is not None:
        return max(0, requested)
    return int(spec.get("terminationGracePeriodSeconds") or 30)


def delete_collection(engine: EngineServices, rt: ResourceType, namespace: str | None, options: JSON,
                      query: Query) -> JSON:
    """Delete every object the selectors match, one DELETE each; the list of what went (or was marked)."""
    listed = engine.list(rt, namespace, {k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")})
    items = []
    for stored in listed.items:
        with contextlib.suppress(ApiError):
            result = engine.delete(rt, stored.namespace or None, stored.name, options, query)
            if result.obj.get("kind") != "Status":
                items.append(result.obj)
            else:
                items.append(stored.object())
    return {"kind": rt.list_kind, "apiVersion": rt.api_version,
            "metadata": {"resourceVersion": str(engine.store.resource_version)}, "items": items}


def namespace_pending(rt: ResourceType, obj: JSON) -> bool:
    """A namespace whose spec finalizers are not done yet stays (Terminating) until they are."""
    return rt.group == "" and rt.plural == "namespaces" and bool((obj.get("spec") or {}).get("finalizers"))
