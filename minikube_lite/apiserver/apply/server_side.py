"""Server-side apply: merge an applied configuration into the live object, with ownership.

The PATCH handler calls :func:`apply` for ``application/apply-patch+yaml`` bodies. It
follows ``smd:merge/update.go Updater.Apply`` (merge, replace the manager's set, prune what it
stopped applying, move ownership, detect conflicts) wrapped in apimachinery's field-manager
stack: the body checks of ``versioncheck.go``/``structuredmerge.go``, the ``before-first-apply``
entry of ``skipnonapplied.go``, Apply timestamps, and the two hooks that let kubectl move from
client-side to server-side apply (``lastappliedmanager.go``, ``lastappliedupdater.go``).
Messages are upstream's, verbatim, because kubectl prints them to users.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from minikube_lite.apiserver import errors
from minikube_lite.apiserver.apply.compare import compare
from minikube_lite.apiserver.apply.field_manager import validate_write_options
from minikube_lite.apiserver.apply.fieldpath import FieldSet, Path, go_json, path_string
from minikube_lite.apiserver.apply.managed_fields import (
    APPLY,
    BEFORE_FIRST_APPLY,
    KUBECTL,
    LAST_APPLIED_ANNOTATION,
    UPDATE,
    Entry,
    encode_managed_fields,
    filter_comparison,
    identity,
    live_entries,
    record_update,
    sort_entries,
    strip_meta,
    without_managed_fields,
)
from minikube_lite.apiserver.apply.typed import (
    TypedError,
    deep_equal,
    ensure_named_fields_are_members,
    merge,
    remove_items,
    to_fieldset,
)
from minikube_lite.apiserver.schema.nodes import SchemaNode

JSON = dict[str, Any]

MANAGED_FIELDS_MUST_BE_NIL = "metadata.managedFields must be nil"
INVALID_OBJECT_TYPE = "invalid object type: {gvk}"
TYPED_PATCH_FAILED = "failed to create typed patch object ({ns}/{name}; {gvk}): {detail}"
TYPED_LIVE_FAILED = "failed to create typed live object ({ns}/{name}; {gvk}): {detail}"
UID_MISMATCH_ON_CREATE = ("uid mismatch: the provided object specified uid {uid}, "
                          "and no existing object was found")
CONFLICT_CAUSE = "FieldManagerConflict"
# The total size limit of annotations (apimachinery TotalAnnotationSizeLimitB).
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

_NEVER_PRUNE = {(("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),),
                (("f", "metadata"), ("f", "name")), (("f", "metadata"), ("f", "namespace"))}


@dataclass
class ApplyResult:
    """What the handler needs: the object to store, and whether apply changed anything."""

    object: JSON
    changed: bool
    created: bool


class _Conflicts(Exception):
    """Internal: conflicts as (entry, path) before they become a 409 Status."""

    def __init__(self, conflicts: list[tuple[Entry, Path]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


def gvk_string(api_version: Any, kind: Any) -> str:
    """``schema.GroupVersionKind.String()``: ``apps/v1, Kind=Deployment``, ``/v1, Kind=Pod``."""
    av = api_version if isinstance(api_version, str) else ""
    group, _, version = av.rpartition("/")
    return f"{group}/{version}, Kind={kind if isinstance(kind, str) else ''}"


def conflict_error(conflicts: list[tuple[Entry, Path]]) -> errors.ApiError:
    """409 with ``getConflictMessage``'s text and one FieldManagerConflict cause per path."""
    conflicts = sorted(conflicts, key=lambda c: c[0].identity())  # stable: keeps set order per manager
    if len(conflicts) == 1:
        e, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {e.printed()}: {path_string(p)}"
    else:
        lines: list[str] = []
        last = None
        for e, p in conflicts:
            if e.identity() != last:
                lines.append(f"conflicts with {e.printed()}:")
                last = e.identity()
            lines.append(f"- {path_string(p)}")
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    causes = [{"reason": CONFLICT_CAUSE, "message": f"conflict with {e.printed()}", "field": path_string(p)}
              for e, p in conflicts]
    return errors.ApiError(409, "Conflict", message, {"causes": causes})


def check_apply_body(config: Any, *, api_version: str, kind: str | None) -> None:
    """The body checks that come before any merge (§5.3 rows 1-2), as 400s."""
    if not isinstance(config, dict):
        raise errors.bad_request("error decoding YAML: body must be a YAML or JSON object")
    if config.get("apiVersion") != api_version or (kind is not None and config.get("kind") != kind):
        raise errors.bad_request(INVALID_OBJECT_TYPE.format(gvk=gvk_string(config.get("apiVersion"),
                                                                           config.get("kind"))))
    md = config.get("metadata")
    if md is not None and not isinstance(md, dict):
        raise errors.bad_request("error decoding YAML: metadata must be an object")
    if isinstance(md, dict) and md.get("managedFields") is not None:
        raise errors.bad_request(MANAGED_FIELDS_MUST_BE_NIL)


