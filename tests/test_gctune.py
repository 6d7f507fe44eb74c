"""The collector settings of long-running processes (``serve`` and the component commands)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikube_lite import cli, gctune, standalone


@pytest.fixture
def restore_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def test_tune_gc_collects_the_young_generation_less_often(restore_thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    gctune.tune_gc()
    assert gc.get_threshold() == gctune.THRESHOLDS == (50_000, 20, 100)
    assert cli.tune_gc is gctune.tune_gc   # serve and api_bench use the same settings


def test_freeze_long_lived_takes_what_is_alive_out_of_later_collections() -> None:
    cache = {"node1": {"metadata": {"name": "node1"}}}
    assert any(o is cache for o in gc.get_objects())
    gctune.freeze_long_lived()
    assert not any(o is cache for o in gc.get_objects())   # in the permanent generation now
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("command", ["scheduler", "controller-manager", "kubelets"])
def test_the_component_commands_tune_the_collector(command: str, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path, restore_thresholds: None) -> None:
    seen: list[tuple[int, int, int]] = []

    async def fake_run_components(group: str, *args: object, **kwargs: object) -> int:
        seen.append(gc.get_threshold())
        return 0

    monkeypatch.setattr(standalone, "run_components", fake_run_components)
    gc.set_threshold(700, 10, 10)
    assert cli.main([command, "--kubeconfig", str(tmp_path / "kubeconfig.yaml"), "--no-leader-elect"]
                    if command != "kubelets" else [command, "--kubeconfig", str(tmp_path / "k.yaml")]) == 0
    assert seen == [gctune.THRESHOLDS]
