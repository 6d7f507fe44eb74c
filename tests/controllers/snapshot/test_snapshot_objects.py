"""The snapshot API vocabulary both snapshot loops share: readers and the dynamic content object."""

from __future__ import annotations

from typing import Any

from minikube_lite.controllers.snapshot import objects as SO

VS: dict[str, Any] = {"metadata": {"name": "snap", "namespace": "apps", "uid": "u-1", "resourceVersion": "7"},
                      "spec": {"volumeSnapshotClassName": "fast", "source": {"persistentVolumeClaimName": "data"}}}
PV: dict[str, Any] = {"metadata": {"name": "pv-1"},
                      "spec": {"volumeMode": "Filesystem", "csi": {"driver": "d.csi", "volumeHandle": "d-123"}}}


def test_new_content_is_the_dynamic_content_of_the_snapshot() -> None:
    cls = {"driver": "d.csi", "deletionPolicy": "Delete", "parameters": {"type": "fast"}}
    content = SO.new_content(VS, "fast", cls, PV)
    assert content == {
        "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
        "metadata": {"name": "snapcontent-u-1"},
        "spec": {"volumeSnapshotRef": {"kind": "VolumeSnapshot", "apiVersion": "snapshot.storage.k8s.io/v1",
                                       "namespace": "apps", "name": "snap", "uid": "u-1", "resourceVersion": "7"},
                 "source": {"volumeHandle": "d-123"}, "volumeSnapshotClassName": "fast",
                 "deletionPolicy": "Delete", "driver": "d.csi", "sourceVolumeMode": "Filesystem"}}
    assert SO.ref_points_to(content, VS)


def test_snapshotter_secret_templates_become_deletion_secret_annotations() -> None:
    cls = {"driver": "d.csi", "deletionPolicy": "Retain", "parameters": {
        SO.PARAM_SNAPSHOTTER_SECRET_NAME: "secret-${volumesnapshotcontent.name}",
        SO.PARAM_SNAPSHOTTER_SECRET_NAMESPACE: "${volumesnapshot.namespace}"}}
    content = SO.new_content(VS, "fast", cls, PV)
    assert content["metadata"]["annotations"] == {SO.ANN_DELETION_SECRET_NAME: "secret-snapcontent-u-1",
                                                  SO.ANN_DELETION_SECRET_NAMESPACE: "apps"}
    assert SO.strip_reserved_parameters(cls["parameters"]) == {}


def test_readers_of_a_snapshot() -> None:
    ready = {**VS, "status": {"readyToUse": True, "boundVolumeSnapshotContentName": "snapcontent-u-1"}}
    assert SO.snapshot_key(VS) == "apps/snap"
    assert not SO.is_ready(VS) and SO.is_ready(ready)
    assert SO.bound_content_name(VS) is None and SO.bound_content_name(ready) == "snapcontent-u-1"
    assert SO.go_quote('a "b"') == '"a \\"b\\""'