def _key_text(k: Any) -> str:
    if isinstance(k, str):
        return k
    if isinstance(k, bool) or k is None:
        return json.dumps(k)
    return go_json(k) if isinstance(k, int | float) else str(k)


def json_keys(value: Any) -> Any:
    """YAML may key maps by numbers or booleans; YAML-to-JSON conversion makes every key a string."""
    if isinstance(value, dict):
        return {_key_text(k): json_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_keys(v) for v in value]
    return value


def _typed_error(fmt: str, config: JSON, err: TypedError) -> errors.ApiError:
    md = config.get("metadata") or {}
    return errors.bad_request(fmt.format(ns=md.get("namespace") or "", name=md.get("name") or "",
                                         gvk=gvk_string(config.get("apiVersion"), config.get("kind")),
                                         detail=str(err)))


def apply(live: JSON | None, config: JSON, *, manager: str, api_version: str, force: bool,
          schema: SchemaNode | None, now: str, subresource: str | None = None,
          reset_fields: FieldSet | None = None, kind: str | None = None, group: str = "",
          resource: str = "") -> JSON:
    """The object after applying ``config`` as ``manager``; see :func:`apply_detailed`."""
    return apply_detailed(live, config, manager=manager, api_version=api_version, force=force, schema=schema,
                          now=now, subresource=subresource, reset_fields=reset_fields, kind=kind,
                          group=group, resource=resource).object


def apply_detailed(live: JSON | None, config: JSON, *, manager: str, api_version: str, force: bool,
                   schema: SchemaNode | None, now: str, subresource: str | None = None,
                   reset_fields: FieldSet | None = None, kind: str | None = None, group: str = "",
                   resource: str = "") -> ApplyResult:
    """Apply ``config`` to ``live`` (None: create-if-absent) and return the object to store.

    Raises ``ApiError``: 422 without a manager, 400 for a body of the wrong type, with
    managedFields, or with fields the schema does not declare, 409 for a uid on create and
    for conflicts when ``force`` is false. ``reset_fields`` are the fields the endpoint's
    strategy resets (see ``managed_fields.default_reset_fields``); ``group``/``resource``
    name the resource in the uid-mismatch message. Defaulting, validation and the strategy
    run afterwards in the handler, as upstream.
    """
    validate_write_options(manager, is_apply=True)
    config = json_keys(config)
    check_apply_body(config, api_version=api_version, kind=kind or (live or {}).get("kind"))
    sub = subresource or ""
    md = config.get("metadata") or {}
    if live is None and md.get("uid"):
        raise errors.conflict(group, resource, md.get("name") or "",
                              UID_MISMATCH_ON_CREATE.format(uid=md["uid"]))
    try:
        to_fieldset(config, schema, strict=True)
    except TypedError as e:
        raise _typed_error(TYPED_PATCH_FAILED, config, e) from e

    live_obj: JSON = without_managed_fields(live) if live is not None else {}
    entries = live_entries(live)
    if live is not None and not entries:
        entries = record_update([], {}, live_obj, manager=BEFORE_FIRST_APPLY, api_version=api_version,
                                subresource=sub, now=now, schema=schema, reset=reset_fields)
    run = _Run(live_obj, config, entries, manager, api_version, sub, now, schema, reset_fields)
    try:
        try:
            merged, out_entries = run.apply(force)
        except _Conflicts as c:
            if manager != KUBECTL:
                raise
            allowed = _allowed_from_last_applied(live_obj, api_version, schema)
            if allowed is None:
                raise
            remaining = [(e, p) for e, p in c.conflicts if not allowed.has(p)]
            if remaining:
                raise _Conflicts(remaining) from None
            merged, out_entries = run.apply(True)
    except _Conflicts as c:
        raise conflict_error(c.conflicts) from None
    except TypedError as e:
        raise _typed_error(TYPED_PATCH_FAILED, config, e) from e

    changed = not deep_equal(merged, live_obj) or live is None
    result = copy.deepcopy(merged) if changed else copy.deepcopy(live_obj)
    if manager == KUBECTL:
        result = _refresh_last_applied(result, config)
    result = dict(result)
    result["metadata"] = dict(result.get("metadata") or {})
    encoded = encode_managed_fields(out_entries)
    if encoded:
        result["metadata"]["managedFields"] = encoded
    else:
        result["metadata"].pop("managedFields", None)
    return ApplyResult(result, changed, live is None)


