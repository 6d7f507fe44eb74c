"""One process against four: the whole-cluster benchmark of ``scheduler_bench.py --e2e-running``
with the components in separate processes, measured the same way for both.

Run by hand, one after the other (never both at once; each is bounded by ``--timeout``):

    python benchmarks/split_bench.py --split  --nodes 1000 --pods 2000
    python benchmarks/split_bench.py --served --nodes 1000 --pods 2000
    python benchmarks/split_bench.py --single --nodes 1000 --pods 2000

``--split`` writes the cluster YAML of ``--e2e-running`` (``--nodes`` workers over three zones, a
WaitForFirstConsumer cloud-disk class, quotas for every disk) and starts, on 127.0.0.1 with a free
port, ``serve --components none`` (API server, mock cloud, CSI drivers under ``/csi/v1``),
``scheduler``, ``controller-manager`` and ``kubelets`` (one of each, ``--no-leader-elect``). Once
each says it runs, it creates the ``--pods`` PVC + pod pairs over HTTP (``--writers`` at once) and
watches pods until every one is Running.

``--served`` is the one process as ``minikube-lite serve`` runs it: ``serve --components all``
(every component in the API server's process, on the real clock), driven exactly as ``--split``
(the same writers and watch over HTTP). It is the like-for-like counterpart of ``--split``: the
only difference is where the components run.

``--single`` runs ``scheduler_bench.py --e2e-running`` as one subprocess: the cluster as the
pytest fixture runs it, pairs created in-process. Its pods/s and times come from that script; it
runs on a VirtualClock, which skips the modelled cloud and kubelet delays whenever every
controller is idle, while ``--split`` and ``--served`` wait them out in real time.

For every mode, the process-level figures come from ``/proc``: CPU seconds (utime + stime of
``/proc/<pid>/stat``) and peak RSS (``VmHWM`` of ``/proc/<pid>/status``) of every process, read
once a second and at the end, and the machine's CPU utilisation (``/proc/stat``) from the first
create to the end, over all cores, so it shows whether the second core is used (it includes
whatever else runs on the machine: note the load average). ``--loop uvloop`` runs every process
of either mode on uvloop (``MINIKUBE_LITE_LOOP``, see ``minikube_lite/eventloop.py``).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scheduler_bench import Progress, running_config_doc, running_pair  # noqa: E402
from minikube_lite import eventloop  # noqa: E402
from minikube_lite.client.http import HttpClient  # noqa: E402
from minikube_lite.clock import RealClock  # noqa: E402

JSON = dict[str, Any]
TICKS = os.sysconf("SC_CLK_TCK")
#: The split processes, in start order (the server first: the others dial it).
SPLIT = ("serve", "scheduler", "controller-manager", "kubelets")
STOP_GRACE_S = 10.0


# ------------------------------------------------------------------ /proc readings


def proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a live process in seconds (None once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()   # the name may hold spaces; fields from 3 (state) on
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_hwm_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all cores together since boot, from the first line of /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]   # idle + iowait
    total = sum(values[:8])        # up to steal; guest time is already counted in user
    return total - idle, total


@dataclass
class Watched:
    """The last CPU and peak RSS seen for each process: a process that died keeps its last reading."""

    pids: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    hwm_mb: dict[str, float] = field(default_factory=dict)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            cpu, hwm = proc_cpu_s(pid), proc_hwm_mb(pid)
            if cpu is not None:
                self.cpu_s[name] = cpu
            if hwm is not None:
                self.hwm_mb[name] = max(hwm, self.hwm_mb.get(name, 0.0))

    async def run(self, period: float = 1.0) -> None:
        while True:
            self.sample()
            await asyncio.sleep(period)

    def report(self) -> JSON:
        return {"cpu_s": {k: round(v, 1) for k, v in self.cpu_s.items()},
                "peak_rss_mb": {k: round(v) for k, v in self.hwm_mb.items()},
                "cpu_s_total": round(sum(self.cpu_s.values()), 1), "pids": dict(self.pids)}


def utilisation(start: tuple[float, float], end: tuple[float, float]) -> float:
    """Share of all cores busy between two :func:`machine_cpu` readings (1.0 = every core)."""
    busy, total = end[0] - start[0], end[1] - start[1]
    return busy / total if total else 0.0


# ------------------------------------------------------------------ subprocesses


class Children:
    """Subprocesses with their output in log files; :meth:`stop` ends every one (TERM, then KILL)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}

    async def start(self, name: str, *argv: str, pipe: bool = False) -> asyncio.subprocess.Process:
        out: Any
        if pipe:
            out = asyncio.subprocess.PIPE
        else:
            out = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 - closed once handed over
        try:
            proc = await asyncio.create_subprocess_exec(*argv, env=self.env, stdout=out,
                                                        stderr=asyncio.subprocess.STDOUT)
        finally:
            if not pipe:
                out.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.returncode is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-3000:]}")

    async def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "minikube_lite.cli", *args]


