"""DefaultBinder: binds through the ``pods/binding`` subresource, as kube-scheduler does."""

from __future__ import annotations

from typing import ClassVar

from ...client.base import ApiError
from ..framework import BindPlugin, Code, CycleState, Handle, Status
from ..snapshot import JSON

NAME = "DefaultBinder"


class DefaultBinder(BindPlugin):
    name: ClassVar[str] = NAME

    def __init__(self, handle: Handle) -> None:
        self.handle = handle

    async def bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        md = pod.get("metadata") or {}
        ns = md.get("namespace") or "default"
        name = md.get("name", "")
        meta: JSON = {"name": name, "namespace": ns}
        if md.get("uid"):
            meta["uid"] = md["uid"]
        body: JSON = {"apiVersion": "v1", "kind": "Binding", "metadata": meta,
                      "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}
        try:
            await self.handle.client.create("pods", body, namespace=ns, subresource="binding", name=name)
        except ApiError as exc:
            return Status(Code.Error, [exc.message])
        return None
