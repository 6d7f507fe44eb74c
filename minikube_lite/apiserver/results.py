"""What a verb answers: the values the engine, its handlers and the wire layer all pass around.

They live apart from :mod:`.engine` so that the modules the engine calls (subresources, event
views, patch) can build them without importing the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .registry import ResourceType
from .storage.store import StoredObject

JSON = dict[str, Any]


@dataclass
class WriteResult:
    """The outcome of a write: HTTP code, the object (or Status) and warnings."""

    code: int
    obj: JSON
    warnings: list[str] = field(default_factory=list)
    raw: bytes | None = None  # the stored bytes, when the object was stored

    def body_bytes(self) -> bytes:
        return self.raw if self.raw is not None else orjson.dumps(self.obj)


@dataclass
class ListResult:
    """One page of a list: the items, the list's resourceVersion and where the next page starts."""

    rt: ResourceType
    items: list[StoredObject]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None

    def metadata(self) -> JSON:
        meta: JSON = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta

    def to_dict(self) -> JSON:
        return {"kind": self.rt.list_kind, "apiVersion": self.rt.api_version, "metadata": self.metadata(),
                "items": [s.object() for s in self.items]}

    def to_bytes(self) -> bytes:
        head = orjson.dumps({"kind": self.rt.list_kind, "apiVersion": self.rt.api_version,
                             "metadata": self.metadata()})
        return head[:-1] + b',"items":[' + b",".join(s.raw for s in self.items) + b"]}"


@dataclass
class WatchItem:
    """One frame of a watch stream: an event with a stored object, a bookmark, or an error."""

    type: str
    stored: StoredObject | None = None
    obj: JSON | None = None  # for BOOKMARK and ERROR
    #: More frames are ready right behind this one (same batch of changes): a writer may hold
    #: this frame and send the batch in one socket write rather than one per event.
    more: bool = False

    def object(self) -> JSON:
        if self.stored is not None:
            return self.stored.object()
        return dict(self.obj or {})

    def to_bytes(self) -> bytes:
        payload = self.stored.raw if self.stored is not None else orjson.dumps(self.obj)
        return b'{"type":"' + self.type.encode() + b'","object":' + payload + b"}\n"
