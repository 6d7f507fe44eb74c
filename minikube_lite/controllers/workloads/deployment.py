"""The Deployment controller: ReplicaSets per pod template, rolled out by RollingUpdate or Recreate.

As ``pkg/controller/deployment``: the ReplicaSet whose template equals the Deployment's (ignoring
the ``pod-template-hash`` label) is the new one, named ``<deploy>-<hash>``; rolling updates scale
it up within ``maxSurge`` and old ones down within ``maxUnavailable``; revisions live in the
``deployment.kubernetes.io/revision`` annotation; old ReplicaSets beyond
``revisionHistoryLimit`` are deleted once a rollout is complete.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from ...clock import Clock, parse_time, rfc3339
from .common import (
    CONTROLLER_INDEX,
    adopt_patch,
    claim_children,
    controller_index,
    controller_ref,
    labels_of,
    meta,
    name_of,
    owner_reference,
    pods_by_owner_key,
    resolve_int_or_percent,
    selector_matches,
    set_condition,
    status_differs,
    template_hash,
    write_status,
)

log = logging.getLogger(__name__)

COMPONENT = "deployment-controller"
KIND = "Deployment"
HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
# Annotations of the Deployment that are not copied onto its ReplicaSets (annotationsToSkip).
SKIPPED_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", REVISION_ANNOTATION,
                       REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION,
                       "deprecated.deployment.rollback.to"}

REASON_SCALING = "ScalingReplicaSet"
MSG_SCALED = "Scaled {op} replica set {rs} to {new} from {old}"

COND_AVAILABLE = "Available"
COND_PROGRESSING = "Progressing"
REASON_MIN_AVAILABLE = "MinimumReplicasAvailable"
MSG_MIN_AVAILABLE = "Deployment has minimum availability."
REASON_MIN_UNAVAILABLE = "MinimumReplicasUnavailable"
MSG_MIN_UNAVAILABLE = "Deployment does not have minimum availability."
REASON_NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
MSG_NEW_RS_AVAILABLE = 'ReplicaSet "{rs}" has successfully progressed.'
REASON_RS_UPDATED = "ReplicaSetUpdated"
MSG_RS_UPDATED = 'ReplicaSet "{rs}" is progressing.'
REASON_NEW_RS_CREATED = "NewReplicaSetCreated"
MSG_NEW_RS_CREATED = 'Created new replica set "{rs}"'
REASON_FOUND_NEW_RS = "FoundNewReplicaSet"
MSG_FOUND_NEW_RS = 'Found new replica set "{rs}"'
REASON_TIMED_OUT = "ProgressDeadlineExceeded"
MSG_TIMED_OUT = 'ReplicaSet "{rs}" has timed out progressing.'
REASON_PAUSED = "DeploymentPaused"
MSG_PAUSED = "Deployment is paused"
REASON_RESUMED = "DeploymentResumed"
MSG_RESUMED = "Deployment is resumed"


def revision_of(rs: JSON) -> int:
    try:
        return int((meta(rs).get("annotations") or {}).get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def replicas_of(obj: JSON) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1) or 0)


def status_int(obj: JSON, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def template_without_hash(template: JSON) -> JSON:
    """The template as EqualIgnoreHash compares it: no hash label, and null/empty values dropped.

    apimachinery's semantic equality treats nil and empty maps and slices alike, and a typed
    decode turns ``creationTimestamp: null`` (which kubectl sends in templates) into nothing.
    """
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return _semantic(out)


def _semantic(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def fenceposts(deploy: JSON) -> tuple[int, int]:
    """ResolveFenceposts: (maxSurge rounded up, maxUnavailable rounded down), never both zero."""
    spec = deploy.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    want = replicas_of(deploy)
    surge = resolve_int_or_percent(rolling.get("maxSurge", "25%"), want, True)
    unavailable = resolve_int_or_percent(rolling.get("maxUnavailable", "25%"), want, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _by_creation(rs: JSON) -> tuple[float, str]:
    return (parse_time(meta(rs).get("creationTimestamp") or "") or 0.0, name_of(rs))


class DeploymentController(Controller):
    name = "deployment-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)

    def setup(self) -> None:
        self.deploy_informer = self.informer("deployments.apps", key_of=lambda e, o, old: [_key(o)])
        self.informer("replicasets.apps", key_of=self._rs_keys)
        # Recreate waits for old pods to be gone: pod deletions of our ReplicaSets wake us up.
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)

    def _rs_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        if controller_ref(obj) is None and event != "DELETED":
            for d in self.deploy_informer.list(meta(obj).get("namespace")):
                if selector_matches((d.get("spec") or {}).get("selector"), labels_of(obj)):
                    keys.append(_key(d))
        return keys

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        if event != "DELETED":
            return []
        ref = controller_ref(obj)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return []
        ns = meta(obj).get("namespace")
        keys = []
        for d in self.deploy_informer.list(ns):
            if selector_matches((d.get("spec") or {}).get("selector"), labels_of(obj)):
                keys.append(_key(d))
        return keys

    # ------------------------------------------------------------------ reconcile

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        deploy = await get_or_none(self.client, "deployments.apps", name, ns)
        if deploy is None:
            return DONE
        if meta(deploy).get("deletionTimestamp"):
            return DONE
        spec = deploy.get("spec") or {}
        all_rs = await self._claim_replica_sets(deploy)
        if spec.get("paused"):
            await self._sync_status(deploy, all_rs, self._find_new(deploy, all_rs), paused=True)
            return DONE
        new_rs = self._find_new(deploy, all_rs)
        created = False
        if new_rs is None:
            new_rs = await self._create_new(deploy, all_rs)
            if new_rs is None:
                return DONE
            all_rs.append(new_rs)
            created = True
        else:
            new_rs = await self._sync_revision(deploy, new_rs, all_rs)
        old_rs = [rs for rs in all_rs if uid(rs) != uid(new_rs)]
        await self._sync_deployment_revision(deploy, new_rs)
        if await self._is_scaling_event(deploy, all_rs, new_rs):
            await self._scale(deploy, new_rs, old_rs)
        elif (spec.get("strategy") or {}).get("type") == "Recreate":
            await self._rollout_recreate(deploy, new_rs, old_rs)
        else:
            await self._rollout_rolling(deploy, new_rs, old_rs)
        return await self._sync_status(deploy, all_rs, new_rs, created=created)

    async def _claim_replica_sets(self, deploy: JSON) -> list[JSON]:
        ns = meta(deploy).get("namespace")
        items = (await self.client.list("replicasets.apps", ns)).get("items") or []
        owned, adopt, _release = claim_children(items, deploy, (deploy.get("spec") or {}).get("selector"))
        for rs in adopt:
            try:
                owned.append(await self.client.patch("replicasets.apps", name_of(rs),
                                                     adopt_patch(rs, deploy, KIND), ns, patch_type="json"))
            except ApiError as err:
                if err.code not in (404, 409, 422):
                    raise
        return owned

    def _find_new(self, deploy: JSON, all_rs: list[JSON]) -> JSON | None:
        """FindNewReplicaSet: the oldest ReplicaSet whose template equals ours ignoring the hash."""
        want = template_without_hash((deploy.get("spec") or {}).get("template") or {})
        for rs in sorted(all_rs, key=_by_creation):
            if template_without_hash((rs.get("spec") or {}).get("template") or {}) == want:
                return rs
        return None

    async def _create_new(self, deploy: JSON, all_rs: list[JSON]) -> JSON | None:
        ns = meta(deploy).get("namespace")
        spec = deploy.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        status = deploy.get("status") or {}
        collisions = status.get("collisionCount")
        pod_hash = template_hash(template, collisions)
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), HASH_LABEL: pod_hash}
        selector = copy.deepcopy(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
        max_old = max((revision_of(rs) for rs in all_rs), default=0)
        surge, _ = fenceposts(deploy)
        want = replicas_of(deploy)
        annotations = {k: v for k, v in (meta(deploy).get("annotations") or {}).items()
                       if k not in SKIPPED_ANNOTATIONS}
        annotations.update({REVISION_ANNOTATION: str(max_old + 1), DESIRED_REPLICAS_ANNOTATION: str(want),
                            MAX_REPLICAS_ANNOTATION: str(want + surge)})
        replicas = self._new_rs_replicas(deploy, all_rs, None)
        rs_name = f"{name_of(deploy)}-{pod_hash}"
        body: JSON = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": ns, "labels": dict(tmeta["labels"]),
                         "annotations": annotations, "ownerReferences": [owner_reference(deploy, KIND)]},
            "spec": {"replicas": replicas, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template},
        }
        try:
            rs = await self.client.create("replicasets.apps", body, ns)
        except ApiError as err:
            if err.code != 409:
                raise
            existing = await self.client.get("replicasets.apps", rs_name, ns)
            same = template_without_hash((existing.get("spec") or {}).get("template") or {}) == \
                template_without_hash(template)
            if controller_ref(existing) and controller_ref(existing).get("uid") == uid(deploy) and same:  # type: ignore[union-attr]
                return existing
            # A hash collision: bump collisionCount so the next hash differs (upstream does the same).
            await self.client.patch("deployments.apps", name_of(deploy),
                                    {"status": {"collisionCount": int(collisions or 0) + 1}}, ns,
                                    subresource="status")
            raise
        if replicas > 0:
            await self.recorder.event(deploy, NORMAL, REASON_SCALING,
                                      MSG_SCALED.format(op="up", rs=rs_name, new=replicas, old=0))
        return rs

    async def _sync_revision(self, deploy: JSON, new_rs: JSON, all_rs: list[JSON]) -> JSON:
        """A template rolled back to keeps its ReplicaSet but gets the next revision number."""
        max_old = max((revision_of(rs) for rs in all_rs if uid(rs) != uid(new_rs)), default=0)
        if revision_of(new_rs) > max_old:
            return new_rs
        return await self.client.patch("replicasets.apps", name_of(new_rs),
                                       {"metadata": {"annotations": {REVISION_ANNOTATION: str(max_old + 1)}}},
                                       meta(new_rs).get("namespace"))

    async def _sync_deployment_revision(self, deploy: JSON, new_rs: JSON) -> None:
        """SetDeploymentRevision: the Deployment carries its new ReplicaSet's revision."""
        revision = str(revision_of(new_rs))
        if (meta(deploy).get("annotations") or {}).get(REVISION_ANNOTATION) == revision:
            return
        updated = await self.client.patch("deployments.apps", name_of(deploy),
                                          {"metadata": {"annotations": {REVISION_ANNOTATION: revision}}},
                                          meta(deploy).get("namespace"))
        deploy["metadata"] = updated["metadata"]

    def _new_rs_replicas(self, deploy: JSON, all_rs: list[JSON], new_rs: JSON | None) -> int:
        """NewRSNewReplicas: how far the new ReplicaSet may grow now."""
        want = replicas_of(deploy)
        if ((deploy.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            return want
        surge, _ = fenceposts(deploy)
        current = sum(replicas_of(rs) for rs in all_rs)
        max_total = want + surge
        if current >= max_total:
            return replicas_of(new_rs) if new_rs else 0
        new_count = replicas_of(new_rs) if new_rs else 0
        scale_up = min(max_total - current, want - new_count)
        return new_count + max(scale_up, 0)

    async def _scale_rs(self, deploy: JSON, rs: JSON, count: int) -> bool:
        """scaleReplicaSetAndRecordEvent: set replicas and the desired/max annotations."""
        want = replicas_of(deploy)
        surge, _ = fenceposts(deploy)
        old = replicas_of(rs)
        annotations = meta(rs).get("annotations") or {}
        ann = {DESIRED_REPLICAS_ANNOTATION: str(want), MAX_REPLICAS_ANNOTATION: str(want + surge)}
        if old == count and all(annotations.get(k) == v for k, v in ann.items()):
            return False
        updated = await self.client.patch("replicasets.apps", name_of(rs),
                                          {"metadata": {"annotations": ann}, "spec": {"replicas": count}},
                                          meta(rs).get("namespace"))
        rs.clear()
        rs.update(updated)
        if old != count:
            op = "up" if count > old else "down"
            await self.recorder.event(deploy, NORMAL, REASON_SCALING,
                                      MSG_SCALED.format(op=op, rs=name_of(rs), new=count, old=old))
            return True
        return False

    async def _is_scaling_event(self, deploy: JSON, all_rs: list[JSON], new_rs: JSON) -> bool:
        """isScalingEvent: an active ReplicaSet records a desired size other than the Deployment's."""
        want = str(replicas_of(deploy))
        active = [rs for rs in all_rs if replicas_of(rs) > 0]
        for rs in active:
            desired = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS_ANNOTATION)
            if desired is not None and desired != want:
                return True
        return False

    async def _scale(self, deploy: JSON, new_rs: JSON, old_rs: list[JSON]) -> None:
        """A scale (kubectl scale) during or after a rollout.

        With one active ReplicaSet it takes the whole size; during a rollout the difference is shared
        proportionally, larger ReplicaSets first (as upstream's proportional scaling).
        """
        want = replicas_of(deploy)
        active = [rs for rs in [new_rs, *old_rs] if replicas_of(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else new_rs
            await self._scale_rs(deploy, target, want)
            for rs in [new_rs, *old_rs]:
                if rs is not target and replicas_of(rs) > 0:
                    await self._scale_rs(deploy, rs, 0)
            return
        surge, _ = fenceposts(deploy)
        allowed = want + surge
        current = sum(replicas_of(rs) for rs in active)
        diff = allowed - current
        if diff == 0:
            for rs in active:
                await self._scale_rs(deploy, rs, replicas_of(rs))
            return
        order = sorted(active, key=lambda rs: (-replicas_of(rs), _by_creation(rs)), reverse=diff < 0)
        remaining = diff
        sizes: dict[str, int] = {}
        for rs in order:
            size = replicas_of(rs)
            share = int(size * diff / current) if current else 0
            if diff < 0:
                share = max(share, -size)
            sizes[uid(rs)] = size + share
            remaining -= share
        first = order[0]
        sizes[uid(first)] = max(0, sizes[uid(first)] + remaining)
        for rs in active:
            await self._scale_rs(deploy, rs, sizes[uid(rs)])

    async def _rollout_rolling(self, deploy: JSON, new_rs: JSON, old_rs: list[JSON]) -> None:
        want = replicas_of(deploy)
        all_rs = [new_rs, *old_rs]
        # reconcileNewReplicaSet
        if replicas_of(new_rs) > want:
            await self._scale_rs(deploy, new_rs, want)
        elif replicas_of(new_rs) < want:
            await self._scale_rs(deploy, new_rs, self._new_rs_replicas(deploy, all_rs, new_rs))
        else:
            await self._scale_rs(deploy, new_rs, want)  # keeps the annotations current
        # reconcileOldReplicaSets
        if not any(replicas_of(rs) > 0 for rs in old_rs):
            return
        _, max_unavailable = fenceposts(deploy)
        all_pods = sum(replicas_of(rs) for rs in all_rs)
        min_available = want - max_unavailable
        new_unavailable = replicas_of(new_rs) - status_int(new_rs, "availableReplicas")
        max_scale_down = all_pods - min_available - new_unavailable
        if max_scale_down <= 0:
            return
        # cleanupUnhealthyReplicas: old pods that are not available go first, oldest ReplicaSet first.
        for rs in sorted(old_rs, key=_by_creation):
            if max_scale_down <= 0:
                break
            unhealthy = replicas_of(rs) - status_int(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            cut = min(max_scale_down, unhealthy)
            await self._scale_rs(deploy, rs, replicas_of(rs) - cut)
            max_scale_down -= cut
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(status_int(rs, "availableReplicas") for rs in all_rs)
        total_down = min(available - min_available, max_scale_down)
        for rs in sorted(old_rs, key=_by_creation):
            if total_down <= 0:
                break
            if replicas_of(rs) == 0:
                continue
            cut = min(replicas_of(rs), total_down)
            await self._scale_rs(deploy, rs, replicas_of(rs) - cut)
            total_down -= cut

    async def _rollout_recreate(self, deploy: JSON, new_rs: JSON, old_rs: list[JSON]) -> None:
        """Recreate: every old pod gone before the new ReplicaSet grows."""
        for rs in old_rs:
            if replicas_of(rs) > 0:
                await self._scale_rs(deploy, rs, 0)
        if any(status_int(rs, "replicas") > 0 for rs in old_rs) or await self._old_pods_running(deploy, old_rs):
            return
        await self._scale_rs(deploy, new_rs, replicas_of(deploy))

    async def _old_pods_running(self, deploy: JSON, old_rs: list[JSON]) -> bool:
        if not old_rs:
            return False
        # Terminating pods count too: Recreate promises the old pods are gone, not just going.
        return any(self.pods.by_index(CONTROLLER_INDEX, uid(rs)) for rs in old_rs)

    # ------------------------------------------------------------------ status and cleanup

    async def _sync_status(self, deploy: JSON, all_rs: list[JSON], new_rs: JSON | None, *,
                           paused: bool = False, created: bool = False) -> Result:
        want = replicas_of(deploy)
        spec = deploy.get("spec") or {}
        old = deploy.get("status") or {}
        total = sum(status_int(rs, "replicas") for rs in all_rs)
        available = sum(status_int(rs, "availableReplicas") for rs in all_rs)
        status: JSON = {
            "observedGeneration": meta(deploy).get("generation", 1),
            "replicas": total,
            "updatedReplicas": status_int(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(status_int(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(want - available, 0),
        }
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        now = self.clock.now()
        stamp = rfc3339(now)
        conditions: list[JSON] = list(old.get("conditions") or [])
        _, max_unavailable = fenceposts(deploy)
        if available >= want - max_unavailable:
            avail = {"type": COND_AVAILABLE, "status": "True", "reason": REASON_MIN_AVAILABLE,
                     "message": MSG_MIN_AVAILABLE}
        else:
            avail = {"type": COND_AVAILABLE, "status": "False", "reason": REASON_MIN_UNAVAILABLE,
                     "message": MSG_MIN_UNAVAILABLE}
        conditions = set_condition(conditions, {**avail, "lastUpdateTime": stamp, "lastTransitionTime": stamp},
                                   stamp)
        requeue: float | None = None
        progress_old = next((c for c in conditions if c.get("type") == COND_PROGRESSING), None)
        deadline = spec.get("progressDeadlineSeconds")
        rs_name = name_of(new_rs) if new_rs else ""
        progressing: JSON | None = None
        touch = False
        complete = (new_rs is not None and status["updatedReplicas"] == want and total == want
                    and available == want)
        if paused:
            if progress_old is None or progress_old.get("reason") != REASON_PAUSED:
                progressing = {"status": "Unknown", "reason": REASON_PAUSED, "message": MSG_PAUSED}
        elif progress_old is not None and progress_old.get("reason") == REASON_PAUSED:
            progressing = {"status": "Unknown", "reason": REASON_RESUMED, "message": MSG_RESUMED}
        elif complete:
            progressing = {"status": "True", "reason": REASON_NEW_RS_AVAILABLE,
                           "message": MSG_NEW_RS_AVAILABLE.format(rs=rs_name)}
        elif created:
            progressing = {"status": "True", "reason": REASON_NEW_RS_CREATED,
                           "message": MSG_NEW_RS_CREATED.format(rs=rs_name)}
            touch = True
        elif new_rs is not None and self._made_progress(old, status):
            progressing = {"status": "True", "reason": REASON_RS_UPDATED,
                           "message": MSG_RS_UPDATED.format(rs=rs_name)}
            touch = True
        elif new_rs is not None and progress_old is None:
            progressing = {"status": "True", "reason": REASON_FOUND_NEW_RS,
                           "message": MSG_FOUND_NEW_RS.format(rs=rs_name)}
        elif (new_rs is not None and deadline is not None and progress_old is not None
              and progress_old.get("status") == "True"
              and progress_old.get("reason") != REASON_NEW_RS_AVAILABLE):
            since = parse_time(progress_old.get("lastUpdateTime") or "") or now
            left = since + float(deadline) - now
            if left <= 0:
                progressing = {"status": "False", "reason": REASON_TIMED_OUT,
                               "message": MSG_TIMED_OUT.format(rs=rs_name)}
            else:
                requeue = left + 1
        if progressing is not None:
            conditions = set_condition(conditions, {"type": COND_PROGRESSING, **progressing,
                                                    "lastUpdateTime": stamp, "lastTransitionTime": stamp},
                                       stamp, touch_update=touch)
        # Upstream lists Available before Progressing.
        conditions.sort(key=lambda c: {COND_AVAILABLE: 0, COND_PROGRESSING: 1}.get(c.get("type", ""), 2))
        status["conditions"] = conditions
        if status_differs(old, status):
            await write_status(self.client, "deployments.apps", deploy, status)
        if complete and not paused:
            await self._cleanup(deploy, all_rs, new_rs)
        return Result(requeue_after=requeue) if requeue else DONE

    @staticmethod
    def _made_progress(old: JSON, new: JSON) -> bool:
        """util.DeploymentProgressing: more updated/ready/available replicas, or fewer old ones."""
        def old_replicas(s: JSON) -> int:
            return int(s.get("replicas") or 0) - int(s.get("updatedReplicas") or 0)
        return (int(new.get("updatedReplicas") or 0) > int(old.get("updatedReplicas") or 0)
                or old_replicas(new) < old_replicas(old)
                or int(new.get("readyReplicas") or 0) > int(old.get("readyReplicas") or 0)
                or int(new.get("availableReplicas") or 0) > int(old.get("availableReplicas") or 0))

    async def _cleanup(self, deploy: JSON, all_rs: list[JSON], new_rs: JSON | None) -> None:
        limit = (deploy.get("spec") or {}).get("revisionHistoryLimit")
        if limit is None:
            return
        old = [rs for rs in all_rs if new_rs is None or uid(rs) != uid(new_rs)]
        old = [rs for rs in old if not meta(rs).get("deletionTimestamp")]
        surplus = len(old) - int(limit)
        if surplus <= 0:
            return
        for rs in sorted(old, key=lambda r: (revision_of(r), _by_creation(r))):
            if surplus <= 0:
                break
            if replicas_of(rs) != 0 or status_int(rs, "replicas") != 0:
                continue
            try:
                await self.client.delete("replicasets.apps", name_of(rs), meta(rs).get("namespace"))
            except ApiError as err:
                if err.code != 404:
                    raise
            surplus -= 1


def uid(obj: JSON | None) -> str:
    return str(meta(obj or {}).get("uid") or "")


def _key(obj: JSON) -> str:
    return f"{meta(obj).get('namespace')}/{name_of(obj)}"

