"""The service-account controller: every namespace gets a ``default`` ServiceAccount, as upstream."""

from __future__ import annotations

from ..client.base import JSON, ApiError
from ..client.runtime import DONE, Controller, Result

DEFAULT_ACCOUNT = "default"


class ServiceAccountController(Controller):
    name = "serviceaccount-controller"

    def setup(self) -> None:
        def namespace_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            return [] if event == "DELETED" else [obj["metadata"]["name"]]

        def account_keys(event: str, obj: JSON, old: JSON | None) -> list[str]:
            meta = obj["metadata"]
            return [meta["namespace"]] if event == "DELETED" and meta.get("name") == DEFAULT_ACCOUNT else []

        self.namespaces = self.informer("namespaces", key_of=namespace_keys)
        self.accounts = self.informer("serviceaccounts", key_of=account_keys)

    async def reconcile(self, key: str) -> Result:
        ns = self.namespaces.get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp") or self.accounts.get(DEFAULT_ACCOUNT, key):
            return DONE
        try:
            await self.client.create("serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount",
                                                         "metadata": {"name": DEFAULT_ACCOUNT}}, key)
        except ApiError as err:
            if err.code not in (409, 403, 404):  # exists already, or the namespace is going away
                raise
        return DONE
