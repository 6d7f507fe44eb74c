"""events.k8s.io/v1 Events as a view of the core/v1 Events.

Upstream stores one Event type and serves it in both groups; here the core/v1 objects are
stored and the events.k8s.io/v1 shape is converted on the way in and out, so an event
recorded by a controller is listed by ``kubectl get events`` and by ``events.k8s.io`` clients
alike (``regarding`` is ``involvedObject``, ``note`` is ``message``, ``series`` is ``count``...).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from ...clock import parse_time, rfc3339, rfc3339_micro
from .. import errors
from ..apply.writes import APPLY_PATCH, apply_patch
from ..engine_services import EngineServices
from ..registry import ResourceType
from ..results import ListResult, WatchItem, WriteResult
from ..storage.store import StoredObject

JSON = dict[str, Any]
VIEW_KEY = ("events.k8s.io", "events")
BASE = ("", "v1", "events")
FIELD_NAMES = {"reportingController": "reportingComponent", "regarding.": "involvedObject."}


def to_view(core: JSON) -> JSON:
    """core/v1 Event -> events.k8s.io/v1 Event."""
    out: JSON = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": core.get("metadata") or {}}
    event_time = core.get("eventTime")
    if not event_time:
        first = core.get("firstTimestamp") or (core.get("metadata") or {}).get("creationTimestamp")
        epoch = parse_time(first) if first else None
        event_time = rfc3339_micro(epoch) if epoch is not None else None
    out["eventTime"] = event_time
    for src, dst in (("involvedObject", "regarding"), ("related", "related"), ("message", "note"),
                     ("reason", "reason"), ("type", "type"), ("action", "action"),
                     ("reportingInstance", "reportingInstance")):
        if core.get(src) not in (None, "", {}):
            out[dst] = core[src]
    source = core.get("source") or {}
    out["reportingController"] = core.get("reportingComponent") or source.get("component") or ""
    if not out.get("reportingInstance") and source.get("host"):
        out["reportingInstance"] = source["host"]
    if source:
        out["deprecatedSource"] = source
    for src, dst in (("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp")):
        if core.get(src):
            out[dst] = core[src]
    count = core.get("count")
    if core.get("series"):
        out["series"] = core["series"]
    elif isinstance(count, int) and count > 1:
        last = core.get("lastTimestamp")
        epoch = parse_time(last) if last else None
        out["series"] = {"count": count, "lastObservedTime": rfc3339_micro(epoch) if epoch is not None else event_time}
    if isinstance(count, int) and count:
        out["deprecatedCount"] = count
    return out


def from_view(view: JSON) -> JSON:
    """events.k8s.io/v1 Event -> core/v1 Event (what is stored)."""
    core: JSON = {"apiVersion": "v1", "kind": "Event", "metadata": view.get("metadata") or {}}
    for src, dst in (("regarding", "involvedObject"), ("related", "related"), ("note", "message"),
                     ("reason", "reason"), ("type", "type"), ("action", "action"),
                     ("reportingController", "reportingComponent"), ("reportingInstance", "reportingInstance"),
                     ("eventTime", "eventTime"), ("deprecatedSource", "source")):
        if view.get(src) not in (None, ""):
            core[dst] = view[src]
    core.setdefault("involvedObject", {})
    series = view.get("series")
    if isinstance(series, dict):
        core["series"] = series
        core["count"] = series.get("count", 1)
    elif view.get("deprecatedCount"):
        core["count"] = view["deprecatedCount"]
    for src, dst in (("deprecatedFirstTimestamp", "firstTimestamp"), ("deprecatedLastTimestamp", "lastTimestamp")):
        if view.get(src):
            core[dst] = view[src]
    if "firstTimestamp" not in core and view.get("eventTime"):
        epoch = parse_time(str(view["eventTime"]))
        if epoch is not None:
            core["firstTimestamp"] = core["lastTimestamp"] = rfc3339(epoch)
    return core


def map_query(query: Mapping[str, str]) -> dict[str, str]:
    out = dict(query)
    selector = out.get("fieldSelector")
    if selector:
        for old, new in FIELD_NAMES.items():
            selector = selector.replace(old, new)
        out["fieldSelector"] = selector
    return out


def _viewed(stored: StoredObject) -> StoredObject:
    obj = to_view(stored.object())
    return StoredObject(stored.rv, stored.namespace, stored.name, orjson.dumps(obj), stored.labels, stored.fields)


class EventView:
    """Serve events.k8s.io/v1 Events from the stored core/v1 Events."""

    def __init__(self, engine: EngineServices) -> None:
        self.engine = engine

    @property
    def base(self) -> ResourceType:
        rt = self.engine.registry.get(*BASE)
        assert rt is not None
        return rt

    def get(self, namespace: str | None, name: str) -> StoredObject:
        return _viewed(self.engine.get(self.base, namespace, name))

    def list(self, rt: ResourceType, namespace: str | None, query: Mapping[str, str]) -> ListResult:
        result = self.engine.list(self.base, namespace, map_query(query))
        result.rt = rt
        result.items = [_viewed(s) for s in result.items]
        return result

    async def watch(self, namespace: str | None, query: Mapping[str, str]) -> AsyncIterator[WatchItem]:
        stream = await self.engine.watch(self.base, namespace, map_query(query))
        return self._convert(stream)

    async def _convert(self, stream: AsyncIterator[WatchItem]) -> AsyncIterator[WatchItem]:
        try:
            async for item in stream:
                if item.stored is not None:
                    yield WatchItem(item.type, _viewed(item.stored))
                else:
                    if item.obj and item.type == "BOOKMARK":
                        item.obj = {**item.obj, "apiVersion": "events.k8s.io/v1"}
                    yield item
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    def _out(self, result: WriteResult) -> WriteResult:
        if result.obj.get("kind") == "Event":
            result.obj = to_view(result.obj)
            result.raw = None
        return result

    def create(self, namespace: str | None, body: Any, query: Mapping[str, str], user_agent: str) -> WriteResult:
        core = from_view(body) if isinstance(body, dict) else body
        return self._out(self.engine.create(self.base, namespace, core, query, user_agent=user_agent))

    def update(self, namespace: str | None, name: str, body: Any, query: Mapping[str, str],
               user_agent: str) -> WriteResult:
        core = from_view(body) if isinstance(body, dict) else body
        return self._out(self.engine.update(self.base, namespace, name, core, query, user_agent=user_agent))

    def patch(self, rt: ResourceType, namespace: str | None, name: str, patch: Any, content_type: str,
              query: Mapping[str, str], user_agent: str) -> WriteResult:
        if content_type.split(";")[0].strip() == APPLY_PATCH:
            raise errors.unsupported_media_type(content_type, ["application/json-patch+json",
                                                               "application/merge-patch+json",
                                                               "application/strategic-merge-patch+json"])
        current = self.engine.get_stored(self.base, namespace, name)
        viewed = to_view(current.object())
        patched = apply_patch(rt, viewed, patch, content_type.split(";")[0].strip())
        if not isinstance(patched, dict):
            raise errors.bad_request("patched object is not a JSON object")
        return self._out(self.engine.write_update(self.base, current, from_view(patched), query,
                                                  user_agent=user_agent))

    def delete(self, namespace: str | None, name: str, options: JSON, query: Mapping[str, str]) -> WriteResult:
        result = self.engine.delete(self.base, namespace, name, options, query)
        if result.obj.get("kind") == "Status":
            details = result.obj.get("details") or {}
            details["group"] = "events.k8s.io"
        return self._out(result)
