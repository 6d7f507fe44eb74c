"""docker-compose.yml and Dockerfile: the structure a user relies on, and a command line the CLI accepts.

Docker cannot build or run images where these tests run, so they check the files: the services,
ports, volumes, healthcheck and profile, and that the server's command (in the compose file and in
the Dockerfile) parses with the real ``minikube-lite`` argument parser into a server whose
kubeconfig lands in the mounted folder and names the published address. The healthcheck's probe
is run against a real served cluster.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from minikube_lite import cli
from minikube_lite.cluster import Cluster

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVER = COMPOSE["services"]["minikube-lite"]
KUBECTL = COMPOSE["services"]["kubectl"]


def serve_args(command: list[str]) -> object:
    assert command[0] == "minikube-lite"
    args = cli._parser().parse_args(command[1:])
    assert args.command == "serve"
    return args


def published() -> tuple[str, int, int]:
    """(host address, host port, container port) of the server's one published port."""
    (mapping,) = SERVER["ports"]
    host, host_port, container_port = str(mapping).split(":")
    return host, int(host_port), int(container_port)


def mounts(service: dict[str, object]) -> dict[str, str]:
    """container path -> host path of a service's bind mounts (``:ro`` dropped)."""
    out = {}
    for volume in service["volumes"]:  # type: ignore[attr-defined]
        host, container, *_ = str(volume).split(":")
        out[container] = host
    return out


def test_server_command_parses_with_the_real_parser() -> None:
    args = serve_args(SERVER["command"])
    host, host_port, container_port = published()
    assert args.host == "0.0.0.0" and args.port == container_port == 8080
    # The kubeconfig is written into the mounted folder, with the address the host dials.
    kube_dir = str(PurePosixPath(args.kubeconfig).parent)
    assert mounts(SERVER)[kube_dir] == "./kube"
    server = urlsplit(args.kubeconfig_server)
    assert (server.scheme, server.hostname, server.port) == ("http", host, host_port)
    assert host == "127.0.0.1"          # published on the host's loopback only


def test_server_service_builds_this_repository() -> None:
    assert SERVER["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_healthcheck_probes_readyz_on_the_served_port() -> None:
    check = SERVER["healthcheck"]
    assert check["test"][0] == "CMD"
    probe = " ".join(check["test"][1:])
    assert re.search(rf"http://127\.0\.0\.1:{serve_args(SERVER['command']).port}/readyz", probe)
    for key in ("interval", "timeout", "retries"):
        assert key in check


async def test_healthcheck_probe_passes_on_a_ready_server_and_fails_without_one() -> None:
    """The probe's own command, pointed at a real served cluster on a free loopback port."""
    command = SERVER["healthcheck"]["test"][1:]
    assert command[:2] == ["python", "-c"]
    async with Cluster(serve=True) as cluster:
        port = urlsplit(cluster.url).port
        code = command[2].replace(":8080/", f":{port}/")
        # Run without blocking the event loop: the server answers from this same loop.
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, stderr
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert gone.returncode != 0


def test_kubectl_is_an_optional_service_using_the_written_kubeconfig() -> None:
    args = serve_args(SERVER["command"])
    assert KUBECTL["profiles"] == ["kubectl"]
    assert KUBECTL["network_mode"] == "service:minikube-lite"
    assert KUBECTL["depends_on"]["minikube-lite"]["condition"] == "service_healthy"
    assert KUBECTL["environment"]["KUBECONFIG"] == args.kubeconfig
    kube_dir = str(PurePosixPath(args.kubeconfig).parent)
    assert mounts(KUBECTL)[kube_dir] == mounts(SERVER)[kube_dir]
    assert re.fullmatch(r"registry\.k8s\.io/kubectl:v1\.35\.\d+", KUBECTL["image"])
    assert KUBECTL["entrypoint"] == ["kubectl"]


def test_dockerfile_installs_the_project_and_runs_the_same_server() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert re.search(r"^RUN pip install .*\s\.(\s|$)", text, re.M)
    assert re.search(r"^EXPOSE 8080$", text, re.M)
    cmd = re.search(r"^CMD (\[.*?\])$", text.replace("\\\n", ""), re.M | re.S)
    assert cmd is not None
    command = json.loads(cmd.group(1))
    assert command == SERVER["command"]
    serve_args(command)


@pytest.mark.parametrize("ignored", [".git", ".venv", "kube"])
def test_build_context_leaves_out_local_state(ignored: str) -> None:
    assert ignored in (ROOT / ".dockerignore").read_text().split()
