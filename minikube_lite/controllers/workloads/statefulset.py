"""The StatefulSet controller: stable, ordered pods ``<set>-<ordinal>`` with stable claims.

As ``pkg/controller/statefulset``: each replica's claims ``<template>-<set>-<ordinal>`` are
created before its pod and kept across pod deletion and scale-down (unless
``persistentVolumeClaimRetentionPolicy`` says Delete); under ``OrderedReady`` the next pod is
created only once the previous one is Running and Ready, and scale-down removes the highest
ordinal first, one at a time; ``Parallel`` creates and deletes without waiting. Rolling updates
replace pods from the highest ordinal down to ``partition``.

Each template is a ControllerRevision ``<set>-<hash>`` (see ``history``); pods carry the
revision's name in ``controller-revision-hash``; a pod below ``partition`` is (re)created from
the current revision's template, the others from the update revision's; the status names both
revisions and the collision count; unused revisions beyond ``revisionHistoryLimit`` are deleted.
"""

from __future__ import annotations

import copy
import logging
import re

from ...client.base import JSON, ApiError, Client
from ...client.events import NORMAL, WARNING, EventRecorder
from ...client.runtime import DONE, Controller, Key, Result, get_or_none, split_key
from ...clock import Clock
from .common import (
    CONTROLLER_INDEX,
    FAILED_CREATE,
    FAILED_DELETE,
    ORPHAN_PREFIX,
    SUCCESSFUL_CREATE,
    SUCCESSFUL_DELETE,
    PodExpectations,
    adopt_patch,
    available_in,
    claim_children,
    controller_index,
    is_running_and_ready,
    meta,
    name_of,
    pod_from_template,
    pod_phase,
    pods_by_owner_key,
    status_differs,
    uid_of,
    write_status,
)
from .history import History, RevisionHistory, hash_revision, template_of

log = logging.getLogger(__name__)

COMPONENT = "statefulset-controller"
KIND = "StatefulSet"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"

MSG_POD_OK = "{verb} Pod {pod} in StatefulSet {set} successful"
MSG_POD_FAILED = "{verb} Pod {pod} in StatefulSet {set} failed error: {error}"
MSG_CLAIM_OK = "{verb} Claim {claim} Pod {pod} in StatefulSet {set} success"
MSG_CLAIM_FAILED = "{verb} Claim {claim} for Pod {pod} in StatefulSet {set} failed error: {error}"
REASON_RECREATING_FAILED = "RecreatingFailedPod"
MSG_RECREATING_FAILED = "StatefulSet {ns}/{set} is recreating failed Pod {pod}"


def ordinal_of(set_name: str, pod_name: str) -> int | None:
    match = re.fullmatch(re.escape(set_name) + r"-(\d+)", pod_name)
    return int(match.group(1)) if match else None


def claim_name(template: JSON, set_name: str, ordinal: int) -> str:
    return f"{name_of(template)}-{set_name}-{ordinal}"


def set_controller_ref(sts: JSON) -> JSON:
    return {"apiVersion": "apps/v1", "kind": KIND, "name": name_of(sts), "uid": uid_of(sts),
            "controller": True, "blockOwnerDeletion": True}


def wanted_claim_owners(claim: JSON, sts: JSON) -> list[JSON] | None:
    """The ownerReferences the retention policy wants on the claim of a replica in range, or None
    when they are already so (upstream ``isClaimOwnerUpToDate``/``updateClaimOwnerRefForSetAndPod``).

    ``whenDeleted: Delete`` makes the set the claim's controller, so the garbage collector removes
    the claim with the set; ``Retain`` keeps the set off it. A reference to an earlier set of the
    same name (another uid) is left alone, and no set reference is added under another controller.
    """
    refs = list(meta(claim).get("ownerReferences") or [])
    ours = [r for r in refs if r.get("kind") == KIND and r.get("name") == name_of(sts)]
    if any(r.get("uid") != uid_of(sts) for r in ours):
        return None
    others = [r for r in refs if r not in ours]
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    want_set = policy.get("whenDeleted") == "Delete" and not any(r.get("controller") for r in others)
    if bool(ours) == want_set and all(r.get("controller") for r in ours):
        return None
    return [*others, set_controller_ref(sts)] if want_set else others


