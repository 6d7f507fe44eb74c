"""``minikube-lite`` for a newcomer: --version, argument errors instead of surprises, and a serve
that says where its kubeconfig went. Through the real parser and ``main``, or a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from minikube_lite import cli
from minikube_lite.cluster import Cluster, connect_host

ROOT = Path(__file__).resolve().parents[1]


def test_version_comes_from_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"minikube-lite {version('minikube-lite')}"


def test_unknown_log_level_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", "--log-level", "LOUD"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --log-level: invalid choice: 'LOUD'" in err and "Traceback" not in err


def test_log_level_is_case_insensitive() -> None:
    assert cli._parser().parse_args(["serve", "--log-level", "debug"]).log_level == "DEBUG"
    assert cli._parser().parse_args(["serve"]).log_level == "WARNING"


@pytest.mark.parametrize("command", [["check-config"], ["serve", "--port", "0", "--config"]])
@pytest.mark.parametrize("text", ["", "\n# only a comment\n"])
def test_empty_config_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            command: list[str], text: str) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(text)
    assert cli.main([*command, str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: the file is empty (no YAML document)")
    assert "Traceback" not in err


def test_cluster_without_nodes_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text("nodes: []\n")
    assert cli.main(["check-config", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "ok (0 nodes" in out
    assert "warning: " in err and "the cluster has no nodes" in err


def test_default_kubeconfig_never_overwrites_a_foreign_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    foreign = tmp_path / "kubeconfig.yaml"
    foreign.write_text("current-context: production\n")
    assert cli.main(["serve", "--port", "0"]) == 1
    assert "is not a minikube-lite kubeconfig; pass --kubeconfig PATH" in capsys.readouterr().err
    assert foreign.read_text() == "current-context: production\n"


@pytest.mark.parametrize(("flags", "relative", "suffix"), [
    ([], "kubeconfig.yaml", " (the default; --kubeconfig PATH writes it elsewhere)"),
    (["--kubeconfig", "sub/k.yaml"], "sub/k.yaml", ""),
])
def test_serve_says_where_it_wrote_the_kubeconfig(tmp_path: Path, flags: list[str], relative: str,
                                                  suffix: str) -> None:
    """A real ``serve``, stopped by SIGTERM: its message names the file it wrote, as an absolute path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "minikube_lite.cli", "serve", "--port", "0", *flags],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    url = lines[0].split()[2]
    assert lines[0].startswith("minikube-lite serving http://127.0.0.1:")
    written = tmp_path / relative
    assert lines[1].strip() == f"kubeconfig written to {written}{suffix}"
    assert lines[2].strip() == f"export KUBECONFIG={written}; kubectl get nodes"
    assert yaml.safe_load(written.read_text())["clusters"][0]["cluster"]["server"] == url
    assert "stopping" in out


@pytest.mark.parametrize(("host", "dialled"), [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "[::1]"),
                                               ("127.0.0.1", "127.0.0.1"), ("::1", "[::1]"),
                                               ("example.test", "example.test")])
def test_wildcard_bind_address_is_dialled_on_loopback(host: str, dialled: str) -> None:
    assert connect_host(host) == dialled


async def test_kubeconfig_server_overrides_the_listening_address(tmp_path: Path) -> None:
    path = tmp_path / "kube" / "config"
    async with Cluster(serve=True, kubeconfig_path=path, kubeconfig_server="http://127.0.0.1:18080") as cluster:
        assert cluster.url.startswith("http://127.0.0.1:") and not cluster.url.endswith(":18080")
        config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"]["server"] == "http://127.0.0.1:18080"


def test_kubeconfig_server_flag() -> None:
    args = cli._parser().parse_args(["serve", "--kubeconfig-server", "http://127.0.0.1:8080"])
    assert args.kubeconfig_server == "http://127.0.0.1:8080"
