"""An informer's cache with a controller's own write results laid over it.

Why: the PV controller reads claims and volumes from its informers, as upstream's reads its
listers, instead of one live GET per sync (over HTTP, at 10,000 claims, that GET queue was what
kept binding from keeping up). But an informer lags the controller's own writes: right after
``bind`` wrote a PV, the cache still shows it unbound, and the next sync would act on the old
object (a wasted write that conflicts, or a second claim picking the same PV). Upstream keeps
its own copy of every claim and volume and, after each successful write, stores the returned
object there with ``storeObjectUpdate``, which only accepts a newer resourceVersion
(pkg/controller/volume/persistentvolume/pv_controller_base.go).

This module is that copy, kept small: only the objects the controller wrote that its informer
has not delivered yet. An entry goes as soon as the informer shows the same or a newer version
of the object, or its deletion, so every other read is the informer's, shared with every other
controller of the process.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable

from ...client.base import JSON
from ...client.informer import Informer, object_key

IndexFunc = Callable[[JSON], "list[str] | tuple[str, ...]"]

__all__ = ["OwnWrites", "newer_or_same"]


def _version(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _is_int(obj: JSON) -> bool:
    return _version(obj).isdigit()


def _older(a: JSON, b: JSON) -> bool:
    """``a`` is a strictly older version than ``b`` (False when either is not an integer)."""
    return _is_int(a) and _is_int(b) and int(_version(a)) < int(_version(b))


def newer_or_same(seen: JSON, own: JSON) -> bool:
    """Whether ``seen`` (the informer's copy) has caught up with ``own`` (a write result).

    resourceVersions compare as integers, as ``storeObjectUpdate`` parses them. One that is not
    an integer has no order: then only the very same version counts as caught up here (the
    informer handler drops the entry on any later event, see :meth:`OwnWrites.observe`).
    """
    if _version(seen) == _version(own):
        return True
    return _is_int(seen) and _is_int(own) and int(_version(seen)) >= int(_version(own))


class OwnWrites:
    """``informer``'s objects, each replaced by this controller's newer write result if it has one.

    ``record`` the object a successful write returned; call ``observe`` from the informer's
    handler (it drops entries the informer has caught up with). Reads (``get``, ``list``,
    ``by_index``) return the newer of the two copies. Objects are shared: read-only.
    """

    def __init__(self, informer: Informer, indexes: dict[str, IndexFunc] | None = None) -> None:
        self.informer = informer
        self._own: dict[tuple[str, str], JSON] = {}
        self._index_funcs = dict(indexes or {})
        for name, func in self._index_funcs.items():
            informer.add_index(name, func)

    def __len__(self) -> int:
        """Write results the informer has not delivered yet."""
        return len(self._own)

    # ------------------------------------------------------------------ writes and events

    def record(self, obj: JSON) -> JSON:
        """Remember a write result unless the informer (or an earlier write) already has it or newer."""
        key = object_key(obj)
        seen = self.informer.get(key[1], key[0])
        if seen is not None and newer_or_same(seen, obj):
            self._own.pop(key, None)
            return obj
        have = self._own.get(key)
        # Successful writes of one object are ordered (each carried the version the one before
        # returned), so a later result replaces an earlier one; the check is only a guard.
        if have is None or not _older(obj, have):
            self._own[key] = obj
        return obj

    def observe(self, event: str, obj: JSON, old: JSON | None) -> None:
        """Informer handler: a delivered deletion, or a version at least ours, ends our entry."""
        key = object_key(obj)
        own = self._own.get(key)
        if own is None:
            return
        if event == "DELETED" or newer_or_same(obj, own) or not (_is_int(obj) and _is_int(own)):
            del self._own[key]

    # ------------------------------------------------------------------ reads

    def _fresh(self, key: tuple[str, str], seen: JSON | None) -> JSON | None:
        own = self._own.get(key)
        if own is None:
            return seen
        if seen is None:
            # The informer has not got it (deleted, and the deletion is on its way to observe):
            # a write result is no proof the object still exists.
            del self._own[key]
            return None
        if newer_or_same(seen, own):
            del self._own[key]
            return seen
        return own

    def get(self, name: str, namespace: str | None = None) -> JSON | None:
        key = (namespace or "", name)
        return self._fresh(key, self.informer.get(name, namespace))

    def list(self) -> builtins.list[JSON]:
        out = []
        for obj in self.informer.list():
            fresh = self._fresh(object_key(obj), obj)
            if fresh is not None:
                out.append(fresh)
        return out

    def by_index(self, name: str, value: str) -> builtins.list[JSON]:
        """``informer.by_index`` as our writes left it: objects we moved out of ``value`` are gone,
        those we moved into it come last (in the order we wrote them)."""
        func = self._index_funcs[name]
        out = []
        listed = set()
        for obj in self.informer.by_index(name, value):
            key = object_key(obj)
            listed.add(key)
            fresh = self._fresh(key, obj)
            if fresh is not None and (fresh is obj or value in func(fresh)):
                out.append(fresh)
        for key, own in list(self._own.items()):
            if key in listed or value not in func(own):
                continue
            fresh = self._fresh(key, self.informer.get(key[1], key[0]))
            if fresh is own:
                out.append(own)
        return out