async def until(check: Any, deadline: float, what: str, children: Children) -> Any:
    while True:
        children.check_alive()
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


# ------------------------------------------------------------------ the two runs


async def run_split(n_nodes: int, n_pods: int, timeout: float, instant_cloud: bool, writers: int,
                    workdir: Path, split: bool = True) -> JSON:
    """The four processes (``split``) or one ``serve --components all``; pods created over HTTP;
    figures as ``scheduler_bench.bench_running``."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    config = workdir / "cluster.yaml"
    config.write_text(yaml.safe_dump(running_config_doc(n_nodes, n_pods, instant_cloud)), encoding="utf-8")
    kubeconfig = workdir / "kubeconfig.yaml"
    kubeconfig.unlink(missing_ok=True)   # a kept --workdir's file names the last run's server
    children = Children(workdir)
    watched = Watched()
    sampler = asyncio.create_task(watched.run())
    out: JSON = {"mode": "split" if split else "served", "nodes": n_nodes, "pods": n_pods}
    client: HttpClient | None = None
    others = SPLIT[1:] if split else ()
    try:
        await children.start("serve", *cli("serve", "--components", "none" if split else "all", "--port", "0",
                                           "--config", str(config), "--kubeconfig", str(kubeconfig)))

        async def kubeconfig_written() -> bool:
            return kubeconfig.exists() and "server:" in kubeconfig.read_text()
        await until(kubeconfig_written, deadline, "the API server's kubeconfig", children)
        server = str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
        for name in others:
            # No leader election: a single instance of each, as in the one process; and at 5,000 nodes
            # a scheduler busy with 10,000 new pods missed its 10 s renew deadline and exited.
            election = () if name == "kubelets" else ("--no-leader-elect",)
            await children.start(name, *cli(name, "--kubeconfig", str(kubeconfig), "--config", str(config),
                                            *election))
        watched.pids = {name: proc.pid for name, proc in children.procs.items()}
        client = HttpClient(server)

        async def ready() -> bool:
            return all(f"{name} running against" in children.log(name) for name in others)
        await until(ready, deadline, "the scheduler, controller-manager and kubelets", children)
        out["startup_s"] = time.monotonic() - t0
        print(f"[{time.monotonic() - t0:7.1f}s] {'four processes' if split else 'one process'} up: {n_nodes} nodes",
              flush=True)

        progress = Progress(n_pods, RealClock())
        watch_task = asyncio.create_task(watch_pods(client, progress))
        cpu0 = machine_cpu()
        start = time.perf_counter()
        next_pair = iter(range(n_pods))

        async def writer() -> None:
            assert client is not None
            for i in next_pair:
                claim, pod = running_pair(i)
                await client.create("persistentvolumeclaims", claim, "default")
                await client.create("pods", pod, "default")
        await asyncio.wait_for(asyncio.gather(*(writer() for _ in range(writers))),
                               max(deadline - time.monotonic(), 1.0))
        out["create_s"] = time.perf_counter() - start
        print(f"[{time.monotonic() - t0:7.1f}s] created {n_pods} PVCs + pods in {out['create_s']:.1f}s", flush=True)
        last_report = time.monotonic()
        while len(progress.running) < n_pods and time.monotonic() < deadline:
            children.check_alive()
            if watch_task.done():
                watch_task.result()   # raises what ended the watch
            await asyncio.sleep(0.2)
            if time.monotonic() - last_report >= 10:
                last_report = time.monotonic()
                print(f"[{last_report - t0:7.1f}s] {len(progress.scheduled)} scheduled, "
                      f"{len(progress.running)} running", flush=True)
        end = time.perf_counter()
        watched.sample()
        out["machine_cpu_util"] = round(utilisation(cpu0, machine_cpu()), 3)
        watch_task.cancel()
        out.update(rates(progress, start, n_pods))
        out["wall_s"] = end - start
        out.update(watched.report())
        return out
    finally:
        sampler.cancel()
        if client is not None:
            await client.close()
        await children.stop()


async def watch_pods(client: HttpClient, progress: Progress) -> None:
    """Feed every pod event to ``progress``; resume from the last resourceVersion when a watch ends."""
    rv = "0"
    while True:
        async for ev in client.watch("pods", "default", resource_version=rv):
            if ev.type in ("ADDED", "MODIFIED"):
                progress.see(ev.object)
                rv = ev.object["metadata"]["resourceVersion"]


def rates(progress: Progress, start: float, n_pods: int) -> JSON:
    """The figures ``scheduler_bench.bench_running`` reports, from wall stamps only."""
    out: JSON = {}
    sched = sorted(w for w, _ in progress.scheduled.values())
    run = sorted(w for w, _ in progress.running.values())
    out["scheduled"], out["running"] = len(sched), len(run)
    if sched:
        out["sched_rate"] = len(sched) / max(sched[-1] - start, 1e-9)
        out["sched_rate_after_first"] = (len(sched) - 1) / max(sched[-1] - sched[0], 1e-9)
    if run:
        out["running_wall_s"] = run[-1] - start
    out["finished"] = len(run) == n_pods
    return out


async def run_single(n_nodes: int, n_pods: int, timeout: float, instant_cloud: bool, workdir: Path) -> JSON:
    """``scheduler_bench.py --e2e-running`` in one subprocess, watched through /proc."""
    t0 = time.monotonic()
    children = Children(workdir)
    watched = Watched()
    sampler = asyncio.create_task(watched.run())
    argv = [sys.executable, str(ROOT / "benchmarks" / "scheduler_bench.py"), "--e2e-running",
            "--nodes", str(n_nodes), "--pods", str(n_pods), "--time-limit", str(timeout)]
    if instant_cloud:
        argv.append("--instant-cloud")
    try:
        proc = await children.start("single", *argv, pipe=True)
        watched.pids = {"single": proc.pid}
        assert proc.stdout is not None
        result: JSON | None = None
        cpu0: tuple[float, float] | None = None
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), max(t0 + timeout - time.monotonic(), 1.0))
                    ).decode(errors="replace")
            if not line:
                break
            print(line, end="", flush=True)
            if "cluster up" in line:
                cpu0 = machine_cpu()   # the pairs are created right after
            if line.startswith("e2e-running: "):
                watched.sample()   # the script prints its result just before it exits
                result = ast.literal_eval(line.split(": ", 1)[1])
        watched.sample()
        await proc.wait()
        if result is None:
            raise RuntimeError(f"scheduler_bench.py exited with {proc.returncode} without a result")
        out: JSON = {"mode": "single", **result}
        if cpu0 is not None:
            out["machine_cpu_util"] = round(utilisation(cpu0, machine_cpu()), 3)
        out.update(watched.report())
        return out
    finally:
        sampler.cancel()
        await children.stop()


def summary(res: JSON) -> str:
    lines = [f"{res['mode']}: {({k: v for k, v in res.items() if k != 'pids'})}"]
    if "sched_rate" in res:
        lines.append(f"  {res['scheduled']}/{res['pods']} pods scheduled over {res['nodes']} nodes: "
                     f"{res['sched_rate']:.0f} pods/s wall from the first create "
                     f"({res['sched_rate_after_first']:.0f} pods/s from the first bind)")
    if "running_wall_s" in res:
        lines.append(f"  {res['running']}/{res['pods']} Running after {res['running_wall_s']:.1f}s wall")
    lines.append(f"  CPU s per process {res['cpu_s']} (total {res['cpu_s_total']}), "
                 f"peak RSS MB {res['peak_rss_mb']}, machine CPU {100 * res.get('machine_cpu_util', 0):.0f}% "
                 f"of {os.cpu_count()} cores; load average {os.getloadavg()}")
    return "\n".join(lines)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: asyncio.run cancels the run, whose ``finally`` stops every child."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> JSON:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--split", action="store_true", help="API server, scheduler, controller-manager, kubelets "
                                                          "as four processes")
    mode.add_argument("--served", action="store_true", help="everything in one `serve --components all` process, "
                                                           "driven over HTTP as --split")
    mode.add_argument("--single", action="store_true", help="everything in one process on a VirtualClock "
                                                           "(scheduler_bench.py --e2e-running)")
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--timeout", type=float, default=900.0, help="wall seconds for the whole run, at most")
    ap.add_argument("--writers", type=int, default=8, help="--split/--served: concurrent HTTP creators of the pairs")
    ap.add_argument("--instant-cloud", action="store_true", help="cloud create/attach take 0 s")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the config and the process logs here")
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                    help="the event loop of every process, both modes (MINIKUBE_LITE_LOOP; uvloop needs the extra)")
    args = ap.parse_args(argv)
    os.environ[eventloop.LOOP_ENV] = args.loop   # this process and every child (they inherit it)
    print(f"load average before: {os.getloadavg()}; loop: {eventloop.loop_name()}", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)   # a background job ignores SIGINT: stop on TERM too
    with contextlib.ExitStack() as stack:
        stack.callback(signal.signal, signal.SIGTERM, previous)
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="split-bench-")))
        workdir.mkdir(parents=True, exist_ok=True)
        if args.split or args.served:
            res = eventloop.run(run_split(args.nodes, args.pods, args.timeout, args.instant_cloud, args.writers,
                                        workdir, split=args.split))
        else:
            res = eventloop.run(run_single(args.nodes, args.pods, args.timeout, args.instant_cloud, workdir))
    print(summary(res), flush=True)
    return res


if __name__ == "__main__":
    main()
