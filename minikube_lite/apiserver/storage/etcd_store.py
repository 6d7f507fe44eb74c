"""The etcd backend: objects live in etcd, the API server reads them from a watch-fed cache.

Layout and semantics follow kube-apiserver's etcd3 storage:

* keys as kube-apiserver's storage factory makes them: ``<prefix>/registry/<resource>/<namespace>/<name>``
  for built-in types of every group (``/registry/deployments/default/web``), with upstream's
  special prefixes (``minions`` for nodes, ``services/specs``, ``services/endpoints``,
  ``controllers`` for replicationcontrollers, ``ingress``), and
  ``<prefix>/registry/<group>/<resource>/<namespace>/<name>`` for CRDs themselves
  (``apiextensions.k8s.io``), APIServices and custom resources; cluster-scoped objects leave out
  the namespace; values are the object's JSON without its resourceVersion;
* an object's resourceVersion is its key's ``mod_revision``; a list's is the revision the cache
  has reached;
* create is a transaction "create_revision == 0 then put", update and delete compare the key's
  ``mod_revision`` with the expected one (optimistic concurrency, 409 Conflict on a miss);
* as the apiserver's watch cache, one etcd watch on the whole prefix feeds the in-memory
  :class:`~minikube_lite.apiserver.storage.store.Store` tables this class inherits, so gets, lists and watch
  fan-out stay as fast as in memory, and several API servers on one etcd see each other's
  writes and watch events. A write returns once its own event came back through that watch,
  so a client reads its writes and every watcher sees changes in revision order;
* at start the cache replays etcd's retained history (from revision 1, or from a snapshot at
  the compaction revision), so a client watch resumes from its last resourceVersion across a
  restart; one older than etcd's compaction gets 410 Gone, and the client re-lists.

Why etcd's v3 JSON gateway over the standard library's ``http.client``, and not an asyncio gRPC
client (``aetcd``, which needs grpcio): the API server's write path is synchronous by design (the
in-memory store is, and that path is the one benchmarks/ measure), so a write to etcd is a
blocking round trip on one keep-alive loopback connection, and the watch stream is read by a
thread that hands events to the event loop. That needs no new dependency, works with etcd 3.4's
gateway (``/v3/kv/range``, ``/v3/kv/txn``, ``/v3/kv/deleterange``, ``/v3/kv/compaction``,
``/v3/watch``, base64 keys and values), and keeps the memory backend untouched.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import http.client
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from ..errors import ApiError
from ..registry import builtin_types
from ..resources.event_views import VIEW_KEY
from .store import JSON, PreconditionFailed, ResourceKey, Store, StoredObject, Watcher

log = logging.getLogger(__name__)

REGISTRY = "/registry/"
#: Where each API server announces itself (upstream's apiserver endpoint leases live here too);
#: writing it at start gives a revision the cache must reach before it serves.
LEASES = "masterleases"
DEFAULT_WRITE_TIMEOUT = 10.0
#: kube-apiserver's ``--etcd-compaction-interval`` default: every 5 minutes etcd's history is
#: compacted to the revision of the previous round, so at least 5 minutes of it stay watchable.
DEFAULT_COMPACTION_INTERVAL = 300.0
RECONNECT_DELAY = 0.2
RECONNECT_DELAY_MAX = 2.0

FieldsFor = Callable[[ResourceKey, JSON], Mapping[str, str]]
#: (op, resource key, object, previous object) for a change another API server made.
RemoteHook = Callable[[str, ResourceKey, JSON, JSON | None], None]


class EtcdError(ApiError):
    """etcd answered with an error, or did not deliver a write back in time.

    Clients get it as kube-apiserver passes storage errors on: a 500 ``Status`` carrying etcd's
    message (kubectl: ``Error from server: etcdserver: request is too large``).
    """

    def __init__(self, message: str) -> None:
        super().__init__(500, "", message)


class EtcdUnreachable(EtcdError, ConnectionError):
    """No etcd answers at the endpoint (the CLI reports it as ``error: ...``)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text) if text else b""


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key greater than every key starting with ``prefix`` (etcd's range_end)."""
    return prefix[:-1] + bytes([prefix[-1] + 1])


#: kube-apiserver's ``SpecialDefaultResourcePrefixes``: built-in types not stored under their plural.
SPECIAL_PREFIXES: dict[ResourceKey, str] = {
    ("", "replicationcontrollers"): "controllers",
    ("", "endpoints"): "services/endpoints",
    ("", "nodes"): "minions",
    ("", "services"): "services/specs",
    ("networking.k8s.io", "ingresses"): "ingress",
}
#: Groups served by the apiextensions and aggregator servers, whose keys carry the group.
GROUP_PREFIXED = frozenset({"apiextensions.k8s.io", "apiregistration.k8s.io"})


def builtin_prefixes() -> dict[ResourceKey, str]:
    """The key prefix (under ``/registry/``) of every stored built-in type."""
    return {rt.key: SPECIAL_PREFIXES.get(rt.key, rt.plural) for rt in builtin_types()
            if rt.group not in GROUP_PREFIXED and rt.key != VIEW_KEY}


def _default_fields(key: ResourceKey, obj: JSON) -> Mapping[str, str]:
    meta = obj.get("metadata") or {}
    return {"metadata.name": meta.get("name") or "", "metadata.namespace": meta.get("namespace") or ""}


class _Gateway:
    """Blocking JSON calls to etcd's v3 gateway over one keep-alive connection."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        host, _, port = endpoint.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def call(self, path: str, body: JSON) -> JSON:
        """POST one request. Only a kept-alive connection that turns out closed is retried (on a
        fresh one): a transaction is never sent twice after etcd may have applied it."""
        payload = orjson.dumps(body)
        while True:
            fresh = self._conn is None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request("POST", path, payload, {"Content-Type": "application/json"})
                response = self._conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                stale = isinstance(exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError)
                if fresh or not stale:
                    raise EtcdUnreachable(f"etcd at {self.host}:{self.port} is unreachable: {exc}") from None
                continue
            answer: JSON = orjson.loads(data) if data else {}
            if response.status != 200 or "error" in answer or ("code" in answer and "header" not in answer):
                raise EtcdError(str(answer.get("message") or answer.get("error") or answer))
            return answer

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(frozen=True, slots=True)
class _Event:
    """One change read from etcd's watch; a snapshot stands for the whole state at ``rev``."""

    rev: int
    kind: str  # "PUT", "DELETE" or "SNAPSHOT"
    key: bytes = b""
    value: bytes = b""
    snapshot: tuple[tuple[bytes, bytes, int], ...] = ()


class EtcdStore(Store):
    """A :class:`Store` whose writes commit to etcd and whose tables follow etcd's watch."""

    def __init__(self, endpoint: str, *, prefix: str = "", history_size: int = 1000,
                 watch_backlog: int = 10_000, write_timeout: float = DEFAULT_WRITE_TIMEOUT,
                 compaction_interval: float | None = DEFAULT_COMPACTION_INTERVAL) -> None:
        super().__init__(history_size=history_size, watch_backlog=watch_backlog)
        self.endpoint = endpoint
        self.prefix = prefix.rstrip("/")
        self.write_timeout = write_timeout
        self.compaction_interval = compaction_interval
        self._compaction_timer: asyncio.TimerHandle | None = None
        self._previous_round = 0
        self._root = (self.prefix + REGISTRY).encode()
        self._gateway = _Gateway(endpoint, write_timeout)
        self._prefixes = builtin_prefixes()
        self._types_by_prefix = {prefix: key for key, prefix in self._prefixes.items()}
        self._fields_for: FieldsFor = _default_fields
        self._on_remote: RemoteHook | None = None
        # Filled by the watch thread, emptied on the event loop's thread.
        self._cond = threading.Condition()
        self._queue: deque[_Event] = deque()
        self._received = 0
        self._watch_error: str | None = None
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._watch_conn: http.client.HTTPConnection | None = None
        self._stopping = threading.Event()
        # Revisions of our writes in flight -> what applying them stored (re-entrant: a hook run
        # while applying may write again, e.g. a CRD's delete drops its objects).
        self._own_writes: dict[int, StoredObject | None] = {}
        self._lease_key = f"{self.prefix}{REGISTRY}{LEASES}/{uuid.uuid4()}".encode()
        self.started = False

    # -- wiring ------------------------------------------------------------------------------

    def bind(self, fields_for: FieldsFor, on_remote: RemoteHook | None = None) -> None:
        self._fields_for = fields_for
        self._on_remote = on_remote

    def start(self) -> None:
        """Follow etcd's watch and wait until the cache holds everything committed so far."""
        if self.started:
            return
        self._attach_loop()
        self._thread = threading.Thread(target=self._watch_loop, name="etcd-watch", daemon=True)
        self._thread.start()
        self._settle(self._touch_lease())
        self.started = True
        self._schedule_compaction()

    def _schedule_compaction(self) -> None:
        if self.compaction_interval and self._loop is not None and not self._stopping.is_set():
            self._compaction_timer = self._loop.call_later(self.compaction_interval, self.compaction_round)

    def compaction_round(self) -> None:
        """Compact etcd (not this cache) to where the previous round was, as kube-apiserver does."""
        if self._previous_round:
            try:
                self._gateway.call("/v3/kv/compaction", {"revision": str(self._previous_round)})
            except EtcdError as exc:
                if "compacted" not in str(exc):
                    log.warning("compacting etcd at revision %d failed: %s", self._previous_round, exc)
        self._previous_round = self.resource_version
        self._schedule_compaction()

    def _attach_loop(self) -> None:
        if self._loop is None:
            with contextlib.suppress(RuntimeError):
                self._loop = asyncio.get_running_loop()

    def close(self) -> None:
        """Stop following etcd (the objects stay there) and end every watch."""
        self.close_all_watches()
        if self._compaction_timer is not None:
            self._compaction_timer.cancel()
            self._compaction_timer = None
        if self.started:
            with contextlib.suppress(EtcdError):
                self._gateway.call("/v3/kv/deleterange", {"key": _b64(self._lease_key)})
        self._stopping.set()
        conn = self._watch_conn
        if conn is not None and conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._gateway.close()
        self.started = False

    # -- keys --------------------------------------------------------------------------------

    def key_for(self, key: ResourceKey, namespace: str, name: str) -> bytes:
        prefix = self._prefixes.get(key) or f"{key[0]}/{key[1]}"
        return self._root + (f"{prefix}/{namespace}/{name}" if namespace else f"{prefix}/{name}").encode()

    def parse_key(self, raw: bytes) -> tuple[ResourceKey, str, str] | None:
        parts = raw[len(self._root):].decode().split("/")
        if parts[0] == LEASES:
            return None
        two = "/".join(parts[:2])
        if two in self._types_by_prefix:
            key, rest = self._types_by_prefix[two], parts[2:]
        elif parts[0] in self._types_by_prefix:
            key, rest = self._types_by_prefix[parts[0]], parts[1:]
        elif len(parts) >= 3:  # a custom resource's group has a dot, so it never names a built-in
            key, rest = (parts[0], parts[1]), parts[2:]
        else:
            return None
        if len(rest) == 2:
            return key, rest[0], rest[1]
        if len(rest) == 1:
            return key, "", rest[0]
        return None

    # -- reads -------------------------------------------------------------------------------

    def list(self, key: ResourceKey, namespace: str | None = None) -> tuple[builtins.list[StoredObject], int]:
        self._drain()
        return super().list(key, namespace)

    # -- writes ------------------------------------------------------------------------------

    @staticmethod
    def _value(obj: JSON) -> bytes:
        meta = obj["metadata"]
        if "resourceVersion" not in meta:
            return orjson.dumps(obj)
        return orjson.dumps({**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}})

    def _txn(self, compare: JSON, success: JSON, ekey: bytes) -> tuple[bool, int, JSON]:
        """One transaction; on failure also the key's current kv (empty when absent)."""
        answer = self._gateway.call("/v3/kv/txn", {
            "compare": [compare], "success": [success],
            "failure": [{"request_range": {"key": _b64(ekey)}}]})
        rev = int(answer["header"]["revision"])
        if answer.get("succeeded"):
            return True, rev, {}
        kvs = ((answer.get("responses") or [{}])[0].get("response_range") or {}).get("kvs") or []
        return False, rev, kvs[0] if kvs else {}

    def _exists_compare(self, ekey: bytes, expected_rv: int | None) -> JSON:
        if expected_rv is not None:
            return {"target": "MOD", "key": _b64(ekey), "result": "EQUAL", "mod_revision": str(expected_rv)}
        return {"target": "CREATE", "key": _b64(ekey), "result": "GREATER", "create_revision": "0"}

    def create(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str]) -> StoredObject:
        meta = obj["metadata"]
        okey = (meta.get("namespace") or "", meta["name"])
        ekey = self.key_for(key, *okey)
        ok, rev, _ = self._txn({"target": "CREATE", "key": _b64(ekey), "result": "EQUAL", "create_revision": "0"},
                               {"request_put": {"key": _b64(ekey), "value": _b64(self._value(obj))}}, ekey)
        if not ok:
            raise KeyError(okey)
        return self._committed(obj, rev)

    def update(self, key: ResourceKey, obj: JSON, fields: Mapping[str, str],
               expected_rv: int | None = None) -> StoredObject:
        meta = obj["metadata"]
        okey = (meta.get("namespace") or "", meta["name"])
        ekey = self.key_for(key, *okey)
        ok, rev, current = self._txn(self._exists_compare(ekey, expected_rv),
                                     {"request_put": {"key": _b64(ekey), "value": _b64(self._value(obj))}}, ekey)
        if not ok:
            if not current:
                raise KeyError(okey)
            raise PreconditionFailed(okey)
        return self._committed(obj, rev)

    def delete(self, key: ResourceKey, namespace: str, name: str,
               expected_rv: int | None = None) -> StoredObject:
        okey = (namespace, name)
        ekey = self.key_for(key, namespace, name)
        ok, rev, current = self._txn(self._exists_compare(ekey, expected_rv),
                                     {"request_delete_range": {"key": _b64(ekey)}}, ekey)
        if not ok:
            if not current:
                raise KeyError(okey)
            raise PreconditionFailed(okey)
        stored = self._settle(rev)
        if stored is None:
            raise EtcdError(f"the delete of {ekey.decode()} at revision {rev} did not come back through the watch")
        return stored

    def drop_resource(self, key: ResourceKey) -> builtins.list[StoredObject]:
        """Delete every object of a type; another API server may be deleting them too."""
        gone = []
        for ns, name in builtins.list(self._table(key).objects.keys()):
            with contextlib.suppress(KeyError):
                gone.append(self.delete(key, ns, name))
        return gone

    def _committed(self, obj: JSON, rev: int) -> StoredObject:
        stored = self._settle(rev)
        if stored is None:
            raise EtcdError(f"the write at revision {rev} did not come back through the watch")
        obj["metadata"]["resourceVersion"] = str(rev)
        return stored

    def _settle(self, rev: int) -> StoredObject | None:
        """Wait until the watch delivered revision ``rev``, apply everything up to it, and return
        what our write at ``rev`` stored (the object, or the tombstone of a delete)."""
        deadline = time.monotonic() + self.write_timeout
        with self._cond:
            while self._received < rev:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise EtcdError(f"etcd's watch did not deliver revision {rev} within {self.write_timeout:g}s"
                                    + (f": {self._watch_error}" if self._watch_error else ""))
                self._cond.wait(remaining)
        self._own_writes[rev] = None
        try:
            self._apply_until(rev)
            return self._own_writes[rev]
        finally:
            del self._own_writes[rev]

    def wait_fresh(self, rv: int) -> None:
        """A client brought a resourceVersion newer than the cache (from another API server).

        Rather than wait blindly as kube-apiserver's cacher does (up to 3 s), touch our lease
        key: once the watch delivers that write, every change under the prefix up to it is in
        the cache. A ``rv`` beyond even that is one etcd has not reached ("Too large").
        """
        if not self.started:
            return
        self._settle(self._touch_lease())

    def _touch_lease(self) -> int:
        answer = self._gateway.call("/v3/kv/put", {"key": _b64(self._lease_key),
                                                   "value": _b64(orjson.dumps({"renewed": time.time()}))})
        return int(answer["header"]["revision"])

    def compact(self, revision: int) -> None:
        """Compact etcd's history before ``revision`` and the cache's with it."""
        try:
            self._gateway.call("/v3/kv/compaction", {"revision": str(revision), "physical": True})
        except EtcdError as exc:
            if "compacted" not in str(exc):
                raise
        super().compact(revision)

    def watch(self, key: ResourceKey, namespace: str | None, *,
              predicate: Callable[[StoredObject], bool] | None = None,
              since_rv: int | None = None, initial: bool = False) -> Watcher:
        self._attach_loop()
        self._drain()
        if since_rv is not None and since_rv > self.resource_version:
            self.wait_fresh(since_rv)   # "events after N" must not replay N: catch up to it first
        return super().watch(key, namespace, predicate=predicate, since_rv=since_rv, initial=initial)

    # -- the watch thread --------------------------------------------------------------------

    def _watch_loop(self) -> None:
        """Follow every change under the prefix, from revision 1 (or the compaction point) on."""
        start = 1
        snapshot_gateway = _Gateway(self.endpoint, self.write_timeout)
        end = _prefix_end(self._root)
        delay = RECONNECT_DELAY
        while not self._stopping.is_set():
            conn = http.client.HTTPConnection(self._gateway.host, self._gateway.port, timeout=None)
            self._watch_conn = conn
            try:
                conn.request("POST", "/v3/watch", orjson.dumps({"create_request": {
                    "key": _b64(self._root), "range_end": _b64(end), "start_revision": str(start)}}),
                    {"Content-Type": "application/json"})
                response = conn.getresponse()
                while not self._stopping.is_set():
                    line = response.readline()
                    if not line:
                        raise EtcdError("etcd closed the watch stream")
                    if not line.strip():
                        continue
                    message = orjson.loads(line)
                    if "error" in message:
                        raise EtcdError(str(message["error"]))
                    result = message.get("result") or {}
                    if result.get("created"):
                        with self._cond:
                            self._watch_error = None
                    compacted = int(result.get("compact_revision") or 0)
                    if compacted:
                        # Our start is compacted away: take the state at the compaction revision.
                        self._push([self._snapshot(snapshot_gateway, end, compacted)])
                        start = compacted + 1
                        break
                    events = [self._event(e) for e in result.get("events") or []]
                    if events:
                        self._push(events)
                        start = events[-1].rev + 1
            except (OSError, http.client.HTTPException, EtcdError, ValueError) as exc:
                if self._stopping.is_set():
                    break
                with self._cond:
                    first_failure = self._watch_error is None
                    self._watch_error = str(exc)
                log.log(logging.WARNING if first_failure else logging.DEBUG,
                        "etcd watch interrupted (%s); resuming from revision %d", exc, start)
                self._stopping.wait(delay)
                delay = min(delay * 2, RECONNECT_DELAY_MAX)
                continue
            finally:
                conn.close()
            delay = RECONNECT_DELAY
        snapshot_gateway.close()

    @staticmethod
    def _event(raw: JSON) -> _Event:
        kv = raw.get("kv") or {}
        return _Event(int(kv.get("mod_revision") or 0), raw.get("type") or "PUT", _unb64(kv.get("key", "")),
                      _unb64(kv.get("value", "")))

    def _snapshot(self, gateway: _Gateway, end: bytes, revision: int) -> _Event:
        answer = gateway.call("/v3/kv/range", {"key": _b64(self._root), "range_end": _b64(end),
                                               "revision": str(revision)})
        kvs = tuple((_unb64(kv["key"]), _unb64(kv.get("value", "")), int(kv["mod_revision"]))
                    for kv in answer.get("kvs") or [])
        return _Event(revision, "SNAPSHOT", snapshot=kvs)

    def _push(self, events: builtins.list[_Event]) -> None:
        with self._cond:
            self._queue.extend(events)
            self._received = max(self._received, events[-1].rev)
            self._watch_error = None
            self._cond.notify_all()
            schedule = not self._drain_scheduled and self._loop is not None
            self._drain_scheduled = self._drain_scheduled or schedule
        if schedule and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the next read drains
                self._loop.call_soon_threadsafe(self._drain)

    # -- applying events (on the event loop's thread) ----------------------------------------

    def _drain(self) -> None:
        with self._cond:
            self._drain_scheduled = False
            upto = self._received
        self._apply_until(upto)

    def _apply_until(self, rev: int) -> None:
        while True:
            with self._cond:
                if not self._queue or self._queue[0].rev > rev:
                    return
                event = self._queue.popleft()
            if event.kind == "SNAPSHOT":
                self._apply_snapshot(event)
            else:
                self._apply(event)

    def _apply(self, event: _Event) -> None:
        parsed = self.parse_key(event.key)
        if parsed is None:
            self.advance(event.rev)
            return
        key, namespace, name = parsed
        own = event.rev in self._own_writes
        if event.kind == "DELETE":
            tomb = self.apply_delete(key, event.rev, namespace, name)
            if own:
                self._own_writes[event.rev] = tomb
            elif tomb is not None:
                self._remote("delete", key, tomb, None)
            return
        obj: JSON = orjson.loads(event.value)
        table = self._table(key)
        prev = table.objects.get((namespace, name))
        stored = self.apply_put(key, event.rev, obj, self._fields_for(key, obj))
        if own:
            self._own_writes[event.rev] = stored
        else:
            self._remote("update" if prev is not None else "create", key, stored,
                         prev.object() if prev is not None else None)

    def _apply_snapshot(self, event: _Event) -> None:
        """Bring the cache to the state at a compaction revision; older watches get 410 from now on."""
        seen: set[tuple[ResourceKey, str, str]] = set()
        for raw_key, value, mod_rev in event.snapshot:
            parsed = self.parse_key(raw_key)
            if parsed is None:
                continue
            seen.add(parsed)
            current = self.get(*parsed)
            if current is None or current.rv != mod_rev:
                self._apply(_Event(mod_rev, "PUT", raw_key, value))
        for key, table in builtins.list(self._tables.items()):
            for namespace, name in builtins.list(table.objects.keys()):
                if (key, namespace, name) not in seen:
                    self._apply(_Event(event.rev, "DELETE", self.key_for(key, namespace, name)))
        self.advance(event.rev)
        self._floor_rv = max(self._floor_rv, event.rev)

    def _remote(self, op: str, key: ResourceKey, stored: StoredObject, old: JSON | None) -> None:
        if self._on_remote is not None:
            try:
                self._on_remote(op, key, stored.object(), old)
            except Exception:  # a hook's failure must not stop the cache from following etcd
                log.exception("handling a change from another API server failed")