class StatefulSetController(Controller):
    name = "statefulset-controller"

    def __init__(self, client: Client, clock: Clock) -> None:
        super().__init__(client, clock)
        self.recorder = EventRecorder(client, COMPONENT, clock)
        self.history = RevisionHistory(client, KIND)

    def setup(self) -> None:
        self.informer("statefulsets.apps", key_of=lambda e, o, old: [f"{meta(o).get('namespace')}/{name_of(o)}"])
        self.expectations = PodExpectations(self.clock)
        self.pods = self.informer("pods", key_of=self._pod_keys)
        self.pods.add_index(CONTROLLER_INDEX, controller_index)

    def _pod_keys(self, event: str, obj: JSON, old: JSON | None) -> list[str]:
        self.expectations.observe(event, obj)
        keys: list[str] = pods_by_owner_key(KIND)(event, obj, old)
        return keys

    async def reconcile(self, key: Key) -> Result:
        ns, name = split_key(key)
        sts = await get_or_none(self.client, "statefulsets.apps", name, ns)
        if sts is None:
            self.expectations.forget(key)
            return DONE
        spec = sts.get("spec") or {}
        pods = [*self.pods.by_index(CONTROLLER_INDEX, uid_of(sts)),
                *self.pods.by_index(CONTROLLER_INDEX, ORPHAN_PREFIX + (ns or ""))]
        owned, adopt, _release = claim_children(pods, sts, spec.get("selector"))
        for pod in adopt:
            if ordinal_of(name, name_of(pod)) is None:
                continue
            try:
                owned.append(await self.client.patch("pods", name_of(pod), adopt_patch(pod, sts, KIND), ns,
                                                     patch_type="json"))
            except ApiError as err:
                if err.code not in (404, 409, 422):
                    raise
        history = await self.history.sync(sts, hash_revision)
        by_ordinal: dict[int, JSON] = {}
        for pod in owned:
            ordinal = ordinal_of(name, name_of(pod))
            if ordinal is not None:
                by_ordinal[ordinal] = pod
        current = self._current_revision(sts, history)
        if not meta(sts).get("deletionTimestamp") and self.expectations.satisfied(key):
            await self._sync_replicas(key, sts, by_ordinal, (current, history.update))
        result = await self._update_status(sts, by_ordinal, history, name_of(current))
        in_use = {(meta(p).get("labels") or {}).get(REVISION_LABEL) for p in by_ordinal.values()}
        await self.history.truncate(sts, history.revisions,
                                    {n for n in in_use if n} | {name_of(current), name_of(history.update)})
        return result

    @staticmethod
    def _current_revision(sts: JSON, history: History) -> JSON:
        """The revision named by status.currentRevision while it exists, else the update revision."""
        wanted = (sts.get("status") or {}).get("currentRevision")
        return next((r for r in history.revisions if name_of(r) == wanted), history.update)

    # ------------------------------------------------------------------ replicas

    async def _sync_replicas(self, key: str, sts: JSON, pods: dict[int, JSON],
                             revisions: tuple[JSON, JSON]) -> None:
        spec = sts.get("spec") or {}
        set_name = name_of(sts)
        replicas = int(spec.get("replicas", 1))
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        wanted = range(start, start + replicas)
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        await self._sync_claim_owners(sts, pods)
        # Replicas, lowest ordinal first.
        for ordinal in wanted:
            pod = pods.get(ordinal)
            if pod is not None and pod_phase(pod) == "Failed" and not meta(pod).get("deletionTimestamp"):
                await self.recorder.event(sts, WARNING, REASON_RECREATING_FAILED, MSG_RECREATING_FAILED.format(
                    ns=meta(sts).get("namespace"), set=set_name, pod=name_of(pod)))
                await self._delete_pod(key, sts, pod)
                pods[ordinal] = {**pod, "metadata": {**meta(pod), "deletionTimestamp": "now"}}
                pod = pods[ordinal]
            if pod is None:
                created = await self._create_pod(key, sts, ordinal, self._revision_for(sts, ordinal, revisions))
                if created is None:
                    return
                pods[ordinal] = created
                if ordered:
                    return
                continue
            if ordered and (meta(pod).get("deletionTimestamp") or not is_running_and_ready(pod)):
                return
        # Condemned replicas, highest ordinal first; ordered: one at a time, after the rest are ready.
        condemned = sorted((o for o in pods if o not in wanted), reverse=True)
        for ordinal in condemned:
            pod = pods[ordinal]
            if meta(pod).get("deletionTimestamp"):
                if ordered:
                    return
                continue
            if ordered and not all(is_running_and_ready(pods[o]) for o in pods if o != ordinal and o in wanted):
                return
            await self._delete_pod(key, sts, pod)
            if ordered:
                return
        await self._scale_down_claims(sts, pods, wanted)
        if condemned:
            return
        await self._rolling_update(key, sts, pods, name_of(revisions[1]), wanted)

    @staticmethod
    def _revision_for(sts: JSON, ordinal: int, revisions: tuple[JSON, JSON]) -> JSON:
        """newVersionedStatefulSetPod: below the RollingUpdate partition a pod keeps the current revision."""
        strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        if strategy.get("type", "RollingUpdate") == "RollingUpdate" and ordinal < partition:
            return revisions[0]
        return revisions[1]

    async def _rolling_update(self, key: str, sts: JSON, pods: dict[int, JSON], revision: str, wanted: range) -> None:
        strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        if any(meta(p).get("deletionTimestamp") or not is_running_and_ready(p) for p in pods.values()):
            return
        for ordinal in sorted(wanted, reverse=True):
            if ordinal < partition:
                break
            pod = pods.get(ordinal)
            if pod is not None and (meta(pod).get("labels") or {}).get(REVISION_LABEL) != revision:
                await self._delete_pod(key, sts, pod)
                return

    async def _sync_claim_owners(self, sts: JSON, pods: dict[int, JSON]) -> None:
        """Keep the claims of the replicas in range owned as the retention policy says, so a policy
        changed after the claims were made (``kubectl apply``, ``helm upgrade``) applies to them."""
        spec = sts.get("spec") or {}
        templates = spec.get("volumeClaimTemplates") or []
        if not templates or not pods:
            return
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        wanted = range(start, start + int(spec.get("replicas", 1)))
        ns = meta(sts).get("namespace")
        listed = (await self.client.list("persistentvolumeclaims", ns)).get("items") or []
        by_name = {name_of(c): c for c in listed}
        for ordinal in sorted(o for o in pods if o in wanted):
            for template in templates:
                claim = by_name.get(claim_name(template, name_of(sts), ordinal))
                if claim is None or meta(claim).get("deletionTimestamp"):
                    continue
                refs = wanted_claim_owners(claim, sts)
                if refs is None:
                    continue
                patch = [{"op": "test", "path": "/metadata/resourceVersion",
                          "value": meta(claim).get("resourceVersion")},
                         {"op": "add", "path": "/metadata/ownerReferences", "value": refs}]
                try:
                    await self.client.patch("persistentvolumeclaims", name_of(claim), patch, ns, patch_type="json")
                except ApiError as err:
                    if err.code not in (404, 409, 422):
                        raise

    async def _scale_down_claims(self, sts: JSON, pods: dict[int, JSON], wanted: range) -> None:
        """whenScaled: Delete removes the claims of ordinals past the end once their pods are gone."""
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        templates = (sts.get("spec") or {}).get("volumeClaimTemplates") or []
        if policy.get("whenScaled") != "Delete" or not templates:
            return
        ns = meta(sts).get("namespace")
        claims = (await self.client.list("persistentvolumeclaims", ns)).get("items") or []
        names = {name_of(c) for c in claims}
        for claim in claims:
            for template in templates:
                prefix = f"{name_of(template)}-{name_of(sts)}-"
                cname = name_of(claim)
                if not cname.startswith(prefix) or not cname[len(prefix):].isdigit():
                    continue
                ordinal = int(cname[len(prefix):])
                if ordinal in wanted or ordinal in pods or meta(claim).get("deletionTimestamp"):
                    continue
                if cname in names:
                    try:
                        await self.client.delete("persistentvolumeclaims", cname, ns)
                    except ApiError as err:
                        if err.code != 404:
                            raise

    async def _create_pod(self, key: str, sts: JSON, ordinal: int, revision: JSON) -> JSON | None:
        spec = sts.get("spec") or {}
        ns = meta(sts).get("namespace") or "default"
        set_name = name_of(sts)
        pod_name = f"{set_name}-{ordinal}"
        for template in spec.get("volumeClaimTemplates") or []:
            if not await self._ensure_claim(sts, template, ordinal, pod_name):
                return None
        body = pod_from_template(template_of(revision), sts, KIND, ns, name=pod_name)
        labels = body["metadata"]["labels"]
        labels.update({POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: name_of(revision)})
        pod_spec = body["spec"]
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        volumes = [v for v in pod_spec.get("volumes") or []]
        for template in spec.get("volumeClaimTemplates") or []:
            volumes = [v for v in volumes if v.get("name") != name_of(template)]
            volumes.append({"name": name_of(template),
                            "persistentVolumeClaim": {"claimName": claim_name(template, set_name, ordinal)}})
        if volumes:
            pod_spec["volumes"] = volumes
        try:
            pod = await self.client.create("pods", body, ns)
        except ApiError as err:
            if err.code == 409:
                return None
            await self.recorder.event(sts, WARNING, FAILED_CREATE, MSG_POD_FAILED.format(
                verb="create", pod=pod_name, set=set_name, error=err.message))
            raise
        self.expectations.expect_create(key, pod, self.pods.get(pod_name, ns))
        await self.recorder.event(sts, NORMAL, SUCCESSFUL_CREATE,
                                  MSG_POD_OK.format(verb="create", pod=pod_name, set=set_name))
        return pod

    async def _ensure_claim(self, sts: JSON, template: JSON, ordinal: int, pod_name: str) -> bool:
        ns = meta(sts).get("namespace") or "default"
        set_name = name_of(sts)
        cname = claim_name(template, set_name, ordinal)
        try:
            existing = await self.client.get("persistentvolumeclaims", cname, ns)
        except ApiError as err:
            if err.code != 404:
                raise
        else:
            # A claim still being deleted cannot back a new pod yet (upstream waits too).
            return not meta(existing).get("deletionTimestamp")
        tmeta = template.get("metadata") or {}
        selector_labels = ((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        claim_meta: JSON = {"name": cname, "namespace": ns,
                            "labels": {**(tmeta.get("labels") or {}), **selector_labels}}
        if tmeta.get("annotations"):
            claim_meta["annotations"] = dict(tmeta["annotations"])
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        if policy.get("whenDeleted") == "Delete":
            # The set controls the claim, so deleting the set lets the GC remove the claim.
            claim_meta["ownerReferences"] = [set_controller_ref(sts)]
        body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": claim_meta,
                "spec": copy.deepcopy(template.get("spec") or {})}
        try:
            await self.client.create("persistentvolumeclaims", body, ns)
        except ApiError as err:
            if err.code == 409:
                return True
            await self.recorder.event(sts, WARNING, FAILED_CREATE, MSG_CLAIM_FAILED.format(
                verb="create", claim=cname, pod=pod_name, set=set_name, error=err.message))
            raise
        await self.recorder.event(sts, NORMAL, SUCCESSFUL_CREATE,
                                  MSG_CLAIM_OK.format(verb="create", claim=cname, pod=pod_name, set=set_name))
        return True

    async def _delete_pod(self, key: str, sts: JSON, pod: JSON) -> None:
        try:
            await self.client.delete("pods", name_of(pod), meta(pod).get("namespace"))
            self.expectations.expect_delete(key, pod, self.pods.get(name_of(pod), meta(pod).get("namespace")))
        except ApiError as err:
            if err.code == 404:
                return
            await self.recorder.event(sts, WARNING, FAILED_DELETE, MSG_POD_FAILED.format(
                verb="delete", pod=name_of(pod), set=name_of(sts), error=err.message))
            raise
        await self.recorder.event(sts, NORMAL, SUCCESSFUL_DELETE,
                                  MSG_POD_OK.format(verb="delete", pod=name_of(pod), set=name_of(sts)))

    # ------------------------------------------------------------------ status

    async def _update_status(self, sts: JSON, pods: dict[int, JSON], history: History,
                             current_revision: str) -> Result:
        update_revision = name_of(history.update)
        spec = sts.get("spec") or {}
        old = sts.get("status") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self.clock.now()
        live = [p for p in pods.values() if not meta(p).get("deletionTimestamp")]
        ready = available = 0
        requeue: float | None = None
        for pod in live:
            if is_running_and_ready(pod):
                ready += 1
                wait = available_in(pod, min_ready, now)
                if wait == 0:
                    available += 1
                elif wait is not None:
                    requeue = wait if requeue is None else min(requeue, wait)
        updated = sum(1 for p in live if (meta(p).get("labels") or {}).get(REVISION_LABEL) == update_revision)
        replicas = int(spec.get("replicas", 1))
        if updated == replicas and len(live) == replicas and ready == replicas:
            current_revision = update_revision
        current = sum(1 for p in live if (meta(p).get("labels") or {}).get(REVISION_LABEL) == current_revision)
        status: JSON = {"observedGeneration": meta(sts).get("generation", 1), "replicas": len(live),
                        "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
                        "availableReplicas": available, "currentRevision": current_revision,
                        "updateRevision": update_revision, "collisionCount": history.collision_count}
        if status_differs(old, status):
            await write_status(self.client, "statefulsets.apps", sts, status)
        return Result(requeue_after=requeue) if requeue else DONE
