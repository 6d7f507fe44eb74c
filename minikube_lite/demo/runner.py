"""The demo runner: a narrated story on a fresh in-process cluster, with bounded waits and views.

Why it exists: the course ("存储快照与拓扑调度") teaches by showing a live cluster. A story
(``stories/``) drives a fresh :class:`~minikube_lite.cluster.Cluster` only through its API client,
as kubectl would, and :class:`Demo` prints what a user would see at each step (object states,
events, the cloud's side) with a short note on why it happens. The cloud is read to show the
"console" view of disks and snapshots; the one write is the snapshot story's data, written into
a disk as the pod's app would (containers do not run here).

On the default :class:`~minikube_lite.clock.VirtualClock` a story finishes in well under a
second while the printed ``[t+..s]`` stamps still show cluster time (a snapshot takes 5 s, a
disk 2 s, as configured). Pass ``clock=RealClock()`` to watch it unfold in real time, and
``pause=StdinPause()`` to wait for Enter between steps.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import IO, Any, Protocol

from ..client.base import ApiError, Client
from ..clock import Clock, VirtualClock
from ..cluster import Cluster
from .manifests import JSON, NS
from .narration import DEFAULT_LANGUAGE, Catalogue, catalogue

Out = Callable[[str], object]

#: Cluster seconds a step may take before the demo gives up (bounded waits, never a hang).
STEP_TIMEOUT_S = 120.0
#: How far a wait moves a virtual clock (or sleeps on a real one) when nothing is due.
POLL_S = 0.5
#: Indent of the lines under a step heading.
INDENT = " " * 10


class DemoError(RuntimeError):
    """A step did not reach the state the story expects (the cluster misbehaved)."""


class Pause(Protocol):
    """Something that holds the demo between steps (``active`` False: it no longer holds)."""

    @property
    def active(self) -> bool: ...

    async def wait(self) -> None: ...


class StdinPause:
    """Waits for Enter on a text stream (stdin by default) between steps.

    End of input (no tty and nothing piped, or the piped lines used up) lets the demo run on
    to the end without further prompts. The line is read on a daemon thread so that the cluster
    keeps running while the reader reads (on a real clock, node leases must go on being renewed)
    and Ctrl-C never waits for a blocked read.
    """

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._eof = False

    @property
    def active(self) -> bool:
        return not self._eof

    async def wait(self) -> None:
        stream = self._stream if self._stream is not None else sys.stdin
        if self._eof or stream is None:
            self._eof = True
            return
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                line = stream.readline()
            except (OSError, ValueError):
                line = ""
            loop.call_soon_threadsafe(_resolve, done, line)

        threading.Thread(target=read, name="demo-pause", daemon=True).start()
        if await done == "":
            self._eof = True


def _resolve(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


def _phase(obj: JSON | None) -> str:
    return str(((obj or {}).get("status") or {}).get("phase") or "")


def _pod_scheduled(obj: JSON) -> JSON:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"), {})


def annotations_of(obj: JSON | None) -> dict[str, str]:
    return dict(((obj or {}).get("metadata") or {}).get("annotations") or {})


class Demo:
    """One narrated story on one cluster: steps, bounded waits and kubectl-like views."""

    def __init__(self, cluster: Cluster, out: Out, *, texts: Catalogue | None = None,
                 pause: Pause | None = None) -> None:
        self.cluster = cluster
        self.client: Client = cluster.client
        self.out = out
        self.texts = texts or catalogue(DEFAULT_LANGUAGE)
        self.pause = pause
        self.started = cluster.clock.now()
        self.step_no = 0

    # -- printing (narration comes from the catalogue; object lines are printed as they are)

    def stamp(self) -> str:
        return f"[t+{self.cluster.clock.now() - self.started:5.1f}s]"

    async def hold(self) -> None:
        """Wait for the reader (``--pause``) if a pause is set and still active."""
        if self.pause is not None and self.pause.active:
            self.out(INDENT + self.texts.text("pause"))
            await self.pause.wait()

    async def step(self, key: str, **values: object) -> None:
        """A numbered step: ``<key>.step`` as heading, then ``<key>.notes`` if the catalogue has them."""
        if self.step_no:
            await self.hold()
        self.step_no += 1
        self.out("")
        self.out(f"{self.stamp()} {self.step_no}. {self.texts.text(f'{key}.step', **values)}")
        if self.texts.has(f"{key}.notes"):
            self.note(f"{key}.notes", **values)

    def note(self, key: str, **values: object) -> None:
        for line in self.texts.lines(key, **values):
            self.out(f"{INDENT}# {line}")

    def show(self, text: str) -> None:
        self.out(f"{INDENT}{text}")

    # -- waiting

    async def idle(self) -> None:
        """Let the controllers finish what they can do now, without moving time."""
        await self.cluster.settle(timeout=0)

    async def wait_for(self, what: str, fetch: Callable[[], Awaitable[JSON | None]],
                       done: Callable[[JSON | None], bool], timeout: float = STEP_TIMEOUT_S) -> JSON | None:
        """Run the cluster until ``done(fetch())``; bounded in cluster time and in rounds."""
        clock = self.cluster.clock
        limit = clock.now() + timeout
        for _ in range(int(timeout / POLL_S) * 4 + 10):
            await self.idle()
            obj = await fetch()
            if done(obj):
                return obj
            if clock.now() >= limit:
                break
            if isinstance(clock, VirtualClock):
                due = clock.next_deadline()
                step = POLL_S if due is None else min(max(due - clock.now(), 0.0), POLL_S)
                await clock.advance(step or 0.001)
            else:
                await asyncio.sleep(POLL_S / 5)
        raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")

    async def get(self, resource: str, name: str, namespace: str | None = NS) -> JSON | None:
        try:
            return await self.client.get(resource, name, namespace)
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def getter(self, resource: str, name: str, namespace: str | None = NS) -> Callable[[], Awaitable[JSON | None]]:
        return lambda: self.get(resource, name, namespace)

    async def wait_phase(self, resource: str, name: str, phase: str, namespace: str | None = NS) -> JSON:
        obj = await self.wait_for(f"{resource}/{name} to be {phase}", self.getter(resource, name, namespace),
                                  lambda o: _phase(o) == phase)
        assert obj is not None
        return obj

    async def wait_gone(self, resource: str, name: str, namespace: str | None = NS) -> None:
        await self.wait_for(f"{resource}/{name} to disappear", self.getter(resource, name, namespace),
                            lambda o: o is None)

    async def wait_event(self, obj: JSON, reason: str) -> None:
        async def fetch() -> JSON | None:
            return {"items": await self.events_of(obj)}

        await self.wait_for(f"a {reason} event on {obj['metadata']['name']}", fetch,
                            lambda lst: any(e.get("reason") == reason for e in (lst or {}).get("items", [])))

    async def wait_annotation(self, resource: str, name: str, key: str) -> JSON:
        obj = await self.wait_for(f"{resource}/{name} to carry {key}", self.getter(resource, name),
                                  lambda o: key in annotations_of(o))
        assert obj is not None
        return obj

    # -- views

    async def events_of(self, obj: JSON) -> list[JSON]:
        uid = obj["metadata"]["uid"]
        ns = obj["metadata"].get("namespace") or NS
        items = (await self.client.list("events", ns, field_selector=f"involvedObject.uid={uid}"))["items"]
        items.sort(key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "",
                                  int(e["metadata"].get("resourceVersion") or 0)))
        return list(items)

    async def show_events(self, obj: JSON, reasons: tuple[str, ...] = ()) -> None:
        kind = obj.get("kind", "").lower()
        events = [e for e in await self.events_of(obj) if not reasons or e.get("reason") in reasons]
        self.show(self.texts.text("label.events", kind=kind, name=obj["metadata"]["name"]))
        for e in events:
            count = f" (x{e['count']})" if (e.get("count") or 1) > 1 else ""
            self.show(f"  {e.get('type', ''):<7} {e.get('reason', '')}{count}: {e.get('message', '')}")
        if not events:
            self.show("  <none>")

    def pvc_line(self, obj: JSON) -> str:
        status = obj.get("status") or {}
        size = (status.get("capacity") or {}).get("storage")
        return (f"pvc/{obj['metadata']['name']}  {status.get('phase', '')}  "
                f"volume={obj['spec'].get('volumeName') or '<none>'}  {size + '  ' if size else ''}"
                f"class={obj['spec'].get('storageClassName', '')}")

    def pv_line(self, obj: JSON) -> str:
        spec = obj["spec"]
        ref = spec.get("claimRef") or {}
        claim_ref = f"{ref.get('namespace')}/{ref.get('name')}" if ref else "<none>"
        return (f"pv/{obj['metadata']['name']}  {_phase(obj)}  claim={claim_ref}  "
                f"{(spec.get('capacity') or {}).get('storage', '')}  {spec.get('persistentVolumeReclaimPolicy', '')}")

    def pod_line(self, obj: JSON) -> str:
        node = obj["spec"].get("nodeName") or "<none>"
        cond = _pod_scheduled(obj)
        extra = f"  ({cond.get('reason')})" if cond.get("status") == "False" else ""
        return f"pod/{obj['metadata']['name']}  {_phase(obj)}  node={node}{extra}"

    def pv_affinity_line(self, pv: JSON) -> str:
        terms = (((pv["spec"].get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms") or [])
        exprs = [f"{e['key']} {e['operator']} [{', '.join(e.get('values') or [])}]"
                 for t in terms for e in t.get("matchExpressions", [])]
        return f"pv/{pv['metadata']['name']}  nodeAffinity: {'; '.join(exprs) or '<none>'}"

    async def show_pvc(self, name: str) -> JSON:
        obj = await self.get("persistentvolumeclaims", name)
        assert obj is not None
        self.show(self.pvc_line(obj))
        return obj

    async def show_pod(self, name: str) -> JSON:
        obj = await self.get("pods", name)
        assert obj is not None
        self.show(self.pod_line(obj))
        return obj

    async def show_pv(self, name: str) -> JSON:
        obj = await self.get("persistentvolumes", name, None)
        assert obj is not None
        self.show(self.pv_line(obj))
        return obj

    async def show_node_zones(self, zone_key: str) -> dict[str, str]:
        zones: dict[str, str] = {}
        for node in (await self.client.list("nodes"))["items"]:
            name = node["metadata"]["name"]
            zones[name] = node["metadata"].get("labels", {}).get(zone_key, "<none>")
            self.show(f"node/{name}  {zone_key}={zones[name]}")
        return zones

    def show_disk(self, handle: str) -> Any:
        """The cloud console's view of a disk (read-only)."""
        disk = self.cluster.cloud.disks.get(handle)
        if disk is None:
            self.show(f"cloud: disk {handle} not found")
            return None
        source = f"  from snapshot {disk.source_snapshot_id}" if disk.source_snapshot_id else ""
        self.show(f"cloud: disk {disk.disk_id}  {disk.category}  {disk.size_gib} GiB  zone {disk.zone}  "
                  f"{disk.status}{source}")
        return disk

    def show_content(self, kind: str, ident: str, content: Any) -> None:
        """The cloud's record of the data on a disk or in a snapshot (generation, checksum, bytes)."""
        data = content.data.decode("utf-8", "replace")
        self.show(f"cloud: {kind} {ident}  content: generation {content.generation}  "
                  f"checksum {content.checksum}  {data!r}")


