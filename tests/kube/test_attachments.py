"""Which volumes of a pod are claims, whether a CSI driver needs attaching, and the
VolumeAttachment name both the attach/detach controller and the kubelet use."""

from __future__ import annotations

import hashlib

from minikube_lite.kube.attachments import attach_required, attachment_name, pod_claims

DRIVER = "diskplugin.csi.alibabacloud.com"


def test_attachment_name_is_sha256_of_handle_driver_node() -> None:
    expected = "csi-" + hashlib.sha256(b"d-123" + DRIVER.encode() + b"node1").hexdigest()
    assert attachment_name("d-123", DRIVER, "node1") == expected
    assert len(expected) == 68


def test_attach_required_defaults_to_true() -> None:
    assert attach_required(None)
    assert attach_required({"spec": {}})
    assert attach_required({"spec": {"attachRequired": True}})
    assert not attach_required({"spec": {"attachRequired": False}})


def test_pod_claims_name_persistent_and_generic_ephemeral_volumes() -> None:
    pod = {"metadata": {"name": "web"},
           "spec": {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc-1"}},
                                {"name": "cfg", "configMap": {"name": "c"}},
                                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]}}
    assert pod_claims(pod) == [("data", "pvc-1"), ("scratch", "web-scratch")]
    assert pod_claims({}) == []
