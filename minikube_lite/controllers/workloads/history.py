"""ControllerRevisions: the template history of StatefulSets and DaemonSets (``pkg/controller/history``).

A revision ``<owner>-<hash>`` holds the patch that turns an object back into that revision
(``getPatch`` upstream: ``{"spec": {"template": {..., "$patch": "replace"}}}``), so
``kubectl rollout undo`` can apply it as a strategic merge patch; ``revision`` numbers grow with
each new template, and going back to an older template renumbers that revision as the newest
instead of duplicating it. A hash collision with a different revision bumps the owner's
``status.collisionCount``. Revisions beyond ``revisionHistoryLimit`` that no live pod uses are
deleted, oldest first.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ...client.base import JSON, ApiError, Client
from .common import (
    adopt_patch,
    claim_children,
    fnv32a,
    is_controlled_by,
    meta,
    name_of,
    owner_reference,
    safe_encode,
)

REVISION_LABEL = "controller-revision-hash"
DEFAULT_HISTORY_LIMIT = 10
MAX_NAME_PREFIX = 223  # ControllerRevisionName keeps the name a valid label value with the hash


def revision_patch(owner: JSON) -> JSON:
    """getPatch: the owner's template, marked to replace the template it is applied to.

    Shaped as Go 1.35 writes it (kubectl compares these bytes with its own encoding of the object
    to tell that ``rollout undo`` has nothing to do): the typed encoding's ``metadata: {}`` and
    ``resources: {}`` (a zero ``creationTimestamp`` is omitted since 1.35), keys in sorted order
    (a re-marshalled ``map[string]interface{}``).
    """
    template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    template.setdefault("metadata", {})
    pod_spec = template.setdefault("spec", {})
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod_spec.get(field) or []:
            container.setdefault("resources", {})
    template["$patch"] = "replace"
    return _sorted({"spec": {"template": template}})


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def hash_revision(data: JSON, collision_count: int | None) -> str:
    """HashControllerRevision: FNV-32a of the revision data, then the collision count."""
    value = fnv32a(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))
    if collision_count:
        value = fnv32a(int(collision_count & 0xFFFFFFFF).to_bytes(4, "little") + b"\0" * 4, value)
    return safe_encode(str(value))


def revision_name(owner_name: str, hash_: str) -> str:
    return f"{owner_name[:MAX_NAME_PREFIX]}-{hash_}"


def template_of(revision: JSON) -> JSON:
    """ApplyRevision for a template-only patch: the template the revision holds."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def revision_number(revision: JSON) -> int:
    return int(revision.get("revision") or 0)


def sort_revisions(revisions: Iterable[JSON]) -> list[JSON]:
    """SortControllerRevisions: by revision number, then creation, then name."""
    return sorted(revisions, key=lambda r: (revision_number(r), meta(r).get("creationTimestamp") or "",
                                            name_of(r)))


@dataclass
class History:
    """The outcome of syncing an owner's revisions: all of them, the one to update to, collisions."""

    revisions: list[JSON]
    update: JSON
    collision_count: int


class RevisionHistory:
    """Reads and writes one kind's ControllerRevisions through the API."""

    resource = "controllerrevisions.apps"

    def __init__(self, client: Client, kind: str) -> None:
        self.client = client
        self.kind = kind

    async def list_owned(self, owner: JSON) -> list[JSON]:
        """ListRevisions with ClaimControllerRevisions: ours, plus orphans our selector matches (adopted)."""
        items = (await self.client.list(self.resource, meta(owner).get("namespace")))["items"]
        owned, adopt, _release = claim_children(items, owner, (owner.get("spec") or {}).get("selector"))
        for orphan in adopt:
            try:
                owned.append(await self.client.patch(self.resource, name_of(orphan),
                                                     adopt_patch(orphan, owner, self.kind),
                                                     meta(orphan).get("namespace"), patch_type="json"))
            except ApiError as err:
                if err.code not in (404, 409, 422):
                    raise
        return sort_revisions(owned)

    def build(self, owner: JSON, data: JSON, hash_: str, number: int) -> JSON:
        """NewControllerRevision: template labels plus the hash, the owner's annotations, our controller ref."""
        labels = dict((((owner.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})
        labels[REVISION_LABEL] = hash_
        rmeta: JSON = {"name": revision_name(name_of(owner), hash_), "namespace": meta(owner).get("namespace"),
                       "labels": labels, "ownerReferences": [owner_reference(owner, self.kind)]}
        if meta(owner).get("annotations"):
            rmeta["annotations"] = dict(meta(owner)["annotations"])
        return {"apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": rmeta, "data": data,
                "revision": number}

    async def sync(self, owner: JSON, hash_of: Any) -> History:
        """Find or make the revision of the owner's current template (getStatefulSetRevisions).

        ``hash_of(data, collision_count)`` is the kind's hash (StatefulSets hash the revision data,
        DaemonSets the template).
        """
        revisions = await self.list_owned(owner)
        collisions = int((owner.get("status") or {}).get("collisionCount") or 0)
        data = revision_patch(owner)
        next_number = (revision_number(revisions[-1]) if revisions else 0) + 1
        equal = [r for r in revisions if r.get("data") == data]
        if equal and equal[-1] is revisions[-1]:
            return History(revisions, revisions[-1], collisions)
        if equal:
            old = equal[-1]
            try:
                updated = await self.client.patch(self.resource, name_of(old), {"revision": next_number},
                                                  meta(old).get("namespace"))
            except ApiError as err:
                if err.code != 404:
                    raise
            else:
                revisions = sort_revisions([*(r for r in revisions if r is not old), updated])
                return History(revisions, updated, collisions)
        for _ in range(64):
            hash_ = hash_of(data, collisions)
            body = self.build(owner, data, hash_, next_number)
            try:
                created = await self.client.create(self.resource, body, meta(owner).get("namespace"))
            except ApiError as err:
                if err.code != 409:
                    raise
                existing = await self.client.get(self.resource, name_of(body), meta(owner).get("namespace"))
                if existing.get("data") == data and is_controlled_by(existing, owner):
                    return History(sort_revisions([*revisions, existing]), existing, collisions)
                collisions += 1  # a different revision took this name: hash again
                continue
            return History(sort_revisions([*revisions, created]), created, collisions)
        raise ApiError(500, "InternalError", f"no free revision name for {name_of(owner)}", {})

    async def truncate(self, owner: JSON, revisions: list[JSON], keep_names: set[str]) -> None:
        """truncateHistory: delete the oldest revisions that nothing uses, beyond the history limit."""
        limit = (owner.get("spec") or {}).get("revisionHistoryLimit")
        limit = DEFAULT_HISTORY_LIMIT if limit is None else int(limit)
        unused = [r for r in revisions if name_of(r) not in keep_names]
        for revision in unused[:max(len(unused) - limit, 0)]:
            try:
                await self.client.delete(self.resource, name_of(revision), meta(revision).get("namespace"))
            except ApiError as err:
                if err.code != 404:
                    raise
