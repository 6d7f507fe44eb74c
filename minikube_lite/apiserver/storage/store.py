"""The versioned in-memory store.

A narrow, revisioned interface in the spirit of kine (see :mod:`.backend`): one global
resourceVersion counter, every write returns the new :class:`StoredObject`, and a watch is
"the events after N". The same tables serve as the watch cache of the etcd backend, which
feeds them through :meth:`Store.apply_put` / :meth:`Store.apply_delete` at etcd's revisions.

Objects are kept as immutable orjson bytes plus the few indexed values selectors need
(labels and selectable fields). Callers therefore can never mutate what is stored: every read
decodes a fresh dict. Bytes also make LIST and watch fan-out cheap: a list response or a watch
frame is a concatenation of stored bytes, with no re-encoding.
"""

from __future__ import annotations

import asyncio
import builtins
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sortedcontainers import SortedDict

JSON = dict[str, Any]
ResourceKey = tuple[str, str]  # (group, plural)
ObjectKey = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"

DEFAULT_HISTORY = 1000
DEFAULT_WATCH_BACKLOG = 10_000


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One immutable version of an object."""

    rv: int
    namespace: str
    name: str
    raw: bytes
    labels: Mapping[str, str]
    fields: Mapping[str, str]

    def object(self) -> JSON:
        """A fresh, caller-owned copy of the object."""
        obj: JSON = orjson.loads(self.raw)
        return obj


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change history: what happened to an object at ``rv``."""

    type: str
    rv: int
    obj: StoredObject
    prev: StoredObject | None


