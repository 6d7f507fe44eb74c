"""Helpers shared by the workload controllers: owner references, pod state, templates, hashes.

They follow ``pkg/controller/controller_utils.go`` and ``pkg/api/v1/pod`` upstream, so the four
controllers agree on what "active", "ready" and "available" mean.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from ...client.base import JSON, ApiError
from ...clock import parse_time
from ...kube.selectors import match_label_selector

# rand.SafeEncodeString's alphabet: no vowels (no words) and no look-alike characters.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193

FAILED_CREATE = "FailedCreate"
SUCCESSFUL_CREATE = "SuccessfulCreate"
SUCCESSFUL_DELETE = "SuccessfulDelete"
FAILED_DELETE = "FailedDelete"


def fnv32a(data: bytes, value: int = FNV32_OFFSET) -> int:
    for byte in data:
        value ^= byte
        value = (value * FNV32_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: each character mapped into the safe alphabet by its code point."""
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in text)


def template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """controller.ComputeHash: FNV-32a of the pod template (plus the collision count, 4 bytes LE in 8).

    Upstream hashes a spew dump of the Go struct, which Python cannot reproduce byte for byte;
    canonical JSON keeps the properties that matter: stable, template-sensitive, collision-count
    sensitive, and rendered in the same alphabet and length range.
    """
    value = fnv32a(orjson.dumps(template, option=orjson.OPT_SORT_KEYS))
    if collision_count is not None:
        value = fnv32a(int(collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0" * 4, value)
    return safe_encode(str(value))


def meta(obj: Mapping[str, Any]) -> JSON:
    return obj.get("metadata") or {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("name") or "")


def uid_of(obj: Mapping[str, Any]) -> str:
    return str(meta(obj).get("uid") or "")


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return meta(obj).get("labels") or {}


def controller_ref(obj: Mapping[str, Any]) -> JSON | None:
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref  # type: ignore[no-any-return]
    return None


def owner_reference(owner: Mapping[str, Any], kind: str) -> JSON:
    """The controller reference a workload puts on what it creates (GC cascades through it)."""
    return {"apiVersion": "apps/v1", "kind": kind, "name": name_of(owner), "uid": uid_of(owner),
            "controller": True, "blockOwnerDeletion": True}


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == uid_of(owner)


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """A workload selector never matches everything: an empty one selects nothing (upstream)."""
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        return False
    return match_label_selector(selector, labels)


def claim_children(objs: Iterable[JSON], owner: Mapping[str, Any], selector: Mapping[str, Any] | None
                   ) -> tuple[list[JSON], list[JSON], list[JSON]]:
    """ClaimObjects: (owned and matching, orphans to adopt, owned but no longer matching: release)."""
    owned: list[JSON] = []
    adopt: list[JSON] = []
    release: list[JSON] = []
    for obj in objs:
        ref = controller_ref(obj)
        matches = selector_matches(selector, labels_of(obj))
        if ref is not None:
            if ref.get("uid") != uid_of(owner):
                continue
            (owned if matches else release).append(obj)
        elif matches and not meta(obj).get("deletionTimestamp") and not meta(owner).get("deletionTimestamp"):
            adopt.append(obj)
    return owned, adopt, release


def adopt_patch(obj: Mapping[str, Any], owner: Mapping[str, Any], kind: str) -> list[JSON]:
    """A JSON patch adding our controller reference, guarded by the uid (as upstream's adopt patch)."""
    refs = list(meta(obj).get("ownerReferences") or [])
    refs.append(owner_reference(owner, kind))
    return [{"op": "test", "path": "/metadata/uid", "value": uid_of(obj)},
            {"op": "replace" if "ownerReferences" in meta(obj) else "add", "path": "/metadata/ownerReferences",
             "value": refs}]


def release_patch(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> list[JSON]:
    refs = [r for r in meta(obj).get("ownerReferences") or [] if r.get("uid") != uid_of(owner)]
    return [{"op": "test", "path": "/metadata/uid", "value": uid_of(obj)},
            {"op": "replace", "path": "/metadata/ownerReferences", "value": refs}]


# --------------------------------------------------------------------------- pod state


def pod_condition(pod: Mapping[str, Any], kind: str) -> JSON | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond  # type: ignore[no-any-return]
    return None


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_active(pod: Mapping[str, Any]) -> bool:
    """controller.IsPodActive: not finished and not being deleted."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def is_ready(pod: Mapping[str, Any]) -> bool:
    cond = pod_condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def is_running_and_ready(pod: Mapping[str, Any]) -> bool:
    return pod_phase(pod) == "Running" and is_ready(pod)


def ready_since(pod: Mapping[str, Any]) -> float | None:
    cond = pod_condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return None
    return parse_time(cond.get("lastTransitionTime") or "") or 0.0


def available_in(pod: Mapping[str, Any], min_ready_seconds: int, now: float) -> float | None:
    """podutil.IsPodAvailable: None when not ready; else seconds until available (0 = available now)."""
    since = ready_since(pod)
    if since is None:
        return None
    if min_ready_seconds <= 0:
        return 0.0
    return max(0.0, since + min_ready_seconds - now)


def deletion_rank(pod: Mapping[str, Any]) -> tuple[Any, ...]:
    """controller.ActivePods ordering: the pod to delete first sorts first.

    Unassigned before assigned; Pending before Unknown before Running; not ready before ready;
    ready for less time first; more restarts first; newer before older.
    """
    spec = pod.get("spec") or {}
    phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}.get(pod_phase(pod), 0)
    since = ready_since(pod)
    restarts = sum(int(c.get("restartCount") or 0)
                   for c in (pod.get("status") or {}).get("containerStatuses") or [])
    created = parse_time(meta(pod).get("creationTimestamp") or "") or 0.0
    return (bool(spec.get("nodeName")), phase_rank, since is not None, -(since or 0.0), -restarts, -created,
            name_of(pod))


def pod_from_template(template: Mapping[str, Any], owner: Mapping[str, Any], kind: str, namespace: str,
                      *, name: str | None = None, generate_name: str | None = None) -> JSON:
    """controller.GetPodFromTemplate: labels, annotations and finalizers of the template, our owner."""
    tmeta = template.get("metadata") or {}
    pod_meta: JSON = {"namespace": namespace, "labels": dict(tmeta.get("labels") or {}),
                      "ownerReferences": [owner_reference(owner, kind)]}
    if tmeta.get("annotations"):
        pod_meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        pod_meta["finalizers"] = list(tmeta["finalizers"])
    if name:
        pod_meta["name"] = name
    else:
        pod_meta["generateName"] = generate_name or f"{name_of(owner)}-"
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        pct = int(text[:-1])
        scaled = pct * total
        return -(-scaled // 100) if round_up else scaled // 100
    return int(text)


def set_condition(conditions: list[JSON], new: JSON, stamp: str, *, touch_update: bool = False) -> list[JSON]:
    """Replace the condition of the same type; keep its transition time when the status holds."""
    out: list[JSON] = []
    old = next((c for c in conditions if c.get("type") == new.get("type")), None)
    merged = dict(new)
    if old is not None and old.get("status") == new.get("status"):
        merged["lastTransitionTime"] = old.get("lastTransitionTime") or stamp
        if "lastUpdateTime" in new and old.get("reason") == new.get("reason") and not touch_update:
            merged["lastUpdateTime"] = old.get("lastUpdateTime") or stamp
    replaced = False
    for cond in conditions:
        if cond.get("type") == new.get("type"):
            out.append(merged)
            replaced = True
        else:
            out.append(cond)
    if not replaced:
        out.append(merged)
    return out


def pods_by_owner_key(kind: str):  # type: ignore[no-untyped-def]
    """An informer key function: a pod (or claim) event enqueues its controller of ``kind``."""

    def key_of(event: str, obj: JSON, old: JSON | None) -> list[str]:
        keys: list[str] = []
        for item in (obj, old):
            if item is None:
                continue
            ref = controller_ref(item)
            if ref is not None and ref.get("kind") == kind:
                key = f"{meta(item).get('namespace')}/{ref.get('name')}"
                if key not in keys:
                    keys.append(key)
        return keys

    return key_of


def _strip(status: Mapping[str, Any]) -> JSON:
    return {k: v for k, v in status.items() if v not in (0, None, [], {}, "")}


def status_differs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Compare statuses as upstream does: zero counts and absent fields are the same."""
    return _strip(old) != _strip(new)


async def write_status(client: Any, resource: str, obj: Mapping[str, Any], status: JSON) -> None:
    """Merge-patch the status subresource: no resourceVersion race with spec writers (kubectl scale).

    Fields we no longer set are nulled so the merge removes them.
    """
    body = dict(status)
    for field in (obj.get("status") or {}):
        body.setdefault(field, None)
    try:
        await client.patch(resource, name_of(obj), {"status": body}, meta(obj).get("namespace"),
                           subresource="status")
    except ApiError as err:
        if err.code != 404:
            raise


# --------------------------------------------------------------------------- cache and expectations

CONTROLLER_INDEX = "workloads:controller"
ORPHAN_PREFIX = "orphan:"


def controller_index(obj: JSON) -> list[str]:
    """Index pods by their controller's uid; orphans by namespace (candidates for adoption)."""
    ref = controller_ref(obj)
    if ref is not None:
        return [str(ref.get("uid") or "")]
    return [f"{ORPHAN_PREFIX}{meta(obj).get('namespace') or ''}"]


class PodExpectations:
    """controller.ControllerExpectations, by pod uid: writes this controller made that its cache
    has not shown yet.

    Pods are read from the shared informer cache, which lags the controller's own writes; while
    a created pod is not yet in the cache, or a deleted one still looks alive there, a reconcile
    would count wrong and create or delete twice. So until the cache has caught up the owner only
    refreshes its status. Entries expire after ``ttl`` seconds (upstream: 5 minutes) so a lost
    event cannot wedge an owner forever.
    """

    def __init__(self, clock: Any, ttl: float = 300.0) -> None:
        self.clock = clock
        self.ttl = ttl
        self._pending: dict[str, dict[str, float]] = {}
        self._owner: dict[str, str] = {}

    def expect_create(self, key: str, pod: Mapping[str, Any], cached: Mapping[str, Any] | None) -> None:
        if cached is not None and uid_of(cached) == uid_of(pod):
            return  # the cache is already there
        self._add(key, "+" + uid_of(pod))

    def expect_delete(self, key: str, pod: Mapping[str, Any], cached: Mapping[str, Any] | None) -> None:
        if cached is None or uid_of(cached) != uid_of(pod) or meta(cached).get("deletionTimestamp"):
            return
        self._add(key, "-" + uid_of(pod))

    def _add(self, key: str, token: str) -> None:
        self._pending.setdefault(key, {})[token] = self.clock.monotonic() + self.ttl
        self._owner[token] = key

    def observe(self, event: str, pod: Mapping[str, Any]) -> None:
        """Called for every pod event, after the cache holds it."""
        uid = uid_of(pod)
        tokens = ["+" + uid]
        if event == "DELETED" or meta(pod).get("deletionTimestamp"):
            tokens.append("-" + uid)
        for token in tokens:
            key = self._owner.pop(token, None)
            if key is not None:
                pending = self._pending.get(key)
                if pending is not None:
                    pending.pop(token, None)
                    if not pending:
                        del self._pending[key]

    def satisfied(self, key: str) -> bool:
        pending = self._pending.get(key)
        if not pending:
            return True
        now = self.clock.monotonic()
        for token, deadline in list(pending.items()):
            if deadline <= now:
                del pending[token]
                self._owner.pop(token, None)
        if not pending:
            del self._pending[key]
            return True
        return False

    def forget(self, key: str) -> None:
        for token in self._pending.pop(key, {}):
            self._owner.pop(token, None)
