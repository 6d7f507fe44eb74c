"""The command-line processes' loop: the standard one, uvloop when asked for and installed."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from minikube_lite import eventloop


@pytest.mark.parametrize("setting", [None, "asyncio"])
def test_the_standard_loop_unless_uvloop_is_asked_for(monkeypatch: pytest.MonkeyPatch, setting: str | None) -> None:
    if setting is None:
        monkeypatch.delenv(eventloop.LOOP_ENV, raising=False)
    else:
        monkeypatch.setenv(eventloop.LOOP_ENV, setting)
    assert eventloop.loop_factory() is None and eventloop.loop_name() == "asyncio"

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert eventloop.run(which()).startswith("asyncio")


def test_uvloop_when_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")   # a third-party library, not ours: it may be absent
    monkeypatch.setenv(eventloop.LOOP_ENV, "uvloop")
    assert eventloop.loop_name() == "uvloop"

    async def loop_type() -> type:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert eventloop.run(loop_type()) is uvloop.Loop


def test_asked_for_without_uvloop_the_standard_loop_runs_with_a_warning() -> None:
    """A machine without uvloop: importing it fails, and the standard loop runs the same code."""
    code = ("import os, sys, asyncio; sys.modules['uvloop'] = None; os.environ['MINIKUBE_LITE_LOOP'] = 'uvloop'\n"
            "from minikube_lite import eventloop\n"
            "async def main():\n    return type(asyncio.get_running_loop()).__module__\n"
            "print(eventloop.loop_name(), eventloop.run(main()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[0] == "asyncio" and done.stdout.split()[1].startswith("asyncio")
    assert "uvloop is not installed" in done.stderr
