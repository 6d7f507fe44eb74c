"""Run real kubectl binaries against a served cluster, asynchronously.

The server runs on the test's event loop, so kubectl must run as an *asynchronous* subprocess:
a blocking ``subprocess.run`` would freeze the server it is talking to. Every kubectl gets its
own ``HOME`` and ``KUBECACHEDIR``: a discovery cache left by an earlier cluster on the same port
would otherwise hide new resources for six hours.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minikube_lite import Cluster

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

KUBECTL_TIMEOUT_S = 60.0


@dataclass
class Result:
    """What one kubectl run printed."""

    args: tuple[str, ...]
    rc: int
    out: str
    err: str

    def __str__(self) -> str:
        return (f"kubectl {shlex.join(self.args)} -> rc={self.rc}\n--- stdout ---\n{self.out}"
                f"--- stderr ---\n{self.err}")


class Kubectl:
    """One kubectl binary pointed at one served cluster, with an isolated HOME and cache."""

    def __init__(self, label: str, binary: Path, cluster: Cluster, workdir: Path) -> None:
        self.label = label
        self.binary = binary
        self.cluster = cluster
        self.workdir = workdir
        (workdir / "home").mkdir(parents=True, exist_ok=True)
        (workdir / "cache").mkdir(parents=True, exist_ok=True)
        self._files = 0

    @functools.cached_property
    def minor(self) -> int:
        """The minor version kubectl behaves as (the PATH dispatcher runs its own 1.32 code).

        ``version --client`` does not talk to the server, so the blocking call is harmless.
        """
        if "." in self.label:
            return int(self.label.split(".")[1])
        info = kb.client_version(self.binary)
        return int(kb.minor_of(info).split(".")[1] or 0) if info is not None else 0

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        assert self.cluster.kubeconfig_path is not None
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "KUBECONFIG": str(self.cluster.kubeconfig_path),
            "KUBECACHEDIR": str(self.workdir / "cache"),
            "HOME": str(self.workdir / "home"),
            "TZ": "UTC",
            "LANG": "C.UTF-8",
        }
        if extra:
            env.update(extra)
        return env

    def write(self, text: str, name: str | None = None) -> str:
        """Write a manifest into this kubectl's work dir (its cwd) and return the relative name.

        Relative names keep kubectl's messages (``error when creating "x.yaml"``) predictable.
        """
        self._files += 1
        name = name or f"manifest-{self._files}.yaml"
        (self.workdir / name).write_text(text)
        return name

    async def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
                  timeout: float = KUBECTL_TIMEOUT_S) -> Result:
        """Run kubectl to completion (bounded by ``timeout``) and capture its output."""
        proc = await asyncio.create_subprocess_exec(
            str(self.binary), *args, stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env(env), cwd=self.workdir)
        try:
            out, err = await asyncio.wait_for(proc.communicate(input.encode() if input is not None else None),
                                              timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            out, err = await proc.communicate()
            raise AssertionError(f"kubectl {shlex.join(args)} did not finish in {timeout}s\n"
                                 f"{out.decode(errors='replace')}{err.decode(errors='replace')}") from None
        return Result(tuple(args), proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))

    async def ok(self, *args: str, **kwargs: Any) -> str:
        """Run kubectl, insist on exit status 0 and return stdout."""
        result = await self.run(*args, **kwargs)
        assert result.rc == 0, str(result)
        return result.out

    async def fail(self, *args: str, **kwargs: Any) -> Result:
        """Run kubectl, insist on a non-zero exit status and return the result."""
        result = await self.run(*args, **kwargs)
        assert result.rc != 0, str(result)
        return result

    async def watching(self, group: str, plural: str, baseline: int, timeout: float = 20.0) -> None:
        """Wait until the server holds more watches on ``group/plural`` than ``baseline``.

        A background kubectl (``wait``, ``get -w``) has then done its initial GET/LIST, so a
        change made now is one it sees happen rather than one it finds already done.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.cluster.engine.store.watcher_count((group, plural)) <= baseline:
            if loop.time() > deadline:
                raise AssertionError(f"no new watch on {group}/{plural} within {timeout}s")
            await asyncio.sleep(0.05)

    def watchers(self, group: str, plural: str) -> int:
        return self.cluster.engine.store.watcher_count((group, plural))

    async def spawn(self, *args: str) -> Background:
        """Start a long-running kubectl (``get -w``, ``wait``) to read from and stop later."""
        proc = await asyncio.create_subprocess_exec(
            str(self.binary), *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=self.env(), cwd=self.workdir)
        return Background(proc, tuple(args))


class Background:
    """A kubectl process still running: read its lines, then stop it by its own pid."""

    def __init__(self, proc: asyncio.subprocess.Process, args: tuple[str, ...]) -> None:
        self.proc = proc
        self.args = args
        self.lines: list[str] = []

    async def read_until(self, needle: str, timeout: float = 30.0) -> str:
        """Read stdout lines until one contains ``needle``; returns that line."""
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{needle!r} not printed by kubectl {shlex.join(self.args)} in {timeout}s; "
                                     f"got {self.lines!r}")
            try:
                raw = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except TimeoutError:
                continue
            if not raw:
                err = await self.proc.stderr.read() if self.proc.stderr else b""
                raise AssertionError(f"kubectl {shlex.join(self.args)} ended before printing {needle!r}; "
                                     f"got {self.lines!r}, stderr {err.decode(errors='replace')!r}")
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if needle in line:
                return line

    async def wait(self, timeout: float = KUBECTL_TIMEOUT_S) -> Result:
        """Wait for the process to end by itself and collect the rest of its output."""
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        except TimeoutError:
            await self.stop()
            raise AssertionError(f"kubectl {shlex.join(self.args)} did not finish in {timeout}s") from None
        text = "\n".join(self.lines + [out.decode(errors="replace")]) if self.lines else out.decode(errors="replace")
        return Result(self.args, self.proc.returncode or 0, text, err.decode(errors="replace"))

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()


