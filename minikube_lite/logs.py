"""Component logs: what each in-process component (scheduler, controller-manager, CSI sidecars...)
logged, kept per cluster so ``kubectl logs`` of the kube-system pod standing for it shows it.

Components log through Python logging: ``klog`` (the ``minikube_lite.components`` logger, INFO
and up, not propagated to the console) for the lines a real component prints at its default
verbosity, and their module loggers for warnings. A :class:`LogCapture` handler routes each
record to the :class:`ComponentLogs` of the cluster whose task logged it (a context variable set
when the cluster starts each component, so several clusters in one process keep separate logs),
under the component named by the record's ``component`` extra or the task's component. Lines
are rendered in klog's text format and kept in a bounded ring buffer per component.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COMPONENT_LOGGER = "minikube_lite.components"
DEFAULT_COMPONENT = "kube-apiserver"
DEFAULT_MAX_LINES = 2000

klog = logging.getLogger(COMPONENT_LOGGER)

_SINK: contextvars.ContextVar[ComponentLogs | None] = contextvars.ContextVar("minikube_lite_log_sink",
                                                                               default=None)
_COMPONENT: contextvars.ContextVar[str] = contextvars.ContextVar("minikube_lite_log_component",
                                                                 default=DEFAULT_COMPONENT)

_SEVERITY = {logging.DEBUG: "I", logging.INFO: "I", logging.WARNING: "W", logging.ERROR: "E", logging.CRITICAL: "F"}


@dataclass(slots=True)
class LogLine:
    """One captured line: what the record said, rendered to klog text only when read, so logging
    stays cheap and a full buffer holds small tuples rather than LogRecords."""

    seq: int
    time: float
    level: int
    where: str
    msg: Any
    args: Any
    _text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = klog_text(self.level, self.where, _message(self.msg, self.args), self.time)
        return self._text


def _message(msg: Any, args: Any) -> str:
    try:
        return str(msg) % args if args else str(msg)
    except (TypeError, ValueError):  # a bad format string must not break the component that logged
        return str(msg)


class ComponentLogs:
    """Per-component ring buffers of klog-formatted lines, stamped with the cluster clock."""

    def __init__(self, now: Callable[[], float], max_lines: int = DEFAULT_MAX_LINES) -> None:
        install_capture()
        self.now = now
        self.max_lines = max_lines
        self._lines: dict[str, deque[LogLine]] = {}
        self._seq = 0
        self._changed: asyncio.Event | None = None

    def append(self, component: str, record: logging.LogRecord) -> None:
        stamp = self.now()
        self._seq += 1
        buffer = self._lines.get(component)
        if buffer is None:
            buffer = self._lines[component] = deque(maxlen=self.max_lines)
        buffer.append(LogLine(self._seq, stamp, record.levelno, f"{record.filename}:{record.lineno}",
                              record.msg, record.args))
        if self._changed is not None:
            self._changed.set()

    def components(self) -> list[str]:
        return sorted(self._lines)

    def lines(self, component: str, after: int = 0) -> list[LogLine]:
        return [line for line in self._lines.get(component, ()) if line.seq > after]

    async def wait(self, timeout: float) -> None:
        """Until a line is appended (to any component) or ``timeout`` real seconds pass."""
        if self._changed is None:
            self._changed = asyncio.Event()
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def run_as(self, component: str) -> contextvars.Context:
        """A context in which tasks log into these buffers as ``component``."""
        ctx = contextvars.copy_context()
        ctx.run(_SINK.set, self)
        ctx.run(_COMPONENT.set, component)
        return ctx


def klog_line(record: logging.LogRecord, stamp: float) -> str:
    """klog's header: ``I1204 15:34:05.123456       1 file.py:42] message``."""
    return klog_text(record.levelno, f"{record.filename}:{record.lineno}", _message(record.msg, record.args), stamp)


def klog_text(level: int, where: str, message: str, stamp: float) -> str:
    tm = time.gmtime(stamp)
    micros = int(round((stamp - int(stamp)) * 1e6)) % 1000000
    severity = _SEVERITY.get(level, "I")
    return (f"{severity}{tm.tm_mon:02d}{tm.tm_mday:02d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}."
            f"{micros:06d}       1 {where}] {message}")


class LogCapture(logging.Handler):
    """Routes records to the ComponentLogs of the cluster whose task logged them."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _SINK.get()
        if sink is None:
            return
        component = getattr(record, "component", None) or _COMPONENT.get()
        sink.append(str(component), record)


class PodLogSource:
    """The API server's view (``api.pod_logs.LogSource``): which kube-system containers show a
    component's log, and that log."""

    def __init__(self, logs: ComponentLogs, containers: frozenset[str], namespace: str = "kube-system") -> None:
        self.logs = logs
        self.containers = containers
        self.namespace = namespace

    def component_of(self, pod: dict[str, Any], container: str) -> str | None:
        if (pod.get("metadata") or {}).get("namespace") != self.namespace or container not in self.containers:
            return None
        return container

    def lines(self, component: str, after: int = 0) -> list[LogLine]:
        return self.logs.lines(component, after)

    async def wait(self, timeout: float) -> None:
        await self.logs.wait(timeout)


_installed = False


def install_capture() -> None:
    """Attach the capture handler once per process (component lines and module-logger warnings)."""
    global _installed
    if _installed:
        return
    handler = LogCapture(level=logging.INFO)
    klog.setLevel(logging.INFO)
    klog.propagate = False
    klog.addHandler(handler)
    package = logging.getLogger("minikube_lite")
    package.addHandler(handler)
    _installed = True
