"""The scheduling framework: statuses, cycle state, plugin protocols, registry and profile.

Mirrors kube-scheduler's ``framework/interface.go``: a plugin is a small class that declares
the extension points it implements by subclassing their Protocols (``class NodeName(PreFilterPlugin,
FilterPlugin)``), and the framework checks the declaration when the plugin is registered and built,
so a misspelt method fails loudly instead of silently never running; failures are values
(``Status(code, reasons)``) whose reason strings are the plugins' module constants and flow
unchanged into the FailedScheduling event and the PodScheduled condition.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..clock import Clock
from .snapshot import JSON, NodeInfo, Snapshot

__all__ = [
    "Code", "Status", "CycleState", "NodeInfo", "Snapshot", "Handle", "PreFilterResult",
    "PostFilterResult", "ClusterEvent", "Plugin", "PreFilterPlugin", "FilterPlugin",
    "PostFilterPlugin", "PreScorePlugin", "ScorePlugin", "ReservePlugin", "PreBindPlugin",
    "BindPlugin", "EnqueueExtensions", "PluginFactory", "Registry", "Profile", "Framework",
    "MAX_NODE_SCORE", "default_normalize_score", "EXTENSION_POINTS", "check_extension_points",
]

MAX_NODE_SCORE = 100


class Code(IntEnum):
    """``framework.Code``; the numeric values are upstream's."""

    Success = 0
    Error = 1
    Unschedulable = 2
    UnschedulableAndUnresolvable = 3
    Wait = 4
    Skip = 5
    Pending = 6


@dataclass(slots=True)
class Status:
    """The result of a plugin call. A ``None`` status means success, as a nil ``*Status`` does."""

    code: Code = Code.Success
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @classmethod
    def of(cls, code: Code, *reasons: str) -> Status:
        return cls(code, list(reasons))

    def message(self) -> str:
        return ", ".join(self.reasons)

    def is_success(self) -> bool:
        return self.code == Code.Success

    def is_skip(self) -> bool:
        return self.code == Code.Skip

    def is_rejected(self) -> bool:
        """Unschedulable, UnschedulableAndUnresolvable or Pending: a verdict, not a failure."""
        return self.code in (Code.Unschedulable, Code.UnschedulableAndUnresolvable, Code.Pending)

    def with_plugin(self, name: str) -> Status:
        if not self.plugin:
            self.plugin = name
        return self


def is_success(status: Status | None) -> bool:
    return status is None or status.code == Code.Success


class CycleState:
    """Per-pod, per-attempt data that plugins write in PreFilter and read later in the cycle."""

    __slots__ = ("data", "skip_filter_plugins", "skip_score_plugins")

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}   # public so hot per-node paths can index it directly
        self.skip_filter_plugins: set[str] = set()
        self.skip_score_plugins: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self.data[key] = value

    def read(self, key: str) -> Any:
        """The value stored under ``key``; KeyError (as upstream's ErrNotFound) when absent."""
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def clone(self) -> CycleState:
        c = CycleState()
        c.data = dict(self.data)
        c.skip_filter_plugins = set(self.skip_filter_plugins)
        c.skip_score_plugins = set(self.skip_score_plugins)
        return c


@dataclass
class PreFilterResult:
    """PreFilter may narrow the candidate nodes (VolumeBinding does for local PVs)."""

    node_names: set[str] | None = None

    def merge(self, other: PreFilterResult | None) -> PreFilterResult:
        if other is None or other.node_names is None:
            return self
        if self.node_names is None:
            return PreFilterResult(set(other.node_names))
        return PreFilterResult(self.node_names & other.node_names)


@dataclass
class PostFilterResult:
    """What PostFilter (preemption) decided: a nominated node and the pods to evict for it."""

    nominated_node_name: str = ""
    victims: list[JSON] = field(default_factory=list)


@dataclass(frozen=True)
class ClusterEvent:
    """A (resource, action) pair a plugin wants rejected pods retried on; ``*`` is any action."""

    resource: str
    action: str = "*"

    def matches(self, resource: str, action: str) -> bool:
        """``Update`` also matches the finer node updates (``UpdateNodeLabel``, ``UpdateNodeTaint``...)."""
        if self.resource != resource:
            return False
        return (self.action in ("*", action)
                or (self.action == "Update" and action.startswith("Update")))


