"""The namespace controller: empty a terminating namespace, then let it go.

Deleting a namespace marks it Terminating (the API server does that); this controller deletes
everything in it, type by type, and once nothing is left clears ``spec.finalizers`` through
``namespaces/{name}/finalize`` so the namespace itself is removed, as upstream.
"""

from __future__ import annotations

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Result, get_or_none

RETRY_WHILE_CONTENT_REMAINS = 2.0


class NamespaceController(Controller):
    name = "namespace-controller"

    def setup(self) -> None:
        def keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            return [obj["metadata"]["name"]] if obj["metadata"].get("deletionTimestamp") else []

        self.namespaces = self.informer("namespaces", key_of=keys)

    async def reconcile(self, key: str) -> Result:
        ns = await get_or_none(self.client, "namespaces", key)
        if ns is None:
            return DONE
        if not ns["metadata"].get("deletionTimestamp"):
            return DONE
        remaining = 0
        for rt in await self.client.api_resources():
            if not rt.namespaced or "list" not in rt.verbs or (rt.group == "events.k8s.io"):
                continue
            resource = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
            listing = await self.client.list(resource, key)
            for item in listing.get("items") or []:
                remaining += 1
                if item["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    await self.client.delete(resource, item["metadata"]["name"], key,
                                             propagation_policy="Background")
                except ApiError as err:
                    if err.code != 404:
                        raise
        if remaining:
            return Result(requeue_after=RETRY_WHILE_CONTENT_REMAINS)
        if (ns.get("spec") or {}).get("finalizers"):
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": key},
                    "spec": {"finalizers": []}}
            try:
                await self.client.update("namespaces", body, subresource="finalize")
            except ApiError as err:
                if err.code != 404:
                    raise
        return DONE
