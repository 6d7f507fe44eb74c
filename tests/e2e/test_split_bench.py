"""``benchmarks/split_bench.py`` end to end at a tiny size, so that neither mode can rot: four
processes (or one) on 127.0.0.1, 3 nodes, 4 pods, an instant cloud; bounded by ``--timeout``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks import split_bench  # noqa: E402

pytestmark = [pytest.mark.e2e]
TINY = ["--nodes", "3", "--pods", "4", "--timeout", "90", "--instant-cloud"]


def assert_measured(res: dict, processes: tuple[str, ...]) -> None:
    assert res["finished"] and res["scheduled"] == res["running"] == 4
    assert res["sched_rate"] > 0 and res["running_wall_s"] > 0
    assert set(res["cpu_s"]) == set(res["peak_rss_mb"]) == set(processes)
    assert all(res["cpu_s"][p] > 0 and res["peak_rss_mb"][p] > 10 for p in processes)
    assert 0 < res["machine_cpu_util"] <= 1
    for pid in res["pids"].values():   # every process was ended
        assert not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()


def test_split_mode_runs_the_four_processes_until_every_pod_is_running(tmp_path: Path) -> None:
    res = split_bench.main(["--split", *TINY, "--writers", "2", "--workdir", str(tmp_path)])
    assert_measured(res, split_bench.SPLIT)
    assert "four processes" not in (tmp_path / "serve.log").read_text()  # logs went to the workdir
    assert (tmp_path / "cluster.yaml").exists() and (tmp_path / "kubeconfig.yaml").exists()


def test_single_mode_measures_the_one_process_the_same_way(tmp_path: Path) -> None:
    res = split_bench.main(["--single", *TINY, "--workdir", str(tmp_path)])
    assert_measured(res, ("single",))
    assert res["cpu_s_total"] == res["cpu_s"]["single"]
    assert os.cpu_count()


def test_served_mode_drives_one_serve_process_as_the_split_run(tmp_path: Path) -> None:
    res = split_bench.main(["--served", *TINY, "--writers", "2", "--workdir", str(tmp_path)])
    assert_measured(res, ("serve",))
    assert res["mode"] == "served"
    assert not (tmp_path / "scheduler.log").exists()   # no component ran outside the server


def test_a_kept_workdir_never_dials_the_last_runs_server(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig.yaml").write_text("clusters: [{cluster: {server: 'http://127.0.0.1:9'}}]\n")
    res = split_bench.main(["--served", *TINY, "--writers", "2", "--workdir", str(tmp_path)])
    assert res["finished"]