@dataclass
class Handle:
    """What plugins may use besides their arguments: the API client, the clock, the live cache."""

    clock: Clock
    snapshot: Snapshot
    client: Any = None
    bind_timeout_seconds: float = 600.0
    # The framework holds its plugins, which hold this handle: a weak reference back keeps that
    # from being a cycle, so a stopped scheduler is freed at once, not by a cyclic collection.
    _framework: weakref.ref[Framework] | None = field(default=None, repr=False, compare=False)

    @property
    def framework(self) -> Framework | None:
        """The framework running the plugins (upstream's Handle is the framework itself)."""
        return self._framework() if self._framework is not None else None

    @framework.setter
    def framework(self, framework: Framework | None) -> None:
        self._framework = weakref.ref(framework) if framework is not None else None


class Plugin(Protocol):
    name: ClassVar[str]


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: ClassVar[str]

    def pre_filter(self, state: CycleState, pod: JSON) -> tuple[PreFilterResult | None, Status | None]: ...


@runtime_checkable
class FilterPlugin(Protocol):
    name: ClassVar[str]

    def filter(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    name: ClassVar[str]

    def post_filter(self, state: CycleState, pod: JSON, statuses: NodeStatuses
                    ) -> tuple[PostFilterResult | None, Status]: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    name: ClassVar[str]

    def pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Protocol):
    """``score`` returns 0..100 unless the plugin also has ``normalize_score``."""

    name: ClassVar[str]

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int: ...


@runtime_checkable
class NormalizeScorePlugin(Protocol):
    name: ClassVar[str]

    def normalize_score(self, state: CycleState, pod: JSON, scores: dict[str, int]) -> None: ...


@runtime_checkable
class ReservePlugin(Protocol):
    name: ClassVar[str]

    def reserve(self, state: CycleState, pod: JSON, node_name: str) -> Status | None: ...

    def unreserve(self, state: CycleState, pod: JSON, node_name: str) -> None: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    name: ClassVar[str]

    async def pre_bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None: ...


@runtime_checkable
class BindPlugin(Protocol):
    """Returns Skip to let the next bind plugin handle the pod."""

    name: ClassVar[str]

    async def bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    name: ClassVar[str]

    def events_to_register(self) -> list[ClusterEvent]: ...


class NodeStatuses:
    """``NodeToStatus``: the failing status of each examined node, and one for absent nodes."""

    def __init__(self, statuses: dict[str, Status] | None = None, absent: Status | None = None) -> None:
        self.statuses: dict[str, Status] = statuses if statuses is not None else {}
        self.absent = absent if absent is not None else Status(Code.UnschedulableAndUnresolvable)

    def get(self, node_name: str) -> Status:
        return self.statuses.get(node_name, self.absent)

    def __len__(self) -> int:
        return len(self.statuses)


PluginFactory = Callable[[Handle], Any]


class Registry(dict[str, PluginFactory]):
    """Plugin name -> factory(handle). Out-of-tree plugins register here before building a profile."""

    def register(self, name: str, factory: PluginFactory) -> None:
        if name in self:
            raise ValueError(f"a plugin named {name} already exists")
        if isinstance(factory, type):
            check_extension_points(factory)
        self[name] = factory


@dataclass
class Profile:
    """An ordered plugin list with score weights: ``KubeSchedulerProfile`` of the config API."""

    scheduler_name: str = "default-scheduler"
    plugins: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)
    percentage_of_nodes_to_score: int | None = None


def default_normalize_score(max_priority: int, reverse: bool, scores: dict[str, int]) -> None:
    """``helper.DefaultNormalizeScore``: scale to 0..max_priority, optionally reversed."""
    if not scores:
        return
    max_count = max(scores.values())
    if max_count == 0:
        if reverse:
            for k in scores:
                scores[k] = max_priority
        return
    for k, v in scores.items():
        s = max_priority * v // max_count
        scores[k] = max_priority - s if reverse else s


#: The extension points, each with the methods a plugin declaring it must define.
EXTENSION_POINTS: tuple[type, ...] = (
    PreFilterPlugin, FilterPlugin, PostFilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin,
    ReservePlugin, PreBindPlugin, BindPlugin, EnqueueExtensions,
)


def _methods(proto: type) -> list[str]:
    return [n for n, v in vars(proto).items() if callable(v) and not n.startswith("_")]


# The plugin classes that passed the check (weakly: a class defined in a test may go).
_CHECKED: weakref.WeakSet[type] = weakref.WeakSet()


