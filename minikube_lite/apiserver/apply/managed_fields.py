"""``metadata.managedFields``: entries and the bookkeeping of ordinary writes.

Every write records which manager owns which fields, because server-side apply decides
conflicts and pruning from that record, and because clients (kubectl's upgrade from
client-side apply, ``kubectl get -o yaml``) read it. The rules follow apimachinery's
``pkg/util/managedfields/internal`` stack: identities (``managedfields.go``), timestamps
(``managedfieldsupdater.go``), the cap on Update entries (``capmanagers.go``), stripped
metadata (``stripmeta.go``), tracking only from create (``skipnonapplied.go``) and resets
(``fieldmanager.go``). Everything here is pure: dicts in, dicts out. Manager names and the
fieldManager option are in :mod:`.field_manager`; kubectl's client-side apply upgrade in
:mod:`.csa_upgrade`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from minikube_lite.apiserver.apply.compare import Comparison, compare
from minikube_lite.apiserver.apply.fieldpath import FieldPathError, FieldSet, go_json, path_string
from minikube_lite.apiserver.apply.typed import TypedError, dotted, field_path
from minikube_lite.apiserver.schema.nodes import SchemaNode
from minikube_lite.apiserver.schema.shape_memo import ShapeMemo, json_key_without
from minikube_lite.clock import parse_time

JSON = dict[str, Any]

APPLY = "Apply"
UPDATE = "Update"
FIELDS_V1 = "FieldsV1"

BEFORE_FIRST_APPLY = "before-first-apply"
ANCIENT_CHANGES = "ancient-changes"
DEFAULT_MAX_UPDATE_MANAGERS = 10

# kubectl's manager names (kc:pkg/cmd/apply/apply.go)
KUBECTL = "kubectl"
KUBECTL_CLIENT_SIDE_APPLY = "kubectl-client-side-apply"
KUBECTL_LAST_APPLIED = "kubectl-last-applied"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

# Never tracked (stripmeta.go). "metadata" itself is removed path-exactly: its children stay.
_STRIP_EXACT = FieldSet.of(field_path("metadata"))
_STRIP_RECURSIVE = FieldSet.of(
    field_path("apiVersion"), field_path("kind"),
    field_path("metadata", "name"), field_path("metadata", "namespace"),
    field_path("metadata", "creationTimestamp"), field_path("metadata", "selfLink"),
    field_path("metadata", "uid"), field_path("metadata", "clusterName"),
    field_path("metadata", "generation"), field_path("metadata", "managedFields"),
    field_path("metadata", "resourceVersion"),
)

# Reset fields of the /status strategies that add more than "spec" (§1.7).
_STATUS_RESET_EXTRA: dict[str, tuple[str, ...]] = {
    "Deployment": ("metadata.labels",),
    "Pod": ("metadata.deletionTimestamp", "metadata.ownerReferences"),
}

# Non-pointer struct fields of common kinds: Go always emits them, so a create never sees
# them as "added" and their FieldsV1 node carries no "." (§2.2).
_GO_VALUE_STRUCTS = (
    "spec", "status", "spec.template", "spec.template.metadata", "spec.template.spec",
    "spec.strategy", "spec.updateStrategy", "spec.jobTemplate", "spec.jobTemplate.spec",
    "spec.jobTemplate.spec.template", "spec.jobTemplate.spec.template.spec",
    "spec.jobTemplate.spec.template.metadata", "spec.resources",
)

_GO_VALUE_STRUCT_PATHS = tuple(tuple(p.split(".")) for p in _GO_VALUE_STRUCTS)


@dataclass
class Entry:
    """One managedFields entry with its field set decoded."""

    manager: str
    operation: str
    api_version: str
    fields: FieldSet = field(default_factory=FieldSet)
    subresource: str = ""
    time: str | None = None
    # (fields, their FieldsV1) when a decoded entry's stored FieldsV1 is exactly what encoding
    # ``fields`` gives: an entry a write leaves alone is then not encoded again.
    encoded: tuple[FieldSet, JSON] | None = field(default=None, compare=False, repr=False)

    def identity(self) -> str:
        """Compact JSON of the identifying keys; Apply entries drop apiVersion (§1.2)."""
        return identity(self.manager, self.operation, self.api_version, self.subresource)

    def printed(self) -> str:
        """How conflict messages name this manager (``conflict.go printManager``)."""
        text = go_json(self.manager)
        if self.subresource:
            text += f" with subresource {go_json(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def to_json(self) -> JSON:
        out: JSON = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            out["apiVersion"] = self.api_version
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = FIELDS_V1
        enc = self.encoded
        out["fieldsV1"] = enc[1] if enc is not None and enc[0] is self.fields else self.fields.to_fieldsv1()
        if self.subresource:
            out["subresource"] = self.subresource
        return out

    def copy(self) -> Entry:
        return Entry(self.manager, self.operation, self.api_version, self.fields.copy(),
                     self.subresource, self.time)


@functools.lru_cache(maxsize=4096)
def identity(manager: str, operation: str, api_version: str, subresource: str = "") -> str:
    parts = []
    if manager:
        parts.append('"manager":' + go_json(manager))
    if operation:
        parts.append('"operation":' + go_json(operation))
    if api_version and operation != APPLY:
        parts.append('"apiVersion":' + go_json(api_version))
    if subresource:
        parts.append('"subresource":' + go_json(subresource))
    return "{" + ",".join(parts) + "}"


# --- decoding, encoding, ordering ---------------------------------------------------------------

def decode_entry(raw: Any) -> Entry:
    """One entry; raises ValueError when upstream's DecodeManagedFields would refuse it.

    The entry's field set may be shared with other decodes of the same FieldsV1 (every write
    decodes the stored entries again): treat it as read-only. Every FieldSet operation
    returns a new set, and nothing here changes one in place.
    """
    if not isinstance(raw, dict):
        raise ValueError("managedFields entry must be an object")
    op = raw.get("operation")
    if op not in (APPLY, UPDATE):
        raise ValueError("operation must be `Apply` or `Update`")
    api_version = raw.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        raise ValueError("apiVersion must not be empty")
    if raw.get("fieldsType") != FIELDS_V1:
        raise ValueError(f"error decoding set: unsupported fields type {raw.get('fieldsType')}")
    if "fieldsV1" not in raw or raw["fieldsV1"] is None:
        raise ValueError("fieldsV1 is required")
    try:
        fs, canonical = _decode_fieldsv1(raw["fieldsV1"])
    except FieldPathError as e:
        raise ValueError(str(e)) from e
    manager = raw.get("manager") or ""
    sub = raw.get("subresource") or ""
    t = raw.get("time")
    if not isinstance(manager, str) or not isinstance(sub, str):
        raise ValueError("manager and subresource must be strings")
    if t is not None and (not isinstance(t, str) or parse_time(t) is None):
        raise ValueError("time must be an RFC 3339 timestamp")
    encoded = (fs, raw["fieldsV1"]) if canonical and isinstance(raw["fieldsV1"], dict) else None
    return Entry(manager, op, api_version, fs, sub, t, encoded)


# Compact JSON of a FieldsV1 object -> (its set, canonical?). Exact: equal bytes are the same
# document, key order included. Bounded in count and in document size.
_DECODED: dict[bytes, tuple[FieldSet, bool]] = {}
_DECODED_MAX = 1024
_DECODED_MAX_BYTES = 8192


def _decode_fieldsv1(doc: Any) -> tuple[FieldSet, bool]:
    if not isinstance(doc, dict):
        return FieldSet.from_fieldsv1_canonical(doc)
    try:
        text = orjson.dumps(doc)
    except TypeError:  # not JSON (a non-string key): let the parser say what is wrong
        return FieldSet.from_fieldsv1_canonical(doc)
    hit = _DECODED.get(text)
    if hit is None:
        hit = FieldSet.from_fieldsv1_canonical(doc)
        if len(text) <= _DECODED_MAX_BYTES:
            if len(_DECODED) >= _DECODED_MAX:
                _DECODED.clear()
            _DECODED[text] = hit
    return hit


def decode_managed_fields(raw: Any) -> list[Entry] | None:
    """The entries of a managedFields list, or None if any entry is invalid.

    Duplicate identities collapse and the last one wins (``TestRenamingAppliedFieldManagers``).
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        return None
    by_id: dict[str, Entry] = {}
    try:
        for item in raw:
            e = decode_entry(item)
            by_id.pop(e.identity(), None)
            by_id[e.identity()] = e
    except ValueError:
        return None
    return list(by_id.values())