async def run_demo(name: str, *, out: Out = print, clock: Clock | None = None, lang: str = DEFAULT_LANGUAGE,
                   pause: Pause | None = None) -> None:
    """Run one story (see :data:`SCENARIOS`) or ``all``, printing through ``out``.

    Each story gets a fresh default cluster (the course's: master + node1, node2 in
    cn-hangzhou-b). ``clock`` defaults to a new VirtualClock per story; a given clock is
    shared by every story run. ``lang`` picks the narration catalogue; ``pause`` holds the
    demo between steps (and between stories).
    """
    from .stories import SCENARIOS, STORIES

    names = list(SCENARIOS) if name == "all" else [name]
    for scenario in names:
        if scenario not in STORIES:
            raise ValueError(f"unknown demo {scenario!r}; choose one of: {', '.join(SCENARIOS)}, all")
    texts = catalogue(lang)
    for index, scenario in enumerate(names):
        async with Cluster(clock=clock or VirtualClock()) as cluster:
            demo = Demo(cluster, out, texts=texts, pause=pause)
            if index:
                await demo.hold()
                out("")
            out(f"=== minikube-lite demo {scenario}: {texts.text(f'titles.{scenario}')}")
            nodes = (await cluster.client.list("nodes"))["items"]
            out(texts.text("intro.cluster", nodes=", ".join(n["metadata"]["name"] for n in nodes)))
            await STORIES[scenario](demo)
            out("")
            out(f"{demo.stamp()} {texts.text('done')}")