def check_extension_points(plugin_class: type) -> None:
    """Fail loudly unless ``plugin_class`` defines every method of each extension point it declares,
    and declares every extension point whose method it defines.

    A declared point whose method is missing (misspelt) would inherit the Protocol's empty stub and
    do nothing; a method of an undeclared point would never be called. Both are errors.
    """
    if plugin_class in _CHECKED:   # every scheduler checks the same in-tree classes: once per process
        return
    name = getattr(plugin_class, "name", plugin_class.__name__)
    for proto in EXTENSION_POINTS:
        declared = proto in plugin_class.__mro__
        for method in _methods(proto):
            impl = getattr(plugin_class, method, None)
            defined = impl is not None and impl is not vars(proto)[method] and \
                not any(impl is vars(p).get(method) for p in EXTENSION_POINTS)
            if declared and not defined:
                raise TypeError(f"scheduler plugin {name} declares {proto.__name__} but does not define "
                                f"{method}()")
            if defined and not declared:
                raise TypeError(f"scheduler plugin {name} defines {method}() but does not declare "
                                f"{proto.__name__}")
    _CHECKED.add(plugin_class)


def implements(plugin: Any, proto: type) -> bool:
    """Whether ``plugin`` declares the extension point ``proto`` (checked by :func:`check_extension_points`)."""
    return proto in type(plugin).__mro__


