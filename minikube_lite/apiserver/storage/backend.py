"""The narrow, revisioned storage interface the API server keeps its objects behind.

Modelled on kine's ``pkg/server/types.go`` Backend and on etcd's semantics:

* one revision counter across every key; every write returns the object at its new revision,
  which is the object's resourceVersion (etcd's ``mod_revision``); a list carries the store's
  revision at the time it was read (etcd's header revision);
* create succeeds only when the key is absent (``KeyError`` otherwise); update and delete take
  an optional expected revision and fail with :class:`PreconditionFailed` when the stored one
  differs (etcd's transaction comparing ``mod_revision``);
* a watch from revision N delivers every change after N, or raises
  :class:`TooOldResourceVersion` when those changes were compacted away;
* ``compact(N)`` drops the history before N, as etcd's compaction does: afterwards a watch may
  start from N-1 (it sees the changes from N on) but not from anything older.

Two implementations: :class:`~minikube_lite.apiserver.storage.store.Store` (memory, the default) and
:class:`~minikube_lite.apiserver.storage.etcd_store.EtcdStore` (etcd, state that survives a restart and is
shared by several API servers). :func:`open_backend` picks one from a ``--storage`` URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .store import (
    JSON,
    ObjectKey,
    PreconditionFailed,
    ResourceKey,
    Store,
    StoredObject,
    TooOldResourceVersion,
    Watcher,
)

__all__ = ["Backend", "PreconditionFailed", "TooOldResourceVersion", "StorageUrlError", "open_backend",
           "parse_storage_url", "MEMORY"]

MEMORY = "memory"


class Backend(Protocol):
    """What the API server needs from its storage, and nothing more."""

    @property
    def resource_version(self) -> int:
        """The store's current revision (the newest write's)."""

    def get(self, key: ResourceKey, namespace: str, name: str) -> StoredObject | None: ...

    def list(self, key: ResourceKey, namespace: str | None = None) -> tuple[list[StoredObject], int]:
        """Every object of a type (in one namespace) in key order, and the revision they were read at."""

    def iter(self, key: ResourceKey, namespace: str | None = None,
             after: ObjectKey | None = None) -> Iterator[StoredObject]:
        """The same objects lazily, optionally only those after ``after`` (paginated lists)."""

    def create(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str]) -> StoredObject: ...

    def update(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str],
               expected_rv: int | None = None) -> StoredObject: ...

    def delete(self, key: ResourceKey, namespace: str, name: str,
               expected_rv: int | None = None) -> StoredObject: ...

    def watch(self, key: ResourceKey, namespace: str | None, *,
              predicate: Callable[[StoredObject], bool] | None = None,
              since_rv: int | None = None, initial: bool = False) -> Watcher: ...

    def compact(self, revision: int) -> None: ...

    def oldest_watchable(self, key: ResourceKey) -> int:
        """The smallest resourceVersion a watch on ``key`` may start from."""

    def close(self) -> None:
        """Release connections and end every watch."""


if TYPE_CHECKING:
    from .etcd_store import EtcdStore

    def _both_are_backends(memory: Store, etcd: EtcdStore) -> tuple[Backend, Backend]:
        """mypy checks here that both implementations satisfy the protocol."""
        return memory, etcd


class StorageUrlError(ValueError):
    """A ``--storage`` value that names no backend."""


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """``memory`` or ``etcd://host:port[/prefix]`` as (scheme, endpoint, key prefix)."""
    if url in ("", MEMORY):
        return MEMORY, "", ""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme != "etcd" or not rest:
        raise StorageUrlError(f"unsupported storage {url!r}: use 'memory' or 'etcd://HOST:PORT[/PREFIX]'")
    endpoint, _, prefix = rest.partition("/")
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise StorageUrlError(f"storage {url!r}: the etcd endpoint must be HOST:PORT")
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    return "etcd", endpoint, prefix


def open_backend(url: str, **options: Any) -> Store:
    """The backend a ``--storage`` URL names; ``options`` are the store's (history size, backlog)."""
    scheme, endpoint, prefix = parse_storage_url(url)
    if scheme == MEMORY:
        return Store(**options)
    # deferred: the etcd backend (its client, watch threads) loads only for an etcd:// storage URL
    from .etcd_store import EtcdStore

    return EtcdStore(endpoint, prefix=prefix, **options)