class _Run:
    """One apply computation, repeatable with force for kubectl's conflict forgiveness."""

    def __init__(self, live: JSON, config: JSON, entries: list[Entry], manager: str, api_version: str,
                 sub: str, now: str, schema: SchemaNode | None, reset: FieldSet | None) -> None:
        self.live, self.config, self.entries = live, config, entries
        self.manager, self.api_version, self.sub, self.now = manager, api_version, sub, now
        self.schema, self.reset = schema, reset

    def _filter(self, fs: FieldSet) -> FieldSet:
        return fs.recursive_difference(self.reset) if self.reset is not None else fs

    def apply(self, force: bool) -> tuple[JSON, list[Entry]]:
        config = without_managed_fields(self.config)
        merged = merge(self.live, config, self.schema)
        new_set = self._filter(to_fieldset(config, self.schema, strict=True))
        me = identity(self.manager, APPLY, "", self.sub)
        entries = [e.copy() for e in self.entries]
        previous = next((e for e in entries if e.identity() == me), None)
        last = previous.fields if previous is not None else FieldSet()
        mine = Entry(self.manager, APPLY, self.api_version, new_set, self.sub,
                     previous.time if previous is not None else None)
        others = [e for e in entries if e.identity() != me]
        if not last.empty():
            merged = self._prune(merged, last, [mine] + others)
        cmp = filter_comparison(compare(self.live, merged, self.schema), self.reset)
        touched = cmp.added.union(cmp.modified)
        conflicts: list[tuple[Entry, Path]] = []
        for e in others:
            c = e.fields.intersection(touched)
            conflicts.extend((e, p) for p in c.paths())
        if conflicts and not force:
            raise _Conflicts(conflicts)
        changed = cmp.changed()
        for e in others:
            e.fields = strip_meta(e.fields.difference(changed))
        mine.fields = strip_meta(mine.fields)
        if not deep_equal(merged, self.live):
            mine.time = self.now
        out = [e for e in [mine] + others if not e.fields.empty()]
        return merged, sort_entries(out)

    def _prune(self, merged: JSON, last: FieldSet, managers: list[Entry]) -> JSON:
        """Remove what this manager applied last time, no longer applies, and nobody else owns."""
        owned = FieldSet()
        for e in managers:
            owned = owned.union(e.fields)
        e_owned = ensure_named_fields_are_members(owned, merged, self.schema)
        e_last = ensure_named_fields_are_members(last, merged, self.schema)
        present = to_fieldset(merged, self.schema)
        remove = FieldSet()
        for p in last.intersection(present).paths():
            if p in _NEVER_PRUNE:
                continue
            for i in range(len(p), 0, -1):
                q = p[:i]
                if not e_owned.has(q) and any(e_last.has(q[:j]) for j in range(1, i + 1)):
                    remove.insert(p)
                    break
        if remove.empty():
            return merged
        return remove_items(merged, remove, self.schema)


def _allowed_from_last_applied(live: JSON, api_version: str, schema: SchemaNode | None) -> FieldSet | None:
    """Fields whose client-side last-applied value still equals live (``lastappliedmanager.go``)."""
    ann = (live.get("metadata") or {}).get("annotations") or {}
    text = ann.get(LAST_APPLIED_ANNOTATION) if isinstance(ann, dict) else None
    if not isinstance(text, str) or not text:
        return None
    try:
        last_applied = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last_applied, dict) or last_applied.get("apiVersion") != api_version:
        return None
    try:
        fs = to_fieldset(last_applied, schema)
        cmp = compare(last_applied, live, schema)
    except TypedError:
        return None
    return fs.difference(cmp.added).difference(cmp.modified).difference(cmp.removed)


def _go_encoder_json(value: Any) -> str:
    """Go ``json.Encoder`` output: sorted keys, compact, HTML-escaped, trailing newline."""
    return go_json(value) + "\n"


def _refresh_last_applied(obj: JSON, config: JSON) -> JSON:
    """Keep a client-side last-applied annotation in step with a kubectl server-side apply."""
    md = obj.get("metadata") or {}
    ann = md.get("annotations") or {}
    if not isinstance(ann, dict) or not ann.get(LAST_APPLIED_ANNOTATION):
        return obj
    body = json.loads(json.dumps(config))
    body_ann = (body.get("metadata") or {}).get("annotations")
    if isinstance(body_ann, dict):
        body_ann.pop(LAST_APPLIED_ANNOTATION, None)  # an emptied map stays, as buildLastApplied leaves it
    new_ann = dict(ann)
    new_ann[LAST_APPLIED_ANNOTATION] = _go_encoder_json(body)
    if sum(len(str(k).encode()) + len(str(v).encode()) for k, v in new_ann.items()) > TOTAL_ANNOTATION_SIZE_LIMIT:
        new_ann.pop(LAST_APPLIED_ANNOTATION)
    out = dict(obj)
    out["metadata"] = dict(md)
    out["metadata"]["annotations"] = new_ann
    return out


__all__ = [
    "ApplyResult", "CONFLICT_CAUSE", "MANAGED_FIELDS_MUST_BE_NIL", "apply", "apply_detailed",
    "check_apply_body", "conflict_error", "gvk_string", "UPDATE",
]