class Framework:
    """Runs a profile's plugins at each extension point, in profile order, as upstream does."""

    def __init__(self, registry: Registry, profile: Profile, handle: Handle) -> None:
        self.profile = profile
        self.handle = handle
        handle.framework = self
        self.plugins: dict[str, Any] = {}
        for name in profile.plugins:
            if name not in registry:
                raise ValueError(f"plugin {name!r} does not exist")
            plugin = registry[name](handle)
            check_extension_points(type(plugin))
            self.plugins[name] = plugin
        ps = list(self.plugins.values())
        self.pre_filter_plugins = [p for p in ps if implements(p, PreFilterPlugin)]
        self.filter_plugins = [p for p in ps if implements(p, FilterPlugin)]
        self.post_filter_plugins = [p for p in ps if implements(p, PostFilterPlugin)]
        self.pre_score_plugins = [p for p in ps if implements(p, PreScorePlugin)]
        self.score_plugins = [p for p in ps if implements(p, ScorePlugin)]
        self.reserve_plugins = [p for p in ps if implements(p, ReservePlugin)]
        self.pre_bind_plugins = [p for p in ps if implements(p, PreBindPlugin)]
        self.bind_plugins = [p for p in ps if implements(p, BindPlugin)]
        self.weights = {p.name: profile.weights.get(p.name, 1) for p in self.score_plugins}

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    def queueing_hints(self) -> dict[str, Callable[..., bool]]:
        return {name: p.queueing_hint for name, p in self.plugins.items() if hasattr(p, "queueing_hint")}

    def events_by_plugin(self) -> dict[str, list[ClusterEvent]]:
        return {name: p.events_to_register() for name, p in self.plugins.items()
                if implements(p, EnqueueExtensions)}

    # -- scheduling cycle (synchronous: the cache cannot change under it) ---------------------

    def run_pre_filter(self, state: CycleState, pod: JSON
                       ) -> tuple[PreFilterResult | None, Status | None, set[str]]:
        """Merged node narrowing, the rejecting status (if any), and the plugins that narrowed.

        UnschedulableAndUnresolvable stops at once; Unschedulable lets the remaining PreFilters
        run (preemption needs their state), as upstream does since kubernetes#119770.
        """
        result: PreFilterResult | None = None
        narrowing: list[str] = []
        returned: Status | None = None
        for p in self.pre_filter_plugins:
            r, s = p.pre_filter(state, pod)
            if s is not None and s.code == Code.Skip:
                state.skip_filter_plugins.add(p.name)
                continue
            if not is_success(s):
                assert s is not None
                s.plugin = p.name
                if s.code == Code.UnschedulableAndUnresolvable:
                    return None, s, set()
                if s.code == Code.Unschedulable:
                    returned = s
                    continue
                return None, Status(Code.Error, [f'running PreFilter plugin "{p.name}": {s.message()}'],
                                    p.name), set()
            if r is not None and r.node_names is not None:
                if p.name not in narrowing:
                    narrowing.append(p.name)
                result = r if result is None else result.merge(r)
                if not result.node_names:
                    names = sorted(narrowing)
                    msg = (f"node(s) didn't satisfy plugin {names[0]}" if len(names) == 1 else
                           f"node(s) didn't satisfy plugin(s) {_go_list(set(names))} simultaneously")
                    return result, Status(Code.UnschedulableAndUnresolvable, [msg], p.name), set(names)
        return result, returned, set(narrowing)

    def active_filters(self, state: CycleState) -> list[tuple[str, Callable[[CycleState, JSON, NodeInfo],
                                                                          Status | None]]]:
        """The filters not skipped by PreFilter, resolved once per cycle (the per-node loop is hot)."""
        skip = state.skip_filter_plugins
        return [(p.name, p.filter) for p in self.filter_plugins if p.name not in skip]

    def run_filter(self, state: CycleState, pod: JSON, node_info: NodeInfo,
                   filters: list[tuple[str, Callable[[CycleState, JSON, NodeInfo], Status | None]]] | None = None
                   ) -> Status | None:
        """Filters in profile order; the first non-success ends this node (storage.md §2.1)."""
        for name, fn in filters if filters is not None else self.active_filters(state):
            s = fn(state, pod, node_info)
            if s is not None and s.code != Code.Success:
                if not s.is_rejected():
                    return Status(Code.Error, [f'running "{name}" filter plugin: {s.message()}'], name)
                if not s.plugin:
                    s.plugin = name
                return s
        return None

    def run_post_filter(self, state: CycleState, pod: JSON, statuses: NodeStatuses
                        ) -> tuple[PostFilterResult | None, Status | None]:
        """The first plugin that does not return Unschedulable decides; otherwise their messages join."""
        if not self.post_filter_plugins:
            return None, None
        reasons: list[str] = []
        rejector = ""
        for p in self.post_filter_plugins:
            r, s = p.post_filter(state, pod, statuses)
            if s.is_success():
                return r, s
            if s.code == Code.UnschedulableAndUnresolvable:
                return r, s.with_plugin(p.name)
            if not s.is_rejected():
                return None, s.with_plugin(p.name)
            reasons.extend(s.reasons)
            rejector = rejector or p.name
        return None, Status(Code.Unschedulable, reasons, rejector)

    def run_pre_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> Status | None:
        for p in self.pre_score_plugins:
            s = p.pre_score(state, pod, nodes)
            if s is not None and s.code == Code.Skip:
                state.skip_score_plugins.add(p.name)
                continue
            if not is_success(s):
                assert s is not None
                return Status(Code.Error, [f'running PreScore plugin "{p.name}": {s.message()}'], p.name)
        return None

    def run_score(self, state: CycleState, pod: JSON, nodes: list[NodeInfo]) -> dict[str, int]:
        """Weighted sum of every (normalized) score plugin, per node name."""
        names = [n.name for n in nodes]
        totals = [0] * len(nodes)
        for p in self.score_plugins:
            if p.name in state.skip_score_plugins:
                continue
            fn = p.score
            w = self.weights[p.name]
            if implements(p, NormalizeScorePlugin):
                scores = {n.name: fn(state, pod, n) for n in nodes}
                p.normalize_score(state, pod, scores)
                for i, name in enumerate(names):
                    totals[i] += scores[name] * w
            else:
                for i, n in enumerate(nodes):
                    totals[i] += fn(state, pod, n) * w
        return dict(zip(names, totals, strict=True))

    def run_reserve(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        for p in self.reserve_plugins:
            s = p.reserve(state, pod, node_name)
            if not is_success(s):
                assert s is not None
                return Status(Code.Error, [f'running Reserve plugin "{p.name}": {s.message()}'], p.name)
        return None

    def run_unreserve(self, state: CycleState, pod: JSON, node_name: str) -> None:
        for p in reversed(self.reserve_plugins):
            p.unreserve(state, pod, node_name)

    # -- binding cycle (asynchronous) ---------------------------------------------------------

    async def run_pre_bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        for p in self.pre_bind_plugins:
            s = await p.pre_bind(state, pod, node_name)
            if not is_success(s):
                assert s is not None
                if s.is_rejected():
                    return s.with_plugin(p.name)
                return Status(Code.Error, [f'running PreBind plugin "{p.name}": {s.message()}'], p.name)
        return None

    async def run_bind(self, state: CycleState, pod: JSON, node_name: str) -> Status | None:
        for p in self.bind_plugins:
            s = await p.bind(state, pod, node_name)
            if s is not None and s.code == Code.Skip:
                continue
            if not is_success(s):
                assert s is not None
                return Status(Code.Error, [f'running Bind plugin "{p.name}": {s.message()}'], p.name)
            return None
        return Status(Code.Error, ["no bind plugin handled the pod"])


def _go_list(items: set[str]) -> str:
    """A Go ``%v`` of a sorted string slice: ``[a b]``."""
    return "[" + " ".join(sorted(items)) + "]"
