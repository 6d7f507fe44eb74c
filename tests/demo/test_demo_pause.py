"""``--pause``: the demo holds between steps until a line is read; end of input lets it run on."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

from minikube_lite import cli
from minikube_lite.clock import VirtualClock
from minikube_lite.demo import StdinPause, catalogue, run_demo

ROOT = Path(__file__).resolve().parents[2]
PROMPT_EN = "          " + catalogue("en").text("pause")
#: local-pv tells five steps: four holds between them.
LOCAL_PV_HOLDS = 4


async def run_local_pv(stream: io.StringIO) -> list[str]:
    lines: list[str] = []
    await run_demo("local-pv", out=lines.append, clock=VirtualClock(), pause=StdinPause(stream))
    return lines


async def test_each_line_lets_one_step_through() -> None:
    lines = await run_local_pv(io.StringIO("\n" * 10))
    assert lines.count(PROMPT_EN) == LOCAL_PV_HOLDS
    # Every hold sits right before a step heading, never before the first step.
    for i, line in enumerate(lines):
        if line == PROMPT_EN:
            assert lines[i + 2].split("] ", 1)[1][0] in "2345"
    assert lines[-1].endswith("] done.")


async def test_end_of_input_runs_on_without_further_prompts() -> None:
    lines = await run_local_pv(io.StringIO("\n"))
    assert lines.count(PROMPT_EN) == 2          # one answered, one met end of input
    lines = await run_local_pv(io.StringIO(""))
    assert lines.count(PROMPT_EN) == 1
    assert lines[-1].endswith("] done.")


async def test_the_demo_waits_for_the_line() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "r") as reader, os.fdopen(write_fd, "w") as writer:
        lines: list[str] = []
        task = asyncio.create_task(run_demo("local-pv", out=lines.append, clock=VirtualClock(),
                                            pause=StdinPause(reader)))

        async def until(predicate: object, what: str) -> None:
            for _ in range(500):                      # bounded: 5 s
                if callable(predicate) and predicate():
                    return
                await asyncio.sleep(0.01)
            raise AssertionError(f"timed out waiting for {what}")

        await until(lambda: PROMPT_EN in lines, "the first prompt")
        await asyncio.sleep(0.1)
        assert not any(" 2. " in line for line in lines)   # held before step 2
        writer.write("\n")
        writer.flush()
        await until(lambda: any(" 2. " in line for line in lines), "step 2")
        writer.close()                                  # end of input: runs to the end
        await asyncio.wait_for(task, 10)
    assert lines[-1].endswith("] done.")


def _cli(args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "minikube_lite.cli", *args], input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def test_cli_pause_with_piped_input_and_without() -> None:
    prompt_zh = catalogue("zh").text("pause")
    piped = _cli(["demo", "local-pv", "--pause", "--lang", "zh"], "\n" * LOCAL_PV_HOLDS)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.count(prompt_zh) == LOCAL_PV_HOLDS
    assert "演示结束。" in piped.stdout
    no_input = _cli(["demo", "local-pv", "--pause"], None)
    assert no_input.returncode == 0, no_input.stderr
    assert no_input.stdout.count(catalogue("en").text("pause")) == 1
    assert "Successfully assigned default/local-pod to node1" in no_input.stdout


def test_cli_parses_lang_and_pause() -> None:
    args = cli._parser().parse_args(["demo", "topology", "--lang", "zh", "--pause"])
    assert (args.scenario, args.lang, args.pause) == ("topology", "zh", True)
    args = cli._parser().parse_args(["demo"])
    assert (args.scenario, args.lang, args.pause) == ("all", "en", False)