def _time_key(t: str | None) -> int:
    if not t:
        return 0
    v = parse_time(t)
    return int(v) if v is not None else 0


def sort_entries(entries: Iterable[Entry]) -> list[Entry]:
    """Apply before Update, then time (seconds, missing = 0), manager, apiVersion, subresource."""
    return sorted(entries, key=lambda e: (e.operation, _time_key(e.time), e.manager,
                                          e.api_version, e.subresource))


def encode_managed_fields(entries: Iterable[Entry]) -> list[JSON]:
    """Sorted JSON entries with empty ones dropped."""
    return [e.to_json() for e in sort_entries(entries) if not e.fields.empty()]


def is_reset(raw: Any) -> bool:
    """``[]`` or ``[{}]`` asks for managedFields to be cleared (``isResetManagedFields``)."""
    if not isinstance(raw, list):
        return False
    return len(raw) == 0 or (len(raw) == 1 and raw[0] == {})


def live_entries(obj: JSON | None) -> list[Entry]:
    """The stored object's entries; undecodable ones count as none (``emptyManagedFieldsOnErr``)."""
    if obj is None:
        return []
    raw = (obj.get("metadata") or {}).get("managedFields")
    return decode_managed_fields(raw) or []


# --- reset fields and filtering ---------------------------------------------------------------

