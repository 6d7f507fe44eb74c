"""``minikube-lite serve --storage``: memory by default, etcd by URL; a bad URL or an etcd that
does not answer is a one-line error, and the README's command really keeps state across restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from minikube_lite import cli

ROOT = Path(__file__).resolve().parents[1]


def test_storage_defaults_to_memory() -> None:
    assert cli._parser().parse_args(["serve"]).storage == "memory"
    assert cli._parser().parse_args(["serve", "--storage", "etcd://127.0.0.1:2379/a"]).storage == \
        "etcd://127.0.0.1:2379/a"


def test_unknown_storage_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", "--storage", "redis://127.0.0.1:6379"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --storage: unsupported storage 'redis://127.0.0.1:6379'" in err and "Traceback" not in err


def test_an_etcd_that_does_not_answer_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = cli.main(["serve", "--port", "0", "--storage", f"etcd://127.0.0.1:{port}",
                     "--kubeconfig", str(tmp_path / "k.yaml")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: etcd at 127.0.0.1:{port} is unreachable") and "Traceback" not in err


def _serve(tmp_path: Path, storage: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "minikube_lite.cli", "serve", "--port", "0", "--storage", storage,
                             "--kubeconfig", str(tmp_path / "kubeconfig.yaml")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if not first.startswith("minikube-lite serving"):
        proc.kill()
        raise AssertionError(f"serve did not start: {first}{proc.communicate(timeout=10)[1]}")
    return proc, first.split()[2]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def _call(url: str, method: str = "GET", body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=orjson.dumps(body) if body else None,
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer minikube-lite"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = orjson.loads(response.read())
        return answer


def test_serve_on_etcd_keeps_objects_across_a_restart(etcd_server: Any, tmp_path: Path) -> None:
    storage = etcd_server.url(f"cli-{uuid.uuid4().hex[:8]}")
    proc, url = _serve(tmp_path, storage)
    try:
        created = _call(f"{url}/api/v1/namespaces/default/configmaps", "POST",
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}, "data": {"a": "b"}})
    finally:
        _stop(proc)
    proc, url = _serve(tmp_path, storage)
    try:
        got = _call(f"{url}/api/v1/namespaces/default/configmaps/kept")
    finally:
        _stop(proc)
    assert got["data"] == {"a": "b"}
    assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert got["metadata"]["uid"] == created["metadata"]["uid"]
