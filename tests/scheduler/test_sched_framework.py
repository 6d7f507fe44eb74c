"""Plugins declare their extension points, and the framework holds them to the declaration."""

from __future__ import annotations

from typing import ClassVar

import pytest

from minikube_lite.clock import VirtualClock
from minikube_lite.scheduler.defaults import default_profile, in_tree_registry
from minikube_lite.scheduler.framework import (
    EXTENSION_POINTS,
    CycleState,
    FilterPlugin,
    Framework,
    Handle,
    NodeInfo,
    Profile,
    Registry,
    ScorePlugin,
    Status,
    check_extension_points,
)
from minikube_lite.scheduler.snapshot import JSON, Snapshot


class Misspelt(FilterPlugin):
    """Declares Filter but spells the method ``filtr``: it would never reject a node."""

    name: ClassVar[str] = "Misspelt"

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def filtr(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> Status | None:
        return None


class Undeclared:
    """Scores nodes without declaring Score: the framework would never call it."""

    name: ClassVar[str] = "Undeclared"

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        return 0


class Scores(ScorePlugin):
    name: ClassVar[str] = "Scores"

    def __init__(self, handle: Handle | None = None) -> None:
        pass

    def score(self, state: CycleState, pod: JSON, node_info: NodeInfo) -> int:
        return 7


def handle() -> Handle:
    clock = VirtualClock()
    return Handle(clock=clock, snapshot=Snapshot())


def test_a_misspelt_extension_method_fails_at_registration() -> None:
    with pytest.raises(TypeError, match=r"scheduler plugin Misspelt declares FilterPlugin but does not define filter\(\)"):
        Registry().register("Misspelt", Misspelt)


def test_an_undeclared_extension_method_fails_at_registration() -> None:
    with pytest.raises(TypeError, match="scheduler plugin Undeclared defines score\\(\\) but does not declare ScorePlugin"):
        Registry().register("Undeclared", Undeclared)


def test_a_factory_built_plugin_is_checked_when_the_framework_builds_it() -> None:
    registry = Registry()
    registry.register("Misspelt", lambda h: Misspelt(h))  # a factory, not a class: checked when built
    with pytest.raises(TypeError, match="does not define filter"):
        Framework(registry, Profile(plugins=["Misspelt"]), handle())


def test_a_declared_plugin_runs_at_its_extension_points_only() -> None:
    registry = Registry()
    registry.register("Scores", Scores)
    fw = Framework(registry, Profile(plugins=["Scores"]), handle())
    assert [p.name for p in fw.score_plugins] == ["Scores"]
    assert fw.filter_plugins == [] and fw.pre_filter_plugins == []


def test_every_in_tree_plugin_declares_what_it_implements() -> None:
    registry = in_tree_registry()
    for factory in registry.values():
        assert isinstance(factory, type)
        check_extension_points(factory)
        assert any(p in factory.__mro__ for p in EXTENSION_POINTS), factory
    Framework(registry, default_profile(), handle())