def default_reset_fields(kind: str, subresource: str | None, has_status: bool) -> FieldSet:
    """Fields the strategy resets, so nobody owns them through this endpoint (§1.7)."""
    if subresource == "status":
        return FieldSet.of(*(dotted(p) for p in ("spec",) + _STATUS_RESET_EXTRA.get(kind, ())))
    if subresource:
        return FieldSet()
    return FieldSet.of(dotted("status")) if has_status else FieldSet()


def strip_meta(fs: FieldSet) -> FieldSet:
    return fs.recursive_difference(_STRIP_RECURSIVE).difference(_STRIP_EXACT)


def filter_comparison(c: Comparison, reset: FieldSet | None) -> Comparison:
    if reset is None or reset.empty():
        return c
    return Comparison(c.added.recursive_difference(reset), c.modified.recursive_difference(reset),
                      c.removed.recursive_difference(reset))


def without_managed_fields(obj: JSON) -> JSON:
    """A shallow copy of ``obj`` whose metadata has no managedFields."""
    out = dict(obj)
    md_in = out.get("metadata")
    md = dict(md_in) if isinstance(md_in, dict) else {}
    md.pop("managedFields", None)
    out["metadata"] = md
    return out


def strip_managed_fields(obj: JSON) -> JSON:
    """For output that hides managedFields (``kubectl get -o yaml`` does, unless asked)."""
    if "managedFields" not in (obj.get("metadata") or {}):
        return obj
    return without_managed_fields(obj)


def go_zero_object(new: JSON) -> JSON:
    """The object a create compares against: Go's zero value keeps non-pointer structs as ``{}``."""
    return _with_value_structs({"metadata": {}}, new)


