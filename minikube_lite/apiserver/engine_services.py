"""What the request handlers may use of the engine: :class:`EngineServices`.

Subresources, event views, eviction, PATCH and apply, deletion, the bootstrap objects and the
installers of CRD serving and storage admission all work on an engine, and the engine calls
them. They import this Protocol rather than :mod:`.engine`, so the imports run one way only
(engine -> handlers -> engine_services) and a handler sees a narrow, public surface instead of
the engine's private members. :class:`~minikube_lite.apiserver.engine.ApiEngine` implements it.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol

from ..clock import Clock
from .admission.chain import AdmissionChain, AdmissionContext
from .registry import Registry, ResourceType
from .resources.reviews import Authenticator
from .results import ListResult, WatchItem, WriteResult
from .storage.store import Store, StoredObject

JSON = dict[str, Any]
Query = Mapping[str, str]
#: Called after every stored write: (operation, type, object, previous object or None).
WriteHook = Callable[[str, ResourceType, JSON, JSON | None], None]


class EngineServices(Protocol):
    """The engine as its handlers see it: its parts, its verbs, and the steps of a write."""

    clock: Clock
    registry: Registry
    store: Store
    admission: AdmissionChain
    authn: Authenticator
    on_write: builtins.list[WriteHook]
    new_uid: Callable[[], str]

    def now(self) -> str:
        """The cluster clock's time as RFC 3339 (timestamps the server sets)."""
        ...

    # The verbs (a view or a subresource is served by calling them on another type).

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject: ...

    def get_stored(self, rt: ResourceType, namespace: str | None, name: str) -> StoredObject:
        """The stored object (404 when absent), not converted to the requested version."""
        ...

    def list(self, rt: ResourceType, namespace: str | None, query: Query) -> ListResult: ...

    async def watch(self, rt: ResourceType, namespace: str | None, query: Query) -> AsyncIterator[WatchItem]: ...

    def create(self, rt: ResourceType, namespace: str | None, body: Any, query: Query, *,
               user_agent: str = "", subresource: str | None = None, parent: str | None = None,
               managed_fields_done: bool = False, raw: bytes | None = None) -> WriteResult: ...

    def update(self, rt: ResourceType, namespace: str | None, name: str, body: Any, query: Query, *,
               user_agent: str = "", subresource: str | None = None, raw: bytes | None = None) -> WriteResult: ...

    def delete(self, rt: ResourceType, namespace: str | None, name: str, options: JSON,
               query: Query) -> WriteResult: ...

    def write_update(self, rt: ResourceType, current: StoredObject, new: JSON, query: Query, *,
                     user_agent: str = "", subresource: str | None = None, expected_rv: int | None = None,
                     manager: str | None = None, managed_fields_done: bool = False,
                     fields_subresource: str | None = None) -> WriteResult:
        """The common tail of PUT, PATCH and apply: carry server fields, admit, validate, store."""
        ...

    # The steps of a write that handlers run themselves.

    def check_body(self, rt: ResourceType, body: Any) -> JSON:
        """A body is an object of this type (400 otherwise); apiVersion and kind are set to it."""
        ...

    def schema_check(self, rt: ResourceType, obj: JSON, query: Query, warnings: builtins.list[str],
                     raw: bytes | None = None, *, memo: bool = False) -> JSON:
        """Decode-time schema checks (wrong types, unknown and duplicate fields) per ``fieldValidation``."""
        ...

    def admission_context(self, operation: str, rt: ResourceType, subresource: str | None,
                          dry_run: bool) -> AdmissionContext:
        """What admission plugins see of a request (and how they read other objects)."""
        ...

    def object_namespace(self, rt: ResourceType, namespace: str | None) -> str:
        """The namespace an object of this type is stored under ("" for cluster-scoped types)."""
        ...

    def notify(self, op: str, rt: ResourceType, obj: JSON, old: JSON | None) -> None:
        """Run the write hooks (CRD serving) after a stored write."""
        ...
