"""The snapshot API's vocabulary, shared by the snapshot controller and the CSI snapshotter
sidecar (external-snapshotter's pkg/utils): resource names, finalizers, annotations, small
readers of VolumeSnapshots and contents, and the content a dynamic snapshot gets.
"""

from __future__ import annotations

import json

from ...client.base import JSON

GROUP = "snapshot.storage.k8s.io"
API_VERSION = f"{GROUP}/v1"

VS = "volumesnapshots.snapshot.storage.k8s.io"
VSC = "volumesnapshotcontents.snapshot.storage.k8s.io"
VSCLASS = "volumesnapshotclasses.snapshot.storage.k8s.io"

# Names, annotations and finalizers [ES pkg/utils/util.go].
CONTENT_PREFIX = "snapcontent-"
FINALIZER_VS_AS_SOURCE = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"
FINALIZER_VS_BOUND = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
FINALIZER_VSC_BOUND = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
FINALIZER_PVC_AS_SOURCE = "snapshot.storage.kubernetes.io/pvc-as-source-protection"
ANN_BEING_CREATED = "snapshot.storage.kubernetes.io/volumesnapshot-being-created"
ANN_BEING_DELETED = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"
ANN_DELETION_SECRET_NAME = "snapshot.storage.kubernetes.io/deletion-secret-name"
ANN_DELETION_SECRET_NAMESPACE = "snapshot.storage.kubernetes.io/deletion-secret-namespace"
PARAM_SNAPSHOTTER_SECRET_NAME = "csi.storage.k8s.io/snapshotter-secret-name"
PARAM_SNAPSHOTTER_SECRET_NAMESPACE = "csi.storage.k8s.io/snapshotter-secret-namespace"
RESERVED_PARAM_PREFIX = "csi.storage.k8s.io/"


def go_quote(text: object) -> str:
    """Go's ``%q`` of a string: double-quoted with backslash escapes (JSON agrees for printable text)."""
    return json.dumps(str(text), ensure_ascii=False)


def _status(obj: JSON) -> JSON:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def class_not_found(name: str) -> str:
    return f'volumesnapshotclass.snapshot.storage.k8s.io "{name}" not found'


def snapshot_key(vs: JSON) -> str:
    meta = vs.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def dynamic_content_name(vs: JSON) -> str:
    return CONTENT_PREFIX + str((vs.get("metadata") or {}).get("uid", ""))


def is_ready(vs: JSON) -> bool:
    return _status(vs).get("readyToUse") is True


def bound_content_name(vs: JSON) -> str | None:
    name = _status(vs).get("boundVolumeSnapshotContentName")
    return name if isinstance(name, str) and name else None


def ref_points_to(content: JSON, vs: JSON, *, allow_empty_uid: bool = False) -> bool:
    """Whether ``content.spec.volumeSnapshotRef`` names ``vs`` (and, once set, its uid)."""
    ref = (content.get("spec") or {}).get("volumeSnapshotRef") or {}
    meta = vs.get("metadata") or {}
    if ref.get("name") != meta.get("name") or ref.get("namespace") != meta.get("namespace"):
        return False
    uid = ref.get("uid") or ""
    return uid == meta.get("uid") or (allow_empty_uid and uid == "")


def strip_reserved_parameters(params: dict[str, str] | None) -> dict[str, str]:
    """Class parameters without the ``csi.storage.k8s.io/`` keys the sidecar consumes itself."""
    return {k: v for k, v in (params or {}).items() if not k.startswith(RESERVED_PARAM_PREFIX)}


def _resolve_template(value: str, content_name: str, vs: JSON) -> str:
    meta = vs.get("metadata") or {}
    return (value.replace("${volumesnapshotcontent.name}", content_name)
            .replace("${volumesnapshot.namespace}", str(meta.get("namespace", "")))
            .replace("${volumesnapshot.name}", str(meta.get("name", ""))))


def new_content(vs: JSON, class_name: str, snap_class: JSON, pv: JSON) -> JSON:
    """The ``snapcontent-<uid>`` of a dynamic snapshot of ``pv`` (createSnapshotContent's object)."""
    meta = vs["metadata"]
    csi = (pv.get("spec") or {}).get("csi") or {}
    name = dynamic_content_name(vs)
    spec: JSON = {
        "volumeSnapshotRef": {"kind": "VolumeSnapshot", "apiVersion": API_VERSION, "namespace": meta["namespace"],
                              "name": meta["name"], "uid": meta["uid"],
                              "resourceVersion": meta.get("resourceVersion")},
        "source": {"volumeHandle": csi.get("volumeHandle")},
        "volumeSnapshotClassName": class_name,
        "deletionPolicy": snap_class.get("deletionPolicy"),
        "driver": snap_class.get("driver"),
    }
    if (pv.get("spec") or {}).get("volumeMode"):  # --prevent-volume-mode-conversion (on by default)
        spec["sourceVolumeMode"] = pv["spec"]["volumeMode"]
    content: JSON = {"apiVersion": API_VERSION, "kind": "VolumeSnapshotContent",
                     "metadata": {"name": name}, "spec": spec}
    params = snap_class.get("parameters") or {}
    if params.get(PARAM_SNAPSHOTTER_SECRET_NAME) and params.get(PARAM_SNAPSHOTTER_SECRET_NAMESPACE):
        content["metadata"]["annotations"] = {
            ANN_DELETION_SECRET_NAME: _resolve_template(params[PARAM_SNAPSHOTTER_SECRET_NAME], name, vs),
            ANN_DELETION_SECRET_NAMESPACE: _resolve_template(params[PARAM_SNAPSHOTTER_SECRET_NAMESPACE], name, vs),
        }
    return content