def _with_value_structs(obj: JSON, like: JSON) -> JSON:
    """``obj`` (copied where touched) with ``{}`` at the value-struct paths ``like`` has and it lacks.

    Go never omits a non-pointer struct, so upstream never sees one appear or vanish; filling
    them in before a compare keeps "." markers off them, as upstream's FieldsV1 has.
    """
    out = dict(obj)
    for names in _GO_VALUE_STRUCT_PATHS:
        src: Any = like
        for n in names:
            src = src.get(n) if isinstance(src, dict) else None
        if not isinstance(src, dict):
            continue
        parent: Any = out
        for n in names[:-1]:
            child = parent.get(n)
            if not isinstance(child, dict):
                break
            parent[n] = child = dict(child)
            parent = child
        else:
            if names[-1] not in parent:
                parent[names[-1]] = {}
    return out


# --- the update operation (§4.5) ---------------------------------------------------------------

def record_update(entries: list[Entry], live: Any, new: Any, *, manager: str, api_version: str,
                  subresource: str, now: str, schema: SchemaNode | None, reset: FieldSet | None,
                  operation: str = UPDATE) -> list[Entry]:
    """Give the fields ``live -> new`` changed to ``manager``, taking them from everyone else.

    The manager's entry is unioned with what it gains and timestamped only if it gains
    something; a write that only removes fields leaves its entry and time untouched.

    Reset fields and stripped metadata are left out of the compare itself rather than
    subtracted afterwards: nobody may own them, and every entry is stripped of them anyway,
    so taking them out of "changed" too cannot change any entry.
    """
    cmp = compare(live, new, schema, skip=_skip_set(reset))
    gained = cmp.added if cmp.modified.empty() else cmp.added.union(cmp.modified)
    gained.members.discard(_METADATA)  # _STRIP_EXACT: "metadata" itself, not its children
    out = []
    if entries:
        changed = cmp.changed()
        for e in entries:
            if e.fields.overlaps(changed) or _needs_strip(e.fields):
                e2 = e.copy()
                e2.fields = strip_meta(e2.fields.difference(changed))
            else:
                # Untouched by this write: the same (read-only) set, so its encoding is reused.
                e2 = Entry(e.manager, e.operation, e.api_version, e.fields, e.subresource, e.time, e.encoded)
            out.append(e2)
    if not gained.empty():
        ident = identity(manager, operation, api_version, subresource)
        mine = next((e for e in out if e.identity() == ident), None)
        if mine is None:
            mine = Entry(manager, operation, api_version, gained, subresource)
            out.append(mine)
        else:
            mine.fields = mine.fields.union(gained)
        mine.api_version = api_version
        mine.time = now
    out = [e for e in out if not e.fields.empty()]
    if operation == UPDATE:
        out = cap_update_managers(out)
    return sort_entries(out) if len(out) > 1 else out


_METADATA = ("f", "metadata")


def _needs_strip(fs: FieldSet) -> bool:
    """Whether :func:`strip_meta` would take anything out of ``fs``."""
    return _METADATA in fs.members or fs.touches_subtrees(_STRIP_RECURSIVE)
# reset-set identity -> (reset set, reset ∪ stripped metadata); the engine builds a reset set per
# write, so the union is also memoised by content for the few sets the strategies use.
_SKIP_BY_KEY: dict[str, FieldSet] = {}


def _skip_set(reset: FieldSet | None) -> FieldSet:
    """What a managedFields compare leaves out: the endpoint's reset fields and stripped metadata."""
    if reset is None or reset.empty():
        return _STRIP_RECURSIVE
    key = repr(reset.to_fieldsv1())
    hit = _SKIP_BY_KEY.get(key)
    if hit is None:
        if len(_SKIP_BY_KEY) > 256:
            _SKIP_BY_KEY.clear()
        hit = _SKIP_BY_KEY[key] = reset.union(_STRIP_RECURSIVE)
    return hit


