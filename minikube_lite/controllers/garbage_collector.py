"""The garbage collector: ownerReferences, cascading deletion, orphaning.

It keeps an index of every object's owners (informers on every listable type) and acts on
owners, as kube-controller-manager's GC does:

* owner gone (Background deletion): dependents whose owners are all gone are deleted; a
  dangling reference next to a live owner is removed.
* owner deleting with ``foregroundDeletion``: dependents are deleted first, then the finalizer
  is removed so the owner goes too.
* owner deleting with ``orphan``: the reference is removed from every dependent, then the
  finalizer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass

from ..client.base import JSON, ApiError
from ..client.informer import metadata_only, running_shared_informer
from ..client.runtime import DONE, Controller, Result, get_or_none

log = logging.getLogger(__name__)

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
SKIPPED_RESOURCES = {("", "events"), ("events.k8s.io", "events")}


@dataclass(frozen=True)
class Ref:
    resource: str
    namespace: str | None
    name: str
    uid: str


class GarbageCollector(Controller):
    name = "garbage-collector"

    async def start(self) -> None:
        self._objects: dict[str, Ref] = {}  # uid -> where it lives
        self._owners: dict[str, set[str]] = {}  # dependent uid -> owner uids
        self._dependents: dict[str, set[str]] = defaultdict(set)  # owner uid -> dependent uids
        self._kind_resource: dict[tuple[str, str], str] = {}
        await self._watch_new_types(start=False)
        await super().start()
        self.add_handler(self.informers["customresourcedefinitions.v1.apiextensions.k8s.io"],
                         lambda event, obj, old: asyncio.ensure_future(self._watch_new_types(start=True)))

    async def _watch_new_types(self, start: bool) -> None:
        """Track every listable type, including custom resources of CRDs created later."""
        for rt in await self.client.api_resources():
            if "watch" not in rt.verbs or "list" not in rt.verbs or rt.key in SKIPPED_RESOURCES:
                continue
            resource = f"{rt.plural}.{rt.version}.{rt.group}" if rt.group else rt.plural
            self._kind_resource[(rt.api_version, rt.kind)] = resource
            if resource in self.informers:
                continue
            # Another component's informer of this type holds whole objects and is decoded
            # anyway: share it. A type nobody else watches gets a metadata-only cache of ours.
            shared = running_shared_informer(self.client, resource)
            inf = self.informer(resource) if shared is not None else self.informer(resource, transform=metadata_only)
            handler = self._make_handler(resource)
            self.add_handler(inf, handler)
            if start:   # a type served after our start: ours to stop with the others
                already = inf.synced
                inf.acquire()
                self._acquired.append(inf)
                await inf.start()
                if already:   # shared and synced before we came: hear about what it holds
                    inf.replay(handler)

    def _make_handler(self, resource: str):  # type: ignore[no-untyped-def]
        def handle(event: str, obj: JSON, old: JSON | None) -> None:
            meta = obj.get("metadata") or {}
            uid = meta.get("uid")
            if not uid:
                return
            if event == "DELETED":
                self._objects.pop(uid, None)
                for owner in self._owners.pop(uid, set()):
                    self._dependents[owner].discard(uid)
                if self._dependents.get(uid):
                    self.queue.add(uid)
                return
            self._objects[uid] = Ref(resource, meta.get("namespace"), meta.get("name", ""), uid)
            owners = {r.get("uid") for r in meta.get("ownerReferences") or [] if r.get("uid")}
            for gone in self._owners.get(uid, set()) - owners:
                self._dependents[gone].discard(uid)
            for owner in owners:
                self._dependents[owner].add(uid)
                if owner not in self._objects:
                    self.queue.add(owner)  # maybe dangling: check
            self._owners[uid] = owners
            finalizers = meta.get("finalizers") or []
            if meta.get("deletionTimestamp") and (FOREGROUND in finalizers or ORPHAN in finalizers):
                self.queue.add(uid)

        return handle

    async def reconcile(self, key: str) -> Result:
        owner = self._objects.get(key)
        dependents = [self._objects[d] for d in list(self._dependents.get(key, ())) if d in self._objects]
        if owner is None:
            for dep in dependents:
                await self._drop_owner(dep, key)
            return DONE
        obj = await self._get(owner)
        if obj is None:
            return DONE
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if not meta.get("deletionTimestamp"):
            return DONE
        if ORPHAN in finalizers:
            for dep in dependents:
                await self._remove_reference(dep, key)
            await self._remove_finalizer(owner, obj, ORPHAN)
            return DONE
        if FOREGROUND in finalizers:
            waiting = False
            for dep in dependents:
                current = await self._get(dep)
                if current is None:
                    continue
                waiting = True
                if not current["metadata"].get("deletionTimestamp"):
                    await self._delete(dep, "Foreground")
            if waiting:
                return Result(requeue_after=1.0)
            await self._remove_finalizer(owner, obj, FOREGROUND)
        return DONE

    async def _get(self, ref: Ref) -> JSON | None:
        obj = await get_or_none(self.client, ref.resource, ref.name, ref.namespace)
        if obj is None:
            return None
        if obj["metadata"].get("uid") != ref.uid:
            return None
        return obj

    async def _owner_alive(self, dep: JSON, owner_ref: JSON) -> bool:
        resource = self._kind_resource.get((owner_ref.get("apiVersion", ""), owner_ref.get("kind", "")))
        if resource is None:
            return False
        ns = dep["metadata"].get("namespace")
        owner = await get_or_none(self.client, resource, owner_ref.get("name", ""), ns)
        if owner is None:
            return False
        return bool(owner["metadata"].get("uid") == owner_ref.get("uid"))

    async def _drop_owner(self, dep: Ref, owner_uid: str) -> None:
        """The owner is gone: delete the dependent unless another owner still lives."""
        obj = await self._get(dep)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        ref = next((r for r in refs if r.get("uid") == owner_uid), None)
        if ref is None or await self._owner_alive(obj, ref):
            return
        others = [r for r in refs if r.get("uid") != owner_uid]
        alive = [r for r in others if await self._owner_alive(obj, r)]
        if alive:
            await self._remove_reference(dep, owner_uid)
            return
        if not obj["metadata"].get("deletionTimestamp"):
            await self._delete(dep, "Background")

    async def _delete(self, ref: Ref, policy: str) -> None:
        try:
            await self.client.delete(ref.resource, ref.name, ref.namespace, propagation_policy=policy,
                                     preconditions={"uid": ref.uid})
        except ApiError as err:
            if err.code not in (404, 409):
                raise

    async def _remove_reference(self, dep: Ref, owner_uid: str) -> None:
        obj = await self._get(dep)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") != owner_uid]
        if len(kept) == len(refs):
            return
        patch = [{"op": "test", "path": "/metadata/resourceVersion", "value": obj["metadata"]["resourceVersion"]},
                 {"op": "replace", "path": "/metadata/ownerReferences", "value": kept}]
        await self.client.patch(dep.resource, dep.name, patch, dep.namespace, patch_type="json")

    async def _remove_finalizer(self, ref: Ref, obj: JSON, finalizer: str) -> None:
        finalizers = [f for f in obj["metadata"].get("finalizers") or [] if f != finalizer]
        patch = [{"op": "test", "path": "/metadata/resourceVersion", "value": obj["metadata"]["resourceVersion"]},
                 {"op": "replace", "path": "/metadata/finalizers", "value": finalizers}]
        await self.client.patch(ref.resource, ref.name, patch, ref.namespace, patch_type="json")
