"""Manager names from fieldManager or the User-Agent, and the 422 of bad fieldManager/force options."""

from __future__ import annotations

import pytest

from minikube_lite.apiserver.apply import field_manager as fm_module
from minikube_lite.apiserver.errors import ApiError


@pytest.mark.parametrize(("fm", "ua", "expected"), [
    ("kubectl-edit", "kubectl/v1.35.0 (linux/amd64) kubernetes/abc", "kubectl-edit"),
    (None, "kubectl/v1.35.0 (linux/amd64) kubernetes/abc", "kubectl"),
    (None, "kube-controller-manager/v1.35.0 (linux/amd64) kubernetes/abc/pv-binder", "kube-controller-manager"),
    (None, "OpenAPI-Generator/33.1.0/python", "OpenAPI-Generator"),
    (None, "kr8s/0.17.0", "kr8s"),
    (None, "kubectl1.35/v1.35.0", "kubectl1.35"),
    (None, "", "unknown"),
    (None, None, "unknown"),
    (None, "/v1", "unknown"),
    (None, "cu\x00rl\x07/8", "curl"),
    (None, "x" * 200, "x" * 128),
    (None, "é" * 100, "é" * 64),
])
def test_manager_name(fm: str | None, ua: str | None, expected: str) -> None:
    assert fm_module.manager_name(fm, ua) == expected


def test_options_validation_messages() -> None:
    with pytest.raises(ApiError) as ei:
        fm_module.validate_write_options("x" * 129, kind="CreateOptions")
    assert ei.value.code == 422
    assert ei.value.message == ('CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: '
                                "may not be more than 128 bytes")
    with pytest.raises(ApiError) as ei:
        fm_module.validate_write_options("a\x07b")
    assert ei.value.message == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\x07b": '
                                "invalid character U+0007 (at position 1)")
    with pytest.raises(ApiError) as ei:
        fm_module.validate_write_options("m", force=True)
    assert ei.value.message == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: '
                                "may not be specified for non-apply patch")
    fm_module.validate_write_options("kubectl", is_apply=True, force=True)
    fm_module.validate_write_options(None)