def cap_update_managers(entries: list[Entry], max_updates: int = DEFAULT_MAX_UPDATE_MANAGERS) -> list[Entry]:
    """Fold the oldest Update entries into ``ancient-changes`` buckets while above the cap (§1.6)."""
    updates = [e for e in entries if e.operation == UPDATE]
    if len(updates) <= max_updates:
        return entries
    others = [e for e in entries if e.operation != UPDATE]
    ordered = sorted(updates, key=lambda e: (_time_key(e.time), e.identity()))
    kept: dict[str, Entry] = {e.identity(): e for e in ordered}
    first_by_version: dict[str, Entry] = {}
    count = len(ordered)
    for e in ordered:
        if count <= max_updates:
            break
        if e.api_version not in first_by_version:
            first_by_version[e.api_version] = e
            continue
        bucket_id = identity(ANCIENT_CHANGES, UPDATE, e.api_version)
        bucket = kept.get(bucket_id)
        if bucket is None:
            first = first_by_version[e.api_version]
            bucket = Entry(ANCIENT_CHANGES, UPDATE, e.api_version, first.fields.copy(), "", first.time)
            if first.identity() != bucket_id:
                kept.pop(first.identity(), None)
                count -= 1
            kept[bucket_id] = bucket
            count += 1
        bucket.fields = bucket.fields.union(e.fields)
        bucket.time = e.time
        kept.pop(e.identity(), None)
        count -= 1
    return others + list(kept.values())


def update_managed_fields(old: JSON | None, new: JSON, *, manager: str, operation: str = UPDATE,
                          api_version: str, subresource: str | None = None, now: str,
                          schema: SchemaNode | None, reset_fields: FieldSet | None = None,
                          zero: JSON | None = None) -> JSON:
    """``new`` with the managedFields an ordinary write (create, update, non-apply patch) leaves.

    ``old`` is the stored object (None for a create) and ``new`` the object about to be stored,
    after the patch and defaulting. Managed fields sent in ``new`` replace the stored ones when
    they are valid and non-empty (main resource only), ``[]``/``[{}]`` clears them, and an
    existing object without managedFields is not tracked until the next apply.
    """
    sub = subresource or ""
    if not isinstance(new.get("metadata"), dict):
        return new  # validation rejects this object; nothing to track
    raw_new = new["metadata"].get("managedFields")
    result = without_managed_fields(new)
    if sub:
        entries = live_entries(old)
    elif is_reset(raw_new):
        return result
    else:
        decoded = decode_managed_fields(raw_new)
        entries = decoded if decoded else live_entries(old)
    if not entries and old is not None:
        return result
    if old is not None:
        live = _with_value_structs(without_managed_fields(old), result)
        compared = _with_value_structs(result, live)
    else:
        live = zero if zero is not None else go_zero_object(result)
        compared = result
    try:
        out = record_update(entries, live, compared, manager=manager, api_version=api_version,
                            subresource=sub, now=now, schema=schema, reset=reset_fields, operation=operation)
    except TypedError:
        # UpdateNoErrors: an object the schema cannot walk (validation will refuse it) must not
        # fail the write here, and must not keep garbage managedFields either.
        return result
    encoded = encode_managed_fields(out)
    if encoded:
        result["metadata"]["managedFields"] = encoded
    return result


# --- creates of objects shaped alike -----------------------------------------------------------

# Stripped fields whose scalar values cannot change what a create records: the compare skips
# them, and walks a skipped position only when it is a dict or a list (to raise TypedError).
_IDENTITY_ROOT = tuple(sorted(pe[1] for pe in _STRIP_RECURSIVE.members if pe[0] == "f"))
_IDENTITY_META = tuple(sorted(pe[1] for pe in _STRIP_RECURSIVE.child(("f", "metadata")).members if pe[0] == "f"))
_NO_ENTRIES = b""
_CREATE_MEMO: ShapeMemo[bytes] = ShapeMemo()


def _shape_key(new: JSON) -> bytes | None:
    """The JSON of ``new`` without the identity fields a create's field set cannot depend on."""
    md = new.get("metadata")
    if not isinstance(md, dict) or md.get("managedFields") is not None:
        return None
    return json_key_without(new, _IDENTITY_ROOT, _IDENTITY_META)


