"""``minikube-lite scheduler | controller-manager | kubelets`` and ``serve --components``: parsing,
errors, the kubeconfig they read, and a clean stop on SIGTERM (a real subprocess)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from minikube_lite import cli
from minikube_lite.cluster import Cluster
from minikube_lite.config import ConfigError
from minikube_lite.standalone import load_kubeconfig

ROOT = Path(__file__).resolve().parents[1]


def test_the_subcommands_parse_with_upstream_like_flags() -> None:
    args = cli._parser().parse_args(["controller-manager", "--kubeconfig", "k", "--controllers", "pv-binder",
                                     "--no-leader-elect"])
    assert (args.command, args.kubeconfig, args.controllers, args.leader_elect) == \
        ("controller-manager", "k", "pv-binder", False)
    assert cli._parser().parse_args(["scheduler", "--kubeconfig", "k"]).leader_elect is True
    assert cli._parser().parse_args(["kubelets", "--kubeconfig", "k"]).log_level == "INFO"
    assert cli._parser().parse_args(["serve"]).components == "all"


def test_controller_manager_help_lists_the_controllers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["controller-manager", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for name in ("pv-binder", "provisioner", "snapshot", "csi-snapshotter", "attach-detach"):
        assert name in out


def test_unknown_names_are_errors_not_tracebacks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["controller-manager", "--kubeconfig", str(tmp_path / "k"), "--controllers", "pv-bindr"]) == 2
    assert "unknown component(s) pv-bindr" in capsys.readouterr().err
    assert cli.main(["serve", "--components", "schedulr", "--port", "0",
                     "--kubeconfig", str(tmp_path / "k.yaml")]) == 1
    err = capsys.readouterr().err
    assert "--components: unknown component(s) schedulr" in err and "Traceback" not in err
    assert cli.main(["kubelets", "--kubeconfig", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read the kubeconfig" in capsys.readouterr().err


async def test_load_kubeconfig_reads_server_token_and_ca(tmp_path: Path) -> None:
    async with Cluster(serve=True, port=0, tls=True, token="s3cret", components=False,
                       kubeconfig_path=tmp_path / "kubeconfig.yaml") as served:
        kube = load_kubeconfig(tmp_path / "kubeconfig.yaml")
        assert kube.server == served.url and kube.server.startswith("https://")
        assert kube.token == "s3cret" and kube.ssl_context is not None
    (tmp_path / "bad.yaml").write_text("current-context: elsewhere\ncontexts: []\n")
    with pytest.raises(ConfigError, match="no context named 'elsewhere'"):
        load_kubeconfig(tmp_path / "bad.yaml")


async def test_kubelets_run_against_a_served_cluster_and_stop_on_sigterm(tmp_path: Path) -> None:
    async with Cluster(serve=True, port=0, components="none",
                       kubeconfig_path=tmp_path / "kubeconfig.yaml") as served:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "minikube_lite.cli", "kubelets", "--kubeconfig", str(tmp_path / "kubeconfig.yaml"),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            for _ in range(300):  # the kubelets renew every node's Lease
                leases = await served.client.list("leases", "kube-node-lease")
                if len(leases["items"]) == 3:
                    break
                await asyncio.sleep(0.05)
            assert sorted(lease["metadata"]["name"] for lease in leases["items"]) == ["master", "node1", "node2"]
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 15)
        assert proc.returncode == 0, err.decode()
        assert "kubelets running against" in err.decode()