class TooOldResourceVersion(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class PreconditionFailed(Exception):
    """The caller's expected resourceVersion is not the stored one."""


class Watcher:
    """A watch on one resource: a bounded backlog of changes for one consumer.

    Writers never wait for a watcher: a change is appended and the consumer woken. A consumer
    that falls ``backlog`` changes behind is closed (as kube-apiserver's cacher closes slow
    watchers); its client re-watches from its last resourceVersion.
    """

    def __init__(self, store: Store, key: ResourceKey, namespace: str | None,
                 predicate: Callable[[StoredObject], bool] | None, backlog: int) -> None:
        self._store = store
        self.key = key
        self.namespace = namespace
        self.predicate = predicate
        self.backlog = backlog
        self.pending: deque[tuple[str, StoredObject]] = deque()
        self.closed = False
        self.overflowed = False
        self._wakeup = asyncio.Event()

    def _matches(self, obj: StoredObject | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj.namespace != self.namespace:
            return False
        return self.predicate is None or self.predicate(obj)

    def offer(self, change: Change, initial: bool = False) -> None:
        """Translate a change for this watcher's filter, as the upstream cacher does.

        An object that starts matching is ADDED, one that stops matching is DELETED.
        """
        if self.closed:
            return
        now_matches = self._matches(change.obj)
        if change.type == ADDED:
            if now_matches:
                self._push(ADDED, change.obj, initial)
        elif change.type == DELETED:
            if now_matches:
                self._push(DELETED, change.obj, initial)
        else:
            was_matching = self._matches(change.prev)
            if now_matches and was_matching:
                self._push(MODIFIED, change.obj, initial)
            elif now_matches:
                self._push(ADDED, change.obj, initial)
            elif was_matching:
                self._push(DELETED, change.obj, initial)

    def _push(self, type_: str, obj: StoredObject, initial: bool) -> None:
        if not initial and len(self.pending) >= self.backlog:
            self.overflowed = True
            self.close()
            return
        self.pending.append((type_, obj))
        self._wakeup.set()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until there is something to read or the watch closed; False on timeout."""
        if self.pending or self.closed:
            return True
        self._wakeup.clear()
        try:
            if timeout is None:
                await self._wakeup.wait()
            else:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def poke(self) -> None:
        """Wake the consumer without an event (a timeout or bookmark timer fired)."""
        self._wakeup.set()

    def drain(self) -> list[tuple[str, StoredObject]]:
        items = list(self.pending)
        self.pending.clear()
        return items

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._store._unregister(self)
            self._wakeup.set()


@dataclass
class _Table:
    objects: SortedDict = field(default_factory=SortedDict)
    history: deque[Change] = field(default_factory=deque)
    compacted_rv: int = 0  # the newest rv dropped from history (0: nothing dropped yet)
    watchers: list[Watcher] = field(default_factory=list)


class Store:
    """All objects of a cluster, with one resourceVersion counter across every type."""

    def __init__(self, history_size: int = DEFAULT_HISTORY, watch_backlog: int = DEFAULT_WATCH_BACKLOG) -> None:
        self.history_size = history_size
        self.watch_backlog = watch_backlog
        self._tables: dict[ResourceKey, _Table] = {}
        self._rv = 0
        # Compacted below this for every type (``compact``, or where an etcd cache's history starts).
        self._floor_rv = 0

    # -- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def _table(self, key: ResourceKey) -> _Table:
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = _Table()
        return table

    def get(self, key: ResourceKey, namespace: str, name: str) -> StoredObject | None:
        table = self._tables.get(key)
        if table is None:
            return None
        found: StoredObject | None = table.objects.get((namespace, name))
        return found

    def count(self, key: ResourceKey) -> int:
        table = self._tables.get(key)
        return len(table.objects) if table else 0

    def iter(self, key: ResourceKey, namespace: str | None = None,
             after: ObjectKey | None = None) -> Iterator[StoredObject]:
        """Objects in (namespace, name) order, optionally only those after ``after``."""
        table = self._tables.get(key)
        if table is None:
            return iter(())
        objects = table.objects
        if namespace is not None:
            low: ObjectKey = (namespace, "")
            high: ObjectKey = (namespace, "\U0010ffff")
            if after is not None and after > low:
                low = after
            keys = objects.irange(low, high, inclusive=(after is None, True))
        elif after is not None:
            keys = objects.irange(minimum=after, inclusive=(False, True))
        else:
            keys = iter(objects.keys())
        return (objects[k] for k in keys)

    def list(self, key: ResourceKey, namespace: str | None = None) -> tuple[builtins.list[StoredObject], int]:
        """Every object of a type (in one namespace), and the revision of the read."""
        return builtins.list(self.iter(key, namespace)), self._rv

    def oldest_watchable(self, key: ResourceKey) -> int:
        """The smallest resourceVersion a watch on ``key`` may still start from."""
        table = self._tables.get(key)
        compacted = table.compacted_rv if table else 0
        return compacted if compacted > self._floor_rv else self._floor_rv

    # -- writes ------------------------------------------------------------------------------

    def next_rv(self) -> int:
        """The resourceVersion the next write will get (for stamping before commit)."""
        return self._rv + 1

    def _freeze(self, rv: int, obj: JSON, fields: Mapping[str, str]) -> StoredObject:
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(rv)
        labels = dict(meta.get("labels") or {})
        return StoredObject(rv, meta.get("namespace") or "", meta["name"], orjson.dumps(obj), labels, dict(fields))

    def create(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str]) -> StoredObject:
        """Store a new object; raises KeyError if the name is taken."""
        table = self._table(key)
        meta = obj["metadata"]
        okey = (meta.get("namespace") or "", meta["name"])
        if okey in table.objects:
            raise KeyError(okey)
        self._rv += 1
        stored = self._freeze(self._rv, obj, fields)
        table.objects[okey] = stored
        self._record(table, Change(ADDED, stored.rv, stored, None))
        return stored

    def update(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str],
               expected_rv: int | None = None) -> StoredObject:
        """Replace an object; raises KeyError if absent, PreconditionFailed on a stale rv."""
        table = self._table(key)
        meta = obj["metadata"]
        okey = (meta.get("namespace") or "", meta["name"])
        prev: StoredObject | None = table.objects.get(okey)
        if prev is None:
            raise KeyError(okey)
        if expected_rv is not None and prev.rv != expected_rv:
            raise PreconditionFailed(okey)
        self._rv += 1
        stored = self._freeze(self._rv, obj, fields)
        table.objects[okey] = stored
        self._record(table, Change(MODIFIED, stored.rv, stored, prev))
        return stored

    def delete(self, key: ResourceKey, namespace: str, name: str,
               expected_rv: int | None = None) -> StoredObject:
        """Remove an object. The DELETED event carries its last state at a new rv."""
        table = self._table(key)
        okey = (namespace, name)
        prev: StoredObject | None = table.objects.get(okey)
        if prev is None:
            raise KeyError(okey)
        if expected_rv is not None and prev.rv != expected_rv:
            raise PreconditionFailed(okey)
        del table.objects[okey]
        self._rv += 1
        obj = prev.object()
        tomb = self._freeze(self._rv, obj, prev.fields)
        self._record(table, Change(DELETED, tomb.rv, tomb, prev))
        return tomb

    def drop_resource(self, key: ResourceKey) -> builtins.list[StoredObject]:
        """Forget every object of a type (a CRD was deleted), emitting DELETED for each."""
        table = self._tables.get(key)
        if table is None:
            return []
        gone = []
        for ns, name in builtins.list(table.objects.keys()):
            gone.append(self.delete(key, ns, name))
        return gone

    def _record(self, table: _Table, change: Change) -> None:
        table.history.append(change)
        if len(table.history) > self.history_size:
            dropped = table.history.popleft()
            table.compacted_rv = dropped.rv
        for watcher in builtins.list(table.watchers):
            watcher.offer(change)

    def compact(self, revision: int) -> None:
        """Forget the changes before ``revision``: a watch from ``revision - 1`` on still works."""
        dropped_up_to = revision - 1
        if dropped_up_to > self._floor_rv:
            self._floor_rv = dropped_up_to
        for table in self._tables.values():
            while table.history and table.history[0].rv <= dropped_up_to:
                table.history.popleft()
            if dropped_up_to > table.compacted_rv:
                table.compacted_rv = dropped_up_to

    # -- applying changes committed elsewhere (the etcd backend's watch cache) --------------

    def apply_put(self, key: ResourceKey, rv: int, obj: JSON, fields: Mapping[str, str]) -> StoredObject:
        """Record a create or update that was committed at ``rv`` by the backing store."""
        table = self._table(key)
        stored = self._freeze(rv, obj, fields)
        okey = (stored.namespace, stored.name)
        prev: StoredObject | None = table.objects.get(okey)
        table.objects[okey] = stored
        if rv > self._rv:
            self._rv = rv
        self._record(table, Change(ADDED if prev is None else MODIFIED, rv, stored, prev))
        return stored

    def apply_delete(self, key: ResourceKey, rv: int, namespace: str, name: str) -> StoredObject | None:
        """Record a delete committed at ``rv``; the DELETED event carries the last known state."""
        if rv > self._rv:
            self._rv = rv
        table = self._tables.get(key)
        prev: StoredObject | None = table.objects.pop((namespace, name), None) if table else None
        if table is None or prev is None:
            return None
        tomb = self._freeze(rv, prev.object(), prev.fields)
        self._record(table, Change(DELETED, rv, tomb, prev))
        return tomb

    def advance(self, rv: int) -> None:
        """Move the revision forward without a change of ours (a write outside our keys)."""
        if rv > self._rv:
            self._rv = rv

    def bind(self, fields_for: Callable[[ResourceKey, JSON], Mapping[str, str]],
             on_remote: Callable[[str, ResourceKey, JSON, JSON | None], None] | None = None) -> None:
        """How to index objects written elsewhere, and whom to tell; nobody else writes here."""

    def start(self) -> None:
        """Nothing to load: a memory store starts empty."""

    def wait_fresh(self, rv: int) -> None:
        """Wait (briefly) until the store has reached ``rv``; in memory nothing is on its way."""

    def close(self) -> None:
        """End every watch (the memory store holds no other resources)."""
        self.close_all_watches()

    # -- watch -------------------------------------------------------------------------------

    def watch(self, key: ResourceKey, namespace: str | None, *,
              predicate: Callable[[StoredObject], bool] | None = None,
              since_rv: int | None = None, initial: bool = False) -> Watcher:
        """Start a watch.

        ``initial=True``: synthetic ADDED for every current match, then live changes.
        ``since_rv=N``: every retained change after N, then live changes; raises
        :class:`TooOldResourceVersion` when changes after N are no longer kept.
        Both happen in one synchronous step, so no change falls between them.
        """
        table = self._table(key)
        watcher = Watcher(self, key, namespace, predicate, self.watch_backlog)
        if initial:
            for stored in self.iter(key, namespace):
                watcher.offer(Change(ADDED, stored.rv, stored, None), initial=True)
        elif since_rv is not None:
            oldest = self.oldest_watchable(key)
            if since_rv < oldest:
                raise TooOldResourceVersion(since_rv, oldest + 1)
            for change in table.history:
                if change.rv > since_rv:
                    watcher.offer(change, initial=True)
        table.watchers.append(watcher)
        return watcher

    def _unregister(self, watcher: Watcher) -> None:
        table = self._tables.get(watcher.key)
        if table is not None and watcher in table.watchers:
            table.watchers.remove(watcher)

    def close_all_watches(self) -> None:
        """End every watch (server shutdown): their streams finish cleanly."""
        for table in self._tables.values():
            for watcher in builtins.list(table.watchers):
                watcher.close()

    def pending_watch_events(self) -> int:
        """Changes written but not yet read by their watchers (for ``Cluster.settle``)."""
        return sum(len(w.pending) for t in self._tables.values() for w in t.watchers)

    def watcher_count(self, key: ResourceKey) -> int:
        table = self._tables.get(key)
        return len(table.watchers) if table else 0
