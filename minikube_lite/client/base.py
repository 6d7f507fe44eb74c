"""The API client contract every controller, the scheduler and the kubelet are written against.

Two transports implement it: :class:`~minikube_lite.client.inprocess.InProcessClient` (calls the
API server's request path directly: same admission, validation and resourceVersion checks,
no sockets) and :class:`~minikube_lite.client.http.HttpClient` (any API server over HTTP).

Resources are named as kubectl names them: ``"pods"``, ``"pvc"``, ``"storageclasses"``,
``"volumesnapshots.snapshot.storage.k8s.io"``. Objects are plain JSON dicts; every call returns
a fresh copy the caller may change freely.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..apiserver.errors import ApiError
from ..apiserver.registry import ResourceType
from .manifests import DEFAULT_FIELD_MANAGER, Manifests

JSON = dict[str, Any]
PatchType = Literal["merge", "json", "strategic", "apply"]

__all__ = ["ApiError", "Client", "WatchEvent", "JSON", "PatchType", "is_remote"]


def is_remote(client: object) -> bool:
    """Whether every call of ``client`` is a round trip to a remote API server (a client says so
    with ``remote = True``): callers then queue what need not be waited for (events) and keep
    more calls in flight. The in-process client is not."""
    return bool(getattr(client, "remote", False))


@dataclass
class WatchEvent:
    """One watch event: ``type`` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."""

    type: str
    object: JSON


class Client(Protocol):
    """Async verbs of the Kubernetes API. Failures raise :class:`ApiError` (a ``Status``)."""

    async def get(self, resource: str, name: str, namespace: str | None = None, *,
                  subresource: str | None = None) -> JSON: ...

    async def list(self, resource: str, namespace: str | None = None, *,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_token: str | None = None,
                   resource_version: str | None = None) -> JSON: ...

    async def create(self, resource: str, body: JSON, namespace: str | None = None, *,
                     dry_run: bool = False, field_manager: str | None = None,
                     subresource: str | None = None, name: str | None = None) -> JSON:
        """POST. With ``subresource`` (e.g. ``binding``) ``name`` names the parent object."""
        ...

    async def update(self, resource: str, body: JSON, namespace: str | None = None, *,
                     subresource: str | None = None, dry_run: bool = False,
                     field_manager: str | None = None) -> JSON:
        """PUT the whole object; a stale ``metadata.resourceVersion`` gives 409 Conflict."""
        ...

    async def patch(self, resource: str, name: str, patch: Any, namespace: str | None = None, *,
                    patch_type: PatchType = "merge", subresource: str | None = None,
                    dry_run: bool = False, field_manager: str | None = None,
                    force: bool | None = None) -> JSON: ...

    async def delete(self, resource: str, name: str, namespace: str | None = None, *,
                     propagation_policy: str | None = None, grace_period_seconds: int | None = None,
                     preconditions: JSON | None = None, dry_run: bool = False) -> JSON: ...

    async def delete_collection(self, resource: str, namespace: str | None = None, *,
                                label_selector: str | None = None,
                                field_selector: str | None = None) -> JSON: ...

    def watch(self, resource: str, namespace: str | None = None, *,
              resource_version: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, timeout_seconds: float | None = None,
              allow_bookmarks: bool = False, send_initial_events: bool = False
              ) -> AsyncIterator[WatchEvent]: ...

    async def api_resources(self) -> builtins.list[ResourceType]:
        """Every served resource type (from discovery), for controllers that act on all types."""
        ...

    async def apply(self, manifests: Manifests, namespace: str | None = None, *,
                    field_manager: str = DEFAULT_FIELD_MANAGER, force: bool = False,
                    dry_run: bool = False) -> builtins.list[JSON]:
        """Server-side apply (create or update) every object of ``manifests``, in order.

        ``manifests``: a dict, a list of dicts, YAML text (multi-document) or the path of a file
        or folder (its ``*.yaml``/``*.yml``/``*.json`` files, sorted). Kinds resolve through
        discovery (CRDs applied earlier in the same call included); namespaced objects without a
        namespace go to ``namespace`` or ``default``. Returns the applied objects. A refused
        document raises :class:`~minikube_lite.client.manifests.ManifestError` (an ApiError).
        """
        ...

    async def close(self) -> None: ...
