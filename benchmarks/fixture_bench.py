"""What the pytest ``cluster`` fixture costs per test, as a user's test suite sees it.

Run by hand (bounded: one pytest run of ``--tests`` tiny tests, a few seconds on 2 cores):

    python benchmarks/fixture_bench.py [--tests 200] [--seed N] [--fixture cluster]

It writes a throwaway project (a ``pytest.ini`` with ``asyncio_mode = auto`` and one test file
of ``--tests`` tests, each taking the fixture and reading one object), runs pytest on it in a
subprocess with the installed plugin, and times every test's whole protocol (fixture setup,
call, teardown) with a hook wrapper. Imports and collection happen before the first test (the
warm-up a real run pays once); the first test is included in the figures, so lazily built
shared data (schemas, the built-in CRDs) is paid for inside them. Prints mean, p50, p95 and max
per test in milliseconds, in wall time and in CPU time of the pytest process (on a shared
machine the CPU figure is the steadier one), and the whole pytest wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TIMING_CONFTEST = '''
import json, os, time
import pytest

_DURATIONS = []
_CPU = []

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start, cpu = time.perf_counter(), time.process_time()
    yield
    _DURATIONS.append(time.perf_counter() - start)
    _CPU.append(time.process_time() - cpu)

def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["FIXTURE_BENCH_OUT"], "w") as f:
        json.dump({"wall": _DURATIONS, "cpu": _CPU}, f)
'''

TEST_TEMPLATES = {
    "cluster": '''
async def test_tiny_{i}(cluster):
    ns = await cluster.client.get("namespaces", "default")
    assert ns["metadata"]["name"] == "default"
''',
    "client": '''
async def test_tiny_{i}(client):
    ns = await client.get("namespaces", "default")
    assert ns["metadata"]["name"] == "default"
''',
    # The floor: pytest and pytest-asyncio alone (an async test, a fresh event loop, no cluster).
    "none": '''
async def test_tiny_{i}():
    assert {i} >= 0
''',
}


def write_project(root: Path, tests: int, fixture: str) -> None:
    (root / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n"
                                     "asyncio_default_fixture_loop_scope = function\n")
    (root / "conftest.py").write_text(TIMING_CONFTEST)
    body = "".join(TEST_TEMPLATES[fixture].format(i=i) for i in range(tests))
    (root / "test_tiny.py").write_text(textwrap.dedent(body))


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=None, help="pass --minikube-lite-seed N")
    parser.add_argument("--fixture", default="cluster", choices=sorted(TEST_TEMPLATES),
                        help="what each test takes (none: the pytest-asyncio floor, for comparison)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minikube-lite-fixture-bench-") as tmp:
        root = Path(tmp)
        write_project(root, args.tests, args.fixture)
        out = root / "durations.json"
        env = dict(os.environ, FIXTURE_BENCH_OUT=str(out))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "test_tiny.py")]
        if args.seed is not None:
            cmd += ["--minikube-lite-seed", str(args.seed)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.stdout.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            raise SystemExit(f"pytest failed with exit code {proc.returncode}")
        measured = json.loads(out.read_text())
    print(f"fixture `{args.fixture}`, {len(measured['wall'])} tests (first included); pytest wall {wall:.2f} s")
    for what in ("wall", "cpu"):
        durations = measured[what]
        ms = sorted(d * 1000 for d in durations)
        print(f"  {what:>4} per test: mean {statistics.fmean(ms):.1f} ms, p50 {percentile(ms, 0.5):.1f} ms, "
              f"p95 {percentile(ms, 0.95):.1f} ms, max {ms[-1]:.1f} ms; first {durations[0] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