def create_managed_fields(new: JSON, *, manager: str, api_version: str, subresource: str | None, now: str,
                          schema_key: Any, schema: Callable[[], tuple[SchemaNode | None, FieldSet | None]]) -> JSON:
    """:func:`update_managed_fields` for a create (``old`` None, operation Update), memoised.

    Objects that differ only in name, uid and timestamps (a ReplicaSet's pods) give their
    manager the same fields, so the compare and the FieldsV1 encoding are done once per shape.
    ``schema()`` gives the type's schema and reset fields (only asked on a miss); ``schema_key``
    must identify both (e.g. the type and subresource). On a hit only the entry's time differs
    from what the full computation gives.
    """
    shape = _shape_key(new)
    key = None if shape is None else (schema_key, manager, api_version, subresource or "", shape)
    cached = _CREATE_MEMO.get(key) if key is not None else None
    if cached is not None:
        result = without_managed_fields(new)
        if cached is not _NO_ENTRIES:
            entries = orjson.loads(cached)
            entries[0]["time"] = now
            result["metadata"]["managedFields"] = entries
        return result
    node, reset_fields = schema()
    result = update_managed_fields(None, new, manager=manager, api_version=api_version, subresource=subresource,
                                   now=now, schema=node, reset_fields=reset_fields)
    if key is not None:
        entries = result["metadata"].get("managedFields")
        if entries is None:
            _CREATE_MEMO.put(key, _NO_ENTRIES)
        elif len(entries) == 1 and entries[0].get("time") == now:
            _CREATE_MEMO.put(key, orjson.dumps(entries))
    return result


# --- storage helpers -----------------------------------------------------------------------------

def _without_times(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    md = obj.get("metadata")
    if not isinstance(md, dict) or not isinstance(md.get("managedFields"), list):
        return obj
    out = dict(obj)
    out["metadata"] = dict(md)
    out["metadata"]["managedFields"] = [
        {k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e for e in md["managedFields"]
    ]
    return out


def equal_ignoring_managed_fields_timestamps(stored: JSON, new: JSON) -> bool:
    """True when ``new`` differs from ``stored`` only in managedFields times: then store nothing.

    ``IgnoreManagedFieldsTimestampsTransformer``: no resourceVersion bump and no watch event.
    """
    return bool(_without_times(stored) == _without_times(new))


def restore_timestamps(stored: JSON, new: JSON) -> JSON:
    """``new`` with ``stored``'s managedFields (same entries, old times), when they only differ in times."""
    if not equal_ignoring_managed_fields_timestamps(stored, new):
        return new
    out = dict(new)
    out["metadata"] = dict(new.get("metadata") or {})
    if "managedFields" in (stored.get("metadata") or {}):
        out["metadata"]["managedFields"] = copy.deepcopy(stored["metadata"]["managedFields"])
    return out


def owners_of(obj: JSON, path: str) -> list[str]:
    """Managers owning a dotted field path, e.g. ``"spec.replicas"`` (handy in tests and demos)."""
    p = dotted(path)
    return [e.manager for e in live_entries(obj) if e.fields.has(p)]


__all__ = [
    "APPLY", "UPDATE", "ANCIENT_CHANGES", "BEFORE_FIRST_APPLY", "Entry", "KUBECTL",
    "KUBECTL_CLIENT_SIDE_APPLY", "KUBECTL_LAST_APPLIED", "LAST_APPLIED_ANNOTATION",
    "cap_update_managers", "decode_managed_fields", "default_reset_fields", "encode_managed_fields",
    "equal_ignoring_managed_fields_timestamps", "identity", "is_reset",
    "live_entries", "owners_of", "path_string",
    "record_update", "restore_timestamps", "sort_entries", "strip_managed_fields", "strip_meta",
    "update_managed_fields",
]
