"""The command-line processes' loop: uvloop where installed, the standard loop when asked."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from minikube_lite import eventloop


def test_the_standard_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.LOOP_ENV, "asyncio")
    assert eventloop.loop_factory() is None and eventloop.loop_name() == "asyncio"

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert eventloop.run(which()).startswith("asyncio")


def test_uvloop_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")   # a third-party library, not ours: it may be absent
    monkeypatch.delenv(eventloop.LOOP_ENV, raising=False)
    assert eventloop.loop_name() == "uvloop"

    async def loop_type() -> type:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert eventloop.run(loop_type()) is uvloop.Loop


def test_without_uvloop_the_standard_loop_runs() -> None:
    """A machine without uvloop: importing it fails, and the standard loop runs the same code."""
    code = ("import sys, asyncio; sys.modules['uvloop'] = None\n"
            "from minikube_lite import eventloop\n"
            "async def main():\n    return type(asyncio.get_running_loop()).__module__\n"
            "print(eventloop.loop_name(), eventloop.run(main()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[0] == "asyncio" and out.split()[1].startswith("asyncio")
